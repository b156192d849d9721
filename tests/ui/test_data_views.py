"""Data-tab views: pure functions checked without a browser."""

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.data.templates import encode_chat
from studio.ui.data_views import (cleanup_markdown, document_tree_html, pick_record, readable_pieces,
                                  rendered_example_html, summary_markdown, table_page)


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def test_pieces_decode_to_whole_characters_and_keep_the_text(tokenizer):
    text = "锂离子电池模组😀 pump"
    ids = tokenizer.encode(text, add_special_tokens=False)
    pieces = readable_pieces(tokenizer, ids, [1] * len(ids))
    assert "".join(p for p, _ in pieces) == text
    assert not any("\ufffd" in p for p, _ in pieces)


def test_rendered_view_marks_only_the_answer(tokenizer):
    messages = [{"role": "user", "content": "播放周杰伦"},
                {"role": "assistant", "content": '{"intent": "play_music"}'}]
    html = rendered_example_html(tokenizer, encode_chat(tokenizer, messages), "ex-1")
    green = html.split("background:#bbf7d0")
    assert len(green) > 1 and "播放" not in "".join(green[1:])  # the question carries no loss
    assert "with loss" in html and "ex-1" in html


def test_tree_marks_the_overlap_with_the_previous_fragment():
    frags = [{"doc": "d", "section": 1, "paragraph": 0, "fragment": 0, "id": "d-s1-p0-f0", "n_tokens": 5,
              "text": "甲乙丙丁", "start": 0, "end": 4},
             {"doc": "d", "section": 1, "paragraph": 0, "fragment": 1, "id": "d-s1-p0-f1", "n_tokens": 5,
              "text": "丙丁戊己", "start": 2, "end": 6}]
    html = document_tree_html(frags, "d")
    assert "<mark title='repeated from the previous fragment'>丙丁</mark>戊己" in html
    assert "<mark title='repeated from the previous fragment'></mark>甲乙丙丁" in html


def test_table_pages_and_searches():
    records = [{"id": f"r{i}", "text": "步骤" if i % 2 else "other", "n_tokens": i} for i in range(120)]
    rows, page, pages = table_page(records, query="步骤", page=2, page_size=50)
    assert (page, pages, len(rows)) == (2, 2, 10) and rows[0][0] == "r101"
    assert table_page(records, page=99)[1] == 3  # past the end shows the last page


def test_cleanup_report_lists_examples_under_each_option():
    text = cleanup_markdown({"filler words": {"changed_records": 2, "changed_turns": 3,
                                              "examples": [("嗯，订票", "订票")]},
                             "history truncation": {"changed_records": 0, "changed_turns": 0, "examples": []}})
    assert text == ("**filler words**: 2 records, 3 turns changed\n\n- `嗯，订票` → `订票`\n\n"
                    "**history truncation**: 0 records, 0 turns changed")


RECORDS = [{"id": "guide-s1-p0-f0", "text": "Read the thermometers first.", "n_tokens": 9, "source": "guide.md",
            "line": 3},
           {"id": "chat-1", "source": "chats.jsonl:1",
            "messages": [{"role": "user", "content": "When?"}, {"role": "assistant", "content": "9:00"}]},
           {"id": "chat-10", "source": "chats.jsonl:2",
            "messages": [{"role": "user", "content": "雨量？"}, {"role": "assistant", "content": "微量"}]}]


def test_a_record_is_picked_by_id_by_search_hit_or_by_position():
    assert pick_record(RECORDS, "chat-1")[0]["id"] == "chat-1"  # an exact id is that record, not chat-10 too
    assert pick_record(RECORDS, "微量") == (RECORDS[2], 1, 1)  # words in a chat turn
    assert pick_record(RECORDS, "CHAT", position=2) == (RECORDS[2], 2, 2)
    assert pick_record(RECORDS, kind="chat", position=99) == (RECORDS[2], 2, 2)  # kept within range
    assert pick_record(RECORDS, kind="text", position=0) == (RECORDS[0], 1, 1)
    assert pick_record(RECORDS, "nothing like it") == (None, 0, 0)


def test_the_source_column_names_the_file_line_where_known():
    rows, _, _ = table_page(RECORDS)
    assert [row[3] for row in rows] == ["guide.md:3", "chats.jsonl:1", "chats.jsonl:2"]


def test_the_summary_says_how_many_fragments_are_short_and_why():
    summary = {"files": 1, "records": 1, "formats": ["text"], "encodings": ["utf-8"], "documents": 1,
               "fragments": 3, "total_tokens": 600, "mean_tokens": 200.0, "p50_tokens": 220.0, "p95_tokens": 300.0,
               "max_tokens": 310, "short_fragments": {"below": 200, "count": 2, "reasons": {"short_section": 2}}}
    text = summary_markdown(summary)
    assert ("**2** fragments hold fewer than the minimum of 200 tokens:\n"
            "- 2: the whole section (a heading and the text under it) is that short") in text
    assert "fewer than the minimum" not in summary_markdown({**summary, "short_fragments": {
        "below": 200, "count": 0, "reasons": {}}})


def test_every_short_reason_has_chinese():
    from studio.data.fragment_stats import SHORT_REASONS
    from studio.ui import i18n

    assert i18n.missing(SHORT_REASONS.values()) == []


def test_tree_marks_overlap_across_paragraphs_of_a_section():
    frags = [{"doc": "g", "section": 2, "paragraph": 0, "fragment": 0, "id": "g-s2-p0-f0", "n_tokens": 9,
              "text": "## Wind\n\nCalm is still.", "start": 0, "end": 22, "line": 40, "source": "g.md"},
             {"doc": "g", "section": 2, "paragraph": 1, "fragment": 1, "id": "g-s2-p1-f1", "n_tokens": 9,
              "text": "still.\n\nGusts are copied.", "start": 16, "end": 40, "line": 42, "source": "g.md"}]
    html = document_tree_html(frags, "g")
    assert "<mark title='repeated from the previous fragment'>still.</mark>\n\nGusts" in html
    assert html.count("<details") == 1 and "paragraph 1 · g.md:42" in html  # one section, where each begins
