"""Which checkpoint a resume uses when some are damaged."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
from safetensors.torch import save_file

from studio.train.checkpoints import choose_resume, list_checkpoints, problem


def make_checkpoint(run, step: int):
    folder = run / "checkpoints" / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    save_file({"lora_A": torch.ones(4, 4)}, str(folder / "adapter_model.safetensors"))
    for name in ("optimizer.pt", "scheduler.pt"):
        torch.save({"step": step}, folder / name)
    return folder


def test_listing_is_by_step_not_by_name(tmp_path):
    for step in (10, 2, 100):
        make_checkpoint(tmp_path, step)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-2", "checkpoint-10", "checkpoint-100"]


@pytest.mark.parametrize("damage, reason", [
    (lambda f: (f / "trainer_state.json").write_text("{"), "trainer_state.json"),
    (lambda f: (f / "adapter_model.safetensors").write_bytes(b"\x08\x00"), "adapter_model.safetensors"),
    (lambda f: (f / "optimizer.pt").write_bytes((f / "optimizer.pt").read_bytes()[:40]), "optimizer.pt"),
    (lambda f: (f / "scheduler.pt").unlink(), "scheduler.pt missing"),
])
def test_each_kind_of_damage_is_named_and_resume_falls_back(tmp_path, damage, reason):
    make_checkpoint(tmp_path, 5)
    latest = make_checkpoint(tmp_path, 10)
    assert problem(latest) is None
    damage(latest)
    assert reason in problem(latest)
    chosen, messages = choose_resume(tmp_path)
    assert chosen.name == "checkpoint-5"
    assert len(messages) == 1 and "checkpoint-10" in messages[0]


def test_truncated_weights_are_caught(tmp_path):
    latest = make_checkpoint(tmp_path, 3)
    weights = latest / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-20])
    assert "damaged" in problem(latest)


def test_a_named_checkpoint_and_no_good_checkpoint(tmp_path):
    make_checkpoint(tmp_path, 5)
    make_checkpoint(tmp_path, 10)
    assert choose_resume(tmp_path, "checkpoint-5")[0].name == "checkpoint-5"
    with pytest.raises(FileNotFoundError):
        choose_resume(tmp_path, "checkpoint-7")
    (tmp_path / "checkpoints" / "checkpoint-5" / "trainer_state.json").unlink()
    (tmp_path / "checkpoints" / "checkpoint-10" / "trainer_state.json").unlink()
    chosen, messages = choose_resume(tmp_path)
    assert chosen is None and len(messages) == 2
    assert zipfile.is_zipfile(tmp_path / "checkpoints" / "checkpoint-5" / "optimizer.pt")


@pytest.mark.parametrize("layout", ["global_step6", "optimizer_0", "optimizer.bin"])
def test_multi_gpu_optimizer_layouts_count_as_resumable(tmp_path, layout):
    # DeepSpeed and FSDP runs keep optimizer state in their own files instead of optimizer.pt.
    folder = make_checkpoint(tmp_path, 6)
    (folder / "optimizer.pt").unlink()
    assert "optimizer.pt missing" in problem(folder)
    if layout == "optimizer.bin":
        torch.save({"step": 6}, folder / layout)
        assert problem(folder) is None
        (folder / layout).write_bytes((folder / layout).read_bytes()[:40])
        assert "optimizer.bin is damaged" in problem(folder)
    else:
        (folder / layout).mkdir()
        assert problem(folder) is None
