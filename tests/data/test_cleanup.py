"""Chat clean-up options (studio.data.cleanup): left truncation, filler words, sensitive words, and their reports."""

from __future__ import annotations

import copy

import pytest

from studio.data.cleanup import (DEFAULT_FILLERS, drop_sensitive, parse_word_list, strip_fillers, truncate_history,
                                 word_pattern)


def words(text: str) -> int:
    return len(text.split())


def conversation(*turns: str, system: str | None = "sys") -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
    return {"id": "c", "source": "f:1", "messages": messages}


def test_truncation_keeps_system_and_the_latest_whole_exchanges():
    record = conversation("u1 " * 10, "a1 " * 10, "u2 " * 10, "a2 " * 10, "u3 " * 3, "a3 " * 3, "dangling user")
    original = copy.deepcopy(record)
    (out,), report = truncate_history([record], max_tokens=40, count=words, per_message_tokens=0)
    assert record == original  # inputs are not modified
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert out["messages"][1]["content"].startswith("u2") and out["messages"][-1]["content"].startswith("a3")
    assert sum(words(m["content"]) for m in out["messages"]) <= 40
    assert report["changed_records"] == 1 and report["changed_turns"] == 3 and report["still_too_long"] == 0
    before, after = report["examples"][0]
    assert before.startswith("system: sys\nuser: u1") and "dangling" not in after


def test_truncation_leaves_short_conversations_and_text_alone():
    records = [conversation("hi", "hello"), {"id": "t", "text": "word " * 1000}]
    out, report = truncate_history(records, max_tokens=50, count=words)
    assert out == records and report == {"changed_records": 0, "changed_turns": 0, "still_too_long": 0,
                                         "examples": []}


def test_when_even_the_last_exchange_is_too_long_it_is_kept_and_counted():
    (out,), report = truncate_history([conversation("old", "old", "long " * 100, "answer")], max_tokens=20,
                                      count=words)
    assert [m["content"] for m in out["messages"]] == ["sys", "long " * 100, "answer"]
    assert report["still_too_long"] == 1 and report["changed_turns"] == 2


def test_per_message_overhead_counts():
    record = conversation("a", "b", "c", "d", system=None)  # 4 one-word turns
    assert truncate_history([record], 8, words, per_message_tokens=1)[1]["changed_records"] == 0
    (out,), _ = truncate_history([record], 7, words, per_message_tokens=1)
    assert [m["content"] for m in out["messages"]] == ["c", "d"]


def test_truncation_with_a_real_tokenizer():
    from transformers import AutoTokenizer

    from studio.assets import DEMO_MODEL_DIR

    tokenizer = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    record = conversation(*(["请帮我把这句话翻译成英文，谢谢你。" * 4, "Please translate this sentence."] * 6))
    (out,), report = truncate_history([record], max_tokens=120, count=tokenizer)
    assert report["changed_records"] == 1
    kept = sum(len(tokenizer.encode(m["content"], add_special_tokens=False)) + 4 for m in out["messages"])
    assert kept <= 120 and out["messages"][0]["role"] == "system" and out["messages"][-1]["role"] == "assistant"
    with pytest.raises(TypeError):
        truncate_history([record], 10, count=42)


@pytest.mark.parametrize("before,after", [
    ("Um, I want to, uh, book a flight.", "I want to book a flight."),
    ("嗯，我想，呃，订一张机票", "我想订一张机票"),
    ("I think uh we should", "I think we should"),
    ("Well uh.", "Well."),
    ("Um, uh, so what", "So what"),
    ("umbrella under hummus", "umbrella under hummus"),  # whole words only in Latin text
    ("嗯嗯好的", "好的"),
    ("hello 嗯 world", "hello world"),
    ("嗯。", "嗯。"),  # nothing would be left: kept as it was
])
def test_strip_default_fillers(before, after):
    (out,), _ = strip_fillers([conversation(before, "ok", system=None)])
    assert out["messages"][0]["content"] == after


def test_filler_list_is_editable_and_roles_can_be_chosen():
    record = conversation("那个，我要那个红色的", "like, sure", system=None)
    (out,), report = strip_fillers([record], ["那个", "like"], roles=["user"])
    assert out["messages"][0]["content"] == "我要红色的"
    assert out["messages"][1]["content"] == "like, sure"
    assert report == {"changed_records": 1, "changed_turns": 1,
                      "examples": [("那个，我要那个红色的", "我要红色的")]}
    assert strip_fillers([record], [])[0] == [record]


def test_filler_report_counts_and_caps_examples():
    records = [conversation(f"um question {i}", "uh answer") for i in range(5)] + [{"id": "t", "text": "um"}]
    out, report = strip_fillers(records)
    assert report["changed_records"] == 5 and report["changed_turns"] == 10 and len(report["examples"]) == 3
    assert out[-1] == {"id": "t", "text": "um"}
    assert "um" in DEFAULT_FILLERS and "嗯" in DEFAULT_FILLERS


def test_drop_sensitive_words_in_chat_and_text():
    records = [conversation("我的身份证号是多少", "不知道"), {"id": "t1", "text": "Contains a Password here"},
               {"id": "t2", "text": "A passwordless login and a classic"}, conversation("fine", "fine")]
    records[0]["id"], records[3]["id"] = "c1", "c2"
    kept, report = drop_sensitive(records, ["身份证", "password", "ass"])
    assert [r["id"] for r in kept] == ["t2", "c2"]
    assert report["dropped_ids"] == ["c1", "t1"] and report["changed_records"] == 2
    assert report["examples"][1] == ("Contains a Password here", "dropped: contains 'Password'")


def test_parse_word_list_and_pattern():
    assert parse_word_list("嗯\n那个，um, like、 \n\num") == ["嗯", "那个", "um", "like"]
    assert word_pattern([]) is None and word_pattern(["  "]) is None
    pattern = word_pattern(["c++", "a.b"])
    assert pattern.search("use c++ now") and not pattern.search("axb")
