"""Data-tab views: pure functions checked without a browser."""

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.data.templates import encode_chat
from studio.ui.data_views import cleanup_markdown, document_tree_html, readable_pieces, rendered_example_html, table_page


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
