"""The offline catalogue of model configs, and `load_model_config` for any model reference.

`configs/*.json` holds the architecture numbers of popular base models (from their published `config.json`), keyed
by Hub id in the `_id` field, so the VRAM estimate works without a network. A reference can also be a local model
folder, a `config.json` path or `bundled:demo-model`. A Hub id outside the catalogue is fetched (config.json only,
never weights) when the Hub is reachable; offline it fails with a message that says what to do instead.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.config import BUNDLED_PREFIX
from studio.estimate.model_shape import ModelShape, shape_from_config

CONFIG_DIR = Path(__file__).with_name("configs")


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, Any]]:
    """Hub id (lower case) -> config dict, read once from configs/*.json."""
    table: dict[str, dict[str, Any]] = {}
    for path in sorted(CONFIG_DIR.glob("*.json")):
        cfg = json.loads(path.read_text(encoding="utf-8"))
        table[cfg["_id"].lower()] = cfg
    return table


def catalogue_ids() -> list[str]:
    """Hub ids in the offline catalogue, sorted."""
    return sorted(cfg["_id"] for cfg in _catalogue().values())


# Chat and instruction-tuned releases share their base model's architecture (same shapes, same vocabulary size).
_VARIANT_SUFFIXES = (("-chat-hf", "-hf"), ("-instruct", ""), ("-chat", ""), ("-it", ""))


def _lookup(reference: str) -> dict[str, Any] | None:
    """Catalogue entry for a Hub id or its bare name, case-insensitively; instruct/chat variants map to their base."""
    table = _catalogue()
    key = reference.strip().lower()
    candidates = [key] + [key[: -len(suffix)] + base for suffix, base in _VARIANT_SUFFIXES if key.endswith(suffix)]
    for candidate in candidates:
        if candidate in table:
            return dict(table[candidate])
        by_name = [cfg for k, cfg in table.items() if k.split("/")[-1] == candidate]
        if len(by_name) == 1:
            return dict(by_name[0])
    return None


def _hub_reachable(timeout_s: float = 2.0) -> bool:
    """One TCP connect to the Hub: offline, huggingface_hub would retry for ~20 s before giving up."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err


def _fetch_from_hub(repo_id: str) -> dict[str, Any]:
    """Download config.json only; any failure (offline, gated, missing) becomes one clear ValueError."""
    message = (f"{repo_id}: not in the offline catalogue ({len(_catalogue())} models; see "
               "studio.estimate.catalogue.catalogue_ids()) and config.json could not be fetched from the Hub; "
               "pass a local config.json or model folder instead")
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False") or not _hub_reachable():
        raise ValueError(message)
    try:
        from huggingface_hub import hf_hub_download

        return _read_json(Path(hf_hub_download(repo_id, "config.json")))
    except Exception as err:
        raise ValueError(f"{message} ({type(err).__name__})") from err


def load_model_config(reference: str) -> dict[str, Any]:
    """The config.json dict for a catalogue Hub id, a local folder, a config.json path or bundled:demo-model.

    Never loads weights. Raises ValueError (unknown Hub id offline, bad JSON) or FileNotFoundError (bad path).
    """
    ref = reference.strip()
    if ref.startswith(BUNDLED_PREFIX):
        from studio.models import resolve_model

        return _read_json(Path(resolve_model(ref).location) / "config.json")
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{ref}: this folder has no config.json")
        return _read_json(path / "config.json")
    if path.is_file():
        return _read_json(path)
    found = _lookup(ref)
    if found is not None:
        return found
    if ref.startswith((".", "/", "~")) or ref.endswith(".json"):
        raise FileNotFoundError(f"{ref}: no such file or folder")
    return _fetch_from_hub(ref)


def load_shape(reference: str) -> ModelShape:
    """`load_model_config` then `shape_from_config`."""
    return shape_from_config(load_model_config(reference))
