"""Step and learning-rate arithmetic, by hand and against transformers' Trainer, TrainingArguments, schedulers."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler
from transformers import Trainer, TrainingArguments, get_scheduler

from studio.config import Recipe
from studio.estimate.schedule import (
    HF_SCHEDULER,
    effective_batch,
    hf_warmup_steps,
    lr_at,
    lr_curve,
    samples_per_step,
    schedule_summary,
    steps_per_epoch,
    tokens_per_step,
    total_steps,
    train_eval_split,
    warmup_steps,
)


def recipe(*, b=4, a=4, g=1, epochs=3.0, max_steps=None, scheduler="cosine", ratio=0.03, wsteps=0, floor=0.1,
           lr=1e-4, eval_split=0.1, max_length=512) -> Recipe:
    r = Recipe()
    r.batch.per_device_batch_size, r.batch.gradient_accumulation_steps, r.batch.num_gpus = b, a, g
    r.duration.epochs, r.duration.max_steps = epochs, max_steps
    r.schedule.scheduler, r.schedule.warmup_ratio, r.schedule.warmup_steps = scheduler, ratio, wsteps
    r.schedule.min_lr_ratio, r.optim.learning_rate = floor, lr
    r.data.eval_split, r.data.max_length = eval_split, max_length
    return r


def hf_args(r: Recipe, tmp="/tmp/studio-test-schedule") -> TrainingArguments:
    return TrainingArguments(output_dir=tmp, warmup_steps=hf_warmup_steps(r), report_to="none",
                             per_device_train_batch_size=r.batch.per_device_batch_size,
                             gradient_accumulation_steps=r.batch.gradient_accumulation_steps,
                             num_train_epochs=r.duration.epochs, max_steps=r.duration.max_steps or -1)


# --- batch and steps, by hand -------------------------------------------------------------------------------------

def test_effective_batch_and_per_step_counts():
    r = recipe(b=4, a=8, g=2, max_length=1024)
    assert effective_batch(r) == 64 == samples_per_step(r)
    assert tokens_per_step(r) == 64 * 1024  # tokens: every sequence at max_length (packing, or the upper bound)
    assert tokens_per_step(r, tokens_per_sequence=300.5) == 64 * 300.5


def test_steps_by_hand():
    r = recipe(b=4, a=4, g=1, epochs=3.0)  # effective batch 16
    assert steps_per_epoch(100, r) == 7  # 25 micro-batches: 6 full accumulations + 1 partial (counted as a step)
    assert steps_per_epoch(96, r) == 6
    assert steps_per_epoch(1, r) == 1  # never 0
    assert total_steps(100, r) == 21
    assert total_steps(100, recipe(epochs=1.5)) == math.ceil(1.5 * 7) == 11  # fractional epochs round up
    assert total_steps(100, recipe(max_steps=5, epochs=3.0)) == 5  # max_steps overrides epochs
    assert total_steps(10_000, recipe(max_steps=5)) == 5
    r2 = recipe(b=2, a=3, g=2)  # effective 12; per process ceil(50 / 4) = 13 micro-batches → ceil(13 / 3) = 5
    assert steps_per_epoch(50, r2) == 5


def test_warmup_by_hand():
    assert warmup_steps(100, recipe(ratio=0.03)) == 3
    assert warmup_steps(100, recipe(ratio=0.07)) == 8  # ceil(100 × 0.07) and 100 × 0.07 = 7.000000000000001 in floats
    assert warmup_steps(101, recipe(ratio=0.1)) == 11
    assert warmup_steps(100, recipe(ratio=0.0)) == 0
    assert warmup_steps(100, recipe(ratio=0.5, wsteps=7)) == 7  # explicit steps replace the ratio
    assert warmup_steps(5, recipe(ratio=0.0, wsteps=9)) == 9  # not capped, as in transformers


def test_train_eval_split_by_hand():
    assert train_eval_split(100, recipe(eval_split=0.1)) == (90, 10)
    assert train_eval_split(25, recipe(eval_split=0.1)) == (22, 3)  # 2.5 rounds half up
    assert train_eval_split(5, recipe(eval_split=0.05)) == (4, 1)  # at least one eval example
    assert train_eval_split(100, recipe(eval_split=0.0)) == (100, 0)
    assert train_eval_split(1, recipe(eval_split=0.3)) == (1, 0)  # one example stays for training


def test_schedule_summary_uses_packed_sequences_when_packing():
    r = recipe(b=2, a=2, eval_split=0.0, epochs=1.0, ratio=0.0)
    assert schedule_summary(40, r, n_packed_sequences=8)["total_steps"] == 10  # not packing: examples count
    r.data.packing = True
    out = schedule_summary(40, r, n_packed_sequences=8)
    assert out["steps_per_epoch"] == 2 and out["total_steps"] == 2 and out["effective_batch"] == 4


# --- against transformers --------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 500), b=st.integers(1, 8), a=st.integers(1, 8), epochs=st.floats(0.1, 4.0),
       max_steps=st.one_of(st.none(), st.integers(1, 50)))
def test_steps_match_trainer(n, b, a, epochs, max_steps):
    """Trainer.set_initial_training_values itself, on a real DataLoader (one process)."""
    r = recipe(b=b, a=a, epochs=epochs, max_steps=max_steps)
    args = hf_args(r)
    loader = DataLoader(list(range(n)), batch_size=b)
    stub = SimpleNamespace(get_total_train_batch_size=lambda args: effective_batch(r), get_sp_size=lambda: 1,
                           num_examples=lambda dl: n, args=args)
    _, per_epoch, *_, hf_max_steps = Trainer.set_initial_training_values(stub, args, loader)
    assert steps_per_epoch(n, r) == per_epoch
    assert total_steps(n, r) == hf_max_steps


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), b=st.integers(1, 6), g=st.integers(1, 4))
def test_micro_batches_per_process_match_accelerate(n, b, g):
    """accelerate shards batches of B across G processes, padding the last round: ceil(n / (B × G)) each."""
    from accelerate.data_loader import BatchSamplerShard

    shard = BatchSamplerShard(BatchSampler(SequentialSampler(range(n)), b, drop_last=False), num_processes=g,
                              process_index=0, even_batches=True)
    assert len(shard) == math.ceil(n / (b * g))
    r = recipe(b=b, g=g, a=1)
    assert steps_per_epoch(n, r) == len(shard)


@settings(max_examples=40, deadline=None)
@given(ratio=st.floats(0.0, 0.99), wsteps=st.integers(0, 30), total=st.integers(1, 400))
def test_warmup_matches_training_arguments(ratio, wsteps, total):
    r = recipe(ratio=ratio, wsteps=wsteps)
    assert warmup_steps(total, r) == hf_args(r).get_warmup_steps(total)


def hf_lrs(r: Recipe, total: int) -> list[float]:
    """The real scheduler on a dummy optimizer: the LR after 0, 1, …, total steps."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=r.optim.learning_rate)
    kwargs = {"min_lr_rate": r.schedule.min_lr_ratio} if r.schedule.scheduler == "cosine" else {}
    sched = get_scheduler(HF_SCHEDULER[r.schedule.scheduler], opt, num_warmup_steps=hf_args(r).get_warmup_steps(total),
                          num_training_steps=total, scheduler_specific_kwargs=kwargs)
    out = []
    for _ in range(total + 1):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


@settings(max_examples=60, deadline=None)
@given(scheduler=st.sampled_from(["cosine", "linear", "constant"]), total=st.integers(1, 120),
       ratio=st.floats(0.0, 0.9), wsteps=st.one_of(st.just(0), st.integers(1, 40)), floor=st.floats(0.0, 0.9),
       lr=st.floats(1e-6, 1e-2))
def test_lr_matches_transformers_scheduler_at_every_step(scheduler, total, ratio, wsteps, floor, lr):
    r = recipe(scheduler=scheduler, ratio=ratio, wsteps=wsteps, floor=floor, lr=lr)
    expected = hf_lrs(r, total)
    curve = lr_curve(total, r)
    assert len(curve) == total + 1
    for step, want in enumerate(expected):
        assert lr_at(step, total, r) == pytest.approx(want, rel=1e-12, abs=1e-18)
        assert curve[step] == pytest.approx(want, rel=1e-12, abs=1e-18)


def test_curve_shape():
    r = recipe(scheduler="cosine", ratio=0.1, floor=0.1, lr=2e-4)
    curve = lr_curve(100, r)
    assert curve[0] == 0.0  # warmup starts at 0
    assert curve[10] == pytest.approx(2e-4)  # peak when warmup (10 steps) ends
    assert curve[-1] == pytest.approx(0.1 * 2e-4)  # ends at the floor
    assert min(curve[10:]) == pytest.approx(0.1 * 2e-4)
    assert all(x >= y for x, y in itertools.pairwise(curve[10:]))  # decays monotonically after warmup
    linear = lr_curve(50, recipe(scheduler="linear", ratio=0.0))
    assert linear[0] == pytest.approx(1e-4) and linear[-1] == 0.0
    constant = lr_curve(20, recipe(scheduler="constant", ratio=0.0, wsteps=4))
    assert constant[:5] == pytest.approx([0, 2.5e-5, 5e-5, 7.5e-5, 1e-4]) and constant[-1] == pytest.approx(1e-4)
