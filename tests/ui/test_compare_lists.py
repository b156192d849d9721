"""The Compare tab's lists follow the workspace, and the Train tab's "Open in Compare" lands there with the run
picked: the pure rules, then the tab's handlers on a real workspace whose runs appear while the page is open."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from studio.train.events import write_status
from studio.ui import compare, i18n
from studio.ui import compare_lists as cl
from studio.workspace import Workspace
from tests.chat.conftest import make_adapter

OLD, NEW = "20260101-000000-old", "20260102-000000-new"


def test_picks_left_at_their_default_move_to_the_new_default_and_chosen_ones_stay():
    before, after = ["base"], ["base", NEW, f"{NEW}@checkpoint-20"]
    # A page opened before the first run: base beside base, nothing ticked but base, nothing to export.
    assert [cl.follow(cl.PANE, i, "base", before, after) for i in range(4)] == ["base", NEW, f"{NEW}@checkpoint-20",
                                                                             f"{NEW}@checkpoint-20"]
    assert cl.follow(cl.PAIR, 1, None, before, after) == NEW
    assert cl.follow(cl.TICKS, 0, ["base"], before, after) == ["base", NEW]
    assert cl.follow(cl.RUN, 0, None, before, after) == NEW
    assert cl.follow(cl.ADAPTER, 0, None, before, after) == NEW
    # What the viewer picked stays while it is offered; a deleted pick falls back to the default.
    two = ["base", NEW, OLD]
    assert cl.follow(cl.PANE, 1, OLD, ["base", OLD], two) == NEW  # OLD was the default there: it follows
    assert cl.follow(cl.PANE, 0, OLD, ["base", OLD], two) == OLD  # chosen
    assert cl.follow(cl.TICKS, 0, [OLD], ["base", OLD], two) == [OLD]
    assert cl.follow(cl.ADAPTER, 0, OLD, ["base", NEW, OLD], ["base", NEW]) == NEW
    assert cl.run_ids(after) == [NEW] and cl.offered(cl.ADAPTER, after) == after[1:]


def add_run(ws: Workspace, model_dir, run_id: str, final: bool = True) -> None:
    run = ws.runs / run_id
    make_adapter(model_dir, run / ("adapter" if final else "checkpoints/checkpoint-20"), ["q_proj"], seed=1)
    write_status(run, model=str(model_dir), state="finished" if final else "running")


@pytest.fixture
def tab(tiny_model_dir, tmp_path):
    """The Compare tab built on an empty workspace, as for a page opened before the first run."""
    ws = Workspace.open(tmp_path / "ws")
    with gr.Blocks():
        built = compare.build(SimpleNamespace(workspace=ws, model=str(tiny_model_dir)))
    i18n.take_refreshers()
    return built


def values(updates) -> list:
    return [u["value"] for u in updates]


def test_lists_follow_runs_saved_after_the_page_opened(tab, tiny_model_dir):
    shown = [c.value for c in tab.lists.components]
    seen = list(tab.lists.built)
    assert seen == ["base"] and shown[-1] is None  # Export offers nothing yet
    assert all(u is gr.skip() or u == gr.skip() for u in compare.follow_workspace(tab, seen, *shown))
    add_run(tab.holder.ws, tiny_model_dir, NEW)
    seen, *updates = compare.follow_workspace(tab, seen, *shown)
    assert seen == ["base", NEW]
    kinds = [kind for kind, _ in tab.lists.kinds]
    panes = [u for (kind, _), u in zip(tab.lists.kinds, updates) if kind == cl.PANE]
    assert values(panes) == ["base", NEW, NEW, NEW] and panes[1]["choices"] == ["base", NEW]
    export = updates[kinds.index(cl.ADAPTER)]
    assert export["value"] == NEW and export["choices"] == [NEW]
    assert updates[kinds.index(cl.TICKS)]["value"] == ["base", NEW]


def test_open_in_compare_switches_tab_with_the_run_beside_base(tab, tiny_model_dir):
    shown, seen = [c.value for c in tab.lists.components], list(tab.lists.built)
    message, *skipped = compare.open_run(tab, NEW, seen, *shown)
    assert "no adapter yet" in message and all(s == gr.skip() for s in skipped)  # stays on Train
    assert "Select a run first" in compare.open_run(tab, None, seen, *shown)[0]
    add_run(tab.holder.ws, tiny_model_dir, OLD)
    add_run(tab.holder.ws, tiny_model_dir, NEW, final=False)  # still training: its newest checkpoint opens
    message, studio_tabs, inner, seen, *updates = compare.open_run(tab, OLD, seen, *shown)
    assert studio_tabs.selected == compare.TAB_ID == "compare" and inner.selected == compare.SIDE_BY_SIDE
    assert f"Opened **{OLD}**" in message and f"{OLD}/adapter" in message
    words = message.replace(str(tab.holder.ws.runs), "").lower()  # pytest's folder names hold "test"
    assert not any(word in words for word in ("issue", "#7", "test"))
    picked = dict(zip([f"{kind}{index}" for kind, index in tab.lists.kinds], values(updates)))
    # The hidden third and fourth panes follow the list (newest run first: base, NEW's checkpoint, OLD).
    assert picked == {"pane0": "base", "pane1": OLD, "pane2": OLD, "pane3": OLD, "pair0": "base", "pair1": OLD,
                      "ticks0": ["base", OLD], "run0": OLD, "adapter0": OLD}
    message, *_, updates = compare.open_run(tab, NEW, seen, *shown)
    assert f"Opened **{NEW}@checkpoint-20**" in message and updates["value"] == f"{NEW}@checkpoint-20"
