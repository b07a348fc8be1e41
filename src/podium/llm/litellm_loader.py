"""Loading litellm: imported once, on first use, quieted; and the providers it routes,
remembered per litellm version so a model name is checked before a run without importing it.

litellm is heavy (~2.5 s to import) and chatty, so it is imported on the first call, in a worker
thread, with the local cost map and its output silenced.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from podium.llm.litellm_errors import MODEL_HINT
from podium.llm.types import is_rehearsal
from podium.locations import data_dir

_litellm: Any = None
_load_lock = threading.Lock()


def load_litellm() -> Any:
    """Import and quiet litellm once; safe to call from several threads."""
    global _litellm
    with _load_lock:
        if _litellm is not None:
            return _litellm
        # Offline-first: bundled price map and headers config, no fetch at import.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
        os.environ.setdefault("LITELLM_LOCAL_BLOG_POSTS", "True")
        # In its default DEV mode litellm's import loads a `.env` found above its install
        # folder (e.g. a project holding the venv) into the environment: keys come from the
        # environment the Orchestrator set, not from a file litellm happens to find.
        os.environ.setdefault("LITELLM_MODE", "PRODUCTION")
        litellm: Any = importlib.import_module("litellm")
        litellm.suppress_debug_info = True
        litellm.set_verbose = False
        litellm.turn_off_message_logging = True
        if hasattr(litellm, "telemetry"):
            litellm.telemetry = False
        for name in (
            "callbacks",
            "input_callback",
            "success_callback",
            "failure_callback",
            "service_callback",
            "audit_log_callbacks",
            "_async_input_callback",
            "_async_success_callback",
            "_async_failure_callback",
        ):
            if isinstance(getattr(litellm, name, None), list):
                setattr(litellm, name, [])
        # A log line on stderr would tear the TUI; only the critical ones get through.
        for name in list(logging.root.manager.loggerDict):
            if name.lower().startswith("litellm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        # What litellm and the openai client import on their first call (half a second
        # of imports), imported here in the worker thread instead of on the event loop,
        # where it would freeze the screen and count against the first call's timeout.
        for module in _FIRST_CALL_MODULES:
            try:
                importlib.import_module(module)
            except ImportError:
                pass
        _litellm = litellm
        remember_providers(litellm)
        return litellm


_FIRST_CALL_MODULES = (
    "openai.resources",
    "openai.resources.chat",
    "openai.resources.images",
    "anyio._backends._asyncio",
    "jiter",
    "litellm.litellm_core_utils.default_encoding",
    "litellm.llms.litellm_proxy",
    "litellm.proxy._types",
    "litellm._service_logger",
)


async def ensure_litellm() -> Any:
    """litellm, imported in a worker thread the first time (never on the event loop)."""
    if _litellm is not None:
        return _litellm
    return await asyncio.to_thread(load_litellm)


# --- the providers litellm routes, remembered per litellm version ---------------------------
# Checking a model name before a run needs only litellm's provider list, and importing litellm
# for it would put seconds before the first frame. The list is kept from the last import.


def providers_file() -> Path | None:
    try:
        version = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return None
    safe = re.sub(r"[^0-9A-Za-z.]+", "_", version)
    return data_dir() / "cache" / f"litellm-{safe}-providers.json"


def remember_providers(litellm: Any) -> None:
    """Best effort: without the file, the next check imports litellm as before."""
    path = providers_file()
    if path is None:
        return
    providers = sorted(str(getattr(p, "value", p)) for p in getattr(litellm, "provider_list", ()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(providers), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        pass


def remembered_provider(model: str) -> bool:
    """Whether the installed litellm routed this model's provider when last imported."""
    path = providers_file()
    if path is None or "/" not in model:
        return False
    try:
        providers = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(providers, list) and model.split("/", 1)[0] in providers


def unknown_model_reason(model: str) -> str | None:
    """Why litellm cannot route this model string, or None when it can (checked before a run).

    A provider the installed litellm was seen to route needs no import; otherwise this
    imports litellm (synchronously): call it where a pause of a few seconds is fine.
    """
    if is_rehearsal(model) or remembered_provider(model):
        return None
    litellm = load_litellm()
    try:
        litellm.get_llm_provider(model=model)
    except Exception:
        return f"unknown model {model!r}: {MODEL_HINT}"
    return None
