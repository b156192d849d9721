"""Hierarchical chunking (studio.data.chunking) with the bundled tokenizer: the invariants of issue 3 as property
tests over mixed Chinese/English documents, plus fixed cases for the hard split, the overlap rules and the records."""

from __future__ import annotations

import hashlib
import json
import re
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.data.chunking import ChunkSettings, chunk_document, chunk_records
from studio.data.fragment_stats import summarize_fragments
from studio.data.sentences import sentence_ends

ID = re.compile(r"^(?P<doc>.+)-s(?P<s>\d+)-p(?P<p>\d+)-f(?P<f>\d+)$")


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from studio.assets import DEMO_MODEL_DIR

    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def sections_of(fragments: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for fragment in fragments:
        groups.setdefault((fragment["doc"], fragment["section"]), []).append(fragment)
    return groups


def rebuild(group: list[dict]) -> str:
    """The section as the fragments show it; gaps (only possible without overlap) are filled with spaces."""
    chars = [" "] * group[-1]["end"]
    for fragment in group:
        chars[fragment["start"]:fragment["end"]] = fragment["text"]
    return "".join(chars)


def check_invariants(document: dict, fragments: list[dict], limits: ChunkSettings, tokenizer) -> None:
    """Every rule that can be read off one document's fragments: the section is the unit that is cut."""
    groups = sections_of(fragments)
    assert list(groups) == sorted(groups, key=lambda key: key[1])  # document order
    rebuilt = []
    for group in groups.values():
        assert [f["fragment"] for f in group] == list(range(len(group)))
        section = rebuild(group)
        assert section == section.strip() and section.strip()
        for i, fragment in enumerate(group):
            assert fragment["text"] == section[fragment["start"]:fragment["end"]]  # a substring, where it says
            assert fragment["n_tokens"] == count(tokenizer, fragment["text"]) <= limits.max_tokens
            if i < len(group) - 1:
                assert fragment["n_tokens"] >= limits.min_tokens
            assert ID.match(fragment["id"]).group("p", "f") == (str(fragment["paragraph"]), str(i))
        assert group[0]["start"] == 0 and group[-1]["end"] == len(section) and group[0]["paragraph"] == 0
        for before, after in pairwise(group):
            assert before["start"] < after["start"] and before["end"] < after["end"]  # in order, moving forward
            assert before["paragraph"] <= after["paragraph"]
            if limits.overlap_tokens:
                assert after["start"] < before["end"]  # consecutive fragments share text: no character is missed
            else:
                assert not section[before["end"]:after["start"]].strip()
        rebuilt.append(section)
    # Nothing lost across the whole document: every non-space character is in some section, in order.
    assert "".join("".join(rebuilt).split()) == "".join(document["text"].split())
    for key in set(document) - {"id", "text"}:
        assert all(f[key] == document[key] for f in fragments)


# Generated documents: CJK sentences, English sentences, numbers, rare 4-byte characters, headings, paragraphs.
_HAN = "本发明涉及一种温度控制方法通过传感器采集数据并计算偏差值压缩比设定为倍当实测超过时自动补偿模块输出滤波器"
_WORDS = ["the", "valve", "sensor", "opens", "pressure", "3.5", "mm", "e.g.", "controller", "loop", "Fig.", "2"]
_han_sentence = st.tuples(st.text(alphabet=_HAN + "，、𠀀😀", min_size=1, max_size=60),
                          st.sampled_from("。！？；…")).map("".join)
_latin_sentence = st.tuples(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=25).map(" ".join),
                            st.sampled_from([". ", "! ", "? ", ".\n", " "])).map("".join)
_paragraph = st.lists(st.one_of(_han_sentence, _latin_sentence), min_size=1, max_size=12).map("".join)
_heading = st.sampled_from(["# 概述", "## Background", "步骤1：采集数据", "第2步：计算", "Step 3: Filter"])
_block = st.one_of(_paragraph, _paragraph, _paragraph, _heading)
_document = st.tuples(st.lists(_block, min_size=1, max_size=8), st.sampled_from(["\n\n", "\n", "\r\n\r\n", "\n \n"])
                      ).map(lambda parts: parts[1].join(parts[0]))


def _window(max_tokens: int, overlap: float, low_share: float) -> ChunkSettings:
    # min leaves room for the overlap plus one whole character (up to 4 byte tokens) below max; with less room
    # the three limits can contradict each other on text made of 4-token characters.
    room = max(1, max_tokens - round(overlap * max_tokens) - 4)
    return ChunkSettings(min_tokens=max(1, round(room * low_share)), max_tokens=max_tokens, overlap=overlap)


_limits = st.builds(_window, st.integers(8, 140), st.sampled_from([0.0, 0.1, 0.15, 0.3, 0.5]), st.floats(0, 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_document, limits=_limits)
def test_invariants_hold_on_generated_mixed_documents(tokenizer, text, limits):
    document = {"id": "gen", "text": text, "title": "生成", "lang": "mixed", "page": 7}
    check_invariants(document, chunk_document(document, tokenizer, limits), limits, tokenizer)


def test_invariants_hold_on_the_sample_patents(tokenizer):
    from studio.assets import PATENTS_FILE

    documents = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    for limits in (ChunkSettings(), ChunkSettings(min_tokens=40, max_tokens=80, overlap=0.2)):
        fragments = list(chunk_records(documents, tokenizer, limits))
        by_doc: dict[str, list[dict]] = {}
        for fragment in fragments:
            by_doc.setdefault(fragment["doc"], []).append(fragment)
        assert list(by_doc) == [str(d["id"]) for d in documents]  # document order kept, none dropped
        for document in documents:
            check_invariants(document, by_doc[str(document["id"])], limits, tokenizer)


def test_step_headings_of_a_chinese_patent_become_sections(tokenizer):
    text = "一种方法\n\n摘要：本发明提供一种方法。\n\n步骤1：采集\n\n采集数据。\n\n步骤2：计算\n\n计算偏差。"
    fragments = chunk_document({"id": "CN-1", "text": text}, tokenizer)
    # Short paragraphs under one heading make one fragment; a heading never shares a fragment with the one before.
    assert [(f["section"], f["paragraph"], f["text"]) for f in fragments] == [
        (0, 0, "一种方法\n\n摘要：本发明提供一种方法。"),
        (1, 0, "步骤1：采集\n\n采集数据。"),
        (2, 0, "步骤2：计算\n\n计算偏差。"),
    ]
    assert [f["id"] for f in fragments] == ["CN-1-s0-p0-f0", "CN-1-s1-p0-f0", "CN-1-s2-p0-f0"]


def test_a_heading_with_text_on_its_line_or_alone_in_its_section_stays_as_it_is(tokenizer):
    text = "步骤1：采集数据并记录。\n第二行。\n\n下一段。\n\n步骤2：结束"
    fragments = chunk_document({"id": "CN-2", "text": text}, tokenizer)
    assert [(f["section"], f["paragraph"], f["text"]) for f in fragments] == [
        (1, 0, "步骤1：采集数据并记录。\n第二行。\n\n下一段。"), (2, 0, "步骤2：结束")]


def test_record_fields_id_hash_offsets_and_extras(tokenizer):
    document = {"id": "US-7", "text": "Step 1: Cut.\n\nThe blade turns.\n\nIt stops.", "source": "us7.pdf", "title": "Saw",
                "lang": "en", "pub_date": "2020-01-02", "page": 3}
    fragments = chunk_document(document, tokenizer)
    [last] = fragments  # the heading and both short paragraphs under it
    assert ID.match(last["id"]).groupdict() == {"doc": "US-7", "s": "1", "p": "0", "f": "0"}
    assert last["hash"] == "sha1:" + hashlib.sha1(document["text"].encode()).hexdigest()
    assert (last["start"], last["end"], last["source"], last["page"]) == (0, 41, "us7.pdf", 3)
    assert "line" not in last  # where its text sits in a file is not known for a record
    assert list(last)[:11] == ["id", "doc", "section", "paragraph", "fragment", "text", "n_tokens", "start", "end",
                               "source", "hash"]
    assert {"title", "lang", "pub_date"} <= set(last)
    assert chunk_document({"id": 5, "text": "x"}, tokenizer)[0]["source"] is None  # the field exists even if empty


def _long_han(n: int) -> str:
    """n characters of Chinese text without any sentence mark (deterministic)."""
    return "".join(_HAN[(i * 7 + i // len(_HAN)) % len(_HAN)] for i in range(n))


def test_a_sentence_longer_than_max_is_split_on_tokens(tokenizer):
    limits = ChunkSettings()
    text = _long_han(2000) + "。"
    fragments = chunk_document({"id": "long", "text": text}, tokenizer, limits)
    assert len(fragments) >= 4
    check_invariants({"id": "long", "text": text}, fragments, limits, tokenizer)
    # Filled to the window, not stopped at the minimum: the split is on tokens, close to max.
    assert all(f["n_tokens"] >= limits.max_tokens - 8 for f in fragments[:-1])


def test_overlap_is_the_tail_of_a_sentence_longer_than_the_overlap(tokenizer):
    limits = ChunkSettings(min_tokens=100, max_tokens=200, overlap=0.15)  # 30 tokens of overlap
    sentences = [_long_han(60 + 7 * i) + "。" for i in range(8)]  # each sentence is longer than 30 tokens
    paragraph = "".join(sentences)
    fragments = chunk_document({"id": "tail", "text": paragraph}, tokenizer, limits)
    assert len(fragments) >= 3
    ends = set(sentence_ends(paragraph))
    for before, after in pairwise(fragments):
        shared = paragraph[after["start"]:before["end"]]
        assert before["text"].endswith(shared) and after["text"].startswith(shared) and shared
        last_sentence_start = max(e for e in ends | {0} if e < before["end"] and e >= before["start"])
        assert after["start"] > last_sentence_start  # a tail, shorter than the last sentence
        assert count(tokenizer, shared) <= limits.overlap_tokens + 1  # +1: a tail may tokenize one token longer


def test_overlap_takes_whole_sentences_when_they_fit(tokenizer):
    limits = ChunkSettings(min_tokens=100, max_tokens=200, overlap=0.2)  # 40 tokens of overlap
    paragraph = " ".join(f"Valve {i} opens at the set pressure." for i in range(60))
    fragments = chunk_document({"id": "whole", "text": paragraph}, tokenizer, limits)
    assert len(fragments) >= 3
    ends = set(sentence_ends(paragraph))
    for before, after in pairwise(fragments):
        assert after["start"] in ends  # the overlap starts at a sentence start
        shared = paragraph[after["start"]:before["end"]]
        assert 0 < count(tokenizer, shared) <= limits.overlap_tokens
        one_more = paragraph[max(e for e in ends if e < after["start"]):before["end"]]
        assert count(tokenizer, one_more) > limits.overlap_tokens - 1  # as many whole sentences as fit


def test_no_overlap_means_adjacent_fragments(tokenizer):
    limits = ChunkSettings(min_tokens=20, max_tokens=40, overlap=0)
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    fragments = chunk_document({"id": "n", "text": text}, tokenizer, limits)
    assert len(fragments) > 3
    check_invariants({"id": "n", "text": text}, fragments, limits, tokenizer)


def test_cuts_land_on_character_boundaries_for_multibyte_text(tokenizer):
    # 4-byte characters tokenize to several byte tokens each; a cut between them would corrupt the text.
    text = "😀𠀀" * 300
    limits = ChunkSettings(min_tokens=8, max_tokens=13, overlap=0.3)
    fragments = chunk_document({"id": "emoji", "text": text}, tokenizer, limits)
    check_invariants({"id": "emoji", "text": text}, fragments, limits, tokenizer)
    assert all(f["text"].encode("utf-8").decode("utf-8") == f["text"] for f in fragments)


def test_truncating_tokenizer_still_counts_exactly_and_is_left_unchanged(tokenizer):
    from transformers import AutoTokenizer

    from studio.assets import DEMO_MODEL_DIR

    truncating = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    truncating.backend_tokenizer.enable_truncation(16)
    fragments = chunk_document({"id": "t", "text": _long_han(900)}, truncating)
    assert max(f["n_tokens"] for f in fragments) > 16
    assert truncating.backend_tokenizer.truncation["max_length"] == 16


def test_huge_paragraphs_are_tokenized_in_slices(tokenizer, monkeypatch):
    from studio.data import chunking

    # The slice is 64 Ki characters in use; a small one here exercises the same code on a small text.
    monkeypatch.setattr(chunking, "_SLICE_CHARS", 97)
    document = {"id": "huge", "text": " ".join(f"Line {i} of a very long single line。" for i in range(80))}
    limits = ChunkSettings(min_tokens=30, max_tokens=60)
    check_invariants(document, chunk_document(document, tokenizer, limits), limits, tokenizer)


def test_a_bare_tokenizers_tokenizer_gives_the_same_fragments(tokenizer):
    document = {"id": "same", "text": _long_han(1500)}
    assert chunk_document(document, tokenizer.backend_tokenizer) == chunk_document(document, tokenizer)


def test_empty_and_blank_documents_give_no_fragments(tokenizer):
    assert chunk_document({"id": "e", "text": ""}, tokenizer) == []
    assert chunk_document({"id": "b", "text": " \n\n\t"}, tokenizer) == []


def test_records_stream_in_order_with_a_custom_text_field(tokenizer):
    records = ({"id": f"d{i}", "body": f"Document {i}. It has two sentences."} for i in range(5))
    fragments = list(chunk_records(records, tokenizer, text_field="body"))
    assert [f["doc"] for f in fragments] == [f"d{i}" for i in range(5)]
    assert all("body" not in f for f in fragments)


@pytest.mark.parametrize(("record", "message"), [
    ({"text": "x"}, "record 1: no 'id'"),
    ({"id": "a"}, "field 'text'"),
    ({"id": "a", "text": 3}, "field 'text'"),
    ("just a string", "record 1: expected a JSON object"),
])
def test_bad_records_are_named(tokenizer, record, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        chunk_document(record, tokenizer)


def test_slow_tokenizer_is_refused():
    with pytest.raises(ValueError, match="tokenizer: chunking needs a fast tokenizer"):
        chunk_document({"id": "a", "text": "x"}, object())


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"min_tokens": 0}, "min_tokens"),
    ({"min_tokens": 500}, "min_tokens"),
    ({"min_tokens": 2.5}, "min_tokens"),
    ({"max_tokens": 4, "min_tokens": 1}, "max_tokens"),
    ({"max_tokens": True}, "max_tokens"),
    ({"overlap": -0.1}, "overlap"),
    ({"overlap": 0.6}, "overlap"),
    ({"overlap": float("nan")}, "overlap"),
    ({"overlap": "0.1"}, "overlap"),
])
def test_settings_validation_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        ChunkSettings(**kwargs)


def test_settings_defaults_and_overlap_tokens():
    assert ChunkSettings() == ChunkSettings(min_tokens=200, max_tokens=400, overlap=0.15)
    assert ChunkSettings().overlap_tokens == 60
    assert ChunkSettings(min_tokens=1, max_tokens=8, overlap=0.01).overlap_tokens == 1  # never rounds to nothing
    assert ChunkSettings(overlap=0).overlap_tokens == 0


def test_summary_counts_and_percentiles():
    fragments = [{"doc": d, "section": 0, "paragraph": p, "n_tokens": n}
                 for d, p, n in [("a", 0, 10), ("a", 0, 20), ("a", 1, 30), ("b", 0, 40)]]
    assert summarize_fragments(fragments) == {
        "documents": 2, "sections": 2, "fragments": 4, "total_tokens": 100, "mean_tokens": 25.0,
        "p50_tokens": 25.0, "p95_tokens": 38.5, "min_tokens": 10, "max_tokens": 40}
    assert summarize_fragments([])["fragments"] == 0
