"""Loading an uploaded recipe into the Configure form, and refusing a broken one with its fields named."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.recipe_fields import field_specs
from studio.ui.configure import load_uploaded


def test_an_uploaded_recipe_fills_the_form(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nbatch:\n  per_device_batch_size: 3\n", encoding="utf-8")
    specs = field_specs()
    values = load_uploaded(specs, str(path))
    by_path = dict(zip((s.path for s in specs), values))
    assert by_path["name"] == "mine" and by_path["batch.per_device_batch_size"] == 3


def test_a_broken_upload_names_the_file_field_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\noptim:\n  lerning_rate: 1e-4\n", encoding="utf-8")
    with pytest.raises(gr.Error, match=r"bad.yaml.*line 3.*optim.lerning_rate.*did you mean 'learning_rate'"):
        load_uploaded(field_specs(), str(path))


def test_a_loaded_recipe_is_checked_once_not_once_per_field(tmp_path):
    """Loading a recipe sets every control of the form; were the check wired to their `change` events the page
    would recompute (and redraw two plots) once per field. Edits trigger it by `input`; each load chains one check."""
    from studio.config import DEMO_MODEL
    from studio.device import detect_device
    from studio.ui.app import StudioContext, build_app
    from studio.workspace import Workspace

    demo = build_app(StudioContext(Workspace.open(tmp_path), DEMO_MODEL, detect_device()))
    config = demo.get_config_file()
    elem = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    label = {c["id"]: c.get("props", {}).get("label") for c in config["components"]}
    verdict = next(i for i, e in elem.items() if e == "recipe-verdict")
    deps = {d["id"]: d for d in config["dependencies"]}
    form = {i for i, e in elem.items() if (e or "").startswith("field-")}
    assert len(form) > 40
    loads = [d for d in deps.values() if form <= set(d["outputs"])  # the recipe picker and the YAML upload
             and any(t[1] == "upload" or label.get(t[0]) == "Load a recipe from recipes/" for t in d["targets"])]
    assert len(loads) == 2
    checks = [d for d in deps.values() if verdict in d["outputs"]]
    for check in checks:
        assert not [t for t in check["targets"] if t[0] in form and t[1] != "input"], check["targets"]
    edit_check = next(d for d in checks if {t[0] for t in d["targets"]} >= form)
    assert {t[1] for t in edit_check["targets"] if t[0] in form} == {"input"}
    chained = {d["trigger_after"] for d in checks if d["targets"] == [(None, "then")]}
    assert {load["id"] for load in loads} <= chained
