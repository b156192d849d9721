"""Recipe → library objects: PEFT's LoraConfig, bitsandbytes' BitsAndBytesConfig, transformers' TrainingArguments.

The recipe never reaches into library internals; these builders are the one place that knows the libraries' names
for the recipe's settings. The schedule mapping comes from `estimate.schedule` so the Configure tab's curve is the
one the trainer follows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.config import Recipe
from studio.estimate.schedule import HF_SCHEDULER, hf_warmup_steps

# Recipe optimizer → transformers OptimizerNames value.
HF_OPTIM = {"adamw_torch": "adamw_torch", "adamw_8bit": "adamw_bnb_8bit", "paged_adamw_8bit": "paged_adamw_8bit"}
ATTENTION_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]


def use_cuda(recipe: Recipe) -> bool:
    import torch

    if recipe.runtime.device == "cpu":
        return False
    if recipe.runtime.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("runtime.device is cuda but no CUDA GPU is visible; set runtime.device: auto or cpu")
    return torch.cuda.is_available()


def precision(recipe: Recipe, cuda: bool) -> str:
    """bf16, fp16 or fp32 for the run: auto is bf16 on GPUs that support it, fp16 on older GPUs, fp32 on the CPU."""
    import torch

    p = recipe.runtime.precision
    if p != "auto":
        return p
    if not cuda:
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def lora_config(recipe: Recipe) -> Any:
    from peft import LoraConfig

    targets = recipe.lora.target_modules
    if targets == ["attention"]:
        targets = ATTENTION_MODULES
    elif targets == ["all-linear"]:
        targets = "all-linear"
    return LoraConfig(r=recipe.lora.r, lora_alpha=recipe.lora.alpha, lora_dropout=recipe.lora.dropout,
                      target_modules=targets, use_rslora=recipe.lora.use_rslora, use_dora=recipe.lora.use_dora,
                      bias="none", task_type="CAUSAL_LM")


def bnb_config(recipe: Recipe, compute_dtype: Any) -> Any:
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=recipe.quant.quant_type,
                              bnb_4bit_use_double_quant=recipe.quant.double_quant,
                              bnb_4bit_compute_dtype=compute_dtype, bnb_4bit_quant_storage=compute_dtype)


def training_arguments(recipe: Recipe, output_dir: Path, cuda: bool, has_eval: bool) -> Any:
    from transformers import TrainingArguments

    p = precision(recipe, cuda)
    b, c, o = recipe.batch, recipe.checkpoint, recipe.optim
    kwargs: dict[str, Any] = {}
    if recipe.schedule.scheduler == "cosine":
        kwargs["lr_scheduler_kwargs"] = {"min_lr_rate": recipe.schedule.min_lr_ratio}
    if has_eval:
        # Tracking the best eval loss makes checkpoint rotation keep the best checkpoint as well as the last K.
        kwargs.update(eval_strategy="steps", eval_steps=c.eval_steps, per_device_eval_batch_size=b.per_device_batch_size,
                      metric_for_best_model="eval_loss", greater_is_better=False)
    return TrainingArguments(
        output_dir=str(output_dir), seed=recipe.runtime.seed,
        data_seed=recipe.runtime.seed, use_cpu=not cuda, bf16=p == "bf16", fp16=p == "fp16",
        per_device_train_batch_size=b.per_device_batch_size, gradient_accumulation_steps=b.gradient_accumulation_steps,
        activation_checkpointing=b.gradient_checkpointing,  # transformers 5's name for gradient checkpointing
        activation_checkpointing_kwargs={"use_reentrant": False} if b.gradient_checkpointing else None,
        num_train_epochs=recipe.duration.epochs, max_steps=recipe.duration.max_steps or -1,
        learning_rate=o.learning_rate, weight_decay=o.weight_decay, max_grad_norm=o.max_grad_norm,
        adam_beta1=o.adam_beta1, adam_beta2=o.adam_beta2, adam_epsilon=o.adam_epsilon, optim=HF_OPTIM[o.optimizer],
        lr_scheduler_type=HF_SCHEDULER[recipe.schedule.scheduler], warmup_steps=hf_warmup_steps(recipe),
        logging_steps=c.logging_steps, logging_first_step=True, save_strategy="steps", save_steps=c.save_steps,
        save_total_limit=c.save_total_limit, report_to="none", disable_tqdm=True, remove_unused_columns=False,
        # The studio watches every loss itself (NaN alert); the trainer must not hide a NaN behind an average.
        logging_nan_inf_filter=False, dataloader_num_workers=recipe.runtime.dataloader_workers,
        dataloader_pin_memory=cuda, **kwargs)
