"""Compare tab: base vs adapters side by side, blind A/B votes, batch evaluation, checkpoint timeline, export.

One chat engine per app process holds the base weights once (`compare_engine.EngineHolder`); adapters from the
workspace's runs are attached by name the first time a pane, a vote or an evaluation asks for them.
"""

from __future__ import annotations

import gradio as gr

from studio.ui import compare_arena, compare_batch, compare_chat
from studio.ui.compare_engine import EngineHolder

TITLE = "Compare"


def build(ctx) -> EngineHolder:
    holder = EngineHolder(ctx.workspace, ctx.model)
    gr.Markdown(f"Base model `{ctx.model}` (\"base\" = adapters off) and the adapters of your runs, on one copy of "
                f"the base weights.")
    with gr.Tabs():
        with gr.Tab("Side by side"):
            compare_chat.build(holder)
        with gr.Tab("Blind A/B"):
            compare_arena.build(holder)
        compare_batch.build(holder)
    return holder
