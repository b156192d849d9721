"""Alert rules on hand-made loss and gradient-norm sequences."""

from __future__ import annotations

import math

from studio.train.watch import Watch


def feed(watch: Watch, losses, start: int = 1):
    out = []
    for i, loss in enumerate(losses, start):
        out += watch.step_loss(i, loss, [f"rec-{i}"])
    return out


def test_nan_and_inf_loss_stop_at_once_naming_the_batch():
    for bad in (math.nan, math.inf):
        alerts = feed(Watch(), [2.0, 1.9, bad])
        assert [a["alert"] for a in alerts] == ["nan_loss"]
        assert alerts[0]["stop"] and alerts[0]["step"] == 3 and alerts[0]["sample_ids"] == ["rec-3"]


def test_a_spike_above_three_times_the_running_median_is_flagged_with_its_samples_but_does_not_stop():
    watch = Watch()
    alerts = feed(watch, [1.0] * 10 + [3.5, 1.0])
    assert [a["alert"] for a in alerts] == ["loss_spike"]
    assert alerts[0]["step"] == 11 and not alerts[0]["stop"] and "rec-11" in alerts[0]["message"]
    assert feed(Watch(), [1.0] * 10 + [2.9]) == []  # below 3x: no alert
    assert feed(Watch(), [1.0] * 5 + [9.0]) == []  # too early to judge a spike (but not yet divergence)


def test_divergence_needs_five_steps_in_a_row_far_above_the_best():
    watch = Watch()
    alerts = feed(watch, [2.0, 1.0, 3.5, 3.5, 3.5, 3.5, 1.0])
    assert alerts == []  # four steps above, then back: a bad patch, not a divergence
    watch = Watch()
    alerts = feed(watch, [2.0, 1.0, 3.5, 3.5, 3.5, 3.5, 3.5])
    assert [a["alert"] for a in alerts] == ["diverged"]
    assert alerts[0]["step"] == 7 and alerts[0]["since_step"] == 3 and alerts[0]["stop"]
    assert watch.diverging


def test_vanished_gradients_stop_after_five_zero_norms():
    watch = Watch()
    watch.step_loss(1, 8.2, [])
    alerts = [a for step in range(1, 7) for a in watch.grad_norm(step, 0.0 if step > 1 else 1.0)]
    assert [a["alert"] for a in alerts] == ["vanished"] and alerts[0]["since_step"] == 2


def test_grad_norm_explosion_and_nan_gradient():
    watch = Watch()
    alerts = [a for step in range(1, 12) for a in watch.grad_norm(step, 1.0)]
    alerts += watch.grad_norm(12, 50.0)
    assert [a["alert"] for a in alerts] == ["grad_explosion"] and not alerts[0]["stop"]
    assert [a["alert"] for a in Watch().grad_norm(1, math.inf)] == ["nan_grad"]
    assert Watch().grad_norm(1, None) == []
