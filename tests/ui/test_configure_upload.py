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
    would recompute (and redraw two plots) once per field. Edits trigger it (`input`, or leaving a text field),
    each load chains one check, and showing the tab runs one (a build-time plot is not drawn in a later tab)."""
    from studio.config import DEMO_MODEL
    from studio.device import detect_device
    from studio.ui.app import StudioContext, build_app
    from studio.workspace import Workspace

    demo = build_app(StudioContext(Workspace.open(tmp_path), DEMO_MODEL, detect_device()))
    config = demo.get_config_file()
    props = {c["id"]: (c["type"], c.get("props", {})) for c in config["components"]}
    by_elem = {p.get("elem_id"): i for i, (_, p) in props.items()}
    deps = config["dependencies"]
    form = {i for i, (_, p) in props.items() if (p.get("elem_id") or "").startswith("field-")}
    assert len(form) > 40
    loads = [d for d in deps if form <= set(d["outputs"])  # the recipe picker and the YAML upload
             and any(t[1] == "upload" or props.get(t[0], ("", {}))[1].get("label") == "Load a recipe from recipes/"
                     for t in d["targets"])]
    assert len(loads) == 2
    checks = [d for d in deps if by_elem["recipe-verdict"] in d["outputs"]]
    triggers = {tuple(t) for d in checks for t in d["targets"]}
    assert not [t for t in triggers if t[0] in form and t[1] == "change"]
    for field in form:
        expected = "blur" if props[field][0] == "textbox" else "input"
        assert (field, expected) in triggers, props[field][1]["elem_id"]
    assert all(d["trigger_mode"] == "always_last" for d in checks if d["targets"][0][0] in form)
    chained = {d["trigger_after"] for d in checks if d["targets"] == [(None, "then")]}
    assert {load["id"] for load in loads} <= chained
    configure_tab = next(i for i, (kind, p) in props.items() if kind == "tabitem" and p.get("id") == "configure")
    assert (configure_tab, "select") in triggers
