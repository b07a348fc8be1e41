"""Production files: TOML text → ProductionSpec, or errors that name the line and the field.

Pure: the caller reads the file. tomllib gives no positions, so a small index of the file's
table headers and keys maps a validation error's path back to a line.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from podium.domain.production import MAX_TASKS, ProductionSpec, cross_check
from podium.domain.text import control_problem, sanitize

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class FileIssue:
    """One problem in a production file, printed as `FILE:LINE: field: message`."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        # The field may be a key of the file's and the message quote it: shown sanitized.
        return sanitize(f"{self.source}:{self.line}: {self.field}: {self.message}")


class ProductionFileError(Exception):
    def __init__(self, issues: list[FileIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


MAX_NESTING = 32
"""Arrays and tables inside one another; a production file needs five levels at most.

Deeper values are refused before tomllib's or pydantic's recursion can run out of stack.
"""


MAX_VALUES = 100_000
"""Keys and array items in one file, counted before validation: a file wrong in every value
costs pydantic about 1 KB of memory a value, so this keeps `validate` near 120 MB at worst.
A 2,000-task plan holds about 10,000."""

MAX_REPORTED = 200
"""Problems listed for one file; past them, only how many more there are."""


@dataclass(frozen=True)
class LoadedProduction:
    """A validated production file, with the index that turns a path into its line."""

    spec: ProductionSpec
    source: str
    index: KeyIndex

    def issue(self, loc: Loc, message: str) -> FileIssue:
        return FileIssue(self.source, self.index.line_for(loc), _field_name(loc), message)


def parse_production(text: str, source: str) -> ProductionSpec:
    """Validate a production file's text; raise ProductionFileError listing every problem."""
    return load_production(text, source).spec


def load_production(text: str, source: str) -> LoadedProduction:
    """Like parse_production, keeping the key index for checks made later (e.g. the models)."""
    if not text.strip():
        raise ProductionFileError(
            [
                FileIssue(
                    source,
                    1,
                    "production",
                    "the file is empty; start from one of sample_productions/*.toml",
                )
            ]
        )
    if "\x00" in text:
        raise ProductionFileError(
            [FileIssue(source, 1, "file", "this is a binary file, not a TOML production file")]
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProductionFileError([_toml_issue(exc, source, text)]) from None
    except RecursionError:
        raise ProductionFileError(
            [
                FileIssue(
                    source,
                    _deepest_line(text),
                    "toml",
                    f"arrays or tables nested too deeply (at most {MAX_NESTING} levels)",
                )
            ]
        ) from None
    index = KeyIndex(text)
    if (deep := too_deep(data)) is not None:
        raise ProductionFileError(
            [
                FileIssue(
                    source,
                    index.line_for(deep),
                    _field_name(deep),
                    f"values nested more than {MAX_NESTING} levels deep",
                )
            ]
        )
    if _values(data, MAX_VALUES) > MAX_VALUES:
        raise ProductionFileError(
            [
                FileIssue(
                    source,
                    1,
                    "file",
                    f"holds more than {MAX_VALUES:,} values (keys and array items); a "
                    f"production of {MAX_TASKS:,} tasks needs fewer: is this the right file?",
                )
            ]
        )
    issues = [
        FileIssue(source, index.line_for(loc), _field_name(loc), problem)
        for loc, problem in control_problems(data)
    ]
    more = 0
    try:
        spec = validate_strictly(ProductionSpec, data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = max(len(errors) - MAX_REPORTED, 0)
        issues += [_validation_issue(err, index, source) for err in errors[:MAX_REPORTED]]
        del errors
    if issues:
        raise ProductionFileError(_reported(issues, more, source))
    problems = cross_check(spec)
    if problems:
        raise ProductionFileError(
            [
                FileIssue(source, index.line_for(p.loc), _field_name(p.loc), p.message)
                for p in problems
            ]
        )
    return LoadedProduction(spec, source, index)


M = TypeVar("M", bound=BaseModel)


def validate_strictly(model: type[M], data: dict[str, Any]) -> M:
    """`model` from a file's (or a command's) values, without coercion: `true` is not 1,
    `1.5` is not an integer and `"3"` is not a number. Validated as JSON, where strict mode
    still takes an enum's value and a number for a float; TOML dates become text, which no
    field takes."""
    return model.model_validate_json(json.dumps(data, default=str), strict=True)


def control_problems(data: object) -> list[tuple[Loc, str]]:
    """Every string (table keys included) holding a terminal control or bidi character,
    with where it is: a production file's text reaches terminals, so none may carry one."""
    found: list[tuple[Loc, str]] = []
    stack: list[tuple[Loc, object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if (problem := control_problem(value)) is not None:
                found.append((path, problem))
        elif isinstance(value, dict):
            for key, inner in value.items():
                if (problem := control_problem(str(key))) is not None:
                    found.append(((*path, str(key)), f"the key {problem}"))
                else:
                    stack.append(((*path, str(key)), inner))
        elif isinstance(value, list):
            stack.extend(((*path, i), inner) for i, inner in enumerate(value))
    return found


def _values(data: dict[str, Any], cap: int) -> int:
    """Keys and array items in `data`, counted up to just past `cap`."""
    count = 0
    stack: list[Any] = [data]
    while stack and count <= cap:
        value = stack.pop()
        if isinstance(value, dict):
            count += len(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            count += len(value)
            stack.extend(value)
    return count


def too_deep(data: dict[str, Any]) -> Loc | None:
    """The key holding the first value nested deeper than MAX_NESTING, walked without recursion."""
    stack: list[tuple[Loc, Any, int]] = [((), data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_NESTING:
            named = [i for i, part in enumerate(path) if isinstance(part, str)]
            return path[: named[-1] + 1] if named else path[:1]
        if isinstance(value, dict):
            stack.extend(((*path, str(k)), v, depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v, depth + 1) for i, v in enumerate(value))
    return None


def _deepest_line(text: str) -> int:
    """The line where brackets open deepest, for a document too deep to parse at all."""
    depth = deepest = 0
    line = 1
    for number, raw in enumerate(text.splitlines(), start=1):
        for char in _STRING.sub("", raw).split("#", 1)[0]:
            if char in "[{":
                depth += 1
                if depth > deepest:
                    deepest, line = depth, number
            elif char in "]}":
                depth = max(depth - 1, 0)
    return line


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_issue(exc: tomllib.TOMLDecodeError, source: str, text: str) -> FileIssue:
    message = str(exc)
    line = 1
    if match := _TOML_POS.search(message):
        line = int(match.group(1))
        message = message[: match.start()].strip()
    elif "at end of document" in message:
        # e.g. an unterminated multi-line string: the last line is where the reader gave up.
        line = len(text.splitlines())
        message = message.replace("(at end of document)", "").strip() + " at the end of the file"
    return FileIssue(source, max(line, 1), "toml", f"TOML syntax: {message}")


def _reported(issues: list[FileIssue], more: int, source: str) -> list[FileIssue]:
    """At most MAX_REPORTED issues, by line, and how many more there are: a file wrong in
    100,000 places needs its first few fixed, not a 100,000-line report."""
    shown = _dedupe(issues)
    more += max(len(shown) - MAX_REPORTED, 0)
    shown = shown[:MAX_REPORTED]
    if more:
        shown.append(
            FileIssue(
                source,
                shown[-1].line,
                "production",
                f"{more:,} more problems not shown; fix these first",
            )
        )
    return shown


def _dedupe(issues: Iterable[FileIssue]) -> list[FileIssue]:
    seen: set[tuple[int, str, str]] = set()
    out: list[FileIssue] = []
    for issue in issues:
        key = (issue.line, issue.field, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return sorted(out, key=lambda i: i.line)


def _validation_issue(err: Any, index: KeyIndex, source: str) -> FileIssue:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    path = _strip_tags(loc)
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden" and path:
        key = str(path[-1])
        valid = _fields_at(path[:-1])
        close = get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f" (valid keys: {', '.join(valid)})" if valid and not close else ""
        message = f"unknown key {key!r}{hint}{listing}"
    elif kind == "missing":
        message = f"required key missing; add `{path[-1]} = …`" if path else "required"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        # The discriminator is a key in the file: point at it, and name the choices.
        ctx = err.get("ctx") or {}
        discriminator = str(ctx.get("discriminator", "'type'")).strip("'")
        path = (*path, discriminator)
        # Only the validators are a tagged union in a production file.
        tags = _quoted(str(ctx.get("expected_tags", ""))) or sorted(_VALIDATOR_TAGS)
        if kind == "union_tag_not_found":
            message = f"required key missing; add `{discriminator} = …` (one of: {', '.join(tags)})"
        else:
            tag = str(ctx.get("tag", ""))
            close = get_close_matches(tag, tags, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f" (one of: {', '.join(tags)})"
            message = f"unknown {discriminator} {tag!r}{hint}"
    elif kind == "value_error" and (
        named := index.find_under(path, _KEY_OF_MESSAGE.get(message) or _first_word(message))
    ):
        # A check on a whole table names the key it is about ("min (7) is larger than max").
        path = named
    given = err.get("input")
    if _looks_secret(path):
        # Whoever pasted a key where its variable's name goes must not see it in a log.
        given = None
        if path and path[-1] == "api_key_env":
            message = (
                "give the name of the environment variable that holds the key "
                "(e.g. OPENAI_API_KEY), never the key itself"
            )
    if kind not in ("missing", "extra_forbidden") and not kind.startswith("union_tag"):
        quoted = isinstance(given, str) and repr(given) in message  # e.g. the duration check
        if isinstance(given, str | int | float) and not quoted:
            shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "…"
            message = f"{message} (got {shown})"
        if kind == "enum" and isinstance(given, str):
            expected = _quoted(str((err.get("ctx") or {}).get("expected", "")))
            if close := get_close_matches(given, expected, n=1, cutoff=0.5):
                message = f"{message}; did you mean {close[0]!r}?"
    return FileIssue(source, index.line_for(path), _field_name(path), message)


# Checks on a whole table whose message does not start with the key it is about.
_KEY_OF_MESSAGE = {"an agent cannot report to itself": "reports_to"}


def _looks_secret(path: Loc) -> bool:
    last = str(path[-1]).lower() if path else ""
    return any(word in last for word in ("key", "secret", "password"))


def _quoted(listing: str) -> list[str]:
    """pydantic lists choices as "'a', 'b' or 'c'"."""
    return re.findall(r"'([^']*)'", listing)


def _first_word(message: str) -> str:
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", message)
    return match.group(0) if match else ""


_INTERNAL = re.compile(r"^(?:\[key\]|[a-z][a-z\-]*\[.*\])$")  # "[key]", "function-after[…]"


def _strip_tags(loc: Loc) -> Loc:
    """Drop pydantic's union-tag and function-validator segments from an error path.

    Only where pydantic puts them: a file's own key may well be called "function-x".
    """
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            _INTERNAL.match(part)
            or (
                part in _VALIDATOR_TAGS
                and len(out) >= 2
                and out[-2] == "validators"
                and isinstance(out[-1], int)
            )
        ):
            continue
        out.append(part)
    return tuple(out)


_VALIDATOR_TAGS = frozenset(
    {
        "word_count",
        "required_elements",
        "required_terms",
        "forbidden_terms",
        "scene_limit",
        "character_presence",
        "runtime",
        "pages",
        "shot_references",
        "cue_bounds",
        "count",
    }
)


def _field_name(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "production"


def _fields_at(loc: Loc) -> list[str]:
    """The valid keys of the table at `loc`, for "did you mean" hints."""
    annotation: Any = ProductionSpec
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(part, str) or part not in annotation.model_fields:
                return []
            annotation = annotation.model_fields[part].annotation
        else:
            origin = get_origin(annotation)
            args = get_args(annotation)
            if origin in (list, tuple) and args:
                annotation = args[0]
            elif origin is dict and len(args) == 2:
                annotation = args[1]
            else:
                return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] → X; Annotated[X, …] → X."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(?:#.*)?$")
_PART_RE = r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'"""
_KEY = re.compile(rf"^\s*((?:{_PART_RE})(?:\s*\.\s*(?:{_PART_RE}))*)\s*=")
_PART = re.compile(_PART_RE)


class KeyIndex:
    """Line numbers of the tables and keys in a TOML text, by path (arrays indexed)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        counters: dict[Loc, int] = {}
        arrays: set[Loc] = set()
        current: Loc = ()
        in_multiline: str | None = None
        depth = 0  # brackets a multi-line array value still has open
        for number, raw in enumerate(text.splitlines(), start=1):
            if in_multiline is not None:
                if raw.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            if depth > 0:
                depth += _bracket_balance(raw)
                continue
            if header := _HEADER.match(raw):
                names = _split(header.group(2))
                resolved = _resolve(names, arrays, counters)
                if header.group(1) == "[[":
                    key = tuple(resolved)
                    arrays.add(key)
                    counters[key] = counters.get(key, -1) + 1
                    current = (*key, counters[key])
                else:
                    current = tuple(resolved)
                self._add(current, number)
                continue
            if key_match := _KEY.match(raw):
                path = (*current, *_split(key_match.group(1)))
                self._add(path, number)
                rest = raw[key_match.end() :]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_multiline = quote
                        break
                else:
                    depth = max(_bracket_balance(rest), 0)

    def _add(self, path: Loc, number: int) -> None:
        """Record a table or key, and the tables it implies: `[a.b]` opens `a` too."""
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], number)

    def find_under(self, prefix: Loc, name: str) -> Loc | None:
        """The shortest path below `prefix` whose last part is `name`, if the file spells one."""
        if not name:
            return None
        found = [
            p
            for p in self.lines
            if len(p) > len(prefix) and p[: len(prefix)] == prefix and p[-1] == name
        ]
        return min(found, key=lambda p: (len(p), self.lines[p])) if found else None

    def line_for(self, loc: Loc) -> int:
        """The line of the deepest part of `loc` the file spells out, else 1."""
        best = 1
        path: Loc = ()
        for part in loc:
            path = (*path, part)
            if path in self.lines:
                best = self.lines[path]
        return best


_STRING = re.compile(r""""(?:\\.|[^"\\])*"|'[^']*'""")


def _bracket_balance(text: str) -> int:
    """Brackets a line opens minus those it closes, ignoring strings and comments."""
    code = _STRING.sub("", text).split("#", 1)[0]
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def _split(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(dotted)]


def _resolve(names: list[str], arrays: set[Loc], counters: dict[Loc, int]) -> list[str | int]:
    """`[tasks.params]` after `[[tasks]]` refers to the last tasks element."""
    out: list[str | int] = []
    for i, name in enumerate(names):
        out.append(name)
        key = tuple(out)
        if key in arrays and i < len(names) - 1:
            out.append(counters[key])
    return out
