"""Recipe → TrainingArguments / LoraConfig / BitsAndBytesConfig: the names the libraries use for our settings."""

from __future__ import annotations

import torch

from studio.recipe_io import recipe_from_dict
from studio.train.builders import bnb_config, lora_config, training_arguments


def test_training_arguments_follow_the_recipe(tmp_path):
    r = recipe_from_dict({"optim": {"learning_rate": 3e-4, "optimizer": "adamw_8bit", "max_grad_norm": 0.5},
                          "schedule": {"scheduler": "cosine", "warmup_ratio": 0.05, "min_lr_ratio": 0.2},
                          "batch": {"per_device_batch_size": 2, "gradient_accumulation_steps": 8,
                                    "gradient_checkpointing": True},
                          "duration": {"max_steps": 77},
                          "checkpoint": {"save_steps": 20, "save_total_limit": 2, "eval_steps": 10},
                          "runtime": {"seed": 5, "device": "cpu"}})
    args = training_arguments(r, tmp_path, cuda=False, has_eval=True)
    assert args.learning_rate == 3e-4 and args.optim == "adamw_bnb_8bit" and args.max_grad_norm == 0.5
    assert args.lr_scheduler_type == "cosine_with_min_lr" and args.lr_scheduler_kwargs == {"min_lr_rate": 0.2}
    assert args.warmup_steps == 0.05 and args.max_steps == 77 and args.seed == 5
    assert args.per_device_train_batch_size == 2 and args.gradient_accumulation_steps == 8
    assert args.activation_checkpointing and args.save_total_limit == 2 and args.eval_steps == 10
    assert args.metric_for_best_model == "eval_loss" and not args.greater_is_better
    assert args.use_cpu and not args.bf16 and args.report_to == []
    assert not args.logging_nan_inf_filter  # a NaN must reach the studio's watch, not be averaged away


def test_lora_presets_and_quantisation():
    r = recipe_from_dict({"method": "qlora", "lora": {"target_modules": ["attention"], "r": 4, "alpha": 8,
                                                      "use_rslora": True},
                          "quant": {"quant_type": "fp4", "double_quant": False}})
    lc = lora_config(r)
    assert set(lc.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"} and lc.r == 4 and lc.use_rslora
    assert lora_config(recipe_from_dict({})).target_modules == "all-linear"
    q = bnb_config(r, torch.float32)
    assert q.load_in_4bit and q.bnb_4bit_quant_type == "fp4" and not q.bnb_4bit_use_double_quant
