"""Where a model comes from (bundled demo, local folder or Hub id) and how its tokenizer and weights are loaded.

Every part of the studio that loads a model goes through here, so `trust_remote_code`, the revision and the dtype
rule are applied the same way by the trainer, the chat engine and the quality tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.assets import resolve_bundled
from studio.config import BUNDLED_PREFIX, ModelConfig

# Hub ids are "name" or "org/name" with letters, digits, '-', '_' and '.'; anything else must be a local folder.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


@dataclass(frozen=True)
class ModelSource:
    reference: str  # what the user wrote
    location: str  # a folder path or a Hub id, as transformers takes it
    is_local: bool


def resolve_model(reference: str) -> ModelSource:
    """Decide what `reference` names; a local folder wins over a Hub id of the same spelling."""
    ref = reference.strip()
    if ref.startswith(BUNDLED_PREFIX):
        folder = resolve_bundled(ref)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"{ref}: the bundled model is missing at {folder}; rebuild it with "
                                    "`python -m studio.assets.build_demo_model`")
        return ModelSource(reference, str(folder), True)
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{ref}: this folder has no config.json, so it is not a model folder "
                                    "(pick the folder that holds config.json and the weights)")
        return ModelSource(reference, str(path.resolve()), True)
    if ref.startswith((".", "/", "~")) or not _HUB_ID.match(ref):
        raise FileNotFoundError(f"{ref}: no such model folder, and not a Hub id (org/name)")
    return ModelSource(reference, ref, False)


def torch_dtype(name: str) -> Any:
    """The torch dtype for a recipe dtype name; 'auto' means bf16 on GPUs that support it, else fp32."""
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def _common_kwargs(cfg: ModelConfig, source: ModelSource) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"trust_remote_code": cfg.trust_remote_code}
    if cfg.revision and not source.is_local:
        kwargs["revision"] = cfg.revision
    return kwargs


def load_tokenizer(cfg: ModelConfig) -> Any:
    from transformers import AutoTokenizer

    source = resolve_model(cfg.name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(source.location, **_common_kwargs(cfg, source))
    if tokenizer.pad_token is None:
        # Padding is masked out of losses, so reusing EOS as padding changes no result.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(cfg: ModelConfig, quantization_config: Any = None, device_map: Any = None) -> Any:
    """The causal LM in eval mode; pass a BitsAndBytesConfig for 4-bit weights."""
    from transformers import AutoModelForCausalLM

    source = resolve_model(cfg.name_or_path)
    kwargs = _common_kwargs(cfg, source)
    kwargs.update(dtype=torch_dtype(cfg.dtype), attn_implementation=cfg.attn_implementation)
    if quantization_config is not None:
        kwargs["quantization_config"] = quantization_config
    if device_map is not None:
        kwargs["device_map"] = device_map
    model = AutoModelForCausalLM.from_pretrained(source.location, **kwargs)
    return model.eval()
