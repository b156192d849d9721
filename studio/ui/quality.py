"""Quality tab: exact and near-duplicate reports, perplexity by length bucket, filters as new versions (issue #4)."""

import gradio as gr

TITLE = "Quality"


def build(ctx) -> None:
    gr.Markdown("**Coming next.** Exact and MinHash-LSH near-duplicate report, perplexity per length bucket with "
                "a reference model, and filters applied into a new dataset version (nothing deleted silently).")
