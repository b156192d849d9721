"""A run's events turned into what its plots and progress readout show: series by step, progress, throughput.

Pure functions over the event dicts of `studio.train.events` (no Gradio, no torch), so the Train tab, a test or a
script can reproduce every figure from events.jsonl alone.

Resumes: a worker killed at step 57 whose newest checkpoint was step 40 logs steps 41..57 again when it resumes.
The status event that opens the new segment (`resumed_from_step` = 40, or `state: running` with `step` = 40)
supersedes every earlier step-keyed event with a step above 40, so each step keeps only its newest value.
Alerts are never superseded: they are the history of what went wrong, including what led to the resume.

Progress: the worker writes a light `progress` event (step and total, no loss) at every optimizer step, and the
heavier `train` event only every `logging_steps`. The plots read `train` and `eval` events only; the step, the
phase and the ETA read both, so the bar moves every step. Runs written before `progress` events existed read as
they always did.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from studio.train.events import (EVENTS_FILE, FINAL_STATES, FINISHED, QUEUED, RUNNING, STARTING, STOPPED,
                                 read_events, read_status)

# Event kinds whose values belong to one step of training and are redone by a resume.
STEP_KINDS = ("train", "eval", "checkpoint", "status", "progress")
# Kinds that say an optimizer step has just ended (a `train` event alone in runs written before `progress`).
STEP_DONE_KINDS = ("progress", "train")
DEFAULT_SMOOTHING = 0.6  # EMA weight of the past, per logged point (TensorBoard's slider, same meaning)
RATE_WINDOW = 30  # finished steps of the newest segment that the steps/s behind the ETA is measured over
# What a run is doing, beyond its state: before its first step of this attempt a live run is still starting.
LOADING, FIRST_STEP, TRAINING = "loading", "first_step", "training"


def number(value: Any) -> float | None:
    """A finite float, or None for missing, non-numeric or non-finite values ("nan" strings included)."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def segment_start(event: dict) -> int | None:
    """The step a new training segment starts from when `event` opens one (a resume or the loop's start)."""
    if event.get("kind") != "status":
        return None
    if "resumed_from_step" in event:
        return int(event["resumed_from_step"])
    if event.get("state") == "running" and event.get("step") is not None:
        return int(event["step"])
    return None


def supersede(events: Iterable[dict]) -> list[dict]:
    """The events with every step-keyed value that a later segment redid removed (see the module docstring)."""
    kept: list[dict] = []
    for event in events:
        start = segment_start(event)
        if start is not None:
            kept = [e for e in kept if e.get("kind") not in STEP_KINDS or (e.get("step") or 0) <= start]
        kept.append(event)
    return kept


def resume_steps(events: Iterable[dict]) -> list[int]:
    """Steps a run was resumed from, in order."""
    return [int(e["resumed_from_step"]) for e in events if e.get("kind") == "status" and "resumed_from_step" in e]


def ema(values: list[float], weight: float = DEFAULT_SMOOTHING) -> list[float]:
    """Exponential moving average, debiased as TensorBoard does, so the first points are not pulled towards 0."""
    out, last = [], 0.0
    for i, value in enumerate(values, start=1):
        last = weight * last + (1 - weight) * value
        out.append(last / (1 - weight**i) if weight < 1 else values[0])
    return out


@dataclass
class Series:
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class Curves:
    """Everything plotted for one run, by optimizer step; non-finite values are left out and listed apart."""

    loss: Series
    loss_smooth: Series
    eval_loss: Series
    learning_rate: Series
    grad_norm: Series
    tokens_per_second: Series
    resumes: list[int]
    nonfinite_loss_steps: list[int]


def _series(events: list[dict], kind: str, key: str) -> Series:
    out = Series()
    for event in events:
        if event.get("kind") == kind and (value := number(event.get(key))) is not None:
            out.steps.append(int(event.get("step") or 0))
            out.values.append(value)
    return out


def curves(events: list[dict], smoothing: float = DEFAULT_SMOOTHING) -> Curves:
    kept = supersede(events)
    loss = _series(kept, "train", "loss")
    nonfinite = [int(e.get("step") or 0) for e in kept
                 if e.get("kind") == "train" and "loss" in e and number(e["loss"]) is None]
    return Curves(loss=loss, loss_smooth=Series(list(loss.steps), ema(loss.values, smoothing)),
                  eval_loss=_series(kept, "eval", "eval_loss"), learning_rate=_series(kept, "train", "learning_rate"),
                  grad_norm=_series(kept, "train", "grad_norm"),
                  tokens_per_second=_series(kept, "train", "tokens_per_second"), resumes=resume_steps(events),
                  nonfinite_loss_steps=nonfinite)


@dataclass
class Progress:
    step: int
    total: int | None
    elapsed_s: float  # time the worker ran, summed over the run's segments (queue time not counted)
    eta_s: float | None  # None: not training now, or not enough steps yet to measure a rate
    steps_per_second: float | None
    # The state, except that a live run is LOADING (the worker starts, reads data, loads the model) or at its
    # FIRST_STEP (the loop has begun, no step of this attempt has ended) before it is TRAINING.
    phase: str = QUEUED

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total else 0.0


def _segments(events: list[dict]) -> list[list[dict]]:
    """Events split at each worker start (status `starting`); events before the first start form no segment."""
    segments: list[list[dict]] = []
    for event in events:
        if event.get("kind") == "status" and event.get("state") == STARTING:
            segments.append([])
        if segments:
            segments[-1].append(event)
    return segments


def _closed(segment: list[dict]) -> bool:
    """True when the segment's worker (or its supervisor) wrote a final state: that attempt is over."""
    return any(e.get("kind") == "status" and e.get("state") in FINAL_STATES for e in segment)


def elapsed_seconds(events: list[dict], live: bool, now: float) -> float:
    """Worker time summed over the segments; the newest one runs up to `now` while live and not yet closed (a
    resume that has not started its worker yet must not count the pause since the last attempt)."""
    segments = _segments(events)
    total = 0.0
    for i, segment in enumerate(segments):
        times = [e["time"] for e in segment if e.get("time") is not None]
        if times:
            current = live and i == len(segments) - 1 and not _closed(segment)
            total += max(0.0, (now if current else max(times)) - times[0])
    return total


def run_span(events: list[dict], status: dict) -> tuple[float | None, float | None, int]:
    """(first start, last end, attempts) of a run over all its segments: a resumed run's span begins when its
    first attempt started, not its last. Status `started` stands in for a run without start events."""
    segments = _segments(events)
    starts = [s[0]["time"] for s in segments if s and s[0].get("time") is not None]
    first = min(starts) if starts else status.get("started")
    return first, status.get("ended"), max(len(segments), 1 if first is not None else 0)


def step_points(events: list[dict]) -> list[tuple[float, int]]:
    """(time, step) of each finished step, once per step (a logged step has a `progress` and a `train` event)."""
    points: dict[int, float] = {}
    for e in events:
        if e.get("kind") in STEP_DONE_KINDS and e.get("time") is not None and e.get("step") is not None:
            points.setdefault(int(e["step"]), e["time"])
    return sorted((t, s) for s, t in points.items())


def steps_per_second(events: list[dict], window: int = RATE_WINDOW) -> float | None:
    """Optimizer steps per second over the newest segment's last `window` finished steps."""
    segments = _segments(events)
    points = step_points(segments[-1] if segments else events)[-window:]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


def phase(events: list[dict], state: str) -> str:
    """The run's phase (see `Progress.phase`) from its state and the newest segment's events."""
    if state == STARTING:
        return LOADING
    if state != RUNNING:
        return state
    segments = _segments(events)
    newest = segments[-1] if segments else events
    began = next((i for i in range(len(newest) - 1, -1, -1) if segment_start(newest[i]) is not None), -1)
    return TRAINING if any(e.get("kind") in STEP_DONE_KINDS for e in newest[began + 1:]) else FIRST_STEP


def progress(events: list[dict], status: dict, live: bool, now: float) -> Progress:
    """Step and total from the events (status as a fallback), elapsed worker time, the phase, and an ETA while
    training."""
    kept = supersede(events)
    steps = [int(e["step"]) for e in kept if e.get("kind") in STEP_KINDS and e.get("step") is not None]
    totals = [int(e["total"]) for e in kept if e.get("total")]
    step = max(steps) if steps else int(status.get("step") or 0)
    total = totals[-1] if totals else status.get("total_steps")
    now_phase = phase(events, str(status.get("state") or QUEUED))
    rate = steps_per_second(events) if live and now_phase == TRAINING else None
    eta = (max(0, total - step) / rate) if rate and total else None
    return Progress(step, total, elapsed_seconds(events, live, now), eta, rate, now_phase)


@dataclass(frozen=True)
class Throughput:
    """Training speed an earlier run measured, for the ETA of a new recipe of the same model."""

    run_id: str
    tokens_per_second: float  # real (non-padding) tokens per second, median over the run's logged intervals
    tokens_per_sample: float | None  # real tokens per training example of that run's data
    dataset: str | None


@lru_cache(maxsize=64)
def _run_throughput(events_path: str, mtime_ns: int) -> tuple[float | None, float | None]:
    events = read_events(Path(events_path).parent).events
    rates = [r for e in events if e.get("kind") == "train" and (r := number(e.get("tokens_per_second")))]
    data = next((e for e in events if e.get("kind") == "data"), {})
    per_sample = (data["train_tokens"] / data["train"]) if data.get("train") and data.get("train_tokens") else None
    return (statistics.median(rates) if rates else None), per_sample


def measured_throughput(runs_dir: Path, model: str) -> Throughput | None:
    """The newest finished or stopped run of `model` that logged a throughput, or None."""
    found = []
    for folder in runs_dir.iterdir() if runs_dir.is_dir() else ():
        status = read_status(folder) if folder.is_dir() else {}
        if status.get("model") == model and status.get("state") in (FINISHED, STOPPED) and status.get("ended"):
            found.append((status["ended"], folder, status))
    for _, folder, status in sorted(found, key=lambda item: item[0], reverse=True):
        path = folder / EVENTS_FILE
        try:
            rate, per_sample = _run_throughput(str(path), path.stat().st_mtime_ns)
        except OSError:
            continue
        rate = rate or number(status.get("tokens_per_second"))
        if rate:
            return Throughput(folder.name, rate, per_sample, status.get("dataset"))
    return None
