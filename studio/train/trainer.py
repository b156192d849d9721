"""The transformers Trainer with what the studio needs to watch a run: per-step loss, tokens, the batch's samples.

`StudioTrainer` changes no training arithmetic. It takes the studio's bookkeeping keys out of each batch before the
model sees them (`sample_index`: which items are in the batch, for the spike alert; `n_real_tokens`: tokens that
are not padding, for tokens/s), and sums the micro-batch losses of each optimizer step so the callback can judge the
step's loss once, with one device sync per step.
"""

from __future__ import annotations

import os
import time
from typing import Any

import torch
from transformers import Trainer

# Fault injection for the integration tests: raise an out-of-memory error at this optimizer step (CPU runs have no
# way to run out of GPU memory on demand, and the OOM path must be tested for real).
FAULT_OOM_AT_STEP = "STUDIO_FAULT_OOM_AT_STEP"


class StudioTrainer(Trainer):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.step_loss = None  # summed loss tensors of the micro-batches of the current optimizer step
        self.step_indices: list[int] = []
        self.tokens_since_log = 0
        self.samples_since_log = 0
        self.log_clock = time.perf_counter()
        oom = os.environ.get(FAULT_OOM_AT_STEP)
        self._oom_at = int(oom) if oom else None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        indices = inputs.pop("sample_index", None)
        n_tokens = inputs.pop("n_real_tokens", None)
        if model.training:
            if self._oom_at is not None and self.state.global_step + 1 >= self._oom_at:
                raise torch.OutOfMemoryError(f"CUDA out of memory (injected by {FAULT_OOM_AT_STEP}="
                                             f"{self._oom_at})")
            if indices is not None:
                self.step_indices += indices.tolist()
                self.samples_since_log += len(indices)
            if n_tokens is not None:
                self.tokens_since_log += int(n_tokens)
        return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        # Each micro-batch loss is already scaled for accumulation, so their sum is the step's mean loss.
        self.step_loss = loss if self.step_loss is None else self.step_loss + loss
        return loss

    def take_step(self) -> tuple[float | None, list[int]]:
        """The finished optimizer step's loss and sample indices; resets them for the next step."""
        loss = None if self.step_loss is None else float(self.step_loss)
        indices, self.step_loss, self.step_indices = self.step_indices, None, []
        return loss, indices

    def take_throughput(self) -> tuple[float, float]:
        """(tokens/s, samples/s) since the previous call."""
        elapsed = max(time.perf_counter() - self.log_clock, 1e-9)
        rates = self.tokens_since_log / elapsed, self.samples_since_log / elapsed
        self.tokens_since_log = self.samples_since_log = 0
        self.log_clock = time.perf_counter()
        return rates
