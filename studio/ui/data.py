"""Data tab: ingestion, format detection, hierarchical chunking, preview and export (issue #3)."""

import gradio as gr

TITLE = "Data"


def build(ctx) -> None:
    gr.Markdown("**Coming next.** Upload JSONL/JSON/CSV/Parquet/TXT/MD, detect the format, chunk long documents "
                "into 200–400-token fragments with overlap, preview and export. Bundled samples to try it on: "
                "`bundled:patents`, `bundled:intent_chat`.")
