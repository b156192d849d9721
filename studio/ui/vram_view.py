"""The Configure tab's memory readout: estimate, verdict, fits and advice for a recipe on a GPU size, or on this
machine's RAM when it has no GPU and training runs on the CPU."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from studio.config import Recipe
from studio.device import DeviceInfo, system_memory
from studio.estimate.catalogue import load_shape
from studio.estimate.vram import (advise, estimate_vram, largest_batch_that_fits, longest_length_that_fits,
                                  settings_from_recipe, verdict)
from studio.ui.i18n import tr
from studio.ui.plots import vram_bar

GPU_PRESETS_GIB = (8, 12, 16, 24, 40, 48, 80)
DETECTED = "detected"
THIS_CPU = "cpu"


@dataclass(frozen=True)
class MemoryTarget:
    """What a recipe's peak is sized against: a GPU's memory, or the RAM of this machine when it trains on the CPU."""

    device: str  # "cuda" or "cpu"
    gib: float  # what the run may take: the GPU's memory, or the RAM available now
    total_gib: float


def target_choices(device: DeviceInfo) -> list[tuple[str, str]]:
    """(label, value) pairs: this machine first (its GPU, or its CPU and RAM), then GPU sizes to plan for."""
    presets = [(f"{gib} GB", str(gib)) for gib in GPU_PRESETS_GIB]
    if device.kind == "cuda" and device.total_gib:
        return [(tr("{name} ({gib:.0f} GiB, detected)", name=device.name, gib=device.total_gib), DETECTED), *presets]
    return [(tr("This machine: the CPU and its RAM"), THIS_CPU), *presets]


def memory_target(choice: str | None, device: DeviceInfo) -> MemoryTarget:
    """The target a choice names; anything else (None from a page that never drew the list) is this machine."""
    if choice == DETECTED and device.total_gib:
        return MemoryTarget("cuda", device.total_gib, device.total_gib)
    if choice == THIS_CPU:
        memory = system_memory()  # read at each check: what is available moves while other programs run
        return MemoryTarget("cpu", memory.available_gib, memory.total_gib)
    try:
        gib = float(choice)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        gib = 0.0
    return MemoryTarget("cuda", gib, gib) if gib > 0 else memory_target(target_choices(device)[0][1], device)


@functools.lru_cache(maxsize=32)
def cached_shape(model: str):
    return load_shape(model)


def advice_text(action: str) -> str:
    """One of `studio.estimate.vram`'s advice actions (English) in the current language: the two that carry numbers
    are matched by their wording, the fixed ones are catalogue entries, anything new shows as it is."""
    if m := re.fullmatch(r"micro-batch (\d+) with (\d+) accumulation steps \(same effective batch\)", action):
        return tr("micro-batch {batch} with {accum} accumulation steps (same effective batch)", batch=m[1],
                  accum=m[2])
    if m := re.fullmatch(r"shorter max length \((\d+) tokens\)", action):
        return tr("shorter max length ({tokens} tokens)", tokens=m[1])
    return tr(action)


def note_text(note: str) -> str:
    """One of the estimate's notes (English) in the current language, like `advice_text`."""
    if m := re.fullmatch(r"max length (\d+) exceeds the model's trained context (\d+)", note):
        return tr("max length {length} exceeds the model's trained context {context}", length=m[1], context=m[2])
    return tr(note)


def vram_readout(recipe: Recipe, target: MemoryTarget) -> tuple[str, object]:
    """Markdown (peak, verdict, fits, ranked advice) and the stacked bar; a message when the model is unknown."""
    try:
        shape = cached_shape(recipe.model.name_or_path)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        return tr("Memory estimate unavailable: {error}", error=exc), None
    settings = settings_from_recipe(recipe, target.device)
    estimate = estimate_vram(shape, settings)
    longest = longest_length_that_fits(shape, settings, target.gib)
    fit = verdict(estimate, target.gib)
    beyond = (" " + tr("(beyond the model's {context:,}-token context)", context=shape.max_positions)
              if longest > shape.max_positions else "")
    # verdict() says "fits", "tight" or "won't fit"; the peak phase is "backward" or "optimizer step".
    figures = dict(peak=estimate.total_gib, phase=tr(estimate.peak_phase), verdict=tr(fit),
                   batch=largest_batch_that_fits(shape, settings, target.gib), length=longest)
    if target.device == "cpu":
        head = tr("Trains on the CPU: **{peak:.2f} GiB** peak in RAM ({phase}) of {available:.1f} GiB available "
                  "({total:.1f} GiB in all): **{verdict}** · largest micro-batch that fits: {batch} · longest max "
                  "length that fits: {length:,} tokens", available=target.gib, total=target.total_gib, **figures)
    else:
        head = tr("**{peak:.1f} GiB** peak per GPU ({phase}) on {gpu:g} GiB: **{verdict}** · largest micro-batch "
                  "that fits: {batch} · longest max length that fits: {length:,} tokens", gpu=target.gib, **figures)
    lines = [head + beyond]
    # Ways to save memory only when memory is short: a run that fits needs none (0.15 GiB saved by recomputing
    # activations is no advice on a machine with 20 GiB free).
    if fit != "fits":
        lines += ["- " + tr("{action}: saves {gib:.2f} GiB", action=advice_text(a.action), gib=a.saving_gib)
                  for a in advise(shape, settings)[:5]]
    lines += ["- " + tr("note: {note}", note=note_text(n)) for n in estimate.notes]
    title = tr("Training memory: {peak:.1f} GiB peak (the bar stacks every term)", peak=estimate.total_gib)
    return "\n".join(lines), vram_bar(estimate.to_dict(), target.gib, title, target.device)
