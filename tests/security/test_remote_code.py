"""`trust_remote_code` reaches transformers as False unless the recipe turns it on, and the UI never turns it on."""

import pytest

from studio.config import ModelConfig, Recipe
from studio.models import load_model, load_tokenizer


@pytest.fixture
def calls(monkeypatch):
    import transformers

    seen = []

    class Recorder:
        @staticmethod
        def from_pretrained(location, **kwargs):
            seen.append(kwargs)
            raise StopIteration  # the kwargs are all this test needs

    monkeypatch.setattr(transformers, "AutoTokenizer", Recorder)
    monkeypatch.setattr(transformers, "AutoModelForCausalLM", Recorder)
    return seen


@pytest.mark.parametrize("load", [load_tokenizer, load_model])
def test_off_unless_the_recipe_sets_it(calls, load):
    with pytest.raises(StopIteration):
        load(ModelConfig(name_or_path="bundled:demo-model"))
    with pytest.raises(StopIteration):
        load(ModelConfig(name_or_path="bundled:demo-model", trust_remote_code=True))
    assert [c["trust_remote_code"] for c in calls] == [False, True]


def test_the_default_recipe_and_the_form_default_are_off():
    from studio.recipe_fields import field_specs, recipe_values

    assert Recipe().model.trust_remote_code is False
    specs = field_specs()
    index = [s.path for s in specs].index("model.trust_remote_code")
    assert specs[index].default is False and recipe_values(Recipe(), specs)[index] is False


def test_no_shipped_recipe_turns_it_on():
    from pathlib import Path

    from studio.recipe_io import load_recipe

    recipes = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml"))
    assert recipes and all(load_recipe(p).model.trust_remote_code is False for p in recipes)
