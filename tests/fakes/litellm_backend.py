"""The fake provider and a litellm backend pointed at it, shared by the litellm tests
(tests/unit/test_litellm_backend.py, test_litellm_replies.py).

One server per test module (litellm and its client are slow to set up), reset before and after
each test, answering `Reply()` unless a test scripts it. A test module loads the fixtures as a
plugin and makes its backends with `litellm_backends`:

    pytest_plugins = ("fakes.litellm_backend",)

    @pytest.fixture
    def make_backend(litellm_backends: Callable[..., MakeBackend]) -> MakeBackend:
        return litellm_backends("KEY_VARIABLE", "sk-…", [MODEL])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from fakes.openai_server import FakeOpenAI, Reply
from podium.domain.production import ModelSettings
from podium.llm.litellm_backend import LiteLLMBackend

MakeBackend = Callable[..., LiteLLMBackend]


@pytest.fixture(scope="module")
def shared_provider() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def provider(shared_provider: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The module's fake provider, as new: nothing scripted, nothing recorded."""
    shared_provider.reset()
    shared_provider.default = Reply()
    yield shared_provider
    shared_provider.reset()


@pytest.fixture
def litellm_backends(
    provider: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., MakeBackend]:
    """`litellm_backends(key_env, key, models, anthropic=())`: a `make(**settings)` making a
    backend whose `models` speak OpenAI's protocol at the fake's /v1 and whose `anthropic`
    models speak Anthropic's at its root, each with the key in `key_env` and the settings
    given (timeout_s 20 unless said)."""

    def maker(
        key_env: str, key: str, models: Iterable[str], *, anthropic: Iterable[str] = ()
    ) -> MakeBackend:
        monkeypatch.setenv(key_env, key)
        openai_models, anthropic_models = list(models), list(anthropic)

        def make(**overrides: Any) -> LiteLLMBackend:
            fields: dict[str, Any] = {
                "api_base": provider.api_base,
                "api_key_env": key_env,
                "timeout_s": 20.0,
                **overrides,
            }
            settings = ModelSettings.model_validate(fields)
            claude = ModelSettings.model_validate({**fields, "api_base": provider.url})
            return LiteLLMBackend(
                {
                    **dict.fromkeys(openai_models, settings),
                    **dict.fromkeys(anthropic_models, claude),
                }
            )

        return make

    return maker
