"""Data tab: upload or pick a sample, chunk, inspect fragments exactly as training will see them, save a version."""

from __future__ import annotations

import functools
import html
import shutil
from pathlib import Path

import gradio as gr

from studio.assets import BUNDLED
from studio.config import DataConfig, ModelConfig
from studio.data.chunking import ChunkSettings
from studio.data.cleanup import DEFAULT_FILLERS, parse_word_list
from studio.data.fragments import CleanupOptions, PreparedData, parse_mapping, prepare_files
from studio.data.ingest import FORMAT_CHOICES
from studio.data.templates import encode_record
from studio.data.versions import save_version
from studio.models import load_tokenizer
from studio.paths import check_local, check_model_ref, is_local
from studio.ui import data_views as views
from studio.ui import i18n
from studio.ui.i18n import tr
from studio.ui.plots import token_histogram
from studio.workspace import Workspace, safe_file_name, safe_name

TITLE = "Data"
SAMPLES = [name for name in BUNDLED if name != "demo-model"]


@functools.lru_cache(maxsize=4)
def cached_tokenizer(reference: str):
    return load_tokenizer(ModelConfig(name_or_path=reference))


def stage_uploads(ws: Workspace, uploaded: list[str]) -> tuple[list[Path], dict[str, str]]:
    """Copy uploads into the workspace under safe, unique names; map them back to what the user called them."""
    staged, names = [], {}
    for temp in uploaded:
        original = Path(temp).name
        target = ws.uploads / safe_file_name(original)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = ws.uploads / f"{stem}-{n}{suffix}"
        shutil.copyfile(temp, target)
        staged.append(target)
        names[str(target)] = original
    return staged, names


def gather_sources(ws: Workspace, uploaded, sample: str, location: str) -> tuple[list, dict[str, str], str | None]:
    """Uploads (copied into the workspace), a bundled sample, and a workspace folder or Hub dataset id."""
    paths, names = stage_uploads(ws, list(uploaded or []))
    if sample:
        paths.append(f"bundled:{sample}")
    hub = None
    if location.strip():
        if is_local(location):  # folders the UI reads are limited to the workspace and --allow-path folders
            paths.append(check_local(ws, location.strip(), "folder"))
        else:
            hub = location.strip()
    if not paths and not hub:
        raise gr.Error(tr("Upload a file, pick a bundled sample, or give a workspace folder or Hub dataset id."))
    return paths, names, hub


def process(ws: Workspace, uploaded, sample, location, fmt, mapping_text, max_history, fillers, sensitive,
            tokenizer_ref, min_tokens, max_tokens, overlap, max_length, progress=gr.Progress()):
    # Gradio sends None for a textbox the user never touched.
    location, mapping_text, fillers, sensitive = (v or "" for v in (location, mapping_text, fillers, sensitive))
    try:
        settings = ChunkSettings(int(min_tokens), int(max_tokens), float(overlap))
        cleanup = CleanupOptions(int(max_history or 0), tuple(parse_word_list(fillers)),
                                 tuple(parse_word_list(sensitive)))
        mapping = parse_mapping(mapping_text) or None
        paths, names, hub = gather_sources(ws, uploaded, sample, location)
        reference = check_model_ref(ws, tokenizer_ref.strip(), "tokenizer")
        tokenizer = cached_tokenizer(reference)
    except (ValueError, FileNotFoundError, OSError) as exc:
        raise gr.Error(str(exc)) from None
    data = prepare_files(paths, tokenizer, settings, max_length=int(max_length), hub_dataset=hub, format=fmt,
                         mapping=mapping, cleanup=cleanup, display_names=names,
                         progress=lambda fraction, message: progress(fraction, desc=message))
    rows, page_text = search(data, "", 1)
    docs = list(dict.fromkeys(f["doc"] for f in data.fragments))
    # The rendered view encodes with what this data was read with, whatever the fields say later.
    view = {"tokenizer": reference, "max_length": int(max_length)}
    rendered, rendered_info, position = rendered_view(data, view, "", "all", 1)
    first = names.get(str(paths[0]), str(paths[0]).removeprefix("bundled:")) if paths else hub
    summary, files, cleaned, issues, histogram = reports(data, settings.min_tokens, settings.max_tokens)
    return (data, summary, files, cleaned, issues, rows, page_text, histogram,
            gr.update(choices=docs, value=docs[0] if docs else None),
            views.document_tree_html(data.fragments, docs[0]) if docs else "", view, rendered, rendered_info, "",
            "all", position, safe_name(Path(first).stem, "dataset"))


def reports(data: PreparedData, min_tokens, max_tokens) -> tuple:
    """The summary, file and issue tables, clean-up report and length histogram of prepared data."""
    counts = [f["n_tokens"] for f in data.fragments]
    return (views.summary_markdown(data.summary), i18n.table(views.FILE_COLUMNS, views.file_rows(data.ingest.files)),
            views.cleanup_markdown(data.cleanup), i18n.table(views.ISSUE_COLUMNS, views.issue_rows(data.issues)),
            token_histogram(counts, min_tokens, max_tokens))


def search(data: PreparedData | None, query: str, page: float):
    if data is None:
        return i18n.table(views.TABLE_COLUMNS, []), tr("page {page} / {pages}", page=1, pages=1)
    rows, page, pages = views.table_page(data.records, query or "", int(page or 1))
    return i18n.table(views.TABLE_COLUMNS, rows), tr("page {page} / {pages}", page=page, pages=pages)


def rendered_view(data: PreparedData | None, view: dict | None, query: str | None, kind: str | None,
                  position: float | None):
    """One record as training sees it (its loss mask marked), picked by position among the records matching the
    query and kind; its HTML, "record n of total" and the position shown."""
    if data is None or not view:
        return "", "", 1
    record, position, total = views.pick_record(data.records, query or "", kind or "all", int(position or 1))
    if record is None:
        return f"<p>{html.escape(tr('No record matches.'))}</p>", tr("record {n} of {total}", n=0, total=0), 1
    tokenizer = cached_tokenizer(view["tokenizer"])
    example = encode_record(tokenizer, record, view["max_length"])
    return (views.rendered_example_html(tokenizer, example, record["id"]),
            tr("record {n} of {total}", n=position, total=total), position)


def first_match(data, view, query, kind, position):
    """A new search or kind starts at its first record."""
    return rendered_view(data, view, query, kind, 1)


def step_record(data, view, query, kind, position, delta: int):
    """The record before (delta -1) or after (delta +1) the one shown."""
    return rendered_view(data, view, query, kind, int(position or 1) + delta)


def shown_again(data: PreparedData | None, query: str, page: float, doc: str | None, min_tokens, max_tokens,
                view: dict | None, picked: str | None, kind: str | None, position: float | None):
    """What the tab shows of the prepared data, made again in the current language (after a language switch)."""
    rows, page_text = search(data, query, page)
    if data is None:  # nothing read yet: empty tables, titled in the new language
        return (gr.skip(), i18n.table(views.FILE_COLUMNS, []), gr.skip(), i18n.table(views.ISSUE_COLUMNS, []), rows,
                page_text, gr.skip(), gr.skip(), gr.skip(), gr.skip())
    summary, files, cleaned, issues, histogram = reports(data, min_tokens, max_tokens)
    tree = views.document_tree_html(data.fragments, doc) if doc else gr.skip()
    rendered, rendered_info, _ = rendered_view(data, view, picked, kind, position)
    return summary, files, cleaned, issues, rows, page_text, histogram, tree, rendered, rendered_info


def save(ws: Workspace, data: PreparedData | None, name: str, parameters: dict):
    if data is None or not data.records:
        raise gr.Error(tr("Nothing to save yet: read some data first."))
    version = save_version(ws, name.strip(), data.records, operation="ingest+chunk", parameters=parameters)
    return (tr("Saved **{ref}** ({n} records) in `{path}`", ref=version.ref, n=len(data.records), path=version.path),
            gr.update(value=str(version.data_file), visible=True))


def build(ctx) -> None:
    ws = ctx.workspace
    defaults = ChunkSettings()
    with gr.Row():
        uploaded = gr.File(label="Files (jsonl, json, csv, tsv, parquet, txt, md, pdf, docx)", file_count="multiple",
                           elem_id="data-upload")
        with gr.Column():
            sample = gr.Dropdown(choices=[""] + SAMPLES, value="", label="…or a bundled sample", elem_id="data-sample")
            location = gr.Textbox(label="…or a folder inside the workspace, or a Hub dataset id")
            tokenizer_ref = gr.Textbox(ctx.model, label="Tokenizer (model reference)")
    with gr.Accordion("Format and field mapping", open=False):
        fmt = gr.Dropdown(list(FORMAT_CHOICES), value="auto", label="Format (auto detects it per file)")
        mapping_text = gr.Textbox(label="Field mapping, our_field=your_field", placeholder="output=response, "
                                  "instruction=query")
    with gr.Accordion("Chat clean-up", open=False):
        with gr.Row():
            max_history = gr.Number(0, label="Keep latest turns within N tokens (0 = off)", precision=0)
            fillers = gr.Textbox("", label="Filler words to strip", placeholder=", ".join(DEFAULT_FILLERS))
            sensitive = gr.Textbox("", label="Drop records containing", placeholder="one word or phrase per line")
    with gr.Row():
        min_tokens = gr.Number(defaults.min_tokens, label="Min tokens", precision=0)
        max_tokens = gr.Number(defaults.max_tokens, label="Max tokens", precision=0)
        overlap = gr.Slider(0.0, 0.5, defaults.overlap, step=0.01, label="Overlap (fraction of max)")
        max_length = gr.Number(DataConfig.max_length, label="Training max length", precision=0)
    run = gr.Button("Read and chunk", variant="primary", elem_id="data-run")
    state = gr.State(None)
    summary = gr.Markdown(elem_id="data-summary")
    files = gr.Dataframe(headers=views.FILE_COLUMNS, label="Files",
                         interactive=False, elem_id="data-files")
    cleaned = gr.Markdown(elem_id="data-cleanup")
    issues = gr.Dataframe(headers=views.ISSUE_COLUMNS, label="Issues", wrap=True, column_widths=views.ISSUE_WIDTHS,
                          max_height=240, interactive=False, elem_id="data-issues")
    with gr.Tabs():
        with gr.Tab("Fragments"):
            with gr.Row():
                query = gr.Textbox(label="Search id or text", scale=3)
                page = gr.Number(1, label="Page", precision=0, minimum=1, scale=1)
                page_info = gr.Markdown("page 1 / 1")
            table = gr.Dataframe(headers=views.TABLE_COLUMNS, wrap=True, column_widths=views.TABLE_WIDTHS,
                                 max_height=520, interactive=False, elem_id="data-table")
        with gr.Tab("Length histogram"):
            histogram = gr.Plot(elem_id="data-histogram")
        with gr.Tab("Document tree"):
            doc = gr.Dropdown(label="Document")
            tree = gr.HTML()
        with gr.Tab("As the model sees it"), gr.Column(elem_id="data-rendered-box"):
            with gr.Row():
                picked = gr.Textbox(label="Find a record: its id, or words in it", scale=3,
                                    elem_id="data-rendered-query")
                kind = gr.Dropdown(views.RECORD_KINDS, value="all", label="Show", scale=1, elem_id="data-rendered-kind")
                # No minimum: the handler keeps the number in range, so a 0 typed here is no error.
                position = gr.Number(1, label="Record", precision=0, scale=1, elem_id="data-rendered-position")
            with gr.Row():
                previous = gr.Button("◀ Previous", size="sm", scale=0, min_width=140, elem_id="data-rendered-previous")
                following = gr.Button("Next ▶", size="sm", scale=0, min_width=140, elem_id="data-rendered-next")
                rendered_info = gr.Markdown(elem_id="data-rendered-info")
            rendered = gr.HTML(elem_id="data-rendered")
    view = gr.State(None)
    with gr.Row():
        name = gr.Textbox(label="Dataset name", scale=2)
        save_button = gr.Button("Save as new version", scale=1, elem_id="data-save")
    saved = gr.Markdown(elem_id="data-saved")
    download = gr.DownloadButton("Download JSONL", visible=False, elem_id="data-download")

    run.click(functools.partial(process, ws),
              [uploaded, sample, location, fmt, mapping_text, max_history, fillers, sensitive, tokenizer_ref,
               min_tokens, max_tokens, overlap, max_length],
              [state, summary, files, cleaned, issues, table, page_info, histogram, doc, tree, view, rendered,
               rendered_info, picked, kind, position, name])
    for trigger in (query.submit, page.submit):
        trigger(search, [state, query, page], [table, page_info])
    doc.change(lambda data, d: views.document_tree_html(data.fragments, d) if data and d else "", [state, doc], tree)
    pick_inputs, pick_outputs = [state, view, picked, kind, position], [rendered, rendered_info, position]
    for trigger in (picked.submit, kind.input):
        trigger(first_match, pick_inputs, pick_outputs)
    position.submit(rendered_view, pick_inputs, pick_outputs)
    previous.click(functools.partial(step_record, delta=-1), pick_inputs, pick_outputs)
    following.click(functools.partial(step_record, delta=1), pick_inputs, pick_outputs)
    i18n.refresh_on_switch(
        shown_again, [state, query, page, doc, min_tokens, max_tokens, view, picked, kind, position],
        [summary, files, cleaned, issues, table, page_info, histogram, tree, rendered, rendered_info])
    save_button.click(lambda data, n, t, lo, hi, ov: save(ws, data, n, {"tokenizer": t, "min_tokens": lo,
                                                                        "max_tokens": hi, "overlap": ov}),
                      [state, name, tokenizer_ref, min_tokens, max_tokens, overlap], [saved, download])
