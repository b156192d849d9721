"""Text that handlers make at call time reaches the page in Chinese: run them with the language set to Chinese and
check that every English text they looked up is in the catalogue, including texts looked up from a variable (alert
codes, run states, the VRAM estimator's advice) that the literal scan of test_i18n.py cannot see."""

from __future__ import annotations

import math
import re

import pytest

from studio.estimate.catalogue import load_shape
from studio.estimate.vram import advise, settings_from_recipe
from studio.train.curves import curves
from studio.train.plots import train_figures
from studio.recipe_io import load_recipe
from studio.train.events import FINAL_STATES, LIVE_STATES, QUEUED
from studio.train.watch import Watch
from studio.ui import i18n, plots, quality_views, vram_view
from studio.ui import train_views as views

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def lacking(monkeypatch) -> list[str]:
    """Switch to Chinese; the list fills with every text looked up that the catalogue lacks."""
    found: list[str] = []
    original = i18n.translate

    def recording(text: str, lang: str) -> str:
        if lang != i18n.DEFAULT_LANGUAGE and i18n.missing([text], lang):
            found.append(text)
        return original(text, lang)

    monkeypatch.setattr(i18n, "translate", recording)
    monkeypatch.setitem(i18n._current, "lang", "zh")
    return found


def worker_alerts() -> list[dict]:
    """One event of every alert code, made by the code that makes them (fields as the event log stores them)."""
    watch = Watch(warmup=2, diverge_patience=2)
    made = []
    for step, loss in enumerate([1.0, 1.0, 1.0, 9.0, 9.0, float("nan")], start=1):
        made += watch.step_loss(step, loss, [f"s{i}" for i in range(10)])
    grads = Watch(warmup=2, diverge_patience=2)
    for step, norm in enumerate([1.0, 1.0, 1.0, 50.0, float("inf")], start=1):
        made += grads.grad_norm(step, norm)
    gone = Watch(diverge_patience=2)
    gone.step_loss(1, 1.0, [])
    made += gone.grad_norm(2, 0.0) + gone.grad_norm(3, 0.0)
    made += [{"alert": "oom", "step": 3, "advice": ["use QLoRA (4-bit NF4 base weights) (saves ~5.2 GiB)",
                                                    "shorter max length (512 tokens) (saves ~1.0 GiB)"],
              "message": "out of memory at step 3: …"},
             {"alert": "oom", "step": 3, "message": "out of memory at step 3: lower the micro-batch or max length"},
             {"alert": "checkpoint_damaged", "message": "checkpoint-20 cannot be resumed from: adapter.bin is "
                                                        "damaged (truncated); trying the one before it"},
             {"alert": "no_checkpoint", "message": "no usable checkpoint to resume from: training starts again"}]
    return [{"kind": "alert", **{k: str(v) if isinstance(v, float) and not math.isfinite(v) else v
                                 for k, v in a.items()}} for a in made]


def test_every_alert_code_is_worded_by_the_tab(lacking):
    events = worker_alerts()
    assert {e["alert"] for e in events} == {"nan_loss", "loss_spike", "diverged", "nan_grad", "vanished",
                                            "grad_explosion", "oom", "checkpoint_damaged", "no_checkpoint"}
    for event in events:
        text = views.alert_text(event)
        assert text != event["message"] and CHINESE.search(text), event  # the template, not the fallback
    markdown = views.alerts_markdown({"state": "failed", "error": "out of memory"}, events)
    assert "s9" in markdown and "QLoRA" in markdown
    assert views.alert_text({"alert": "something_new", "message": "as the worker said"}) == "as the worker said"
    assert lacking == []


def test_run_states_progress_and_durations(lacking):
    for state in (QUEUED, *LIVE_STATES, *FINAL_STATES):
        row = views.run_row({"run_id": "r", "state": state, "started": 1000.0, "ended": 4700.0}, now=5000.0)
        assert CHINESE.search(row[1]) and CHINESE.search(row[7])
        assert CHINESE.search(views.progress_html({"state": state, "queue_position": 1}, [], now=70.0))
    assert CHINESE.search(views.alerts_markdown({}, [])) and CHINESE.search(views.progress_html({}, [], now=0.0))
    for status in ({"state": "stopped", "output": "adapter"}, {"state": "stopped"}, {"state": "stopped", "error": "x"},
                   {"state": "finished", "output": "adapter"}, {"state": "failed", "error": "x"}):
        assert CHINESE.search(views.final_message({"run_id": "r", **status}, 3)), status
    running = [{"kind": "status", "state": "starting"}, {"kind": "status", "state": "running", "step": 0}]
    assert "启动中" in views.progress_html({"state": "running"}, running, now=0.0)  # before its first step
    assert lacking == []


@pytest.mark.parametrize("method, optimizer, gpu", [("full", "adamw_torch", 24.0), ("lora", "adamw_torch", 80.0),
                                                     ("lora", "paged_adamw_8bit", 8.0)])
def test_memory_readout_with_every_advice_and_note(lacking, method, optimizer, gpu):
    recipe = load_recipe("recipes/lora-llama3-8b.yaml")
    recipe.method, recipe.optim.optimizer, recipe.data.max_length = method, optimizer, 16384
    recipe.batch.per_device_batch_size, recipe.batch.gradient_checkpointing = 4, False
    recipe.model.attn_implementation = "eager"
    text, figure = vram_view.vram_readout(recipe, vram_view.MemoryTarget("cuda", gpu, gpu))
    assert CHINESE.search(text) and CHINESE.search(figure.layout.title.text)
    actions = [a.action for a in advise(load_shape(recipe.model.name_or_path), settings_from_recipe(recipe))]
    assert len(actions) >= 5 and all(CHINESE.search(vram_view.advice_text(a)) for a in actions)
    assert lacking == []
    # Every verdict and peak phase the estimator can return (studio.estimate.vram.verdict and VramEstimate).
    assert i18n.missing(["fits", "tight", "won't fit", "backward", "optimizer step"]) == []


def test_figures_and_views_are_drawn_in_chinese(lacking):
    figures = [plots.token_histogram([1, 2, 3], 1, 3), plots.s_curve_figure([(0.5, 0.1), (0.9, 0.9)], 0.8, 20, 5),
               plots.bucket_boxes({"en 0–64": [3.0, 4.0]}),
               plots.length_scatter([5, 6, 7], [2.0, 90.0, 1.1], ["kept", "high", "low"], ["a", "b", "c"]),
               plots.lr_schedule_figure([0.0, 1e-4, 5e-5], 1)]
    for fig in figures:
        assert CHINESE.search(fig.layout.title.text) and CHINESE.search(fig.layout.xaxis.title.text or
                                                                        fig.layout.yaxis.title.text)
    clusters = [{"members": [{"id": "a", "text": "x", "kept": True},
                             {"id": "b", "text": "y", "kept": False, "reason": "near", "similarity": 0.9}]}]
    assert CHINESE.search(quality_views.clusters_html(clusters))
    flags = quality_views.dedup_flag_rows([{"id": "b", "reason": "exact"}, {"id": "c", "reason": "near"}])
    assert all(CHINESE.search(row[2]) for row in flags)
    assert all(CHINESE.search(quality_views.reason_text(code)) for code in quality_views.REASONS)
    i18n.use_language("en")
    assert [row[2] for row in quality_views.reworded(flags)] == ["exact duplicate", "near duplicate"]  # a switch back
    i18n.use_language("zh")
    assert lacking == []


def test_train_plots_follow_the_language(lacking):
    events = [{"kind": "train", "step": s, "loss": loss, "learning_rate": 1e-3, "grad_norm": 0.5,
               "tokens_per_second": 100.0} for s, loss in ((1, 2.0), (2, "nan"))]
    events += [{"kind": "status", "state": "resuming", "resumed_from_step": 2},
               {"kind": "train", "step": 3, "loss": 1.5}, {"kind": "eval", "step": 3, "eval_loss": 1.4}]
    runs = [("run-a", curves(events)), ("run-b", curves(events))]
    figures = train_figures(runs, False, 0.6, text=i18n.tr)
    texts = [t for fig in figures for t in (fig.layout.title.text, fig.layout.xaxis.title.text,
                                            fig.layout.yaxis.title.text)]
    texts += [t.name for t in figures[0].data] + [a.text for a in figures[0].layout.annotations]
    texts += [t.name for t in train_figures(runs, False, None, text=i18n.tr)[0].data]
    assert len(figures[0].layout.annotations) == 2 and all(CHINESE.search(t) for t in texts), texts
    assert lacking == []
