"""Every shipped recipe loads, validates, round-trips and says how to run it."""

from pathlib import Path

import pytest

from studio.config import DEMO_MODEL
from studio.models import resolve_model
from studio.recipe_io import load_recipe, recipe_from_yaml, recipe_to_yaml

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml"))


def test_the_expected_recipes_ship():
    assert {p.name for p in RECIPES} >= {"cpu-demo.yaml", "lora-llama3-8b.yaml", "qlora-qwen2.5-7b.yaml",
                                         "cpt-patent.yaml"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_validates_and_round_trips(path):
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    assert recipe_from_yaml(recipe_to_yaml(recipe)) == recipe


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_starts_with_the_command_that_runs_it(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# python -m studio train recipes/{path.name}"


def test_cpu_demo_runs_on_the_bundled_model_on_a_cpu():
    recipe = load_recipe(Path("recipes/cpu-demo.yaml"))
    assert recipe.model.name_or_path == DEMO_MODEL and recipe.runtime.device == "cpu"
    assert recipe.data.dataset.startswith("bundled:")


@pytest.mark.parametrize("name, method, hub_id", [
    ("lora-llama3-8b", "lora", "meta-llama/Meta-Llama-3-8B-Instruct"),
    ("qlora-qwen2.5-7b", "qlora", "Qwen/Qwen2.5-7B-Instruct"),
    ("cpt-patent", "lora", "Qwen/Qwen2.5-7B"),
])
def test_real_model_recipes_name_hub_ids(name, method, hub_id):
    recipe = load_recipe(Path(f"recipes/{name}.yaml"))
    assert (recipe.method, recipe.model.name_or_path) == (method, hub_id)
    source = resolve_model(recipe.model.name_or_path)  # resolved without any download
    assert not source.is_local and source.location == hub_id


def test_continued_pretraining_recipe_follows_the_practice_it_cites():
    recipe = load_recipe(Path("recipes/cpt-patent.yaml"))
    assert recipe.optim.learning_rate == 1e-4 and recipe.schedule.warmup_ratio == 0.01
    assert recipe.schedule.scheduler == "cosine" and recipe.runtime.precision == "bf16"
    assert recipe.data.format == "text" and recipe.data.packing and recipe.data.max_length >= 8192
