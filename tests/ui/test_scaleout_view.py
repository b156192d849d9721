"""The Configure tab's multi-GPU launch panel, without a browser."""

from __future__ import annotations

import gradio as gr
import yaml

from studio.config import DEMO_MODEL
from studio.device import DeviceInfo
from studio.recipe_fields import field_specs, recipe_values
from studio.recipe_io import load_recipe
from studio.ui import configure
from studio.ui.app import StudioContext
from studio.ui.scaleout_view import launch_readout
from studio.workspace import Workspace


def form(recipe_file="recipes/lora-llama3-8b.yaml", **changes):
    specs = field_specs()
    values = dict(zip((s.path for s in specs), recipe_values(load_recipe(recipe_file), specs)))
    values.update(changes)
    return specs, [values[s.path] for s in specs]


def test_the_readout_writes_the_config_it_shows_and_gives_the_effective_batch(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    specs, values = form(**{"batch.num_gpus": 4})
    summary, command, config, download = launch_readout(ws, specs, values, "fsdp")
    target = ws.root / "exports" / "accelerate" / "lora-llama3-8b-fsdp-4gpu.yaml"
    assert download["visible"] and download["value"] == str(target)
    assert target.read_text() == config and yaml.safe_load(config)["fsdp_config"]["fsdp_version"] == 2
    assert command == (f"accelerate launch --config_file {target} -m studio train recipes/lora-llama3-8b.yaml "
                       f"--workspace {ws.root}")
    recipe = load_recipe("recipes/lora-llama3-8b.yaml")
    batch = recipe.batch.per_device_batch_size * recipe.batch.gradient_accumulation_steps * 4
    assert f"effective batch **{batch}**" in summary and "× 4 GPU(s)" in summary


def test_refusals_and_broken_recipes_say_why_and_hide_the_download(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    specs, values = form(method="qlora", **{"batch.num_gpus": 2})
    summary, command, config, download = launch_readout(ws, specs, values, "deepspeed-zero3")
    assert summary.startswith("Cannot launch this way: QLoRA") and command == config == ""
    assert download["visible"] is False
    specs, values = form(**{"batch.num_gpus": 0})
    assert launch_readout(ws, specs, values, "ddp")[0].startswith("Fix the recipe's problems")


def test_the_configure_tab_shows_the_launch_of_the_loaded_recipe(tmp_path):
    ctx = StudioContext(Workspace.open(tmp_path / "ws"), DEMO_MODEL, DeviceInfo("cpu", "CPU", None, 0))
    with gr.Blocks() as demo:
        configure.build(ctx)
    shown = {c.elem_id: c for c in demo.blocks.values() if getattr(c, "elem_id", None)}
    assert shown["recipe-strategy"].value == "ddp"
    # cpu-demo trains on one CPU process: the command is the plain one, with no launcher.
    assert shown["recipe-launch-command"].value.startswith("python -m studio train recipes/cpu-demo.yaml")
    assert "effective batch" in shown["recipe-scaleout-summary"].value
