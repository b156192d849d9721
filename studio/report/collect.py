"""Everything the stakeholder report shows, gathered from a run folder and its workspace into one typed `ReportData`.

The run folder gives the header (status.json), the recipe (recipe.yaml, shown as written), the curves
(events.jsonl, through `studio.train.curves` as the Train tab reads them) and the memory figures; the workspace
gives the data lineage (`lineage`), the batch evaluations and the votes (`evidence`). Nothing is written here.

The workspace is `--workspace` when given, else the one the run folder sits in (WORKSPACE/runs/<run_id>), else
$STUDIO_HOME or ./workspace, as for the worker. A recipe that no longer loads (written by an older studio) is still
shown as written; the problems are stated and the data sources are read from the YAML as far as it goes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from studio.report.evidence import Evaluation, ExampleSet, VoteSummary, find_evaluations, pick_examples, run_votes
from studio.report.lineage import DataSource, data_sources
from studio.train.curves import Curves, curves, elapsed_seconds, number, run_span
from studio.train.events import EVENTS_FILE, RECIPE_FILE, read_events, read_status
from studio.workspace import Workspace, default_root

RUN_FOLDER_HINT = ("give a run folder, WORKSPACE/runs/<run_id> (the Train tab lists them), or one made by "
                   "`python -m studio train RECIPE.yaml --run-dir DIR`")


class ReportError(ValueError):
    """Input that cannot make a report; the message names the path and the fix."""


@dataclass(frozen=True)
class RunSummary:
    """The header: what ran, how it ended, and its headline losses."""

    run_id: str
    folder: Path
    model: str
    method: str
    state: str
    error: str | None
    created: float | None  # seconds since the epoch
    started: float | None  # when the first attempt started (a resumed run has several)
    ended: float | None  # when the last attempt ended; None while it trains
    train_seconds: float | None  # the worker's training time, summed over resumes
    step: int | None
    total_steps: int | None
    device: str | None
    precision: str | None
    processes: int | None  # training processes (one per GPU) of a multi-GPU run
    trainable_params: int | None
    total_params: int | None
    output: str | None  # the adapter (or model) folder in the run folder, once saved
    final_train_loss: float | None
    eval_losses: tuple[tuple[int, float], ...]  # (step, eval loss), superseded steps left out
    attempts: int = 1  # worker starts: the first and one per resume
    resumed_from: tuple[int, ...] = ()  # the step each resume continued from


@dataclass(frozen=True)
class Memory:
    estimated_gib: float | None  # the studio's VRAM model for the recipe (studio.estimate.vram)
    measured_gib: float | None  # peak the worker measured: CUDA max allocated, or peak resident memory on a CPU
    device: str | None


@dataclass(frozen=True)
class ReportData:
    run: RunSummary
    recipe_yaml: str
    recipe_problem: str | None
    data_info: dict[str, Any]  # the worker's "data" event: examples, split, tokens
    sources: list[DataSource]
    curves: Curves
    alerts: list[dict[str, Any]]
    memory: Memory
    evaluations: list[Evaluation]
    examples: ExampleSet | None
    votes: VoteSummary
    n_examples: int  # side-by-side examples asked for
    workspace: Path
    generated: float


def resolve_workspace(run_dir: Path, workspace: str | os.PathLike | None) -> Workspace:
    """The workspace without creating anything in it (a report only reads)."""
    if workspace is None:
        workspace = run_dir.parent.parent if run_dir.parent.name == "runs" else default_root()
    return Workspace(Path(workspace).expanduser().resolve())


def check_run_dir(run_dir: Path) -> list[dict[str, Any]]:
    """The run's events; ReportError naming the path and the fix when `run_dir` is not a run that has started."""
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a folder; {RUN_FOLDER_HINT}")
    if not (run_dir / RECIPE_FILE).is_file():
        raise ReportError(f"{run_dir}: no {RECIPE_FILE} in it, so it is not a run folder; {RUN_FOLDER_HINT}")
    events_file = run_dir / EVENTS_FILE
    events = read_events(run_dir).events if events_file.is_file() else []
    if not events:
        what = "missing" if not events_file.is_file() else "has no events"
        raise ReportError(f"{events_file}: {what}, so the run has not started; start it (Train tab, or "
                          f"`python -m studio train {run_dir / RECIPE_FILE} --run-dir {run_dir}`) and make the "
                          f"report once it has logged steps")
    return events


def read_recipe(run_dir: Path) -> tuple[str, dict[str, Any], str | None]:
    """(recipe.yaml as written, its data section, the problems when it does not load as a recipe)."""
    from studio.recipe_io import RecipeError, load_recipe

    path = run_dir / RECIPE_FILE
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        recipe = load_recipe(path)
    except RecipeError as exc:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError:
            raw = None
        data = raw.get("data") if isinstance(raw, dict) and isinstance(raw.get("data"), dict) else {}
        return text, {**data, "method": raw.get("method") if isinstance(raw, dict) else None}, str(exc)
    d = recipe.data
    return text, {"dataset": d.dataset, "mix_general_dataset": d.mix_general_dataset,
                  "mix_general_ratio": d.mix_general_ratio, "method": recipe.method,
                  "model": recipe.model.name_or_path}, None


def _int(value: Any) -> int | None:
    return int(value) if number(value) is not None else None


def run_summary(run_dir: Path, status: dict, events: list[dict], c: Curves, recipe: dict) -> RunSummary:
    train_seconds = number(status.get("train_seconds"))
    if train_seconds is None:
        train_seconds = elapsed_seconds(events, live=False, now=time.time()) or None
    started, ended, attempts = run_span(events, status)
    return RunSummary(
        run_id=run_dir.name, folder=run_dir, model=str(status.get("model") or recipe.get("model") or "?"),
        method=str(status.get("method") or recipe.get("method") or "?"), state=str(status.get("state") or "?"),
        error=status.get("error"), created=number(status.get("created")), started=number(started),
        ended=number(ended), train_seconds=train_seconds, step=_int(status.get("step")),
        total_steps=_int(status.get("total_steps")), device=status.get("device"), precision=status.get("precision"),
        processes=_int(status.get("processes")), trainable_params=_int(status.get("trainable_params")),
        total_params=_int(status.get("total_params")),
        output=status.get("output"), final_train_loss=c.loss.values[-1] if len(c.loss) else None,
        eval_losses=tuple(zip(c.eval_loss.steps, c.eval_loss.values)), attempts=attempts,
        resumed_from=tuple(c.resumes))


def measured_memory(status: dict, events: list[dict]) -> float | None:
    """The status's peak, or the highest any train event logged (a run that died before its final status)."""
    logged = [m for e in events if e.get("kind") == "train" and (m := number(e.get("memory_gib"))) is not None]
    peaks = [m for m in (number(status.get("memory_gib")), max(logged, default=None)) if m is not None]
    return max(peaks) if peaks else None


def collect_report(run_dir: str | os.PathLike, workspace: str | os.PathLike | None = None, n_examples: int = 5
                   ) -> ReportData:
    """Everything the report shows for the run in `run_dir`; ReportError when it is not a run that started."""
    folder = Path(run_dir).expanduser().resolve()
    events = check_run_dir(folder)
    ws = resolve_workspace(folder, workspace)
    status = read_status(folder)
    recipe_yaml, recipe, problem = read_recipe(folder)
    c = curves(events)
    run = run_summary(folder, status, events, c, recipe)
    dataset = str(recipe.get("dataset") or status.get("dataset") or "")
    sources = data_sources(ws, dataset, recipe.get("mix_general_dataset"),
                           number(recipe.get("mix_general_ratio")) or 0.0) if dataset else []
    # A run refused for its data logged no data event; its status holds the count.
    counted = status.get("data") if isinstance(status.get("data"), dict) else {}
    data_info = next((e for e in reversed(events) if e.get("kind") == "data"), None) or counted
    evaluations = find_evaluations(ws, run.run_id, folder)
    return ReportData(
        run=run, recipe_yaml=recipe_yaml, recipe_problem=problem,
        data_info={k: v for k, v in data_info.items() if k not in ("time", "kind")}, sources=sources, curves=c,
        alerts=[e for e in events if e.get("kind") == "alert"],
        memory=Memory(number(status.get("estimated_peak_gib")), measured_memory(status, events), run.device),
        evaluations=evaluations, examples=pick_examples(evaluations, run.run_id, folder, n_examples),
        votes=run_votes(ws, run.run_id), n_examples=n_examples, workspace=ws.root, generated=time.time())
