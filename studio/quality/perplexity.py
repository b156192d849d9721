"""Per-record perplexity under a reference causal LM: the noise signal of the Quality step.

A record's perplexity is exp(nll_sum / n_tokens), where nll_sum is the summed negative log-likelihood (nats) of
its tokens and n_tokens how many were scored; both are kept (DOMAIN.md) so that scores can be pooled or compared
across runs. Two implementations give the same numbers (relative difference ≤ 1e-4, checked by the tests and the
benchmark): `score_records` (batched: windows sorted by length, right-padded per batch, one forward per batch) and
`score_records_loop` (the reference: one window per forward, no padding).

Choices where the issue is silent:
- Tokens: a text is tokenized without special tokens and one prefix token is put in front: the tokenizer's BOS,
  else its EOS (a document separator to models without BOS), else none. The prefix is context, never a target, so
  every text token is scored and n_tokens is the text's token count; without any prefix the first token cannot be
  predicted and is not scored. A chat record is rendered by the chat template as training renders it, and its
  assistant turns (or, with chat_tokens="conversation", all its tokens) are the targets: `ppl_encode` has the
  rule and the reasons. Both implementations share the encoding.
- Long records: windows of `max_length` tokens (default: the model's context, at most 2048, because the logits of
  a batch take batch × window × vocabulary × 4 bytes) advancing by `stride` tokens (default half a window). Each
  token is scored once, in the first window that holds it after the previous window's end, so it sees at least
  max_length − stride tokens of left context (all of them near the start of the record).
- Records that cannot be scored (no such field, not a string, empty or blank, over `max_chars` characters, a chat
  the template cannot render...) become `ScoreIssue`s naming the record, each with a reason code; they are never
  dropped silently and never crash the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.config import DEMO_MODEL, ModelConfig
from studio.quality.cancel import CancelCheck, Cancelled
from studio.quality.ppl_encode import (
    DEFAULT_CHAT_TOKENS,
    DEFAULT_MAX_CHARS,
    Encoded,
    ScoreIssue,
    Unit,
    check_chat_tokens,
    check_records,
    encode_units,
)

Progress = Callable[[float, str], None]

DEFAULT_MAX_LENGTH_CAP = 2048  # tokens; see the module docstring
_GROUP_RECORDS = 2048  # records tokenized and sorted together: bounds memory, keeps nearly all of the padding gain


@dataclass(frozen=True)
class RecordScore:
    id: str
    index: int  # position in the input sequence (0-based)
    nll_sum: float  # nats, summed over the scored tokens
    n_tokens: int  # tokens scored

    @property
    def ppl(self) -> float:
        return math.exp(self.nll_sum / self.n_tokens)


@dataclass
class ScoreResult:
    scores: list[RecordScore]  # the scored records, in input order
    issues: list[ScoreIssue]  # the records that were not scored
    max_length: int  # window size in tokens
    stride: int  # tokens a window advances on long records
    chat_tokens: str = DEFAULT_CHAT_TOKENS  # which tokens of a chat record are targets (see ppl_encode)
    seconds: float = 0.0  # scoring time (tokenization included, model loading not)
    forward_tokens: int = 0  # tokens passed through the model, overlapping windows counted again

    @property
    def tokens(self) -> int:
        return sum(s.n_tokens for s in self.scores)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Scorer:
    """A loaded reference model and its tokenizer."""

    model: Any
    tokenizer: Any
    name: str
    load_in_4bit: bool = False
    context: int = field(init=False)  # the model's context in tokens
    prefix_id: int | None = field(init=False)  # BOS, else EOS, else None (see the module docstring)

    def __post_init__(self) -> None:
        self.context = int(getattr(self.model.config, "max_position_embeddings", 0) or 2048)
        bos, eos = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id
        self.prefix_id = bos if bos is not None else eos

    @property
    def pad_id(self) -> int:
        # Any id works: padded positions are masked out of every loss.
        return self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device


def load_scorer(model: str = DEMO_MODEL, *, load_in_4bit: bool = False, dtype: str = "auto") -> Scorer:
    """The reference model (bundled name, local folder or Hub id) on the GPU if there is one, else the CPU.

    With `load_in_4bit` the weights are NF4 (bitsandbytes), which also runs on the CPU. `dtype` as in the recipe
    ("auto": bf16 on GPUs that support it, else float32); batched and loop scores agree to 1e-4 in float32, to
    the precision of the dtype otherwise."""
    import torch

    from studio.models import load_model, load_tokenizer, torch_dtype

    cfg = ModelConfig(name_or_path=model, dtype=dtype)
    on_gpu = torch.cuda.is_available()
    quant, device_map = None, None
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch_dtype(cfg.dtype))
        device_map = {"": 0} if on_gpu else "cpu"  # quantised weights are placed at load time, never moved
    tokenizer = load_tokenizer(cfg)
    lm = load_model(cfg, quantization_config=quant, device_map=device_map)
    if on_gpu and not load_in_4bit:
        lm = lm.to("cuda")
    return Scorer(lm, tokenizer, model, load_in_4bit)


def resolve_window(scorer: Scorer, max_length: int | None, stride: int | None) -> tuple[int, int]:
    """(window, stride) in tokens, checked against the model's context."""
    window = max_length or min(scorer.context, DEFAULT_MAX_LENGTH_CAP)
    if not 2 <= window <= scorer.context:
        raise ValueError(f"max_length: {window} tokens; must be between 2 and the model's context "
                         f"({scorer.context} tokens)")
    step = stride or max(1, window // 2)
    if not 1 <= step < window:
        # A window must hold at least one token of context before its first target.
        raise ValueError(f"stride: {step} tokens; must be at least 1 and below max_length ({window})")
    return window, step


def plan_windows(length: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """(start, end, first_target) of the windows over a sequence of `length` ids, position 0 being the prefix.

    Targets are positions first_target..end-1; across windows every position 1..length-1 is a target exactly
    once, and a window ends `stride` tokens after the previous one."""
    plans, end = [], 0
    while end < length:
        new_end = min(length, window if end == 0 else end + stride)
        start = max(0, new_end - window)
        plans.append((start, new_end, max(1, end)))
        end = new_end
    return plans


Job = tuple[int, list[int], int, list[int]]  # (slot in group, window ids, first target, window target mask)


def _jobs(encoded: Sequence[Encoded | ScoreIssue], window: int, stride: int) -> list[Job]:
    """The windows to run; a window without a target (inside a long question, say) is not run at all."""
    jobs = []
    for slot, item in enumerate(encoded):
        if isinstance(item, Encoded):
            jobs += [(slot, item.ids[start:end], first - start, item.mask[start:end])
                     for start, end, first in plan_windows(len(item.ids), window, stride) if any(item.mask[first:end])]
    return jobs


def _nll_rows(scorer: Scorer, batch: list[tuple[list[int], int, list[int]]]) -> list[float]:
    """Summed NLL (nats) of each (ids, first_target, mask) in one right-padded forward pass."""
    import torch
    import torch.nn.functional as F

    width = max(len(ids) for ids, _, _ in batch)
    input_ids = torch.full((len(batch), width), scorer.pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    targets = torch.zeros((len(batch), width), dtype=torch.bool)
    for row, (ids, first, mask) in enumerate(batch):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        attention[row, :len(ids)] = 1
        targets[row, first:len(ids)] = torch.tensor(mask[first:], dtype=torch.bool)  # padding is never a target
    device = scorer.device
    input_ids, attention, targets = input_ids.to(device), attention.to(device), targets.to(device)
    with torch.inference_mode():
        logits = scorer.model(input_ids=input_ids, attention_mask=attention).logits
        # Shifted: the logits at position j predict the token at j + 1. Only target positions go through the
        # softmax, so padding costs no loss work and can never leak into a sum.
        rows, cols = (targets[:, 1:] & attention[:, 1:].bool()).nonzero(as_tuple=True)
        losses = F.cross_entropy(logits[rows, cols].float(), input_ids[rows, cols + 1], reduction="none")
        sums = torch.zeros(len(batch), dtype=torch.float64, device=device).index_add_(0, rows, losses.double())
    return sums.tolist()


@dataclass
class _Ticker:
    """Progress and cancellation, checked before every forward pass so a cancel takes effect within one batch."""

    total: int  # records to score
    progress: Progress | None
    cancel: CancelCheck | None
    started: float = field(default_factory=time.perf_counter)
    tokens: int = 0  # tokens through the model so far

    def __call__(self, done: float, tokens: int = 0) -> None:
        self.tokens += tokens
        if self.cancel is not None and self.cancel():
            raise Cancelled(f"perplexity scoring cancelled after {int(done):,} of {self.total:,} records")
        if self.progress is not None:
            rate = self.tokens / max(time.perf_counter() - self.started, 1e-9)
            fraction = done / self.total if self.total else 1.0
            self.progress(fraction, f"scored {int(done):,}/{self.total:,} records · {rate:,.0f} tokens/s")


def _score_group(scorer: Scorer, group: list[Unit], window: int, stride: int, batch_size: int, chat_tokens: str,
                 tick: Callable[[float, int], None]) -> ScoreResult:
    """Scores of one group of records, their windows sorted by length and batched."""
    encoded = encode_units(scorer.tokenizer, scorer.prefix_id, group, chat_tokens)
    # Longest first: similar lengths share a batch (little padding) and the largest batch fails first, if at all.
    jobs = sorted(_jobs(encoded, window, stride), key=lambda job: len(job[1]), reverse=True)
    nll = [0.0] * len(group)
    for at in range(0, len(jobs), batch_size):
        chunk = jobs[at:at + batch_size]
        tick(len(group) * at / len(jobs), sum(len(ids) for _, ids, _, _ in chunk))
        for (slot, _, _, _), value in zip(chunk, _nll_rows(scorer, [job[1:] for job in chunk])):
            nll[slot] += value
    result = ScoreResult([], [], window, stride, chat_tokens, 0.0, sum(len(job[1]) for job in jobs))
    _collect(result, group, encoded, nll)
    return result


def _score_or_issue(rid: str, index: int, nll: float, n_tokens: int) -> RecordScore | ScoreIssue:
    if math.isfinite(nll):
        return RecordScore(rid, index, nll, n_tokens)
    # NaN or inf from the model (fp16 overflow, a broken checkpoint) would poison every ranking it entered.
    return ScoreIssue(rid, index, f"record {rid!r}: the model's loss is not finite ({nll}); try float32 weights "
                                  f"or another reference model", "not_finite")


def _collect(result: ScoreResult, group: list[Unit], encoded: list[Encoded | ScoreIssue], nll: list[float]) -> None:
    for (index, rid, _), item, value in zip(group, encoded, nll):
        if isinstance(item, Encoded):
            item = _score_or_issue(rid, index, value, item.n_tokens)
        (result.scores if isinstance(item, RecordScore) else result.issues).append(item)


def score_records(records: Sequence[dict], scorer: Scorer, *, field: str = "text", batch_size: int = 8,
                  max_length: int | None = None, stride: int | None = None, max_chars: int = DEFAULT_MAX_CHARS,
                  chat_tokens: str = DEFAULT_CHAT_TOKENS, progress: Progress | None = None,
                  cancel: CancelCheck | None = None) -> ScoreResult:
    """Perplexity of every record (text records: their `field`; chats: see `chat_tokens`), batched; raises
    `Cancelled` when `cancel()` turns true."""
    if batch_size < 1:
        raise ValueError(f"batch_size: {batch_size}; must be at least 1")
    check_chat_tokens(chat_tokens)
    window, step = resolve_window(scorer, max_length, stride)
    started = time.perf_counter()
    good, issues = check_records(records, field, max_chars)
    result = ScoreResult([], issues, window, step, chat_tokens)
    ticker = _Ticker(len(good), progress, cancel, started)
    for at in range(0, len(good), _GROUP_RECORDS):
        part = _score_group(scorer, good[at:at + _GROUP_RECORDS], window, step, batch_size, chat_tokens,
                            lambda done, tokens, at=at: ticker(at + done, tokens))
        result.scores += part.scores
        result.issues += part.issues
        result.forward_tokens += part.forward_tokens
    ticker(len(good))
    return _finish(result, started)


def _finish(result: ScoreResult, started: float) -> ScoreResult:
    result.scores.sort(key=lambda s: s.index)
    result.issues.sort(key=lambda i: i.index)
    result.seconds = time.perf_counter() - started
    return result


def score_records_loop(records: Sequence[dict], scorer: Scorer, *, field: str = "text",
                       max_length: int | None = None, stride: int | None = None,
                       max_chars: int = DEFAULT_MAX_CHARS, chat_tokens: str = DEFAULT_CHAT_TOKENS,
                       progress: Progress | None = None, cancel: CancelCheck | None = None) -> ScoreResult:
    """The reference: one record, one window, one forward pass at a time, without padding or attention mask."""
    import torch
    import torch.nn.functional as F

    check_chat_tokens(chat_tokens)
    window, step = resolve_window(scorer, max_length, stride)
    started = time.perf_counter()
    good, issues = check_records(records, field, max_chars)
    result = ScoreResult([], issues, window, step, chat_tokens)
    ticker = _Ticker(len(good), progress, cancel, started)
    for done, (index, rid, value) in enumerate(good):
        item = encode_units(scorer.tokenizer, scorer.prefix_id, [(index, rid, value)], chat_tokens)[0]
        if isinstance(item, ScoreIssue):
            result.issues.append(item)
            continue
        nll = 0.0
        for _, ids, first, mask in _jobs([item], window, step):
            ticker(done, len(ids))
            piece = torch.tensor([ids], device=scorer.device)
            with torch.inference_mode():
                logits = scorer.model(input_ids=piece).logits[0, :-1].float()
            losses = F.cross_entropy(logits, piece[0, 1:], reduction="none")
            # losses[j] is the loss of the token at j + 1: the targets are first.. where the mask is set
            wanted = torch.tensor(mask[1:], dtype=torch.bool, device=scorer.device)
            wanted[:first - 1] = False
            nll += losses[wanted].double().sum().item()
            result.forward_tokens += len(ids)
        scored = _score_or_issue(rid, index, nll, item.n_tokens)
        (result.scores if isinstance(scored, RecordScore) else result.issues).append(scored)
    ticker(len(good))
    return _finish(result, started)
