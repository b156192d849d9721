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
