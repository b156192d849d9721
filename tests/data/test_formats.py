"""Format detection, field mapping and conversion to the internal shape (studio.data.formats)."""

from __future__ import annotations

import pytest

from studio.data.formats import RecordError, check_mapping, convert, detect_format


@pytest.mark.parametrize("row,expected", [
    ({"text": "t"}, ("text", {"text": "text"})),
    ({"Content": "t", "url": "u"}, ("text", {"text": "Content"})),
    ({"body": "t"}, ("text", {"text": "body"})),
    ({"instruction": "i", "input": "", "output": "o"},
     ("alpaca", {"instruction": "instruction", "input": "input", "output": "output"})),
    ({"Instruction": "i", "Output": "o", "history": []},
     ("alpaca", {"instruction": "Instruction", "output": "Output", "history": "history"})),
    ({"messages": [{"role": "user", "content": "q"}]}, ("messages", {"messages": "messages"})),
    ({"conversations": [{"from": "human", "value": "q"}]}, ("sharegpt", {"messages": "conversations"})),
    ({"conversations": [{"role": "user", "content": "q"}]}, ("messages", {"messages": "conversations"})),
    ({"prompt": "p", "completion": "c"}, ("prompt_completion", {"prompt": "prompt", "completion": "completion"})),
    ({"question": "p", "answer": "c", "id": 3},
     ("prompt_completion", {"prompt": "question", "completion": "answer", "id": "id"})),
    ({"query": "p", "response": "c", "system": "s"},
     ("prompt_completion", {"prompt": "query", "completion": "response", "system": "system"})),
    ({"input": "p", "output": "c"}, ("prompt_completion", {"prompt": "input", "completion": "output"})),
    ({"foo": "x"}, ("unknown", {})),
])
def test_detect_each_format(row, expected):
    assert detect_format([row]) == expected


def test_detection_follows_the_majority_and_ignores_non_objects():
    rows = [{"text": "a"}, {"instruction": "i", "output": "o"}, {"instruction": "j", "output": "p"}, [1], "s"]
    assert detect_format(rows)[0] == "alpaca"
    assert detect_format([]) == ("unknown", {})


def test_a_record_with_both_chat_and_text_is_chat():
    assert detect_format([{"messages": [{"role": "user", "content": "q"}], "text": "rendered"}])[0] == "messages"


def test_a_mapping_selects_the_format_and_fills_in_the_rest():
    rows = [{"query": "q", "response": "r", "input": "extra"}]
    assert detect_format(rows, {"instruction": "query", "output": "response"}) == (
        "alpaca", {"instruction": "query", "input": "input", "output": "response"})
    assert detect_format([{"x": "a"}], {"text": "x"}) == ("text", {"text": "x"})


def test_check_mapping_names_what_is_wrong():
    rows = [{"a": 1}]
    assert "does not have" in check_mapping(rows, "text", {"text": "a", "colour": "b"})
    assert "no field for completion" in check_mapping(rows, "prompt_completion", {"prompt": "a"})
    assert "fields found: a" in check_mapping(rows, "text", {"text": "b"})
    assert check_mapping(rows, "text", {"text": "a"}) == ""


def test_convert_alpaca_with_history_and_no_input():
    row = {"instruction": "Now?", "output": "Yes.", "history": [["Hi", "Hello"]], "tag": "x", "system": ""}
    body = convert(row, "alpaca", {"instruction": "instruction", "output": "output", "history": "history",
                                   "system": "system"})
    assert body == {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                                 {"role": "user", "content": "Now?"}, {"role": "assistant", "content": "Yes."}],
                    "tag": "x"}


def test_convert_chat_roles_content_parts_and_system_field():
    row = {"conversations": [{"from": "HUMAN", "value": "q"}, {"from": "gpt", "value": [{"type": "text", "text": "a"}]},
                             {"from": "system", "value": ""}],
           "system": "Be kind."}
    body = convert(row, "sharegpt", {"messages": "conversations", "system": "system"})
    assert body == {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "q"},
                                 {"role": "assistant", "content": "a"}]}


def test_convert_keeps_other_fields_but_not_reserved_ones():
    body = convert({"text": "t", "id": "x", "source": "s", "page": 2, "messages": None}, "text", {"text": "text"})
    assert body == {"text": "t", "page": 2}


def test_non_string_values_are_written_as_text():
    body = convert({"prompt": 12, "completion": {"intent": "x"}}, "prompt_completion",
                   {"prompt": "prompt", "completion": "completion"})
    assert body["messages"][0]["content"] == "12"
    assert body["messages"][1]["content"] == '{"intent": "x"}'


@pytest.mark.parametrize("row,fmt,mapping,says", [
    ({"text": "   "}, "text", {"text": "text"}, "is empty"),
    ({"text": {"a": 1}}, "text", {"text": "text"}, "holds dict"),
    ({"instruction": "", "output": "o"}, "alpaca", {"instruction": "instruction", "output": "output"}, "are empty"),
    ({"instruction": "i", "output": None}, "alpaca", {"instruction": "instruction", "output": "output"}, "missing"),
    ({"messages": [{"role": "user", "content": "q"}]}, "messages", {"messages": "messages"}, "no assistant turn"),
    ({"messages": [{"role": "bot2", "content": "q"}]}, "messages", {"messages": "messages"}, "'bot2'"),
    ({"messages": ["q"]}, "messages", {"messages": "messages"}, "turn 1 is not an object"),
    ({"messages": "[not json"}, "messages", {"messages": "messages"}, "not valid JSON"),
    ({"messages": []}, "messages", {"messages": "messages"}, "empty"),
    ({"instruction": "i", "output": "o", "history": "x"}, "alpaca",
     {"instruction": "instruction", "output": "output", "history": "history"}, "pairs"),
])
def test_unusable_records_raise_with_a_reason(row, fmt, mapping, says):
    with pytest.raises(RecordError, match=says):
        convert(row, fmt, mapping)
