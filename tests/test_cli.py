"""The command line as a user runs it: real subprocesses, real exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import PLANNED

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "STUDIO_AUTH"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})})


def test_help_lists_every_subcommand():
    result = run("-m", "studio", "--help")
    assert result.returncode == 0
    for name in ("ui", "chunk", "dedup", "ppl", "estimate", "train", "eval", "merge", "check"):
        assert f"    {name} " in result.stdout


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_subcommands_not_built_yet_say_so_and_fail(name):
    result = run("-m", "studio", name, "anything")
    assert result.returncode != 0
    assert f"studio {name}: not built yet" in result.stderr


def test_check_accepts_the_shipped_recipes_and_names_problems(tmp_path):
    assert run("-m", "studio", "check", "recipes/cpu-demo.yaml").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  learning_rate: -1\n", encoding="utf-8")
    result = run("-m", "studio", "check", str(bad))
    assert result.returncode == 1
    assert "line 2, optim.learning_rate: must be > 0.0, got -1.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--share"]])
def test_app_refuses_to_expose_itself_without_auth(args, tmp_path):
    result = run("app.py", *args, "--workspace", str(tmp_path))
    assert result.returncode == 2
    assert "needs a password" in result.stderr and "Traceback" not in result.stderr


def test_app_refuses_a_model_that_is_neither_a_folder_nor_a_hub_id(tmp_path):
    result = run("app.py", "--model", str(tmp_path / "missing"), "--workspace", str(tmp_path))
    assert result.returncode == 2
    assert "no such model folder" in result.stderr and "Traceback" not in result.stderr
