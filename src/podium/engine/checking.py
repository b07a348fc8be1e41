"""Every check a task's new version meets before it is concluded, recomputed by podium:

* the production file's rules on the content alone (`run_validators`);
* the rules over the assembled deliverables it sets off (`check_deliverables`: the runtime of the
  paginated script, the cut against the shot list, the cues against the cut, counted style
  rules, who is on the printed page), with this version standing for its task, so a shot list,
  a cue sheet, a cut or a script assembly is held against the film as it is as the production
  goes, not after;
* a character's dialogue pass changes only that character's lines of the scene it revises.

Findings go back to the agent with the recomputed figures (the self-correction loop in
`agent_runner`); what persists becomes a quality escalation with the figures (`verdicts`).
"""

from __future__ import annotations

from podium.domain.artifacts import Artifact, Content, Screenplay
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind
from podium.domain.validators import (
    Finding,
    ValidatorSpec,
    dialogue_pass_findings,
    run_validators,
)


def findings_for(
    view: ProductionView,
    rules: list[ValidatorSpec],
    record: TaskRecord,
    artifact: Artifact,
    content: Content,
    inputs: list[Artifact],
) -> list[Finding]:
    """Every finding on `artifact` (the content `content`) of the task, made from `inputs`."""
    from podium.deliverables.checks import check_deliverables  # the export's parts: not at start-up

    spec = record.spec
    findings = run_validators(rules, spec, content)
    findings += pass_findings(record, content, inputs)
    findings += check_deliverables(view, spec, artifact)
    return findings


def revised_input(record: TaskRecord, inputs: list[Artifact]) -> tuple[Artifact | None, str]:
    """For a character's dialogue pass: the screen input it revises and the words that tell
    the agent so. The prompt gives that input whole (`podium.engine.prompt_inputs.arrange`), so
    it is named here, not sent a second time."""
    spec = record.spec
    character = spec.params.get("character")
    if spec.kind is not TaskKind.DIALOGUE or not isinstance(character, str) or not character:
        return None, ""
    for artifact in inputs:
        if artifact.content_type == Screenplay.__name__:
            return artifact, (
                f"THE SCREENPLAY YOU REVISE is the INPUT from {artifact.task_id}, whole. "
                f"Revise only {character.upper()}'s dialogue. Every other speaker's cue and lines "
                "stay word for word and in order; add no speaker and drop none."
            )
    return None, ""


def pass_findings(record: TaskRecord, content: Content, inputs: list[Artifact]) -> list[Finding]:
    """A character's dialogue pass against the screen input it revises (none for other work)."""
    spec = record.spec
    character = spec.params.get("character")
    if spec.kind is not TaskKind.DIALOGUE or not isinstance(character, str) or not character:
        return []
    if not isinstance(content, Screenplay):
        return []
    for artifact in inputs:
        revised = artifact.parsed()
        if isinstance(revised, Screenplay):
            return dialogue_pass_findings(character, revised, content)
    return []
