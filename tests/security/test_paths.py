"""The path policy of the web UI: the workspace, the bundled assets and --allow-path folders; nothing else."""

import os

import pytest

from studio.config import Recipe
from studio.paths import (PathNotAllowed, check_dataset_ref, check_local, check_model_ref, check_recipe_paths,
                          is_local, parse_allowed, recipe_path_errors)
from studio.recipe_io import RecipeError
from studio.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere" / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


def test_workspace_and_bundled_assets_are_allowed(ws):
    assert check_local(ws, ws.runs / "r1" / "adapter") == ws.runs / "r1" / "adapter"
    assert check_model_ref(ws, "bundled:demo-model") == "bundled:demo-model"
    from studio.assets import DEMO_MODEL_DIR

    assert check_model_ref(ws, str(DEMO_MODEL_DIR)) == str(DEMO_MODEL_DIR)


@pytest.mark.parametrize("ref", ["/etc", "/etc/passwd", "~", "~/.cache/huggingface", "/", "../../x",
                                 "..\\..\\x", "C:\\Windows", "a/b/c", "bad\x00name", "~nobody-such-user/x"])
def test_local_paths_outside_are_refused_whether_or_not_they_exist(ws, ref):
    with pytest.raises(PathNotAllowed) as info:
        check_model_ref(ws, ref)
    message = str(info.value)
    assert "outside the folders this UI may open" in message and "--allow-path" in message
    assert "no such" not in message  # the answer must not tell whether the path exists


def test_a_folder_outside_names_the_path_and_the_flag(ws, outside):
    with pytest.raises(PathNotAllowed, match=f"model '{outside}' is outside.*--allow-path FOLDER"):
        check_model_ref(ws, str(outside))


@pytest.mark.parametrize("ref", ["Qwen/Qwen2.5-7B", "gpt2", "meta-llama/Meta-Llama-3-8B-Instruct"])
def test_hub_ids_stay_allowed(ws, ref, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert not is_local(ref)
    assert check_model_ref(ws, ref) == ref


def test_a_hub_shaped_name_that_exists_locally_is_a_path(ws, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org" / "name").mkdir(parents=True)
    assert is_local("org/name")
    with pytest.raises(PathNotAllowed):
        check_model_ref(ws, "org/name")


def test_symlinks_are_followed(ws, outside):
    (ws.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathNotAllowed):
        check_model_ref(ws, str(ws.root / "link"))
    with pytest.raises(PathNotAllowed):
        check_local(ws, ws.root / "link" / "config.json")
    with pytest.raises(PathNotAllowed):
        check_local(ws, ws.root / ".." / "elsewhere")


def test_allowed_folders_open_up_exactly_themselves(tmp_path, outside):
    ws = Workspace.open(tmp_path / "ws", allowed_paths=parse_allowed([str(outside)], environ={}))
    assert check_model_ref(ws, str(outside)) == str(outside)
    with pytest.raises(PathNotAllowed):
        check_local(ws, outside.parent)  # the parent of an allowed folder is not allowed
    sibling = outside.parent / "model-2"  # a prefix match is not containment
    sibling.mkdir()
    with pytest.raises(PathNotAllowed):
        check_local(ws, sibling)


def test_allowed_folders_from_the_environment(tmp_path, outside):
    other = tmp_path / "other"
    other.mkdir()
    env = {"STUDIO_ALLOWED_PATHS": os.pathsep.join([str(other), "", str(outside)])}
    assert parse_allowed([str(outside)], environ=env) == (outside.resolve(), other.resolve())
    with pytest.raises(ValueError, match="--allow-path .*missing: no such folder"):
        parse_allowed([str(tmp_path / "missing")], environ={})


@pytest.mark.parametrize("ref", ["bundled:intent_chat", "mydata", "mydata@v2", "nosuch", "nosuch@v1"])
def test_dataset_refs_that_stay_in_the_workspace(ws, ref, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (ws.datasets / "mydata" / "v1").mkdir(parents=True)
    assert check_dataset_ref(ws, ref) == ref


def test_dataset_files(ws, outside, tmp_path):
    inside = ws.uploads / "data.jsonl"
    inside.write_text("{}\n")
    assert check_dataset_ref(ws, str(inside)) == str(inside)
    with pytest.raises(PathNotAllowed, match="dataset"):
        check_dataset_ref(ws, str(outside / "config.json"))
    with pytest.raises(PathNotAllowed):
        check_dataset_ref(ws, "../../etc/passwd@v1")


def test_recipe_paths_are_checked_field_by_field(ws, outside):
    recipe = Recipe()
    assert recipe_path_errors(ws, recipe) == []  # the defaults: bundled model and data
    recipe.model.name_or_path = str(outside)
    recipe.data.dataset = "/etc/passwd"
    recipe.data.mix_general_dataset = "bundled:patents"
    with pytest.raises(RecipeError) as info:
        check_recipe_paths(ws, recipe)
    assert [e.path for e in info.value.errors] == ["model.name_or_path", "data.dataset"]
    assert "'/etc/passwd' is outside" in str(info.value)


def test_shipped_recipes_pass(ws):
    from pathlib import Path

    from studio.recipe_io import load_recipe

    for path in sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml")):
        assert recipe_path_errors(ws, load_recipe(path)) == [], path.name
