"""Real training runs of a tiny model in real worker processes, with faults injected from outside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.train.events import read_events, read_status

ROOT = Path(__file__).resolve().parents[2]


def write_recipe(folder: Path, model_dir: Path, **overrides) -> Path:
    """A small LoRA recipe on the tiny model and the bundled intent data; `overrides` are section dicts."""
    recipe = {
        "name": "tiny", "method": "lora",
        "model": {"name_or_path": str(model_dir), "dtype": "float32"},
        "data": {"dataset": "bundled:intent_chat", "max_length": 96, "eval_split": 0.1},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "optim": {"learning_rate": 5e-3, "weight_decay": 0.0},
        "schedule": {"warmup_ratio": 0.0},
        "batch": {"per_device_batch_size": 4, "gradient_accumulation_steps": 1},
        "duration": {"max_steps": 12},
        "checkpoint": {"logging_steps": 1, "eval_steps": 6, "save_steps": 6, "save_total_limit": 3},
        "runtime": {"device": "cpu", "precision": "fp32", "seed": 7},
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            recipe[section] = {**recipe.get(section, {}), **values}
        else:
            recipe[section] = values
    folder.mkdir(parents=True, exist_ok=True)
    import yaml

    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def worker_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **extra}
    env.pop("STUDIO_FAULT_OOM_AT_STEP", None)
    env.update(extra)
    return env


def start_worker(recipe: Path, run_dir: Path, *args: str, **env: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "studio", "train", str(recipe), "--run-dir", str(run_dir), "--no-echo", *args]
    return subprocess.Popen(command, cwd=ROOT, env=worker_env(**env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_worker(recipe: Path, run_dir: Path, *args: str, timeout: float = 300, **env: str) -> int:
    proc = start_worker(recipe, run_dir, *args, **env)
    return proc.wait(timeout=timeout)


def wait_for(predicate, timeout: float, what: str, run_dir: Path | None = None):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    log = (run_dir / "worker.log").read_text(errors="replace")[-3000:] if run_dir else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")


def train_events(run_dir: Path) -> list[dict]:
    return [e for e in read_events(run_dir).events if e["kind"] == "train"]


def last_step(run_dir: Path) -> int:
    return read_status(run_dir).get("step") or 0


__all__ = ["json", "signal", "write_recipe", "start_worker", "run_worker", "wait_for", "train_events", "last_step"]
