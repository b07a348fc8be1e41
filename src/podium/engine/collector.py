"""The cyclic garbage collector's pace while a run is under way.

A run keeps thousands of young objects alive at once (each task's coroutine frames, request,
stream and events) and makes new ones quickly. At CPython's default pace, a young collection
every 700 new objects and an older one every tenth, the collector scans those survivors again
and again: about a fifth of the CPU of 2,000 concurrent tasks, for nothing, since reference
counting frees nearly everything a run makes and a run makes few cycles. So while any run is
under way the young generation may grow to RUN_THRESHOLD objects before it is collected; the
collector is never switched off, and its previous pace returns when the last run ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

RUN_THRESHOLD = 10_000

_runs = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def run_pace() -> Iterator[None]:
    """Collect young objects every RUN_THRESHOLD allocations inside this block (nestable)."""
    global _runs, _saved
    if _runs == 0:
        first, second, third = gc.get_threshold()
        if 0 < first < RUN_THRESHOLD:  # 0: collection is off, and stays as it was set
            _saved = (first, second, third)
            gc.set_threshold(RUN_THRESHOLD, second, third)
    _runs += 1
    try:
        yield
    finally:
        _runs -= 1
        if _runs == 0 and _saved is not None:
            if gc.get_threshold() == (RUN_THRESHOLD, *_saved[1:]):  # nobody changed it since
                gc.set_threshold(*_saved)
            _saved = None
