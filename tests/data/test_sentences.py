"""Section, paragraph and sentence boundaries (studio.data.sentences): the rules of issue 3, one case each."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.data.sentences import (
    has_blank_lines,
    heading_starts,
    normalize_newlines,
    sentence_ends,
    split_paragraphs,
    split_sections,
    split_sentences,
)


def section_texts(text: str) -> list[tuple[int, str]]:
    return [(s.number, text[s.start:s.end]) for s in split_sections(text)]


@pytest.mark.parametrize("heading", [
    "# Title", "## 实施方式", "###### deep", "#",
    "步骤1：计算预测值", "步骤 2、量化", "步骤S3: 编码", "步骤十二：收尾", "步骤1.2：子步骤", "步骤３　全角",
    "第1步：采样", "第三步：冷却", "第 4 步. 检查", "第五步",
    "Step 1: Monitor coil temperature", "step 2. estimate", "STEP 3 Decide", "Step 4", "Step 1.2) sub-step",
    "　　步骤2：首行缩进",
])
def test_each_heading_style_opens_a_section(heading):
    text = f"前言一句。\n\n{heading}\n\n正文一句。"
    sections = section_texts(text)
    assert [n for n, _ in sections] == [0, 1]
    assert sections[1][1].startswith(heading)


@pytest.mark.parametrize("line", [
    "#hashtag is not a heading", "#include <stdio.h>", "第一步，将原料混合。", "步骤1中所述的温度为80度。",
    "Steps 1 and 2 are repeated.", "    # indented code, not a heading", "see Step 2: it is mid-line",
    "Stepper motor 3 turns.",
])
def test_look_alikes_are_not_headings(line):
    assert heading_starts(f"正文。\n{line}\n后文。") == []


def test_headings_inside_fenced_code_are_ignored():
    text = "# Real\n\n```python\n# a comment\n```\n\n## Also real\n~~~\n# tilde fence\n~~~\n"
    assert [t.splitlines()[0] for _, t in section_texts(text)] == ["# Real", "## Also real"]


def test_numbering_preamble_is_zero_and_headings_count_from_one():
    text = "Preamble.\n\n# A\n\nbody\n\n# B\n\nbody"
    assert [n for n, _ in section_texts(text)] == [0, 1, 2]
    no_preamble = "# A\n\nbody\n\n# B\n\nbody"
    assert [n for n, _ in section_texts(no_preamble)] == [1, 2]
    blank_preamble = "\n  \n# A\nbody"
    assert [n for n, _ in section_texts(blank_preamble)] == [1]
    assert [n for n, _ in section_texts("no headings at all")] == [0]
    assert split_sections("") == [] and split_sections(" \n ") == []


def test_sections_tile_the_document():
    text = "intro\n步骤1：a\nx\n第2步：b\ny\nStep 3: c\n# d\n"
    sections = split_sections(text)
    assert sections[0].start == 0 and sections[-1].end == len(text)
    assert all(a.end == b.start for a, b in pairwise(sections))


def test_heading_mid_paragraph_splits_the_paragraph_between_sections():
    text = "第一段第一行\n步骤1：标题\n标题后的正文\n\n下一段"
    (n0, s0), (n1, s1) = section_texts(text)
    assert (n0, s0, n1) == (0, "第一段第一行\n", 1)
    assert s1.startswith("步骤1：标题\n标题后的正文")


def test_paragraphs_split_on_blank_lines_with_ends_stripped():
    text = "  first line\nsame paragraph  \n\n\n second \n \t \nthird"
    spans = split_paragraphs(text, blank_lines=has_blank_lines(text))
    assert [text[a:b] for a, b in spans] == ["first line\nsame paragraph", "second", "third"]


def test_paragraphs_are_lines_when_the_document_has_no_blank_line():
    text = "line one\nline two\n  line three  \n"
    assert not has_blank_lines(text)
    spans = split_paragraphs(text, blank_lines=False)
    assert [text[a:b] for a, b in spans] == ["line one", "line two", "line three"]


def test_blank_line_rule_is_decided_for_the_whole_document():
    # Only trailing/leading blank lines do not count: the document still has no blank line between paragraphs.
    assert not has_blank_lines("\n\na\nb\n\n")
    assert has_blank_lines("a\nb\n\nc")
    assert has_blank_lines("a\n \u3000\nb")  # a line of (full-width) spaces is blank


def test_paragraph_span_within_a_section():
    text = "# A\n\np1\n\np2\n\n# B\n\np3"
    section = split_sections(text)[0]
    spans = split_paragraphs(text, section.start, section.end)
    assert [text[a:b] for a, b in spans] == ["# A", "p1", "p2"]


def test_crlf_and_cr_become_lf():
    assert normalize_newlines("a\r\nb\rc\n") == "a\nb\nc\n"
    assert normalize_newlines("plain") == "plain"


@pytest.mark.parametrize(("text", "expected"), [
    ("本发明涉及压缩。现有技术较慢！为何？因为；所以……结束",
     ["本发明涉及压缩。", "现有技术较慢！", "为何？", "因为；", "所以……", "结束"]),
    ("他说：“好的。”然后离开。", ["他说：“好的。”", "然后离开。"]),
    ("The valve opens. Then it closes! Why? Nobody knows", ["The valve opens. ", "Then it closes! ", "Why? ",
                                                              "Nobody knows"]),
    ("A gap of 3.5 mm and 0.25 s. Next.", ["A gap of 3.5 mm and 0.25 s. ", "Next."]),
    ("Use a seal, e.g. rubber, i.e. soft. As in Fig. 3 and No. 5 by Dr. Li. End.",
     ["Use a seal, e.g. rubber, i.e. soft. ", "As in Fig. 3 and No. 5 by Dr. Li. ", "End."]),
    ('He said "stop." Then (see above.) More.', ['He said "stop." ', "Then (see above.) ", "More."]),
    ("line one\nline two\n\nline three", ["line one\n", "line two\n\n", "line three"]),
    ("混合 text。Then English. 再中文！", ["混合 text。", "Then English. ", "再中文！"]),
    ("example.com and v1.2.3 stay whole", ["example.com and v1.2.3 stay whole"]),
])
def test_sentence_splits(text, expected):
    assert split_sentences(text) == expected


def test_sentence_ends_are_increasing_and_end_at_the_text_end():
    text = "一。二！three. four"
    ends = sentence_ends(text)
    assert ends == sorted(set(ends)) and ends[-1] == len(text)
    assert sentence_ends("") == [0]


_PIECES = ["本发明", "温度", "。", "！", "？", "；", "…", "，", " ", "\n", "\n\n", "valve", "3.5", "e.g.", ". ", "! ",
           "? ", "“", "”", ")", "Fig.", "步骤1：", "# ", "😀", "\u3000", "\t"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_sentences_rejoin_to_the_text_and_start_after_whitespace(text):
    sentences = split_sentences(text)
    assert "".join(sentences) == text
    assert all(s for s in sentences) or text == ""
    # Whitespace always stays with the sentence before it, so no sentence but the first starts with whitespace.
    assert all(not s[0].isspace() for s in sentences[1:])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES + ["Step 2 ", "第3步："]), max_size=40).map("".join))
def test_paragraphs_keep_every_non_space_character_in_order(text):
    kept = []
    blank_lines = has_blank_lines(text)
    for section in split_sections(text):
        for a, b in split_paragraphs(text, section.start, section.end, blank_lines=blank_lines):
            assert text[a:b] == text[a:b].strip() and text[a:b]
            kept.append(text[a:b])
    assert "".join("".join(kept).split()) == "".join(text.split())
