"""What a task's run does beyond the work itself: make the summaries its prompt needs, and put
an agent's question to the Orchestrator.

Summaries (`summaries_for`): when a task's inputs do not all fit whole
(`prompt_inputs.arrange`), each input to be summarised is summarised once, by a model call of
purpose "summary" booked to the task that needed it, and recorded (`SummaryMade`, keyed by the
input's task and version): every later prompt that gives that version as a summary reads it
from the view.

Questions (`ask`): a reply whose `question` is set becomes a QUESTION escalation offering the
agent's options; the task waits. The answer (an option approved, or words given as an override)
is recorded as `Clarified` (`answer`) and the task runs again with it in its prompt.
"""

from __future__ import annotations

import asyncio
import weakref

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import Artifact, Prose
from podium.domain.asking import Question
from podium.domain.escalation import Action, EscalationKind, Option
from podium.domain.events import Clarified, SummaryMade
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskState
from podium.engine.port import EnginePort
from podium.engine.prompt_inputs import Given, needed_summaries
from podium.engine.prompts import summary_request
from podium.engine.reply import parser
from podium.llm.types import CompletionRequest

MAX_QUESTIONS = 2  # a task's agent may ask this many times; later questions are not put
ANSWER_PREFIX = "answer-"


async def summaries_for(
    engine: EnginePort,
    record: TaskRecord,
    agent: AgentSpec,
    model: str,
    given: list[Given],
) -> int:
    """Make the summaries this task's prompt needs and has not got; how many were made.
    `given` is how the prompt gives its inputs (`prompts.compose`: the one build of the
    prompt serves this step and the call)."""
    made = 0
    pending = _PENDING.setdefault(engine, {})
    for item in needed_summaries(given):
        key = item.key
        if key in engine.view.summaries:
            continue  # made meanwhile, by another task reading the same input
        if (running := pending.get(key)) is not None:
            await asyncio.shield(running)  # another task is making it: the same summary
            continue
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending[key] = done
        try:
            await _summarise(engine, record, agent, model, item.artifact, key)
            made += 1
        finally:
            del pending[key]
            done.set_result(None)
    return made


# The summaries being made, per engine: a second reader of the same input waits for the first.
_PENDING: weakref.WeakKeyDictionary[EnginePort, dict[tuple[str, int], asyncio.Future[None]]] = (
    weakref.WeakKeyDictionary()
)


async def _summarise(
    engine: EnginePort,
    record: TaskRecord,
    agent: AgentSpec,
    model: str,
    art: Artifact,
    key: tuple[str, int],
) -> None:
    def request_for(n: int) -> CompletionRequest:
        return summary_request(engine.view, record, agent, model, art, n)

    _, result, summary = await engine.call(
        request_for, record, agent.id, parser(Prose, what="a summary")
    )
    engine.emit(
        SummaryMade(
            task_id=key[0],
            version=key[1],
            artifact_id=art.id,
            text=summary.text,
            model=result.model,
            for_task=record.spec.id,
        )
    )


def may_ask(engine: EnginePort, record: TaskRecord) -> bool:
    asked = sum(
        1
        for e in engine.view.escalations.values()
        if e.kind is EscalationKind.QUESTION and e.task_id == record.spec.id
    )
    return asked < MAX_QUESTIONS


def ask(engine: EnginePort, record: TaskRecord, agent_id: str, question: Question) -> None:
    """Put the agent's question to the Orchestrator; the task waits for the answer."""
    task_id = record.spec.id
    options = [
        Option(id=f"{ANSWER_PREFIX}{n}", label=text, proposer=agent_id, summary=text)
        for n, text in enumerate(question.options, 1)
    ]
    engine.set_task_state(task_id, TaskState.AWAITING_APPROVAL, "asks the Orchestrator")
    engine.open_escalation(
        EscalationKind.QUESTION,
        f"{agent_id} asks: {question.text}",
        task_id=task_id,
        detail=question.text,
        options=options,
        actions=[Action.APPROVE, Action.OVERRIDE, Action.SKIP],
        evidence=[f"{o.id}: {o.label}" for o in options],
    )


def answer(
    engine: EnginePort,
    task_id: str,
    escalation_id: str,
    question: str,
    options: list[str],
    text: str,
    command_id: str,
) -> None:
    """Record the Orchestrator's answer; the task's next run is given it."""
    record = engine.view.tasks[task_id]
    engine.emit(
        Clarified(
            task_id=task_id,
            agent_id=record.spec.assignee,
            question=question,
            options=options,
            answer=text,
            escalation_id=escalation_id,
            command_id=command_id,
        )
    )
