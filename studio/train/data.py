"""The worker's data: a recipe's data set read, encoded as training sees it, split, mixed and (optionally) packed.

Records are read by the same ingestion as the Data tab and encoded by `studio.data.templates.encode_record` (loss on
assistant tokens for chat, on every token for raw text), so the Data tab's rendered view is what is trained. The
train/eval split uses `estimate.schedule.train_eval_split`, so the step counts shown in the Configure tab are the
ones the run logs.

Choices where the issue is silent:
- a raw-text record longer than max_length is cut into consecutive windows, each an example of its own (a chat is
  truncated instead: its later turns make no sense without the earlier ones);
- every record is counted by `studio.data.accounting.read_for_training`, as the Configure tab counts it: records
  of another format than data.format refuse the run before the model loads (DataError, with the figures), records
  that fit no format are dropped and counted;
- an example with nothing left to learn after truncation (no loss token after position 0) is dropped and counted,
  as the token budget does;
- the eval set is drawn at random (seeded) before mixing, and general data is mixed into the training part only,
  so eval loss measures the user's own task;
- `mix_general_ratio` is the share of general examples in the mixed training set:
  k = round(ratio / (1 - ratio) × n_train), drawn without replacement while the general set lasts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from studio.config import Recipe
from studio.data.accounting import OTHER_FORMAT, RecordCount, read_for_training
from studio.data.templates import encode_record
from studio.estimate.budget import pack_examples
from studio.estimate.schedule import train_eval_split


class DataError(ValueError):
    """The data set cannot be trained on; the message names the file and what to do, `data` holds the figures."""

    def __init__(self, message: str, data: dict | None = None):
        super().__init__(message)
        self.data = data or {}


@dataclass(frozen=True)
class Example:
    id: str
    input_ids: list[int]
    labels: list[int]  # -100 where no loss
    source: str = "task"  # "task" or "general"
    record: int = 0  # index of the record it came from (windows of one document share it)

    def as_item(self, index: int) -> dict[str, Any]:
        return {"input_ids": self.input_ids, "labels": self.labels, "index": index}


@dataclass
class TrainData:
    train: list  # Examples, or lists of Examples (packed rows)
    eval: list
    train_examples: list[Example]
    info: dict[str, Any] = field(default_factory=dict)
    count: RecordCount | None = None  # the data set's records as read (the first problems with them)

    def ids_of(self, indices: list[int]) -> list[str]:
        """Record ids of the training items at these indices (a packed row names all of its examples)."""
        out: list[str] = []
        for i in indices:
            item = self.train[i]
            out += [e.id for e in item] if isinstance(item, list) else [item.id]
        return out


_FORMAT_NAMES = {"messages": "chat (messages)", "sharegpt": "chat (ShareGPT)"}


def refusal_message(path: str, count: RecordCount) -> str:
    """Why the data set cannot train under its data.format, with the figures and what to do."""
    if count.refusal == OTHER_FORMAT:
        kinds = ", ".join(f"{n} {_FORMAT_NAMES.get(f, f)}" for f, n in count.other_formats.items())
        return (f"{path}: {count.other} of {count.records} records are not {count.format} records ({kinds}), so "
                f"data.format {count.format} would train only {count.read} of them; set data.format to auto to "
                f"train every record by its own format (or to {count.suggested_format} to train only the "
                f"{count.suggested_format} ones), or split the data set by format")
    detail = "; ".join(f"{i.file} {i.where}: {i.message}".strip() for i in count.problems)
    return f"{path}: no usable records{': ' + detail if detail else ''}"


def read_records(path: str, fmt: str) -> tuple[list[dict], RecordCount]:
    """Records of a data file and the count of all of them; a set that cannot train as it is is refused."""
    records, count = read_for_training(path, fmt)
    if count.refusal:
        raise DataError(refusal_message(path, count), count.as_data())
    return records, count


def records_line(info: dict[str, Any], count: RecordCount | None = None) -> str:
    """Where every record of the data set went, for the worker's log."""
    dropped = info.get("dropped_invalid", 0) + info.get("dropped_empty", 0)
    line = (f"records: {info['records']:,} in the data set, {info['trained_records']:,} trained "
            f"({info['chat_records']:,} chat, {info['text_records']:,} text), {dropped:,} dropped")
    if info.get("dropped_invalid"):
        first = count.problems[0] if count and count.problems else None
        where = f" (the first: {first.file} {first.where}: {first.message})" if first else ""
        line += f"; {info['dropped_invalid']:,} fit no format{where}"
    if info.get("dropped_empty"):
        line += f"; {info['dropped_empty']:,} had nothing left to learn after truncation to data.max_length"
    return line


def _text_windows(tokenizer, record: dict, rid: str, n: int, max_length: int, source: str) -> list[Example]:
    """A raw-text record as consecutive windows of max_length tokens (the last may be shorter): continued
    pre-training must see the whole document, not only its first max_length tokens."""
    ids = encode_record(tokenizer, record, None).input_ids
    starts = range(0, len(ids), max_length)
    windows = [ids[i:i + max_length] for i in starts]
    return [Example(rid if len(windows) == 1 else f"{rid}#w{k}", w, list(w), source, n)
            for k, w in enumerate(windows) if len(w) > 1]


def encode_all(records: list[dict], tokenizer, max_length: int, source: str = "task") -> tuple[list[Example], dict]:
    """Encoded examples and counts: examples, truncated (chats cut at max_length), split (raw texts cut into
    several windows), dropped (nothing left to learn)."""
    examples, truncated, split, dropped = [], 0, 0, 0
    for n, record in enumerate(records):
        rid = str(record.get("id", n))
        if "messages" not in record:
            windows = _text_windows(tokenizer, record, rid, n, max_length, source)
            split += len(windows) > 1
            dropped += not windows
            examples += windows
            continue
        ex = encode_record(tokenizer, record, max_length)
        truncated += ex.truncated
        if sum(ex.loss_mask[1:]) == 0:  # position 0 has nothing before it to be predicted from
            dropped += 1
            continue
        labels = [t if m else -100 for t, m in zip(ex.input_ids, ex.loss_mask)]
        examples.append(Example(rid, ex.input_ids, labels, source, n))
    return examples, {"examples": len(records), "truncated": truncated, "split": split, "dropped": dropped}


def _mix(train: list[Example], general: list[Example], ratio: float, rng: random.Random) -> list[Example]:
    if ratio <= 0 or not general:
        return train
    k = min(len(general), round(ratio / (1 - ratio) * len(train)))
    mixed = train + rng.sample(general, k)
    rng.shuffle(mixed)
    return mixed


def build_train_data(recipe: Recipe, tokenizer, data_path: str, general_path: str | None = None) -> TrainData:
    """Train and eval items for the recipe: Examples, or packed rows (lists of Examples) when data.packing is on."""
    d = recipe.data
    records, count = read_records(data_path, d.format)
    examples, counts = encode_all(records, tokenizer, d.max_length)
    accounted = {**count.as_data(), "dropped_empty": counts["dropped"],
                 "trained_records": count.read - counts["dropped"]}
    if not examples:
        raise DataError(f"{data_path}: every example is empty after truncation to {d.max_length} tokens "
                        f"(nothing to learn); raise data.max_length or check the loss mask in the Data tab",
                        accounted)
    rng = random.Random(recipe.runtime.seed)
    # Split by record, so the windows of one document never sit on both sides of the eval split.
    records = sorted({e.record for e in examples})
    rng.shuffle(records)
    _, n_eval = train_eval_split(len(records), recipe)
    held_out = set(records[:n_eval])
    eval_set = [e for e in examples if e.record in held_out]
    train = [e for e in examples if e.record not in held_out]
    general: list[Example] = []
    if general_path and d.mix_general_ratio > 0:
        general, _ = encode_all(read_records(general_path, "auto")[0], tokenizer, d.max_length, source="general")
    train = _mix(train, general, d.mix_general_ratio, rng)
    info = {**accounted, "truncated": counts["truncated"], "split": counts["split"], "sequences": len(examples),
            "train": len(train), "eval": len(eval_set), "general": sum(e.source == "general" for e in train),
            "train_tokens": sum(len(e.input_ids) for e in train)}
    if d.packing:
        rows = [[train[i] for i in row] for row in pack_examples([len(e.input_ids) for e in train], d.max_length)]
        eval_rows = [[eval_set[i] for i in row] for row in pack_examples([len(e.input_ids) for e in eval_set],
                                                                          d.max_length)]
        info.update(packed_rows=len(rows))
        return TrainData(rows, eval_rows, train, info, count)
    return TrainData(train, eval_set, train, info, count)


class ItemDataset:
    """A map-style dataset over TrainData items that remembers each item's index (for the spike alert)."""

    def __init__(self, items: list):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"item": self.items[index], "index": index}


def make_collator(pad_id: int, packing: bool, mask_kind: str):
    """Batch builder for ItemDataset items: padded examples, or packed rows with a block-diagonal mask."""
    import torch

    from studio.data.packing import pack_collate, pad_collate

    def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
        if packing:
            rows = [[{"input_ids": e.input_ids, "labels": e.labels} for e in b["item"]] for b in batch]
            out = pack_collate(rows, pad_id, mask_kind)
            n_real = sum(len(e.input_ids) for b in batch for e in b["item"])
        else:
            out = pad_collate([{"input_ids": b["item"].input_ids, "labels": b["item"].labels} for b in batch], pad_id)
            n_real = sum(len(b["item"].input_ids) for b in batch)
        out["sample_index"] = torch.tensor([b["index"] for b in batch])
        out["n_real_tokens"] = torch.tensor(n_real)
        return out

    return collate
