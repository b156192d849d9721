"""Is this folder a LoRA adapter of the loaded base? Checked before PEFT touches the model, so a wrong folder is a
clear ValueError naming it instead of a half-loaded adapter or a size-mismatch traceback.

"Of this base" means: every module the adapter's weights attach to exists in the base, with the same shape
(lora_A is r × in_features, lora_B is out_features × r), and every other saved tensor (modules_to_save copies)
has the shape of the base's. The shapes are read from the safetensors header only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
_PREFIX = "base_model.model."  # how PEFT names saved keys: base_model.model.<module path>.lora_A.weight
_MAX_LISTED = 3  # problems named in an error message
_LORA_PARTS = ("lora_embedding_A", "lora_embedding_B", "lora_A", "lora_B", "lora_magnitude_vector")


def read_adapter_config(folder: Path) -> dict:
    """The adapter's config; ValueError naming the folder when it is not a LoRA adapter folder."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such adapter folder")
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        inner = folder / "adapter"  # a run folder: its final adapter is in adapter/
        hint = f" (did you mean {inner}?)" if (inner / CONFIG_FILE).is_file() else ""
        raise ValueError(f"{folder}: not a PEFT adapter folder (no {CONFIG_FILE}){hint}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder}: {CONFIG_FILE} cannot be read: {exc}") from exc
    if config.get("peft_type") != "LORA":
        raise ValueError(f"{folder}: a {config.get('peft_type')} adapter; the chat engine loads LoRA adapters only")
    return config


def tensor_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    """{key without PEFT's prefix: shape} of the weights file, read from its header (no tensor is loaded)."""
    from safetensors import safe_open

    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ValueError(f"{folder}: no {WEIGHTS_FILE} (adapters saved as .bin are not supported; re-save them "
                         "with safe_serialization=True)")
    try:
        with safe_open(str(weights), framework="pt") as handle:
            return {key.removeprefix(_PREFIX): tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except Exception as exc:  # noqa: BLE001 — safetensors raises its own SafetensorError, an Exception
        raise ValueError(f"{folder}: {WEIGHTS_FILE} cannot be read ({exc}); is the file complete?") from exc


def shape_problems(shapes: dict[str, tuple[int, ...]], base: Any) -> list[str]:
    """What in the adapter does not fit `base` (the transformers model; other adapters' PEFT layers allowed).

    LoRA tensors (<module>.lora_A.weight, …) must sit on a module whose shape they fit; any other tensor (a
    modules_to_save copy such as embed_tokens.weight) must have the shape of the base's tensor of that name."""
    modules = dict(base.named_modules())
    lora: dict[str, dict[str, tuple[int, ...]]] = {}
    problems = []
    for key, shape in sorted(shapes.items()):
        part = next((p for p in _LORA_PARTS if f".{p}" in key), None)
        if part is not None:
            lora.setdefault(key[:key.index(f".{part}")], {})[part] = shape
            continue
        path, _, attribute = key.rpartition(".")
        module = _original(modules.get(path))
        tensor = getattr(module, attribute, None) if module is not None else None
        if tensor is None or not hasattr(tensor, "shape"):
            problems.append(f"the base has no tensor {key}")
        elif getattr(tensor, "quant_state", None) is None and tuple(tensor.shape) != shape:  # 4-bit: packed shape
            problems.append(f"{key} is {list(shape)}, the base's is {list(tensor.shape)}")
    for name, parts in lora.items():
        module = modules.get(name)
        if module is None:
            problems.append(f"the base has no module {name}")
            continue
        expected = _expected_shapes(module, parts)
        for part, shape in sorted(parts.items()):
            if expected.get(part) is not None and shape != expected[part]:
                problems.append(f"{name}.{part} is {list(shape)}, the base needs {list(expected[part])}")
    return problems


def _original(module: Any) -> Any:
    """The base's own module under a modules_to_save wrapper of an adapter loaded earlier."""
    return getattr(module, "original_module", module) if module is not None else None


def _expected_shapes(module: Any, parts: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...] | None]:
    """The shapes the base module needs, using the adapter's own rank; none for a module type not known here."""
    fan_in, fan_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    rows, dim = getattr(module, "num_embeddings", None), getattr(module, "embedding_dim", None)
    expected: dict[str, tuple[int, ...] | None] = {}
    if "lora_A" in parts and fan_in is not None and fan_out is not None:
        rank = parts["lora_A"][0]
        expected.update(lora_A=(rank, fan_in), lora_B=(fan_out, rank), lora_magnitude_vector=(fan_out,))
    if "lora_embedding_A" in parts and rows is not None and dim is not None:
        rank = parts["lora_embedding_A"][0]
        expected.update(lora_embedding_A=(rank, rows), lora_embedding_B=(dim, rank))
    return expected


def check_adapter(folder: Path, base: Any, base_name: str) -> dict:
    """The adapter's config when `folder` holds a LoRA adapter that fits `base`; else a ValueError naming it."""
    config = read_adapter_config(folder)
    shapes = tensor_shapes(folder)
    if not any(f".{part}" in key for key in shapes for part in _LORA_PARTS):
        raise ValueError(f"{folder}: {WEIGHTS_FILE} holds no LoRA weights")
    problems = shape_problems(shapes, base)
    if problems:
        trained_on = config.get("base_model_name_or_path") or "an unknown model"
        listed = "; ".join(problems[:_MAX_LISTED]) + (f"; and {len(problems) - _MAX_LISTED} more"
                                                     if len(problems) > _MAX_LISTED else "")
        raise ValueError(f"{folder}: this adapter was trained on another base model ({trained_on}), it does not fit "
                         f"the loaded {base_name}: {listed}")
    return config
