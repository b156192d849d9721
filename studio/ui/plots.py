"""Plot builders: pure functions from data to plotly figures, shared by every tab."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go


def token_histogram(counts: Sequence[int], min_tokens: int | None = None, max_tokens: int | None = None,
                    title: str = "Fragment length (tokens)") -> go.Figure:
    """Histogram of token counts with the window's min and max marked, so outliers are visible at a glance."""
    fig = go.Figure(go.Histogram(x=list(counts), nbinsx=40, marker_color="#6366f1", name="fragments"))
    for value, label in ((min_tokens, "min"), (max_tokens, "max")):
        if value is not None:
            fig.add_vline(x=value, line_dash="dash", line_color="#ef4444", annotation_text=f"{label} {value}")
    fig.update_layout(title=title, xaxis_title="tokens", yaxis_title="count", bargap=0.05, height=360,
                      margin=dict(l=40, r=20, t=50, b=40), template="plotly_white")
    return fig
