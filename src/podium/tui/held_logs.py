"""Log records held while the screen is up: written to stderr they would scribble over it."""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterator


class Held(logging.Handler):
    """Keeps the last warnings and errors, for `run_tui` to write out once the screen closes."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: deque[logging.LogRecord] = deque(maxlen=50)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def logs_held() -> Iterator[Held]:
    """The root logger's handlers are only `Held` inside; they are as they were after."""
    held = Held()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [held]
    try:
        yield held
    finally:
        root.handlers = saved
