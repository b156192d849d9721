"""Quality tab, perplexity part: score with a reference model, bucket by language and length, flag the tails."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import gradio as gr

from studio.config import DEMO_MODEL
from studio.paths import check_model_ref
from studio.quality.apply import write_report
from studio.quality.buckets import BucketSettings, tail_count
from studio.quality.perplexity import Cancelled, load_scorer, score_records
from studio.quality.ppl_encode import CHAT_TOKENS, DEFAULT_CHAT_TOKENS
from studio.quality.ppl_report import bucket_scores, build_report, split_records
from studio.ui import i18n
from studio.ui import quality_views as views
from studio.ui.i18n import tr
from studio.ui.plots import bucket_boxes, length_scatter
from studio.ui.quality_state import Review
from studio.workspace import Workspace

THRESHOLD_COLUMNS = ["bucket", "tokens", "records", "median ppl", "high ≥", "low ≤", "flagged high", "flagged low"]
CHAT_TOKEN_CHOICES = [("assistant turns (what training learns)", "assistant"), ("whole conversation", "conversation")]


@dataclass
class PplControls:
    flags: gr.Dataframe


@functools.lru_cache(maxsize=2)
def cached_scorer(model: str, load_in_4bit: bool):
    return load_scorer(model, load_in_4bit=load_in_4bit)


def small_bucket_note(report: dict) -> str:
    """Warn when the chosen fractions round to no record in every bucket: nothing can be flagged then."""
    high, low = report["settings"]["trim_high"], report["settings"]["trim_low"]
    sizes = [b["records"] for b in report["buckets"]]
    if any(tail_count(n, high) or tail_count(n, low) for n in sizes):
        return ""
    return "\n\n" + tr("⚠ The buckets hold at most {records} records, so {high:.0%} / {low:.0%} tails round to none: "
                        "use fewer buckets, larger fractions, or chunk the documents first (Data tab).",
                        records=max(sizes, default=0), high=high, low=low)


def threshold_rows(report: dict) -> list[list]:
    def fmt(x):
        return "" if x is None else round(x, 2)

    return [[b["bucket"], f"{b['min_tokens']:.0f}–{b['max_tokens']:.0f}", b["records"], fmt(b["median_ppl"]),
             fmt(b["high_threshold"]), fmt(b["low_threshold"]), b["flagged_high"], b["flagged_low"]]
            for b in report["buckets"]]


def ppl_flag_rows(removed: list[dict]) -> list[list]:
    return [[True, r["id"], views.reason_text(r["reason"]), round(r["perplexity"], 2), r["bucket"], r["n_tokens"]]
            for r in removed]


def figures(report: dict):
    scored = [(rid, r) for rid, r in report["records"].items() if r.get("ppl") is not None]
    by_bucket: dict[str, list[float]] = {}
    for _, r in scored:
        by_bucket.setdefault(r["bucket"], []).append(r["ppl"])
    labels = [r["flagged"] or "kept" for _, r in scored]
    return (bucket_boxes(dict(sorted(by_bucket.items()))),
            length_scatter([r["n_tokens"] for _, r in scored], [r["ppl"] for _, r in scored], labels,
                           [rid for rid, _ in scored]))


def summary_markdown(report: dict | None):
    """The run's summary, made again in the current language (after a switch); nothing before a run."""
    return gr.skip() if report is None else views.ppl_summary_markdown(report) + small_bucket_note(report)


def run_ppl(ws: Workspace, review: Review, ref: str, model: str, buckets, trim_high, trim_low, batch_size,
            max_length, load_in_4bit, chat_tokens=None, progress=gr.Progress()):
    review.cancel.clear()
    source = review.use(ws, ref)
    chat_tokens = chat_tokens if chat_tokens in CHAT_TOKENS else DEFAULT_CHAT_TOKENS  # None from an unshown radio
    try:
        settings = BucketSettings(int(buckets), float(trim_high), float(trim_low))
        scorer = cached_scorer(check_model_ref(ws, (model or DEMO_MODEL).strip(), "reference model"),
                               bool(load_in_4bit))
        result = score_records(source.records, scorer, batch_size=int(batch_size),
                               max_length=int(max_length) if max_length else None, chat_tokens=chat_tokens,
                               progress=lambda f, m: progress(f, desc=m), cancel=review.cancel.is_set)
    except Cancelled:
        raise gr.Error(tr("Scoring cancelled; nothing was written.")) from None
    except (ValueError, OSError, RuntimeError) as exc:
        raise gr.Error(str(exc)) from None
    report = build_report(source.records, result, bucket_scores(source.records, result.scores, settings),
                          {"input": source.ref, "model": scorer.name, "load_in_4bit": bool(load_in_4bit)})
    _, removed = split_records(source.records, report)
    review.ppl_removed, review.ppl_report = removed, report
    json_path, csv_path = write_report(ws.reports / source.name / source.version, "ppl", report, removed)
    boxes, scatter = figures(report)
    return (review, summary_markdown(report), boxes, scatter, i18n.table(THRESHOLD_COLUMNS, threshold_rows(report)),
            i18n.table(views.PPL_FLAG_COLUMNS, ppl_flag_rows(removed)),
            gr.update(value=str(json_path), visible=True), gr.update(value=str(csv_path), visible=True))


def build(ws: Workspace, review: gr.State, source: gr.Dropdown) -> PplControls:
    defaults = BucketSettings()
    with gr.Tab("Perplexity"):
        with gr.Row():
            model = gr.Textbox(DEMO_MODEL, label="Reference model", scale=2)
            buckets = gr.Number(defaults.buckets, label="Length buckets (per language)", precision=0)
            trim_high = gr.Number(defaults.trim_high, label="Flag top fraction (noise)")
            trim_low = gr.Number(defaults.trim_low, label="Flag bottom fraction (boilerplate)")
        with gr.Row():
            batch_size = gr.Number(8, label="Batch size", precision=0)
            # The bundled model was pre-trained on 256-token blocks; its scores blur beyond that.
            max_length = gr.Number(256, label="Window (tokens)", precision=0)
            load_in_4bit = gr.Checkbox(False, label="Load the model in 4-bit (NF4)")
            chat_tokens = gr.Radio(CHAT_TOKEN_CHOICES, value=DEFAULT_CHAT_TOKENS, label="Chat records: score",
                                   info="Assistant turns are scored in the context of the conversation before them, "
                                        "rendered by the reference model's chat template as training renders it",
                                   elem_id="ppl-chat-tokens")
        with gr.Row():
            run = gr.Button("Score perplexity", variant="primary", elem_id="ppl-run")
            stop = gr.Button("Cancel")
        summary = gr.Markdown(elem_id="ppl-summary")
        with gr.Row():
            boxes, scatter = gr.Plot(), gr.Plot(elem_id="ppl-scatter")
        thresholds = gr.Dataframe(headers=THRESHOLD_COLUMNS, label="Thresholds per bucket", interactive=False)
        flags = gr.Dataframe(headers=views.PPL_FLAG_COLUMNS, datatype=["bool", "str", "str", "number", "str",
                                                                       "number"],
                             interactive=True, label="Flagged records: clear 'remove' to keep one",
                             elem_id="ppl-flags")
        with gr.Row():
            report_json = gr.DownloadButton("Report (JSON)", visible=False)
            report_csv = gr.DownloadButton("Removals (CSV)", visible=False)
    job = run.click(functools.partial(run_ppl, ws),
                    [review, source, model, buckets, trim_high, trim_low, batch_size, max_length, load_in_4bit,
                     chat_tokens],
                    [review, summary, boxes, scatter, thresholds, flags, report_json, report_csv])
    stop.click(lambda r: r.cancel.set(), review, None, cancels=[job])
    i18n.retitle_on_switch(thresholds, THRESHOLD_COLUMNS)
    i18n.refresh_on_switch(lambda r: summary_markdown(r.ppl_report), [review], [summary])
    i18n.refresh_on_switch(lambda v: i18n.table(views.PPL_FLAG_COLUMNS, views.reworded(i18n.rows_of(v))), [flags],
                           [flags])
    return PplControls(flags)
