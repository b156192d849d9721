"""Reading a prompt set: both record shapes, references, schemas, and every bad line named with what to do."""

import json

from studio.evaluate.prompts import read_prompts


def _write(path, lines):
    path.write_text("".join((l if isinstance(l, str) else json.dumps(l, ensure_ascii=False)) + "\n" for l in lines),
                    encoding="utf-8")
    return path


def test_the_bundled_prompt_set_reads_whole():
    prompt_set = read_prompts("bundled:intent_eval")
    assert len(prompt_set.prompts) == 66 and prompt_set.issues == []
    first = prompt_set.prompts[0]
    assert first.id == "intent-eval-001" and first.source == "intent_eval.jsonl:1"
    assert [m["role"] for m in first.messages] == ["system", "user"] and first.text == "明天6点叫醒我"
    assert json.loads(first.reference)["intent"] == "set_alarm" and first.json_schema["type"] == "object"


def test_prompt_messages_references_and_ids(tmp_path):
    path = _write(tmp_path / "set.jsonl", [
        {"prompt": "hi"},
        {"id": 7, "messages": [{"role": "user", "content": "2+2?"}], "reference": {"answer": 4}},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        "",
    ])
    prompt_set = read_prompts(path)
    assert prompt_set.issues == []
    hi, sums, chat = prompt_set.prompts
    assert hi.messages == [{"role": "user", "content": "hi"}] and hi.reference is None and hi.id == "set-1"
    assert sums.id == "7" and sums.reference == '{"answer": 4}'
    assert chat.messages == [{"role": "user", "content": "q"}] and chat.reference == "a"  # a finished example


def test_bad_lines_are_skipped_with_file_line_and_advice(tmp_path):
    path = _write(tmp_path / "bad.jsonl", [
        {"prompt": "fine", "id": "a"},
        '{"prompt": "cut',
        '["not", "an", "object"]',
        {"reference": "x"},
        {"messages": [{"role": "bot", "content": "x"}]},
        {"messages": [{"role": "system", "content": "s"}]},
        {"prompt": "p", "json_schema": {"type": "text"}},
        {"prompt": "p", "reference": "r", "json_schema": {"type": "string", "format": "date"}},
        {"prompt": "again", "id": "a"},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "reference": "r"},
    ])
    prompt_set = read_prompts(path)
    assert [p.id for p in prompt_set.prompts] == ["a", "bad-8", "a-line9", "bad-10"]
    by_line = {i.where: (i.severity, i.message) for i in prompt_set.issues}
    assert by_line["line 2"][0] == "error" and "not valid JSON" in by_line["line 2"][1]
    assert "expected a JSON object" in by_line["line 3"][1]
    assert 'give "prompt"' in by_line["line 4"][1]
    assert "needs a role of system, user, assistant" in by_line["line 5"][1]
    assert "no user message" in by_line["line 6"][1]
    assert "unknown type 'text'" in by_line["line 7"][1] and "skipped" in by_line["line 7"][1]
    assert by_line["line 8"] == ("warning", "json_schema keywords not checked (the rest is): $: format")
    assert by_line["line 9"][0] == "warning" and "'a-line9'" in by_line["line 9"][1]
    assert by_line["line 10"][0] == "warning" and prompt_set.prompts[-1].reference == "r"
    assert all(i.file == "bad.jsonl" for i in prompt_set.issues)
    assert len(prompt_set.errors) == 6


def test_an_empty_or_unusable_file_says_so(tmp_path):
    empty = read_prompts(_write(tmp_path / "empty.jsonl", []))
    assert not empty.prompts and "empty file" in empty.errors[0].message
    useless = read_prompts(_write(tmp_path / "useless.jsonl", [{"text": "raw"}]))
    assert not useless.prompts and useless.errors[-1].message.startswith("no usable prompts")
    missing = read_prompts(tmp_path / "missing.jsonl")
    assert "cannot be read" in missing.errors[0].message
