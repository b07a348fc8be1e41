"""`podium decide`'s entry: `edit` on an escalation is the plan escalation's edit, which opens
the plan in an editor or reads it from `--file` (`podium.cli.edit.edit_plan`); every other
action is `podium.cli.decide.decide`'s."""

from __future__ import annotations

import argparse

from podium.cli.decide import decide as _decide
from podium.cli.edit import edit_plan


def decide(args: argparse.Namespace) -> int:
    action = str(args.action).replace("-", "_")
    if action in ("edit", "edit_plan") and args.escalation_id not in ("-", ""):
        return edit_plan(args)
    return _decide(args)
