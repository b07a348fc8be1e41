"""A model's context window from litellm's model map, read without importing litellm.

litellm's `get_model_info` reads its bundled model map (podium keeps litellm offline-first:
`LITELLM_LOCAL_MODEL_COST_MAP`, so the bundled file is the map it uses). Importing litellm for
it costs seconds of CPU, and a model whose streams are parsed in the provider worker does not
need litellm in this process at all: the file is read here (once, about 3 MB of JSON) and
looked up the way litellm looks up a model name: the name itself, then the name after its
provider's prefix among that provider's entries.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

__all__ = ["MAP_FILE", "max_input_tokens", "model_map"]

MAP_FILE = "model_prices_and_context_window_backup.json"
_lock = threading.Lock()
_map: dict[str, Any] | None = None


def _map_path() -> Path | None:
    try:
        found = importlib.util.find_spec("litellm")  # finds the package; does not import it
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for folder in found.submodule_search_locations:
        path = Path(folder) / MAP_FILE
        if path.is_file():
            return path
    return None


def model_map() -> dict[str, Any]:
    """litellm's bundled model map ({} when litellm or its map is not installed); read once,
    from any thread."""
    global _map
    with _lock:
        if _map is None:
            path = _map_path()
            loaded: Any = {}
            if path is not None:
                try:
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    loaded = {}
            _map = loaded if isinstance(loaded, dict) else {}
        return _map


def _provider_matches(entry: dict[str, Any], provider: str) -> bool:
    """litellm's rule for an entry found under the bare name (`_check_provider_match`)."""
    listed = entry.get("litellm_provider")
    if listed is None or listed == provider:
        return True
    if not isinstance(listed, str):
        return False
    for family in ("vertex_ai", "fireworks_ai", "bedrock"):
        if provider.startswith(family) and listed.startswith(family):
            return True
    if provider == "azure_ai":
        return listed in ("azure", "openai")
    return provider in ("litellm_proxy", "github")


@functools.lru_cache(maxsize=256)
def max_input_tokens(model: str) -> int | None:
    """The model's input window (`max_input_tokens`, else `max_tokens`) in litellm's map, or
    None when the map does not know the model."""
    known = model_map()
    candidates: list[tuple[str, str | None]] = [(model, None)]
    if "/" in model:
        prefix, bare = model.split("/", 1)
        candidates.append((bare, prefix))
    for name, provider in candidates:
        entry = known.get(name)
        if not isinstance(entry, dict):
            continue
        if provider is not None and not _provider_matches(entry, provider):
            continue
        size = entry.get("max_input_tokens") or entry.get("max_tokens")
        if isinstance(size, int) and size > 0:
            return size
        return None
    return None
