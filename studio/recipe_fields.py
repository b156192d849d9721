"""The recipe as a flat table of fields, for forms: path, type, default, help and limits, straight from studio/config.

A form built from this table cannot drift from the schema: a field added to the config appears in the form, with
its help text and default, without touching the UI. Values travel as plain form values (text, numbers, booleans)
and come back through the same validator as YAML files.
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
        out.append(FieldSpec(f"{section}.{f.name}" if section else f.name, section, f.name, kind,
                             getattr(instance, f.name), f.metadata.get("help", ""), choices, optional,
                             {k: v for k, v in f.metadata.items() if k != "help" and v is not None}))
    return out


def field_specs() -> list[FieldSpec]:
    """Every recipe field: the top-level ones first, then each section's in declaration order."""
    specs = _specs_of(Recipe, None)
    for name, cls in SECTIONS.items():
        specs += _specs_of(cls, name)
    return specs


def recipe_values(recipe: Recipe, specs: list[FieldSpec]) -> list[Any]:
    """Form values for `recipe`, in the order of `specs` (lists as comma-separated text, None as empty)."""
    values = []
    for spec in specs:
        value = getattr(getattr(recipe, spec.section) if spec.section else recipe, spec.name)
        if spec.kind == "list":
            value = ", ".join(value)
        values.append("" if value is None and spec.kind in ("text", "list") else value)
    return values


def _from_form(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "list":
        return [part.strip() for part in str(value or "").split(",") if part.strip()]
    if value is None or (isinstance(value, str) and not value.strip() and spec.optional):
        return None
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
