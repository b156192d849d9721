"""Adapter folders the engine refuses, each with a ValueError naming the folder, and the engine unchanged after."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from studio.chat import BASE, ChatEngine, GenerationSettings
from tests.chat.conftest import engine_with, make_adapter

MESSAGES = [{"role": "user", "content": "hello"}]
SHORT = GenerationSettings(max_new_tokens=8)


@pytest.fixture(scope="module")
def chat(tiny_model_dir, adapter_dirs):
    return engine_with(tiny_model_dir, {"A": adapter_dirs["A"]})


def _other_llama(tmp_path, **shape):
    """A tiny Llama like the fixture's but with another shape, for adapters trained on another base."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from studio.assets import DEMO_MODEL_DIR

    tokenizer = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    settings = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512)
    settings.update(shape)
    torch.manual_seed(0)
    folder = tmp_path / "other-base"
    LlamaForCausalLM(LlamaConfig(**settings)).save_pretrained(folder)
    return folder


def _refused(chat, name, folder, *patterns):
    names, before = chat.names, chat.generate_ids(BASE, MESSAGES, SHORT)
    with pytest.raises(ValueError) as caught:
        chat.add_adapter(name, folder)
    message = str(caught.value)
    assert str(folder) in message
    for pattern in patterns:
        assert pattern in message, message
    assert chat.names == names
    assert chat.generate_ids(BASE, MESSAGES, SHORT) == before  # nothing of the refused adapter stayed behind
    return message


def test_a_missing_folder_is_named(chat, tmp_path):
    _refused(chat, "x", tmp_path / "nowhere", "no such adapter folder")


def test_a_folder_without_adapter_config_is_not_an_adapter(chat, tiny_model_dir):
    _refused(chat, "x", tiny_model_dir, "not a PEFT adapter folder", "adapter_config.json")


def test_a_run_folder_points_at_its_adapter(chat, tmp_path, adapter_dirs):
    run = tmp_path / "runs" / "20260101-cpu-demo"
    shutil.copytree(adapter_dirs["A"], run / "adapter")
    _refused(chat, "x", run, f"did you mean {run / 'adapter'}")


def test_a_taken_name_is_refused_naming_the_folder(chat, adapter_dirs):
    message = _refused(chat, "A", adapter_dirs["B"], "'A' is taken", str(adapter_dirs["A"]))
    assert "pick another name" in message
    _refused(chat, BASE, adapter_dirs["B"], "base")


@pytest.mark.parametrize("shape, problem", [
    ({"hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 1}, "the base needs"),
    ({"num_hidden_layers": 3}, "the base has no module model.layers.2"),
])
def test_an_adapter_of_another_base_is_refused(chat, tmp_path, shape, problem):
    other = _other_llama(tmp_path, **shape)
    adapter = make_adapter(other, tmp_path / "adapter", ["q_proj", "v_proj"], seed=3)
    _refused(chat, "x", adapter, "trained on another base model", str(other), problem)


def test_a_folder_that_is_not_lora_is_refused(chat, tmp_path, adapter_dirs):
    folder = tmp_path / "ia3"
    shutil.copytree(adapter_dirs["A"], folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    config["peft_type"] = "IA3"
    (folder / "adapter_config.json").write_text(json.dumps(config))
    _refused(chat, "x", folder, "IA3", "LoRA adapters only")


def test_an_unknown_name_and_a_bad_device_are_refused(chat, tiny_config):
    with pytest.raises(ValueError, match=r"no model named 'nope'.*loaded: base, A"):
        chat.stream("nope", MESSAGES, SHORT)
    with pytest.raises(ValueError, match="no adapter named 'nope'"):
        chat.remove_adapter("nope")
    with pytest.raises(ValueError, match="device must be"):
        ChatEngine(tiny_config, device="tpu")


def test_a_modules_to_save_copy_of_another_shape_is_refused(chat, tmp_path):
    other = _other_llama(tmp_path, vocab_size=4000)
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(other),
                           LoraConfig(r=2, target_modules=["q_proj"], modules_to_save=["embed_tokens"]))
    model.save_pretrained(tmp_path / "adapter")
    _refused(chat, "x", tmp_path / "adapter", "model.embed_tokens.weight is [4000, 64]")


def test_a_cut_short_weights_file_is_refused(chat, tmp_path, adapter_dirs):
    folder = tmp_path / "corrupt"
    shutil.copytree(adapter_dirs["B"], folder)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    _refused(chat, "B", folder, "adapter_model.safetensors cannot be read")


@pytest.mark.parametrize("first", [True, False], ids=["first adapter", "later adapter"])
def test_a_load_that_fails_inside_peft_leaves_no_trace(tiny_config, tmp_path, adapter_dirs, first):
    """PEFT fails after it has put some layers into the model (q_proj is wrapped before it meets act_fn, which
    LoRA cannot wrap): the engine must still be the plain base, and the name still free, after."""
    engine = ChatEngine(tiny_config)
    if not first:
        engine.add_adapter("A", adapter_dirs["A"])
        a_before = engine.generate_ids("A", MESSAGES, SHORT)
    folder = tmp_path / "bad-targets"
    shutil.copytree(adapter_dirs["A"], folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    config["target_modules"] = ["q_proj", "v_proj", "act_fn"]
    (folder / "adapter_config.json").write_text(json.dumps(config))
    _refused(engine, "B", folder, "PEFT could not load this adapter", "is not supported")
    if first:
        assert _peft_free(engine)
    else:
        assert engine.generate_ids("A", MESSAGES, SHORT) == a_before
    engine.add_adapter("B", adapter_dirs["B"])
    assert engine.names[-1] == "B"


def _peft_free(engine) -> bool:
    from studio.chat.weights import has_peft_layers

    return not has_peft_layers(engine._model)
