"""Pictures from the production's image model: illustrations, storyboard frames, and the
character sheets that keep each character's look the same across them.

Every image prompt carries the look: the style guide's palette (a brief's own colours after it), the
style guide's lighting, camera, references and notes, and the current look book's opening.
Before the first picture with a principal character in frame, that character's sheet is made
(`CharacterSheetMade`): a written description of the look (the vision's description of them
and what the look book says of them) and one picture of them; every later prompt with them in
frame quotes the description, and sends the sheet's picture as a reference where the model
takes reference images (OpenAI's gpt-image models, through the image edit endpoint; any other
model gets the description only: docs/providers.md).

A call holds a slot of the one call limiter like any completion, is retried like one, and is
booked as a `CallFinished` of purpose "image". The file lands beside the database, named by
the hash of what was asked, so a prompt asked again (a revision that left a shot as it was)
reuses its picture without a call. A call that still fails after its retries leaves no
picture: the export draws the rehearsal illustrator's stand-in in its place, marked as one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from pathlib import Path
from typing import TypeVar

from podium.domain.artifacts import Content, IllustrationBrief, Prose, Shot, ShotList
from podium.domain.events import CallFinished, CharacterSheetMade, FramesDrawn
from podium.domain.production import Character
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskKind
from podium.domain.text import sanitize
from podium.domain.versions import current_of, next_number, number
from podium.engine.calls import wait_asked
from podium.engine.port import EnginePort
from podium.llm.gateway import Gateway
from podium.llm.rehearsal.sketch import in_frame
from podium.llm.types import ImageRequest, ImageResult, LLMError

C = TypeVar("C", bound=Content)

MAX_PROMPT = 4000  # characters: DALL-E 3's limit, the smallest of the common image models
_SUFFIX = {"image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def draws(content: Content) -> bool:
    """Whether an image model draws this content: an illustration brief, a shot list."""
    return isinstance(content, IllustrationBrief | ShotList)


def _line(value: object) -> str:
    return " ".join(sanitize(str(value)).split())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "x"


class Illustrator:
    def __init__(self, engine: EnginePort, gateway: Gateway, folder: Path) -> None:
        self.engine = engine
        self.gateway = gateway
        self.folder = folder  # where the images go: beside the database
        self._sheet_locks: dict[str, asyncio.Lock] = {}

    async def illustrate(self, record: TaskRecord, agent_id: str, content: C) -> C:
        """Draw an illustration brief (the brief then points at its file) or a shot list's
        frames (recorded as `FramesDrawn` for the version about to be made); anything else is
        returned as it is."""
        if isinstance(content, IllustrationBrief):
            drawn = await self._illustration(record, agent_id, content)
            assert isinstance(drawn, type(content))
            return drawn
        if isinstance(content, ShotList):
            await self._frames(record, agent_id, content)
        return content

    # -- what is drawn --------------------------------------------------------------------

    async def _illustration(
        self, record: TaskRecord, agent_id: str, brief: IllustrationBrief
    ) -> IllustrationBrief:
        words = f"{brief.subject} {brief.composition} {brief.caption}"
        figures = in_frame(words, self._cast())
        sheets = [await self.sheet(record, agent_id, name) for name in figures]
        what = [
            f"Illustration: {_line(brief.title)}" if brief.title else "Illustration",
            _line(brief.subject),
            *(f"{label}: {_line(v)}" for label, v in _brief_parts(brief) if _line(v)),
        ]
        prompt = self.prompt(what, figures, sheets, list(brief.palette))
        path = await self._draw(record, agent_id, prompt, _slug(record.spec.id), sheets)
        return brief.model_copy(update={"image_path": str(path) if path else None})

    async def _frames(self, record: TaskRecord, agent_id: str, shots: ShotList) -> None:
        cast = self._cast()

        async def frame(shot: Shot) -> tuple[str, Path | None]:
            label = f"{shot.scene}{_line(shot.shot)}"
            figures = in_frame(f"{shot.description}", cast)
            sheets = [await self.sheet(record, agent_id, name) for name in figures]
            camera = ", ".join(_line(v) for v in (shot.size, shot.angle, shot.movement) if v)
            what = [
                f"Storyboard frame, shot {label}" + (f" ({camera})" if camera else ""),
                _line(shot.description),
                "A single 16:9 film frame, no text or panel borders.",
            ]
            prompt = self.prompt(what, figures, sheets, [])
            stem = f"{_slug(record.spec.id)}-{_slug(label)}"
            return label, await self._draw(record, agent_id, prompt, stem, sheets)

        drawn = await asyncio.gather(*(frame(shot) for shot in shots.shots))
        self.engine.emit(
            FramesDrawn(
                task_id=record.spec.id,
                artifact_id=f"{record.spec.id}-v{next_number(record)}",
                model=self._model(),
                frames={label: str(path) for label, path in drawn if path is not None},
                failed=[label for label, path in drawn if path is None],
            )
        )

    async def sheet(self, record: TaskRecord, agent_id: str, name: str) -> CharacterSheetMade:
        """`name`'s character sheet, made once (and again when the look book or the vision
        it was made from has moved on) before any picture with them in frame."""
        lock = self._sheet_locks.setdefault(name, asyncio.Lock())
        async with lock:  # two pictures of one character wait for the one sheet
            view = self.engine.view
            made_from, vision_version = self._look_lineage()
            known = view.character_sheets.get(name)
            if (
                known is not None
                and known.made_from == made_from
                and known.vision_version == vision_version
            ):
                return known
            description = self.describe(name)
            prompt = self.prompt(
                [
                    f"Character sheet: {name}",
                    "One figure, full length, seen from the front and in three-quarter view on "
                    "a plain ground; face, build, hair and clothes clearly shown.",
                    description,
                ],
                (),
                [],
                [],
            )
            path = await self._draw(record, agent_id, prompt, f"sheet-{_slug(name)}")
            self.engine.emit(
                CharacterSheetMade(
                    character=name,
                    description=description,
                    image_path=str(path) if path else None,
                    model=self._model(),
                    made_from=made_from,
                    vision_version=vision_version,
                    for_task=record.spec.id,
                )
            )
            return view.character_sheets[name]

    # -- the words ------------------------------------------------------------------------

    def describe(self, name: str) -> str:
        """A character's look in words: the vision's description of them, and the look book's
        sentences that name them."""
        character = self._character(name)
        parts = [f"{name}: {_line(character.description)}" if character else name]
        look = self._look_book()
        if look:
            first = name.split()[0]
            for sentence in re.split(r"(?<=[.!?])\s+", look):
                if re.search(rf"(?<!\w){re.escape(first)}(?!\w)", sentence, re.IGNORECASE):
                    parts.append(_line(sentence))
        parts.append("The same face, build, hair and clothes in every picture.")
        return " ".join(p for p in parts if p)[:1200]

    def prompt(
        self,
        what: list[str],
        figures: tuple[str, ...] | list[str],
        sheets: list[CharacterSheetMade],
        palette: list[str],
    ) -> str:
        """An image prompt: what to draw, who is in frame and their look, and the production's
        look (the style guide's palette and a brief's own colours after it, the style notes,
        the look book), cut to MAX_PROMPT characters."""
        spec = self.engine.spec
        style = spec.style
        colours: list[str] = []  # the production's palette first, then the brief's own
        for colour in (*style.palette, *palette):
            if _line(colour) and _line(colour).lower() not in (c.lower() for c in colours):
                colours.append(_line(colour))
        lines = [w for w in what if w]
        if figures:
            lines.append("In frame: " + ", ".join(figures))
        lines += [f"Character {s.character} (keep this look): {s.description}" for s in sheets]
        if colours:
            lines.append("Palette: " + ", ".join(colours[:8]))
        notes = [
            f"{label}: {_line(value)}"
            for label, value in (
                ("Lighting", style.lighting),
                ("Camera", style.camera),
                ("References", ", ".join(style.visual_references)),
                ("Style notes", style.notes),
            )
            if _line(value)
        ]
        lines += notes
        look = self._look_book()
        if look:
            lines.append("Look book: " + look[:600])
        return "\n".join(lines)[:MAX_PROMPT]

    # -- the production -------------------------------------------------------------------

    def _model(self) -> str:
        return self.engine.spec.models.image or ""

    def _cast(self) -> list[str]:
        view = self.engine.view
        vision = view.vision or self.engine.spec.vision
        return [c.name for c in vision.characters]

    def _character(self, name: str) -> Character | None:
        view = self.engine.view
        vision = view.vision or self.engine.spec.vision
        return next((c for c in vision.characters if c.name == name), None)

    def _look_record(self) -> TaskRecord | None:
        view = self.engine.view
        return next((r for r in view.tasks.values() if r.spec.kind is TaskKind.LOOK), None)

    def _look_book(self) -> str:
        record = self._look_record()
        artifact = current_of(self.engine.view, record) if record else None
        if artifact is None:
            return ""
        try:
            content = artifact.parsed()
        except (ValueError, KeyError):
            return ""
        return _line(content.text) if isinstance(content, Prose) else ""

    def _look_lineage(self) -> tuple[dict[str, int], int]:
        view = self.engine.view
        record = self._look_record()
        artifact = current_of(view, record) if record else None
        made_from = {artifact.task_id: number(view, artifact)} if artifact else {}
        return made_from, view.vision.version if view.vision else 1

    # -- one picture ----------------------------------------------------------------------

    async def _draw(
        self,
        record: TaskRecord,
        agent_id: str,
        prompt: str,
        stem: str,
        sheets: list[CharacterSheetMade] | None = None,
    ) -> Path | None:
        """The picture for `prompt` (with the sheets' pictures as references where the model
        takes them): the file already drawn for the same model, prompt and references, else
        one image call (retried like any call); None when it still fails."""
        engine = self.engine
        model = self._model()
        references = await asyncio.to_thread(_references, sheets or [])
        hashed = hashlib.sha256(f"{model}\n{prompt}".encode())
        for data in references:
            hashed.update(hashlib.sha256(data).digest())
        digest = hashed.hexdigest()[:16]
        name = f"{stem}-{digest}"
        for suffix in (".png", *_SUFFIX.values()):
            if (self.folder / f"{name}{suffix}").is_file():
                return self.folder / f"{name}{suffix}"
        limits = engine.limits
        for retry in range(limits.retries + 1):
            started = time.monotonic()
            try:
                async with engine.calls.hold(agent_id, model):  # the one limiter, as `_stream`
                    started = time.monotonic()
                    image = await self.gateway.generate_image(
                        ImageRequest(
                            model=model,
                            prompt=prompt,
                            agent_id=agent_id,
                            task_id=record.spec.id,
                            references=references,
                        )
                    )
            except LLMError as error:
                self._image_call(record, agent_id, model, None, error, time.monotonic() - started)
                if not error.retryable or retry == limits.retries:
                    return None
                try:
                    asked = wait_asked(error)
                except LLMError:
                    return None
                await asyncio.sleep(max(asked or 0.0, limits.retry_backoff * 2**retry))
                continue
            self._image_call(record, agent_id, model, image, None, image.latency_s)
            target = self.folder / f"{name}{_SUFFIX.get(image.mime_type, '.png')}"
            await asyncio.to_thread(_write_file, target, image.data)
            return target
        return None

    def _image_call(
        self,
        record: TaskRecord,
        agent_id: str,
        model: str,
        image: ImageResult | None,
        error: LLMError | None,
        latency_s: float,
    ) -> None:
        self.engine.emit(
            CallFinished(
                call_id=f"{record.spec.id}:{record.calls + 1}",
                task_id=record.spec.id,
                agent_id=agent_id,
                model=model,
                purpose="image",
                cost_usd=image.cost_usd if image else 0.0,
                latency_s=latency_s,
                ok=error is None,
                error_kind=error.kind.value if error else None,
                error=sanitize(error.message)[:500] if error else "",
            )
        )


def _brief_parts(brief: IllustrationBrief) -> list[tuple[str, str]]:
    return [
        ("Composition", brief.composition),
        ("Light", brief.lighting),  # not "Lighting:", the style guide's line
        ("Mood", brief.mood),
        ("Caption", brief.caption),
    ]


def _references(sheets: list[CharacterSheetMade]) -> tuple[bytes, ...]:
    """The sheets' pictures, those that were drawn and are still there (PNG, JPEG, WebP)."""
    found: list[bytes] = []
    for sheet in sheets:
        if not sheet.image_path:
            continue
        try:
            data = Path(sheet.image_path).read_bytes()
        except OSError:
            continue
        if data[:4] in (b"\x89PNG", b"RIFF") or data[:3] == b"\xff\xd8\xff":
            found.append(data)
    return tuple(found)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
