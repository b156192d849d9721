"""Batches for training: encoded examples padded side by side, or packed several to a row without cross-talk.

Owns the collate step between encoded examples (`input_ids` plus `labels`, -100 where a token has no loss) and the
model: `pad_collate` for one example per row, `pack_collate` for rows that concatenate several examples, with the
attention mask each attention implementation needs (`mask_kind_for`). Which examples share a row is decided by
`studio.estimate.budget.pack_examples` (next-fit in order, whole examples only), so the budget's packing figures are
the rows training builds; `group_rows` applies it to example dicts.

A packed row must give every example the loss it would have alone:
- attention is block-diagonal causal: a token sees earlier tokens of its own example only;
- `position_ids` restart at 0 at each example, so rotary positions match the unpacked run;
- the label of each example's first token is -100. The causal-LM loss shifts labels by one across the whole row,
  so that label is what the last token of the previous example would be asked to predict. Alone, an example's
  first label is never predicted either (nothing precedes it), so this removes no loss the unpacked run has.

transformers 5 hands a 4D `attention_mask` to the attention kernels unchanged (`masking_utils.
_preprocess_mask_arguments` returns early on any 4D tensor), so the masks built here are the masks applied. SDPA
takes a bool mask (True = may attend); eager attention adds the mask to the scores, so it needs 0 / large negative
floats; flash_attention_2 takes no mask and finds example boundaries where `position_ids` restart at 0.

Torch is imported inside the functions so that importing the studio stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from studio.estimate.budget import pack_examples

if TYPE_CHECKING:
    import torch

IGNORE_INDEX = -100  # label value the cross-entropy loss skips

# Attention implementation (transformers' `attn_implementation`) → the mask `pack_collate` must build for it.
_MASK_KINDS = {"sdpa": "bool", "eager": "additive", "flash_attention_2": "none"}


def mask_kind_for(attn_implementation: str) -> str:
    """The `mask_kind` of `pack_collate` for a transformers attention implementation."""
    try:
        return _MASK_KINDS[attn_implementation]
    except KeyError:
        raise ValueError(f"packing supports attn_implementation {sorted(_MASK_KINDS)}, "
                         f"not {attn_implementation!r}") from None


def group_rows(examples: Sequence[dict], max_length: int) -> list[list[dict]]:
    """Examples grouped into packed rows of at most max_length tokens, as `pack_examples` decides."""
    lengths = [len(ex["input_ids"]) for ex in examples]
    return [[examples[i] for i in row] for row in pack_examples(lengths, max_length)]


def pad_collate(examples: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """One example per row, right-padded to the longest: input_ids, labels (-100 on padding), attention_mask."""
    import torch

    width = max(len(ex["input_ids"]) for ex in examples)
    input_ids, labels, attention = [], [], []
    for ex in examples:
        pad = width - len(ex["input_ids"])
        input_ids.append(list(ex["input_ids"]) + [pad_id] * pad)
        labels.append(list(ex["labels"]) + [IGNORE_INDEX] * pad)
        attention.append([1] * len(ex["input_ids"]) + [0] * pad)
    return {"input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(attention, dtype=torch.long)}


def _pack_row(examples: list[dict], width: int, pad_id: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """One packed row padded to width: input ids, labels, position ids, segment ids (1, 2, … per example; 0 = pad)."""
    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    segments: list[int] = []
    for k, ex in enumerate(examples, start=1):
        n = len(ex["input_ids"])
        ids += ex["input_ids"]
        labels += [IGNORE_INDEX, *ex["labels"][1:]][:n]  # no loss across the boundary (module docstring)
        positions += range(n)
        segments += [k] * n
    pad = width - len(ids)
    # Padding continues as a segment of its own with positions 0, 1, …: flash_attention_2 then sees it as one more
    # (lossless) sequence instead of a continuation of the last example.
    return ids + [pad_id] * pad, labels + [IGNORE_INDEX] * pad, positions + list(range(pad)), segments + [0] * pad


def block_causal_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """[B,1,L,L] bool, True = may attend: token i sees j iff same example and j <= i; padding sees itself only.

    Padding keeps its diagonal so that no row of the softmax is fully masked (that row would be NaN).
    """
    import torch

    width = segment_ids.shape[1]
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    causal = torch.ones(width, width, dtype=torch.bool, device=segment_ids.device).tril()
    real = (segment_ids > 0)[:, :, None]
    diagonal = torch.eye(width, dtype=torch.bool, device=segment_ids.device)
    return ((same & causal & real) | diagonal)[:, None]


def pack_collate(sequences: list[list[dict]], pad_id: int, mask_kind: str) -> dict[str, torch.Tensor]:
    """Packed rows (each a list of examples) right-padded to the longest row.

    Returns input_ids, labels (-100 on padding and on each example's first token), position_ids (restarting at 0
    per example) and, unless mask_kind is "none", a 4D attention_mask: "bool" (True = may attend) or "additive"
    (float32, 0 where allowed, the most negative float32 where not).
    """
    import torch

    if mask_kind not in ("bool", "additive", "none"):
        raise ValueError(f"mask_kind must be 'bool', 'additive' or 'none', not {mask_kind!r}")
    width = max(sum(len(ex["input_ids"]) for ex in row) for row in sequences)
    ids, labels, positions, segments = zip(*(_pack_row(row, width, pad_id) for row in sequences))
    batch = {"input_ids": torch.tensor(ids, dtype=torch.long),
             "labels": torch.tensor(labels, dtype=torch.long),
             "position_ids": torch.tensor(positions, dtype=torch.long)}
    if mask_kind == "none":
        return batch
    allowed = block_causal_mask(torch.tensor(segments, dtype=torch.long))
    if mask_kind == "bool":
        batch["attention_mask"] = allowed
    else:
        # Eager attention adds this to the scores; the float32 minimum (not -inf) matches what transformers builds.
        zeros = torch.zeros(allowed.shape, dtype=torch.float32)
        batch["attention_mask"] = zeros.masked_fill(~allowed, torch.finfo(torch.float32).min)
    return batch
