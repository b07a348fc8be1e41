"""The decision log: every artifact with its provenance, then every Orchestrator command.

One JSON object per line (JSON Lines). An artifact line says which agent and model made it, from
which prompt, at what cost, in which debate round, under which direction of the Orchestrator,
and which human decision approved or overrode it. Artifacts come in plan order (each task's
versions oldest first); commands in the order the log recorded them. No clock times: the same
production always gives the same file.
"""

from __future__ import annotations

import json
import math
from typing import Any

from podium.domain.artifacts import Artifact
from podium.domain.escalation import ApproveCommand, Escalation
from podium.domain.state import CommandRecord
from podium.export.sources import ExportSource, clean


def _safe(value: Any) -> Any:
    """JSON-ready data with every string cleaned, however deep."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int):
        return value
    return clean(str(value))


def decision(record: CommandRecord, escalation: Escalation | None) -> dict[str, Any]:
    command = record.command
    return {
        "command_id": command.id,
        "action": command.action.value,
        "origin": command.origin,
        "text": command.words(),
        "option_id": command.option_id if isinstance(command, ApproveCommand) else None,
        "escalation_id": escalation.id if escalation else None,
        "escalation_kind": escalation.kind.value if escalation else None,
        "status": record.status,
        "effect": record.detail,
    }


def artifact_line(source: ExportSource, artifact: Artifact) -> dict[str, Any]:
    p = artifact.provenance
    record = source.view.tasks.get(artifact.task_id)
    debate = source.view.debates.get(p.debate_id) if p.debate_id else None
    found = source.decision_for(artifact)
    directed = source.direction_for(artifact)
    return {
        "type": "artifact",
        "artifact_id": artifact.id,
        "task_id": artifact.task_id,
        "task_title": record.spec.title if record else None,
        "kind": artifact.kind.value,
        "content_type": artifact.content_type,
        "status": artifact.status.value,
        "label": source.status_label(artifact),
        "task_state": record.state.value if record else None,
        "agent": p.agent_id,
        "model": p.model,
        "prompt_hash": p.prompt_hash,
        "attempt": p.attempt,
        "input_tokens": p.input_tokens,
        "output_tokens": p.output_tokens,
        "cost_usd": p.cost_usd,
        "vision_version": p.vision_version,
        "parents": list(p.parents),
        "debate_id": p.debate_id,
        "debate_round": p.debate_round,
        "debate_state": debate.state.value if debate else None,
        "direction": p.direction,
        "direction_command_id": directed.command.id if directed else None,
        "decision": decision(*found) if found else None,
    }


def command_line(source: ExportSource, record: CommandRecord) -> dict[str, Any]:
    command = record.command
    return {
        "type": "command",
        "id": command.id,
        "action": command.action.value,
        "target": source.command_target(record),
        "escalation_id": command.escalation_id,
        "task_id": command.task_id,
        "option_id": command.option_id if isinstance(command, ApproveCommand) else None,
        "text": command.words(),
        "args": command.particulars(),
        "origin": command.origin,
        "status": record.status,
        "detail": record.detail,
    }


def lines(source: ExportSource) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in source.plan():
        for artifact_id in record.artifact_ids:
            artifact = source.view.artifacts.get(artifact_id)
            if artifact is not None:
                out.append(artifact_line(source, artifact))
    out.extend(command_line(source, record) for record in source.commands())
    return out


def decision_log(source: ExportSource) -> str:
    """The whole log as JSON Lines (an empty production gives an empty file)."""
    return "".join(
        json.dumps(_safe(line), ensure_ascii=False, sort_keys=False) + "\n"
        for line in lines(source)
    )
