"""The runner with real supervisor and worker processes: the queue, and runs that outlive the process that
launched them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studio.recipe_io import load_recipe
from studio.train import runner
from studio.train.events import EventCursor, read_events, read_status
from studio.workspace import Workspace
from tests.integration.conftest import ROOT, last_step, wait_for, worker_env, write_recipe

pytestmark = pytest.mark.slow


def test_a_second_launch_waits_in_the_queue_then_runs(tmp_path, tiny_model_dir):
    ws = Workspace.open(tmp_path / "ws")
    recipe = load_recipe(write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 6},
                                      checkpoint={"save_steps": 100, "eval_steps": 100}))
    first = runner.launch(ws, recipe)
    second = runner.launch(ws, recipe)
    third = runner.launch(ws, recipe)
    assert read_status(second)["state"] == "queued" and read_status(third)["state"] == "queued"
    assert [e["run"] for e in runner.read_queue(ws)] == [second.name, third.name]
    runner.move(ws, third.name, -1)  # reorder: third goes first
    runner.cancel(ws, second.name)
    rows = {r["run_id"]: r for r in runner.list_runs(ws)}
    assert rows[third.name]["queue_position"] == 1 and rows[second.name]["state"] == "cancelled"
    # Nobody polls: the first run's supervisor starts the next queued run when its worker ends.
    wait_for(lambda: read_status(third).get("state") == "finished", 240, "the queued run to finish", third)
    assert read_status(first)["state"] == "finished"
    assert read_status(first)["ended"] <= read_status(third)["started"]  # one at a time
    assert runner.read_queue(ws) == []
    with pytest.raises(runner.RunError, match="cancel"):
        runner.resume(ws, second.name)
    runner.delete(ws, second.name)
    assert not second.exists()


def test_a_run_outlives_the_ui_process_and_a_new_one_reattaches(tmp_path, tiny_model_dir):
    ws_root = tmp_path / "ws"
    recipe_path = write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 60},
                               checkpoint={"save_steps": 100, "eval_steps": 100, "logging_steps": 2})
    launcher = ("import sys; from studio.train import runner; from studio.recipe_io import load_recipe; "
                "from studio.workspace import Workspace; "
                "print(runner.launch(Workspace.open(sys.argv[1]), load_recipe(sys.argv[2])).name)")
    # The "UI" launches and exits at once, as a closed or crashed UI would.
    out = subprocess.run([sys.executable, "-c", launcher, str(ws_root), str(recipe_path)], cwd=ROOT,
                         env=worker_env(), capture_output=True, text=True, timeout=60, check=True)
    run = ws_root / "runs" / out.stdout.strip()
    ws = Workspace.open(ws_root)  # a new "UI" process finds the run on disk
    wait_for(lambda: last_step(run) >= 2, 120, "training to start", run)
    rows = runner.list_runs(ws)
    assert rows[0]["run_id"] == run.name and rows[0]["state"] == "running"
    cursor = read_events(run, EventCursor())
    seen = len([e for e in cursor.events if e["kind"] == "train"])
    wait_for(lambda: len([e for e in read_events(run, cursor).events if e["kind"] == "train"]) > seen, 60,
             "more points on the loss curve", run)
    wait_for(lambda: read_status(run).get("state") == "finished", 240, "the run to finish", run)
    assert [e["step"] for e in read_events(run).events if e["kind"] == "train"][-1] == 60
