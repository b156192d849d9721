"""Plot series, progress and measured throughput from hand-made event lists (studio.train.curves)."""

from __future__ import annotations

import json
import math

import pytest

from studio.train.curves import (Series, curves, ema, measured_throughput, number, progress, run_span,
                                 steps_per_second, supersede)


def train(step: int, loss: float | str, time: float = 0.0, **extra) -> dict:
    return {"kind": "train", "step": step, "total": 100, "loss": loss, "learning_rate": step / 1000,
            "grad_norm": 1.0, "tokens_per_second": 500.0, "time": time, **extra}


def killed_at_57_resumed_from_40() -> list[dict]:
    """Steps 1..57 logged, checkpoint 40, killed; resumed from 40 and logged 41..60 again with other losses."""
    first = [{"kind": "status", "state": "starting", "time": 0.0}, {"kind": "status", "state": "running", "step": 0}]
    first += [train(s, 10.0 - s / 10, time=s) for s in range(1, 58)]
    first.insert(42, {"kind": "checkpoint", "step": 40, "path": "checkpoint-40"})
    first.append({"kind": "eval", "step": 50, "eval_loss": 9.0})
    second = [{"kind": "status", "state": "starting", "time": 100.0},
              {"kind": "alert", "alert": "checkpoint_damaged", "message": "checkpoint-50 is damaged"},
              {"kind": "status", "state": "resuming", "checkpoint": "checkpoint-40", "resumed_from_step": 40},
              {"kind": "status", "state": "running", "step": 40, "total": 100}]
    second += [train(s, 1.0, time=100.0 + s) for s in range(41, 61)]
    return first + second


def test_a_resume_keeps_only_the_newest_value_of_each_step():
    c = curves(killed_at_57_resumed_from_40())
    assert c.loss.steps == list(range(1, 61))  # each step once, in order
    assert c.loss.values[:40] == pytest.approx([10.0 - s / 10 for s in range(1, 41)])
    assert c.loss.values[40:] == [1.0] * 20  # 41..57 from the resumed segment, not the killed one
    assert c.eval_loss.steps == []  # the eval at step 50 was redone by the resume (and not yet re-measured)
    assert c.resumes == [40]
    kept = supersede(killed_at_57_resumed_from_40())
    assert any(e.get("alert") == "checkpoint_damaged" for e in kept)  # alerts are history, never superseded
    assert [e["step"] for e in kept if e["kind"] == "checkpoint"] == [40]


def test_a_restart_from_step_zero_supersedes_everything_before_it():
    events = [train(s, 5.0) for s in (1, 2, 3)] + [{"kind": "status", "state": "running", "step": 0}, train(1, 2.0)]
    c = curves(events)
    assert c.loss.steps == [1] and c.loss.values == [2.0]


def test_nan_losses_are_left_out_of_the_line_and_listed():
    c = curves([train(1, 2.0), train(2, "nan"), train(3, 1.5)])
    assert c.loss.steps == [1, 3]
    assert c.nonfinite_loss_steps == [2]
    assert number("inf") is None and number(None) is None and number("2.5") == 2.5


def test_other_series_come_by_step():
    events = [train(5, 2.0), {"kind": "eval", "step": 5, "eval_loss": 1.9}, train(10, 1.0)]
    c = curves(events)
    assert c.eval_loss.steps == [5] and c.eval_loss.values == [1.9]
    assert c.learning_rate.values == [0.005, 0.01]
    assert c.grad_norm.steps == [5, 10]
    assert c.tokens_per_second.values == [500.0, 500.0]
    assert isinstance(c.loss_smooth, Series) and c.loss_smooth.steps == [5, 10]


def test_ema_is_debiased_and_follows_the_data():
    assert ema([3.0, 3.0, 3.0], 0.9) == pytest.approx([3.0, 3.0, 3.0])  # no pull towards zero at the start
    assert ema([1.0, 2.0], 0.0) == [1.0, 2.0]
    smoothed = ema([1.0, 0.0, 0.0, 0.0], 0.5)
    assert smoothed[0] == 1.0 and smoothed[1] < 1.0 and smoothed[-1] < smoothed[1]
    assert ema([], 0.6) == []


def test_progress_sums_segments_and_measures_eta_from_recent_steps():
    events = killed_at_57_resumed_from_40()
    # Segment 1: 0 → 57 s (last event at t = 57); segment 2: 100 s → now.
    p = progress(events, {"state": "running"}, live=True, now=130.0)
    assert p.step == 60 and p.total == 100
    assert p.elapsed_s == pytest.approx(57 + 30)
    assert p.steps_per_second == pytest.approx(1.0)  # one step per second in the newest segment
    assert p.eta_s == pytest.approx(40.0)
    assert p.fraction == pytest.approx(0.6)
    done = progress(events, {"state": "stopped"}, live=False, now=500.0)
    assert done.eta_s is None and done.elapsed_s == pytest.approx(57 + 60)


def test_progress_without_events_falls_back_to_the_status():
    p = progress([], {"state": "queued", "step": 0, "total_steps": 360}, live=False, now=0.0)
    assert (p.step, p.total, p.elapsed_s, p.eta_s) == (0, 360, 0.0, None)
    assert steps_per_second([train(1, 1.0, time=5.0)]) is None  # one point is no rate


def step_event(step: int, time: float) -> dict:
    """The worker's light per-step event: no loss, only where the run is."""
    return {"kind": "progress", "step": step, "total": 100, "time": time}


def stopped_at_7_with_logging_every_5() -> list[dict]:
    events = [{"kind": "status", "state": "starting", "time": 0.0},
              {"kind": "status", "state": "running", "step": 0, "total": 100, "time": 10.0}]
    for s in range(1, 8):
        events.append(step_event(s, 10.0 + 2 * s))
        if s in (1, 5):
            events.append(train(s, 2.0, time=10.0 + 2 * s))
    return events + [{"kind": "status", "state": "stopping", "step": 7, "time": 25.0},
                     {"kind": "status", "state": "stopped", "step": 7, "time": 26.0}]


def test_progress_moves_every_step_while_the_plots_keep_the_logged_ones():
    events = stopped_at_7_with_logging_every_5()[:-2]
    p = progress(events, {"state": "running"}, live=True, now=25.0)
    assert (p.step, p.total, p.phase) == (7, 100, "training")  # not 5, the last logged step
    assert p.steps_per_second == pytest.approx(0.5)  # one step every 2 s, measured over every step
    assert p.eta_s == pytest.approx(93 / 0.5)
    c = curves(events)
    assert c.loss.steps == [1, 5] and c.learning_rate.steps == [1, 5]


def test_a_resume_is_starting_from_launch_to_its_first_step_and_counts_no_pause():
    stopped = stopped_at_7_with_logging_every_5()
    # The runner has started the supervisor (status: starting); the worker has written nothing yet.
    p = progress(stopped, {"state": "starting"}, live=True, now=500.0)
    assert (p.phase, p.step, p.eta_s) == ("loading", 7, None)  # no ETA from the last attempt's speed
    assert p.elapsed_s == pytest.approx(26.0)  # the pause since the stop is not worker time
    resumed = stopped + [{"kind": "status", "state": "starting", "time": 500.0},
                         {"kind": "status", "state": "resuming", "resumed_from_step": 7, "time": 505.0},
                         {"kind": "status", "state": "running", "step": 7, "total": 100, "time": 506.0}]
    assert progress(resumed, {"state": "starting"}, live=True, now=506.0).phase == "loading"
    first = progress(resumed, {"state": "running"}, live=True, now=510.0)
    assert (first.phase, first.step, first.eta_s) == ("first_step", 7, None)
    assert first.elapsed_s == pytest.approx(26.0 + 10.0)
    going = progress(resumed + [step_event(8, 511.0), step_event(9, 512.0)], {"state": "running"}, live=True,
                     now=512.0)
    assert (going.phase, going.step, going.steps_per_second) == ("training", 9, pytest.approx(1.0))
    assert progress(stopped, {"state": "stopped"}, live=False, now=600.0).phase == "stopped"


def test_runs_logged_before_progress_events_read_as_before():
    events = [train(5, 2.0, time=5.0), train(10, 1.0, time=10.0)]  # no starting, running or progress events
    p = progress(events, {"state": "running"}, live=True, now=10.0)
    assert (p.step, p.phase, p.steps_per_second) == (10, "training", pytest.approx(1.0))


def test_the_span_of_a_resumed_run_starts_with_its_first_attempt():
    events = stopped_at_7_with_logging_every_5() + [{"kind": "status", "state": "starting", "time": 500.0},
                                                     {"kind": "status", "state": "finished", "time": 600.0}]
    assert run_span(events, {"started": 500.0, "ended": 600.0}) == (0.0, 600.0, 2)
    assert run_span([], {"started": 5.0, "ended": None}) == (5.0, None, 1)
    assert run_span([], {}) == (None, None, 0)


def write_run(runs, run_id: str, status: dict, events: list[dict]) -> None:
    folder = runs / run_id
    folder.mkdir(parents=True)
    (folder / "status.json").write_text(json.dumps({"run_id": run_id, **status}))
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_measured_throughput_is_the_newest_finished_run_of_the_model(tmp_path):
    data = {"kind": "data", "train": 100, "train_tokens": 6400}
    base = {"model": "m", "dataset": "d", "tokens_per_second": 1.0}
    write_run(tmp_path, "old", {**base, "state": "finished", "ended": 1.0}, [data, train(1, 1, tokens_per_second=10.0)])
    write_run(tmp_path, "new", {**base, "state": "stopped", "ended": 2.0},
              [data] + [train(s, 1, tokens_per_second=r) for s, r in ((1, 100.0), (2, 300.0), (3, 200.0))])
    write_run(tmp_path, "live", {**base, "state": "running", "ended": None}, [train(1, 1, tokens_per_second=9.0)])
    write_run(tmp_path, "other", {**base, "model": "x", "state": "finished", "ended": 3.0}, [train(1, 1)])
    t = measured_throughput(tmp_path, "m")
    assert (t.run_id, t.tokens_per_second, t.tokens_per_sample, t.dataset) == ("new", 200.0, 64.0, "d")  # median
    assert measured_throughput(tmp_path, "unknown") is None
    assert measured_throughput(tmp_path / "missing", "m") is None
    assert math.isclose(measured_throughput(tmp_path, "x").tokens_per_second, 500.0)
