"""The reply protocol beyond the work itself: an agent may claim a territory for its work, or ask
the Orchestrator a question before going on.

A task's reply schema is its content schema with two optional fields (`reply_schema`), so the
prompt's schema and a provider's structured output both offer them:

* `territory`: the decision territory the agent claims for this work (it only ever raises the
  decision: see `podium.domain.policy.classify`);
* `question`: `{text, options[]}`, a question for the Orchestrator (the seed's Vision
  Clarification: "tension or intimacy?"). It becomes an escalation offering the agent's options;
  the answer is recorded (`podium.domain.events.Clarified`) and given to the task's next run.
"""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar, cast

from pydantic import BaseModel, Field, create_model

from podium.domain.base import Frozen
from podium.domain.policy import Territory

M = TypeVar("M", bound=BaseModel)
PROTOCOL_FIELDS = ("territory", "question")
MAX_OPTIONS = 6


class Question(Frozen):
    """A question an agent asks the Orchestrator before it goes on."""

    text: str = Field(min_length=1, max_length=600)
    options: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)


@functools.cache
def reply_schema(content: type[BaseModel]) -> type[BaseModel]:
    """`content` with the protocol's optional fields; built once per class."""
    if all(name in content.model_fields for name in PROTOCOL_FIELDS):
        return content
    fields: dict[str, Any] = {
        "territory": (
            Territory | None,
            Field(default=None, description="Claim a decision territory for this work (optional)."),
        ),
        "question": (
            Question | None,
            Field(
                default=None,
                description="Ask the Orchestrator before going on (optional): the question and "
                "the options you see.",
            ),
        ),
    }
    made = create_model(content.__name__, __base__=content, __module__=content.__module__, **fields)
    return cast(type[BaseModel], made)


def base_of(schema: type[BaseModel]) -> type[BaseModel]:
    """The content schema a reply schema was made from (`reply_schema`); else `schema`."""
    base = schema.__bases__[0] if schema.__bases__ else schema
    if (
        issubclass(base, BaseModel)
        and base is not BaseModel
        and all(f in schema.model_fields for f in PROTOCOL_FIELDS)
        and not any(f in base.model_fields for f in PROTOCOL_FIELDS)
    ):
        return base
    return schema


def content_of(reply: M, content: type[M]) -> M:
    """The work alone: a reply parsed with `reply_schema(content)` without the protocol's fields."""
    if type(reply) is content:
        return reply
    return content.model_validate(reply.model_dump(mode="json", exclude=set(PROTOCOL_FIELDS)))


def reply_object(text: str) -> dict[str, Any] | None:
    """The reply's JSON object, parsed once for the protocol's fields (`question_in`, and
    `podium.engine.reply.territory_in`); None when the text names neither field (not even
    \\u-escaped: then it is not parsed at all) or is not a JSON object. A Markdown fence around
    it is taken off."""
    if '"question"' not in text and "territory" not in text and "\\u" not in text:
        return None
    try:
        data = json.loads(strip_fences(text))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def strip_fences(text: str) -> str:
    """The reply without a Markdown code fence around it, if it has one."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return body


def asked(text: str) -> Question | None:
    """The question a reply asks (`"question": {"text": …, "options": […]}`), if any."""
    return question_in(reply_object(text))


def question_in(data: dict[str, Any] | None) -> Question | None:
    """The question in a reply's JSON object (`reply_object`), if it asks a valid one."""
    raw = data.get("question") if data is not None else None
    if not isinstance(raw, dict):
        return None
    options = raw.get("options")
    try:
        return Question(
            text=str(raw.get("text", "")).strip(),
            options=[str(o).strip() for o in options if str(o).strip()][:MAX_OPTIONS]
            if isinstance(options, list)
            else [],
        )
    except ValueError:
        return None
