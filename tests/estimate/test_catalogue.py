"""The offline model catalogue: every entry loads without a network and matches its advertised size."""

from __future__ import annotations

import json

import pytest

from studio.estimate.catalogue import catalogue_ids, load_model_config, load_shape
from studio.estimate.model_shape import shape_from_config

# Advertised parameter counts (model cards / papers), in parameters.
ADVERTISED = {
    "meta-llama/Llama-2-7b-hf": 6.74e9, "meta-llama/Llama-2-13b-hf": 13.0e9, "meta-llama/Llama-2-70b-hf": 69.0e9,
    "meta-llama/Meta-Llama-3-8B": 8.03e9, "meta-llama/Meta-Llama-3-70B": 70.6e9,
    "meta-llama/Llama-3.1-8B": 8.03e9, "meta-llama/Llama-3.1-70B": 70.6e9,
    "meta-llama/Llama-3.2-1B": 1.24e9, "meta-llama/Llama-3.2-3B": 3.21e9, "mistralai/Mistral-7B-v0.1": 7.24e9,
    "Qwen/Qwen2.5-0.5B": 0.49e9, "Qwen/Qwen2.5-1.5B": 1.54e9, "Qwen/Qwen2.5-3B": 3.09e9,
    "Qwen/Qwen2.5-7B": 7.61e9, "Qwen/Qwen2.5-14B": 14.7e9, "Qwen/Qwen2.5-32B": 32.5e9, "Qwen/Qwen2.5-72B": 72.7e9,
    "Qwen/Qwen3-0.6B": 0.6e9, "Qwen/Qwen3-1.7B": 1.7e9, "Qwen/Qwen3-4B": 4.0e9, "Qwen/Qwen3-8B": 8.2e9,
    "Qwen/Qwen3-14B": 14.8e9, "Qwen/Qwen3-32B": 32.8e9, "google/gemma-2-2b": 2.61e9, "google/gemma-2-9b": 9.24e9,
    "microsoft/Phi-3-mini-4k-instruct": 3.82e9, "TinyLlama/TinyLlama-1.1B-Chat-v1.0": 1.1e9,
}


def test_catalogue_has_every_required_model():
    assert set(ADVERTISED) <= set(catalogue_ids())


@pytest.mark.parametrize("hub_id", sorted(ADVERTISED))
def test_parameter_count_matches_advertised_size(hub_id):
    shape = load_shape(hub_id)
    assert abs(shape.total_params() / ADVERTISED[hub_id] - 1) < 0.03


def test_lookup_is_case_insensitive_and_accepts_bare_names():
    assert load_model_config("meta-llama/llama-2-7b-hf")["hidden_size"] == 4096
    assert load_model_config("Llama-2-7b-hf")["num_hidden_layers"] == 32


def test_unknown_hub_id_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="not in the offline catalogue.*local config.json"):
        load_model_config("someone/not-a-real-model")


def test_bundled_demo_model_reads_its_local_config():
    cfg = load_model_config("bundled:demo-model")
    shape = shape_from_config(cfg)
    assert (shape.hidden, shape.layers, shape.kv_heads, shape.head_dim) == (256, 4, 2, 64)
    assert shape.tied_embeddings


def test_local_folder_and_config_path(tmp_path):
    cfg = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
           "intermediate_size": 128, "vocab_size": 1000}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert load_model_config(str(tmp_path)) == cfg
    assert load_shape(str(tmp_path / "config.json")).kv_heads == 4  # defaults to MHA
    with pytest.raises(FileNotFoundError):
        load_model_config(str(tmp_path / "missing.json"))


def test_lora_targets_per_preset():
    shape = load_shape("meta-llama/Llama-2-7b-hf")
    assert set(shape.lora_targets(["attention"])) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert len(shape.lora_targets(["all-linear"])) == 7
    assert shape.lora_targets(["q_proj", "v_proj"]) == {"q_proj": (4096, 4096), "v_proj": (4096, 4096)}
    with pytest.raises(ValueError, match="not linear modules"):
        shape.lora_targets(["lm_head_typo"])
    # r=8 on q and v of Llama-2-7B: 8 * (4096 + 4096) * 2 modules * 32 blocks = 4,194,304 (PEFT prints this)
    assert shape.lora_params(8, ["q_proj", "v_proj"]) == 4_194_304
    phi = load_shape("microsoft/Phi-3-mini-4k-instruct")
    assert set(phi.lora_targets(["q_proj", "v_proj"])) == {"qkv_proj"}


@pytest.mark.parametrize("variant, base", [
    ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"), ("meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama/Meta-Llama-3-8B"),
    ("meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf"), ("google/gemma-2-9b-it", "google/gemma-2-9b"),
])
def test_instruct_and_chat_variants_use_their_base_architecture(variant, base):
    assert load_model_config(variant) == load_model_config(base)
