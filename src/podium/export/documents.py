"""The written deliverables that are not the screenplay or the manuscript.

Treatment, outline, episode arcs, look book, status reports and the final delivery notes, in plan
order, so a production's whole paper trail can be read in one file.
"""

from __future__ import annotations

from podium.domain.artifacts import Prose, StatusReport
from podium.domain.tasks import TaskKind
from podium.export import markdown as md
from podium.export.manuscript import parsed
from podium.export.sources import ExportSource

DOCUMENT_KINDS = frozenset(
    {
        TaskKind.TREATMENT,
        TaskKind.OUTLINE,
        TaskKind.EPISODE_ARC,
        TaskKind.LOOK,
        TaskKind.REPORT,
        TaskKind.FINAL,
    }
)


def documents(source: ExportSource) -> str | None:
    """Markdown with one section per document, or None while there are none."""
    parts: list[str | None] = []
    for record in source.plan():
        if record.spec.kind not in DOCUMENT_KINDS:
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if artifact is None or content is None:
            continue
        parts.append(md.heading(2, md.inline(record.spec.title), source.short_status(artifact)))
        byline = f"{record.spec.kind.value.replace('_', ' ')} by "
        byline += source.agent_name(artifact.provenance.agent_id)
        if label := source.status_label(artifact):
            byline += f" · {label}"
        parts.append(f"*{md.inline(byline)}*")
        if isinstance(content, Prose):
            if content.title and content.title != record.spec.title:
                parts.append(f"**{md.inline(content.title)}**")
            parts.append(md.block(content.text))
            if content.beats:
                parts.append("\n".join(f"1. {md.inline(beat)}" for beat in content.beats))
        elif isinstance(content, StatusReport):
            parts.append(md.block(f"{content.progress_pct:g}% done. {content.summary}"))
            if content.blockers:
                parts.append("\n".join(f"- {md.inline(b)}" for b in content.blockers))
        else:
            parts.append(md.block(content.plain_text()))
    if not parts:
        return None
    return md.document([md.heading(1, f"{md.inline(source.title)}: documents"), *parts])
