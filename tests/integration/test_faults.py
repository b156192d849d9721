"""Faults a run must survive, on real worker processes: signals, kill -9, divergence, OOM, damaged checkpoints."""

from __future__ import annotations

import os
import signal

import pytest

from studio.train.checkpoints import list_checkpoints, problem
from studio.train.events import read_events, read_status
from tests.integration.conftest import last_step, run_worker, start_worker, train_events, wait_for, write_recipe

pytestmark = pytest.mark.slow

LONG = {"duration": {"max_steps": 2000}, "checkpoint": {"save_steps": 5, "eval_steps": 1000}}


def test_sigint_stops_gracefully_with_a_checkpoint_and_the_adapter(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    proc = start_worker(write_recipe(tmp_path, tiny_model_dir, **LONG), run)
    wait_for(lambda: last_step(run) >= 3, 120, "step 3", run)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 0
    status = read_status(run)
    assert status["state"] == "stopped" and status["output"] == "adapter"
    stopped_at = status["step"]
    assert stopped_at < 2000
    assert f"checkpoint-{stopped_at}" in [p.name for p in list_checkpoints(run)]
    assert problem(run / "checkpoints" / f"checkpoint-{stopped_at}") is None
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    kinds = [(e["kind"], e.get("state")) for e in read_events(run).events]
    assert ("status", "stopping") in kinds and kinds[-1] == ("status", "stopped")


def test_a_diverging_run_at_learning_rate_1e3_is_stopped_with_an_alert(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, optim={"learning_rate": 1e3, "max_grad_norm": 0.0},
                          duration={"max_steps": 200}, checkpoint={"save_steps": 1, "eval_steps": 1000})
    assert run_worker(recipe, run) == 4
    status = read_status(run)
    assert status["state"] == "failed"
    alerts = [e for e in read_events(run).events if e["kind"] == "alert" and e["stop"]]
    # In fp32 this tiny model saturates (uniform output, gradient norm exactly 0) rather than reaching NaN.
    assert len(alerts) == 1 and alerts[0]["alert"] in ("nan_loss", "nan_grad", "diverged", "vanished")
    assert alerts[0]["step"] < 20 and "learning rate" in alerts[0]["message"]
    # Only checkpoints from before the trouble began are kept as "good".
    since = alerts[0].get("since_step", alerts[0]["step"])
    assert list_checkpoints(run) and all(int(p.name.split("-")[1]) < since for p in list_checkpoints(run))
    assert status["last_good_checkpoint"] == list_checkpoints(run)[-1].name
    assert not (run / "adapter").exists()


def test_injected_out_of_memory_ends_with_an_alert_and_advice(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 20})
    assert run_worker(recipe, run, STUDIO_FAULT_OOM_AT_STEP="3") == 3
    status = read_status(run)
    assert status["state"] == "failed" and "out of memory" in status["error"]
    alert = [e for e in read_events(run).events if e["kind"] == "alert"][-1]
    assert alert["alert"] == "oom" and alert["step"] == 2
    from studio.estimate.catalogue import load_shape
    from studio.estimate.vram import advise, settings_from_recipe
    from studio.recipe_io import load_recipe

    expected = advise(load_shape(str(tiny_model_dir)), settings_from_recipe(load_recipe(recipe)))
    assert expected and [a.split(" (saves")[0] for a in alert["advice"]] == [a.action for a in expected[:4]]
    assert "OutOfMemoryError" in (run / "worker.log").read_text()


def test_resume_falls_back_past_a_damaged_latest_checkpoint(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir)
    assert run_worker(recipe, run) == 0
    latest = run / "checkpoints" / "checkpoint-12" / "adapter_model.safetensors"
    latest.write_bytes(latest.read_bytes()[:1000])  # a save cut short
    assert problem(latest.parent) is not None
    assert run_worker(recipe, run, "--resume", "latest") == 0
    events = read_events(run).events
    damaged = [e for e in events if e.get("alert") == "checkpoint_damaged"]
    assert damaged and "checkpoint-12" in damaged[0]["message"]
    resumed = [e for e in events if e.get("state") == "resuming"]
    assert resumed[-1]["resumed_from_step"] == 6
    after = [e["step"] for e in events[events.index(resumed[-1]):] if e["kind"] == "train"]
    assert after == list(range(7, 13))  # the curve continues from the checkpoint's step
    assert read_status(run)["state"] == "finished"


def test_resume_continues_the_loss_curve_without_a_jump(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 12},
                          checkpoint={"save_steps": 6, "eval_steps": 1000})
    assert run_worker(recipe, run) == 0
    straight = {e["step"]: e["loss"] for e in train_events(run)}
    for extra in ("checkpoint-12",):
        import shutil

        shutil.rmtree(run / "checkpoints" / extra)
    (run / "events.jsonl").unlink()
    assert run_worker(recipe, run, "--resume", "checkpoint-6") == 0
    resumed = {e["step"]: e["loss"] for e in train_events(run)}
    assert sorted(resumed) == list(range(7, 13))
    # Optimizer, scheduler, RNG and data order restored: the same losses as the uninterrupted run.
    for step in resumed:
        assert resumed[step] == pytest.approx(straight[step], rel=1e-4), step


def test_kill_9_mid_run_is_reported_and_resume_continues_from_the_last_checkpoint(tmp_path, tiny_model_dir):
    from studio.recipe_io import load_recipe
    from studio.train import runner
    from studio.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws")
    recipe = load_recipe(write_recipe(tmp_path, tiny_model_dir, **LONG))
    run = runner.launch(ws, recipe)
    wait_for(lambda: len(list_checkpoints(run)) >= 1 and last_step(run) >= 7, 180, "a checkpoint and step 7", run)
    pid = read_status(run)["pid"]
    os.kill(pid, signal.SIGKILL)
    status = wait_for(lambda: (s := read_status(run)).get("state") == "failed" and s, 60, "failed status", run)
    assert "SIGKILL" in status["error"] and status["exit_code"] == -9
    # The kill may land while a checkpoint is being written (measured in CI: checkpoint-10 without its
    # trainer_state.json); only that one may be damaged, and resume continues from the newest intact one.
    checkpoints = list_checkpoints(run)
    assert all(problem(c) is None for c in checkpoints[:-1]), [problem(c) for c in checkpoints]
    last = [c for c in checkpoints if problem(c) is None][-1]
    killed_at = max(e["step"] for e in train_events(run))
    runner.resume(ws, run.name)
    wait_for(lambda: last_step(run) > killed_at + 2 and read_status(run).get("state") == "running", 180,
             "resumed steps", run)
    resumed = [e for e in read_events(run).events if e.get("state") == "resuming"][-1]
    assert resumed["resumed_from_step"] == int(last.name.split("-")[1])
    assert runner.stop(ws, run.name) == "stopping"
    wait_for(lambda: read_status(run).get("state") == "stopped", 120, "stopped", run)
    # The report spans both attempts: from the killed one's start, not the resumed one's.
    from studio.report.collect import collect_report

    summary = collect_report(run).run
    starts = [e["time"] for e in read_events(run).events if e["kind"] == "status" and e.get("state") == "starting"]
    assert len(starts) == summary.attempts == 2 and summary.started == starts[0] < read_status(run)["started"]
    assert summary.ended == read_status(run)["ended"] and summary.resumed_from == (resumed["resumed_from_step"],)
