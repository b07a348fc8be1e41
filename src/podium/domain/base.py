"""Shared pydantic base classes and small value types."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Model(BaseModel):
    """Strict model: unknown keys are errors, so a typo in a file never passes silently.

    Every podium model defers building its validator to its first use (`defer_build`): a
    process uses a few of the ~90 models, and building them all at import was a fifth of the
    time to the TUI's first frame.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=False, frozen=False, defer_build=True
    )


class Frozen(BaseModel):
    """Immutable record, for events and provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


_ID = r"^[a-z0-9][a-z0-9_\-]*$"

Identifier = Annotated[
    str,
    Field(pattern=_ID, min_length=1, max_length=64),
]
"""An id a human types: lower case letters, digits, '-' and '_'."""

_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^\s*(?:{_NUMBER}\s*h)?\s*(?:{_NUMBER}\s*m)?\s*(?:{_NUMBER}\s*s)?\s*$")


def parse_duration(value: Any) -> Any:
    """Accept seconds as a number or text like "90s", "45m", "2h", "1h30m"."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as 90, "90s", "45m" or "1h30m"')
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return hours * 3600 + minutes * 60 + seconds
        raise ValueError(f'{value!r} is not a duration; write e.g. "90s", "45m" or "1h30m"')
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
"""A positive duration in seconds, written as a number or as text like "45m"."""


def whole_number(value: Any) -> int | None:
    """A value a model or a file gave as a number (5, 5.0, "5"), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
