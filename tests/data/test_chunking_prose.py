"""Chunking ordinary prose: a Markdown guide written at test time (tests/data/guide.py), read through ingestion as
a user's upload is, and the bundled patents. Short paragraphs under one heading fill the window, consecutive
fragments of a section overlap, nothing is lost, and every fragment under the minimum is accounted for."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from studio.data.chunking import ChunkSettings, chunk_document, chunk_records
from studio.data.fragment_stats import SHORT_REASONS, short_fragments_lines, summarize_fragments
from studio.data.fragments import prepare_files
from studio.data.sentences import sentence_ends, split_sentences
from tests.data.guide import CHINESE, guide_text, write_guide
from tests.data.test_chunking import ID, count

SMALL = ChunkSettings(min_tokens=100, max_tokens=200, overlap=0.15)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from studio.assets import DEMO_MODEL_DIR

    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


@pytest.fixture(scope="module")
def guide(tmp_path_factory, tokenizer):
    """The guide as the Data tab and `python -m studio chunk` read it: a .md file through ingestion."""
    path = write_guide(tmp_path_factory.mktemp("upload"))
    return {limits: prepare_files([path], tokenizer, limits) for limits in (ChunkSettings(), SMALL)}


def by_section(fragments: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for fragment in fragments:
        groups.setdefault((fragment["doc"], fragment["section"]), []).append(fragment)
    return groups


def check_short_ones_are_short_sections(fragments: list[dict], limits: ChunkSettings) -> int:
    """Every fragment under the minimum is a whole section shorter than the minimum; returns how many there are."""
    short = 0
    for group in by_section(fragments).values():
        for fragment in group:
            if fragment["n_tokens"] < limits.min_tokens:
                assert len(group) == 1 and fragment["start"] == 0, fragment["id"]  # the whole section, alone
                short += 1
    return short


@pytest.mark.parametrize("limits", [ChunkSettings(), SMALL], ids=["200-400", "100-200"])
def test_short_paragraphs_under_one_heading_fill_the_window(guide, limits):
    data = guide[limits]
    short = check_short_ones_are_short_sections(data.fragments, limits)
    # The summary gives the same count, with the reason, as data.
    assert data.summary["short_fragments"] == {"below": limits.min_tokens, "count": short,
                                               "reasons": {"short_section": short} if short else {}}
    assert data.summary["mean_tokens"] >= limits.min_tokens
    # Merging happened: far fewer fragments than the guide has paragraphs.
    paragraphs = len([p for p in guide_text().split("\n\n") if p.strip()])
    assert data.summary["fragments"] < paragraphs / 2


@pytest.mark.parametrize("limits", [ChunkSettings(), SMALL], ids=["200-400", "100-200"])
def test_consecutive_fragments_of_a_section_overlap(guide, limits, tokenizer):
    pairs = across_paragraphs = 0
    for group in by_section(guide[limits].fragments).values():
        for i, (before, after) in enumerate(pairwise(group)):
            shared = before["text"][after["start"] - before["start"]:]
            assert shared and after["text"].startswith(shared), (before["id"], after["id"])
            if i < len(group) - 2:  # the section's last fragment may repeat more, to reach the minimum
                # +2: a tail cut inside a sentence starts a word without its space, a token or two longer alone
                assert count(tokenizer, shared) <= limits.overlap_tokens + 2
            pairs += 1
            across_paragraphs += "\n\n" in before["text"] or before["paragraph"] != after["paragraph"]
    assert pairs >= 3 and across_paragraphs > 0  # overlap runs across paragraph breaks too


@pytest.mark.parametrize("limits", [ChunkSettings(), SMALL], ids=["200-400", "100-200"])
def test_every_sentence_of_the_guide_is_in_some_fragment(guide, limits):
    texts = [f["text"] for f in guide[limits].fragments]
    sentences = [s.strip() for p in guide_text().split("\n\n") for s in split_sentences(p) if s.strip()]
    assert len(sentences) > 250
    assert [s for s in sentences if not any(s in t for t in texts)] == []


def test_ids_name_the_paragraph_each_fragment_starts_in(tokenizer):
    long = " ".join(f"Reading {i} is written in ink with the time and initials." for i in range(30))
    text = f"Intro line.\n\n## Tips\n\nShort one.\n\nShort two.\n\n{long}\n\nLast words."
    fragments = chunk_document({"id": "tips", "text": text}, tokenizer, ChunkSettings(40, 80, 0.15))
    paragraphs = ["## Tips\n\nShort one.", "Short two.", long, "Last words."]  # the heading joins its paragraph
    assert fragments[0]["id"] == "tips-s0-p0-f0" and fragments[0]["text"] == "Intro line."
    tips = [f for f in fragments if f["section"] == 1]
    assert [f["fragment"] for f in tips] == list(range(len(tips))) and len(tips) > 4
    for fragment in tips:
        first_piece = fragment["text"].split("\n\n")[0]
        assert first_piece in paragraphs[fragment["paragraph"]], fragment["id"]
        assert ID.match(fragment["id"])["p"] == str(fragment["paragraph"])
    assert tips[0]["text"].startswith("## Tips\n\nShort one.\n\nShort two.\n\nReading 0")  # merged, in order


def test_chinese_sentence_boundaries_are_kept_when_paragraphs_merge(tokenizer):
    section = CHINESE.strip()
    limits = ChunkSettings(min_tokens=40, max_tokens=90, overlap=0.15)
    fragments = chunk_document({"id": "zh", "text": section}, tokenizer, limits)
    # Sentence ends without the whitespace after them (where a fragment's text stops).
    cuts = {len(section[:b].rstrip()) for b in sentence_ends(section)}
    assert len(fragments) >= 3 and any("\n\n" in f["text"] for f in fragments)  # paragraphs merged
    for fragment in fragments:
        # Offsets are the section's, which here is the whole text. No sentence is longer than the window, so
        # every cut is at a sentence end (。！) and each fragment's new text starts a sentence.
        assert fragment["end"] in cuts and section[fragment["end"] - 1] in "。！？；", fragment["text"]


def test_fragments_of_a_file_say_which_line_they_start_on(guide):
    lines = guide_text().splitlines()
    for fragment in guide[SMALL].fragments:
        assert fragment["text"].split("\n")[0] in lines[fragment["line"] - 1], fragment["id"]
    assert guide[SMALL].fragments[0]["line"] == 1
    assert guide[SMALL].fragments[-1]["line"] == lines.index("## Contacts") + 1


def test_the_sample_patents_fill_the_window_too(tokenizer):
    from studio.assets import PATENTS_FILE

    documents = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    limits = ChunkSettings()
    fragments = list(chunk_records(documents, tokenizer, limits))
    short = check_short_ones_are_short_sections(fragments, limits)
    summary = summarize_fragments(fragments, limits.min_tokens)
    assert summary["short_fragments"]["reasons"] == {"short_section": short}
    # Each paragraph of the samples used to be a fragment of its own: 96% of them under the minimum.
    assert short / len(fragments) < 0.2 and summary["mean_tokens"] > 250
    assert all("line" not in f for f in fragments)  # records of a JSONL file: their line is in `source` already


def test_short_fragments_are_counted_by_reason():
    def frag(doc, section, number, n):
        return {"doc": doc, "section": section, "fragment": number, "n_tokens": n}

    fragments = [frag("memo", 0, 0, 12),  # a document that is one short fragment
                 frag("guide", 1, 0, 30), frag("guide", 2, 0, 250), frag("guide", 2, 1, 90),  # section, its end
                 frag("guide", 3, 0, 80), frag("guide", 3, 1, 220), frag("guide", 4, 0, 200)]  # a short window
    summary = summarize_fragments(fragments, 100)
    assert summary["short_fragments"] == {"below": 100, "count": 4, "reasons": {
        "short_document": 1, "short_section": 1, "section_end": 1, "cut_short": 1}}
    assert list(summary["short_fragments"]["reasons"]) == list(SHORT_REASONS)  # the catalogue's order
    assert "short_fragments" not in summarize_fragments(fragments)
    assert short_fragments_lines(summary["short_fragments"])[:2] == [
        "4 fragments hold fewer than the minimum of 100 tokens:",
        "  1: the whole document is that short (short_document)"]
    assert short_fragments_lines({"below": 100, "count": 0, "reasons": {}}) == []
