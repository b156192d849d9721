"""The model a run trains: the base loaded as the recipe says (16/32-bit, or 4-bit NF4/FP4 for QLoRA), with LoRA
adapters attached for lora/qlora, and every weight trainable for full fine-tuning."""

from __future__ import annotations

from typing import Any

from studio.config import Recipe
from studio.models import load_model, torch_dtype
from studio.train.builders import bnb_config, lora_config
from studio.train.ranks import local_rank


def compute_dtype(recipe: Recipe, precision: str) -> Any:
    import torch

    if recipe.method == "qlora" and recipe.quant.compute_dtype != "auto":
        return torch_dtype(recipe.quant.compute_dtype)
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)


def build_model(recipe: Recipe, cuda: bool, precision: str) -> Any:
    """The trainable model; for lora/qlora a PeftModel whose base weights are frozen."""
    from dataclasses import replace

    from peft import get_peft_model, prepare_model_for_kbit_training

    cfg = recipe.model
    if cfg.dtype == "auto" and not cuda:
        cfg = replace(cfg, dtype="float32")  # the CPU has no fast 16-bit matmuls; fp32 is the sane default there
    quant = bnb_config(recipe, compute_dtype(recipe, precision)) if recipe.method == "qlora" else None
    # A 4-bit model is placed while it loads: on this process's own GPU (one per rank in a multi-GPU run).
    device_map = ({"": local_rank()} if cuda else "cpu") if quant is not None else None
    model = load_model(cfg, quantization_config=quant, device_map=device_map)
    _apply_rope_scaling(model, recipe)
    model.config.use_cache = False  # the KV cache is useless in training and breaks gradient checkpointing
    if recipe.method == "full":
        model.train()
        return model
    if quant is not None:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=recipe.batch.gradient_checkpointing,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    elif recipe.batch.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: checkpointed blocks need an input that has grad
    model = get_peft_model(model, lora_config(recipe))
    model.train()
    return model


def _apply_rope_scaling(model: Any, recipe: Recipe) -> None:
    """RoPE scaling from the recipe; set on the config so the saved adapter's base config documents it."""
    if recipe.model.rope_scaling == "none":
        return
    rope = dict(getattr(model.config, "rope_parameters", None) or {})
    rope.update(rope_type=recipe.model.rope_scaling, factor=recipe.model.rope_factor)
    model.config.rope_parameters = rope


def trainable_summary(model: Any) -> dict[str, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {"trainable_params": trainable, "total_params": total}
