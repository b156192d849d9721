"""The worker under `accelerate launch` with two CPU processes (gloo), against one process doing the same work.

Two processes with micro-batch 4 and no accumulation see the same 8 sequences per optimizer step as one process
with micro-batch 4 and accumulation 2: accelerate's sampler shards each step's batches between the ranks in order
(rank 0 the first 4 of the seeded permutation, rank 1 the next 4), the Trainer divides every rank's token-summed
loss by the token count of the whole step (all-gathered), and DDP averages the gradients. The optimizer updates
therefore agree up to float32 summation order, and so do the logged losses.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import pytest

from studio.recipe_io import load_recipe
from studio.train.checkpoints import list_checkpoints, problem
from studio.train.events import read_events, read_status
from studio.train.scaleout import plan_launch
from tests.integration.conftest import ROOT, last_step, start_worker, wait_for, worker_env, write_recipe

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("accelerate") is None, reason="the accelerate launcher is missing")]

STEPS = 6
# Per-step tolerance on the logged train loss and grad norm. Both runs compute the same float32 sums, and on this CPU
# they agree to the last bit: the ranks' losses are scaled by 2 and their gradients averaged over 2 (both exact in
# binary floating point), and gloo adds the two ranks' gradients in the order accumulation adds the two
# micro-batches. Another reduction order would move them by float32 rounding, ~1e-6 relative after a few steps.
# A real fault is much larger: with each step training on 4 samples instead of the 8 the losses differ from this
# trajectory by 2.5e-4 at step 1 and 1.7e-3 to 4e-3 relative from step 2 on (measured on this model and data), grad
# norms by up to 28%, and a missing gradient average doubles the grad norm. 1e-4 is 100x above the rounding and
# still below the smallest fault measured.
REL_TOL = 1e-4


def recipe_for(folder, model_dir, accumulation: int, gpus: int, **overrides):
    # Two processes need batch.num_gpus 2, which the recipe check allows only off runtime.device cpu: device auto
    # with no visible GPU (CUDA_VISIBLE_DEVICES="") trains on the CPU with gloo.
    return write_recipe(folder, model_dir, data={"eval_split": 0.05},
                        batch={"per_device_batch_size": 4, "gradient_accumulation_steps": accumulation,
                               "num_gpus": gpus},
                        runtime={"device": "auto" if gpus > 1 else "cpu"}, **overrides)


def launch_two(tmp_path, recipe, *where: str):
    """`accelerate launch` with the config the Configure tab offers for ddp on 2 GPUs (a free port, no echo)."""
    config = tmp_path / "accelerate-ddp.yaml"
    plan = plan_launch(load_recipe(recipe), "ddp", str(recipe), str(config), str(tmp_path))
    config.write_text(plan.config_yaml, encoding="utf-8")
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
               "--main_process_port", "0", "-m", "studio", "train", str(recipe), *where, "--no-echo"]
    return subprocess.Popen(command, cwd=ROOT, env=worker_env(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1"),
                            stdin=subprocess.DEVNULL, stdout=open(tmp_path / "launcher.log", "w"),
                            stderr=subprocess.STDOUT)


def logs(run, tmp_path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in [tmp_path / "launcher.log",
                                                                      *sorted(run.glob("worker*.log"))])


def by_step(events, kind):
    return {e["step"]: e for e in events if e["kind"] == kind}


def test_two_processes_follow_the_loss_of_one_with_doubled_accumulation(tmp_path, tiny_model_dir):
    one, two = tmp_path / "one", tmp_path / "two"
    duration = {"duration": {"max_steps": STEPS}, "checkpoint": {"eval_steps": 3, "save_steps": STEPS}}
    # Both at once: starting Python and importing torch is most of each run's time, and it is single-threaded.
    single = start_worker(recipe_for(tmp_path / "a", tiny_model_dir, 2, 1, **duration), one)
    launcher = launch_two(tmp_path, recipe_for(tmp_path / "b", tiny_model_dir, 1, 2, **duration), "--run-dir",
                          str(two))
    assert single.wait(timeout=300) == 0, (one / "worker.log").read_text()[-3000:]
    assert launcher.wait(timeout=300) == 0, logs(two, tmp_path)

    status = read_status(two)
    assert status["state"] == "finished" and status["step"] == STEPS and status["processes"] == 2
    assert (two / "adapter" / "adapter_model.safetensors").is_file()
    # Rank 0 alone wrote the run's files; rank 1 only its own log.
    assert sorted(p.name for p in two.iterdir() if p.suffix in (".json", ".jsonl", ".log")) == [
        "events.jsonl", "status.json", "trainer_state.json", "worker-rank1.log", "worker.log"]
    events = read_events(two).events
    assert [e["step"] for e in events if e["kind"] == "train"] == list(range(1, STEPS + 1))
    assert [e["step"] for e in events if e["kind"] == "eval"] == [0, 3, 6]
    assert [e["state"] for e in events if e["kind"] == "status"].count("finished") == 1
    assert [e["step"] for e in events if e["kind"] == "checkpoint"] == [STEPS]

    single, double = by_step(read_events(one).events, "train"), by_step(events, "train")
    for step in range(1, STEPS + 1):
        a, b = single[step], double[step]
        assert b["loss"] == pytest.approx(a["loss"], rel=REL_TOL), (step, a["loss"], b["loss"])
        assert b["learning_rate"] == pytest.approx(a["learning_rate"], rel=1e-9)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=REL_TOL), step
    print("loss differences (relative):",
          [f"{abs(double[s]['loss'] - single[s]['loss']) / single[s]['loss']:.1e}" for s in range(1, STEPS + 1)])


def test_sigint_to_the_launcher_stops_both_processes_at_one_step_with_a_checkpoint(tmp_path, tiny_model_dir):
    # No --run-dir: rank 0 makes a run folder in the workspace and the other rank finds it.
    runs = tmp_path / "ws" / "runs"
    recipe = recipe_for(tmp_path, tiny_model_dir, 1, 2, duration={"max_steps": 2000},
                        checkpoint={"save_steps": 1000, "eval_steps": 1000})
    launcher = launch_two(tmp_path, recipe, "--workspace", str(tmp_path / "ws"))
    run = wait_for(lambda: next((p for p in runs.glob("*") if p.is_dir()), None), 240, "a run folder")
    wait_for(lambda: last_step(run) >= 2, 240, "step 2", run)
    launcher.send_signal(signal.SIGINT)  # the launcher forwards it once to each worker (its own session)
    code = launcher.wait(timeout=120)
    # The launcher re-raises the signal after its workers exit, so its own code is not 0; status.json says how
    # the run ended.
    assert code != 0
    status = read_status(run)
    assert status["state"] == "stopped" and status["output"] == "adapter" and status["exit_code"] == 0, \
        logs(run, tmp_path)
    stopped_at = status["step"]
    assert 2 <= stopped_at < 2000
    assert [p.name for p in list_checkpoints(run)] == [f"checkpoint-{stopped_at}"]
    assert problem(run / "checkpoints" / f"checkpoint-{stopped_at}") is None
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    # Rank 1 stopped at the same step (it would hang in the next all-reduce otherwise).
    assert f"stopped at step {stopped_at}" in (run / "worker-rank1.log").read_text()
    kinds = [(e["kind"], e.get("state")) for e in read_events(run).events]
    assert kinds.count(("status", "stopping")) == 1 and kinds[-1] == ("status", "stopped")
    assert [p.name for p in runs.iterdir() if p.name != ".queue.lock"] == [run.name]  # one folder, note removed
