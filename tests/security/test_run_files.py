"""A real run started as the UI starts it, with a Hub token and the UI password in the environment: neither may
appear in anything the run writes (worker.log, events, status, the recipe copy, the adapter folder)."""

import pytest

from studio.recipe_io import load_recipe
from studio.train import runner
from studio.train.events import read_status
from studio.workspace import Workspace
from tests.integration.conftest import wait_for, write_recipe

pytestmark = pytest.mark.slow

TOKEN = "hf_" + "RunFilesTestToken0123456789abcd"
PASSWORD = "Run-Files-Pa55word"


def test_a_run_writes_no_secret(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", TOKEN)
    monkeypatch.setenv("STUDIO_AUTH", f"ann:{PASSWORD}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ws = Workspace.open(tmp_path / "ws")
    recipe = load_recipe(write_recipe(tmp_path, tiny_model_dir, duration={"max_steps": 2},
                                      checkpoint={"save_steps": 100, "eval_steps": 100}))
    folder = runner.launch(ws, recipe)
    wait_for(lambda: read_status(folder).get("state") in ("finished", "failed"), 240, "the run to end", folder)
    assert read_status(folder)["state"] == "finished"
    written = [p for p in folder.rglob("*") if p.is_file()]
    assert {"worker.log", "events.jsonl", "status.json", "recipe.yaml"} <= {p.name for p in written}
    for path in written:
        data = path.read_bytes()
        assert TOKEN.encode() not in data and PASSWORD.encode() not in data, path
