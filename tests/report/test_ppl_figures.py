"""The report's perplexity figures say how chats were scored and why records were not scored."""

from __future__ import annotations

from studio.report.lineage import ppl_figures


def test_ppl_figures_name_the_chat_scope_and_the_reasons_not_scored():
    report = {"model": "bundled:demo-model", "buckets": [{}], "records": {"a": {"ppl": 3.0}, "b": {"ppl": None}},
              "counts": {"records": 13, "scored": 3, "unscored": 10, "flagged_high": 0, "flagged_low": 0,
                         "unscored_by_reason": {"no_chat_template": 9, "empty": 1}},
              "chat": {"tokens": "assistant", "chat_records_scored": 2, "text_records_scored": 1}}
    figures = dict(ppl_figures(report))
    assert figures["not scored"] == "10 (no chat template: 9, empty: 1)"
    assert figures["chat records scored on"] == "assistant turns (2)"
    older = dict(ppl_figures({"counts": {"records": 2, "scored": 2, "unscored": 0}}))  # a report from before
    assert older["not scored"] == "0" and "chat records scored on" not in older
