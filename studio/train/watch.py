"""Alerts from the numbers of a run: NaN/inf loss or gradient, divergence, loss spikes, gradient-norm explosions.

Pure logic over floats, fed once per optimizer step by the worker's callback; no torch. Each alert is a dict ready
for the event log: `alert` (a code), `message` (what happened and what to try), `stop` (whether training must stop).

Thresholds (settable, starting points rather than laws): a spike is a step loss above `spike_factor` × the median
of the last `window` step losses; an explosion is a grad norm above `grad_factor` × the median of the recent grad
norms. Neither is judged before `warmup` values are known, since the first steps of a run move fast by design.
Divergence is a loss above `diverge_factor` × the best loss so far for `diverge_patience` steps in a row.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Watch:
    spike_factor: float = 3.0
    grad_factor: float = 10.0
    window: int = 50
    warmup: int = 10
    diverge_factor: float = 3.0
    diverge_patience: int = 5
    losses: deque = field(default_factory=deque)
    grad_norms: deque = field(default_factory=deque)
    best: float = math.inf  # lowest step loss so far
    above: int = 0  # consecutive steps with the loss above diverge_factor × best
    zero_grads: int = 0  # consecutive logged gradient norms of exactly 0
    bad_since: int | None = None  # first step of the current divergence or vanishing streak

    @property
    def diverging(self) -> bool:
        """True while the loss sits far above its best or the gradients are gone: checkpoints taken now would not
        be good ones to resume from."""
        return self.above > 0 or self.zero_grads > 0

    def _mark(self, step: int) -> None:
        if self.diverging and self.bad_since is None:
            self.bad_since = step
        elif not self.diverging:
            self.bad_since = None

    def _remember(self, values: deque, value: float) -> None:
        values.append(value)
        if len(values) > self.window:
            values.popleft()

    def step_loss(self, step: int, loss: float, sample_ids: list[str]) -> list[dict]:
        """Alerts for the loss of optimizer step `step`, computed on the samples `sample_ids`."""
        if not math.isfinite(loss):
            return [{"alert": "nan_loss", "step": step, "value": loss, "stop": True, "sample_ids": sample_ids,
                     "message": f"loss is {loss} at step {step}: training stopped; the last good checkpoint is "
                                "kept. Lower the learning rate, check the batch's samples, or use bf16 "
                                "instead of fp16."}]
        alerts = self._divergence(step, loss)
        if len(self.losses) >= self.warmup:
            median = statistics.median(self.losses)
            if median > 0 and loss > self.spike_factor * median:
                alerts.append({"alert": "loss_spike", "step": step, "value": loss, "median": median, "stop": False,
                               "sample_ids": sample_ids,
                               "message": f"loss spike at step {step}: {loss:.4g} is {loss / median:.1f}× the "
                                          f"recent median {median:.4g}; inspect samples "
                                          f"{', '.join(sample_ids[:8])}{' …' if len(sample_ids) > 8 else ''}"})
        self._remember(self.losses, loss)
        return alerts

    def _divergence(self, step: int, loss: float) -> list[dict]:
        """A loss that stays far above its best for several steps has diverged (a too-high learning rate often
        ends there without ever producing a NaN: the logits saturate and the gradients vanish)."""
        self.above = self.above + 1 if loss > self.diverge_factor * self.best else 0
        self.best = min(self.best, loss)
        self._mark(step)
        if self.above != self.diverge_patience:
            return []
        return [{"alert": "diverged", "step": step, "value": loss, "best": self.best, "stop": True,
                 "since_step": self.bad_since,
                 "message": f"loss diverged: {loss:.4g} at step {step}, above {self.diverge_factor:g}× the best "
                            f"{self.best:.4g} for {self.diverge_patience} steps; training stopped and the last "
                            "checkpoint from before the divergence is kept. Lower the learning rate (LoRA: "
                            "5e-5 to 2e-4) or lengthen warmup."}]

    def grad_norm(self, step: int, value: float | None) -> list[dict]:
        if value is None:
            return []
        if not math.isfinite(value):
            return [{"alert": "nan_grad", "step": step, "value": value, "stop": True,
                     "message": f"gradient norm is {value} at step {step}: training stopped; the last good "
                                "checkpoint is kept. Lower the learning rate or keep max_grad_norm at 1.0."}]
        # A norm of exactly 0 with a loss left to lower means no weight can move any more: the model saturated.
        self.zero_grads = self.zero_grads + 1 if value == 0.0 and self.best > 0 else 0
        self._mark(step)
        if self.zero_grads == self.diverge_patience:
            return [{"alert": "vanished", "step": step, "value": value, "stop": True, "since_step": self.bad_since,
                     "message": f"the gradient norm has been exactly 0 for {self.diverge_patience} logged steps "
                                f"(since step {self.bad_since}): the model collapsed and cannot learn any more, "
                                "typically after a learning rate far too high. Training stopped; the last "
                                "checkpoint from before is kept. Lower the learning rate (LoRA: 5e-5 to 2e-4)."}]
        alerts = []
        if len(self.grad_norms) >= self.warmup:
            median = statistics.median(self.grad_norms)
            if median > 0 and value > self.grad_factor * median:
                alerts.append({"alert": "grad_explosion", "step": step, "value": value, "median": median,
                               "stop": False,
                               "message": f"gradient norm {value:.4g} at step {step} is {value / median:.0f}× the "
                                          f"recent median {median:.4g}; clipping at max_grad_norm keeps the update "
                                          "bounded, but a lower learning rate or longer warmup may be needed."})
        self._remember(self.grad_norms, value)
        return alerts
