"""The tabs apply the path policy to what a user types or loads: folders, tokenizers, reference models, recipes."""

import gradio as gr
import pytest

from studio.recipe_fields import field_specs, recipe_values
from studio.config import Recipe
from studio.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "data.jsonl").write_text('{"text": "secret"}\n')
    return folder


def form_values(**changes):
    recipe = Recipe()
    for path, value in changes.items():
        section, name = path.split(".")
        setattr(getattr(recipe, section), name, value)
    specs = field_specs()
    return specs, recipe_values(recipe, specs)


def test_data_tab_folder_must_be_inside(ws, outside):
    from studio.ui.data import gather_sources

    with pytest.raises(ValueError, match="folder .* is outside the folders this UI may open"):
        gather_sources(ws, [], "", str(outside))
    (ws.uploads / "mine").mkdir()
    paths, _, hub = gather_sources(ws, [], "", str(ws.uploads / "mine"))
    assert paths == [ws.uploads / "mine"] and hub is None
    assert gather_sources(ws, [], "", "org/some-dataset")[2] == "org/some-dataset"  # a Hub id is no path
    allowed = Workspace.open(ws.root, allowed_paths=(outside.resolve(),))
    assert gather_sources(allowed, [], "", str(outside))[0] == [outside.resolve()]


def test_data_tab_tokenizer_outside_is_refused_before_loading(ws, outside):
    from studio.ui.data import process

    with pytest.raises(gr.Error, match="tokenizer .* is outside"):
        process(ws, [], "intent_chat", "", "auto", "", 0, "", "", str(outside), 200, 400, 0.15, 512,
                progress=lambda *a, **k: None)


def test_configure_verdict_and_budget_name_the_field(ws, outside):
    from studio.ui.configure import budget_markdown, check

    specs, values = form_values(**{"data.dataset": str(outside / "data.jsonl")})
    verdict = check(ws, specs, values, 24.0)[0]
    assert "1 problem(s)" in verdict and "`data.dataset`" in verdict and "--allow-path" in verdict
    with pytest.raises(gr.Error, match="data.dataset"):
        budget_markdown(ws, specs, values)


def test_train_tab_refuses_to_launch(ws, outside):
    from studio.recipe_fields import recipe_from_values
    from studio.ui.train import launch_recipe

    specs, values = form_values(**{"model.name_or_path": str(outside)})
    message, _ = launch_recipe(ws, lambda: recipe_from_values(specs, values))
    assert message.startswith("**Not launched: 1 problem(s)**") and "`model.name_or_path`" in message
    assert list(ws.runs.iterdir()) == []  # no run folder, no worker


def test_quality_reference_model_outside_is_refused(ws, outside):
    from studio.ui.quality_ppl import run_ppl
    from studio.ui.quality_state import Review

    with pytest.raises(gr.Error, match="reference model .* is outside"):
        run_ppl(ws, Review(), "bundled:intent_chat", str(outside), 4, 0.05, 0.05, 4, 256, False,
                progress=lambda *a, **k: None)


def test_compare_adapters_come_only_from_workspace_runs(ws, outside):
    from studio.chat.sources import find_adapter

    (outside / "adapter_config.json").write_text("{}")
    for name in (str(outside), "../../elsewhere", "..", ""):
        with pytest.raises(FileNotFoundError, match="no adapter named"):
            find_adapter(ws, name)
