"""The recipe form's controls as Gradio builds them: what a person reads, what the page may send, and the verdict
that follows what the fields show."""

from __future__ import annotations

import re

import gradio as gr

from studio.config import Recipe
from studio.data.versions import save_version
from studio.recipe_fields import field_specs, recipe_values
from studio.recipe_io import load_recipe
from studio.ui import i18n
from studio.ui.configure import check
from studio.ui.form_controls import control, dataset_choices, field_info
from studio.ui.vram_view import MemoryTarget
from studio.workspace import Workspace

GPU = MemoryTarget("cuda", 24.0, 24.0)


def controls(datasets=()):
    specs = field_specs()
    with gr.Blocks():
        built = [control(spec, value, list(datasets)) for spec, value in zip(specs, recipe_values(Recipe(), specs))]
    return dict(zip((s.path for s in specs), built)), {s.path: s for s in specs}


def test_labels_are_for_people_and_the_path_stays_in_sight():
    built, specs = controls()
    rate = built["optim.learning_rate"]
    assert rate.label == "Learning rate" and rate.info.startswith("`optim.learning_rate`")
    assert specs["optim.learning_rate"].help in rate.info
    assert built["model.attn_implementation"].label == "Attention kernel"
    assert rate.step == specs["optim.learning_rate"].step < 1e-3
    assert i18n.missing([c.info for c in built.values()] + [c.label for c in built.values()]) == []
    # The catalogue's line for each field is the path and the field's translated help, so the two cannot drift.
    english = {path: field_info(spec) for path, spec in specs.items()}
    i18n.use_language("zh")
    try:
        chinese = {path: field_info(spec) for path, spec in specs.items()}
    finally:
        i18n.use_language(i18n.DEFAULT_LANGUAGE)
    assert "学习率" in chinese["optim.learning_rate"]
    assert {path: i18n.translate(text, "zh") for path, text in english.items()} == chinese


def test_no_number_is_refused_by_gradio_before_the_form_checks_it():
    """Gradio's number box refuses a value outside minimum/maximum before any handler runs: an unnamed toast, and
    a verdict left showing "Valid". The form's check names the field instead."""
    built, _ = controls()
    for path, component in built.items():
        if isinstance(component, gr.Number):
            assert component.preprocess(-1) == -1, path
            assert component.preprocess(0.5) == 0.5, path  # no silent rounding of an integer field either


def test_an_optional_number_has_an_empty_state():
    built, _ = controls()
    steps = built["duration.max_steps"]
    assert isinstance(steps, gr.Textbox) and steps.value == "" and steps.placeholder == "not set"


def test_data_set_fields_offer_the_workspace_versions_and_take_a_typed_path(tmp_path):
    ws = Workspace.open(tmp_path)
    save_version(ws, "shop", [{"text": "a"}], operation="upload", parameters={})
    save_version(ws, "shop", [{"text": "b"}], operation="dedup", parameters={}, parent="shop@v1")
    choices = dataset_choices(ws)
    assert choices[:2] == ["shop@v2", "shop@v1"] and "bundled:intent_chat" in choices
    assert "bundled:demo-model" not in choices  # a model, not a data set
    built, _ = controls(choices)
    for path in ("data.dataset", "data.mix_general_dataset"):
        box = built[path]
        assert isinstance(box, gr.Dropdown) and box.allow_custom_value
        assert box.preprocess("/data/mine.jsonl") == "/data/mine.jsonl"


def test_a_refused_value_replaces_the_verdict_and_names_the_field(tmp_path):
    ws = Workspace.open(tmp_path)
    specs = field_specs()
    values = recipe_values(load_recipe("recipes/cpu-demo.yaml"), specs)
    paths = [s.path for s in specs]
    assert check(ws, specs, values, GPU)[0].startswith("**Valid**")
    values[paths.index("batch.per_device_batch_size")] = 0
    verdict, command, *_ = check(ws, specs, values, GPU)
    assert "Valid" not in verdict and command == ""
    assert "**Per-device batch** (`batch.per_device_batch_size`): must be >= 1, got 0" in verdict


def test_steps_follow_epochs_while_max_steps_is_unset(tmp_path):
    ws = Workspace.open(tmp_path)
    specs = field_specs()
    paths = [s.path for s in specs]
    values = recipe_values(load_recipe("recipes/cpu-demo.yaml"), specs)
    total = lambda: int(re.search(r"\*\*(\d+)\*\* steps in all", check(ws, specs, values, GPU)[2])[1])
    before = total()
    values[paths.index("duration.epochs")] = 10
    assert total() == before // 8 * 10  # 8 epochs in the demo recipe
    values[paths.index("duration.max_steps")] = "7"
    assert total() == 7
