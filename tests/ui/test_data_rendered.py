"""The Data tab's "As the model sees it" handlers on a mixed upload written here (the guide and a JSONL of chat,
text and instruction records), with the real tokenizer: any record can be reached and its loss mask checked."""

from __future__ import annotations

import json

import pytest

from studio.config import DEMO_MODEL
from studio.data.chunking import ChunkSettings
from studio.data.fragments import prepare_files
from studio.ui.data import first_match, rendered_view, step_record
from tests.data.guide import write_guide

CHATS = [{"id": "chat-1", "messages": [{"role": "user", "content": "When is the reading taken?"},
                                       {"role": "assistant", "content": "At nine in the morning."}]},
         {"id": "note-1", "text": "The rain gauge was moved in 1998."},
         {"id": "qa-1", "instruction": "Convert 10 knots to km/h.", "output": "About 18.5 km/h."},
         {"id": "chat-2", "messages": [{"role": "user", "content": "雨量不足0.05毫米怎么记？"},
                                       {"role": "assistant", "content": "记为微量。"}]}]
VIEW = {"tokenizer": DEMO_MODEL, "max_length": 512}
GREEN = "background:#bbf7d0"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from studio.ui.data import cached_tokenizer

    folder = tmp_path_factory.mktemp("upload")
    mixed = folder / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CHATS), encoding="utf-8")
    return prepare_files([write_guide(folder), mixed], cached_tokenizer(DEMO_MODEL), ChunkSettings(), max_length=512)


def learned_text(html: str) -> str:
    """The text of the pieces shown on green (those that carry loss), joined."""
    return "".join(part.split(">", 1)[1].split("</span>", 1)[0] for part in html.split(GREEN)[1:])


def test_a_chat_record_of_a_mixed_upload_is_picked_by_id_and_shows_its_loss_mask(data):
    html, info, position = rendered_view(data, VIEW, "chat-2", "all", 1)
    assert "<code>chat-2</code>" in html and (info, position) == ("record 1 of 1", 1)
    learned = learned_text(html)
    assert "微量" in learned and "毫米" not in learned  # the answer carries loss, the question does not


def test_the_user_pages_through_every_record(data):
    total = len(data.records)
    first, info, _ = rendered_view(data, VIEW, "", "all", 1)
    assert data.records[0]["id"] in first and info == f"record 1 of {total}"
    second, info, position = step_record(data, VIEW, "", "all", 1, delta=1)
    assert data.records[1]["id"] in second and (info, position) == (f"record 2 of {total}", 2)
    last, info, position = rendered_view(data, VIEW, "", "all", total)
    assert data.records[-1]["id"] in last and position == total
    assert step_record(data, VIEW, "", "all", total, delta=1)[2] == total  # past the end stays on the last
    assert step_record(data, VIEW, "", "all", 1, delta=-1)[2] == 1


def test_search_hits_and_kinds_narrow_what_is_paged(data):
    chats = [r["id"] for r in data.records if "messages" in r]
    assert len(chats) == 3  # two chats and the instruction pair, converted to messages
    for n, record_id in enumerate(chats, start=1):
        assert f"<code>{record_id}</code>" in rendered_view(data, VIEW, "", "chat", n)[0]
    hits = [r["id"] for r in data.fragments if "thermometer" in r["text"]]
    html, info, position = first_match(data, VIEW, "Thermometer", "text", 7)  # a new search starts at its first hit
    assert (info, position) == (f"record 1 of {len(hits)}", 1) and f"<code>{hits[0]}</code>" in html
    assert rendered_view(data, VIEW, "no such words", "all", 1)[1] == "record 0 of 0"


def test_inputs_a_page_can_send_are_all_handled(data):
    # Nothing read yet, or fields never rendered (an unopened tab sends None).
    assert rendered_view(None, None, None, None, None) == ("", "", 1)
    html, info, position = rendered_view(data, VIEW, None, None, None)
    assert data.records[0]["id"] in html and position == 1
    assert step_record(data, VIEW, None, None, None, delta=1)[2] == 2
