"""Two versions of a content as a unified diff of their human formats (Fountain, Markdown, CSV):
what a proposal or an alternative shows against the version it would replace."""

from __future__ import annotations

import difflib

from podium.domain.artifacts import Artifact, Content
from podium.export.human import render

MAX_LINES = 400  # of a diff kept in an escalation; the rest is counted


def unified(old: Content, new: Content, old_label: str, new_label: str) -> list[str]:
    """The diff's lines (no line ends), empty when the human formats agree."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            render(old).text.splitlines(),
            render(new).text.splitlines(),
            fromfile=old_label,
            tofile=new_label,
            lineterm="",
        )
    ]


def between(old: Artifact, new: Artifact, limit: int = MAX_LINES) -> list[str]:
    """`new` against `old`, labelled by task and version, at most `limit` lines (the rest
    counted on a last line)."""
    lines = unified(
        old.parsed(),
        new.parsed(),
        f"{old.task_id} v{old.provenance.version} ({old.provenance.agent_id})",
        f"{new.task_id} v{new.provenance.version} ({new.provenance.agent_id})",
    )
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more line(s)"]
    return lines
