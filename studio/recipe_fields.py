"""The recipe as a flat table of fields, for forms: path, type, default, help and limits, straight from studio/config,
plus how each field reads in a form (a human label, a spinner step).

A form built from this table cannot drift from the schema: a field added to the config appears in the form, with
its help text and default, without touching the UI. Values travel as plain form values (text, numbers, booleans)
and come back through the same validator as YAML files; `_from_form` is the one place that turns whatever a page
sends (None from a control never shown, text in a number field) into what the validator reads.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Literal

from studio.config import SECTIONS, Recipe
from studio.recipe_io import recipe_from_dict


@dataclass(frozen=True)
class FieldSpec:
    path: str  # "optim.learning_rate", or "method" for a top-level field
    section: str | None
    name: str
    kind: str  # "choice" | "bool" | "int" | "float" | "text" | "list"
    default: Any
    help: str
    choices: tuple = ()
    optional: bool = False  # None allowed (an empty form value)
    meta: dict = dataclasses.field(default_factory=dict)
    label: str = ""  # what a person reads (English; the catalogue's message id)
    step: float | None = None  # a number field's spinner step


# Labels in English (the message ids of their translations); the path stays visible next to each as the name a
# YAML recipe and an error message use.
LABELS = {
    "name": "Run name", "description": "Description", "method": "Method",
    "model.name_or_path": "Base model", "model.revision": "Model revision",
    "model.trust_remote_code": "Trust remote code", "model.dtype": "Weight dtype",
    "model.attn_implementation": "Attention kernel", "model.rope_scaling": "RoPE scaling",
    "model.rope_factor": "RoPE factor",
    "data.dataset": "Data set", "data.format": "Record format", "data.template": "Chat template",
    "data.max_length": "Max length (tokens)", "data.packing": "Packing", "data.eval_split": "Eval share",
    "data.mix_general_ratio": "General data share", "data.mix_general_dataset": "General data set",
    "lora.r": "Rank", "lora.alpha": "Alpha", "lora.dropout": "Adapter dropout",
    "lora.target_modules": "Target modules", "lora.use_rslora": "Rank-stabilised scaling (rsLoRA)",
    "lora.use_dora": "Weight-decomposed LoRA (DoRA)",
    "quant.quant_type": "4-bit data type", "quant.double_quant": "Double quantisation",
    "quant.compute_dtype": "Compute dtype",
    "optim.optimizer": "Optimizer", "optim.learning_rate": "Learning rate", "optim.weight_decay": "Weight decay",
    "optim.max_grad_norm": "Gradient clipping norm", "optim.adam_beta1": "Adam beta1",
    "optim.adam_beta2": "Adam beta2", "optim.adam_epsilon": "Adam epsilon",
    "schedule.scheduler": "Scheduler", "schedule.warmup_ratio": "Warmup share",
    "schedule.warmup_steps": "Warmup steps", "schedule.min_lr_ratio": "Floor (share of peak rate)",
    "batch.per_device_batch_size": "Per-device batch", "batch.gradient_accumulation_steps": "Gradient accumulation",
    "batch.num_gpus": "GPUs", "batch.gradient_checkpointing": "Gradient checkpointing",
    "duration.epochs": "Epochs", "duration.max_steps": "Max steps",
    "checkpoint.logging_steps": "Log every (steps)", "checkpoint.eval_steps": "Evaluate every (steps)",
    "checkpoint.save_steps": "Save every (steps)", "checkpoint.save_total_limit": "Checkpoints kept",
    "checkpoint.early_stopping_patience": "Early-stopping patience",
    "runtime.seed": "Seed", "runtime.precision": "Mixed precision", "runtime.device": "Device",
    "runtime.dataloader_workers": "Data loader workers",
}

# One click of a number field's spinner, in the field's own scale: a learning rate of 2e-3 moves to 2.01e-3, not
# to 1.002. Integer counts move by 1.
STEPS = {
    "model.rope_factor": 0.5, "data.max_length": 64, "data.eval_split": 0.01, "data.mix_general_ratio": 0.01,
    "lora.alpha": 1.0, "lora.dropout": 0.01, "optim.learning_rate": 1e-5, "optim.weight_decay": 0.01,
    "optim.max_grad_norm": 0.1, "optim.adam_beta1": 0.01, "optim.adam_beta2": 0.001, "optim.adam_epsilon": 1e-9,
    "schedule.warmup_ratio": 0.01, "schedule.min_lr_ratio": 0.01, "duration.epochs": 0.5,
}


def _kind(annotation: Any) -> tuple[str, tuple, bool]:
    args = typing.get_args(annotation)
    optional = type(None) in args
    if optional:
        (annotation,) = [a for a in args if a is not type(None)]
    if typing.get_origin(annotation) is Literal:
        return "choice", typing.get_args(annotation), optional
    if typing.get_origin(annotation) is list:
        return "list", (), optional
    names = {bool: "bool", int: "int", float: "float", str: "text"}
    return names[annotation], (), optional


def _specs_of(cls: type, section: str | None) -> list[FieldSpec]:
    hints = typing.get_type_hints(cls)
    instance = cls()
    out = []
    for f in dataclasses.fields(cls):
        if section is None and f.name in SECTIONS:
            continue
        kind, choices, optional = _kind(hints[f.name])
        path = f"{section}.{f.name}" if section else f.name
        # A field new to the config still gets a control: its path as label, unit steps (a test asks for both).
        step = STEPS.get(path, 1) if kind in ("int", "float") else None
        out.append(FieldSpec(path, section, f.name, kind, getattr(instance, f.name), f.metadata.get("help", ""),
                             choices, optional, {k: v for k, v in f.metadata.items() if k != "help" and v is not None},
                             LABELS.get(path, path), step))
    return out


def field_specs() -> list[FieldSpec]:
    """Every recipe field: the top-level ones first, then each section's in declaration order."""
    specs = _specs_of(Recipe, None)
    for name, cls in SECTIONS.items():
        specs += _specs_of(cls, name)
    return specs


def typed_in_text(spec: FieldSpec) -> bool:
    """An optional number is typed as text, blank meaning unset: Gradio's number box cannot show "unset" (its page
    component turns a None value into 0 when it is first drawn, e.g. when its accordion opens, and sends that 0)."""
    return spec.optional and spec.kind in ("int", "float")


def recipe_values(recipe: Recipe, specs: list[FieldSpec]) -> list[Any]:
    """Form values for `recipe`, in the order of `specs` (lists as comma-separated text, None as empty)."""
    values = []
    for spec in specs:
        value = getattr(getattr(recipe, spec.section) if spec.section else recipe, spec.name)
        if spec.kind == "list":
            value = ", ".join(value)
        elif typed_in_text(spec) and value is not None:
            value = str(value)
        values.append("" if value is None and (spec.kind in ("text", "list") or typed_in_text(spec)) else value)
    return values


def _number(text: str, kind: str) -> Any:
    """A typed number as the field's type; text that is no number goes on as it is, for the validator to name."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if kind == "int" and number.is_integer() else number


def _from_form(spec: FieldSpec, value: Any) -> Any:
    """What the validator reads for a value the page sent: the form shows None as an empty box or an unticked
    check, so that is what None means here."""
    if spec.kind == "list":
        return [part.strip() for part in str(value or "").split(",") if part.strip()]
    if isinstance(value, str) and not value.strip() and (spec.optional or spec.kind in ("int", "float")):
        return None
    if value is None:
        return {"text": "", "bool": False}.get(spec.kind) if not spec.optional else None
    if spec.kind in ("int", "float") and isinstance(value, str):
        return _number(value.strip(), spec.kind)
    if spec.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)  # number inputs hand back floats
    return value


def raw_from_values(specs: list[FieldSpec], values: list[Any], method: str | None = None) -> dict:
    """The plain dict a YAML file would hold; sections the method does not use are left out, as when saving."""
    from studio.config import relevant_sections

    raw: dict[str, Any] = {}
    for spec, value in zip(specs, values):
        target = raw.setdefault(spec.section, {}) if spec.section else raw
        target[spec.name] = _from_form(spec, value)
    keep = set(relevant_sections(method or raw.get("method", "lora")))
    return {k: v for k, v in raw.items() if k not in SECTIONS or k in keep}


def recipe_from_values(specs: list[FieldSpec], values: list[Any]) -> Recipe:
    """Check form values with the recipe validator; raises RecipeError naming every bad field."""
    return recipe_from_dict(raw_from_values(specs, values))
