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


def _at(specs, path):
    return [s.path for s in specs].index(path)


def test_every_optional_number_round_trips_unset():
    specs = field_specs()
    optional_numbers = [s for s in specs if s.optional and s.kind in ("int", "float")]
    assert [s.path for s in optional_numbers] == ["duration.max_steps"]  # the table below must cover new ones
    for spec in optional_numbers:
        values = recipe_values(Recipe(), specs)
        assert values[_at(specs, spec.path)] == ""  # shown as an empty box, not as 0
        for unset in ("", "  ", None):  # blank, spaces, or a control the page never drew
            values[_at(specs, spec.path)] = unset
            recipe = recipe_from_values(specs, values)
            assert getattr(getattr(recipe, spec.section), spec.name) is None
        values[_at(specs, spec.path)] = " 500 "
        recipe = recipe_from_values(specs, values)
        assert getattr(getattr(recipe, spec.section), spec.name) == 500
        assert recipe_values(recipe, specs)[_at(specs, spec.path)] == "500"


def test_what_a_number_field_shows_is_what_is_checked():
    specs = field_specs()
    values = recipe_values(Recipe(), specs)
    values[_at(specs, "duration.max_steps")] = "ten"
    values[_at(specs, "batch.per_device_batch_size")] = 2.5  # no silent rounding to 2
    values[_at(specs, "duration.epochs")] = None  # an emptied number box
    with pytest.raises(RecipeError) as info:
        recipe_from_values(specs, values)
    assert sorted(e.path for e in info.value.errors) == ["batch.per_device_batch_size", "duration.epochs",
                                                         "duration.max_steps"]


def test_controls_never_drawn_read_as_they_would_show():
    """A page sends None for a control it never drew; text fields show that as empty and checkboxes as unticked."""
    specs = field_specs()
    values = recipe_values(Recipe(), specs)
    values[_at(specs, "description")] = None
    values[_at(specs, "lora.use_dora")] = None
    values[_at(specs, "lora.target_modules")] = None
    with pytest.raises(RecipeError) as info:
        recipe_from_values(specs, values)
    assert [e.path for e in info.value.errors] == ["lora.target_modules"]  # an empty list: named, not a crash
    values[_at(specs, "lora.target_modules")] = "all-linear"
    recipe = recipe_from_values(specs, values)
    assert recipe.description == "" and recipe.lora.use_dora is False


def test_every_number_steps_in_its_own_scale():
    for spec in field_specs():
        if spec.kind not in ("int", "float"):
            assert spec.step is None
            continue
        assert spec.step and spec.step > 0, spec.path
        if spec.kind == "int":
            assert float(spec.step).is_integer(), spec.path
        elif spec.default:
            assert spec.step <= abs(spec.default), spec.path  # one click never jumps past the usual value
        upper = spec.meta.get("le", spec.meta.get("lt"))
        lower = spec.meta.get("ge", spec.meta.get("gt", 0))
        if upper is not None:
            assert spec.step <= (upper - lower) / 10, spec.path
    rate = next(s for s in field_specs() if s.path == "optim.learning_rate")
    assert 0.002 + rate.step < 0.0025  # 0.002 moves to 0.00201, not to 1.002


def test_every_field_has_a_human_label_in_english_and_chinese():
    from studio.ui import i18n

    specs = field_specs()
    assert all(spec.label and spec.label != spec.path for spec in specs)
    for section in {s.section for s in specs}:
        labels = [s.label for s in specs if s.section == section]
        assert len(labels) == len(set(labels)), section
    assert i18n.missing([spec.label for spec in specs]) == []
