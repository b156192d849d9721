"""Compare tab: base vs adapters side by side, blind A/B votes, batch evaluation, checkpoint timeline, export.

One chat engine per app process holds the base weights once (`compare_engine.EngineHolder`); adapters from the
workspace's runs are attached by name the first time a pane, a vote or an evaluation asks for them.
"""

from __future__ import annotations

import gradio as gr

from studio.ui import compare_arena, compare_batch, compare_chat, i18n
from studio.ui.compare_engine import EngineHolder
from studio.ui.i18n import tr

TITLE = "Compare"


def intro(model: str) -> str:
    return tr("Base model `{model}` (\"base\" = adapters off) and the adapters of your runs, on one copy of the base "
              "weights.", model=model)


def build(ctx) -> EngineHolder:
    holder = EngineHolder(ctx.workspace, ctx.model)
    heading = gr.Markdown(intro(ctx.model))
    i18n.refresh_on_switch(lambda: intro(ctx.model), None, [heading])
    with gr.Tabs():
        with gr.Tab("Side by side"):
            compare_chat.build(holder)
        with gr.Tab("Blind A/B"):
            compare_arena.build(holder)
        compare_batch.build(holder)
    return holder
