"""Quality tab: duplicate and perplexity reports, flags a person can clear, applied as a new dataset version."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import gradio as gr

from studio.data.versions import save_version
from studio.quality.apply import apply_removals, write_report
from studio.quality.dedup import (
    KEEP_CHOICES,
    PRESETS,
    VERIFY_CHOICES,
    Cancelled,
    DedupInputError,
    DedupSettings,
    find_duplicates,
)
from studio.quality.lsh import s_curve
from studio.ui import i18n, quality_ppl
from studio.ui import quality_views as views
from studio.ui.i18n import tr
from studio.ui.plots import count_bars, s_curve_figure
from studio.ui.quality_state import SAMPLE_SOURCES, Review, followed_sources, source_choices
from studio.workspace import Workspace

TITLE = "Quality"


def follow_workspace(ws: Workspace, current: str | None):
    """The data set list as the workspace holds it now (a version saved in the Data tab, by apply or by the CLI),
    the selection kept while it exists."""
    choices, value = followed_sources(ws, current)
    return gr.update(choices=choices, value=value)


@dataclass
class QualityTab:
    """What the app wires from outside the tab: the data set list follows the workspace whenever the tab is shown."""

    ws: Workspace
    source: gr.Dropdown

    def follow(self, tab: gr.Tab) -> None:
        tab.select(functools.partial(follow_workspace, self.ws), self.source, self.source, show_progress="hidden")


def curve(threshold: float, num_perm: float, bands: float, rows: float, auto: bool):
    settings = DedupSettings(threshold=float(threshold), num_perm=int(num_perm), bands=int(bands), rows=int(rows),
                             auto_bands=bool(auto))
    b, r = settings.banding()
    return s_curve_figure(s_curve(b, r), settings.threshold, b, r)


def dedup_settings(threshold, num_perm, bands, rows, auto, shingle, keep, verify) -> DedupSettings:
    try:
        return DedupSettings(threshold=float(threshold), num_perm=int(num_perm), bands=int(bands), rows=int(rows),
                             auto_bands=bool(auto), shingle=int(shingle), keep=keep, verify=verify)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None


def run_dedup(ws: Workspace, review: Review, ref: str, threshold, num_perm, bands, rows, auto, shingle, keep, verify,
              progress=gr.Progress()):
    settings = dedup_settings(threshold, num_perm, bands, rows, auto, shingle, keep, verify)
    review.cancel.clear()
    source = review.use(ws, ref)
    try:
        result = find_duplicates(source.records, settings, progress=lambda f, m: progress(f, desc=m),
                                 cancel=review.cancel.is_set)
    except DedupInputError as exc:
        raise gr.Error(str(exc)) from None
    except Cancelled:
        raise gr.Error(tr("Deduplication cancelled; nothing was written.")) from None
    review.dedup_removed, review.dedup_done = result.removed, True
    json_path, csv_path = write_report(ws.reports / source.name / source.version, "dedup", result.report,
                                       result.removed)
    report = result.report
    return (review, views.dedup_summary_markdown(report),
            count_bars(report["cluster_sizes"], tr("Duplicate clusters by size"), tr("records per cluster")),
            views.clusters_html(report["largest_clusters"]),
            i18n.table(views.DEDUP_FLAG_COLUMNS, views.dedup_flag_rows(result.removed)),
            gr.update(value=str(json_path), visible=True), gr.update(value=str(csv_path), visible=True))


def apply_flags(ws: Workspace, review: Review, dedup_rows, ppl_rows, current: str | None):
    flagged = review.dedup_removed + review.ppl_removed
    if review.source is None or not (review.dedup_done or review.ppl_report or flagged):
        raise gr.Error(tr("Run a duplicate or perplexity report first."))
    if not flagged:
        # Reports that flag nothing are a result, not a mistake: the version stays the one to train on.
        return (tr("Nothing is flagged in `{source}`: it stays as it is and no new version is needed.",
                   source=review.source.ref), follow_workspace(ws, current))
    spared = views.unflagged_ids(dedup_rows) + views.unflagged_ids(ppl_rows)
    kept, removed = apply_removals(review.source.records, flagged, spared)
    version = save_version(ws, review.source.name, kept, operation="quality", parent=review.source.ref,
                           parameters={"unflagged": spared}, removed=removed)
    return (tr("Saved **{ref}**: {kept} records kept, {removed} removed (listed with reasons in `{path}`); "
               "{cleared} flags cleared by you. `{source}` is unchanged.", ref=version.ref, kept=len(kept),
               removed=len(removed), path=version.path / "removed.jsonl", cleared=len(spared),
               source=review.source.ref), follow_workspace(ws, current))


def build(ctx) -> QualityTab:
    ws = ctx.workspace
    defaults = DedupSettings()
    review = gr.State(lambda: Review())  # a factory: one fresh Review per browser session
    with gr.Row():
        source = gr.Dropdown(source_choices(ws), value=SAMPLE_SOURCES[0], label="Dataset", scale=3,
                             allow_custom_value=True, elem_id="quality-source")
        refresh = gr.Button("Refresh list", scale=1, elem_id="quality-refresh")
    with gr.Tab("Duplicates"):
        with gr.Row():
            preset = gr.Dropdown(["custom", *PRESETS], value="custom", label="Preset threshold")
            threshold = gr.Slider(0.5, 1.0, defaults.threshold, step=0.01, label="Jaccard threshold")
            shingle = gr.Number(defaults.shingle, label="Shingle (characters)", precision=0)
            num_perm = gr.Number(defaults.num_perm, label="Permutations", precision=0)
        with gr.Row():
            bands = gr.Number(defaults.bands, label="Bands (b)", precision=0)
            rows = gr.Number(defaults.rows, label="Rows per band (r)", precision=0)
            auto = gr.Checkbox(defaults.auto_bands, label="Choose b × r for the threshold")
            keep = gr.Dropdown(list(KEEP_CHOICES), value=defaults.keep, label="Keep per cluster")
            verify = gr.Dropdown(list(VERIFY_CHOICES), value=defaults.verify, label="Verify pairs by")
        scurve = gr.Plot(curve(defaults.threshold, defaults.num_perm, defaults.bands, defaults.rows, False))
        with gr.Row():
            run = gr.Button("Find duplicates", variant="primary", elem_id="dedup-run")
            stop = gr.Button("Cancel")
        summary = gr.Markdown(elem_id="dedup-summary")
        sizes = gr.Plot()
        clusters = gr.HTML(elem_id="dedup-clusters")
        flags = gr.Dataframe(headers=views.DEDUP_FLAG_COLUMNS, datatype=["bool", "str", "str", "str", "number"],
                             interactive=True, label="Flagged records: clear 'remove' to keep one",
                             elem_id="dedup-flags")
        with gr.Row():
            report_json = gr.DownloadButton("Report (JSON)", visible=False)
            report_csv = gr.DownloadButton("Removals (CSV)", visible=False)
    ppl = quality_ppl.build(ws, review, source)
    apply = gr.Button("Apply flags → new dataset version", variant="primary", elem_id="quality-apply")
    applied = gr.Markdown(elem_id="quality-applied")

    inputs = [threshold, num_perm, bands, rows, auto]
    for control in inputs:
        control.change(curve, inputs, scurve)
    i18n.refresh_on_switch(curve, inputs, [scurve])
    i18n.refresh_on_switch(lambda v: i18n.table(views.DEDUP_FLAG_COLUMNS, views.reworded(i18n.rows_of(v))), [flags],
                           [flags])
    preset.change(lambda name, t: PRESETS.get(name, t), [preset, threshold], threshold)
    refresh.click(functools.partial(follow_workspace, ws), source, source)
    job = run.click(functools.partial(run_dedup, ws), [review, source, *inputs, shingle, keep, verify],
                    [review, summary, sizes, clusters, flags, report_json, report_csv])
    stop.click(lambda r: r.cancel.set(), review, None, cancels=[job])
    apply.click(functools.partial(apply_flags, ws), [review, flags, ppl.flags, source], [applied, source])
    return QualityTab(ws, source)
