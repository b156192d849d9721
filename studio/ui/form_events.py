"""Which events of the recipe form count as a person's edit, and how a recompute is wired to them."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr


def edited(component: gr.components.Component) -> list:
    """The events by which a person changes a control. Not `change`: loading a recipe sets every control at once
    and is checked once, not once per field. A Textbox's `input` misses pasted text (Gradio 6), so a text field
    counts as edited when it is left."""
    return [component.blur] if isinstance(component, gr.Textbox) else [component.input]


def on_each(events: list, fn: Callable, inputs: list, outputs: list) -> None:
    """`fn` on each event, one dependency per event: measured in Chromium, one `gr.on` over all the form's events ran
    3-7 times per edit, one per event ran once. The latest edit always runs (not dropped while one is pending)."""
    for event in events:
        event(fn, inputs, outputs, trigger_mode="always_last", show_progress="hidden")
