"""A stream whose chunks arrived together gives the event loop back while it parses them.

litellm and the openai client suspend only to read the socket, and one read can hold hundreds
of chunks: parsed back to back, they would hold the loop (the screen's keys, the other agents'
streams) for as long as they take. The stream layer turns the loop every TURN_CHUNKS chunks
in a row (or TURN_S of parsing), so here a stand-in for litellm whose chunks never suspend
still lets another task run while the reply streams.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from podium.domain.production import ModelSettings
from podium.llm import litellm_stream
from podium.llm.litellm_books import Books
from podium.llm.litellm_stream import Ask
from podium.llm.types import CompletionRequest, Message

CHUNKS = 200


class BufferedReply:
    """litellm's stream wrapper over a reply already in memory: no chunk ever suspends."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    def __aiter__(self) -> BufferedReply:
        return self

    async def __anext__(self) -> Any:
        if not self.pieces:
            raise StopAsyncIteration
        text = self.pieces.pop(0)
        delta = SimpleNamespace(content=text)
        finish = "stop" if not self.pieces else None
        return SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish)])


class BufferedLitellm:
    async def acompletion(self, **kwargs: Any) -> BufferedReply:
        return BufferedReply([f"w{i} " for i in range(CHUNKS)])


async def test_a_buffered_reply_lets_other_tasks_run_while_it_streams() -> None:
    model = "openai/fake-model"
    settings = ModelSettings()
    request = CompletionRequest(
        model=model,
        messages=(Message("user", "Write."),),
        agent_id="writer",
        task_id="t1",
    )
    fake = BufferedLitellm()
    ask = Ask(fake, request, settings, None, [], Books(fake, model, settings), None)
    turns = 0
    streaming = True

    async def count_turns() -> None:
        nonlocal turns
        while streaming:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)  # the counter is running
    turns = 0
    out: list[str] = []
    received = [
        piece async for piece in ask.reply([{"role": "user", "content": "Write."}], None, out)
    ]
    streaming = False
    await counter

    assert "".join(received) == out[0] == "".join(f"w{i} " for i in range(CHUNKS))
    # At least one turn of the loop for every TURN_CHUNKS chunks parsed back to back.
    assert turns >= CHUNKS // litellm_stream.TURN_CHUNKS - 1
