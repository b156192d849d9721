"""Compare tab: base vs adapters side by side, blind A/B votes, batch evaluation, checkpoint timeline, export.

One chat engine per app process holds the base weights once (`compare_engine.EngineHolder`); adapters from the
workspace's runs are attached by name the first time a pane, a vote or an evaluation asks for them.

The tab's lists of models follow the workspace (`compare_lists`): when the tab is shown, every few seconds while it
is, and on "Refresh"; the Train tab's "Open in Compare" lands here with that run picked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import gradio as gr

from studio.chat.sources import AdapterSource, list_adapters
from studio.ui import compare_arena, compare_batch, compare_chat, i18n
from studio.ui import compare_inputs as given
from studio.ui import compare_lists as cl
from studio.ui.compare_engine import EngineHolder
from studio.ui.i18n import tr

TITLE = "Compare"
TAB_ID = TITLE.lower()  # the id app.py gives the tab
SIDE_BY_SIDE = "side-by-side"
FOLLOW_S = 5.0  # how often a shown Compare tab looks for adapters saved since (a directory listing per run)


def intro(model: str) -> str:
    return tr("Base model `{model}` (\"base\" = adapters off) and the adapters of your runs, on one copy of the base "
              "weights.", model=model)


@dataclass
class CompareTab:
    holder: EngineHolder
    lists: cl.ModelLists
    seen: gr.State  # per session: the models its lists offer now
    timer: gr.Timer  # runs only while the tab is shown (app.py)
    tabs: gr.Tabs  # Side by side, Blind A/B, Batch evaluation, Checkpoint timeline, Export


def build(ctx) -> CompareTab:
    holder = EngineHolder(ctx.workspace, ctx.model)
    lists = cl.ModelLists(holder.choices())
    heading = gr.Markdown(intro(ctx.model))
    i18n.refresh_on_switch(lambda: intro(ctx.model), None, [heading])
    with gr.Tabs() as tabs:
        with gr.Tab("Side by side", id=SIDE_BY_SIDE):
            compare_chat.build(holder, lists)
        with gr.Tab("Blind A/B"):
            compare_arena.build(holder, lists)
        compare_batch.build(holder, lists)
    tab = CompareTab(holder, lists, gr.State(list(lists.built)), gr.Timer(FOLLOW_S, active=False), tabs)
    inputs, outputs = [tab.seen, *lists.components], [tab.seen, *lists.components]
    tab.timer.tick(functools.partial(follow_workspace, tab), inputs, outputs, show_progress="hidden")
    for button in lists.buttons:
        button.click(functools.partial(follow_workspace, tab, force=True), inputs, outputs, show_progress="hidden")
    return tab


def list_updates(tab: CompareTab, old: list[str], new: list[str], current, pinned=None) -> list:
    """One update per list: `new` offered, each showing what `follow` (or `pinned`, by list index) says."""
    updates = []
    for k, ((kind, index), value) in enumerate(zip(tab.lists.kinds, current)):
        shown = (pinned or {}).get(k)
        shown = cl.follow(kind, index, value, old, new) if shown is None else shown
        updates.append(gr.update(choices=cl.offered(kind, new), value=shown))
    return updates


def follow_workspace(tab: CompareTab, seen, *current, force: bool = False) -> tuple:
    """The lists after runs saved (or deleted) adapters; nothing is sent when the workspace offers what this page
    already shows, unless asked to."""
    old, new = list(seen or tab.lists.built), tab.holder.choices()
    if new == old and not force:
        return (gr.skip(),) * (1 + len(current))
    return (new, *list_updates(tab, old, new, current))


def run_adapter(tab: CompareTab, run_id: str) -> tuple[AdapterSource | None, str]:
    """The adapter that stands for a run (its final one, else its newest checkpoint), or the Train tab's message
    saying why there is none to open."""
    sources = [s for s in list_adapters(tab.holder.ws) if s.run_id == run_id]
    choices = tab.holder.choices()
    offered = [s for s in sources if s.name in choices]
    if offered:
        return offered[0], ""
    if sources:
        return None, tr("⚠ {run} was trained on another base model than the one the Compare tab runs ({model}).",
                        run=run_id, model=tab.holder.model)
    return None, tr("⚠ {run} has no adapter yet: it is saved when a run finishes or is stopped.", run=run_id)


def open_run(tab: CompareTab, run_id, seen, *current) -> tuple:
    """Switch to Compare with the run's adapter beside base (side by side, blind A/B, batch evaluation, the
    timeline and Export); a run with nothing to open stays on Train with the reason."""
    run_id = given.name(run_id)
    skip_all = (gr.skip(),) * (3 + len(current))
    if not run_id:
        return (tr("⚠ Select a run first."), *skip_all)
    source, problem = run_adapter(tab, run_id)
    if source is None:
        return (problem, *skip_all)
    pinned = {k: cl.focus(kind, index, source.name) for k, (kind, index) in enumerate(tab.lists.kinds)}
    old, new = list(seen or tab.lists.built), tab.holder.choices()
    message = tr("Opened **{adapter}** (`{path}`) in the Compare tab, beside base.", adapter=source.name,
                 path=source.path)
    return (message, gr.Tabs(selected=TAB_ID), gr.Tabs(selected=SIDE_BY_SIDE), new,
            *list_updates(tab, old, new, current, pinned))


def wire(tab: CompareTab, shown: gr.Tab, studio_tabs: gr.Tabs, open_button: gr.Button, run: gr.Dropdown,
         message: gr.Markdown) -> None:
    """What the app wires once every tab exists: the lists follow the workspace each time the tab is `shown`, and
    the Train tab's `open_button` opens its selected `run` here (its `message` line says what happened)."""
    inputs = [tab.seen, *tab.lists.components]
    shown.select(functools.partial(follow_workspace, tab), inputs, inputs, show_progress="hidden")
    open_button.click(functools.partial(open_run, tab), [run, *inputs],
                      [message, studio_tabs, tab.tabs, *inputs], show_progress="hidden")
