"""The worker's data: split sizes as the Configure tab computes them, loss masks, mix-in, packing, bad data."""

from __future__ import annotations

import json

import pytest

from studio.config import ModelConfig, Recipe
from studio.estimate.schedule import train_eval_split
from studio.models import load_tokenizer
from studio.recipe_io import recipe_from_dict
from studio.assets import resolve_bundled
from studio.train.data import DataError, build_train_data, make_collator, ItemDataset

CHAT = str(resolve_bundled("bundled:intent_chat"))


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(ModelConfig())


def recipe(**data) -> Recipe:
    return recipe_from_dict({"data": {"dataset": CHAT, **data}})


def test_split_matches_the_configure_tab_and_is_seeded(tokenizer):
    r = recipe(eval_split=0.1, max_length=256)
    data = build_train_data(r, tokenizer, CHAT)
    assert (len(data.train), len(data.eval)) == train_eval_split(396, r)
    again = build_train_data(r, tokenizer, CHAT)
    assert [e.id for e in again.eval] == [e.id for e in data.eval]
    assert not {e.id for e in data.train} & {e.id for e in data.eval}


def test_loss_only_on_assistant_tokens(tokenizer):
    data = build_train_data(recipe(eval_split=0.0), tokenizer, CHAT)
    example = data.train[0]
    learned = tokenizer.decode([t for t, label in zip(example.input_ids, example.labels) if label != -100])
    record = json.loads(open(CHAT, encoding="utf-8").readline())
    answer = record["messages"][-1]["content"]
    assert answer in learned and record["messages"][0]["content"] not in learned


def test_general_data_is_mixed_into_training_only_at_the_ratio(tokenizer, tmp_path):
    general = tmp_path / "general.jsonl"
    general.write_text("".join(json.dumps({"id": f"g{i}", "text": f"general text number {i}."}) + "\n"
                               for i in range(200)), encoding="utf-8")
    r = recipe(eval_split=0.1, mix_general_ratio=0.2, mix_general_dataset=str(general))
    data = build_train_data(r, tokenizer, CHAT, str(general))
    n_general = sum(e.source == "general" for e in data.train)
    assert n_general == round(0.2 / 0.8 * 356) and data.info["general"] == n_general
    assert all(e.source == "task" for e in data.eval)
    assert n_general / len(data.train) == pytest.approx(0.2, abs=0.01)


def test_packing_builds_rows_within_max_length_and_the_collator_counts_real_tokens(tokenizer):
    data = build_train_data(recipe(eval_split=0.0, packing=True, max_length=256), tokenizer, CHAT)
    assert data.info["packed_rows"] == len(data.train) < 396
    assert all(sum(len(e.input_ids) for e in row) <= 256 for row in data.train)
    assert sorted(e.id for row in data.train for e in row) == sorted(e.id for e in data.train_examples)
    batch = make_collator(tokenizer.pad_token_id, True, "bool")([ItemDataset(data.train)[i] for i in (0, 1)])
    assert batch["attention_mask"].dim() == 4
    assert int(batch["n_real_tokens"]) == sum(len(e.input_ids) for row in data.train[:2] for e in row)
    assert data.ids_of([0]) == [e.id for e in data.train[0]]


def test_unusable_data_is_refused_with_the_file_named(tokenizer, tmp_path):
    empty = tmp_path / "bad.jsonl"
    empty.write_text("not json\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.jsonl"):
        build_train_data(recipe(), tokenizer, str(empty))
    with pytest.raises(DataError, match="max_length"):
        build_train_data(recipe(max_length=16), tokenizer, CHAT)


def test_a_long_raw_text_is_trained_whole_in_windows(tokenizer):
    patents = str(resolve_bundled("bundled:patents"))
    data = build_train_data(recipe(format="text", max_length=64, eval_split=0.0), tokenizer, patents)
    first = json.loads(open(patents, encoding="utf-8").readline())
    windows = [e for e in data.train if e.id.split("#")[0] == first["id"]]
    full = tokenizer(first["text"])["input_ids"]
    assert len(windows) > 3 and all(len(e.input_ids) <= 64 for e in windows)
    assert sum(len(e.input_ids) for e in windows) >= len(full)  # nothing cut away (+ EOS)
    assert all(e.labels == e.input_ids for e in windows)  # loss on every token
    assert data.info["split"] > 0 and data.info["truncated"] == 0


def test_windows_of_one_document_stay_on_one_side_of_the_eval_split(tokenizer):
    patents = str(resolve_bundled("bundled:patents"))
    data = build_train_data(recipe(format="text", max_length=64, eval_split=0.2), tokenizer, patents)
    assert data.eval and not {e.record for e in data.train} & {e.record for e in data.eval}


def test_a_mixed_set_is_refused_under_messages_and_trained_whole_under_auto(tokenizer, tmp_path):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(open(CHAT, encoding="utf-8").read() + "".join(
        json.dumps({"text": f"A fragment of prose number {i}."}) + "\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(DataError, match=r"20 of 416 records are not messages records \(20 text\)") as refused:
        build_train_data(recipe(format="messages"), tokenizer, str(mixed))
    assert refused.value.data["other_formats"] == {"text": 20} and refused.value.data["read"] == 396
    info = build_train_data(recipe(format="auto"), tokenizer, str(mixed)).info
    assert (info["records"], info["trained_records"], info["chat_records"], info["text_records"]) == (416, 416, 396, 20)
    assert info["train"] + info["eval"] == 416 and info["dropped_invalid"] == info["dropped_empty"] == 0
