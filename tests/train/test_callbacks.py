"""The studio callback on the Trainer's own state and control objects: early stopping, stop requests, alerts."""

from __future__ import annotations

from transformers import TrainerControl, TrainerState

from studio.train.callbacks import StopRequest, StudioCallback
from studio.train.events import EventLog, read_events, read_status


class FakeSteps:
    """Stands in for StudioTrainer's bookkeeping only (the loss of the step just finished)."""

    def __init__(self, losses):
        self.losses = list(losses)

    def take_step(self):
        return self.losses.pop(0), [0, 1]

    def take_throughput(self):
        return 100.0, 2.0


def make(tmp_path, patience=0, losses=()):
    stop = StopRequest()
    callback = StudioCallback(tmp_path, EventLog(tmp_path), stop, lambda idx: [f"r{i}" for i in idx], cuda=False,
                              patience=patience)
    callback.trainer = FakeSteps(losses)
    state = TrainerState()
    state.max_steps = 100
    return callback, state, TrainerControl(), stop


def test_early_stopping_after_patience_evaluations_without_improvement(tmp_path):
    callback, state, control, _ = make(tmp_path, patience=2)
    for step, loss in [(10, 2.0), (20, 1.5), (30, 1.6), (40, 1.5)]:
        state.global_step = step
        callback.on_evaluate(None, state, control, metrics={"eval_loss": loss})
        if step < 40:
            assert not control.should_training_stop
    assert control.should_training_stop and control.should_save and callback.early_stopped
    status = read_status(tmp_path)
    assert status["best_eval_loss"] == 1.5 and status["best_eval_step"] == 20 and status["first_eval_loss"] == 2.0
    assert [e["eval_loss"] for e in read_events(tmp_path).events if e["kind"] == "eval"] == [2.0, 1.5, 1.6, 1.5]


def test_a_stop_request_saves_and_stops_at_the_step_end(tmp_path):
    callback, state, control, stop = make(tmp_path, losses=[1.0, 1.0])
    state.global_step = 1
    callback.on_step_end(None, state, control)
    assert not control.should_training_stop
    stop.requested, stop.signal_name = True, "SIGTERM"
    state.global_step = 2
    callback.on_step_end(None, state, control)
    assert control.should_training_stop and control.should_save
    assert read_status(tmp_path)["state"] == "stopping"


def test_a_nan_step_stops_without_saving_even_on_a_save_step(tmp_path):
    callback, state, control, _ = make(tmp_path, losses=[float("nan")])
    state.global_step = 5
    control.should_save = True  # as DefaultFlowCallback sets it on a save step
    callback.on_step_end(None, state, control)
    assert control.should_training_stop and not control.should_save
    assert callback.failed_alert["alert"] == "nan_loss" and callback.failed_alert["sample_ids"] == ["r0", "r1"]
    alert = [e for e in read_events(tmp_path).events if e["kind"] == "alert"][0]
    assert alert["value"] == "nan"
