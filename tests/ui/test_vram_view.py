"""The Configure tab's memory readout, without a browser."""

from studio.device import DeviceInfo
from studio.recipe_io import load_recipe
from studio.ui.vram_view import DETECTED, gpu_choices, gpu_gib, vram_readout


def test_readout_judges_the_fit_and_ranks_advice():
    text, figure = vram_readout(load_recipe("recipes/lora-llama3-8b.yaml"), 24.0)
    assert "won't fit" in text and "use QLoRA" in text.splitlines()[1]  # the biggest saving comes first
    assert figure is not None and figure.data[0].orientation == "h"
    text, _ = vram_readout(load_recipe("recipes/lora-llama3-8b.yaml"), 80.0)
    assert "**fits**" in text


def test_unknown_model_says_why_instead_of_failing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recipe = load_recipe("recipes/cpu-demo.yaml")
    recipe.model.name_or_path = "nobody/unknown-model"
    text, figure = vram_readout(recipe, 24.0)
    assert text.startswith("Memory estimate unavailable") and figure is None


def test_detected_gpu_is_offered_first():
    gpu = DeviceInfo("cuda", "NVIDIA H200", 139.8, 1)
    assert gpu_choices(gpu)[0] == ("NVIDIA H200 (140 GiB, detected)", DETECTED)
    assert gpu_gib(DETECTED, gpu) == 139.8 and gpu_gib("24", gpu) == 24.0
    assert all(value != DETECTED for _, value in gpu_choices(DeviceInfo("cpu", "CPU", None, 0)))
