"""The Configure tab's multi-GPU launch: a strategy, the accelerate config and the command for the recipe's GPUs.

The number of GPUs is the recipe's own `batch.num_gpus` (a control under Batching), so the effective batch, the
step counts and the memory estimate above describe the same launch. The config is written to
WORKSPACE/exports/accelerate/ (a folder the UI may serve) for the download button and the command to point at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from studio.config import Recipe
from studio.paths import check_recipe_paths
from studio.recipe_fields import FieldSpec, recipe_from_values
from studio.recipe_io import RecipeError
from studio.train.scaleout import STRATEGIES, ScaleOutError, plan_launch
from studio.ui import i18n
from studio.ui.form_events import on_each
from studio.ui.i18n import tr
from studio.workspace import Workspace, atomic_write_text, safe_name


@dataclass(frozen=True)
class ScaleOutPanel:
    strategy: gr.Dropdown
    summary: gr.Markdown
    command: gr.Code
    config: gr.Code
    download: gr.DownloadButton

    def outputs(self) -> list:
        return [self.summary, self.command, self.config, self.download]


def config_path(ws: Workspace, recipe: Recipe, strategy: str) -> Path:
    name = f"{safe_name(recipe.name, 'recipe')}-{strategy}-{recipe.batch.num_gpus}gpu.yaml"
    return ws.root / "exports" / "accelerate" / name


def launch_readout(ws: Workspace, specs: list[FieldSpec], values: list, strategy: str) -> tuple:
    """Summary with the effective batch and caveats, the command, the config YAML, and the download's update."""
    hidden = gr.update(visible=False)
    try:
        recipe = check_recipe_paths(ws, recipe_from_values(specs, values))
    except RecipeError:
        return tr("Fix the recipe's problems (listed above) to see its multi-GPU launch."), "", "", hidden
    target = config_path(ws, recipe, strategy)
    try:
        plan = plan_launch(recipe, strategy, f"recipes/{safe_name(recipe.name, 'recipe')}.yaml", str(target),
                           str(ws.root))
    except ScaleOutError as exc:  # the reason names recipe settings and stays English, like field messages
        return tr("Cannot launch this way: {reason}", reason=exc), "", "", hidden
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, plan.config_yaml)
    b = recipe.batch
    summary = tr("**{gpus} GPU(s)** · effective batch **{batch}** = {per_device} per GPU × {accum} accumulation × "
                 "{gpus} GPU(s)", gpus=plan.num_gpus, batch=plan.effective_batch, per_device=b.per_device_batch_size,
                 accum=b.gradient_accumulation_steps)
    notes = "".join(f"\n- {note}" for note in plan.notes)
    return summary + "\n" + notes, plan.command, plan.config_yaml, gr.update(value=str(target), visible=True)


def build() -> ScaleOutPanel:
    """The panel's components; `wire` connects them once the recipe controls exist."""
    with gr.Accordion("Multi-GPU launch (accelerate)", open=False, elem_id="recipe-scaleout"):
        gr.Markdown("The number of GPUs is `batch.num_gpus` under Batching. Pick how the GPUs share the work; the "
                    "config file and the command below follow the recipe.")
        strategy = gr.Dropdown([(label, key) for key, label in STRATEGIES.items()], value="ddp", label="Strategy",
                               elem_id="recipe-strategy")
        summary = gr.Markdown(elem_id="recipe-scaleout-summary")
        command = gr.Code(language="shell", label="Launch command", interactive=False,
                          elem_id="recipe-launch-command")
        config = gr.Code(language="yaml", label="accelerate config", interactive=False,
                         elem_id="recipe-accelerate-config")
        download = gr.DownloadButton("Download the accelerate config", visible=False,
                                     elem_id="recipe-accelerate-download")
    return ScaleOutPanel(strategy, summary, command, config, download)


def wire(panel: ScaleOutPanel, ws: Workspace, specs: list[FieldSpec], controls: list, edits: list, initial: list,
         loaded: list = ()) -> None:
    """Recompute on a strategy change, a field edit (`edits`: those events) and after each recipe load (`loaded`);
    `initial` are the form's first values (the loaded recipe)."""

    def on_change(strategy, *values):
        return launch_readout(ws, specs, list(values), strategy)

    inputs = [panel.strategy, *controls]
    on_each([panel.strategy.change, *edits], on_change, inputs, panel.outputs())
    for event in loaded:
        event.then(on_change, inputs, panel.outputs())
    i18n.refresh_on_switch(on_change, inputs, panel.outputs())
    # The loaded recipe's launch straight away; the download appears with the first change.
    panel.summary.value, panel.command.value, panel.config.value, _ = on_change(panel.strategy.value, *initial)
