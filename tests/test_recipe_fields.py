"""The form's field table covers the whole schema and round-trips through the validator."""

import dataclasses

import pytest

from studio.config import SECTIONS, Recipe
from studio.recipe_fields import field_specs, raw_from_values, recipe_from_values, recipe_values
from studio.recipe_io import RecipeError, load_recipe


def test_every_config_field_has_exactly_one_spec():
    expected = {f.name for f in dataclasses.fields(Recipe) if f.name not in SECTIONS}
    expected |= {f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    paths = [spec.path for spec in field_specs()]
    assert sorted(paths) == sorted(expected) and len(paths) == len(set(paths))
    assert all(spec.help for spec in field_specs())


@pytest.mark.parametrize("name", ["cpu-demo", "qlora-qwen2.5-7b", "cpt-patent"])
def test_recipes_survive_the_form(name):
    recipe = load_recipe(f"recipes/{name}.yaml")
    specs = field_specs()
    assert recipe_from_values(specs, recipe_values(recipe, specs)) == recipe


def test_form_values_are_checked_by_the_same_validator():
    specs = field_specs()
    values = recipe_values(Recipe(), specs)
    values[[s.path for s in specs].index("optim.learning_rate")] = -1.0
    values[[s.path for s in specs].index("batch.per_device_batch_size")] = 2.0  # number boxes give floats
    with pytest.raises(RecipeError) as info:
        recipe_from_values(specs, values)
    assert [e.path for e in info.value.errors] == ["optim.learning_rate"]


def test_sections_the_method_does_not_use_are_left_out():
    specs = field_specs()
    values = recipe_values(Recipe(method="full"), specs)
    assert "lora" not in raw_from_values(specs, values) and "quant" not in raw_from_values(specs, values)
