"""Configure tab: every recipe field as a control built from the schema, checked live, saved as YAML in recipes/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import gradio as gr

from studio.config import Recipe
from studio.data.accounting import read_for_training
from studio.data.versions import dataset_file
from studio.estimate.budget import eta_seconds, token_budget
from studio.estimate.schedule import effective_batch, lr_curve, schedule_summary
from studio.models import load_tokenizer
from studio.paths import check_recipe_paths
from studio.recipe_fields import FieldSpec, field_specs, recipe_from_values, recipe_values
from studio.recipe_io import RecipeError, load_recipe, save_recipe
from studio.train.curves import measured_throughput
from studio.ui import i18n
from studio.ui.i18n import tr
from studio.ui import scaleout_view
from studio.ui.data_count import check_data, count_examples, dropped_note
from studio.ui.form_controls import DATASET_FIELDS, control, dataset_choices, problems_markdown
from studio.ui.form_events import edited, on_each
from studio.ui.plots import lr_schedule_figure
from studio.ui.vram_view import MemoryTarget, memory_target, target_choices, vram_readout
from studio.workspace import Workspace, safe_name

TITLE = "Configure"
SECTION_TITLES = {None: "Run", "model": "Model", "data": "Data", "lora": "LoRA", "quant": "QLoRA quantisation",
                  "optim": "Optimisation", "schedule": "Schedule", "batch": "Batching", "duration": "Duration",
                  "checkpoint": "Checkpoints and evaluation", "runtime": "Runtime"}
OPEN_SECTIONS = {None, "model", "lora", "optim", "batch"}


@dataclass(frozen=True)
class RecipeForm:
    """The recipe form as other tabs use it: its field table and one control per field, in the same order; and the
    check of the form with the components it reads and writes, and the refresh of its data-set lists, which the
    app runs whenever the tab is shown."""

    specs: list[FieldSpec]
    controls: list
    check: Callable
    check_inputs: list
    check_outputs: list
    refresh_lists: Callable
    list_outputs: list


def recipe_choices(recipes_dir: Path) -> list[str]:
    return sorted(p.name for p in recipes_dir.glob("*.yaml"))


def commands(recipe: Recipe, file_name: str) -> str:
    gpus = recipe.batch.num_gpus
    launch = (f"accelerate launch --num_processes {gpus} -m studio train recipes/{file_name}" if gpus > 1 else
              f"# {tr('on N GPUs')}: accelerate launch --num_processes N -m studio train recipes/{file_name}")
    return f"python -m studio train recipes/{file_name}\n{launch}"


def readouts(ws: Workspace, recipe: Recipe) -> tuple[str, object]:
    """Step arithmetic and the learning-rate curve for the recipe's data set, or why they are unknown."""
    try:
        path = dataset_file(ws, recipe.data.dataset)
    except (FileNotFoundError, ValueError) as exc:
        return tr("Steps unknown: {error}", error=exc), None
    count = count_examples(str(path), path.stat().st_mtime, recipe.data.format)
    n = count.read  # what the worker trains: a set it would refuse shows as a problem instead
    summary = schedule_summary(n, recipe)
    packed = (" " + tr("(with packing, steps count packed sequences: see the token budget)")
              if recipe.data.packing else "")
    text = tr("{n} examples → {train} train / {eval} eval · **{per_epoch}** steps per epoch · **{total}** steps in "
              "all · warmup {warmup} · ≤ {tokens:,.0f} tokens per step", n=n, train=summary["n_train"],
              eval=summary["n_eval"], per_epoch=summary["steps_per_epoch"], total=summary["total_steps"],
              warmup=summary["warmup_steps"], tokens=summary["tokens_per_step_max"]) + packed
    text += dropped_note(count)
    curve = lr_curve(summary["total_steps"], recipe)
    return f"{text}\n\n{eta_markdown(ws, recipe, summary)}", lr_schedule_figure(curve, summary["warmup_steps"])


def eta_markdown(ws: Workspace, recipe: Recipe, summary: dict) -> str:
    """How long the run should take, from the throughput an earlier run of the same model measured here.

    The worker measures real (non-padding) tokens per second, so a step counts the real tokens of its samples:
    per-sample tokens of the measured run's data when it trained on the same data set, else the max-length
    bound (which makes the ETA an upper bound).
    """
    model = recipe.model.name_or_path
    measured = measured_throughput(ws.runs, model)
    if measured is None:
        return tr("ETA unknown until a run of `{model}` has been measured in this workspace.", model=model)
    same_data = (measured.tokens_per_sample and measured.dataset == recipe.data.dataset
                 and not recipe.data.packing)  # packed sequences are near max length: the bound is close
    per_step = (summary["samples_per_step"] * measured.tokens_per_sample if same_data
                else summary["tokens_per_step_max"])
    eta = eta_seconds(summary["total_steps"], per_step, measured.tokens_per_second)
    bound = "≈" if same_data else tr("≤ (every sequence counted at max length)")
    return tr("ETA {bound} **{eta}** at {speed:,.0f} tokens/s, measured by run `{run}` of this model", bound=bound,
              eta=format_seconds(eta), speed=measured.tokens_per_second, run=measured.run_id)


def format_seconds(seconds: float) -> str:
    minutes = round(seconds / 60)
    return tr("{seconds:.0f} s", seconds=seconds) if seconds < 90 else (
        tr("{minutes} min", minutes=minutes) if minutes < 90 else
        tr("{hours} h {minutes:02d} min", hours=minutes // 60, minutes=minutes % 60))


def budget_markdown(ws: Workspace, specs: list[FieldSpec], values: list) -> str:
    """Token budget of the recipe's data at its max length, encoded exactly as training will encode it."""
    try:
        recipe = check_recipe_paths(ws, recipe_from_values(specs, values))
        path = dataset_file(ws, recipe.data.dataset)
        tokenizer = load_tokenizer(recipe.model)
    except (RecipeError, FileNotFoundError, ValueError, OSError) as exc:
        raise gr.Error(str(exc)) from None
    b = token_budget(read_for_training(str(path), recipe.data.format)[0], tokenizer, recipe.data.max_length,
                     recipe.batch.per_device_batch_size)
    return tr("**{examples}** examples · {tokens:,} tokens ({loss_tokens:,} with loss) · mean {mean:.0f}, max {max} "
              "· at max length {max_length}: **{truncated:.1%}** truncated, **{dropped:.1%}** dropped (nothing left "
              "to learn) · padding efficiency without packing **{unpacked:.0%}** (micro-batch {batch}), with "
              "packing **{packed:.0%}** in {sequences} sequences", examples=b["examples"], tokens=b["total_tokens"],
              loss_tokens=b["loss_tokens"], mean=b["mean_tokens"], max=b["max_tokens"],
              max_length=recipe.data.max_length, truncated=b["truncated_share"], dropped=b["dropped_share"],
              unpacked=b["efficiency_unpacked"], batch=recipe.batch.per_device_batch_size,
              packed=b["efficiency_packed"], sequences=b["packed_sequences"])


def check(ws: Workspace, specs: list[FieldSpec], values: list, target: MemoryTarget) -> tuple:
    """A verdict (every problem by field), the run commands, step readouts, LR curve, memory readout and bar."""
    try:
        # A local path must be one the UI may open; a data set the worker would refuse is refused here too.
        recipe = check_data(ws, check_recipe_paths(ws, recipe_from_values(specs, values)))
    except RecipeError as exc:
        problems = problems_markdown(specs, exc.errors)
        return (tr("**{count} problem(s)** — fix these fields:", count=len(exc.errors)) + f"\n\n{problems}", "", "",
                None, "", None)
    b = recipe.batch
    verdict = tr("**Valid** · method `{method}` · model `{model}` · effective batch **{batch}** ({per_device} per "
                 "device × {gpus} GPU × {accum} accumulation)", method=recipe.method,
                 model=recipe.model.name_or_path, batch=effective_batch(recipe), per_device=b.per_device_batch_size,
                 gpus=b.num_gpus, accum=b.gradient_accumulation_steps)
    return (verdict, commands(recipe, f"{safe_name(recipe.name, 'recipe')}.yaml"), *readouts(ws, recipe),
            *vram_readout(recipe, target))


def save(recipes_dir: Path, specs: list[FieldSpec], values: list, file_name: str):
    stem = safe_name(Path(file_name or "").stem, "")
    if not stem:
        raise gr.Error(tr("Give the recipe a file name."))
    target = recipes_dir / f"{stem}.yaml"
    if target.exists():
        raise gr.Error(tr("recipes/{name} exists; pick a new name (saved recipes are never overwritten).",
                          name=target.name))
    try:
        recipe = recipe_from_values(specs, values)
    except RecipeError as exc:
        raise gr.Error(str(exc)) from None
    recipe.name = stem
    save_recipe(recipe, target, header=f"python -m studio train recipes/{target.name}")
    return (tr("Saved `recipes/{name}`", name=target.name),
            gr.update(choices=recipe_choices(recipes_dir), value=target.name),
            gr.update(value=str(target), visible=True))


def load_uploaded(specs: list[FieldSpec], path: str | None) -> list:
    """Form values from an uploaded recipe YAML; every problem is named by field and line, nothing changes."""
    if not path:
        raise gr.Error(tr("No file received."))
    try:
        recipe = load_recipe(path)
    except RecipeError as exc:
        raise gr.Error(f"{Path(path).name}: {exc}") from None
    return recipe_values(recipe, specs)


def build(ctx) -> RecipeForm:
    specs = field_specs()
    choices = recipe_choices(ctx.recipes_dir)
    first = "cpu-demo.yaml" if "cpu-demo.yaml" in choices else None
    start = load_recipe(ctx.recipes_dir / first) if first else Recipe()
    with gr.Row():
        picker = gr.Dropdown(choices, value=first, label="Load a recipe from recipes/", scale=3)
        file_name = gr.Textbox(label="Save as (file name in recipes/)", scale=2)
        save_button = gr.Button("Save recipe", scale=1, elem_id="recipe-save")
        upload = gr.UploadButton("Load a YAML file", file_types=[".yaml", ".yml"], scale=1, elem_id="recipe-upload")
        download = gr.DownloadButton("Download the saved YAML", visible=False, scale=1, elem_id="recipe-download")
    verdict = gr.Markdown(elem_id="recipe-verdict")
    with gr.Row():
        gpu = gr.Dropdown(target_choices(ctx.device), value=target_choices(ctx.device)[0][1], label="Memory to fit in",
                          scale=1)
        memory = gr.Markdown(elem_id="recipe-memory")
    memory_bar = gr.Plot(elem_id="recipe-vram")
    steps = gr.Markdown(elem_id="recipe-steps")
    with gr.Row():
        budget_button = gr.Button("Compute token budget", scale=1, elem_id="recipe-budget-run")
        budget = gr.Markdown(elem_id="recipe-budget")
    lr_plot = gr.Plot(elem_id="recipe-lr")
    command = gr.Code(language="shell", label="Run it", interactive=False, elem_id="recipe-command")
    launch = scaleout_view.build()
    saved = gr.Markdown()
    controls = []
    datasets = dataset_choices(ctx.workspace)
    for section, group in groupby(zip(specs, recipe_values(start, specs)), key=lambda pair: pair[0].section):
        with gr.Accordion(SECTION_TITLES.get(section, section), open=section in OPEN_SECTIONS,
                          elem_id=f"section-{section or 'run'}"):
            with gr.Row(equal_height=False):
                for spec, value in group:
                    with gr.Column(min_width=220):
                        controls.append(control(spec, value, datasets))
    dataset_lists = [c for spec, c in zip(specs, controls) if spec.path in DATASET_FIELDS]

    def on_change(gpu_choice, *values):
        return check(ctx.workspace, specs, list(values), memory_target(gpu_choice, ctx.device))

    def refresh_lists():
        choices = dataset_choices(ctx.workspace)
        return [gr.update(choices=choices) for _ in dataset_lists]

    readouts_shown = [verdict, command, steps, lr_plot, memory, memory_bar]
    checked = [gpu, *controls]  # what the check reads
    edits = [event for c in controls for event in edited(c)]
    on_each([gpu.change, *edits], on_change, checked, readouts_shown)
    i18n.refresh_on_switch(on_change, checked, readouts_shown)
    if ctx.device.kind == "cuda":  # the detected GPU's label says "detected"
        i18n.refresh_on_switch(lambda: gr.update(choices=target_choices(ctx.device)), None, [gpu])
    # A switch re-sends each list's choices as built; the workspace's data sets are those of now.
    i18n.refresh_on_switch(refresh_lists, None, dataset_lists)
    loaded = [picker.change(lambda name: recipe_values(load_recipe(ctx.recipes_dir / Path(name).name), specs),
                            picker, controls)]
    budget_button.click(lambda *values: budget_markdown(ctx.workspace, specs, list(values)), controls, budget)
    save_button.click(lambda name, *values: save(ctx.recipes_dir, specs, list(values), name),
                      [file_name, *controls], [saved, picker, download])
    loaded.append(upload.upload(lambda path: load_uploaded(specs, path), upload, controls))
    for event in loaded:
        event.then(on_change, checked, readouts_shown)
    scaleout_view.wire(launch, ctx.workspace, specs, controls, edits, recipe_values(start, specs), loaded)
    # Show the verdict for the loaded recipe straight away (the plots draw when the tab is first shown: a plot's
    # build-time figure is not drawn in a tab that opens later).
    initial = check(ctx.workspace, specs, recipe_values(start, specs), memory_target(gpu.value, ctx.device))
    verdict.value, command.value, steps.value, lr_plot.value, memory.value, memory_bar.value = initial
    return RecipeForm(specs, controls, on_change, checked, readouts_shown, refresh_lists, dataset_lists)
