"""The gateway: one object the engine calls for every model, routing each request to a backend.

It is a factory over backends: a model named `rehearsal/<anything>` goes to the rehearsal model,
any other to litellm. A backend is made on first use by its factory, which imports it there, so
litellm is imported only for a real model. The request, result and error types are in
`podium.llm.types`; the backends import those, never this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from podium.domain.production import ModelSettings, RehearsalSettings
from podium.llm.types import (
    Backend,
    CompletionRequest,
    CompletionStream,
    ImageRequest,
    ImageResult,
    is_rehearsal,
)

__all__ = ["Gateway"]


def _rehearsal_backend(settings: RehearsalSettings) -> Backend:
    from podium.llm.rehearsal.backend import RehearsalBackend

    return RehearsalBackend(settings)


def _litellm_backend(settings: Mapping[str, ModelSettings]) -> Backend:
    from podium.llm.litellm_backend import LiteLLMBackend

    return LiteLLMBackend(settings)


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
        }
        self._backends: dict[str, Backend] = {}  # made so far, by factory name

    def backend_for(self, model: str) -> Backend:
        name = "rehearsal" if is_rehearsal(model) else "litellm"
        backend = self._backends.get(name)
        if backend is None:
            backend = self._backends[name] = self._factories[name]()
        return backend

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return self.backend_for(request.model).complete(request)

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        return await self.backend_for(request.model).generate_image(request)
