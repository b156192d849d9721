"""Plot builders: pure functions from data to plotly figures, shared by every tab, titled in the current language."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from studio.ui.i18n import tr


def token_histogram(counts: Sequence[int], min_tokens: int | None = None, max_tokens: int | None = None,
                    title: str | None = None) -> go.Figure:
    """Histogram of token counts with the window's min and max marked, so outliers are visible at a glance."""
    fig = go.Figure(go.Histogram(x=list(counts), nbinsx=40, marker_color="#6366f1", name=tr("fragments")))
    for value, label in ((min_tokens, tr("min {value}", value=min_tokens)),
                         (max_tokens, tr("max {value}", value=max_tokens))):
        if value is not None:
            fig.add_vline(x=value, line_dash="dash", line_color="#ef4444", annotation_text=label)
    fig.update_layout(title=title or tr("Fragment length (tokens)"), xaxis_title=tr("tokens"),
                      yaxis_title=tr("count"), bargap=0.05, height=360, margin=dict(l=40, r=20, t=50, b=40),
                      template="plotly_white")
    return fig


def s_curve_figure(points: Sequence[Sequence[float]], threshold: float, bands: int, rows: int) -> go.Figure:
    """Probability that a pair becomes an LSH candidate against its Jaccard similarity, threshold marked.

    Pairs left of the threshold that still become candidates are the ones verification has to throw out.
    """
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#6366f1", width=3),
                               name=tr("{bands} bands × {rows} rows", bands=bands, rows=rows)))
    fig.add_vline(x=threshold, line_dash="dash", line_color="#ef4444",
                  annotation_text=tr("threshold {value}", value=threshold))
    midpoint = (1 / bands) ** (1 / rows)
    fig.add_vline(x=midpoint, line_dash="dot", line_color="#6b7280",
                  annotation_text=tr("midpoint {value:.2f}", value=midpoint), annotation_position="bottom right")
    fig.update_layout(title=tr("LSH S-curve: P(candidate) vs Jaccard"), xaxis_title=tr("Jaccard similarity"),
                      yaxis_title=tr("P(candidate pair)"), height=340, margin=dict(l=40, r=20, t=50, b=40),
                      template="plotly_white", xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return fig


def count_bars(counts: dict, title: str, x_title: str) -> go.Figure:
    """Bars of count per key, e.g. duplicate-cluster sizes (`title` and `x_title` in the reader's language)."""
    keys = sorted(counts, key=lambda k: float(k))
    fig = go.Figure(go.Bar(x=[str(k) for k in keys], y=[counts[k] for k in keys], marker_color="#6366f1"))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=tr("count"), height=300,
                      margin=dict(l=40, r=20, t=50, b=40), template="plotly_white")
    return fig


def bucket_boxes(values_by_bucket: dict[str, Sequence[float]], title: str | None = None) -> go.Figure:
    """One box per bucket on a log axis: perplexity spans orders of magnitude between clean and garbled text."""
    fig = go.Figure([go.Box(y=list(values), name=name, boxpoints="outliers") for name, values in
                     values_by_bucket.items()])
    fig.update_layout(title=title or tr("Perplexity per length bucket"), yaxis_type="log",
                      yaxis_title=tr("perplexity"), height=360, showlegend=False,
                      margin=dict(l=40, r=20, t=50, b=40), template="plotly_white")
    return fig


def length_scatter(lengths: Sequence[int], values: Sequence[float], labels: Sequence[str], ids: Sequence[str],
                   title: str | None = None) -> go.Figure:
    """Each record as a point, coloured by its flag (kept / high / low), hover shows its id."""
    fig = go.Figure()
    colours = {"kept": "#9ca3af", "high": "#ef4444", "low": "#f59e0b"}
    names = {"kept": tr("kept"), "high": tr("high"), "low": tr("low")}
    for label, colour in colours.items():
        chosen = [i for i, lab in enumerate(labels) if lab == label]
        if chosen:
            fig.add_trace(go.Scatter(x=[lengths[i] for i in chosen], y=[values[i] for i in chosen], mode="markers",
                                     name=names[label], text=[ids[i] for i in chosen],
                                     marker=dict(color=colour, size=7)))
    fig.update_layout(title=title or tr("Length vs perplexity"), xaxis_title=tr("tokens"),
                      yaxis_title=tr("perplexity"), yaxis_type="log", height=380,
                      margin=dict(l=40, r=20, t=50, b=40), template="plotly_white")
    return fig


def lr_schedule_figure(curve: Sequence[float], warmup: int) -> go.Figure:
    """Learning rate at every optimizer step of the run, warmup end marked."""
    fig = go.Figure(go.Scatter(x=list(range(len(curve))), y=list(curve), mode="lines", line=dict(color="#6366f1")))
    if warmup:
        fig.add_vline(x=warmup, line_dash="dot", line_color="#6b7280",
                      annotation_text=tr("warmup {steps}", steps=warmup))
    fig.update_layout(title=tr("Learning-rate schedule"), xaxis_title=tr("optimizer step"),
                      yaxis_title=tr("learning rate"),
                      height=300, margin=dict(l=50, r=20, t=50, b=40), template="plotly_white")
    return fig


VRAM_TERMS = (("weights_gib", "weights"), ("lora_gib", "LoRA"), ("gradients_gib", "gradients"),
              ("optimizer_gib", "optimizer"), ("activations_gib", "activations"), ("logits_gib", "logits"),
              ("overhead_gib", "CUDA + allocator"))  # labels in English, translated when drawn
# On the CPU the fixed part is the training process's own libraries, not a CUDA context.
CPU_OVERHEAD = "libraries + allocator"


def vram_bar(terms: dict, limit_gib: float, title: str, device: str = "cuda") -> go.Figure:
    """One horizontal stacked bar of the memory terms with the memory there is as a line: the GPU's, or the RAM
    available when the run is on the CPU.

    The terms are drawn as they are; the peak (which counts logits and recompute once, not both) is in the title.
    The unit rides on the tick labels and the legend sits under them: an axis title there collides with the legend.
    """
    labels = [(key, tr(CPU_OVERHEAD if device == "cpu" and key == "overhead_gib" else label))
              for key, label in VRAM_TERMS]
    fig = go.Figure([go.Bar(y=[tr("estimate")], x=[terms[key]], name=label, orientation="h",
                            hovertemplate=f"{label}: %{{x:.2f}} GiB<extra></extra>") for key, label in labels])
    limit = (tr("RAM available {gib:.1f} GiB", gib=limit_gib) if device == "cpu" else f"GPU {limit_gib:g} GiB")
    fig.add_vline(x=limit_gib, line_color="#ef4444", line_width=3, annotation_text=limit)
    fig.update_layout(barmode="stack", title=title, height=230, template="plotly_white",
                      xaxis=dict(ticksuffix=" GiB"), margin=dict(l=60, r=20, t=50, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.3, traceorder="normal"))
    return fig
