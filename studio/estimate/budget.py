"""Token budget of a data set at a max length: tokens, truncation, dropped examples, padding and packing efficiency.

Every record is encoded with `studio.data.templates.encode_record`, the function training uses, so the counts are
the tokens the model will see. Also the ETA from a measured throughput. Pure functions; no torch, no Gradio.

Conventions (all counts in tokens):
- real tokens: the ids of the examples that are kept, after truncation (prompt/context tokens included: they cost
  compute even without loss);
- dropped: an example with nothing left to learn — no loss token after position 0 once truncated (the causal-LM
  loss shifts labels by one, so a loss mask on the first token alone predicts nothing), e.g. a chat whose assistant
  turn was cut off. Dropped examples are left out of the padding and packing figures;
- without packing, micro-batches of `batch_size` examples in the given order (not sorted by length: the trainer
  shuffles, and the given order stands in for a random one) are padded to their longest example; the figure for
  padding every sequence to max_length is reported too;
- with packing, `pack_examples` fills sequences of max_length greedily in the given order (next-fit) and never
  splits an example; efficiency = real / (n_sequences × max_length).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from studio.data.templates import encode_record


def pack_examples(lengths: Sequence[int], max_length: int) -> list[list[int]]:
    """Indices of the examples in each packed sequence: next-fit in order, whole examples only.

    An example joins the current sequence when it fits in the room left, else it starts a new one. Lengths above
    max_length (never produced by encode_record with that max_length) get a sequence of their own.
    """
    sequences: list[list[int]] = []
    room = 0  # tokens left in the current sequence
    for i, n in enumerate(lengths):
        if sequences and n <= room:
            sequences[-1].append(i)
            room -= n
        else:
            sequences.append([i])
            room = max_length - n
    return sequences


def padded_tokens(lengths: Sequence[int], batch_size: int) -> int:
    """Tokens after padding each micro-batch of `batch_size` consecutive examples to its longest one."""
    return sum(max(lengths[i:i + batch_size]) * len(lengths[i:i + batch_size])
               for i in range(0, len(lengths), batch_size))


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def token_budget(records: Iterable[dict], tokenizer, max_length: int, batch_size: int = 1) -> dict:
    """Token counts of `records` at `max_length`, as training will see them.

    `batch_size` is the per-device micro-batch used for the padding figure. Returns a dict:
    examples, kept, truncated, dropped (counts); truncated_share, dropped_share (fractions of examples);
    total_tokens (real tokens of kept examples), loss_tokens (tokens with loss), mean_tokens, max_tokens;
    padded_tokens (micro-batches padded to their longest), efficiency_unpacked (real / padded),
    efficiency_max_length (real / (kept × max_length)); packed_sequences, efficiency_packed
    (real / (packed_sequences × max_length)); mean_tokens_per_sequence_unpacked (padded / kept).
    """
    n = truncated = dropped = loss_tokens = 0
    lengths: list[int] = []  # tokens of each kept example, in order
    for record in records:
        ex = encode_record(tokenizer, record, max_length)
        n += 1
        truncated += ex.truncated
        learnable = sum(ex.loss_mask[1:])  # position 0 has no preceding token to predict it from
        if learnable == 0:
            dropped += 1
            continue
        lengths.append(ex.n_tokens)
        loss_tokens += learnable
    real = sum(lengths)
    padded = padded_tokens(lengths, batch_size)
    packed = len(pack_examples(lengths, max_length))
    kept = len(lengths)
    return {
        "examples": n, "kept": kept, "truncated": truncated, "dropped": dropped,
        "truncated_share": _ratio(truncated, n), "dropped_share": _ratio(dropped, n),
        "total_tokens": real, "loss_tokens": loss_tokens,
        "mean_tokens": _ratio(real, kept), "max_tokens": max(lengths, default=0),
        "padded_tokens": padded, "efficiency_unpacked": _ratio(real, padded),
        "efficiency_max_length": _ratio(real, kept * max_length),
        "packed_sequences": packed, "efficiency_packed": _ratio(real, packed * max_length),
        "mean_tokens_per_sequence_unpacked": _ratio(padded, kept),
    }


def eta_seconds(total_steps: int, tokens_per_step: float, measured_tokens_per_second: float | None) -> float | None:
    """Seconds for the run = total_steps × tokens_per_step / throughput; None ("unknown") without a measurement.

    The throughput must count tokens the same way as tokens_per_step (padded tokens processed per second).
    """
    if measured_tokens_per_second is None or measured_tokens_per_second <= 0:
        return None
    return total_steps * tokens_per_step / measured_tokens_per_second
