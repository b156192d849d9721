"""Compare tab, side by side: one prompt to 2–4 panes (base or adapters), same settings and seed, streamed.

Panes answer one after another (the engine serialises generation on its one copy of the weights), each with its own
multi-turn history, time to first token and tokens/s; when all have answered, each answer is shown with what differs
from the first pane's marked.
"""

from __future__ import annotations

import functools
import html
import threading
from dataclasses import dataclass

import gradio as gr

from studio.ui.compare_engine import BASE, EngineHolder
from studio.ui.diff_html import mark_differences
from studio.ui.i18n import tr

MAX_PANES = 4


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


def settings_from(system: str, max_new: float, temperature: float, top_p: float, seed: float):
    from studio.chat.engine import GenerationSettings

    return GenerationSettings(max_new_tokens=int(max_new), temperature=float(temperature), top_p=float(top_p),
                              seed=int(seed), system_prompt=system.strip() or None)


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


def send(holder: EngineHolder, stop: StopFlag, prompt: str, system: str, max_new, temperature, top_p, seed,
         n_panes, *rest):
    """Stream the prompt through each pane in turn; yields (chatbots, stats, diffs) for all MAX_PANES panes."""
    n = int(n_panes)
    models, histories = list(rest[:MAX_PANES]), [list(h or []) for h in rest[MAX_PANES:]]
    if not prompt.strip():
        raise gr.Error(tr("Type a prompt first."))
    if any(not m for m in models[:n]):
        raise gr.Error(tr("Choose a model for every pane."))
    try:
        engine = holder.engine([m for m in models[:n] if m != BASE])
    except (FileNotFoundError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    settings = settings_from(system, max_new, temperature, top_p, seed)
    stop.event.clear()
    stats = [gr.skip()] * MAX_PANES
    answers: list[str] = []
    for i in range(n):
        conversation = plain_messages(histories[i]) + [{"role": "user", "content": prompt}]
        histories[i] = conversation + [{"role": "assistant", "content": ""}]
        chunk = None
        for chunk in engine.stream(models[i], conversation, settings, stop=stop.event):
            histories[i][-1]["content"] = chunk.text
            stats[i] = stats_line(models[i], chunk)
            yield (*histories, *stats, *[gr.skip()] * MAX_PANES)
        answers.append(histories[i][-1]["content"])
        stats[i] = stats_line(models[i], chunk) + (" · " + tr("stopped") if stop.event.is_set() else "")
        if stop.event.is_set():
            break
    marked = differences(answers) + [""] * (MAX_PANES - len(answers))
    yield (*histories, *stats, *marked)


def build(holder: EngineHolder) -> None:
    choices = holder.choices()
    with gr.Row():
        n_panes = gr.Slider(2, MAX_PANES, value=2, step=1, label="Panes", scale=1, elem_id="cmp-panes")
        refresh = gr.Button("Refresh adapter list", scale=1, elem_id="cmp-refresh")
    with gr.Accordion("System prompt and sampling (the same for every pane)", open=False):
        system = gr.Textbox(label="System prompt", lines=2)
        with gr.Row():
            max_new = gr.Number(128, label="Max new tokens", precision=0, minimum=1, maximum=4096)
            temperature = gr.Number(0.0, label="Temperature (0 = greedy)", minimum=0, maximum=5)
            top_p = gr.Number(1.0, label="Top-p", minimum=0.01, maximum=1)
            seed = gr.Number(0, label="Seed", precision=0, minimum=0)
    pickers, chats, stats, diffs, columns = [], [], [], [], []
    with gr.Row():
        for i in range(MAX_PANES):
            with gr.Column(visible=i < 2, min_width=260) as column:
                default = choices[min(i, len(choices) - 1)] if choices else None
                pickers.append(gr.Dropdown(choices, value=default, label=f"Pane {i + 1}", elem_id=f"cmp-model-{i}"))
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

    n_panes.change(lambda n: [gr.update(visible=i < int(n)) for i in range(MAX_PANES)], n_panes, columns)
    refresh.click(lambda *current: [gr.update(choices=holder.choices(), value=c) for c in current], pickers, pickers)
    go.click(functools.partial(send, holder),
             [flag, prompt, system, max_new, temperature, top_p, seed, n_panes, *pickers, *chats],
             [*chats, *stats, *diffs])
    stop_button.click(lambda f: f.event.set(), flag, None)
    clear.click(lambda: [[] for _ in chats] + ["" for _ in stats + diffs], None, [*chats, *stats, *diffs])
