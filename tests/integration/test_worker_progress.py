"""A run launched as the Train tab launches it (runner → supervisor → worker, output into worker.log): a progress
event at every step between the logged ones, and a log without the libraries' start-up noise."""

from __future__ import annotations

import pytest

from studio.recipe_io import load_recipe
from studio.train import runner
from studio.train.curves import curves, progress
from studio.train.events import read_events, read_status
from studio.workspace import Workspace
from tests.integration.conftest import wait_for, write_recipe

pytestmark = pytest.mark.slow

# bitsandbytes logs its kernels warning only on a CPU with AVX512-BF16, which this machine may lack: the worker's
# interpreter is told it has one, right after bitsandbytes.functional runs and before its CPU backend reads it, so
# the library's own code takes that branch (and finds no `kernels` package, as on such a machine).
ARM_AVX512_BF16 = '''
import importlib.machinery, os, sys

class _ArmAvx512Bf16:
    def find_spec(self, name, path=None, target=None):
        if name != "bitsandbytes.functional":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.has_avx512bf16 = lambda: True
            open(os.environ["STUDIO_TEST_ARMED"], "a").close()

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _ArmAvx512Bf16())
'''
NOISE = ("gemm_4bit_forward", "No module named 'kernels'", "is_gradient_checkpointing", "FutureWarning")


def test_a_launched_run_writes_every_step_and_logs_no_library_noise(tmp_path, tiny_model_dir, monkeypatch):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(ARM_AVX512_BF16, encoding="utf-8")
    armed = tmp_path / "armed"
    monkeypatch.setenv("PYTHONPATH", str(hook))  # the runner puts the project first and keeps this after it
    monkeypatch.setenv("STUDIO_TEST_ARMED", str(armed))
    ws = Workspace.open(tmp_path / "ws")
    recipe = load_recipe(write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 4},
                                      checkpoint={"logging_steps": 3, "save_steps": 100, "eval_steps": 100}))
    run = runner.launch(ws, recipe)
    wait_for(lambda: (s := read_status(run)).get("state") in ("finished", "failed")
             and not runner.pid_alive(s.get("supervisor_pid")), 180, "the run to end", run)
    status = read_status(run)
    log = (run / "worker.log").read_text(encoding="utf-8", errors="replace")
    assert status["state"] == "finished", log[-3000:]
    assert armed.exists()  # the worker really went down bitsandbytes' AVX512-BF16 branch
    assert "training: step 0 of 4" in log and "finished at step 4" in log
    assert [line for line in log.splitlines() if any(n in line for n in NOISE)] == []

    events = read_events(run).events
    assert [e["step"] for e in events if e["kind"] == "progress"] == [1, 2, 3, 4]
    assert all(e["total"] == 4 and "loss" not in e for e in events if e["kind"] == "progress")
    assert [e["step"] for e in events if e["kind"] == "train"] == [1, 3]  # the loss: first, then every 3rd step
    assert curves(events).loss.steps == [1, 3]  # the plots ignore progress events
    done = progress(events, status, live=False, now=0.0)
    assert (done.step, done.total, done.phase) == (4, 4, "finished")
