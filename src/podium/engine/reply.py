"""A model's reply read as what was asked for: the one parser of the engine.

A draft, a critique, a debate turn, a ruling, alternatives and a plan are all read here: the
backend's parsed object when it gave one, else the text as JSON (a Markdown fence around it is
taken off), else plain prose where prose was asked for. Every string is sanitized and the
nesting bounded before anything is stored (`clean`); a reply that is not what was asked is a
retryable MALFORMED_OUTPUT failure, like any failed call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from podium.domain.artifacts import Prose
from podium.domain.asking import strip_fences
from podium.domain.loading import MAX_NESTING, too_deep
from podium.domain.policy import Territory
from podium.domain.text import sanitize_tree, tree_is_clean
from podium.llm.types import CompletionResult, FailureKind, LLMError

M = TypeVar("M", bound=BaseModel)


def parse_reply(schema: type[M], result: CompletionResult, *, what: str = "") -> M:
    """The reply as `schema`, cleaned; LLMError(MALFORMED_OUTPUT) if it is not one. `what`
    names the schema in the error (default: "a valid <schema>")."""
    parsed: BaseModel | None = result.parsed
    if isinstance(parsed, schema):
        return clean(parsed)
    try:
        if schema is Prose and not result.text.lstrip().startswith("{"):
            return clean(schema.model_validate({"text": result.text}))
        return clean(schema.model_validate_json(strip_fences(result.text)))
    except ValidationError as exc:
        raise LLMError(
            FailureKind.MALFORMED_OUTPUT,
            f"the reply is not {what or f'a valid {schema.__name__}'}: "
            f"{exc.error_count()} problem(s)",
        ) from None


def parser(schema: type[M], *, what: str = "") -> Callable[[CompletionResult], M]:
    """`parse_reply` for one schema, as the call path takes it."""

    def parse(result: CompletionResult) -> M:
        return parse_reply(schema, result, what=what)

    return parse


def within_limit(result: CompletionResult, limit: int) -> CompletionResult:
    """The reply, unless it is longer than `limit` UTF-8 bytes: then it is malformed output
    (retried like any; its cost is booked by the caller, as for any failed parse)."""
    text = result.text
    if len(text) * 4 <= limit:  # no reply of this many characters can be over
        return result
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return result
    raise LLMError(
        FailureKind.MALFORMED_OUTPUT,
        f"the reply is {size:,} bytes; at most {limit:,} are taken "
        "(raise models.settings.<model>.max_reply_bytes if it must be longer)",
    )


def territory_in(data: dict[str, Any] | None) -> Territory | None:
    """The territory an agent claims in its reply's JSON object (`"territory": "…"`, read by
    `podium.domain.asking.reply_object`), if any.

    It is only ever used to raise a decision (see `classify`); a claim to lower one is ignored.
    """
    if data is None:
        return None
    try:
        return Territory(str(data.get("territory", "")))
    except ValueError:
        return None


def clean(reply: M) -> M:
    """Sanitize every string a model wrote before it is stored or shown.

    A reply nested deeper than a production file may be is malformed output: stored in an
    event, a few levels more would make the log unreadable (JSON is read back with a depth
    limit), so it never gets that far. A reply with nothing to clean (nearly all of them) is
    returned as it is, after one walk that checks both.
    """
    data = reply.model_dump(mode="json")
    verdict = tree_is_clean(data, MAX_NESTING)
    if verdict is None:
        where = too_deep(data) or ()
        path = ".".join(str(part) for part in where)
        raise LLMError(
            FailureKind.MALFORMED_OUTPUT,
            f"the reply nests deeper than {MAX_NESTING} levels (at {path})",
        )
    if verdict:
        return reply
    return type(reply).model_validate(sanitize_tree(data))
