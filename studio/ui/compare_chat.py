"""Compare tab, side by side: one prompt to 2–4 panes (base or adapters), same settings and seed, streamed.

Panes answer one after another (the engine serialises generation on its one copy of the weights), each with its own
multi-turn history, time to first token and tokens/s; when all have answered, each answer is shown with what differs
from the first pane's marked.
"""

from __future__ import annotations

import functools
import html
import threading
import time
from dataclasses import dataclass

import gradio as gr

from studio.ui import compare_inputs as given
from studio.ui.compare_engine import BASE, EngineHolder
from studio.ui.compare_lists import PANE, ModelLists
from studio.ui.diff_html import mark_differences
from studio.ui.i18n import tr

MAX_PANES = 4
# The shortest time between two redraws of the panes while they stream. Every redraw re-renders every chat in the
# browser; sent per token, the browser fell far behind the model on 2 CPU cores (two 128-token answers took ~1 s
# to generate and ~60 s to show).
FRAME_S = 0.1


@dataclass
class StopFlag:
    """Per browser session: the Stop button sets it, the streaming loop reads it."""

    event: threading.Event


def new_stop_flag() -> StopFlag:
    return StopFlag(threading.Event())


def plain_messages(history: list | None) -> list[dict]:
    """Chatbot messages as the engine takes them: role and text only."""
    out = []
    for message in history or []:
        content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", "")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append({"role": role, "content": str(content or "")})
    return out


def stats_line(name: str, chunk) -> str:
    if chunk is None:
        return f"**{html.escape(name)}**"
    ttft = "—" if chunk.ttft_s is None else f"{chunk.ttft_s:.2f} s"
    rate = "—" if chunk.tokens_per_s is None else f"{chunk.tokens_per_s:.1f} tok/s"
    counts = tr("{n} tokens · first token {ttft} · {rate}", n=chunk.n_tokens, ttft=ttft, rate=rate)
    return f"**{html.escape(name)}** · {counts}"


def differences(answers: list[str]) -> list[str]:
    """Each answer with its differences from the first marked (the first is shown as it is)."""
    if not answers:
        return []
    first = answers[0]
    empty, same = html.escape(tr("(empty)")), html.escape(tr("identical to pane 1"))
    return [f"<div class='answer'>{html.escape(first) or f'<em>{empty}</em>'}</div>"] + [
        f"<div class='answer'>{same if a == first else mark_differences(first, a)}</div>" for a in answers[1:]]


def send(holder: EngineHolder, stop: StopFlag, prompt, system, max_new, temperature, top_p, seed, n_panes, *rest):
    """Stream the prompt through each pane in turn; yields (chatbots, stats, diffs) for all MAX_PANES panes."""
    n = min(MAX_PANES, max(2, given.whole(n_panes, 2)))
    prompt = given.text(prompt)
    models = [given.name(m) for m in rest[:MAX_PANES]]
    histories = [list(h or []) for h in rest[MAX_PANES:]]
    if not prompt.strip():
        raise given.refusal(tr("Type a prompt first."))
    if any(not m for m in models[:n]):
        raise given.refusal(tr("Choose a model for every pane."))
    settings = given.sampling(system, max_new, temperature, top_p, seed)
    try:
        engine = holder.engine([m for m in models[:n] if m != BASE])
    except (FileNotFoundError, ValueError) as exc:
        raise given.refusal(str(exc)) from None
    stop.event.clear()
    stats = [gr.skip()] * MAX_PANES
    answers: list[str] = []
    shown_at = 0.0
    for i in range(n):
        conversation = plain_messages(histories[i]) + [{"role": "user", "content": prompt}]
        histories[i] = conversation + [{"role": "assistant", "content": ""}]
        chunk = None
        for chunk in engine.stream(models[i], conversation, settings, stop=stop.event):
            histories[i][-1]["content"] = chunk.text
            stats[i] = stats_line(models[i], chunk)
            if time.monotonic() - shown_at >= FRAME_S:
                shown_at = time.monotonic()
                yield (*histories, *stats, *[gr.skip()] * MAX_PANES)
        answers.append(histories[i][-1]["content"])
        stats[i] = stats_line(models[i], chunk) + (" · " + tr("stopped") if stop.event.is_set() else "")
        if stop.event.is_set():
            break
    marked = differences(answers) + [""] * (MAX_PANES - len(answers))
    yield (*histories, *stats, *marked)


def build(holder: EngineHolder, lists: ModelLists) -> None:
    with gr.Row():
        n_panes = gr.Slider(2, MAX_PANES, value=2, step=1, label="Panes", scale=1, elem_id="cmp-panes")
        lists.buttons.append(gr.Button("Refresh adapter list", scale=1, elem_id="cmp-refresh"))
    # Closed at first, so these may reach `send` as None: it reads them through compare_inputs.
    with gr.Accordion("System prompt and sampling (the same for every pane)", open=False):
        system = gr.Textbox(label="System prompt", lines=2, elem_id="cmp-system")
        with gr.Row():
            max_new = gr.Number(given.SAMPLING.max_new_tokens, label="Max new tokens", precision=0, minimum=1,
                                maximum=4096)
            temperature = gr.Number(given.SAMPLING.temperature, label="Temperature (0 = greedy)", minimum=0,
                                    maximum=5)
            top_p = gr.Number(given.SAMPLING.top_p, label="Top-p", minimum=0.01, maximum=1)
            seed = gr.Number(given.SAMPLING.seed, label="Seed", precision=0, minimum=0)
    pickers, chats, stats, diffs, columns = [], [], [], [], []
    with gr.Row():
        for i in range(MAX_PANES):
            with gr.Column(visible=i < 2, min_width=260) as column:
                pickers.append(lists.add(gr.Dropdown(lists.offered(PANE), value=lists.default(PANE, i),
                                                     label=f"Pane {i + 1}", elem_id=f"cmp-model-{i}"), PANE, i))
                chats.append(gr.Chatbot(height=320, label=f"Pane {i + 1}", elem_id=f"cmp-chat-{i}"))
                stats.append(gr.Markdown(elem_id=f"cmp-stats-{i}"))
                diffs.append(gr.HTML(elem_id=f"cmp-diff-{i}"))
            columns.append(column)
    prompt = gr.Textbox(label="Prompt (sent to every pane)", lines=2, elem_id="cmp-prompt")
    with gr.Row():
        go = gr.Button("Send to all panes", variant="primary", elem_id="cmp-send")
        stop_button = gr.Button("Stop", elem_id="cmp-stop")
        clear = gr.Button("Clear conversations", elem_id="cmp-clear")
    flag = gr.State(new_stop_flag)

    n_panes.change(lambda n: [gr.update(visible=i < given.whole(n, 2)) for i in range(MAX_PANES)], n_panes, columns)
    go.click(functools.partial(send, holder),
             [flag, prompt, system, max_new, temperature, top_p, seed, n_panes, *pickers, *chats],
             [*chats, *stats, *diffs])
    stop_button.click(lambda f: f.event.set(), flag, None)
    clear.click(lambda: [[] for _ in chats] + ["" for _ in stats + diffs], None, [*chats, *stats, *diffs])
