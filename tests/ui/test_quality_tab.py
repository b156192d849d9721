"""Quality tab handlers: the perplexity summary says how chats were scored and how many records were not scored and
why (from the report's reason codes, in English and Chinese); the data set list follows the workspace."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.config import DEMO_MODEL
from studio.data.ingest import ingest_paths
from studio.data.versions import save_version
from studio.device import detect_device
from studio.quality.ppl_encode import UNSCORED_REASONS
from studio.ui import i18n, quality, quality_views
from studio.ui.app import StudioContext, build_app
from studio.ui.quality_ppl import run_ppl
from studio.ui.quality_state import Review
from studio.workspace import Workspace
from tests.quality.mixed_set import N_ALPACA, N_CHAT, N_TEXT, without_chat_template, write_mixed

N_CHATS = N_CHAT + N_ALPACA


@pytest.fixture
def ws(tmp_path, tiny_model_dir):
    # the models are opened as from a studio started with --allow-path for their folders
    workspace = Workspace.open(tmp_path / "ws", (tiny_model_dir.resolve(), tmp_path.resolve()))
    records = ingest_paths([str(write_mixed(tmp_path / "mixed.jsonl"))]).records
    save_version(workspace, "mixed", records, operation="ingest+chunk", parameters={})
    return workspace


def _run(ws, model, chat_tokens):
    out = run_ppl(ws, Review(), "mixed@v1", str(model), 1, 0.1, 0.0, 4, 128, False, chat_tokens,
                  progress=lambda *args, **kwargs: None)
    return out[0], out[1]  # review, summary


def test_the_summary_says_how_chats_were_scored(ws, tiny_model_dir):
    review, summary = _run(ws, tiny_model_dir, None)  # None: the radio never rendered; the default applies
    assert review.ppl_report["chat"]["tokens"] == "assistant"
    assert f"**{N_CHATS + N_TEXT}** records scored" in summary
    assert f"{N_CHATS} chat records scored on their assistant turns" in summary and "not scored" not in summary
    _, summary = _run(ws, tiny_model_dir, "conversation")
    assert f"{N_CHATS} chat records scored on the whole conversation" in summary


def test_the_summary_counts_the_records_not_scored_and_why(ws, tiny_model_dir, tmp_path):
    base = without_chat_template(tiny_model_dir, tmp_path / "base-model")
    review, summary = _run(ws, base, "assistant")
    assert review.ppl_report["counts"]["unscored_by_reason"] == {"no_chat_template": N_CHATS}
    assert f"**{N_TEXT}** records scored" in summary
    assert (f"**{N_CHATS}** not scored (kept in the data set, listed in the report): {N_CHATS} × the reference "
            f"model has no chat template") in summary
    try:
        i18n.use_language("zh")
        chinese = quality_views.ppl_summary_markdown(review.ppl_report)
    finally:
        i18n.use_language(i18n.DEFAULT_LANGUAGE)
    assert f"{N_CHATS} × {i18n.translate('the reference model has no chat template', 'zh')}" in chinese
    assert "not scored" not in chinese and "未评分" in chinese


def test_every_reason_code_is_worded_in_both_languages():
    assert set(quality_views.UNSCORED) == set(UNSCORED_REASONS)
    assert i18n.missing(quality_views.UNSCORED.values()) == []
    text = quality_views.unscored_markdown({"empty": 2, "too_long": 1})
    assert text.startswith("**3** not scored") and text.endswith("2 × empty text; 1 × too long to score (chunk it "
                                                                 "first)")


def _on_show(demo: gr.Blocks, tab_id: str, output: gr.components.Component):
    """The handler the page runs when the tab is shown, the one that writes `output`."""
    tab = next(b for b in demo.blocks.values() if isinstance(b, gr.Tab) and b.id == tab_id)
    return next(f.fn for f in demo.fns.values()
                if (tab._id, "select") in f.targets and output in f.outputs)


def test_the_list_shows_a_version_saved_after_the_app_was_built(ws):
    demo = build_app(StudioContext(ws, DEMO_MODEL, detect_device()))
    source = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "quality-source")
    assert "mixed@v1" in [value for _, value in source.choices] and "mixed@v2" not in str(source.choices)
    records = [{"id": "a", "text": "saved later"}]
    save_version(ws, "mixed", records, operation="quality", parameters={}, parent="mixed@v1")
    save_version(ws, "later", records, operation="ingest+chunk", parameters={})
    shown = _on_show(demo, "quality", source)
    update = shown("mixed@v1")  # the selection as the page sends it
    assert {"mixed@v2", "later@v1"} <= set(update["choices"]) and update["value"] == "mixed@v1"
    assert shown("later")["value"] == "later"  # a bare name still names a data set
    assert shown("gone@v9")["value"] == "bundled:patents"  # a version no longer there is not kept


def test_apply_keeps_the_selection_and_lists_the_new_version(ws):
    review = Review()
    review.use(ws, "mixed@v1")
    review.ppl_removed = [{"id": "txt0", "reason": "ppl_high", "perplexity": 9.0, "bucket": "text/0",
                           "n_tokens": 5, "record": review.source.records[-3]}]
    message, update = quality.apply_flags(ws, review, None, None, "mixed@v1")
    assert "Saved **mixed@v2**" in message
    assert "mixed@v2" in update["choices"] and update["value"] == "mixed@v1"


def test_apply_after_reports_that_flag_nothing_says_so_and_writes_nothing(ws):
    # It used to answer "Run a duplicate or perplexity report first." right after both reports had run.
    review = Review()
    review.use(ws, "mixed@v1")
    review.dedup_done = True  # a duplicate report ran and found no duplicates
    message, update = quality.apply_flags(ws, review, None, None, "mixed@v1")
    assert "Nothing is flagged in `mixed@v1`" in message
    assert not (ws.datasets / "mixed" / "v2").exists() and update["value"] == "mixed@v1"
    with pytest.raises(gr.Error):  # before any report, the message still asks for one
        quality.apply_flags(ws, Review(), None, None, "mixed@v1")
