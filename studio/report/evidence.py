"""How a run's adapter did: the batch evaluations that include it, side-by-side examples, and blind-vote tallies.

Batch results are the JSON files the Compare tab and `python -m studio eval` save under WORKSPACE/reports/eval/
(`studio.evaluate.batch` describes them). A model in them is this run's when its name is the run id or
"<run_id>@checkpoint-N" (the Compare tab's names, also the eval command's default for runs/<run_id>/adapter), or
when the eval command's "adapters" map gives it a path inside the run folder. Votes are those in
WORKSPACE/votes/votes.jsonl with this run's adapter on either side, tallied by `studio.evaluate.votes.tally`.

Examples are the first prompts of the newest evaluation that has this run's adapter and the base, in the prompt
set's order: the report shows what the set shows, not answers picked for how well they went.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.evaluate.votes import BASE, PairTally, read_votes, side_a_share, tally, votes_path
from studio.workspace import Workspace


@dataclass(frozen=True)
class Evaluation:
    """One saved batch evaluation that includes this run: per-model figures, and which models are this run's."""

    path: Path
    saved: float  # the file's modification time, seconds since the epoch
    prompts: str | None  # the prompt set, when the eval command recorded it
    n_prompts: int
    n_evaluated: int
    complete: bool
    max_new_tokens: int | None
    models: dict[str, dict[str, Any]]
    run_models: tuple[str, ...]
    results: dict[str, Any]  # the whole file, for the examples


@dataclass(frozen=True)
class Example:
    id: str
    prompt: str
    reference: str | None
    adapter: dict[str, Any]  # the adapter's output: text and its metrics
    base: dict[str, Any] | None  # None when the evaluation did not run the base


@dataclass(frozen=True)
class ExampleSet:
    evaluation: Path
    adapter: str  # the model name the examples show
    examples: tuple[Example, ...]
    available: int  # prompts of that evaluation with an answer of the adapter


@dataclass(frozen=True)
class VoteSummary:
    path: Path
    tallies: tuple[PairTally, ...]  # pairings with this run's adapter on one side
    votes: int  # votes involving this run
    all_votes: int  # readable votes in the file
    side_a_share: float | None  # of this run's decisive votes; near 0.5 when voters had no side bias
    problems: tuple[str, ...]  # lines of the file that are not votes


def is_run_model(name: str, run_id: str) -> bool:
    return name == run_id or name.startswith(f"{run_id}@")


def _inside(path: str, folder: Path) -> bool:
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError):
        return False
    return resolved == folder or folder in resolved.parents


def run_models(results: dict, run_id: str, run_dir: Path) -> tuple[str, ...]:
    """The names under which `results` evaluated this run's adapter or its checkpoints."""
    adapters = results.get("adapters") if isinstance(results.get("adapters"), dict) else {}
    folder = run_dir.resolve()
    return tuple(name for name in results["models"] if name != BASE and
                 (is_run_model(name, run_id) or (isinstance(adapters.get(name), str)
                                                 and _inside(adapters[name], folder))))


def _read_results(path: Path) -> dict | None:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(results, dict) and isinstance(results.get("models"), dict) and isinstance(
        results.get("examples"), list)
    return results if ok else None


def find_evaluations(ws: Workspace, run_id: str, run_dir: Path) -> list[Evaluation]:
    """Every saved evaluation under reports/eval/ that includes this run, newest first."""
    folder = ws.reports / "eval"
    found = []
    for path in folder.rglob("*.json") if folder.is_dir() else ():
        results = _read_results(path)
        names = run_models(results, run_id, run_dir) if results else ()
        if not names:
            continue
        settings = results.get("settings") if isinstance(results.get("settings"), dict) else {}
        found.append(Evaluation(path, os.path.getmtime(path), results.get("prompts"),
                                int(results.get("n_prompts") or 0), int(results.get("n_evaluated") or 0),
                                bool(results.get("complete")), settings.get("max_new_tokens"), results["models"],
                                names, results))
    return sorted(found, key=lambda e: (e.saved, str(e.path)), reverse=True)


def _step(name: str) -> int:
    _, _, checkpoint = name.partition("@checkpoint-")
    return int(checkpoint) if checkpoint.isdigit() else -1


def main_model(evaluation: Evaluation, run_id: str, run_dir: Path) -> str:
    """The run's final adapter when the evaluation has it, else its latest checkpoint there."""
    adapters = evaluation.results.get("adapters") or {}
    final = [n for n in evaluation.run_models
             if n == run_id or (isinstance(adapters.get(n), str) and _inside(adapters[n], run_dir / "adapter"))]
    return final[0] if final else max(evaluation.run_models, key=_step)


def pick_examples(evaluations: list[Evaluation], run_id: str, run_dir: Path, n: int) -> ExampleSet | None:
    """The first `n` prompts of the newest evaluation that has this run's adapter (one with the base preferred)."""
    if n <= 0 or not evaluations:
        return None
    chosen = next((e for e in evaluations if BASE in e.models), evaluations[0])
    name = main_model(chosen, run_id, run_dir)
    rows = [e for e in chosen.results["examples"] if isinstance(e, dict) and name in (e.get("outputs") or {})]
    examples = tuple(Example(str(e.get("id", "")), str(e.get("prompt", "")), e.get("reference"),
                             e["outputs"][name], e["outputs"].get(BASE)) for e in rows[:n])
    return ExampleSet(chosen.path, name, examples, len(rows))


def flip(t: PairTally) -> PairTally:
    """The same pairing seen from the other side, so every row reads "this run's adapter against ..."."""
    return PairTally(t.opponent, t.model, wins=t.losses, losses=t.wins, ties=t.ties, both_bad=t.both_bad)


def run_votes(ws: Workspace, run_id: str) -> VoteSummary:
    path = votes_path(ws)
    votes, problems = read_votes(path)
    mine = [v for v in votes if is_run_model(v.model_a, run_id) or is_run_model(v.model_b, run_id)]
    tallies = tuple(t if is_run_model(t.model, run_id) else flip(t) for t in tally(mine))
    share, _ = side_a_share(mine)
    return VoteSummary(path, tallies, len(mine), len(votes), share, tuple(problems))
