"""The report of a run the studio really made: deduplicated data, the worker's events, `eval` results, votes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.evaluate.votes import read_votes, votes_path
from studio.train.events import read_events, read_status
from tests.report.test_page import section

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_the_report_of_a_real_run_has_its_real_figures(real_workspace, tmp_path):
    ws, run = real_workspace
    out = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "studio", "report", str(run), "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    status, events = read_status(run), read_events(run).events
    evals = [e for e in events if e["kind"] == "eval"]
    assert [e["step"] for e in evals] == [0, 3, 6]
    head = section(page, "run")
    assert f'<b id="final-eval-loss">{evals[-1]["eval_loss"]:.4g}</b> (step 6)' in head
    assert "6 / 6" in head and "finished" in head and "LoRA" in head

    data = section(page, "data")
    dedup = json.loads((ws.reports / "intents" / "v1" / "dedup.json").read_text(encoding="utf-8"))
    assert dedup["exact_duplicates"] == 4
    removed = dedup["removed"]  # the four copies and whatever near duplicates the sample data has
    assert f"made from <code>intents@v1</code> by <b>quality</b>, which removed {removed}" in data
    assert "exact duplicates</th><td>4</td>" in data and f"removed</th><td>{removed} (" in data
    assert "no dedup report for this version" in data  # v2 has none: the report was made on v1
    assert f"train</th><td>{next(e for e in events if e['kind'] == 'data')['train']}</td>" in data

    assert "dataset: intents@v2" in section(page, "recipe")
    memory = section(page, "memory")
    assert f"{status['memory_gib']:.2f}" in memory

    results = json.loads((ws.reports / "eval" / "20260102-010000" / "results.json").read_text(encoding="utf-8"))
    evaluation = section(page, "evaluation")
    mine = re.search(r'<tr class="mine">(.*?)</tr>', evaluation).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", mine)
    figures = results["models"]["tiny"]
    assert cells[0] == "tiny (this run)" and cells[1] == "3"
    assert cells[2] == f"{figures['json_valid_rate']:.1%}" and cells[5] == f"{figures['rouge_l']:.3f}"
    assert cells[6] == f"{figures['perplexity']:.4g}"

    examples = section(page, "examples")
    assert examples.count('class="example"') == 3 and "<h4>Base</h4>" in examples and "<h4>tiny</h4>" in examples
    import html

    assert html.escape(results["examples"][0]["outputs"]["tiny"]["text"]) in examples

    votes, _ = read_votes(votes_path(ws))
    assert len(votes) == 3
    row = re.findall(r"<td[^>]*>(.*?)</td>", section(page, "votes"))
    assert row[:8] == [run.name, "base", "3", "2", "1", "0", "0", "66.7%"]
    assert 'id="report-loss-plot"' in page and "<script src" not in page


def test_the_train_and_compare_buttons_write_the_report_under_reports_runs(real_workspace, tiny_model_dir):
    from studio.ui import compare_batch, train
    from studio.ui.compare_engine import EngineHolder

    ws, run = real_workspace
    message, update = train.make_report(ws, run.name)
    path = ws.reports / "runs" / run.name / "report.html"
    assert str(path) in message and update["value"] == str(path) and update["visible"] and path.is_file()
    message, update = train.make_report(ws, "no-such-run")
    assert message.startswith("⚠ no run named") and update["visible"] is False
    path.unlink()
    update = compare_batch.run_report(EngineHolder(ws, str(tiny_model_dir)), f"{run.name}@checkpoint-6")
    assert update["value"] == str(path) and path.is_file()
    import gradio as gr

    with pytest.raises(gr.Error, match="no adapter named"):
        compare_batch.run_report(EngineHolder(ws, str(tiny_model_dir)), "nope")
