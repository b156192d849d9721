"""The worker's window on the Trainer: events for the UI, alerts, early stopping, and a graceful stop on request.

One callback, because all of it reads the same moments of the training loop: the end of each optimizer step (loss
watch, stop request), each log (train metrics), each evaluation (eval loss, early stopping) and each save.

In a multi-process run the callback runs on every rank and takes the same decisions everywhere: the step loss and
the stop request are agreed over all ranks (`studio.train.ranks`), and grad norm, logged loss and eval loss are
already global. Only rank 0's EventLog writes; the others' is disabled.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

from transformers import TrainerCallback

from studio.train.events import RUNNING, STOPPING, EventLog, read_status
from studio.train.ranks import agree_on_step, all_sum
from studio.train.watch import Watch


@dataclass
class StopRequest:
    """Set by the worker's signal handler; the callback turns it into save-and-stop at the next step end."""

    requested: bool = False
    signal_name: str = ""
    announced: bool = False  # the stop was written to status and events


def peak_memory_gib(cuda: bool) -> float:
    """Peak memory of this process: CUDA max allocated on a GPU, else the process's peak resident set."""
    if cuda:
        import torch

        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


def say(message: str) -> None:
    """A line for worker.log (stdout is the log file; flushed so `tail` shows it at once)."""
    print(message, file=sys.stdout, flush=True)


class StudioCallback(TrainerCallback):
    def __init__(self, run_dir, events: EventLog, stop: StopRequest, ids_of, cuda: bool, patience: int = 0,
                 watch: Watch | None = None):
        self.run_dir, self.events, self.stop, self.ids_of, self.cuda = run_dir, events, stop, ids_of, cuda
        self.patience, self.watch = patience, watch or Watch()
        self.trainer: Any = None  # set by the worker once the trainer exists
        self.best_eval: float | None = None
        self.bad_evals = 0
        self.failed_alert: dict | None = None  # the alert that stopped training, if one did
        self.early_stopped = False
        self.earlier_seconds = 0.0
        self.segment_start = time.time()

    def on_train_begin(self, args, state, control, **kwargs):
        # Training time adds up over resumes; the queue and model loading are not counted.
        self.earlier_seconds = float(read_status(self.run_dir).get("train_seconds") or 0.0)
        self.segment_start = time.time()
        self.events.update_status(state=RUNNING, total_steps=state.max_steps, step=state.global_step)
        self.events.write("status", state=RUNNING, step=state.global_step, total=state.max_steps)
        say(f"training: step {state.global_step} of {state.max_steps}")
        self.trainer.take_throughput()  # the clock starts now, not when the model began loading

    def _alert(self, alert: dict, state, control) -> None:
        self.events.write("alert", **{"step": state.global_step, "total": state.max_steps, **alert})
        say(f"ALERT {alert['alert']}: {alert['message']}")
        if alert["stop"] and self.failed_alert is None:
            self.failed_alert = alert
            control.should_training_stop = True
            control.should_save = False  # never checkpoint weights that produced a NaN

    def on_step_end(self, args, state, control, **kwargs):
        # Every step, without a loss (that comes every logging_steps): one short appended line, no status write,
        # so the Train tab's bar and ETA move each step at the cost of a flush.
        self.events.write("progress", step=state.global_step, total=state.max_steps)
        loss, indices = self.trainer.take_step()
        # Sample ids in a spike alert are this rank's; with several processes rank 0 names only its own share.
        loss, stop = agree_on_step(loss, self.stop.requested)
        if stop and not self.stop.requested:
            self.stop.requested, self.stop.signal_name = True, "a stop request (to another rank)"
        if loss is not None:
            for alert in self.watch.step_loss(state.global_step, loss, self.ids_of(indices)):
                self._alert(alert, state, control)
        if self.watch.diverging:
            control.should_save = False  # a checkpoint of a diverging model is not one to resume from
        if self.stop.requested and self.failed_alert is None:
            control.should_save = True
            control.should_training_stop = True
            if not self.stop.announced:
                self.stop.announced = True
                self.events.update_status(state=STOPPING, stop_signal=self.stop.signal_name)
                self.events.write("status", state=STOPPING, step=state.global_step,
                                  message=f"{self.stop.signal_name} received: saving a checkpoint and the adapter")
                say(f"{self.stop.signal_name} received: saving checkpoint-{state.global_step} and the adapter")
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs:
            return control
        grad_norm = logs.get("grad_norm")
        for alert in self.watch.grad_norm(state.global_step, grad_norm):
            self._alert(alert, state, control)
        if self.watch.diverging and not self.stop.requested:
            control.should_save = False  # the save of this step comes after the log; skip a collapsed model
        tokens_s, samples_s = all_sum(list(self.trainer.take_throughput()))  # the whole run's rate, all ranks
        event = self.events.write("train", step=state.global_step, total=state.max_steps, epoch=state.epoch,
                                  loss=logs["loss"], learning_rate=logs.get("learning_rate"), grad_norm=grad_norm,
                                  tokens_per_second=tokens_s, samples_per_second=samples_s,
                                  memory_gib=peak_memory_gib(self.cuda))
        self.events.update_status(step=state.global_step, total_steps=state.max_steps, epoch=state.epoch,
                                  memory_gib=event["memory_gib"], tokens_per_second=tokens_s,
                                  samples_per_second=samples_s, final_loss=logs["loss"],
                                  train_seconds=self.train_seconds())
        say(f"step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} lr {logs.get('learning_rate', 0):.3g}"
            f" grad_norm {grad_norm if grad_norm is None else round(grad_norm, 4)} {tokens_s:,.0f} tok/s")
        return control

    def train_seconds(self) -> float:
        """Seconds of training over all attempts of this run, up to now."""
        return self.earlier_seconds + time.time() - self.segment_start

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        loss = (metrics or {}).get("eval_loss")
        if loss is None:
            return control
        self.events.write("eval", step=state.global_step, total=state.max_steps, epoch=state.epoch, eval_loss=loss)
        improved = math.isfinite(loss) and (self.best_eval is None or loss < self.best_eval)
        if self.best_eval is None:
            self.events.update_status(first_eval_loss=loss, first_eval_step=state.global_step)
        self.events.update_status(last_eval_loss=loss)
        if improved:
            self.best_eval, self.bad_evals = loss, 0
            self.events.update_status(best_eval_loss=loss, best_eval_step=state.global_step)
        else:
            self.bad_evals += 1
        say(f"eval at step {state.global_step}: loss {loss:.4f}{'' if improved else ' (no improvement)'}")
        if self.patience and self.bad_evals >= self.patience:
            self.early_stopped = True
            control.should_training_stop = True
            control.should_save = True
            self.events.write("status", state="early_stopping", step=state.global_step,
                              message=f"eval loss has not improved for {self.patience} evaluations "
                                      f"(best {self.best_eval:.4f}); stopping")
        return control

    def on_save(self, args, state, control, **kwargs):
        path = f"checkpoint-{state.global_step}"
        self.events.write("checkpoint", step=state.global_step, total=state.max_steps, path=path)
        self.events.update_status(last_checkpoint=path, step=state.global_step, train_seconds=self.train_seconds())
        say(f"saved {path}")
        return control
