"""Messages that travel up from a pane to the screen, which routes them (messages up), and
the one that brings the production's changes down to the screen."""

from __future__ import annotations

from textual.message import Message

from podium.domain.escalation import Action
from podium.seam.stream import ChangeSet


class Intent(Message):
    """The Orchestrator pressed an action key on a pane; the screen turns it into a command."""

    def __init__(
        self,
        action: Action,
        *,
        task_id: str | None = None,
        escalation_id: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.task_id = task_id
        self.escalation_id = escalation_id
        self.agent_id = agent_id


class DetailsRequested(Message):
    """`enter` on a pane: show everything about the selected item."""

    def __init__(
        self,
        *,
        task_id: str | None = None,
        escalation_id: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.escalation_id = escalation_id
        self.agent_id = agent_id


class Selected(Message):
    """The cursor of a pane moved to an item; only the latest one matters, so they coalesce."""

    def __init__(self, kind: str, item_id: str | None) -> None:
        super().__init__()
        self.kind = kind  # "task", "agent" or "escalation"
        self.item_id = item_id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Selected) and message.kind == self.kind


class Changed(Message, bubble=False):
    """What changed in the production since the last one (the app's change worker posts it
    to the conductor's screen; nothing above it listens, so it does not bubble)."""

    def __init__(self, changes: ChangeSet) -> None:
        super().__init__()
        self.changes = changes
