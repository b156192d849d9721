"""Step and learning-rate arithmetic of a recipe: effective batch, steps, warmup, the LR at every optimizer step.

Pure functions of a `Recipe` and a few counts; no torch, no Gradio. Each one follows what transformers 5's
`Trainer` does with the `TrainingArguments` the studio builds from the recipe, so the Configure tab's readouts are
the numbers the run will log:

- steps per epoch: `Trainer.set_initial_training_values` (transformers/trainer.py) takes
  `len_dataloader // grad_accum + int(len_dataloader % grad_accum > 0)`, at least 1 — a partial accumulation at
  the end of an epoch is one full optimizer step (its loss is rescaled by the trainer, not skipped);
- total steps: `max_steps` when set, else `ceil(epochs × steps_per_epoch)` (same function);
- warmup: `TrainingArguments.get_warmup_steps` (transformers/training_args.py): an integer count, or
  `ceil(total × ratio)` for a ratio;
- learning rate: the `LambdaLR` factors of transformers/optimization.py — cosine is "cosine_with_min_lr"
  (`_get_cosine_schedule_with_warmup_lr_lambda` with `min_lr_rate`), linear is "linear"
  (`_get_linear_schedule_with_warmup_lr_lambda`), constant is "constant_with_warmup"
  (`_get_constant_schedule_with_warmup_lr_lambda`).

Counting convention for the LR: `lr_at(s)` is the rate the scheduler holds after `s` optimizer steps, i.e. the rate
used by update number s + 1 and the value the trainer logs at `global_step == s` (it logs after `scheduler.step()`).
`lr_curve` therefore has total + 1 points: index 0 is the first update's rate (0 with warmup), index `total` is the
rate after the last update (the floor for cosine).
"""

from __future__ import annotations

import math

from studio.config import Recipe

# Recipe scheduler name → the transformers `lr_scheduler_type` that reproduces it (the builder of TrainingArguments
# should use this table; cosine also needs lr_scheduler_kwargs={"min_lr_rate": schedule.min_lr_ratio}).
HF_SCHEDULER = {"cosine": "cosine_with_min_lr", "linear": "linear", "constant": "constant_with_warmup"}


def effective_batch(recipe: Recipe) -> int:
    """Sequences per optimizer step = per-device batch × GPUs × gradient accumulation steps."""
    b = recipe.batch
    return b.per_device_batch_size * b.num_gpus * b.gradient_accumulation_steps


def samples_per_step(recipe: Recipe) -> int:
    """Training sequences consumed by one optimizer step (the effective batch; packed sequences when packing)."""
    return effective_batch(recipe)


def tokens_per_step(recipe: Recipe, tokens_per_sequence: float | None = None) -> float:
    """Tokens processed per optimizer step (padding included), in tokens.

    `tokens_per_sequence` is the mean padded length of a sequence (from `budget.token_budget`); without it the
    sequence is taken as max_length long, which is exact with packing (every packed sequence is max_length long)
    and an upper bound without it.
    """
    per_seq = recipe.data.max_length if tokens_per_sequence is None else tokens_per_sequence
    return effective_batch(recipe) * per_seq


def steps_per_epoch(n_train: int, recipe: Recipe) -> int:
    """Optimizer steps in one pass over `n_train` training sequences (examples, or packed sequences with packing).

    The trainer's dataloader on each of G processes yields ceil(n / (B × G)) micro-batches (accelerate shards the
    batches of size B and pads the last round, even_batches=True); the trainer then counts
    ceil(micro_batches / A) steps, at least 1, so a partial accumulation at the epoch end is a whole step.
    Nested ceilings collapse: ceil(ceil(n / (B·G)) / A) == ceil(n / (B·G·A)).
    """
    b = recipe.batch
    micro_batches = max(1, -(-n_train // (b.per_device_batch_size * b.num_gpus)))  # per process
    a = b.gradient_accumulation_steps
    return max(micro_batches // a + int(micro_batches % a > 0), 1)


def total_steps(n_train: int, recipe: Recipe) -> int:
    """Optimizer steps of the whole run: max_steps when set, else ceil(epochs × steps per epoch)."""
    if recipe.duration.max_steps is not None:
        return recipe.duration.max_steps
    return math.ceil(recipe.duration.epochs * steps_per_epoch(n_train, recipe))


def hf_warmup_steps(recipe: Recipe) -> float:
    """The value for `TrainingArguments.warmup_steps`: explicit steps (an int ≥ 1) or the ratio (a float < 1)."""
    s = recipe.schedule
    return s.warmup_steps if s.warmup_steps > 0 else s.warmup_ratio


def warmup_steps(total: int, recipe: Recipe) -> int:
    """Warmup optimizer steps, as `TrainingArguments.get_warmup_steps`: the explicit count, else ceil(ratio × total).

    An explicit count is not capped at `total` (transformers does not cap it either): the run then never leaves warmup.
    """
    w = hf_warmup_steps(recipe)
    return int(w) if w >= 1 else math.ceil(total * w)


def lr_factor(step: int, total: int, warmup: int, scheduler: str, min_lr_ratio: float) -> float:
    """Multiplier of the peak LR after `step` optimizer steps; the same formulas as transformers' lr lambdas."""
    if step < warmup:
        return float(step) / float(max(1, warmup))  # linear warmup from 0
    if scheduler == "constant":
        return 1.0
    if scheduler == "linear":
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    if scheduler == "cosine":
        progress = float(step - warmup) / float(max(1, total - warmup))
        factor = 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress))  # num_cycles = 0.5: one half-cosine
        return max(0.0, factor * (1 - min_lr_ratio) + min_lr_ratio)  # floor at min_lr_ratio × peak
    raise ValueError(f"unknown scheduler {scheduler!r}; expected cosine, linear or constant")


def lr_at(step: int, total: int, recipe: Recipe) -> float:
    """Learning rate after `step` optimizer steps of a `total`-step run (convention: see the module docstring)."""
    s = recipe.schedule
    factor = lr_factor(step, total, warmup_steps(total, recipe), s.scheduler, s.min_lr_ratio)
    return recipe.optim.learning_rate * factor


def lr_curve(total: int, recipe: Recipe) -> list[float]:
    """Learning rate after 0, 1, …, total optimizer steps (total + 1 values), for the schedule plot."""
    s, peak = recipe.schedule, recipe.optim.learning_rate
    warmup = warmup_steps(total, recipe)
    return [peak * lr_factor(i, total, warmup, s.scheduler, s.min_lr_ratio) for i in range(total + 1)]


def train_eval_split(n: int, recipe: Recipe) -> tuple[int, int]:
    """(n_train, n_eval) examples for data.eval_split.

    n_eval = round(n × eval_split), half rounding up, and at least 1 when eval_split > 0; at least one example always
    stays in training (so n ≤ 1 gives no eval set). `datasets.Dataset.train_test_split` with a float test_size uses
    ceil instead, so the trainer must pass this n_eval as an integer test_size for the two to agree.
    """
    ratio = recipe.data.eval_split
    if ratio <= 0 or n <= 1:
        return n, 0
    n_eval = min(max(1, math.floor(n * ratio + 0.5)), n - 1)
    return n - n_eval, n_eval


def schedule_summary(n_examples: int, recipe: Recipe, n_packed_sequences: int | None = None) -> dict:
    """The Configure tab's step readouts for a data set of `n_examples` records.

    With packing, the trainer iterates packed sequences, so pass the number of packed training sequences
    (`budget.token_budget(...)["packed_sequences"]` over the training part); otherwise steps count examples.
    """
    n_train, n_eval = train_eval_split(n_examples, recipe)
    n_seq = n_packed_sequences if recipe.data.packing and n_packed_sequences is not None else n_train
    total = total_steps(n_seq, recipe)
    return {"effective_batch": effective_batch(recipe), "samples_per_step": samples_per_step(recipe),
            "tokens_per_step_max": tokens_per_step(recipe), "n_train": n_train, "n_eval": n_eval,
            "steps_per_epoch": steps_per_epoch(n_seq, recipe), "total_steps": total,
            "warmup_steps": warmup_steps(total, recipe)}
