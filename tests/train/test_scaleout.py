"""Multi-GPU launch plans: accelerate configs that accelerate's own loader and launcher read as intended."""

from __future__ import annotations

import pytest
import yaml

from studio.config import DEMO_MODEL
from studio.recipe_io import recipe_from_dict
from studio.train.scaleout import (STRATEGIES, ScaleOutError, accelerate_config, layer_class_from_config,
                                   plan_launch)


def recipe(**sections):
    base = {"name": "big", "model": {"name_or_path": DEMO_MODEL}, "runtime": {"device": "auto"},
            "batch": {"per_device_batch_size": 2, "gradient_accumulation_steps": 8, "num_gpus": 4}}
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return recipe_from_dict(base)


def plan(tmp_path, strategy, r=None, gpus=None):
    config = tmp_path / f"{strategy}.yaml"
    p = plan_launch(r or recipe(), strategy, "recipes/big.yaml", str(config), "/ws", num_gpus=gpus)
    config.write_text(p.config_yaml, encoding="utf-8")
    return p, config


def launcher_env(config, strategy):
    """The environment `accelerate launch --config_file CONFIG` would give the workers (nothing is started)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args = launch_command_parser().parse_args(["--config_file", str(config), "-m", "studio", "train", "r.yaml"])
    args, defaults, _ = _validate_launch_command(args)
    if strategy.startswith("deepspeed"):
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)  # as launch_command
        return prepare_deepspeed_cmd_env(args)[1]
    return prepare_multi_gpu_env(args)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_gives_a_config_accelerate_loads(tmp_path, strategy):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    p, config = plan(tmp_path, strategy)
    text = config.read_text()
    assert text.startswith("# accelerate config for recipe big") and p.command in text  # the command that runs it
    assert yaml.safe_load(text) == p.config
    loaded = load_config_from_file(str(config))
    assert isinstance(loaded, ClusterConfig) and loaded.num_processes == 4 and loaded.mixed_precision == "bf16"
    expected = {"ddp": "MULTI_GPU", "deepspeed-zero2": "DEEPSPEED", "deepspeed-zero3": "DEEPSPEED"}
    assert loaded.distributed_type.value == expected.get(strategy, "FSDP")
    assert p.effective_batch == 2 * 8 * 4
    assert p.command == f"accelerate launch --config_file {config} -m studio train recipes/big.yaml --workspace /ws"


def test_deepspeed_sections_carry_the_recipe_and_reach_the_workers(tmp_path):
    r = recipe(optim={"max_grad_norm": 0.5})
    _, config = plan(tmp_path, "deepspeed-zero2", r)
    section = yaml.safe_load(config.read_text())["deepspeed_config"]
    assert section == {"zero_stage": 2, "gradient_accumulation_steps": 8, "gradient_clipping": 0.5,
                       "offload_optimizer_device": "none"}
    p3, config3 = plan(tmp_path, "deepspeed-zero3", r)
    zero3 = p3.config["deepspeed_config"]
    assert zero3["zero_stage"] == 3 and zero3["zero3_save_16bit_model"] is True and zero3["zero3_init_flag"] is True
    env = launcher_env(config3, "deepspeed-zero3")
    assert env["ACCELERATE_USE_DEEPSPEED"] == "true" and env["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "3"
    assert env["ACCELERATE_GRADIENT_ACCUMULATION_STEPS"] == "8" and env["ACCELERATE_GRADIENT_CLIPPING"] == "0.5"
    assert env["ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL"] == "true"
    assert env["ACCELERATE_MIXED_PRECISION"] == "bf16"


@pytest.mark.parametrize("strategy, reshard", [("fsdp", "true"), ("fsdp-shard-grad-op", "false")])
def test_fsdp_wraps_the_models_decoder_layer_and_shards_as_asked(tmp_path, strategy, reshard):
    p, config = plan(tmp_path, strategy)
    assert p.config["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"  # demo model
    env = launcher_env(config, strategy)
    assert env["ACCELERATE_USE_FSDP"] == "true" and env["FSDP_VERSION"] == "2"
    assert env["FSDP_TRANSFORMER_CLS_TO_WRAP"] == "LlamaDecoderLayer"
    assert env["FSDP_AUTO_WRAP_POLICY"] == "TRANSFORMER_BASED_WRAP"
    assert env["FSDP_RESHARD_AFTER_FORWARD"] == reshard and env["FSDP_STATE_DICT_TYPE"] == "FULL_STATE_DICT"


def test_the_wrap_class_of_a_catalogue_model_comes_from_its_model_type(tmp_path):
    qwen = recipe(model={"name_or_path": "Qwen/Qwen2.5-7B"})
    assert accelerate_config(qwen, 2, "fsdp")["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"] == \
        "Qwen2DecoderLayer"
    unknown = recipe(model={"name_or_path": str(tmp_path / "missing-model")})
    p = plan_launch(unknown, "fsdp", "r.yaml", "c.yaml", "ws")
    assert "fsdp_transformer_layer_cls_to_wrap" not in p.config["fsdp_config"]
    assert any("_no_split_modules" in note for note in p.notes)


@pytest.mark.slow
def test_the_layer_name_rule_matches_transformers_for_every_catalogue_model_type():
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    from studio.estimate.catalogue import catalogue_ids, load_model_config

    types = {load_model_config(i)["model_type"] for i in catalogue_ids()} | {"mixtral", "gpt2", "gpt_neox"}
    for model_type in sorted(types):
        cls = getattr(transformers, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type])
        assert layer_class_from_config({"model_type": model_type}) in cls._no_split_modules, model_type


def test_mixed_precision_and_one_gpu(tmp_path):
    assert accelerate_config(recipe(runtime={"precision": "fp32"}), 2, "ddp")["mixed_precision"] == "no"
    assert accelerate_config(recipe(runtime={"precision": "fp16"}), 2, "ddp")["mixed_precision"] == "fp16"
    one = plan_launch(recipe(batch={"num_gpus": 1}), "ddp", "recipes/big.yaml", "c.yaml", "my ws")
    assert one.command == "python -m studio train recipes/big.yaml --workspace 'my ws'"
    assert one.config["distributed_type"] == "NO"
    assert one.effective_batch == 16
    assert any("bf16" in note for note in plan(tmp_path, "ddp")[0].notes)  # precision auto is an assumption


@pytest.mark.parametrize("change, strategy, message", [
    ({"method": "qlora"}, "deepspeed-zero3", "bnb_4bit_quant_storage"),
    ({"method": "qlora"}, "fsdp", "Use ddp or deepspeed-zero2 for QLoRA"),
    ({"method": "qlora"}, "fsdp-shard-grad-op", "QLoRA"),
    ({"runtime": {"device": "cpu"}, "batch": {"num_gpus": 1}}, "deepspeed-zero2", "runtime.device is cpu"),
    ({}, "zero-9", "unknown strategy"),
])
def test_combinations_that_cannot_work_are_refused_with_the_fix(change, strategy, message):
    with pytest.raises(ScaleOutError, match=message):
        accelerate_config(recipe(**change), 2 if "runtime" not in change else 1, strategy)


def test_qlora_with_ddp_or_zero2_is_fine_and_more_than_one_machine_is_refused():
    for strategy in ("ddp", "deepspeed-zero2"):
        assert accelerate_config(recipe(method="qlora"), 2, strategy)["num_processes"] == 2
    with pytest.raises(ScaleOutError, match="1 to 16"):
        accelerate_config(recipe(), 17, "ddp")
