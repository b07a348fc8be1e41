"""The gateway: one object the engine calls for every model, routing each request to a backend.

It is a factory over backends: a model named `rehearsal/<anything>` goes to the rehearsal model,
any other to litellm: in the provider worker process (`ProcessBackend`, its streams parsed off
this process's loop) or in this process (`LiteLLMBackend`), as the model's `stream_worker`
setting says, else `PODIUM_STREAM_WORKER`, else the worker process. A backend is made on first
use by its factory, which imports it there, so litellm is imported only for a real model. The
request, result and error types are in `podium.llm.types`; the backends import those, never
this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from podium.domain.production import ModelSettings, RehearsalSettings, StreamWorker
from podium.llm.types import (
    Backend,
    CompletionRequest,
    CompletionStream,
    ImageRequest,
    ImageResult,
    is_rehearsal,
)

__all__ = ["Gateway", "stream_worker_for"]

STREAM_WORKER_ENV = "PODIUM_STREAM_WORKER"
DEFAULT_STREAM_WORKER = StreamWorker.PROCESS


def stream_worker_for(settings: ModelSettings | None) -> StreamWorker:
    """Where a real model's streams are parsed: its setting, else the environment's, else the
    default (an unknown value in the environment is the default too)."""
    if settings is not None and settings.stream_worker is not None:
        return settings.stream_worker
    value = os.environ.get(STREAM_WORKER_ENV, "").strip().lower()
    try:
        return StreamWorker(value) if value else DEFAULT_STREAM_WORKER
    except ValueError:
        return DEFAULT_STREAM_WORKER


def _rehearsal_backend(settings: RehearsalSettings) -> Backend:
    from podium.llm.rehearsal.backend import RehearsalBackend

    return RehearsalBackend(settings)


def _litellm_backend(settings: Mapping[str, ModelSettings]) -> Backend:
    from podium.llm.litellm_backend import LiteLLMBackend

    return LiteLLMBackend(settings)


def _process_backend(settings: Mapping[str, ModelSettings]) -> Backend:
    from podium.llm.worker_backend import ProcessBackend

    return ProcessBackend(settings)


class Gateway:
    """Routes each request to its backend, made (and imported) the first time a model needs it."""

    def __init__(
        self,
        rehearsal: RehearsalSettings | None = None,
        settings: Mapping[str, ModelSettings] | None = None,
    ) -> None:
        rehearsal_settings = rehearsal or RehearsalSettings()
        model_settings = dict(settings or {})
        self._factories: dict[str, Callable[[], Backend]] = {
            "rehearsal": lambda: _rehearsal_backend(rehearsal_settings),
            "litellm": lambda: _litellm_backend(model_settings),
            "process": lambda: _process_backend(model_settings),
        }
        self._settings = model_settings
        self._backends: dict[str, Backend] = {}  # made so far, by factory name

    def backend_for(self, model: str) -> Backend:
        if is_rehearsal(model):
            name = "rehearsal"
        elif stream_worker_for(self._settings.get(model)) is StreamWorker.PROCESS:
            name = "process"
        else:
            name = "litellm"
        backend = self._backends.get(name)
        if backend is None:
            backend = self._backends[name] = self._factories[name]()
        return backend

    def warm(self, models: Iterable[str]) -> None:
        """Make the backends these models use now (a production opening), so no call pays for
        it inside the run: the rehearsal model's modules imported, the provider worker started
        (litellm imported there in the background). Best effort: a backend that cannot start
        says so on its first call, as without the warm-up."""
        for model in sorted(set(models)):
            try:
                backend = self.backend_for(model)
                warm = getattr(backend, "warm", None)
                if callable(warm):
                    warm()
            except Exception:  # noqa: BLE001 - said on the first call instead
                continue

    @property
    def made(self) -> frozenset[str]:
        """The backends made so far, by name (rehearsal, process, litellm)."""
        return frozenset(self._backends)

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return self.backend_for(request.model).complete(request)

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        return await self.backend_for(request.model).generate_image(request)
