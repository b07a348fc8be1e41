"""Images through litellm: one request, no retry of litellm's or openai's own (the engine is
the only retry layer), the bytes checked before they are kept. A request with reference
pictures (character sheets) goes to the image edit endpoint where the model takes them
(`takes_references`), else it is a plain generation from the prompt."""

from __future__ import annotations

import base64
import io
import time
from typing import Any
from urllib.parse import urlsplit

from podium.domain.production import ModelSettings
from podium.llm.litellm_errors import classify, secrets_of
from podium.llm.types import FailureKind, ImageRequest, ImageResult, LLMError

_MAX_IMAGE_BYTES = 50 * 1024 * 1024


async def generate_image(
    litellm: Any, request: ImageRequest, settings: ModelSettings, key: str | None
) -> ImageResult:
    """One image through litellm (imported by the caller), with no retry of its own."""
    secrets = secrets_of(key)
    started = time.monotonic()
    client: Any = None
    try:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "size": request.size,
            "response_format": "b64_json",
            "timeout": settings.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,  # gpt-image-* always answer b64 and refuse the parameter
        }
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if key is not None:
            kwargs["api_key"] = key
        if request.references and takes_references(request.model):
            response = await _edit(litellm, request, kwargs)
        else:
            client = _no_retry_image_client(litellm, request.model, settings, key)
            if client is not None:
                kwargs["client"] = client
            response = await litellm.aimage_generation(**kwargs)
        items = list(getattr(response, "data", None) or ())
        if not items:
            raise LLMError(
                FailureKind.MALFORMED_OUTPUT,
                f"the provider returned no image ({request.model})",
                model=request.model,
            )
        item = items[0]
        b64 = getattr(item, "b64_json", None)
        url = getattr(item, "url", None)
        if b64:
            data = base64.b64decode(b64)
        elif url:
            data = await _fetch_image(str(url), settings, request.model)
        else:
            raise LLMError(
                FailureKind.MALFORMED_OUTPUT,
                f"the provider's image answer held no data ({request.model})",
                model=request.model,
            )
    except LLMError:
        raise
    except Exception as exc:
        raise classify(exc, request.model, settings, secrets) from None
    finally:
        if client is not None:
            await client.close()
    try:
        cost = litellm.completion_cost(
            completion_response=response,
            model=request.model,
            call_type="image_generation",
            size=request.size,
        )
    except Exception:
        cost = None
    return ImageResult(
        data=data,
        mime_type=_sniff_mime(data),
        model=request.model,
        cost_usd=float(cost) if cost else None,  # 0 here means "no price known"
        latency_s=time.monotonic() - started,
    )


MAX_REFERENCES = 4  # character sheets sent with one picture, at most


def takes_references(model: str) -> bool:
    """Whether podium sends reference pictures with a prompt to this model: OpenAI's
    gpt-image models, through the image edit endpoint (`/v1/images/edits`), which takes
    several input images. Any other model gets the prompt alone."""
    name = model.rsplit("/", 1)[-1].lower()
    provider = model.split("/", 1)[0].lower() if "/" in model else "openai"
    return provider in ("openai", "azure") and name.startswith("gpt-image")


async def _edit(litellm: Any, request: ImageRequest, kwargs: dict[str, Any]) -> Any:
    """The picture asked for with its references, through litellm's image edit (its HTTP
    handler makes one request: no retry of its own)."""
    images = []  # file objects: litellm 1.106's multipart writer reads them (not tuples)
    for n, data in enumerate(request.references[:MAX_REFERENCES]):
        file = io.BytesIO(data)
        file.name = f"reference-{n + 1}.png"
        images.append(file)
    edit = {
        k: v
        for k, v in kwargs.items()
        if k not in ("response_format", "max_retries", "drop_params")
    }
    return await litellm.aimage_edit(image=images, **edit)


def _no_retry_image_client(
    litellm: Any, model: str, settings: ModelSettings, key: str | None
) -> Any:
    """An openai client that cannot retry, for OpenAI-style image endpoints.

    litellm 1.106 drops `max_retries` on the image path and builds its openai client with two
    retries (it also resets `max_retries` on a client passed in), so the client's
    `max_retries` is pinned at 0 here. Other providers get litellm's own client.
    """
    try:
        _, provider, dynamic_key, dynamic_base = litellm.get_llm_provider(
            model=model, api_base=settings.api_base
        )
    except Exception:
        return None  # the call itself reports the bad model string
    if provider != "openai" and provider not in litellm.openai_compatible_providers:
        return None
    import openai

    class NoRetryClient(openai.AsyncOpenAI):
        @property
        def max_retries(self) -> int:
            return 0

        @max_retries.setter
        def max_retries(self, value: int) -> None:
            pass

    return NoRetryClient(
        api_key=key or dynamic_key,
        base_url=settings.api_base or dynamic_base,
        timeout=settings.timeout_s,
    )


async def _fetch_image(url: str, settings: ModelSettings, model: str) -> bytes:
    """Download an image the provider answered with a URL (https, or the api_base's own host)."""
    import httpx

    parts = urlsplit(url)
    base_host = urlsplit(settings.api_base).hostname if settings.api_base else None
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == base_host)):
        raise LLMError(
            FailureKind.MALFORMED_OUTPUT,
            f"the provider answered with an image address podium will not fetch ({model})",
            model=model,
        )
    async with httpx.AsyncClient(timeout=settings.timeout_s) as client:
        response = await client.get(url)
        response.raise_for_status()
        if len(response.content) > _MAX_IMAGE_BYTES:
            raise LLMError(
                FailureKind.MALFORMED_OUTPUT, f"the image is too large ({model})", model=model
            )
        return response.content


def _sniff_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"
