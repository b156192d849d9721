"""What the Compare tab's controls can send, turned into the values its handlers work with.

A control in a closed accordion, a hidden pane or a sub-tab not shown yet may never have been drawn in the page,
and then reaches a handler as None; so does a number box someone emptied. Every Compare handler passes each input
through one of these first, so a None becomes the value the control shows before anyone edits it, and a request
that cannot be served becomes a message to the viewer — never an AttributeError, and never a traceback in the
server log for what was only a wrong click.
"""

from __future__ import annotations

import math

import gradio as gr

from studio.chat.engine import GenerationSettings
from studio.ui.i18n import tr

SAMPLING = GenerationSettings()  # what the sampling controls show until someone edits them


def text(value) -> str:
    return "" if value is None else str(value)


def number(value, default: float) -> float:
    """A number box's value; empty, None or not a finite number means the default it shows."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return float(default)
    return result if math.isfinite(result) else float(default)


def whole(value, default: int) -> int:
    return round(number(value, default))


def name(value) -> str:
    """A dropdown's pick; "" when nothing is picked."""
    if isinstance(value, (list, tuple)):  # a multiselect sent where one name is wanted: its first
        value = value[0] if value else None
    return "" if value is None else str(value)


def names(value) -> list[str]:
    """A checkbox group's ticks, in order, without blanks."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [str(v) for v in values if v not in (None, "")]


def refusal(message: str) -> gr.Error:
    """The toast for a request the tab cannot serve as asked (nothing picked, nothing typed): the viewer reads
    why; the server log keeps tracebacks for faults."""
    return gr.Error(message, print_exception=False)


def sampling(system, max_new, temperature, top_p, seed, *, max_new_default: int = SAMPLING.max_new_tokens
             ) -> GenerationSettings:
    """Generation settings from the sampling controls, whichever of them the page sent."""
    prompt = text(system).strip()
    try:
        return GenerationSettings(max_new_tokens=whole(max_new, max_new_default),
                                  temperature=number(temperature, SAMPLING.temperature),
                                  top_p=number(top_p, SAMPLING.top_p), seed=whole(seed, SAMPLING.seed),
                                  system_prompt=prompt or None)
    except ValueError as exc:  # the controls' limits keep these out; a hand-made request may not
        raise refusal(tr("Sampling settings not usable: {error}", error=exc)) from None
