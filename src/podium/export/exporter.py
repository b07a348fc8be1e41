"""`podium export`: read a production's log and write its deliverables into a folder.

Everything is rendered in memory first, then each file is written atomically (a temporary file
in the same folder, then `os.replace`), so a reader never sees half a file and a failed export
leaves the previous one intact. The folder gets a README.md listing what is there and what is
still to come.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import html
import json
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from pydantic import ValidationError

from podium.domain.events import EVENT_KINDS, ProductionState
from podium.domain.production import Format
from podium.domain.records import ContentShelf
from podium.domain.state import ProductionView, UnreadableLog
from podium.domain.tasks import TaskState
from podium.domain.versions import current_of
from podium.export import markdown as md
from podium.export.animatic import Made, animatics
from podium.export.bible import bible
from podium.export.book import book, book_epub, book_html
from podium.export.contents import KEEP, StoredContents
from podium.export.decisions import decision_log
from podium.export.documents import documents
from podium.export.fdx import to_fdx
from podium.export.fountain import Kind, Script, ScriptElement, to_fountain
from podium.export.manuscript import Image, manuscript
from podium.export.pagination import Paginated, paginate
from podium.export.pdf import to_pdf
from podium.export.report import report, to_json, to_markdown
from podium.export.screenplay import ScreenplayFile, screenplays
from podium.export.shotlist import cue_sheet, edit_plan, shot_list
from podium.export.sources import NOTED, ExportSource, one_line
from podium.export.storyboard import storyboard
from podium.store import EventStore
from podium.store.files import read_only_uri
from podium.store.replay import replay
from podium.store.salvage import Damage, Salvage
from podium.store.salvage import salvage as read_salvageable

_BATCH = 5000
_SKIPS_LISTED = 50  # skipped rows a salvaged export's README names one by one
# Streamed text is only the live view of a call; the artifacts hold what was delivered.
_KINDS = EVENT_KINDS - {"output_chunk"}


class ExportError(Exception):
    """The export could not be made; the message names the file and what to do."""


class ExportInputError(ExportError):
    """The database cannot be exported (it holds no production yet)."""


class ExportWriteError(ExportError):
    """A file could not be written (permissions, a full disk, a file where a folder should be)."""


class NotFinished(ExportInputError):
    """The production is stale or unfinished, and the export was not asked to mark it."""


class ForeignFile(ExportInputError):
    """The folder holds a file this export would replace that podium did not write there."""


MANIFEST = ".podium-export.json"  # the files an export wrote into a folder, with their hashes


@dataclass(frozen=True)
class Rendered:
    """One output file: its name in the folder, what it is, and its bytes (or an image to copy)."""

    name: str
    description: str
    data: bytes | None = None
    copy_from: Path | None = None
    owner: object = field(default=None, compare=False, repr=False)  # keeps copy_from's folder


async def load(db: Path) -> ExportSource:
    """A production's view read-only: from its newest usable state snapshot, with the events
    after it folded (`podium.store.replay`, as `podium status` reads it), then the few events
    whose payloads the view forgets and the export needs (`sources.NOTED`), read by kind.
    Raises StoreError for a missing or foreign file."""
    store = await EventStore.open(db, create=False, read_only=True)
    try:
        view = ProductionView()
        # Big contents stay in the store until a writer reads them; read ahead they are kept
        # as stored text, decoded when asked, the last few decoded kept (`contents`).
        reader = StoredContents(store.path, read_only_uri(store.path))
        view.keep_contents_on(ContentShelf(reader, keep=KEEP))
        try:
            await replay(store, view)
        except UnreadableLog as exc:
            raise ExportInputError(
                f"{db}: {exc}; export it with the podium that made it."
            ) from None
        except ValidationError as exc:
            raise ExportInputError(
                f"{db}: event {view.last_seq} does not fit this version of podium "
                f"({exc.errors()[0]['msg']}); export it with the podium that made it."
            ) from None
        source = ExportSource(view, files_root=store.path.resolve().parent)
        # Those contents, read in one go (a big series: 1,922 in 0.6 s, not one connection each).
        seqs = view.artifact_seqs
        wanted = [
            (seqs[a.id], a.id)
            for r in view.tasks.values()
            if (a := current_of(view, r)) is not None and not a.content_held and a.id in seqs
        ]
        await asyncio.to_thread(reader.read_ahead, wanted)
        since, upto = 0, view.last_seq  # a log still growing: the events the view holds
        while since < upto:
            events = await store.read(since, limit=_BATCH, kinds=NOTED)
            for event in events:
                if event.seq <= upto:
                    source.note(event)
            if len(events) < _BATCH:
                break
            since = events[-1].seq
    finally:
        await store.close()
    if source.view.spec is None:
        raise ExportInputError(f"{db} holds no production yet; there is nothing to export.")
    return source


def load_salvaged(db: Path, found: Salvage) -> ExportSource:
    """`load` for a damaged log: the events that can be read, folded; what could not, in `found`.

    Blocking (run it in a thread). An event that reads but cannot be folded without what was
    lost before it is skipped as well. Raises StoreError for a missing or foreign file.
    """
    events, read = read_salvageable(db)
    found.read, found.skipped, found.missing = read.read, read.skipped, read.missing
    source = ExportSource(ProductionView(), files_root=Path(db).resolve().parent)
    for event in events:
        if event.kind not in _KINDS:
            continue
        try:
            source.record(event)
        except Exception as exc:  # noqa: BLE001 - a fold of a partial log may fail anywhere
            found.unapplied.append(
                Damage(
                    f"event {event.seq} ({event.kind})",
                    f"read, but cannot be applied without the events lost ({type(exc).__name__})",
                    event.seq,
                    event.seq,
                    event.kind,
                )
            )
    if source.view.spec is None:
        raise ExportInputError(
            f"{db}: the event that opened the production cannot be read, so nothing can be "
            f"exported. `podium check {db}` shows what is damaged."
        )
    return source


MARK = "NOT FINAL: stale or unfinished work (see README)"
"""What heads every page of an export of a production that is stale or unfinished."""


def unfinished(view: ProductionView) -> str | None:
    """What of the production is stale or not done yet, as a phrase; None when it is
    completed with nothing stale (the only state an export is final in)."""
    stale = [t for t, r in view.tasks.items() if r.state is TaskState.STALE]
    settled = (TaskState.DONE, TaskState.SKIPPED, TaskState.STALE)
    open_ = [r for r in view.tasks.values() if r.state not in settled]
    if view.state is ProductionState.COMPLETED and not stale and not open_:
        return None
    parts: list[str] = []
    if stale:
        parts.append(f"{_count(len(stale), 'task')} stale ({_names(stale)})")
    if open_:
        shown = [f"{r.spec.id} {r.state.value.replace('_', ' ')}" for r in open_]
        parts.append(f"{_count(len(open_), 'task')} not done ({_names(shown)})")
    if not parts:
        parts.append(f"it is {view.state.value}")
    return "; ".join(parts)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _names(items: list[str], limit: int = 4) -> str:
    shown = ", ".join(one_line(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _marked_markdown(body: str) -> str:
    """A Markdown document's first heading says it is not final, and a line under it why."""
    first, sep, rest = body.partition("\n")
    if not first.startswith("# "):
        return f"**{MARK}**\n\n{body}"
    return f"{first} (not final){sep}\n**{MARK}**\n{rest}"


def _marked_html(body: str) -> str:
    """An HTML page opens with a banner saying it is not final; its title says so too."""
    banner = f'<p class="not-final"><strong>{html.escape(MARK)}</strong></p>'
    body = body.replace("</title>", " (not final)</title>", 1)
    return body.replace("<body>\n", f"<body>\n{banner}\n", 1)


def _marked_script(script: Script) -> Script:
    """The screenplay with its title page's Draft saying it is not final, and a note on top."""
    fields = tuple((k, v) for k, v in script.title_page.fields if k != "Draft")
    page = replace(script.title_page, fields=(*fields, ("Draft", MARK)))
    return Script(page, (ScriptElement(Kind.NOTE, MARK), *script.elements))


def render(
    source: ExportSource, salvage: Salvage | None = None, *, animatic: bool = True
) -> list[Rendered]:
    """Every file of the export, in a fixed order, README.md last. With `source.mark` (a
    production exported stale or unfinished), every file says so where a reader looks first."""
    out: list[Rendered] = []
    mark = source.mark

    def text(name: str, description: str, body: str | None) -> None:
        if body is not None:
            if mark and name.endswith(".md"):
                body = _marked_markdown(body)
            elif mark and name.endswith(".html"):
                body = _marked_html(body)
            out.append(Rendered(name, description, body.encode("utf-8")))

    # The animatics first, on the memory the export holds before any other file is laid
    # out: their peak (two episodes' reads at a time) is then not on top of what the others
    # leave allocated (issue 20). Their place among the files is the same.
    if animatic and os.environ.get("PODIUM_NO_ANIMATIC", "") not in ("", "0"):
        animatic = False  # the environment's standing --no-animatic (the test suite sets it)
    reels = (
        animatics(source) if animatic else Made(notes=["No animatic: left out (--no-animatic)."])
    )
    laid_out: list[tuple[ScreenplayFile, Paginated]] = []
    for play in screenplays(source):
        what = "the screenplay" if play.episode is None else f"episode {play.episode}"
        unfinished = sum(1 for slot in play.slots if slot.label)
        note = f" ({unfinished} of {len(play.slots)} scenes not yet approved)" if unfinished else ""
        shown = _marked_script(play.script) if mark else play.script
        fountain = to_fountain(shown, numbered=True)
        text(f"{play.stem}.fountain", f"{what} in Fountain{note}", fountain)
        text(f"{play.stem}.fdx", f"{what} for Final Draft", to_fdx(shown))
        laid = paginate(play.script)
        laid_out.append((play, laid))
        out.append(
            Rendered(
                f"{play.stem}.pdf",
                f"{what}: the shooting script, paginated, {laid.page_count} pages",
                to_pdf(play.script, laid, MARK if mark else None),
            )
        )
    written = manuscript(source)
    images: list[Image] = []
    if written is not None:
        body, images = written
        text("manuscript.md", "the manuscript: chapters and illustration briefs", body)
    for image in images:
        out.append(Rendered(f"images/{image.name}", "an illustration", copy_from=image.source))
    made = book(source)
    if made is not None:
        if mark:
            made = replace(made, title=f"{made.title} ({MARK})")
        out.append(Rendered("book.html", "the illustrated book, one page", book_html(made)))
        out.append(Rendered("book.epub", "the illustrated book as EPUB 3", book_epub(made)))
    text("shot_list.csv", "the shot list", shot_list(source))
    text("storyboard.html", "the storyboard: a frame per shot, by scene", storyboard(source))
    # Only with ffmpeg installed (`reels.notes` says why not), and unless left out: for a
    # 12-episode series it is 20x the rest of the export's time (docs/performance.md).
    out += [Rendered(n, what, copy_from=path, owner=reels) for n, what, path in reels.files]
    text("music_cues.csv", "the music cue sheet", cue_sheet(source))
    text("edit_plan.csv", "the edit plan (edit decision list)", edit_plan(source))
    text("documents.md", "treatment, outlines, look book, reports", documents(source))
    text("bible.md", "the production bible: vision, its history, style, decisions", bible(source))
    text("decisions.jsonl", "every artifact's provenance and every command", decision_log(source))
    figures = report(source, laid_out)
    text("report.md", "the production report: runtime, pages, cut, cues", to_markdown(figures))
    text("report.json", "the production report's figures as data", to_json(figures))
    readme = index(source, out, salvage, reels.notes)
    out.append(Rendered("README.md", "this index", readme.encode("utf-8")))
    return out


def index(
    source: ExportSource,
    files: list[Rendered],
    salvage: Salvage | None = None,
    animatic_notes: Sequence[str] = (),
) -> str:
    """The README: what the folder holds, and what the production has not delivered yet."""
    view = source.view
    spec = view.spec
    kind = spec.production.format.value.replace("_", " ") if spec else "production"
    parts: list[str | None] = [
        md.heading(1, md.inline(source.title), "not final" if source.mark else None),
        f"{'An' if kind[:1] in 'aeiou' else 'A'} {md.inline(kind)} made with podium. "
        f"State when exported: **{view.state.value}**.",
        md.heading(2, "Files"),
        "\n".join(
            f"- [{md.inline(f.name)}]({f.name}): {md.inline(f.description)}"
            for f in files
            if not f.name.startswith("images/")
        )
        + "\n- README.md: this index",
    ]
    if any(f.name.startswith("images/") for f in files):
        parts[-1] = f"{parts[-1]}\n- images/: the illustrations the manuscript shows"
    if source.mark:
        parts[1] = (
            f"{parts[1]}\n\n**Not final:** exported with `--allow-stale` while "
            f"{md.inline(source.mark)}. Every file says so: a note and the title page's Draft "
            "in Fountain and Final Draft, the header of every PDF page, “(not final)” on "
            "Markdown headings, a banner on HTML pages and the book's title."
        )
    pending = [r for r in source.plan() if r.state is not TaskState.DONE]
    drafts = [
        a
        for r in source.plan()
        if (a := source.current(r)) is not None and source.status_label(a) is not None
    ]
    if pending or drafts:
        parts.append(md.heading(2, "Not finished yet"))
        if drafts:
            parts.append(
                "Marked in the files: `[[DRAFT …]]` notes in Fountain, “(draft)” in Markdown "
                "headings, a `status` column or field in CSV and JSON Lines."
            )
        lines = [
            f"- {md.inline(r.spec.title)} (`{r.spec.id}`): {r.state.value.replace('_', ' ')}"
            for r in pending
        ]
        lines += [
            f"- {md.inline(view.tasks[a.task_id].spec.title)} (`{a.task_id}`): "
            f"{md.inline(source.status_label(a))}"
            for a in drafts
            if a.task_id in view.tasks and view.tasks[a.task_id].state is TaskState.DONE
        ]
        parts.append("\n".join(lines))
    if salvage is not None and (salvage.skipped or salvage.missing or salvage.unapplied):
        parts += [md.heading(2, "Skipped: the database is damaged"), salvaged(salvage)]
    if animatic_notes:
        parts += [md.heading(2, "Animatic"), "\n".join(f"- {md.inline(n)}" for n in animatic_notes)]
    if spec is not None and spec.production.format is Format.ILLUSTRATED_STORY:
        parts.append(
            "Images are copied only when an image model produced them inside the "
            "production's folder; the book shows a rehearsal sketch for any other."
        )
    return md.document(parts)


def salvaged(salvage: Salvage) -> str:
    """What a `--salvage` export left out, for its README (and, as is, for stderr)."""
    lines = [
        f"Exported with `--salvage`: {salvage.read} events were read; "
        f"{_left_out(salvage)}, and what "
        "they recorded is missing from these files. `podium check` on the database describes "
        "the damage."
    ]
    shown = [*salvage.skipped, *salvage.missing, *salvage.unapplied][:_SKIPS_LISTED]
    lines += [
        f"- {md.inline(d.where)}: {md.inline('not in the file' if d.missing else d.detail)}"
        for d in sorted(shown, key=lambda d: d.first_seq or 0)
    ]
    rest = len(salvage.skipped) + len(salvage.missing) + len(salvage.unapplied) - len(shown)
    if rest > 0:
        lines.append(f"- … and {rest} more")
    return "\n".join(lines)


def _left_out(salvage: Salvage) -> str:
    count = salvage.skipped_seqs + sum(d.seqs for d in salvage.missing)
    return f"{count} {'is' if count == 1 else 'are'} left out"


def _write_bytes(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then replace the target atomically."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _digest(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def _manifest(out: Path) -> dict[str, str]:
    """The files earlier exports wrote into `out` and their hashes; {} when there is none."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return {}  # nothing exported there yet (or no folder: writing says so)
    except (OSError, ValueError, RecursionError):
        raise ForeignFile(
            f"{out / MANIFEST} is not a podium export manifest, so podium cannot tell its own "
            "files there from yours. Choose another folder with --out, or --force to replace."
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def check_foreign(files: list[Rendered], out: Path) -> dict[str, str]:
    """Refuse (ForeignFile) to replace a file podium did not write into `out`, or one changed
    since; the manifest read. A file the manifest lists with its hash unchanged is ours."""
    known = _manifest(out)
    for item in files:
        target = out / item.name
        if not os.path.lexists(target):
            continue
        if item.name in known and target.is_file() and _digest(target) == known[item.name]:
            continue
        raise ForeignFile(
            f"{target} is not a file podium exported there (or it was changed since), so it "
            "is not replaced. Choose another folder with --out, or add --force to replace it."
        )
    return known


def write(files: list[Rendered], out: Path, *, force: bool = False) -> list[Path]:
    """Write the rendered files into `out` (created if needed); the paths written, in order.

    Only files an earlier export wrote there are replaced, unless `force`; what is written is
    listed, with its hash, in `out/.podium-export.json`.
    """
    known = {} if force else check_foreign(files, out)
    if force:
        with contextlib.suppress(ForeignFile):
            known = _manifest(out)
    written: list[Path] = []
    for item in files:
        target = out / item.name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.copy_from is not None:
                _write_bytes(target, partial(_copy, item.copy_from))
            else:
                _write_bytes(target, partial(_save, item.data or b""))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ExportWriteError(
                f"cannot write {target}: {reason}. Check that the folder is writable and the "
                "disk has room, or choose another folder with --out."
            ) from None
        written.append(target)
        known[item.name] = _digest(target) or ""
    try:
        body = json.dumps({"files": dict(sorted(known.items()))}, indent=1).encode()
        _write_bytes(out / MANIFEST, partial(_save, body))
    except OSError as exc:
        raise ExportWriteError(
            f"cannot write {out / MANIFEST}: {exc.strerror or exc}. Check that the folder is "
            "writable and the disk has room."
        ) from None
    return written


def _save(data: bytes, path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _copy(source: Path, path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as file, source.open("rb") as original:
        done = _copied_in_kernel(original.fileno(), fd)
        original.seek(done)
        file.seek(done)
        shutil.copyfileobj(original, file)  # what the kernel did not copy (all, where it cannot)
        file.flush()
        os.fsync(file.fileno())


_RANGE = 1 << 30  # bytes asked of copy_file_range at a time


def _copied_in_kernel(source: int, target: int) -> int:
    """How much of `source` the kernel copied into `target` (copy_file_range: a big series'
    150 MB of animatics need not pass through this process): all of it, or as much as it
    would before it stopped or said it cannot (other file systems, older kernels: 0)."""
    done = 0
    while hasattr(os, "copy_file_range"):
        try:
            sent = os.copy_file_range(source, target, _RANGE, done, done)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                break
            raise
        if sent == 0:
            break
        done += sent
    return done


async def export_production(
    db: Path,
    out: Path,
    *,
    salvage: Salvage | None = None,
    force: bool = False,
    allow_stale: bool = False,
    animatic: bool = True,
    loaded: Callable[[], None] | None = None,
) -> list[Path]:
    """Export the production in `db` into the folder `out`; the files written. `loaded` is
    called once the production is read, before any file is laid out (`podium export` lets
    its collector go there).

    With `salvage`, a damaged log gives what can be read; what was skipped is filled in there
    and named in the README. Raises StoreError (missing, foreign or, without `salvage`,
    damaged database), ExportInputError (no production in it) or ExportWriteError (a file
    could not be written), NotFinished when the production is stale or unfinished, unless
    `allow_stale` (or `salvage`) asks to export it as it stands, marked on every page.
    """
    if salvage is not None:
        source = await asyncio.to_thread(load_salvaged, Path(db), salvage)
    else:
        source = await load(Path(db))
    if loaded is not None:
        loaded()
    if (what := unfinished(source.view)) is not None:
        if not (allow_stale or salvage is not None):
            raise NotFinished(
                f"{db}: {source.title} is not finished — {what} — so it is not exported: make "
                f"it with `podium resume {db}` (`podium inbox {db}` lists what waits on you), "
                "or export it as it stands with --allow-stale, which marks every page."
            )
        source.mark = what
    files = render(source, salvage, animatic=animatic)
    return await asyncio.to_thread(partial(write, force=force), files, Path(out))


def export_production_sync(
    db: Path,
    out: Path,
    *,
    salvage: Salvage | None = None,
    force: bool = False,
    allow_stale: bool = False,
    animatic: bool = True,
    loaded: Callable[[], None] | None = None,
) -> list[Path]:
    """`export_production` for callers without an event loop."""
    return asyncio.run(
        export_production(
            db,
            out,
            salvage=salvage,
            force=force,
            allow_stale=allow_stale,
            animatic=animatic,
            loaded=loaded,
        )
    )
