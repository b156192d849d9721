"""The worker end to end on a tiny Llama: LoRA, QLoRA (4-bit NF4 on the CPU) and full runs, and their outputs."""

from __future__ import annotations

import json

import pytest
import torch

from studio.train.checkpoints import list_checkpoints
from studio.train.events import read_events, read_status
from tests.integration.conftest import run_worker, train_events, write_recipe

pytestmark = pytest.mark.slow


def test_lora_run_finishes_with_events_checkpoints_and_a_loadable_adapter(tmp_path, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir)
    assert run_worker(recipe, run) == 0
    status = read_status(run)
    assert status["state"] == "finished" and status["step"] == 12 and status["total_steps"] == 12
    assert status["output"] == "adapter" and status["trainable_params"] < status["total_params"]
    events = read_events(run).events
    steps = [e["step"] for e in events if e["kind"] == "train"]
    assert steps == list(range(1, 13))
    assert [e["step"] for e in events if e["kind"] == "eval"] == [0, 6, 12]  # eval before the first update too
    first = train_events(run)[0]
    for key in ("loss", "learning_rate", "grad_norm", "tokens_per_second", "samples_per_second", "memory_gib",
                "epoch", "total"):
        assert key in first, key
    assert first["tokens_per_second"] > 0 and first["memory_gib"] > 0.05
    assert [p.name for p in list_checkpoints(run)] == ["checkpoint-6", "checkpoint-12"]
    assert (run / "trainer_state.json").is_file() and (run / "recipe.yaml").is_file()
    card = (run / "adapter" / "README.md").read_text(encoding="utf-8")
    assert "base_model:" in card and "best eval loss" in card and "learning_rate: 0.005" in card

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[1, 5, 9, 13, 17, 21]])
    with torch.no_grad():
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, run / "adapter")
        after = tuned(ids).logits
    assert not torch.allclose(before, after, atol=1e-4)  # the LoRA B matrices left zero: training changed them


def test_qlora_trains_on_4bit_nf4_weights_on_the_cpu(tmp_path, tiny_model_dir):
    from safetensors import safe_open

    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, method="qlora",
                          quant={"quant_type": "nf4", "double_quant": True, "compute_dtype": "float32"},
                          duration={"max_steps": 4}, checkpoint={"save_steps": 4, "eval_steps": 4})
    assert run_worker(recipe, run) == 0, (run / "worker.log").read_text()[-3000:]
    status = read_status(run)
    assert status["state"] == "finished" and status["method"] == "qlora"
    log = (run / "worker.log").read_text()
    assert "qlora" in log
    with safe_open(str(run / "adapter" / "adapter_model.safetensors"), framework="pt") as handle:
        keys = list(handle.keys())
    assert keys and all("lora_" in k for k in keys)
    config = json.loads((run / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA"


def test_qlora_model_really_holds_4bit_weights(tiny_model_dir):
    import bitsandbytes as bnb

    from studio.recipe_io import recipe_from_dict
    from studio.train.model_setup import build_model

    recipe = recipe_from_dict({"method": "qlora", "model": {"name_or_path": str(tiny_model_dir)},
                               "quant": {"compute_dtype": "float32"}, "runtime": {"device": "cpu"}})
    model = build_model(recipe, cuda=False, precision="fp32")
    four_bit = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(four_bit) == 2 * 7  # q, k, v, o, gate, up, down in each of 2 layers
    assert four_bit[0].weight.quant_state.quant_type == "nf4"
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


def test_full_fine_tuning_saves_a_whole_model(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, method="full", lora=None, duration={"max_steps": 3},
                          checkpoint={"save_steps": 3, "eval_steps": 3}, optim={"learning_rate": 1e-3})
    text = recipe.read_text().replace("lora: null\n", "")
    recipe.write_text(text)
    assert run_worker(recipe, run) == 0, (run / "worker.log").read_text()[-3000:]
    assert read_status(run)["output"] == "model"
    trained = AutoModelForCausalLM.from_pretrained(run / "model")
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    changed = [n for (n, p), q in zip(trained.named_parameters(), base.parameters()) if not torch.equal(p, q)]
    assert len(changed) == len(list(base.parameters()))  # every weight was trained


def test_packing_with_gradient_checkpointing_trains_whole_rows(tmp_path, tiny_model_dir):
    run = tmp_path / "run"
    recipe = write_recipe(tmp_path, tiny_model_dir, data={"packing": True, "max_length": 256},
                          batch={"gradient_checkpointing": True}, duration={"max_steps": 3},
                          checkpoint={"save_steps": 3, "eval_steps": 3})
    assert run_worker(recipe, run) == 0, (run / "worker.log").read_text()[-3000:]
    data = [e for e in read_events(run).events if e["kind"] == "data"][0]
    assert data["packed_rows"] < data["train"]  # several examples per row
    first = train_events(run)[0]
    # Real tokens per sequence: a packed row of 256 carries several examples (one alone is ~64 tokens).
    assert first["tokens_per_second"] / first["samples_per_second"] > 150
    assert read_status(run)["state"] == "finished"
