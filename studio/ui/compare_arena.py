"""Compare tab, blind A/B: two models answer under hidden, randomised labels; the viewer votes, then sees who was who.

Votes go to WORKSPACE/votes/votes.jsonl (`studio.evaluate.votes`), the running tally per pairing shows the win
rate with its 95% Wilson interval, and the votes export as CSV and as DPO preference pairs.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field

import gradio as gr

from studio.evaluate import votes as vt
from studio.ui import compare_inputs as given
from studio.ui import i18n
from studio.ui.compare_engine import BASE, EngineHolder
from studio.ui.compare_lists import PAIR, ModelLists
from studio.ui.i18n import tr
from studio.workspace import atomic_write_text

TALLY_COLUMNS = ["model", "vs", "votes", "wins", "losses", "ties", "both bad", "win rate", "95% interval"]
VOTE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}  # English, as built


@dataclass
class Round:
    """One blind comparison waiting for its vote (per browser session)."""

    rng: random.Random = field(default_factory=random.Random)
    pending: dict | None = None  # prompt, messages, sides, outputs


def tally_rows(path) -> list[list]:
    votes, _ = vt.read_votes(path)
    rows = []
    for t in vt.tally(votes):
        d = t.to_dict()
        rate = "—" if d["win_rate"] is None else f"{d['win_rate']:.0%}"
        interval = "—" if d["ci_low"] is None else f"{d['ci_low']:.0%}–{d['ci_high']:.0%}"
        rows.append([d["model"], d["opponent"], d["votes"], d["wins"], d["losses"], d["ties"], d["both_bad"], rate,
                     interval])
    return rows


def tally_table(path):
    """The tally as the table shows it, columns in the current language."""
    return i18n.table(TALLY_COLUMNS, tally_rows(path))


def generate(holder: EngineHolder, state: Round, first, second, system, prompt, max_new):
    """Both answers under labels A and B; which model is which stays hidden until the vote."""
    first, second, prompt = given.name(first), given.name(second), given.text(prompt)
    if not first or not second or first == second:
        raise given.refusal(tr("Pick two different models to compare."))
    if not prompt.strip():
        raise given.refusal(tr("Type a prompt first."))
    settings = given.sampling(system, max_new, None, None, None)  # greedy, so a vote compares models, not luck
    sides = vt.randomise_sides(first, second, state.rng)
    try:
        engine = holder.engine([m for m in (sides.a, sides.b) if m != BASE])
    except (FileNotFoundError, ValueError) as exc:
        raise given.refusal(str(exc)) from None
    messages = [{"role": "user", "content": prompt}]
    outputs = [engine.generate(name, messages, settings) for name in (sides.a, sides.b)]
    shown = ([{"role": "system", "content": settings.system_prompt}] if settings.system_prompt else []) + messages
    state.pending = {"prompt": prompt, "sides": sides, "outputs": outputs, "messages": shown}
    return state, outputs[0], outputs[1], tr("Vote: which answer is better?"), gr.update(interactive=True)


def vote(holder: EngineHolder, state: Round, choice: str):
    if state is None or state.pending is None or choice not in VOTE_LABELS:
        raise given.refusal(tr("Generate a pair of answers first; each pair takes one vote."))
    p, sides = state.pending, state.pending["sides"]
    vt.append_vote(vt.votes_path(holder.ws.root), vt.Vote(p["prompt"], sides.a, sides.b, p["outputs"][0],
                                                           p["outputs"][1], choice, swapped=sides.swapped,
                                                           messages=p["messages"] if len(p["messages"]) > 1 else None))
    state.pending = None
    reveal = tr("You voted **{vote}**. A was **{a}**, B was **{b}**.", vote=tr(VOTE_LABELS[choice]), a=sides.a,
                b=sides.b)
    return state, reveal, tally_table(vt.votes_path(holder.ws.root)), gr.update(interactive=False)


def export(holder: EngineHolder, kind: str):
    path = vt.votes_path(holder.ws.root)
    votes, _ = vt.read_votes(path)
    if not votes:
        raise given.refusal(tr("No votes yet."))
    if kind == "csv":
        target, text = path.with_name("votes.csv"), vt.votes_csv(votes)
    else:
        target = path.with_name("preference_pairs.jsonl")
        text = "".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in vt.preference_pairs(votes))
    atomic_write_text(target, text)
    return gr.update(value=str(target), visible=True)


def build(holder: EngineHolder, lists: ModelLists) -> None:
    with gr.Row():
        first, second = (lists.add(gr.Dropdown(lists.offered(PAIR), value=lists.default(PAIR, i),
                                               label=f"Model {i + 1}", elem_id=f"ab-{side}"), PAIR, i)
                         for i, side in enumerate(("first", "second")))
        max_new = gr.Number(given.SAMPLING.max_new_tokens, label="Max new tokens", precision=0, minimum=1,
                            maximum=4096, elem_id="ab-max-new")
        lists.buttons.append(gr.Button("Refresh adapter list", elem_id="ab-refresh"))
    system = gr.Textbox(label="System prompt (optional, the same for both)", elem_id="ab-system")
    prompt = gr.Textbox(label="Prompt", lines=2, elem_id="ab-prompt")
    go = gr.Button("Generate A and B", variant="primary", elem_id="ab-generate")
    with gr.Row():
        answer_a = gr.Textbox(label="Answer A", lines=6, interactive=False, elem_id="ab-answer-a")
        answer_b = gr.Textbox(label="Answer B", lines=6, interactive=False, elem_id="ab-answer-b")
    message = gr.Markdown(elem_id="ab-message")
    with gr.Row():
        buttons = {c: gr.Button(label, interactive=False, elem_id=f"ab-vote-{c}") for c, label in VOTE_LABELS.items()}
    tally = gr.Dataframe(tally_rows(vt.votes_path(holder.ws.root)), headers=TALLY_COLUMNS, interactive=False,
                         label="Tally per pairing (win rate leaves ties and 'both bad' out)", elem_id="ab-tally")
    with gr.Row():
        csv_button = gr.Button("Export votes (CSV)")
        pairs_button = gr.Button("Export preference pairs (JSONL, for DPO)")
        csv_file = gr.DownloadButton("Download CSV", visible=False, elem_id="ab-csv")
        pairs_file = gr.DownloadButton("Download JSONL", visible=False, elem_id="ab-pairs")
    state = gr.State(lambda: Round())  # a factory: one Round per browser session

    event = go.click(functools.partial(generate, holder), [state, first, second, system, prompt, max_new],
                     [state, answer_a, answer_b, message, buttons["A"]])
    for other in list(buttons.values())[1:]:
        event.then(lambda: gr.update(interactive=True), None, other)
    for choice, button in buttons.items():
        button.click(functools.partial(vote, holder), [state, gr.State(choice)],
                     [state, message, tally, button]).then(
            lambda: [gr.update(interactive=False)] * len(buttons), None, list(buttons.values()))
    i18n.refresh_on_switch(lambda: tally_table(vt.votes_path(holder.ws.root)), None, [tally])
    csv_button.click(lambda: export(holder, "csv"), None, csv_file)
    pairs_button.click(lambda: export(holder, "pairs"), None, pairs_file)
