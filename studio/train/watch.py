"""Alerts from the numbers of a run: NaN/inf loss or gradient, loss spikes, gradient-norm explosions.

Pure logic over floats, fed once per optimizer step by the worker's callback; no torch. Each alert is a dict ready
for the event log: `alert` (a code), `message` (what happened and what to try), `stop` (whether training must stop).

Thresholds (settable, starting points rather than laws): a spike is a step loss above `spike_factor` × the median
of the last `window` step losses; an explosion is a grad norm above `grad_factor` × the median of the recent grad
norms. Neither is judged before `warmup` values are known, since the first steps of a run move fast by design.
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
    losses: deque = field(default_factory=deque)
    grad_norms: deque = field(default_factory=deque)

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
        alerts = []
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

    def grad_norm(self, step: int, value: float | None) -> list[dict]:
        if value is None:
            return []
        if not math.isfinite(value):
            return [{"alert": "nan_grad", "step": step, "value": value, "stop": True,
                     "message": f"gradient norm is {value} at step {step}: training stopped; the last good "
                                "checkpoint is kept. Lower the learning rate or keep max_grad_norm at 1.0."}]
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
