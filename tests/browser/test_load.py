"""Five browser sessions use the Data and Compare tabs while a run trains (benchmarks/load.py, shortened): no
session sees an error and the run keeps training. The throughput figures come from the full benchmark.

The run trains on one torch thread here: on two cores, five Chromium page loads (~10 CPU-s each) behind a worker
that takes both cores left sessions waiting minutes for the page (a timeout is counted as an error). On a GPU
workstation the run leaves the cores to the browsers anyway."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_five_sessions_while_a_run_trains(tmp_path):
    figures = tmp_path / "load.json"
    command = [sys.executable, "benchmarks/load.py", "--sessions", "5", "--seconds", "20", "--quiet-s", "0",
               "--worker-threads", "1", "--json", str(figures)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.txt").write_text(done.stdout + done.stderr[-3000:], encoding="utf-8")
    assert figures.exists(), done.stdout + done.stderr[-3000:]
    result = json.loads(figures.read_text(encoding="utf-8"))
    sessions = result["sessions"]
    assert len(sessions) == 5
    assert [s["errors"] for s in sessions] == [[]] * 5, done.stdout
    assert all(s["chunked"] >= 1 and s["answered"] >= 1 for s in sessions), done.stdout
    assert result["run_alive"], done.stdout
    (load,) = result["windows"]
    assert load["last_step"] > load["first_step"], done.stdout  # the run kept training under the load
    assert done.returncode == 0, done.stdout
