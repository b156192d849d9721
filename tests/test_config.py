"""The recipe schema: YAML round trips and one test per kind of validation message."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from studio.config import SECTIONS, Recipe, relevant_sections
from studio.recipe_io import (RecipeError, load_recipe, recipe_from_dict, recipe_from_yaml, recipe_to_dict,
                              recipe_to_yaml, save_recipe)


def errors_of(raw) -> list[str]:
    with pytest.raises(RecipeError) as info:
        recipe_from_dict(raw) if not isinstance(raw, str) else recipe_from_yaml(raw)
    return [str(e) for e in info.value.errors]


def test_default_recipe_round_trips_through_yaml():
    recipe = Recipe()
    assert recipe_from_yaml(recipe_to_yaml(recipe)) == recipe


def test_every_field_changed_round_trips(tmp_path):
    recipe = Recipe(name="all-changed", description="每个字段都改了", method="qlora")
    recipe.model.revision = "v1.0"
    recipe.model.rope_scaling, recipe.model.rope_factor = "yarn", 4.0
    recipe.data.packing, recipe.data.max_length, recipe.data.eval_split = True, 4096, 0.2
    recipe.data.mix_general_ratio, recipe.data.mix_general_dataset = 0.1, "general@v1"
    recipe.lora.r, recipe.lora.target_modules, recipe.lora.use_dora = 64, ["q_proj", "v_proj"], True
    recipe.quant.quant_type, recipe.quant.compute_dtype = "fp4", "float16"
    recipe.optim.learning_rate, recipe.optim.optimizer = 3e-5, "adamw_8bit"
    recipe.schedule.scheduler, recipe.schedule.warmup_ratio, recipe.schedule.warmup_steps = "linear", 0.0, 25
    recipe.batch.num_gpus, recipe.duration.max_steps = 4, 1000
    recipe.checkpoint.early_stopping_patience, recipe.checkpoint.eval_steps = 2, 25
    recipe.runtime.seed, recipe.runtime.precision = 7, "bf16"
    path = save_recipe(recipe, tmp_path / "r.yaml", header="python -m studio train r.yaml")
    assert path.read_text(encoding="utf-8").startswith("# python -m studio train r.yaml\n")
    assert load_recipe(path) == recipe


def test_saving_leaves_out_sections_the_method_does_not_use():
    assert "lora" not in recipe_to_dict(Recipe(method="full"))
    assert "quant" not in recipe_to_dict(Recipe(method="lora"))
    assert {"lora", "quant"} <= set(recipe_to_dict(Recipe(method="qlora")))
    assert relevant_sections("full") == [s for s in SECTIONS if s not in ("lora", "quant")]


def test_every_field_has_help_text():
    for cls in [Recipe, *SECTIONS.values()]:
        for f in dataclasses.fields(cls):
            if f.name not in SECTIONS:
                assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"


def test_learning_rate_written_without_a_dot_is_a_number():
    # PyYAML reads "1e-4" as a string; recipes are written that way, so it must still mean 0.0001.
    assert recipe_from_yaml("optim:\n  learning_rate: 1e-4\n").optim.learning_rate == pytest.approx(1e-4)


def test_a_single_target_module_may_be_written_as_a_string():
    assert recipe_from_dict({"lora": {"target_modules": "q_proj"}}).lora.target_modules == ["q_proj"]


@pytest.mark.parametrize("raw, expected", [
    ({"methd": "lora"}, "methd: unknown key; did you mean 'method'?"),
    ({"optim": {"lerning_rate": 1e-4}}, "optim.lerning_rate: unknown key; did you mean 'learning_rate'?"),
    ({"zzz": 1}, "zzz: unknown key; known keys: name, description, method"),
    ({"optim": 5}, "optim: expected a mapping of settings"),
])
def test_unknown_keys_and_bad_sections(raw, expected):
    assert any(e.startswith(expected) for e in errors_of(raw)), errors_of(raw)


@pytest.mark.parametrize("raw, expected", [
    ({"batch": {"per_device_batch_size": "4"}}, "batch.per_device_batch_size: expected an integer, got '4'"),
    ({"batch": {"per_device_batch_size": True}}, "batch.per_device_batch_size: expected an integer, got True"),
    ({"batch": {"gradient_checkpointing": "no way"}}, "batch.gradient_checkpointing: expected true or false"),
    ({"optim": {"learning_rate": "fast"}}, "optim.learning_rate: expected a number, got 'fast'"),
    ({"model": {"name_or_path": 7}}, "model.name_or_path: expected text, got 7"),
    ({"method": "qdora"}, "method: expected one of 'lora', 'qlora', 'full', got 'qdora'"),
    ({"lora": {"target_modules": [1, 2]}}, "lora.target_modules: expected a list of texts"),
    ({"duration": {"max_steps": 1.5}}, "duration.max_steps: expected an integer, got 1.5"),
    ({"model": {"revision": ["a"]}}, "model.revision: expected text, got ['a']"),
])
def test_wrong_types(raw, expected):
    assert any(e.startswith(expected) for e in errors_of(raw)), errors_of(raw)


@pytest.mark.parametrize("raw, expected", [
    ({"lora": {"r": 0}}, "lora.r: must be >= 1, got 0"),
    ({"optim": {"learning_rate": 0}}, "optim.learning_rate: must be > 0.0, got 0.0"),
    ({"data": {"mix_general_ratio": 0.6}}, "data.mix_general_ratio: must be <= 0.5, got 0.6"),
    ({"data": {"eval_split": 0.5}}, "data.eval_split: must be < 0.5, got 0.5"),
    ({"duration": {"max_steps": 0}}, "duration.max_steps: must be >= 1, got 0"),
])
def test_out_of_range(raw, expected):
    assert expected in errors_of(raw)


@pytest.mark.parametrize("raw, expected", [
    ({"method": "full", "quant": {"quant_type": "nf4"}}, "quant: applies only to method qlora, not 'full'"),
    ({"method": "lora", "quant": {}}, "quant: applies only to method qlora, not 'lora'"),
    ({"method": "full", "lora": {"r": 8}}, "lora: applies only to method lora or qlora, not 'full'"),
    ({"method": "full", "model": {"dtype": "float16"}}, "model.dtype: full fine-tuning cannot update float16"),
    ({"runtime": {"device": "cpu", "precision": "fp16"}}, "runtime.precision: fp16 mixed precision needs a GPU"),
    ({"runtime": {"device": "cpu"}, "batch": {"num_gpus": 2}}, "batch.num_gpus: device is cpu"),
    ({"runtime": {"device": "cpu"}, "optim": {"optimizer": "paged_adamw_8bit"}}, "optim.optimizer: paged"),
    ({"schedule": {"warmup_steps": 10, "warmup_ratio": 0.1}}, "schedule.warmup_steps: set either"),
    ({"data": {"eval_split": 0}, "checkpoint": {"early_stopping_patience": 2}},
     "checkpoint.early_stopping_patience: needs eval loss"),
    ({"checkpoint": {"early_stopping_patience": 2, "eval_steps": 30, "save_steps": 100}},
     "checkpoint.save_steps: with early stopping"),
    ({"data": {"mix_general_ratio": 0.1}}, "data.mix_general_dataset: mix_general_ratio is above 0"),
    ({"model": {"rope_factor": 2.0}}, "model.rope_factor: has no effect without rope_scaling"),
    ({"model": {"rope_scaling": "yarn"}}, "model.rope_factor: rope_scaling yarn needs a factor above 1"),
    ({"lora": {"target_modules": []}}, "lora.target_modules: list at least one module name"),
    ({"lora": {"target_modules": ["all-linear", "q_proj"]}}, "lora.target_modules: the preset 'all-linear'"),
    ({"name": "../evil"}, "name: use 1-64 letters"),
    ({"model": {"name_or_path": " "}}, "model.name_or_path: empty"),
    ({"data": {"dataset": ""}}, "data.dataset: empty"),
])
def test_incompatible_combinations(raw, expected):
    assert any(e.startswith(expected) for e in errors_of(raw)), errors_of(raw)


def test_every_problem_is_reported_at_once_with_its_yaml_line():
    text = "name: ok\nmethod: full\nlora:\n  r: 8\noptim:\n  learning_rate: -1\n  betas: 1\n"
    with pytest.raises(RecipeError) as info:
        recipe_from_yaml(text, source="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: 3 problems in the recipe:")
    assert "line 3, lora: applies only" in message
    assert "line 6, optim.learning_rate: must be > 0.0, got -1.0" in message
    assert "line 7, optim.betas: unknown key" in message


def test_invalid_yaml_names_the_line():
    assert errors_of("name: a\noptim: [1,\n")[0].startswith("line 3, (yaml): not valid YAML")


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(RecipeError, match=r"(?s)nope.yaml: 1 problem .*no such file"):
        load_recipe(tmp_path / "nope.yaml")
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("name: 中文".encode("gbk"))
    with pytest.raises(RecipeError, match="not UTF-8 text"):
        load_recipe(bad)


def test_an_invalid_recipe_is_never_saved(tmp_path):
    recipe = Recipe()
    recipe.optim.learning_rate = -1.0
    with pytest.raises(RecipeError):
        save_recipe(recipe, tmp_path / "r.yaml")
    assert list(tmp_path.iterdir()) == []


def test_every_type_in_the_schema_is_one_the_validator_handles():
    handled = {bool, int, float, str, type(None)}
    for cls in SECTIONS.values():
        for name, hint in typing.get_type_hints(cls).items():
            args = typing.get_args(hint) if typing.get_origin(hint) is not typing.Literal else ()
            leaves = [a for a in args if not isinstance(a, str)] or [hint]
            for leaf in leaves:
                origin = typing.get_origin(leaf)
                assert leaf in handled or origin in (typing.Literal, list), f"{cls.__name__}.{name}: {hint}"
