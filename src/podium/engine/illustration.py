"""Illustration: an illustration brief drawn by the production's image model.

The call holds a slot of the one call limiter like any completion, is retried like one, and is
booked as a `CallFinished` of purpose "image"; the file lands beside the database and the
brief points at it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from podium.domain.artifacts import IllustrationBrief
from podium.domain.events import CallFinished
from podium.domain.state import TaskRecord
from podium.domain.text import sanitize
from podium.engine.calls import wait_asked
from podium.engine.errors import TaskFailure
from podium.engine.port import EnginePort
from podium.llm.gateway import Gateway
from podium.llm.types import ImageRequest, ImageResult, LLMError


class Illustrator:
    def __init__(self, engine: EnginePort, gateway: Gateway, folder: Path) -> None:
        self.engine = engine
        self.gateway = gateway
        self.folder = folder  # where the images go: beside the database

    async def illustrate(
        self, record: TaskRecord, agent_id: str, brief: IllustrationBrief
    ) -> IllustrationBrief:
        """Draw the brief with the production's image model; the file lands beside the
        database and the brief points at it. Retried like any call; then on_failure decides."""
        engine = self.engine
        model = engine.spec.models.image or ""
        prompt = brief.plain_text()[:4000]
        limits = engine.limits
        for retry in range(limits.retries + 1):
            started = time.monotonic()
            try:
                async with engine.calls.hold(agent_id, model):  # the one limiter, as `_stream`
                    started = time.monotonic()
                    image = await self.gateway.generate_image(
                        ImageRequest(
                            model=model, prompt=prompt, agent_id=agent_id, task_id=record.spec.id
                        )
                    )
            except LLMError as error:
                self._image_call(record, agent_id, model, None, error, time.monotonic() - started)
                if not error.retryable or retry == limits.retries:
                    raise TaskFailure(error, retry + 1) from None
                try:
                    asked = wait_asked(error)
                except LLMError as too_long:
                    raise TaskFailure(too_long, retry + 1) from None
                await asyncio.sleep(max(asked or 0.0, limits.retry_backoff * 2**retry))
                continue
            self._image_call(record, agent_id, model, image, None, image.latency_s)
            suffix = {"image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}.get(
                image.mime_type, ".png"
            )
            folder = self.folder
            target = folder / f"{record.spec.id}-v{len(record.artifact_ids) + 1}{suffix}"
            await asyncio.to_thread(_write_file, target, image.data)
            return brief.model_copy(update={"image_path": str(target)})
        raise AssertionError("unreachable: the last retry raises")

    def _image_call(
        self,
        record: TaskRecord,
        agent_id: str,
        model: str,
        image: ImageResult | None,
        error: LLMError | None,
        latency_s: float,
    ) -> None:
        self.engine.emit(
            CallFinished(
                call_id=f"{record.spec.id}:{record.calls + 1}",
                task_id=record.spec.id,
                agent_id=agent_id,
                model=model,
                purpose="image",
                cost_usd=image.cost_usd if image else 0.0,
                latency_s=latency_s,
                ok=error is None,
                error_kind=error.kind.value if error else None,
                error=sanitize(error.message)[:500] if error else "",
            )
        )


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
