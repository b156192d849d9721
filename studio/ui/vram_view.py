"""The Configure tab's memory readout: estimate, verdict, fits and advice for a recipe on a GPU size."""

from __future__ import annotations

import functools

from studio.config import Recipe
from studio.device import DeviceInfo
from studio.estimate.catalogue import load_shape
from studio.estimate.vram import (advise, estimate_vram, largest_batch_that_fits, longest_length_that_fits,
                                  settings_from_recipe, verdict)
from studio.ui.plots import vram_bar

GPU_PRESETS_GIB = (8, 12, 16, 24, 40, 48, 80)
DETECTED = "detected"


def gpu_choices(device: DeviceInfo) -> list[tuple[str, str]]:
    """(label, value) pairs: the detected GPU first when there is one, then the presets."""
    presets = [(f"{gib} GB", str(gib)) for gib in GPU_PRESETS_GIB]
    if device.kind == "cuda" and device.total_gib:
        return [(f"{device.name} ({device.total_gib:.0f} GiB, detected)", DETECTED), *presets]
    return presets


def gpu_gib(choice: str, device: DeviceInfo) -> float:
    if choice == DETECTED and device.total_gib:
        return device.total_gib
    return float(choice)


@functools.lru_cache(maxsize=32)
def cached_shape(model: str):
    return load_shape(model)


def vram_readout(recipe: Recipe, gpu: float) -> tuple[str, object]:
    """Markdown (peak, verdict, fits, ranked advice) and the stacked bar; a message when the model is unknown."""
    try:
        shape = cached_shape(recipe.model.name_or_path)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        return f"Memory estimate unavailable: {exc}", None
    settings = settings_from_recipe(recipe)
    estimate = estimate_vram(shape, settings)
    judged = verdict(estimate, gpu)
    longest = longest_length_that_fits(shape, settings, gpu)
    beyond = f" (beyond the model's {shape.max_positions:,}-token context)" if longest > shape.max_positions else ""
    lines = [f"**{estimate.total_gib:.1f} GiB** peak per GPU ({estimate.peak_phase}) on {gpu:g} GiB: "
             f"**{judged}** · largest micro-batch that fits: {largest_batch_that_fits(shape, settings, gpu)} · "
             f"longest max length that fits: {longest:,} tokens{beyond}"]
    lines += [f"- {a.action}: saves {a.saving_gib:.2f} GiB" for a in advise(shape, settings)[:5]]
    lines += [f"- note: {n}" for n in estimate.notes]
    title = f"Training memory: {estimate.total_gib:.1f} GiB peak (the bar stacks every term)"
    return "\n".join(lines), vram_bar(estimate.to_dict(), gpu, title)
