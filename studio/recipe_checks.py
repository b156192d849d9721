"""Rules that involve more than one recipe field: combinations that would fail late, or silently do nothing.

Each rule returns the field to blame and a message that says what to change. Single-field types and ranges are
checked in `studio.recipe_io` from the metadata in `studio.config`.
"""

from __future__ import annotations


from studio.config import Recipe
from studio.recipe_io import FieldError
from studio.workspace import NAME_PATTERN

TARGET_PRESETS = ("all-linear", "attention")


def _names(r: Recipe) -> list[FieldError]:
    out = []
    if not NAME_PATTERN.match(r.name):
        out.append(FieldError("name", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"))
    if not r.model.name_or_path.strip():
        out.append(FieldError("model.name_or_path", "empty; give a Hub id, a local folder or bundled:demo-model"))
    if not r.data.dataset.strip():
        out.append(FieldError("data.dataset", "empty; give a data file or a workspace dataset"))
    return out


def _lora(r: Recipe) -> list[FieldError]:
    if r.method == "full":
        return []
    targets = r.lora.target_modules
    if not targets or any(not t.strip() for t in targets):
        return [FieldError("lora.target_modules", "list at least one module name or a preset (all-linear)")]
    presets = [t for t in targets if t in TARGET_PRESETS]
    if presets and len(targets) > 1:
        return [FieldError("lora.target_modules", f"the preset '{presets[0]}' must stand alone; "
                                                  "list either a preset or module names")]
    return []


def _precision(r: Recipe) -> list[FieldError]:
    out = []
    if r.method == "full" and r.model.dtype == "float16":
        out.append(FieldError("model.dtype", "full fine-tuning cannot update float16 weights stably; use "
                                             "bfloat16, or float32 weights with precision fp16"))
    if r.runtime.device == "cpu":
        if r.runtime.precision == "fp16":
            out.append(FieldError("runtime.precision", "fp16 mixed precision needs a GPU; use bf16 or fp32 on "
                                                       "the CPU"))
        if r.batch.num_gpus > 1:
            out.append(FieldError("batch.num_gpus", "device is cpu; set device to cuda or auto, or num_gpus to 1"))
        if r.optim.optimizer == "paged_adamw_8bit":
            out.append(FieldError("optim.optimizer", "paged optimizers page GPU memory; use adamw_torch on the CPU"))
    return out


def _schedule(r: Recipe) -> list[FieldError]:
    if r.schedule.warmup_steps > 0 and r.schedule.warmup_ratio > 0:
        return [FieldError("schedule.warmup_steps", "set either warmup_steps or warmup_ratio, not both "
                                                    "(put the other to 0)")]
    return []


def _evaluation(r: Recipe) -> list[FieldError]:
    out = []
    ck = r.checkpoint
    if ck.early_stopping_patience > 0:
        if r.data.eval_split == 0:
            out.append(FieldError("checkpoint.early_stopping_patience", "needs eval loss; set data.eval_split "
                                                                        "above 0 or patience to 0"))
        if ck.save_steps % ck.eval_steps:
            out.append(FieldError("checkpoint.save_steps", f"with early stopping the best checkpoint is kept, so "
                                                           f"save_steps must be a multiple of eval_steps "
                                                           f"({ck.eval_steps})"))
    return out


def _data(r: Recipe) -> list[FieldError]:
    if r.data.mix_general_ratio > 0 and not r.data.mix_general_dataset:
        return [FieldError("data.mix_general_dataset", "mix_general_ratio is above 0; name the general data set "
                                                       "to mix in, or set the ratio to 0")]
    return []


def _rope(r: Recipe) -> list[FieldError]:
    m = r.model
    if m.rope_scaling == "none" and m.rope_factor != 1.0:
        return [FieldError("model.rope_factor", "has no effect without rope_scaling; choose linear, dynamic or "
                                                "yarn, or set the factor to 1")]
    if m.rope_scaling != "none" and m.rope_factor == 1.0:
        return [FieldError("model.rope_factor", f"rope_scaling {m.rope_scaling} needs a factor above 1 "
                                                f"(new context / trained context)")]
    return []


RULES = (_names, _lora, _precision, _schedule, _evaluation, _data, _rope)


def check_recipe(recipe: Recipe) -> list[FieldError]:
    """Every cross-field problem of `recipe`, in a stable order."""
    return [err for rule in RULES for err in rule(recipe)]
