"""The Configure tab counts the recipe's data set as the worker does: a set the worker would refuse is a problem of
`data.format` in the verdict, and the step readout and the token budget count the records that will train."""

from __future__ import annotations

import json

from studio.recipe_fields import field_specs, recipe_values
from studio.recipe_io import load_recipe
from studio.ui.configure import budget_markdown, check
from studio.ui.vram_view import MemoryTarget
from studio.workspace import Workspace

GPU = MemoryTarget("cuda", 24.0, 24.0)


def form(tmp_path, fmt: str):
    lines = [json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]})
             for i in range(60)] + [json.dumps({"text": f"fragment {i}."}) for i in range(20)] + ["{broken"]
    ws = Workspace.open(tmp_path / "ws")
    path = ws.root / "mixed.jsonl"  # inside the workspace: a path the UI may open
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recipe = load_recipe("recipes/cpu-demo.yaml")
    recipe.data.dataset, recipe.data.format = str(path), fmt
    specs = field_specs()
    return ws, specs, recipe_values(recipe, specs)


def test_a_set_the_worker_would_refuse_is_a_problem_of_data_format(tmp_path):
    ws, specs, values = form(tmp_path, "messages")
    verdict, command, steps, *_ = check(ws, specs, values, GPU)
    assert verdict.startswith("**1 problem(s)**") and "(`data.format`)" in verdict and command == "" == steps
    assert "20 of 81 records are not messages records (20 text): only 60 would train" in verdict
    assert "Choose auto" in verdict and "split the data set by format" in verdict


def test_under_auto_every_record_that_fits_a_format_is_counted_and_the_broken_one_is_named(tmp_path):
    ws, specs, values = form(tmp_path, "auto")
    verdict, _, steps, *_ = check(ws, specs, values, GPU)
    assert verdict.startswith("**Valid**")
    assert steps.startswith("80 examples → 72 train / 8 eval")
    assert "1 of 81 records dropped: they fit no format" in steps
    assert budget_markdown(ws, specs, values).startswith("**80** examples")  # the same records, tokenised
