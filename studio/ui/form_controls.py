"""The recipe form's controls: one per field of `studio.recipe_fields`, labelled for people, and the verdict's list
of problems named the same way."""

from __future__ import annotations

import gradio as gr

from studio.assets import BUNDLED
from studio.config import BUNDLED_PREFIX
from studio.data.versions import list_datasets, list_versions
from studio.recipe_fields import FieldSpec, typed_in_text
from studio.recipe_io import FieldError
from studio.ui.i18n import tr
from studio.workspace import Workspace

# Fields that name a data set: a list of the workspace's sets, in which a path or a Hub id can still be typed.
DATASET_FIELDS = ("data.dataset", "data.mix_general_dataset")


def field_info(spec: FieldSpec) -> str:
    """The line under a control: the field's path (the name YAML files and messages use), then its help."""
    return f"`{spec.path}` · {tr(spec.help)}"


def dataset_choices(ws: Workspace) -> list[str]:
    """Every version of every workspace data set (newest first within a set), then the bundled samples."""
    refs = [v.ref for latest in list_datasets(ws) for v in reversed(list_versions(ws, latest.name))]
    return refs + [BUNDLED_PREFIX + name for name, path in BUNDLED.items() if path.is_file()]


def control(spec: FieldSpec, value, datasets: list[str]) -> gr.components.Component:
    """One form control for a field: its human label, its path and help as the hint, its value."""
    common = dict(label=spec.label, info=field_info(spec), elem_id="field-" + spec.path.replace(".", "-"))
    if spec.path in DATASET_FIELDS:
        return gr.Dropdown(datasets, value=value, allow_custom_value=True, **common)
    if spec.kind == "choice":
        return gr.Dropdown(list(spec.choices), value=value, **common)
    if spec.kind == "bool":
        return gr.Checkbox(value=value, **common)
    if typed_in_text(spec):
        return gr.Textbox(value=value, placeholder=tr("not set"), **common)
    if spec.kind in ("int", "float"):
        # No minimum or maximum here: Gradio refuses an out-of-range number before the form's check runs (an
        # unnamed "Value 0 is less than minimum value 1." and a verdict left as it was); the check names the field.
        return gr.Number(value=value, step=spec.step, **common)
    return gr.Textbox(value=value, **common)


def problems_markdown(specs: list[FieldSpec], errors: list[FieldError]) -> str:
    """Each problem under the label a person sees and the path a recipe file uses."""
    labels = {spec.path: spec.label for spec in specs}
    # Each field's message comes from studio.config and stays English.
    return "\n".join(f"- **{tr(labels[e.path])}** (`{e.path}`): {e.message}" if e.path in labels else
                     f"- `{e.path}`: {e.message}" for e in errors)
