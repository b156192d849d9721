"""The Configure tab's memory readout, without a browser."""

from studio.device import DeviceInfo, system_memory
from studio.recipe_io import load_recipe
from studio.ui.vram_view import DETECTED, THIS_CPU, MemoryTarget, memory_target, target_choices, vram_readout

CPU = DeviceInfo("cpu", "CPU", None, 0)


def gpu(gib: float) -> MemoryTarget:
    return MemoryTarget("cuda", gib, gib)


def test_readout_judges_the_fit_and_ranks_advice():
    text, figure = vram_readout(load_recipe("recipes/lora-llama3-8b.yaml"), gpu(24.0))
    assert "won't fit" in text and "use QLoRA" in text.splitlines()[1]  # the biggest saving comes first
    assert figure is not None and figure.data[0].orientation == "h"
    text, _ = vram_readout(load_recipe("recipes/lora-llama3-8b.yaml"), gpu(80.0))
    assert "**fits**" in text
    assert "saves" not in text  # a run that fits needs no way to save memory


def test_unknown_model_says_why_instead_of_failing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recipe = load_recipe("recipes/cpu-demo.yaml")
    recipe.model.name_or_path = "nobody/unknown-model"
    text, figure = vram_readout(recipe, gpu(24.0))
    assert text.startswith("Memory estimate unavailable") and figure is None


def test_detected_gpu_is_offered_first():
    h200 = DeviceInfo("cuda", "NVIDIA H200", 139.8, 1)
    assert target_choices(h200)[0] == ("NVIDIA H200 (140 GiB, detected)", DETECTED)
    assert memory_target(DETECTED, h200) == gpu(139.8) and memory_target("24", h200) == gpu(24.0)
    assert memory_target(None, h200) == gpu(139.8)  # a list the page never sent reads as this machine
    assert all(value not in (DETECTED, THIS_CPU) for _, value in target_choices(h200)[1:])


def test_without_a_gpu_the_run_is_sized_against_this_machines_ram():
    assert target_choices(CPU)[0][1] == THIS_CPU and all(v != DETECTED for _, v in target_choices(CPU))
    ram = memory_target(THIS_CPU, CPU)
    assert memory_target(None, CPU).device == "cpu"
    memory = system_memory()
    assert ram.device == "cpu" and ram.total_gib == memory.total_gib and 0 < ram.gib <= ram.total_gib
    text, figure = vram_readout(load_recipe("recipes/cpu-demo.yaml"), ram)
    assert text.startswith("Trains on the CPU") and f"({memory.total_gib:.1f} GiB in all)" in text
    assert "**fits**" in text and "per GPU" not in text
    assert "gradient checkpointing" not in text  # 0.15 GiB saved is no advice with gigabytes free
    assert figure.layout.shapes[0].x0 == ram.gib and "RAM available" in figure.layout.annotations[0].text
    assert "libraries + allocator" in [bar.name for bar in figure.data]


def test_short_ram_gets_advice_that_works_on_the_cpu():
    text, _ = vram_readout(load_recipe("recipes/cpu-demo.yaml"), MemoryTarget("cpu", 0.6, 4.0))
    assert "**won't fit**" in text and "gradient checkpointing" in text
    assert "paged" not in text  # paged optimizers page GPU memory


def test_memory_axis_keeps_its_unit_clear_of_the_legend():
    _, figure = vram_readout(load_recipe("recipes/cpu-demo.yaml"), gpu(24.0))
    assert not figure.layout.xaxis.title.text and figure.layout.xaxis.ticksuffix == " GiB"
    assert figure.layout.legend.orientation == "h" and figure.layout.legend.yanchor == "top"
