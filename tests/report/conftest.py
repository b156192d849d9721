"""Workspaces for the report tests: one written by hand (fast, every figure known), and one made by the studio's own
functions (real dedup, a real tiny training run in the worker, a real `eval`, real votes)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

from studio.data.versions import save_version
from studio.evaluate.votes import Vote, append_vote, votes_path
from studio.train.events import EventLog, write_status
from studio.workspace import Workspace

RUN_ID = "20260101-000000-demo"
EVIL = "<script>alert('x')</script> & \"quotes\""  # a prompt that must come out as text, not markup


def model_figures(json_valid: float, exact: float) -> dict:
    return {"n": 4, "json_valid_rate": json_valid, "schema_valid_rate": None, "n_with_schema": 0,
            "exact_match": exact, "rouge_l": 0.5, "n_with_reference": 4, "perplexity": 12.5,
            "mean_output_tokens": 9.0, "mean_latency_s": 0.25, "cut_off_rate": 0.0}


def output(text: str, ok: bool) -> dict:
    return {"text": text, "json_valid": ok, "schema_valid": None, "exact_match": ok, "rouge_l": 1.0 if ok else 0.2}


def write_eval(ws: Workspace, folder: str, models: dict[str, dict], prompts: list[str], **extra) -> Path:
    """A results.json as the Compare tab saves it; each model answers '{"n": i}' (valid) or 'hmm' (not)."""
    examples = [{"id": f"p{i}", "prompt": prompt, "reference": '{"n": 1}', "has_schema": False,
                 "outputs": {name: output('{"n": %d}' % i if name != "base" else f"hmm {i}", name != "base")
                             for name in models}} for i, prompt in enumerate(prompts)]
    path = ws.reports / "eval" / folder / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"n_prompts": len(prompts), "n_evaluated": len(prompts), "complete": True,
                                "seconds": 1.0, "settings": {"max_new_tokens": 32}, "models": models,
                                "examples": examples, **extra}), encoding="utf-8")
    return path


def hand_run(ws: Workspace, run_id: str = RUN_ID) -> Path:
    """A finished LoRA run on docs@v2 (filtered from docs@v1, whose dedup report exists), events written by hand."""
    v1 = save_version(ws, "docs", [{"id": "a", "text": "x"}, {"id": "b", "text": "x"}], operation="ingest+chunk",
                      parameters={"max_tokens": 400})
    save_version(ws, "docs", [{"id": "a", "text": "x"}], operation="quality", parent=v1.ref,
                 parameters={"unflagged": []}, removed=[{"id": "b", "reason": "exact"}])
    report = {"documents": 2, "kept": 1, "exact_duplicates": 1, "near_duplicates": 0, "removed": 1,
              "share_removed": 0.5, "clusters": 1, "settings": {"threshold": 0.8},
              "remaining_duplicates": {"sampled": 1, "with_duplicate": 0, "rate": 0.0, "interval_95": [0.0, 0.79]}}
    (ws.reports / "docs" / "v1").mkdir(parents=True)
    (ws.reports / "docs" / "v1" / "dedup.json").write_text(json.dumps(report), encoding="utf-8")
    run = ws.runs / run_id
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text("name: demo\nmethod: lora\ndescription: 'a <b>bold</b> claim'\n"
                                     "data:\n  dataset: docs@v2\n", encoding="utf-8")
    now = time.time()
    write_status(run, run_id=run_id, state="finished", method="lora", model="bundled:demo-model", dataset="docs@v2",
                 created=now - 200, started=now - 100, ended=now, train_seconds=95.0, step=4, total_steps=4,
                 memory_gib=0.5, estimated_peak_gib=0.4, device="cpu", precision="fp32", output="adapter",
                 trainable_params=1000, total_params=100000)
    log = EventLog(run)
    log.write("status", state="starting")
    log.write("data", examples=10, train=9, eval=1, train_tokens=900)
    log.write("status", state="running", step=0, total=4)
    log.write("eval", step=0, eval_loss=3.0)
    for step in range(1, 5):
        log.write("train", step=step, total=4, loss=3.0 - step * 0.3, learning_rate=1e-3 * (1 - step / 5),
                  grad_norm=1.0, memory_gib=0.5)
    log.write("eval", step=4, eval_loss=2.2468)
    log.write("status", state="finished", step=4)
    log.close()
    return run


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def hand_workspace(ws) -> Workspace:
    """The hand run, one evaluation with it and the base (plus an older one without it), and votes."""
    hand_run(ws)
    write_eval(ws, "20260101-010000", {"base": model_figures(0.0, 0.0), RUN_ID: model_figures(0.75, 0.5)},
               [EVIL, "two", "three", "four"])
    write_eval(ws, "20250101-010000", {"base": model_figures(0.1, 0.0), "other-run": model_figures(0.2, 0.0)},
               ["a"])
    path = votes_path(ws)
    for choice in ("A", "A", "B", "tie", "both_bad"):
        append_vote(path, Vote("p", RUN_ID, "base", "x", "y", choice))
    append_vote(path, Vote("p", "other-run", "base", "x", "y", "A"))  # not this run's: left out
    return ws


# --- a real run ------------------------------------------------------------------------------------------------


def _eval_command(*argv) -> int:
    from studio.evaluate.eval_command import configure_parser, run

    return run(configure_parser(argparse.ArgumentParser()).parse_args([str(a) for a in argv]))


@pytest.fixture(scope="session")
def real_workspace(tiny_model_dir, tmp_path_factory) -> tuple[Workspace, Path]:
    """Bundled intent data with four duplicated records, deduplicated into v2 as the Quality tab does; a LoRA run
    of the tiny model on v2 in the real worker; `python -m studio eval` of base and adapter; three votes."""
    from studio.assets import INTENT_CHAT_FILE, INTENT_EVAL_FILE
    from studio.data.ingest import ingest_paths
    from studio.quality.apply import apply_removals, write_report
    from studio.quality.dedup import find_duplicates
    from tests.integration.conftest import run_worker, write_recipe

    ws = Workspace.open(tmp_path_factory.mktemp("real") / "ws")
    records = ingest_paths([INTENT_CHAT_FILE]).records
    records += [{**r, "id": f"copy-{i}"} for i, r in enumerate(records[:4])]
    v1 = save_version(ws, "intents", records, operation="ingest", parameters={"file": "intent_chat.jsonl"})
    result = find_duplicates(records)
    kept, removed = apply_removals(records, result.removed)
    write_report(ws.reports / "intents" / "v1", "dedup", result.report, result.removed)
    save_version(ws, "intents", kept, operation="quality", parent=v1.ref, parameters={"unflagged": []},
                 removed=removed)
    run = ws.runs / "20260102-000000-tiny"
    recipe = write_recipe(run, tiny_model_dir, data={"dataset": "intents@v2"}, duration={"max_steps": 6},
                          checkpoint={"eval_steps": 3, "save_steps": 6})
    assert run_worker(recipe, run) == 0, (run / "worker.log").read_text(errors="replace")[-3000:]
    prompts = tmp_path_factory.mktemp("prompts") / "three.jsonl"
    prompts.write_text("".join(INTENT_EVAL_FILE.read_text(encoding="utf-8").splitlines(keepends=True)[:3]),
                       encoding="utf-8")
    out = ws.reports / "eval" / "20260102-010000" / "results.json"
    assert _eval_command("--base", tiny_model_dir, "--adapter", f"tiny={run / 'adapter'}", "--prompts", prompts,
                         "--out", out, "--max-new-tokens", "8") == 0
    for choice in ("A", "B", "A"):
        append_vote(votes_path(ws), Vote("p", run.name, "base", "x", "y", choice))
    return ws, run
