"""The Train tab without a browser: table rows, readouts, incremental polls, handlers' messages, Configure's ETA."""

from __future__ import annotations

import json

import pytest

from studio.estimate.schedule import schedule_summary
from studio.recipe_io import load_recipe
from studio.train import runner
from studio.train.events import EventLog, write_status
from studio.ui import train as tab
from studio.ui import train_views as views
from studio.ui.configure import eta_markdown
from studio.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    return Workspace.open(tmp_path / "ws")


def fake_run(ws: Workspace, run_id: str, **status) -> EventLog:
    """A run folder as the worker leaves it, with no process behind it (so it must not claim to be live)."""
    folder = ws.runs / run_id
    folder.mkdir()
    write_status(folder, run_id=run_id, method="lora", model="bundled:demo-model", dataset="bundled:intent_chat",
                 **status)
    (folder / "worker.log").write_text("step 1/10 loss 2.0\nstopped at step 2\n")
    log = EventLog(folder)
    log.write("status", state="starting")
    log.write("status", state="running", step=0, total=10)
    return log


def test_run_row_formats_every_column():
    row = views.run_row({"run_id": "r1", "state": "stopped", "method": "lora", "model": "m", "dataset": "d@v2",
                         "step": 30, "total_steps": 360, "best_eval_loss": 1.23456, "started": 100.0,
                         "ended": 3825.0, "memory_gib": 0.7, "estimated_peak_gib": 0.733, "output": "adapter",
                         "queue_position": None}, now=10_000.0)
    assert row == ["r1", "stopped", "lora", "m", "d@v2", "30 / 360", "1.2346", "1 h 02 min", "0.70 / 0.73",
                   "runs/r1/adapter", ""]
    queued = views.run_row({"run_id": "r2", "state": "queued", "queue_position": 2}, now=0.0)
    assert queued[5] == "—" and queued[7] == "—" and queued[8] == "— / —" and queued[-1] == "2"
    assert len(row) == len(views.RUN_COLUMNS) == len(views.COLUMN_WIDTHS)


def test_alerts_list_spikes_with_samples_oom_advice_and_the_failure():
    events = [{"kind": "alert", "alert": "loss_spike", "step": 12, "message": "loss spike at step 12",
               "sample_ids": [f"s{i}" for i in range(10)]},
              {"kind": "alert", "alert": "oom", "step": 3, "message": "out of memory", "advice": ["use QLoRA"]},
              {"kind": "train", "step": 1, "loss": 1.0}]
    text = views.alerts_markdown({"state": "failed", "error": "out of memory (boom)"}, events)
    assert "`loss_spike`" in text and "s9" in text and "try: use QLoRA" in text and "**failed**" in text
    assert views.alerts_markdown({"state": "running"}, []) == "No alerts."


def test_progress_readout_shows_state_step_and_eta():
    events = [{"kind": "status", "state": "starting", "time": 0.0},
              {"kind": "train", "step": 10, "total": 100, "loss": 1.0, "time": 10.0},
              {"kind": "train", "step": 20, "total": 100, "loss": 1.0, "time": 20.0}]
    html = views.progress_html({"state": "running"}, events, now=25.0)
    assert "<b id='train-state'>running</b>" in html and "<b id='train-step'>20</b> / 100 (20%)" in html
    assert "ETA 1 min 20 s at 1.00 steps/s" in html and "elapsed 25 s" in html
    assert "No run selected" in views.progress_html({}, [], now=0.0)


def test_refresh_reads_only_what_changed(ws):
    log = fake_run(ws, "20260101-000000-a", state="stopped", step=2, total_steps=10, started=0.0, ended=5.0)
    log.write("train", step=1, total=10, loss=2.0, learning_rate=1e-3, grad_norm=1.0, tokens_per_second=50.0)
    view = views.TrainView()
    first = views.refresh(ws, view, None, [], False)
    assert first.selected == "20260101-000000-a" and first.run_ids == ["20260101-000000-a"]  # newest selected
    assert first.rows[0][1] == "stopped" and "stopped at step 2" in first.log
    assert first.checkpoints == [views.LATEST] and len(first.figures) == 4
    again = views.refresh(ws, view, first.selected, [], False)
    assert (again.rows, again.run_ids, again.figures, again.log, again.progress, again.checkpoints) == (None,) * 6
    log.write("train", step=2, total=10, loss=1.5)
    (ws.runs / first.selected / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    soon = views.refresh(ws, view, first.selected, [], False)
    assert soon.figures is None  # new points are drawn at most every FIGURES_EVERY_S, the rest at once
    assert soon.checkpoints == [views.LATEST, "checkpoint-2"]
    view.figures_at -= views.FIGURES_EVERY_S
    grown = views.refresh(ws, view, first.selected, [], False)
    assert list(grown.figures[0].data[0].x) == [1, 2]
    assert view.cursors[first.selected].offset == (ws.runs / first.selected / "events.jsonl").stat().st_size
    forced = views.refresh(ws, view, first.selected, [], False, force=True)
    assert forced.rows is not None and forced.figures is not None and forced.run_ids is not None


def test_refresh_with_overlays_and_no_runs(ws):
    empty = views.refresh(ws, views.TrainView(), None, [], False)
    assert empty.selected is None and empty.rows == [] and "No run selected" in empty.progress
    fake_run(ws, "20260101-000000-a", state="finished").write("train", step=1, loss=2.0)
    fake_run(ws, "20260102-000000-b", state="finished").write("train", step=1, loss=1.0)
    r = views.refresh(ws, views.TrainView(), "20260101-000000-a", ["20260102-000000-b", "gone"], False, force=True)
    names = [t.name for t in r.figures[0].data]
    assert names[0] == "20260101-000000-a: train loss (raw)" and any(n.startswith("20260102") for n in names)


def test_dead_run_claiming_to_run_is_shown_failed(ws):
    fake_run(ws, "20260101-000000-a", state="running", pid=999_999_999)
    r = views.refresh(ws, views.TrainView(), None, [], False)
    assert r.rows[0][1] == "failed" and "without a final status" in r.alerts


def test_launch_names_the_bad_fields_and_launches_a_good_recipe(ws, monkeypatch):
    recipe = load_recipe("recipes/cpu-demo.yaml")
    message, _ = tab.launch_recipe(ws, lambda: tab.recipe_file(ws.root, "missing.yaml"))
    assert message.startswith("**Not launched: 1 problem(s)**") and "`(file)`" in message
    recipe.data.dataset = "nothing@v1"
    message, _ = tab.launch_recipe(ws, lambda: recipe)
    assert "Not launched" in message and "data.dataset" in message
    recipe.data.dataset = "bundled:intent_chat"
    monkeypatch.setattr(runner, "tick", lambda ws: None)  # queue it, start nothing
    message, update = tab.launch_recipe(ws, lambda: recipe)
    run_id = update["value"]
    assert f"Launched **{run_id}**: queued at position 1" in message and run_id.endswith("cpu-demo")
    assert json.loads((ws.runs / run_id / "status.json").read_text())["state"] == "queued"


def test_actions_turn_run_errors_into_messages(ws):
    fake_run(ws, "20260101-000000-a", state="stopped")
    assert tab.act(lambda: runner.stop(ws, "20260101-000000-a")).startswith("⚠ 20260101-000000-a is stopped")
    assert tab.act(lambda: runner.cancel(ws, "nope")).startswith("⚠ no run named")
    assert "confirm delete" in tab.delete_run(ws, "20260101-000000-a", confirmed=False)
    assert tab.delete_run(ws, "20260101-000000-a", confirmed=True) == "Deleted 20260101-000000-a."
    assert not (ws.runs / "20260101-000000-a").exists()


def test_configure_eta_uses_the_throughput_of_an_earlier_run(ws):
    recipe = load_recipe("recipes/cpu-demo.yaml")
    summary = schedule_summary(396, recipe)
    assert eta_markdown(ws, recipe, summary).startswith("ETA unknown until a run of `bundled:demo-model`")
    log = fake_run(ws, "20260101-000000-a", state="finished", ended=10.0)
    log.write("data", train=356, train_tokens=22784)  # 64 real tokens per example
    log.write("train", step=1, loss=1.0, tokens_per_second=512.0)
    # 360 steps × 8 samples × 64 tokens / 512 tokens/s = 360 s
    assert eta_markdown(ws, recipe, summary).startswith("ETA ≈ **6 min** at 512 tokens/s")
    recipe.data.dataset = "other@v1"  # other data: every sequence at max length, an upper bound
    assert eta_markdown(ws, recipe, summary).startswith("ETA ≤")


def test_progress_readout_while_a_run_starts_trains_and_once_it_stopped():
    events = [{"kind": "status", "state": "starting", "time": 0.0}]
    loading = views.progress_html({"state": "starting"}, events, now=3.0)
    assert "<b id='train-state'>starting: loading model…</b>" in loading
    assert "<progress max=" in loading  # no value: the browser draws a busy bar
    events.append({"kind": "status", "state": "running", "step": 0, "total": 10, "time": 4.0})
    first = views.progress_html({"state": "running"}, events, now=5.0)
    assert "<b id='train-state'>starting: first training step…</b>" in first and "<progress max=" in first
    events += [{"kind": "progress", "step": s, "total": 10, "time": 5.0 + s} for s in (1, 2, 3)]
    running = views.progress_html({"state": "running"}, events, now=8.0)
    assert "<b id='train-state'>running</b>" in running and "<b id='train-step'>3</b> / 10 (30%)" in running
    assert "<progress value='3' max='10'" in running and "ETA 7 s at 1.00 steps/s" in running
    events.append({"kind": "status", "state": "stopped", "step": 3, "time": 9.0})
    stopped = views.progress_html({"state": "stopped"}, events, now=100.0)
    assert "<b id='train-state'>stopped</b>" in stopped and "ETA" not in stopped and "elapsed 9 s" in stopped


def test_the_message_line_says_how_the_shown_run_ended_once_it_ends(ws):
    import subprocess
    import sys

    run_id = "20260101-000000-a"
    # A process whose command line names the studio, so the run's status counts as live.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "studio"])
    try:
        log = fake_run(ws, run_id, state="running", pid=sleeper.pid, total_steps=10, step=1)
        log.write("progress", step=1, total=10)
        log.write("progress", step=2, total=10)
        view = views.TrainView()
        first = views.refresh(ws, view, None, [], False)
        assert first.reselected and first.message is None
        assert first.rows[0][5] == "2 / 10"  # the step the bar shows, not status.json's last logged step
        write_status(ws.runs / run_id, state="stopping")
        going = views.refresh(ws, view, run_id, [], False)
        assert not going.reselected and going.message is None
        write_status(ws.runs / run_id, state="stopped", step=2, output="adapter")
        ended = views.refresh(ws, view, run_id, [], False)
        assert ended.message == (f"**{run_id}** stopped at step 2; the checkpoint and the adapter are saved in "
                                 f"`runs/{run_id}/adapter`. Resume continues from the last checkpoint.")
        assert views.refresh(ws, view, run_id, [], False, force=True).message is None  # said once
        assert views.refresh(ws, views.TrainView(), run_id, [], False).message is None  # a new page: no news
    finally:
        sleeper.kill()
        sleeper.wait()
    assert views.final_message({"run_id": "r", "state": "failed", "error": "out of memory"}, 4) == \
        "**r** failed at step 4: out of memory"
    assert views.final_message({"run_id": "r", "state": "finished", "output": "adapter"}, 9) == \
        "**r** finished at step 9; the adapter is saved in `runs/r/adapter`."
    assert "stopped without saving" in views.final_message(
        {"run_id": "r", "state": "stopped", "error": "stopped without saving: killed by SIGKILL"}, 3)
    assert "before training began" in views.final_message({"run_id": "r", "state": "stopped"}, 0)
    assert views.final_message({"run_id": "r", "state": "running"}, 0) is None


def test_a_poll_never_puts_back_the_run_that_a_launch_selected_away_from(ws):
    fake_run(ws, "20260101-000000-a", state="stopped")
    view = views.TrainView()
    views.refresh(ws, view, None, [], False)
    # A launch created b and selected it while this poll was reading the picker, which still held a.
    fake_run(ws, "20260102-000000-b", state="queued")
    r = views.refresh(ws, view, "20260101-000000-a", [], False)
    picker = tab.outputs(r, view, [])[2]
    assert picker["choices"] == ["20260102-000000-b", "20260101-000000-a"] and "value" not in picker
    gone = tab.outputs(views.refresh(ws, view, "20251231-000000-deleted", [], False), view, [])[2]
    assert gone["value"] == "20260102-000000-b"  # a run that is no more is replaced by the newest
