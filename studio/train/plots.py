"""Plot builders of a run's curves: pure functions from `studio.train.curves.Curves` to plotly figures, shared by
the Train tab and the stakeholder report (`studio.report`), so neither imports the other's toolkit (no Gradio here).

The loss figure draws the selected run in full (raw train loss faint, its smoothed line, eval loss as points
joined by a line) and each overlaid run as its smoothed train loss and eval loss in its own colour, dashed.

Titles, axis and trace names are English templates passed through `text(template, **fields)`: English by default
(the report), the UI's `tr` in the Train tab so they follow its language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import plotly.io as pio

from studio.train.curves import Curves, Series

PALETTE = ("#6366f1", "#f59e0b", "#10b981", "#ef4444", "#0ea5e9", "#a855f7", "#84cc16", "#ec4899")
# The studio's plots all use plotly_white. Naming the template in each figure makes plotly copy and validate it
# every time (~20 ms of a ~30 ms figure), which the Train tab would pay four times per poll while a run trains on
# the same cores; as the process default it is applied once.
pio.templates.default = "plotly_white"
LAYOUT = dict(margin=dict(l=55, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.2))
Text = Callable[..., str]


def english(template: str, **fields) -> str:
    return template.format(**fields) if fields else template


def _line(series: Series, name: str, **style) -> go.Scatter:
    return go.Scatter(x=list(series.steps), y=list(series.values), name=name, **style)


def loss_figure(runs: Sequence[tuple[str, Curves]], log_y: bool = False, smoothing: float | None = None,
                text: Text = english) -> go.Figure:
    """Train loss (raw and smoothed) and eval loss by step; the first run is the selected one, the rest overlays."""
    fig = go.Figure()
    for i, (label, c) in enumerate(runs):
        colour = PALETTE[i % len(PALETTE)]
        prefix = "" if len(runs) == 1 else f"{label}: "
        if i == 0:
            fig.add_trace(_line(c.loss, prefix + text("train loss (raw)"), mode="lines", opacity=0.35,
                                line=dict(color=colour, width=1)))
        smooth_name = (text("train loss (EMA {smoothing:g})", smoothing=smoothing) if smoothing is not None
                       else text("train loss (smoothed)"))
        fig.add_trace(_line(c.loss_smooth, prefix + smooth_name, mode="lines",
                            line=dict(color=colour, width=2.5 if i == 0 else 1.5, dash=None if i == 0 else "dash")))
        if len(c.eval_loss):
            fig.add_trace(_line(c.eval_loss, prefix + text("eval loss"), mode="lines+markers",
                                line=dict(color=colour, width=1, dash="dot"),
                                marker=dict(color=colour, size=8 if i == 0 else 6, symbol="diamond")))
    if runs:
        for step in runs[0][1].resumes:
            fig.add_vline(x=step, line_dash="dot", line_color="#6b7280",
                          annotation_text=text("resumed at {step}", step=step))
        for step in runs[0][1].nonfinite_loss_steps:
            fig.add_vline(x=step, line_color="#ef4444", annotation_text=text("non-finite loss at {step}", step=step))
    fig.update_layout(title=text("Loss"), xaxis_title=text("optimizer step"), yaxis_title=text("loss"),
                      yaxis_type="log" if log_y else "linear", height=420, **LAYOUT)
    return fig


def metric_figure(runs: Sequence[tuple[str, Series]], title: str, y_title: str, log_y: bool = False,
                  text: Text = english) -> go.Figure:
    """One metric by step for the selected run and any overlays (learning rate, grad norm, tokens/s)."""
    fig = go.Figure()
    for i, (label, series) in enumerate(runs):
        fig.add_trace(_line(series, label, mode="lines+markers" if len(series) < 30 else "lines",
                            line=dict(color=PALETTE[i % len(PALETTE)], width=2 if i == 0 else 1.2,
                                      dash=None if i == 0 else "dash"), marker=dict(size=4)))
    fig.update_layout(title=title, xaxis_title=text("optimizer step"), yaxis_title=y_title, height=300,
                      yaxis_type="log" if log_y else "linear", showlegend=len(runs) > 1, **LAYOUT)
    return fig


def train_figures(runs: Sequence[tuple[str, Curves]], log_y: bool, smoothing: float | None = None,
                  text: Text = english) -> tuple[go.Figure, go.Figure, go.Figure, go.Figure]:
    """Loss, learning rate, grad norm and throughput figures for the selected run first, then overlays."""
    return (loss_figure(runs, log_y, smoothing, text),
            metric_figure([(label, c.learning_rate) for label, c in runs], text("Learning rate"),
                          text("learning rate"), text=text),
            metric_figure([(label, c.grad_norm) for label, c in runs], text("Gradient norm (before clipping)"),
                          text("grad norm"), text=text),
            metric_figure([(label, c.tokens_per_second) for label, c in runs], text("Throughput"),
                          text("tokens / s (non-padding)"), text=text))
