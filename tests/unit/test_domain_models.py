"""Domain models survive JSON round trips; the policy never lowers; validators recount;
sanitize() removes what a terminal would act on."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import BaseModel, ValidationError

from podium.domain import events
from podium.domain.agents import Role
from podium.domain.artifacts import (
    CONTENT_TYPES,
    Alternative,
    Alternatives,
    Artifact,
    ArtifactStatus,
    Content,
    Critique,
    Cue,
    CueSheet,
    EditItem,
    EditPlan,
    ElementType,
    IllustrationBrief,
    Position,
    Prose,
    Provenance,
    Ruling,
    Scene,
    ScreenElement,
    Screenplay,
    Shot,
    ShotList,
    StatusReport,
)
from podium.domain.debate import Debate, DebateState, Turn
from podium.domain.escalation import (
    Action,
    Escalation,
    EscalationKind,
    Option,
    OverrideCommand,
    Priority,
)
from podium.domain.loading import parse_production
from podium.domain.policy import (
    DEFAULT_TERRITORIES,
    PROTECTED_KINDS,
    AuthorityPolicy,
    DecisionKind,
    Territory,
    classify,
)
from podium.domain.production import ProductionSpec
from podium.domain.tasks import (
    OnFailure,
    PlanDraft,
    TaskKind,
    TaskSpec,
    TaskState,
    dependency_cycle,
    topological_order,
)
from podium.domain.text import PLACEHOLDER, sanitize
from podium.domain.validators import (
    CharacterPresence,
    Finding,
    ForbiddenTerms,
    SceneLimit,
    Severity,
    WordCount,
    check,
    count_words,
    run_validators,
)

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_productions").glob("*.toml"))


M = TypeVar("M", bound=BaseModel)


def round_trip(model: M) -> M:
    again = type(model).model_validate_json(model.model_dump_json())
    assert again == model
    return again


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_production_spec_round_trips(sample: Path) -> None:
    spec = parse_production(sample.read_text(encoding="utf-8"), str(sample))
    again = round_trip(spec)
    assert again.model_dump() == spec.model_dump()
    # What the store keeps (ProductionOpened.spec) validates back into the same spec.
    assert ProductionSpec.model_validate(spec.model_dump(mode="json")) == spec


TASK = TaskSpec(
    id="scene-02",
    title="Scene 2: The lamp room",
    kind=TaskKind.SCENE,
    assignee="writer",
    depends_on=["treatment", "scene-01"],
    gate="script",
    reviewers=["director", "elias"],
    on_failure=OnFailure.SKIP,
    phase="screenplay",
    deliverable="screenplay",
    decision=DecisionKind.SCENE_STRUCTURE,
    brief="Elias lights the lamp for the last time.",
    params={"scene": 2, "notes": ["no speeches"], "nested": {"words": 600}},
)


def test_task_spec_round_trips() -> None:
    round_trip(TASK)
    round_trip(TaskSpec(id="t", title="T", kind=TaskKind.PLAN, assignee="producer"))


def test_plan_draft_round_trips() -> None:
    round_trip(PlanDraft(tasks=[TASK, TASK.model_copy(update={"id": "scene-03"})], rationale="r"))


CONTENT: dict[str, Content] = {
    "Screenplay": Screenplay(
        title="Last Light",
        scenes=[
            Scene(
                heading="INT. LAMP ROOM - NIGHT",
                elements=[
                    ScreenElement(type=ElementType.ACTION, text="The lamp turns."),
                    ScreenElement(type=ElementType.CHARACTER, text="ELIAS (V.O.)"),
                    ScreenElement(type=ElementType.PARENTHETICAL, text="(to the lamp)"),
                    ScreenElement(type=ElementType.DIALOGUE, text="There you are."),
                    ScreenElement(type=ElementType.CHARACTER, text="MORAG", dual=True),
                    ScreenElement(type=ElementType.DIALOGUE, text="Dad.", dual=True),
                    ScreenElement(type=ElementType.TRANSITION, text="CUT TO:"),
                ],
            )
        ],
    ),
    "Prose": Prose(title="Chapter 1", text="The ice was loud.", beats=["arrival", "the map"]),
    "IllustrationBrief": IllustrationBrief(
        title="The cape",
        subject="Sigrid at the cape",
        composition="tiny figure, huge sky",
        palette=["ice blue"],
        lighting="low sun",
        mood="awe",
        caption="The end of the map.",
        image_path="out/ch5.png",
    ),
    "ShotList": ShotList(
        shots=[Shot(scene=1, shot="A", size="WS", angle="low", lens="24mm", duration_s=4.5)]
    ),
    "CueSheet": CueSheet(
        cues=[Cue(cue_id="1M1", title="Beam", scene=5, duration_s=42, usage="theme")]
    ),
    "EditPlan": EditPlan(sequence=[EditItem(scene=1, shot="A", duration_s=4.5)], notes="tight"),
    "Critique": Critique(verdict="revise", summary="Too much talk.", issues=["cut line 3"]),
    "Position": Position(stance="Keep the line.", reasoning="It is the character.", concedes=False),
    "Ruling": Ruling(winner="writer", decision="Keep it, split it.", reasoning="Both are right."),
    "StatusReport": StatusReport(progress_pct=42.5, summary="On track.", blockers=["none"]),
    "Alternatives": Alternatives(
        options=[Alternative(title="A", summary="a"), Alternative(title="B", reasoning="b")]
    ),
}


def test_there_is_an_example_of_every_content_schema() -> None:
    assert set(CONTENT) == set(CONTENT_TYPES)
    assert all(type(c) is CONTENT_TYPES[name] for name, c in CONTENT.items())


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_content_schema_round_trips(name: str) -> None:
    round_trip(CONTENT[name])


PROVENANCE_ARTIFACT = Artifact(
    id="art-1",
    task_id="scene-02",
    kind=TaskKind.SCENE,
    content_type="Screenplay",
    content=CONTENT["Screenplay"].model_dump(mode="json"),
    provenance=Provenance(
        agent_id="writer",
        model="rehearsal/default",
        prompt_hash="sha256:abc",
        attempt=2,
        input_tokens=1200,
        output_tokens=800,
        cost_usd=0.0123,
        vision_version=2,
        parents=("art-0",),
        debate_id="deb-1",
        debate_round=3,
        decision_id="cmd-7",
        direction="Keep the line but split it.",
    ),
    status=ArtifactStatus.APPROVED,
    created_at=1_700_000_000.5,
)


def test_artifact_with_provenance_round_trips() -> None:
    again = round_trip(PROVENANCE_ARTIFACT)
    assert again.provenance.parents == ("art-0",)
    assert again.parsed() == CONTENT["Screenplay"]


ESCALATION = Escalation(
    id="esc-1",
    kind=EscalationKind.CONFLICT,
    priority=Priority.HIGH,
    title="Writer and director disagree on scene 2",
    territory=Territory.COLLABORATIVE,
    task_id="scene-02",
    artifact_ids=["art-1"],
    debate_id="deb-1",
    detail="Three rounds, no concession.",
    evidence=["round 3: …"],
    options=[Option(id="o1", label="Keep", proposer="writer", reasoning="voice")],
    actions=[Action.APPROVE, Action.OVERRIDE],
    opened_at=10.0,
    timeout_s=600.0,
    default_action=Action.APPROVE,
)

COMMAND = OverrideCommand(
    id="cmd-1",
    escalation_id="esc-1",
    task_id="scene-02",
    text="Keep the dialogue but split it across two moments.",
    replace=True,
    issued_at=11.0,
    origin="cli",
)

DEBATE = Debate(
    id="deb-1",
    task_id="scene-02",
    topic="Is the lamp-room speech essential?",
    participants=["writer", "director"],
    judge="producer",
    max_rounds=3,
    time_limit_s=120.0,
    turns=[
        Turn(round=1, speaker="writer", role=Role.WRITER, stance="Keep.", reasoning="Voice."),
        Turn(round=1, speaker="director", role=Role.DIRECTOR, stance="Cut.", concedes=True),
    ],
    state=DebateState.SETTLED,
    ruling="Split it.",
    recommendation="Split it across two moments.",
)


def test_escalation_command_and_debate_round_trip() -> None:
    round_trip(ESCALATION)
    round_trip(COMMAND)
    again = round_trip(DEBATE)
    assert again.final_positions()["director"].concedes


PAYLOADS: list[events.Payload] = [
    events.ProductionOpened(
        spec={"production": {"title": "T"}}, source="x.toml", podium_version="0.1.0", seed=3
    ),
    events.RunStarted(pid=42, resumed=True, headless=True),
    events.RunStopped(reason="q"),
    events.ProductionStateChanged(state=events.ProductionState.WAITING, reason="gate", paused=True),
    events.TasksPlanned(tasks=[TASK], source="planner", rationale="because"),
    events.TaskStateChanged(task_id="t", state=TaskState.AWAITING_APPROVAL, attempt=1),
    events.AgentStateChanged(agent_id="writer", state=events.AgentState.STREAMING, task_id="t"),
    events.OutputChunk(task_id="t", agent_id="writer", attempt=2, text="INT. LAMP ROOM\n"),
    events.CallFinished(
        call_id="c1",
        task_id=None,
        agent_id="producer",
        model="rehearsal/x",
        purpose="plan",
        input_tokens=5,
        output_tokens=7,
        cost_usd=None,
        latency_s=0.25,
        ok=False,
        error_kind="rate_limit",
        error="slow down",
    ),
    events.ArtifactCreated(artifact=PROVENANCE_ARTIFACT),
    events.ArtifactStatusChanged(artifact_id="art-1", status="approved", decision_id="cmd-1"),
    events.CurrentVersionSet(
        task_id="t1", version=2, cause=events.VersionCause.KEPT, made_from={"t0": 3}
    ),
    events.ValidationReported(
        task_id="t",
        attempt=1,
        artifact_id="art-1",
        findings=[Finding(rule="r", severity=Severity.DEVIATION, message="m", evidence="e")],
    ),
    events.TerritoryAssigned(
        task_id="t",
        territory=Territory.APPROVAL_REQUIRED,
        decision_kind="major_story_beat",
        agent_claim=Territory.AUTONOMOUS,
    ),
    events.TaskSettled(
        task_id="t",
        territory=Territory.COLLABORATIVE,
        decision_kind="minor_story_detail",
        agent_claim=Territory.AUTONOMOUS,
        artifact_id="art-1",
        status="provisional",
        version=1,
        cause=events.VersionCause.OVERRIDE,
        reason="collaborative",
        validation=events.ValidationReported(task_id="t", attempt=2, artifact_id="art-1"),
        report=events.StatusReported(agent_id="producer", task_id="t", summary="on track"),
    ),
    events.EscalationOpened(escalation=ESCALATION),
    events.EscalationResolved(escalation_id="esc-1", action=Action.SKIP, command_id="cmd-1"),
    events.CommandRecorded(command=COMMAND),
    events.CommandApplied(command_id="cmd-1", effect="applied"),
    events.CommandRejected(command_id="cmd-2", reason="already resolved"),
    events.ReviewGiven(
        task_id="t",
        artifact_id="art-1",
        reviewer="director",
        round=1,
        verdict="revise",
        summary="Too much talk.",
        issues=["cut line 3"],
    ),
    events.DebateOpened(
        debate_id="deb-1",
        task_id="t",
        topic="x",
        participants=["writer", "director"],
        judge="producer",
        max_rounds=3,
        time_limit_s=120.0,
    ),
    events.DebateTurnTaken(
        debate_id="deb-1", round=2, speaker="writer", role="writer", stance="s", concedes=True
    ),
    events.DebateClosed(debate_id="deb-1", state=DebateState.STALLED, recommendation="r"),
    events.VisionAmended(
        version=2,
        section="tone",
        value="warmer",
        reason="clarify",
        command_id="cmd-3",
        stale_tasks=["scene-01"],
    ),
    events.ConstraintsAdjusted(changes={"max_concurrency": 4, "deadline": 600.0}),
    events.StatusReported(agent_id="producer", progress_pct=50, summary="half", blockers=["x"]),
    events.TaskDirected(
        task_id="t", direction="Split the speech.", command_id="cmd-5", assignee="writer"
    ),
    events.Feedback(agent_id="writer", text="Shorter.", command_id="cmd-4"),
    events.Clarified(
        task_id="treatment",
        agent_id="writer",
        question="Tension or intimacy?",
        options=["Tension", "Intimacy"],
        answer="Intimacy",
        escalation_id="e3",
        command_id="cmd-6",
    ),
    events.SummaryMade(
        task_id="scene-3",
        version=2,
        artifact_id="scene-3-v2",
        text="Elias hands over the lamp.",
        model="rehearsal/x",
        for_task="shot_list",
    ),
    events.CharacterSheetMade(
        character="Tam",
        description="Tam: 26, the Lighthouse Board engineer; oilskin, a torch on a lanyard.",
        image_path="last-light-images/sheet-tam-0a1b2c3d4e5f.png",
        model="openai/gpt-image-1",
        made_from={"look": 1},
        vision_version=1,
        for_task="shot_list",
    ),
    events.FramesDrawn(
        task_id="shot_list",
        artifact_id="shot_list-v1",
        model="openai/gpt-image-1",
        frames={"1A": "last-light-images/frame-1A-0a1b2c3d4e5f.png"},
        failed=["1B"],
    ),
]


def test_there_is_an_example_of_every_event_payload() -> None:
    assert {p.kind for p in PAYLOADS} == events.EVENT_KINDS


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.kind)
def test_event_payload_round_trips_through_the_adapter(payload: events.Payload) -> None:
    raw = events.PAYLOAD_ADAPTER.dump_json(payload)
    again = events.PAYLOAD_ADAPTER.validate_json(raw)
    assert type(again) is type(payload)
    assert again == payload
    event = events.Event(seq=7, ts=1_700_000_000.25, payload=again)
    assert round_trip(event).kind == payload.kind


def test_an_unknown_event_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        events.PAYLOAD_ADAPTER.validate_json(b'{"kind": "made_up", "text": "x"}')


# --- the authority policy ------------------------------------------------------------------


def test_policy_defaults_follow_the_seed() -> None:
    policy = AuthorityPolicy()
    for kind in DecisionKind:
        assert policy.territory_for(kind) is DEFAULT_TERRITORIES[kind]
    for kind in PROTECTED_KINDS:
        assert policy.territory_for(kind) is Territory.APPROVAL_REQUIRED


POLICIES = [
    AuthorityPolicy(),
    AuthorityPolicy(
        decisions={
            DecisionKind.VISUAL_STYLE: Territory.AUTONOMOUS,
            DecisionKind.CHARACTER_ARC: Territory.APPROVAL_REQUIRED,
            DecisionKind.SHOT_COMPOSITION: Territory.COLLABORATIVE,
        }
    ),
]


@pytest.mark.parametrize("policy", POLICIES, ids=["defaults", "overrides"])
def test_an_agent_claim_never_lowers_the_territory(policy: AuthorityPolicy) -> None:
    for kind in DecisionKind:
        ruled = policy.territory_for(kind)
        for claim in Territory:
            got = classify(policy, kind, agent_claim=claim)
            assert got.rank == max(ruled.rank, claim.rank)
            if claim.rank < ruled.rank:
                assert got is ruled  # the policy's territory, not the agent's
        assert classify(policy, kind) is ruled


@pytest.mark.parametrize("policy", POLICIES, ids=["defaults", "overrides"])
def test_a_gated_task_is_always_approval_required(policy: AuthorityPolicy) -> None:
    for kind in DecisionKind:
        for claim in (None, *Territory):
            assert (
                classify(policy, kind, gate=Territory.APPROVAL_REQUIRED, agent_claim=claim)
                is Territory.APPROVAL_REQUIRED
            )


def test_a_policy_may_lower_ordinary_kinds_but_never_protected_ones() -> None:
    lowered = AuthorityPolicy(decisions={DecisionKind.VISUAL_STYLE: Territory.AUTONOMOUS})
    assert classify(lowered, DecisionKind.VISUAL_STYLE) is Territory.AUTONOMOUS
    for kind in PROTECTED_KINDS:
        for territory in (Territory.AUTONOMOUS, Territory.COLLABORATIVE):
            with pytest.raises(ValidationError, match="must stay approval_required"):
                AuthorityPolicy(decisions={kind: territory})


def test_task_decision_kind_defaults_by_kind_and_can_be_named() -> None:
    treatment = TaskSpec(id="t", title="T", kind=TaskKind.TREATMENT, assignee="w")
    assert treatment.decision_kind is DecisionKind.MAJOR_STORY_BEAT
    assert TASK.decision_kind is DecisionKind.SCENE_STRUCTURE


# --- validators recompute ------------------------------------------------------------------


def _task(kind: TaskKind = TaskKind.CHAPTER, task_id: str = "ch-1") -> TaskSpec:
    return TaskSpec(id=task_id, title="x", kind=kind, assignee="writer")


def test_word_count_is_recounted_not_taken_from_the_agent() -> None:
    prose = Prose(text="This chapter is exactly five hundred words long, promise.")
    rule = WordCount(type="word_count", min=450, max=650)

    finding = check(rule, prose)

    assert count_words(prose.plain_text()) == 9
    assert finding is not None
    assert finding.message == "9 words; the range is 450–650"
    assert finding.evidence == "recounted: 9 words"


def test_word_count_counts_title_text_and_beats_and_passes_in_range() -> None:
    prose = Prose(title="Ice", text="one two three four", beats=["five six"])
    assert count_words(prose.plain_text()) == 7
    assert check(WordCount(type="word_count", min=7, max=7), prose) is None
    assert check(WordCount(type="word_count", max=6), prose) is not None
    assert count_words("well-known don't l’été 1911") == 4


def _screenplay(*scenes: list[tuple[ElementType, str]]) -> Screenplay:
    return Screenplay(
        scenes=[
            Scene(
                heading=f"INT. ROOM {i} - NIGHT",
                elements=[ScreenElement(type=t, text=x) for t, x in s],
            )
            for i, s in enumerate(scenes, 1)
        ]
    )


def test_scene_limit_recounts_scenes() -> None:
    play = _screenplay([(ElementType.ACTION, "a")], [(ElementType.ACTION, "b")])
    assert check(SceneLimit(type="scene_limit", min=1, max=2), play) is None
    finding = check(SceneLimit(type="scene_limit", max=1), play)
    assert finding is not None
    assert finding.evidence == "recounted: 2 scenes"


def test_character_presence_sees_speakers_and_mentions() -> None:
    play = _screenplay(
        [
            (ElementType.CHARACTER, "ELIAS (V.O.)"),
            (ElementType.DIALOGUE, "Light."),
            (ElementType.ACTION, "He thinks of Tam."),
        ]
    )
    rule = CharacterPresence(type="character_presence", characters=["Elias", "Tam", "Morag"])

    finding = check(rule, play)

    assert finding is not None
    assert finding.message == "characters absent: Morag"


def test_forbidden_terms_match_whole_words_only() -> None:
    rule = ForbiddenTerms(
        type="forbidden_terms", terms=["GPS", "end of an era"], severity=Severity.DEVIATION
    )
    assert check(rule, Prose(text="The GPSes and the gpsx are not words here.")) is None

    finding = check(rule, Prose(text="She checked the gps. It was the End of an Era."))

    assert finding is not None
    assert finding.severity is Severity.DEVIATION
    assert finding.message.startswith("uses forbidden terms: GPS, end of an era")
    assert "gps" in finding.evidence


def test_run_validators_applies_rules_by_kind_and_by_task() -> None:
    rules = [
        WordCount(type="word_count", kinds=[TaskKind.CHAPTER], min=100),
        WordCount(type="word_count", tasks=["ch-9"], min=100),
        ForbiddenTerms(type="forbidden_terms", terms=["plastic"]),
    ]
    prose = Prose(text="A plastic sledge.")
    assert [f.rule for f in run_validators(rules, _task(), prose)] == [
        "word_count",
        "forbidden_terms",
    ]
    assert len(run_validators(rules, _task(TaskKind.ILLUSTRATION, "ch-9"), prose)) == 2
    assert len(run_validators(rules, _task(TaskKind.ILLUSTRATION, "il-1"), prose)) == 1


# --- sanitize ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m text", f"{PLACEHOLDER}red{PLACEHOLDER} text"),
        ("\x1b[2J\x1b[Hwiped", f"{PLACEHOLDER}{PLACEHOLDER}wiped"),
        ("a\x1b]0;pwned title\x07b", f"a{PLACEHOLDER}b"),
        (
            "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
            f"{PLACEHOLDER}click{PLACEHOLDER}",
        ),
        ("copy\x1b]52;c;cm0gLXJmIH4=\x07me", f"copy{PLACEHOLDER}me"),
        ("c1 csi \x9b31m here", f"c1 csi {PLACEHOLDER} here"),
        ("osc \x9d0;t\x9c end", f"osc {PLACEHOLDER} end"),
        ("nel\x85 and \x90dcs\x9c", f"nel{PLACEHOLDER} and {PLACEHOLDER}"),
        ("bell\x07 back\x08 del\x7f", f"bell{PLACEHOLDER} back{PLACEHOLDER} del{PLACEHOLDER}"),
        ("lone escape \x1b", f"lone escape {PLACEHOLDER}"),
    ],
)
def test_sanitize_strips_terminal_sequences(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_sanitize_keeps_newlines_tabs_and_ordinary_text() -> None:
    text = "INT. LAMP ROOM – NIGHT\n\tELIAS\n\tThere you are. l’été ☃ 🌊"
    assert sanitize(text) == text
    assert sanitize("") == ""
    assert sanitize("a\r\nb\rc") == "a\nb\nc"


def test_sanitize_output_has_no_controls_left() -> None:
    nasty = "".join(chr(c) for c in range(0, 0xA0)) + "\x1b[1;31mX\x1b]8;;u\x07Y"
    cleaned = sanitize(nasty)
    assert PLACEHOLDER in cleaned
    assert all(c in "\n\t" or (0x20 <= ord(c) < 0x7F) or ord(c) >= 0xA0 for c in cleaned)


# --- plan graphs -------------------------------------------------------------------------------


def _plan(edges: dict[str, list[str]]) -> list[TaskSpec]:
    return [
        TaskSpec(id=tid, title=tid, kind=TaskKind.SCENE, assignee="w", depends_on=deps)
        for tid, deps in edges.items()
    ]


def test_a_chain_of_ten_thousand_tasks_is_ordered_without_recursion() -> None:
    count = 10_000
    chain = _plan({f"t{i}": [f"t{i + 1}"] if i + 1 < count else [] for i in range(count)})
    assert dependency_cycle(chain) is None
    assert topological_order(chain) == [f"t{i}" for i in reversed(range(count))]
    looped = _plan({**{t.id: list(t.depends_on) for t in chain}, f"t{count - 1}": ["t0"]})
    cycle = dependency_cycle(looped)
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) == count + 1


def test_topological_order_goes_in_waves_keeping_file_order() -> None:
    plan = _plan({"c": ["a"], "a": [], "d": ["b", "a"], "b": [], "e": ["c", "d"]})
    assert topological_order(plan) == ["a", "b", "c", "d", "e"]
    assert dependency_cycle(plan) is None
    with pytest.raises(ValueError):
        topological_order(_plan({"x": ["y"], "y": ["x"]}))
    assert dependency_cycle(_plan({"x": ["y"], "y": ["x"]})) == ["x", "y", "x"]
