"""The conductor's router: a key press on an item becomes a command, through a dialog when it
needs words (approve with options, override, feedback, reassign, the vision, the constraints).

`ConductorScreen` inherits it; what changes redraw which pane is in `conductor.py`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import KIND_CONTENT, Prose
from podium.domain.authorship import review_conflict
from podium.domain.escalation import (
    Action,
    AdjustConstraintsCommand,
    ApproveCommand,
    ClarifyVisionCommand,
    Command,
    ConstraintChanges,
    Escalation,
    FeedbackCommand,
    OverrideCommand,
    ReassignCommand,
    RequestAlternativesCommand,
    command_adapter,
)
from podium.domain.state import ProductionView
from podium.seam.protocol import ProductionSource
from podium.tui.format import flatten
from podium.tui.widgets.escalation_detail import not_offered, readable

if TYPE_CHECKING:  # the dialogs are imported when first opened: none is on the first frame
    from podium.tui.screens.adjust_constraints import ConstraintChanges as ChangedConstraints
    from podium.tui.screens.alternatives import Picked
    from podium.tui.screens.clarify_vision import VisionChange
    from podium.tui.screens.feedback import FeedbackNote
    from podium.tui.screens.override import OverrideDecision

ALTERNATIVES = 3
# Options a failure offers that are actions of their own: choosing one is that action (reassign
# asks to whom), not an approval naming it (which named no agent and was refused).
ACTION_OPTIONS = frozenset({Action.RETRY.value, Action.SKIP.value, Action.REASSIGN.value})


def _who(view: ProductionView, agent: AgentSpec) -> str:
    """An agent as the reassign picker labels it: its role and the model it calls."""
    role = agent.role.value.replace("_", " ")
    model = view.model_override or agent.model or (view.spec.models.default if view.spec else "")
    return f"{role} · {model}" if model else role


Submit = Callable[[Command], None]


SESSION_ORIGIN = f"tui {uuid.uuid4().hex[:6]}"
"""The origin of this process's commands: one screen (one `podium attach`, one browser tab),
so a screen tells its own decisions from another screen's (`podium.tui.decided`)."""


def stamp() -> dict[str, Any]:
    """What every command from the screen carries: a new id, the time, its origin."""
    return {
        "id": f"tui-{uuid.uuid4().hex[:12]}",
        "issued_at": time.time(),
        "origin": SESSION_ORIGIN,
    }


def new_command(action: Action, **target: str | None) -> Command:
    """A command that needs nothing but what it is about (retry, skip, pause, …)."""
    return command_adapter().validate_python(stamp() | {"action": action} | target)


class ConductorActions(Screen[None]):
    """The conductor screen's actions on items: each ends in `submit(command)` or a notice.

    It acts on the production `source` through `submit`, both given by the screen."""

    def __init__(self, source: ProductionSource, submit: Submit) -> None:
        super().__init__()
        self.source = source
        self.submit = submit
        self.origin = SESSION_ORIGIN  # what this screen's commands carry (see `stamp`)
        self._selected: dict[str, str | None] = {"task": None, "agent": None, "escalation": None}

    @property
    def view(self) -> ProductionView:
        return self.source.view

    # -- the router ---------------------------------------------------------------------------

    def act(
        self,
        action: Action,
        *,
        task_id: str | None = None,
        escalation_id: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        """Turn a key press on an item into a command, through a modal when it needs words."""
        view = self.view
        escalation = view.escalations.get(escalation_id) if escalation_id else None
        if escalation is not None and not escalation.open:
            self.notify(f"{escalation.id} was already decided.", markup=False)
            return
        if (
            escalation is not None
            and action not in escalation.actions
            and action is not Action.FEEDBACK
        ):  # the item pointed at does not offer it: say what it offers, act on nothing else
            self.notify(not_offered(escalation, action), markup=False)
            return
        if escalation is None and task_id is not None and action is not Action.FEEDBACK:
            escalation = self._open_for(task_id, action)
        if escalation is not None:
            task_id = task_id or escalation.task_id
        esc_id = escalation.id if escalation is not None else None
        if action is Action.APPROVE:
            self._approve(escalation, task_id)
        elif action is Action.OVERRIDE:
            self._override(escalation, task_id)
        elif action is Action.FEEDBACK:
            self._feedback(agent_id or self._assignee(task_id), escalation)
        elif action is Action.REASSIGN:
            self._reassign(escalation, task_id)
        elif action is Action.ADJUST_CONSTRAINTS:
            self.action_adjust_constraints(escalation_id=esc_id)
        elif action in (Action.EDIT, Action.EDIT_PLAN):
            self._edit(escalation, task_id)
        elif action is Action.REQUEST_ALTERNATIVES:
            if esc_id is None and task_id is None:
                self.notify("Select a task or an inbox item first.", markup=False)
                return
            self.submit(
                RequestAlternativesCommand(
                    escalation_id=esc_id, task_id=task_id, count=ALTERNATIVES, **stamp()
                )
            )
        else:
            if esc_id is None and task_id is None:
                self.notify("Select a task or an inbox item first.", markup=False)
                return
            self.submit(new_command(action, escalation_id=esc_id, task_id=task_id))

    def act_on(self, kind: str, action: Action) -> None:
        """Act on what is selected in a pane (the command palette's way in)."""
        item = self._selected.get(kind)
        if item is None:
            self.notify(f"Select an item in the {kind} pane first.", markup=False)
            return
        if kind == "escalation":
            self.act(action, escalation_id=item)
        elif kind == "task":
            self.act(action, task_id=item)
        else:
            self.act(action, agent_id=item)

    def _open_for(self, task_id: str, action: Action) -> Escalation | None:
        for escalation in self.view.open_escalations():
            if escalation.task_id == task_id and action in escalation.actions:
                return escalation
        return None

    def _assignee(self, task_id: str | None) -> str | None:
        record = self.view.tasks.get(task_id or "")
        return record.spec.assignee if record is not None else None

    def choose(self, escalation_id: str, option_id: str) -> None:
        """An item's option chosen: an approval naming it, or the action an option such as
        "Reassign" stands for (which asks what it needs, e.g. to whom)."""
        if option_id in ACTION_OPTIONS:
            self.act(Action(option_id), escalation_id=escalation_id)
        else:
            self.submit(ApproveCommand(escalation_id=escalation_id, option_id=option_id, **stamp()))

    def _approve(self, escalation: Escalation | None, task_id: str | None) -> None:
        from podium.tui.screens.alternatives import AlternativesScreen, Choice

        if escalation is None:
            where = f"{task_id} has" if task_id else "there is"
            self.notify(f"Nothing to approve: {where} no open inbox item.", markup=False)
            return
        if Action.APPROVE not in escalation.actions:
            self.notify(not_offered(escalation, Action.APPROVE), markup=False)
            return
        if not escalation.options:
            self.submit(ApproveCommand(escalation_id=escalation.id, task_id=task_id, **stamp()))
            return
        esc_id = escalation.id

        def chosen(picked: Picked | None) -> None:
            if picked is not None:
                self.choose(esc_id, picked.id)

        from podium.tui.screens.versions_diff import DraftsScreen, drafts_of, is_alternatives

        if is_alternatives(escalation):
            drafts = drafts_of(self.view, escalation)
            self.app.push_screen(DraftsScreen(escalation.title, drafts), chosen)
            return
        self.app.push_screen(
            AlternativesScreen(
                escalation.title,
                [Choice.of(o) for o in escalation.options],
                prompt="Approving means choosing one of these.",
            ),
            chosen,
        )

    def _override(self, escalation: Escalation | None, task_id: str | None) -> None:
        from podium.tui.screens.override import OverrideScreen, content_of

        record = self.view.tasks.get(task_id or "")
        if record is None:
            self.notify("Select a task (or an inbox item about one) to override.", markup=False)
            return
        latest = self.view.artifacts.get(record.artifact_id or "")
        esc_id = escalation.id if escalation is not None else None
        target = record.spec.id

        def decided(decision: OverrideDecision | None) -> None:
            if decision is not None:
                self.submit(
                    OverrideCommand(
                        escalation_id=esc_id,
                        task_id=target,
                        text=decision.text,
                        replace=decision.replace,
                        **stamp(),
                    )
                )

        self.app.push_screen(
            OverrideScreen(
                task_id=target,
                title=record.spec.title,
                excerpt=readable(latest) if latest is not None else "",  # as it is read
                about=escalation.title if escalation is not None else "",
                content=content_of(latest),  # a replacement starts from it, human-formatted
                content_type=KIND_CONTENT.get(record.spec.kind, Prose).__name__,
            ),
            decided,
        )

    def _feedback(self, agent_id: str | None, about: Escalation | None = None) -> None:
        from podium.tui.screens.feedback import FeedbackScreen

        agent = self.view.agents.get(agent_id or "")
        if agent is None and about is not None:
            self.notify(
                f"{about.id} is about no task, so no agent to give feedback to: press f on "
                "an agent (Agents pane) or a task (Tasks pane).",
                markup=False,
            )
            return
        if agent is None:
            self.notify("Select an agent (or a task) to give feedback to.", markup=False)
            return

        def send(note: FeedbackNote | None) -> None:
            if note is not None:
                self.submit(FeedbackCommand(text=note.text, agent=note.agent_id, **stamp()))

        self.app.push_screen(
            FeedbackScreen(
                agent_id=agent.spec.id,
                name=agent.spec.name,
                role=agent.spec.role.value,
                earlier=list(agent.feedback),
            ),
            send,
        )

    def _edit(self, escalation: Escalation | None, task_id: str | None) -> None:
        """`E`: $EDITOR on the task's version (or the plan), in a worker: the app suspends
        while the editor runs, its loop (and an engine in this process) does not."""
        from podium.tui.editing import edit

        view = self.view

        async def edited() -> None:
            if (command := await edit(self, view, escalation, task_id, stamp())) is not None:
                self.submit(command)

        self.run_worker(edited(), group="editor", exclusive=True)

    def _reassign(self, escalation: Escalation | None, task_id: str | None) -> None:
        from podium.tui.screens.alternatives import AlternativesScreen, Choice

        record = self.view.tasks.get(task_id or "")
        if record is None:
            self.notify("Select a task to reassign.", markup=False)
            return
        esc_id = escalation.id if escalation is not None else None
        view = self.view
        choices: list[Choice] = []
        left_out: list[str] = []
        for agent in view.agents.values():
            if agent.spec.id == record.spec.assignee:
                continue
            if review_conflict(view, record.spec.id, agent.spec.id) is not None:
                left_out.append(agent.spec.id)  # it would review its own work
                continue
            about = f"{_who(view, agent.spec)} · {agent.state.value}"
            choices.append(Choice(agent.spec.id, agent.spec.name, about=about))
        if not choices:
            self.notify(
                f"No agent can take {record.spec.id}: every other one reviews it.", markup=False
            )
            return
        prompt = f"{record.spec.id} is {record.spec.assignee}'s now."
        if left_out:
            prompt += f" Not offered, as they review it: {', '.join(left_out)}."

        def picked(choice: Picked | None) -> None:
            if choice is not None:
                self.submit(
                    ReassignCommand(
                        escalation_id=esc_id, task_id=record.spec.id, agent=choice.id, **stamp()
                    )
                )

        self.app.push_screen(
            AlternativesScreen(f"Reassign {record.spec.id} to…", choices, prompt=prompt), picked
        )

    # -- screen-wide actions -------------------------------------------------------------------

    def action_clarify_vision(self) -> None:
        from podium.tui.screens.clarify_vision import ClarifyVisionScreen

        if self.view.vision is None:
            self.notify("This production has no vision yet.", markup=False)
            return

        def amend(change: VisionChange | None) -> None:
            if change is not None:  # checked by the dialog as the engine checks it
                fields = {
                    "section": change.section,
                    "value": change.value,
                    "rerun": change.rerun,
                    "reason": change.reason,
                }
                self.submit(ClarifyVisionCommand.model_validate(stamp() | fields))

        self.app.push_screen(ClarifyVisionScreen(self.view), amend)

    def action_adjust_constraints(self, escalation_id: str | None = None) -> None:
        from podium.tui.screens.adjust_constraints import AdjustConstraintsScreen

        constraints = self.view.constraints
        if constraints is None:
            return

        def adjust(result: ChangedConstraints | None) -> None:
            if result is not None:  # checked by the dialog as the engine checks them
                changes = ConstraintChanges.model_validate(result.changes)
                command = AdjustConstraintsCommand(
                    escalation_id=escalation_id, changes=changes, **stamp()
                )
                self.submit(command)

        self.app.push_screen(AdjustConstraintsScreen(constraints), adjust)

    def action_inbox(self, action: str) -> None:
        """An inbox key pressed where there is nothing of its own to act on."""
        chosen = Action(action)
        item = self._selected["escalation"]
        escalation = self.view.escalations.get(item or "")
        if escalation is None or not escalation.open:
            self.notify(
                f"Nothing waits in the inbox to {chosen.value.replace('_', ' ')}. In the task "
                "tree, a o n r s act on the task under the cursor.",
                markup=False,
            )
            return
        verb = chosen.value.replace("_", " ")
        self.notify(f"{verb} (the inbox item): {flatten(escalation.title)}", markup=False)
        self.act(chosen, escalation_id=escalation.id)

    def action_pause(self) -> None:
        self.submit(new_command(Action.RESUME if self.view.paused else Action.PAUSE))
