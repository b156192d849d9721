"""The shared pipeline: files (or a Hub dataset) to cleaned examples and fragments with one summary."""

import json

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.data.chunking import ChunkSettings
from studio.data.fragments import CleanupOptions, parse_mapping, prepare_files


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bundled_corpus_becomes_fragments_with_a_summary(tokenizer):
    data = prepare_files(["bundled:patents"], tokenizer, ChunkSettings(), max_length=512)
    assert data.summary["documents"] == 46 and data.summary["fragments"] == len(data.fragments) > 46
    assert data.examples == [] and 0 <= data.summary["truncated_share"] <= 1


def test_mapping_override_reads_unusual_field_names(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "qa.jsonl", [{"q": "几点了", "a": "三点"}, {"q": "hi", "a": "hello"}])
    data = prepare_files([path], tokenizer, ChunkSettings(), format="prompt_completion",
                         mapping=parse_mapping("prompt=q, completion=a"))
    assert [m["content"] for m in data.examples[0]["messages"]] == ["几点了", "三点"]
    assert data.ingest.files[0].mapping == {"prompt": "q", "completion": "a"}


def test_cleanup_options_change_examples_and_report_it(tmp_path, tokenizer):
    rows = [{"messages": [{"role": "user", "content": "嗯，帮我订票"}, {"role": "assistant", "content": "好的"}]},
            {"messages": [{"role": "user", "content": "my password is x"}, {"role": "assistant", "content": "ok"}]}]
    data = prepare_files([write_jsonl(tmp_path / "chat.jsonl", rows)], tokenizer, ChunkSettings(),
                         cleanup=CleanupOptions(fillers=("嗯",), sensitive=("password",)))
    assert len(data.examples) == 1 and data.examples[0]["messages"][0]["content"] == "帮我订票"
    assert data.cleanup["sensitive words"]["changed_records"] == 1
    assert data.cleanup["filler words"]["changed_turns"] == 1 and data.cleanup["filler words"]["examples"]


@pytest.mark.parametrize("text", ["instruction", "=x", "a=b, c"])
def test_bad_mapping_says_how_to_write_it(text):
    with pytest.raises(ValueError, match="our_field=your_field"):
        parse_mapping(text)


def test_a_local_dataset_folder_through_the_hub_code_path(tmp_path, tokenizer):
    folder = tmp_path / "hub-like"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", [{"text": "步骤1：测试。\n\n内容。"}])
    data = prepare_files([], tokenizer, ChunkSettings(), hub_dataset=str(folder))
    assert data.summary["documents"] == 1 and data.fragments
