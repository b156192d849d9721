"""Data tab: upload or pick a sample, chunk, inspect fragments exactly as training will see them, save a version."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import gradio as gr

from studio.assets import BUNDLED
from studio.config import DataConfig, ModelConfig
from studio.data.chunking import ChunkSettings
from studio.data.fragments import PreparedData, prepare_files
from studio.data.templates import encode_record
from studio.data.versions import save_version
from studio.models import load_tokenizer
from studio.ui import data_views as views
from studio.ui.plots import token_histogram
from studio.workspace import Workspace, safe_name

TITLE = "Data"
SAMPLES = [name for name in BUNDLED if name != "demo-model"]
RENDERED_EXAMPLES = 3


@functools.lru_cache(maxsize=4)
def cached_tokenizer(reference: str):
    return load_tokenizer(ModelConfig(name_or_path=reference))


def stage_uploads(ws: Workspace, uploaded: list[str]) -> tuple[list[Path], dict[str, str]]:
    """Copy uploads into the workspace under safe, unique names; map them back to what the user called them."""
    staged, names = [], {}
    for temp in uploaded:
        original = Path(temp).name
        target = ws.uploads / safe_name(original)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = ws.uploads / f"{stem}-{n}{suffix}"
        shutil.copyfile(temp, target)
        staged.append(target)
        names[str(target)] = original
    return staged, names


def process(ws: Workspace, uploaded, sample, tokenizer_ref, min_tokens, max_tokens, overlap, max_length,
            progress=gr.Progress()):
    settings = ChunkSettings(int(min_tokens), int(max_tokens), float(overlap))
    paths, names = stage_uploads(ws, list(uploaded or []))
    if sample:
        paths.append(f"bundled:{sample}")
    if not paths:
        raise gr.Error("Upload a file or pick a bundled sample first.")
    tokenizer = cached_tokenizer(tokenizer_ref.strip())
    data = prepare_files(paths, tokenizer, settings, max_length=int(max_length), display_names=names,
                         progress=lambda fraction, message: progress(fraction, desc=message))
    rows, page, pages = views.table_page(data.records)
    docs = list(dict.fromkeys(f["doc"] for f in data.fragments))
    rendered = "".join(views.rendered_example_html(tokenizer, encode_record(tokenizer, r, int(max_length)), r["id"])
                       for r in data.records[:RENDERED_EXAMPLES])
    counts = [f["n_tokens"] for f in data.fragments]
    default_name = safe_name(Path(names.get(str(paths[0]), str(paths[0]).removeprefix("bundled:"))).stem, "dataset")
    return (data, views.summary_markdown(data.summary), views.issue_rows(data.issues), rows, f"page {page} / {pages}",
            token_histogram(counts, settings.min_tokens, settings.max_tokens),
            gr.update(choices=docs, value=docs[0] if docs else None),
            views.document_tree_html(data.fragments, docs[0]) if docs else "", rendered, default_name)


def search(data: PreparedData | None, query: str, page: float):
    if data is None:
        return [], "page 1 / 1"
    rows, page, pages = views.table_page(data.records, query, int(page or 1))
    return rows, f"page {page} / {pages}"


def save(ws: Workspace, data: PreparedData | None, name: str, parameters: dict):
    if data is None or not data.records:
        raise gr.Error("Nothing to save yet: read some data first.")
    version = save_version(ws, name.strip(), data.records, operation="ingest+chunk", parameters=parameters)
    return (f"Saved **{version.ref}** ({len(data.records)} records) in `{version.path}`",
            gr.update(value=str(version.data_file), visible=True))


def build(ctx) -> None:
    ws = ctx.workspace
    defaults = ChunkSettings()
    with gr.Row():
        uploaded = gr.File(label="Files (jsonl, json, csv, tsv, parquet, txt, md, pdf, docx)", file_count="multiple",
                           elem_id="data-upload")
        with gr.Column():
            sample = gr.Dropdown(choices=[""] + SAMPLES, value="", label="…or a bundled sample")
            tokenizer_ref = gr.Textbox(ctx.model, label="Tokenizer (model reference)")
    with gr.Row():
        min_tokens = gr.Number(defaults.min_tokens, label="Min tokens", precision=0)
        max_tokens = gr.Number(defaults.max_tokens, label="Max tokens", precision=0)
        overlap = gr.Slider(0.0, 0.5, defaults.overlap, step=0.01, label="Overlap (fraction of max)")
        max_length = gr.Number(DataConfig.max_length, label="Training max length", precision=0)
    run = gr.Button("Read and chunk", variant="primary", elem_id="data-run")
    state = gr.State(None)
    summary = gr.Markdown(elem_id="data-summary")
    issues = gr.Dataframe(headers=["severity", "file", "where", "message"], label="Issues", wrap=True,
                          max_height=240, interactive=False, elem_id="data-issues")
    with gr.Tabs():
        with gr.Tab("Fragments"):
            with gr.Row():
                query = gr.Textbox(label="Search id or text", scale=3)
                page = gr.Number(1, label="Page", precision=0, minimum=1, scale=1)
                page_info = gr.Markdown("page 1 / 1")
            table = gr.Dataframe(headers=views.TABLE_COLUMNS, wrap=True, max_height=420, interactive=False,
                                 elem_id="data-table")
        with gr.Tab("Length histogram"):
            histogram = gr.Plot(elem_id="data-histogram")
        with gr.Tab("Document tree"):
            doc = gr.Dropdown(label="Document")
            tree = gr.HTML()
        with gr.Tab("As the model sees it"):
            rendered = gr.HTML(elem_id="data-rendered")
    with gr.Row():
        name = gr.Textbox(label="Dataset name", scale=2)
        save_button = gr.Button("Save as new version", scale=1, elem_id="data-save")
    saved = gr.Markdown(elem_id="data-saved")
    download = gr.DownloadButton("Download JSONL", visible=False, elem_id="data-download")

    run.click(functools.partial(process, ws), [uploaded, sample, tokenizer_ref, min_tokens, max_tokens, overlap,
                                               max_length],
              [state, summary, issues, table, page_info, histogram, doc, tree, rendered, name])
    for trigger in (query.submit, page.submit):
        trigger(search, [state, query, page], [table, page_info])
    doc.change(lambda data, d: views.document_tree_html(data.fragments, d) if data and d else "", [state, doc], tree)
    save_button.click(lambda data, n, t, lo, hi, ov: save(ws, data, n, {"tokenizer": t, "min_tokens": lo,
                                                                        "max_tokens": hi, "overlap": ov}),
                      [state, name, tokenizer_ref, min_tokens, max_tokens, overlap], [saved, download])
