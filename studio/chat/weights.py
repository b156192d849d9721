"""The weights behind a chat engine: the base model (full precision or 4-bit NF4) placed on one device, and LoRA
adapters attached to it or taken off again, leaving no trace of a failed or removed adapter in the base."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.config import ModelConfig


def resolve_device(device: str) -> str:
    """"cpu" or "cuda:N" for "auto", "cpu", "cuda" or "cuda:N"; ValueError for a GPU that is not there."""
    import torch

    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for but no CUDA GPU is visible; use 'auto' or 'cpu'")
        return "cuda:0" if device == "cuda" else device
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def load_base(cfg: ModelConfig, load_in_4bit: bool, device: str) -> Any:
    """The base causal LM in eval mode on `device`, through `studio.models.load_model` like every model load."""
    from studio.models import load_model, torch_dtype

    if cfg.dtype == "auto" and device == "cpu":
        cfg = replace(cfg, dtype="float32")  # "auto" means bf16 when a GPU exists, even if the CPU was asked for
    quant = None
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch_dtype(cfg.dtype))
    # Placed at load time: 4-bit weights cannot be moved afterwards, and loading straight onto the GPU never
    # holds a second copy in host memory.
    model = load_model(cfg, quantization_config=quant, device_map="cpu" if device == "cpu" else {"": device})
    if load_in_4bit and device == "cpu":
        _own_unquantized(model)
    return model


def _own_unquantized(model: Any) -> None:
    """Copy the tensors a 4-bit load left unquantized (embeddings, norms) out of the weights file.

    On the CPU they stay views into the memory-mapped safetensors file, and one view keeps the whole mapping —
    every full-precision weight read while quantizing — in the process's RSS (measured: +390 MiB for a 107M
    model, more than the 4-bit weights themselves; benchmarks/chat_memory.py)."""
    from bitsandbytes.nn import Params4bit

    for param in model.parameters():  # tied weights are one Parameter, listed once: the tie survives
        if not isinstance(param, Params4bit):
            param.data = param.data.clone()
    for buffer in model.buffers():
        buffer.data = buffer.data.clone()


def transformers_model(model: Any) -> Any:
    """The transformers model under a PeftModel (or the model itself)."""
    from peft import PeftModel

    return model.get_base_model() if isinstance(model, PeftModel) else model


def attach_adapter(model: Any, folder: Path, peft_name: str) -> Any:
    """`model` with the adapter in `folder` loaded as `peft_name`: the first one wraps the base in a PeftModel,
    later ones use load_adapter. ValueError naming the folder when PEFT fails; a later adapter's partial load is
    deleted again, and `has_peft_layers` tells whether a failed first one left layers in the base."""
    import torch
    from peft import PeftModel

    first = not isinstance(model, PeftModel)
    try:
        if first:
            model = PeftModel.from_pretrained(model, str(folder), adapter_name=peft_name, is_trainable=False)
        else:
            model.load_adapter(str(folder), adapter_name=peft_name, is_trainable=False)
    except torch.OutOfMemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 — any failure of a load (a corrupt file, …) is this folder's fault
        if not first and peft_name in model.peft_config:
            model.delete_adapter(peft_name)
        raise ValueError(f"{folder}: PEFT could not load this adapter: {exc}") from exc
    return model.eval()


def has_peft_layers(model: Any) -> bool:
    """Whether PEFT layers (LoRA layers, modules_to_save copies) are in `model`."""
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils.other import AuxiliaryTrainingWrapper

    return any(isinstance(m, (BaseTunerLayer, AuxiliaryTrainingWrapper)) for m in model.modules())


def detach_adapter(model: Any, peft_name: str, last: bool) -> Any:
    """`model` without the adapter; removing the last one unwraps the PeftModel and takes its LoRA layers out."""
    if last:
        return model.unload()
    model.delete_adapter(peft_name)
    return model
