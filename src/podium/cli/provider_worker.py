"""The provider worker process's entry (issue 20): `podium.llm.worker_backend` starts a Python
running `main`, which serves the parent's model calls (`podium.llm.worker`).

Garbage-collector policy is a process entry's to set, so it is set here: collection is off
while the worker imports podium's modules and litellm (an import makes objects and frees next
to none; collecting during it cost a third of the worker's start, 2.5-3.2 s against 1.7-1.9 s),
then what was imported is frozen (`gc.freeze`: the collections while calls stream no longer
walk litellm's modules) and collection is on again.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from podium.llm.worker_backend import serve_warm

    serve_warm(imported=collect_again)


def collect_again() -> None:
    """litellm is in (or failed to import): freeze what was imported, collect again."""
    gc.freeze()
    gc.enable()
