"""Train tab: runs in a worker process with live plots, stop, resume and checkpoints (issue #6)."""

import gradio as gr

TITLE = "Train"


def build(ctx) -> None:
    gr.Markdown(f"**Coming next.** LoRA / QLoRA / full runs in a separate worker process with live loss, eval "
                f"loss, learning-rate and grad-norm plots, stop and resume. Runs will live in "
                f"`{ctx.workspace.runs}`.")
