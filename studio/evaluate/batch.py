"""Batch evaluation: every prompt of a prompt set through every model (base and adapters), scored and summarised.

`evaluate(engine, names, prompts, settings)` returns one plain dict (JSON-ready), the same for the CLI's
RESULTS.json and the Compare tab:

    {"n_prompts", "n_evaluated", "complete", "seconds", "settings": {...},
     "models": {name: {"n", "json_valid_rate", "schema_valid_rate", "n_with_schema", "exact_match", "rouge_l",
                       "n_with_reference", "perplexity", "n_reference_tokens", "mean_output_tokens",
                       "mean_output_chars", "mean_latency_s", "tokens_per_s", "cut_off_rate"}},
     "examples": [{"id", "source", "prompt", "messages", "reference", "has_schema",
                   "outputs": {name: {"text", "json_valid", "schema_valid", "exact_match", "rouge_l", "nll",
                                      "reference_tokens", "perplexity", "output_tokens", "output_chars",
                                      "finish_reason", "latency_s"}}}]}

Rates are fractions in [0, 1]. A rate over prompts that have no schema (or no reference) is None, not 0: the
metric does not apply. `perplexity` is the model's perplexity *of the references* given the prompts (teacher
forcing, via `engine.reference_nll`), token-weighted over the set; it measures how likely the model finds the
expected answers, independent of what it generated. Latency is wall time per answer, generation only;
output tokens are the generated tokens, the end-of-turn token included (as the engine counts them).
`cut_off_rate` is the share of answers that hit max_new_tokens: a cut-off JSON answer is invalid, so a high rate
says to raise the limit before blaming the model.

The loop is prompt by prompt, every model on one prompt before the next, so a stopped run still has complete
rows: `stop` (a threading.Event or a callable) is looked at between answers; the prompt in flight when it is set
is dropped and the summary covers the prompts finished, with "complete": false.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from studio.evaluate.metrics import exact_match, parse_json, perplexity, rouge_l, schema_valid
from studio.evaluate.prompts import EvalPrompt

Progress = Callable[[float, str], None]
"""(fraction done, message)."""
METRICS = ("json_valid", "schema_valid", "exact_match", "rouge_l", "perplexity")
"""Per-example metrics `rank_examples` can sort by; for perplexity lower is better."""


def score_answer(answer: str, prompt: EvalPrompt) -> dict[str, Any]:
    """The text metrics of one answer: json_valid always, the others None where the prompt gives no basis."""
    ok, value = parse_json(answer)
    has_reference = prompt.reference is not None
    return {
        "json_valid": ok,
        "schema_valid": (ok and schema_valid(value, prompt.json_schema)) if prompt.json_schema is not None else None,
        "exact_match": exact_match(answer, prompt.reference) if has_reference else None,
        "rouge_l": rouge_l(answer, prompt.reference) if has_reference else None,
    }


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarise(examples: Sequence[dict], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per-model figures over the finished examples (see the module docstring for the keys)."""
    models = {}
    for name in names:
        rows = [example["outputs"][name] for example in examples]
        scored = [row for row in rows if row["nll"] is not None]
        nll, ref_tokens = sum(r["nll"] for r in scored), sum(r["reference_tokens"] for r in scored)
        seconds = sum(r["latency_s"] for r in rows)
        out_tokens = [r["output_tokens"] for r in rows]
        models[name] = {
            "n": len(rows),
            "json_valid_rate": _mean([float(r["json_valid"]) for r in rows]),
            "schema_valid_rate": _mean([None if r["schema_valid"] is None else float(r["schema_valid"])
                                        for r in rows]),
            "n_with_schema": sum(r["schema_valid"] is not None for r in rows),
            "exact_match": _mean([None if r["exact_match"] is None else float(r["exact_match"]) for r in rows]),
            "rouge_l": _mean([r["rouge_l"] for r in rows]),
            "n_with_reference": sum(r["rouge_l"] is not None for r in rows),
            "perplexity": perplexity(nll, ref_tokens) if scored else None,
            "n_reference_tokens": ref_tokens,
            "mean_output_tokens": _mean(out_tokens),
            "mean_output_chars": _mean([r["output_chars"] for r in rows]),
            "mean_latency_s": _mean([r["latency_s"] for r in rows]),
            "cut_off_rate": _mean([float(r["finish_reason"] == "length") for r in rows]),
            "tokens_per_s": (sum(out_tokens) / seconds if seconds > 0 and None not in out_tokens else None),
        }
    return models


def _stopper(stop: Any) -> Callable[[], bool]:
    if stop is None:
        return lambda: False
    return stop.is_set if hasattr(stop, "is_set") else stop


def _answer(engine: Any, name: str, prompt: EvalPrompt, settings: Any, stop: Any) -> dict[str, Any]:
    """One model's answer to one prompt, timed, with its metrics and the reference's NLL under that model."""
    started = time.perf_counter()
    last = None
    for last in engine.stream(name, prompt.messages, settings, stop=stop):  # each chunk: the whole answer so far
        pass
    latency = time.perf_counter() - started
    text = last.text if last is not None else ""
    nll, ref_tokens = (engine.reference_nll(name, prompt.messages, prompt.reference)
                       if prompt.reference else (None, None))  # an empty reference has nothing to score
    return {"text": text, **score_answer(text, prompt), "nll": nll, "reference_tokens": ref_tokens,
            "perplexity": perplexity(nll, ref_tokens) if nll is not None else None,
            "output_tokens": last.n_tokens if last is not None else 0, "output_chars": len(text),
            "finish_reason": getattr(last, "finish_reason", None), "latency_s": latency}


def evaluate(engine: Any, names: Sequence[str], prompts: Sequence[EvalPrompt], settings: Any,
             progress: Progress | None = None, stop: Any = None) -> dict[str, Any]:
    """Every prompt through every named model of `engine` (a studio.chat.engine.ChatEngine), scored."""
    if not names or not prompts:
        raise ValueError("nothing to evaluate: give at least one model and one prompt")
    unknown = [repr(name) for name in names if name not in engine.names]
    if unknown:
        raise ValueError(f"no model named {', '.join(unknown)} is loaded; loaded: {', '.join(engine.names)}")
    stopped, started = _stopper(stop), time.perf_counter()
    examples: list[dict] = []
    total = len(prompts) * len(names)
    for i, prompt in enumerate(prompts):
        outputs = {}
        for j, name in enumerate(names):
            if stopped():
                break
            try:
                outputs[name] = _answer(engine, name, prompt, settings, stop if hasattr(stop, "is_set") else None)
            except ValueError as exc:  # a prompt longer than the model's context, ...
                raise ValueError(f"{prompt.source or prompt.id}, {name}: {exc}") from exc
            if progress:
                progress((i * len(names) + j + 1) / total, f"prompt {i + 1}/{len(prompts)} ({prompt.id}), {name}")
        if stopped():  # the answer in flight may have been cut short: drop the whole row
            break
        examples.append({"id": prompt.id, "source": prompt.source, "prompt": prompt.text,
                         "messages": prompt.messages, "reference": prompt.reference,
                         "has_schema": prompt.json_schema is not None, "outputs": outputs})
    return {"n_prompts": len(prompts), "n_evaluated": len(examples), "complete": len(examples) == len(prompts),
            "seconds": time.perf_counter() - started,
            "settings": asdict(settings) if is_dataclass(settings) else dict(settings),
            "models": summarise(examples, names), "examples": examples}


def rank_examples(results: dict, model: str, against: str = "base", metric: str = "rouge_l") -> list[dict]:
    """Examples where both models have `metric`, biggest wins of `model` over `against` first, losses last.

    "delta" is positive when `model` is better (for perplexity, lower is better, so the sign is flipped).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    rows = []
    for example in results["examples"]:
        mine, theirs = example["outputs"][model][metric], example["outputs"][against][metric]
        if mine is None or theirs is None:
            continue
        delta = float(theirs) - float(mine) if metric == "perplexity" else float(mine) - float(theirs)
        rows.append({"id": example["id"], "prompt": example["prompt"], "delta": delta, "value": mine,
                     "against_value": theirs, "output": example["outputs"][model]["text"],
                     "against_output": example["outputs"][against]["text"]})
    return sorted(rows, key=lambda row: -row["delta"])


def json_safe(value: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite floats become null so any parser reads the file."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def results_json(results: dict) -> str:
    return json.dumps(json_safe(results), ensure_ascii=False, indent=1) + "\n"


def write_results(path: str | Path, results: dict) -> None:
    from studio.workspace import atomic_write_text

    atomic_write_text(path, results_json(results))


SUMMARY_COLUMNS = ("model", "n", "json_valid_rate", "schema_valid_rate", "exact_match", "rouge_l", "perplexity",
                   "mean_output_tokens", "cut_off_rate", "mean_latency_s")
EXAMPLE_COLUMNS = ("id", "model", "prompt", "reference", "output", "json_valid", "schema_valid", "exact_match",
                   "rouge_l", "perplexity", "output_tokens", "finish_reason", "latency_s")


def _csv(header: Sequence[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return buffer.getvalue()


def summary_csv(results: dict) -> str:
    """One row per model."""
    return _csv(SUMMARY_COLUMNS, [[name, *(figures[key] for key in SUMMARY_COLUMNS[1:])]
                                  for name, figures in json_safe(results["models"]).items()])


def examples_csv(results: dict) -> str:
    """One row per prompt and model (long format: filter or pivot it in a spreadsheet)."""
    rows = []
    for example in json_safe(results["examples"]):
        for name, out in example["outputs"].items():
            rows.append([example["id"], name, example["prompt"], example["reference"], out["text"],
                         *(out[key] for key in EXAMPLE_COLUMNS[5:])])
    return _csv(EXAMPLE_COLUMNS, rows)


def format_table(results: dict) -> str:
    """The per-model summary as a fixed-width text table (rates as percentages)."""
    columns = [("json_valid_rate", "JSON valid", "{:.1%}"), ("schema_valid_rate", "schema ok", "{:.1%}"),
               ("exact_match", "exact", "{:.1%}"), ("rouge_l", "ROUGE-L", "{:.3f}"),
               ("perplexity", "ref ppl", "{:.3g}"), ("mean_output_tokens", "out tok", "{:.1f}"),
               ("cut_off_rate", "cut off", "{:.1%}"), ("mean_latency_s", "latency s", "{:.2f}")]
    width = max(12, *(len(name) for name in results["models"])) + 2
    lines = [f"{'model':<{width}}" + "".join(f"{title:>11}" for _, title, _ in columns)]
    for name, figures in results["models"].items():
        cells = ["—" if figures[key] is None else form.format(figures[key]) for key, _, form in columns]
        lines.append(f"{name:<{width}}" + "".join(f"{cell:>11}" for cell in cells))
    done = f"{results['n_evaluated']}/{results['n_prompts']} prompts"
    lines.append(done + ("" if results["complete"] else " (stopped early)") + f" in {results['seconds']:.1f} s")
    return "\n".join(lines)
