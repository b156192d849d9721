"""Model references resolve to the bundled model, local folders or Hub ids, and load without surprises."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from studio.assets import DEMO_MODEL_DIR
from studio.config import DEMO_MODEL, ModelConfig
from studio.models import load_model, load_tokenizer, resolve_model


def test_bundled_reference_is_the_demo_folder():
    source = resolve_model(DEMO_MODEL)
    assert source.is_local and source.location == str(DEMO_MODEL_DIR)


def test_local_folder_absolute_and_relative(tiny_model_dir, monkeypatch):
    assert resolve_model(str(tiny_model_dir)).location == str(tiny_model_dir.resolve())
    monkeypatch.chdir(tiny_model_dir.parent)
    source = resolve_model(f"./{tiny_model_dir.name}")
    assert source.is_local and source.location == str(tiny_model_dir.resolve())


def test_hub_ids_are_passed_through_untouched():
    source = resolve_model("Qwen/Qwen2.5-7B-Instruct")
    assert (source.is_local, source.location) == (False, "Qwen/Qwen2.5-7B-Instruct")


@pytest.mark.parametrize("reference, message", [
    ("./no/such/folder", "no such model folder"),
    ("not a model id", "not a Hub id"),
    ("bundled:nothing", "bundled:nothing does not exist"),
])
def test_bad_references_say_what_is_wrong(reference, message):
    with pytest.raises(FileNotFoundError, match=message):
        resolve_model(reference)


def test_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_tiny_local_model_loads_and_runs(tiny_model_dir):
    cfg = ModelConfig(name_or_path=str(tiny_model_dir), dtype="float32")
    tokenizer, model = load_tokenizer(cfg), load_model(cfg)
    batch = tokenizer(["步骤1：将电池放入壳体。", "Step 1: mount the sensor."], return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], len(tokenizer))
    assert not model.training and model.config.hidden_size == 64


def test_tiny_local_model_loads_in_4bit_nf4_on_the_cpu(tiny_model_dir):
    from bitsandbytes.nn import Linear4bit
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.float32)
    model = load_model(ModelConfig(name_or_path=str(tiny_model_dir), dtype="float32"), quant, device_map="cpu")
    assert isinstance(model.model.layers[0].self_attn.q_proj, Linear4bit)
    with torch.no_grad():
        assert torch.isfinite(model(torch.tensor([[1, 2, 3, 4]])).logits).all()


def test_model_code_runs_only_when_trust_remote_code_is_on(tiny_model_dir, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_model_dir, folder)
    marker = tmp_path / "remote-code-ran"
    (folder / "modeling_custom.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from transformers import LlamaForCausalLM\n\nclass CustomForCausalLM(LlamaForCausalLM):\n    pass\n")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config))

    try:
        load_model(ModelConfig(name_or_path=str(folder)))
    except ValueError as exc:  # transformers may refuse outright instead of using the built-in class
        assert "trust_remote_code" in str(exc)
    assert not marker.exists()
    load_model(ModelConfig(name_or_path=str(folder), trust_remote_code=True))
    assert marker.read_text() == "ran"
