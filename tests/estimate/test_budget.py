"""Token budget on a hand-made set (counted by hand) and on the bundled intent_chat sample; packing; ETA."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.data.ingest import ingest_paths
from studio.data.templates import encode_record
from studio.estimate.budget import eta_seconds, pack_examples, padded_tokens, token_budget


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


LONG_TEXT = {"text": "hello world"}  # <s> + 6 text tokens + </s> = 8 tokens, loss on all
SHORT_TEXT = {"text": "a"}  # <s> a </s> = 3 tokens
# 14 tokens, loss on the assistant's 2 tokens at positions 11–12
CHAT = {"messages": [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "ok"}]}


def test_hand_set_lengths(tokenizer):
    """The lengths the hand-computed budget below relies on."""
    assert encode_record(tokenizer, LONG_TEXT).n_tokens == 8
    assert encode_record(tokenizer, SHORT_TEXT).n_tokens == 3
    chat = encode_record(tokenizer, CHAT)
    assert chat.n_tokens == 14 and chat.loss_mask[11:13] == [1, 1] and sum(chat.loss_mask) == 2


def test_budget_by_hand(tokenizer):
    # max_length 6: LONG_TEXT → 6 tokens (truncated); SHORT_TEXT → 3; CHAT → 6 tokens with no assistant token left,
    # so it is truncated and dropped. Kept lengths, in order: [6, 3, 3].
    out = token_budget([LONG_TEXT, SHORT_TEXT, CHAT, SHORT_TEXT], tokenizer, max_length=6, batch_size=2)
    assert out["examples"] == 4 and out["kept"] == 3
    assert out["truncated"] == 2 and out["truncated_share"] == 0.5
    assert out["dropped"] == 1 and out["dropped_share"] == 0.25
    assert out["total_tokens"] == 12 and out["max_tokens"] == 6 and out["mean_tokens"] == 4
    assert out["loss_tokens"] == 5 + 2 + 2  # loss on tokens 1.. of each kept example (token 0 predicts nothing)
    assert out["padded_tokens"] == 2 * 6 + 1 * 3  # micro-batches [6, 3] → 12 and [3] → 3
    assert out["efficiency_unpacked"] == pytest.approx(12 / 15)
    assert out["efficiency_max_length"] == pytest.approx(12 / 18)
    assert out["packed_sequences"] == 2  # [6] and [3 + 3]
    assert out["efficiency_packed"] == pytest.approx(12 / 12)


def test_chat_kept_while_one_assistant_token_survives(tokenizer):
    out = token_budget([CHAT], tokenizer, max_length=12)
    assert out["truncated"] == 1 and out["dropped"] == 0 and out["loss_tokens"] == 1
    assert token_budget([CHAT], tokenizer, max_length=11)["dropped"] == 1


def test_no_truncation_and_empty(tokenizer):
    out = token_budget([LONG_TEXT, SHORT_TEXT], tokenizer, max_length=512)
    assert out["truncated"] == 0 and out["dropped"] == 0 and out["total_tokens"] == 11
    assert out["efficiency_unpacked"] == 1.0  # batch size 1: no padding
    assert out["packed_sequences"] == 1 and out["efficiency_packed"] == pytest.approx(11 / 512)
    empty = token_budget([], tokenizer, max_length=64)
    assert empty["examples"] == 0 and empty["efficiency_packed"] == 0.0 and empty["truncated_share"] == 0.0


def test_pack_examples_next_fit_keeps_examples_whole():
    assert pack_examples([5, 4, 2, 7, 1], 8) == [[0], [1, 2], [3, 4]]
    assert pack_examples([8, 8], 8) == [[0], [1]]
    assert pack_examples([], 8) == []
    assert padded_tokens([1, 5, 2], 2) == 10 + 2


def test_intent_chat_sanity(tokenizer):
    records = ingest_paths(["bundled:intent_chat"]).records
    roomy = token_budget(records, tokenizer, max_length=512, batch_size=4)
    assert roomy["examples"] == len(records) > 100
    assert roomy["truncated"] == 0 and roomy["dropped"] == 0
    assert 30 < roomy["mean_tokens"] < 200 and roomy["max_tokens"] <= 512
    assert 0 < roomy["loss_tokens"] < roomy["total_tokens"]  # loss on assistant turns only
    assert 0.6 < roomy["efficiency_unpacked"] <= 1.0
    assert roomy["efficiency_max_length"] < 0.3  # short chats padded to 512 waste most of it
    assert roomy["efficiency_packed"] > 0.85  # packing recovers it
    tight = token_budget(records, tokenizer, max_length=40, batch_size=4)
    assert tight["truncated_share"] > 0.5 and 0 < tight["dropped_share"] < 1
    assert tight["total_tokens"] < roomy["total_tokens"]


def test_eta():
    assert eta_seconds(100, 2048, None) is None  # unknown without a measured throughput
    assert eta_seconds(100, 2048, 0.0) is None
    assert eta_seconds(100, 2048, 1024.0) == pytest.approx(200.0)  # 100 steps × 2048 tokens / 1024 tokens/s
