"""The illustrated story's manuscript: chapters in order, each followed by its illustrations.

An illustration's image is copied next to the manuscript (into images/) only when it is a real
image file inside the production's own folder, the folder of its database, where a relative
`image_path` is resolved: `image_path` is part of what a model returns, so a path elsewhere on
the machine (or anything that is not an image) is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podium.domain.artifacts import Artifact, IllustrationBrief, Prose
from podium.domain.tasks import TaskKind
from podium.export import markdown as md
from podium.export.sources import ExportSource, number, one_line
from podium.export.sources import parsed as parsed  # read here by the other writers

MAX_IMAGE_BYTES = 50 * 1024 * 1024
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


@dataclass(frozen=True)
class Image:
    """An image to copy: from `source` (inside the production's folder) to `name` in images/."""

    source: Path
    name: str


def _image_kind(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    for magic, suffix in _IMAGE_MAGIC:
        if head.startswith(magic):
            return suffix
    return None


def find_image(source: ExportSource, brief: IllustrationBrief, task_id: str) -> Image | None:
    """The illustration's image file, if it is safe and worth copying."""
    if not brief.image_path or source.files_root is None:
        return None
    root = source.files_root.resolve()
    try:
        path = (root / brief.image_path).resolve()
        inside = path.is_relative_to(root) and path.is_file()
        size = path.stat().st_size if inside else 0
    except (OSError, ValueError):
        return None
    if not inside or not 0 < size <= MAX_IMAGE_BYTES:
        return None
    suffix = _image_kind(path)
    if suffix is None:
        return None
    return Image(source=path, name=f"{task_id}{suffix}")


def _illustration(source: ExportSource, artifact: Artifact, images: list[Image]) -> list[str]:
    brief = parsed(artifact)
    if not isinstance(brief, IllustrationBrief):
        return []
    record = source.view.tasks.get(artifact.task_id)
    title = brief.title or (record.spec.title if record else artifact.task_id)
    parts = [md.heading(3, f"Illustration: {md.inline(title)}", source.short_status(artifact))]
    image = find_image(source, brief, artifact.task_id)
    if image is not None:
        images.append(image)
        parts.append(f"![{md.inline(brief.caption or title)}](images/{image.name})")
    fields = [
        md.field("Subject", brief.subject),
        md.field("Composition", brief.composition),
        md.field("Palette", ", ".join(one_line(p) for p in brief.palette)),
        md.field("Lighting", brief.lighting),
        md.field("Mood", brief.mood),
        md.field("Caption", brief.caption),
    ]
    parts.append("\n".join(f for f in fields if f))
    return parts


def manuscript(source: ExportSource) -> tuple[str, list[Image]] | None:
    """The manuscript's Markdown and the images it refers to; None before any chapter exists."""
    plan = source.plan()
    chapters: list[tuple[int, int, Artifact]] = []
    pictures: dict[int | None, list[tuple[int, Artifact]]] = {}
    for index, record in enumerate(plan):
        artifact = source.current(record)
        if artifact is None:
            continue
        chapter = number(record.spec.params.get("chapter"))
        if record.spec.kind is TaskKind.CHAPTER:
            chapters.append((chapter if chapter is not None else 10_000 + index, index, artifact))
        elif record.spec.kind is TaskKind.ILLUSTRATION:
            pictures.setdefault(chapter, []).append((index, artifact))
    if not chapters and not any(pictures.values()):
        return None
    spec = source.view.spec
    parts: list[str | None] = [md.heading(1, md.inline(source.title))]
    if spec and spec.production.logline:
        parts.append(f"*{md.inline(spec.production.logline)}*")
    images: list[Image] = []
    placed: set[int | None] = set()
    for chapter, _, artifact in sorted(chapters, key=lambda c: (c[0], c[1])):
        prose = parsed(artifact)
        task = source.view.tasks.get(artifact.task_id)
        title = prose.title if isinstance(prose, Prose) and prose.title else None
        title = title or (task.spec.title if task else artifact.task_id)
        parts.append(md.heading(2, md.inline(title), source.short_status(artifact)))
        if label := source.status_label(artifact):
            parts.append(f"*{md.inline(label)}*")
        if isinstance(prose, Prose):
            parts.append(md.block(prose.text))
        if chapter in pictures and chapter not in placed:
            placed.add(chapter)
            for _, picture in pictures[chapter]:
                parts.extend(_illustration(source, picture, images))
    rest = [p for chapter, items in pictures.items() if chapter not in placed for p in items]
    if rest:
        parts.append(md.heading(2, "Illustrations"))
        for _, picture in sorted(rest, key=lambda p: p[0]):
            parts.extend(_illustration(source, picture, images))
    return md.document(parts), images
