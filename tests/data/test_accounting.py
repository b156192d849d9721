"""Every record of a training set counted by `count_records` (studio.data.accounting), the one count the Configure
tab and the worker share: read, of another format (a refusal), or fitting no format (dropped), always adding up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.data.accounting import NO_RECORDS, OTHER_FORMAT, count_records, read_for_training
from studio.data.ingest import ingest_paths


def chat(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]}


def mixed_file(folder: Path, chats: int = 6, texts: int = 2, broken: tuple[str, ...] = ()) -> str:
    lines = [json.dumps(chat(i)) for i in range(chats)] + [json.dumps({"text": f"fragment {i}."}) for i in range(texts)]
    path = folder / "mixed.jsonl"
    path.write_text("\n".join([*lines, *broken]) + "\n", encoding="utf-8")
    return str(path)


def adds_up(count) -> bool:
    return count.records == count.read + count.other + count.invalid


def test_records_of_the_other_kind_under_an_explicit_format_refuse_with_their_kind(tmp_path):
    _, count = read_for_training(mixed_file(tmp_path), "messages")
    assert (count.records, count.read, count.usable, count.other_formats) == (8, 6, {"messages": 6}, {"text": 2})
    assert count.refusal == OTHER_FORMAT and count.suggested_format == "text" and adds_up(count)
    _, as_text = read_for_training(mixed_file(tmp_path), "text")
    assert (as_text.read, as_text.other_formats, as_text.suggested_format) == (2, {"messages": 6}, "messages")
    assert as_text.as_data() == {"format": "text", "records": 8, "read": 2, "chat_records": 0, "text_records": 2,
                                 "dropped_invalid": 0, "other_formats": {"messages": 6}}


def test_auto_reads_every_record_by_its_own_format(tmp_path):
    records, count = read_for_training(mixed_file(tmp_path), "auto")
    assert len(records) == count.read == count.records == 8 and count.usable == {"messages": 6, "text": 2}
    assert count.refusal is None and count.other_formats == {}


def test_records_that_fit_no_format_are_dropped_and_counted_not_refused(tmp_path):
    broken = ("not json", json.dumps({"foo": 1}), json.dumps({"messages": [{"role": "user", "content": "q"}]}))
    path = mixed_file(tmp_path, texts=0, broken=broken)
    for fmt in ("messages", "auto"):
        _, count = read_for_training(path, fmt)
        assert (count.records, count.read, count.invalid, count.refusal) == (9, 6, 3, None), fmt
        assert count.problems[0].where == "line 7" and adds_up(count)


def test_a_file_wholly_of_another_format_says_which_one(tmp_path):
    path = tmp_path / "prose.jsonl"
    path.write_text("".join(json.dumps({"text": f"fragment {i}."}) + "\n" for i in range(5)), encoding="utf-8")
    result = ingest_paths([path], format="messages")
    count = count_records(result, "messages")
    assert (count.read, count.other_formats, count.invalid, count.refusal) == (0, {"text": 5}, 0, OTHER_FORMAT)
    assert "none is a messages record (5 are text)" in result.issues[0].message
    assert "choose format auto" in result.issues[0].message


def test_a_document_read_as_text_under_a_chat_format_is_another_format(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\nSome prose to train on.\n", encoding="utf-8")
    _, count = read_for_training(str(path), "messages")
    assert count.other_formats == {"text": 1} and count.refusal == OTHER_FORMAT


def test_a_set_with_nothing_usable_is_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n{\"foo\": 1}\n", encoding="utf-8")
    _, count = read_for_training(str(path), "auto")
    assert (count.records, count.invalid, count.refusal) == (2, 2, NO_RECORDS)


@pytest.mark.parametrize("fmt", ["alpaca", "prompt_completion"])
def test_chat_records_under_another_chat_format_are_of_another_format(tmp_path, fmt):
    lines = [json.dumps({"instruction": "Say hi.", "output": "hi"}), json.dumps({"prompt": "p", "completion": "c"}),
             json.dumps(chat(0))]
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, count = read_for_training(str(path), fmt)
    assert count.read == 1 and count.other == 2 and count.refusal == OTHER_FORMAT and adds_up(count)
