"""The run plot builders (Train tab and report): traces, overlays, log axis and resume markers."""

from __future__ import annotations

from studio.train.curves import curves
from studio.train.plots import loss_figure, metric_figure, train_figures


def events(losses: list[float], resume_at: int | None = None, eval_every: int = 2) -> list[dict]:
    out = [{"kind": "train", "step": i + 1, "loss": v, "learning_rate": 1e-3, "grad_norm": 0.5,
            "tokens_per_second": 100.0 + i} for i, v in enumerate(losses)]
    out += [{"kind": "eval", "step": s, "eval_loss": 1.0} for s in range(eval_every, len(losses) + 1, eval_every)]
    if resume_at is not None:
        out.append({"kind": "status", "state": "resuming", "resumed_from_step": resume_at})
    return out


def test_loss_figure_draws_raw_smoothed_and_eval_with_resume_marker():
    c = curves(events([3.0, 2.0, 1.5, 1.2], resume_at=4))
    fig = loss_figure([("run-a", c)], log_y=True, smoothing=0.6)
    names = [t.name for t in fig.data]
    assert names == ["train loss (raw)", "train loss (EMA 0.6)", "eval loss"]
    assert list(fig.data[0].y) == [3.0, 2.0, 1.5, 1.2]
    assert list(fig.data[2].x) == [2, 4]
    assert fig.layout.yaxis.type == "log"
    assert any("resumed at 4" in (a.text or "") for a in fig.layout.annotations)


def test_overlaid_runs_are_dashed_and_named():
    a, b = curves(events([3.0, 2.0])), curves(events([2.5, 2.2]))
    fig = loss_figure([("run-a", a), ("run-b", b)])
    names = [t.name for t in fig.data]
    assert "run-a: train loss (raw)" in names and "run-b: train loss (smoothed)" in names
    assert not any(n.startswith("run-b") and "raw" in n for n in names)  # overlays show the smoothed line only
    overlay = next(t for t in fig.data if t.name == "run-b: train loss (smoothed)")
    assert overlay.line.dash == "dash" and fig.layout.yaxis.type == "linear"


def test_metric_and_empty_figures_build():
    c = curves(events([1.0, 0.9, 0.8]))
    fig = metric_figure([("run-a", c.tokens_per_second)], "Throughput", "tokens / s")
    assert list(fig.data[0].y) == [100.0, 101.0, 102.0] and fig.layout.showlegend is False
    loss, lr, grad, tps = train_figures([("run-a", curves([]))], log_y=False)
    assert len(loss.data) == 2 and len(lr.data) == 1 and len(lr.data[0].x) == 0  # no events yet: empty lines
