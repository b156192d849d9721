"""Perplexity scoring: batched equals the one-record loop, padding never counts, long records slide, bad records are
reported and skipped with a reason code, chat and instruction records are scored on what training learns from them,
4-bit loads score on the CPU."""

from __future__ import annotations

import json
import math

import pytest
import torch

from studio.assets import PATENTS_FILE
from studio.data.ingest import ingest_paths
from studio.data.templates import encode_chat
from studio.quality.perplexity import (
    Cancelled,
    load_scorer,
    plan_windows,
    score_records,
    score_records_loop,
)
from tests.quality.mixed_set import N_ALPACA, N_CHAT, write_mixed

REL = 1e-4  # the issue's bound on batched vs loop


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    return load_scorer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def mixed_records():
    """Chinese and English pieces of the bundled patents, 1 to ~800 tokens: the last is beyond the tiny model's
    512-token context, so it is scored with a sliding window."""
    docs = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines()]
    zh = next(d["text"] for d in docs if d["lang"] == "zh")
    en = next(d["text"] for d in docs if d["lang"] == "en")
    texts = ["码", "a", zh[:12], en[:40], zh[:150], en[:700], zh[200:900], en[:300] + zh[:300], zh[:500] + en[:1000]]
    return [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]


def _by_id(result):
    return {s.id: s for s in result.scores}


def test_batched_equals_the_loop_on_mixed_lengths_and_languages(scorer, mixed_records):
    n_ids = [len(scorer.tokenizer(r["text"], add_special_tokens=False)["input_ids"]) for r in mixed_records]
    assert max(n_ids) > scorer.context  # the long one really needs the sliding window
    loop = score_records_loop(mixed_records, scorer)
    for batch_size in (1, 4):
        batched = score_records(mixed_records, scorer, batch_size=batch_size)
        assert [s.id for s in batched.scores] == [r["id"] for r in mixed_records]
        for a, b in zip(batched.scores, loop.scores):
            assert a.n_tokens == b.n_tokens
            assert _rel(a.ppl, b.ppl) <= REL and _rel(a.nll_sum, b.nll_sum) <= REL
    # The BOS is context, never a target: every text token is scored exactly once, windows or not.
    assert [s.n_tokens for s in loop.scores] == n_ids
    assert all(math.isfinite(s.ppl) and s.ppl > 1 for s in loop.scores)


def test_padding_is_excluded(scorer, mixed_records):
    short = mixed_records[:6]
    alone = _by_id(score_records(short, scorer, batch_size=1))
    with_long = _by_id(score_records(short + [mixed_records[-1]], scorer, batch_size=16))
    assert with_long.keys() - alone.keys() == {mixed_records[-1]["id"]}
    for rid, score in alone.items():
        # one batch, padded to the long record's window width: the short records' scores must not move
        assert with_long[rid].n_tokens == score.n_tokens
        assert _rel(with_long[rid].nll_sum, score.nll_sum) <= 1e-5


def test_sliding_window_matches_a_hand_computed_two_window_score(scorer, mixed_records):
    ids = [scorer.prefix_id] + scorer.tokenizer(mixed_records[-1]["text"], add_special_tokens=False)["input_ids"]
    ids = ids[:100]
    text = scorer.tokenizer.decode(ids[1:])
    assert scorer.tokenizer(text, add_special_tokens=False)["input_ids"] == ids[1:]
    with torch.inference_mode():  # windows [0, 64) scoring 1..63, then [36, 100) scoring 64..99
        first = torch.log_softmax(scorer.model(input_ids=torch.tensor([ids[:64]])).logits[0].float(), -1)
        second = torch.log_softmax(scorer.model(input_ids=torch.tensor([ids[36:100]])).logits[0].float(), -1)
    expected = -sum(first[p - 1, ids[p]].item() for p in range(1, 64))
    expected -= sum(second[p - 37, ids[p]].item() for p in range(64, 100))
    for score in (score_records, score_records_loop):
        got = score([{"id": "x", "text": text}], scorer, max_length=64, stride=36).scores[0]
        assert got.n_tokens == 99 and _rel(got.nll_sum, expected) <= 1e-5


@pytest.mark.parametrize("length, window, stride", [(1, 8, 4), (2, 8, 4), (8, 8, 4), (9, 8, 4), (100, 16, 5),
                                                    (100, 16, 15), (33, 32, 1)])
def test_windows_score_every_token_once_with_enough_context(length, window, stride):
    targets = []
    for start, end, first in plan_windows(length, window, stride):
        assert end - start <= window and start < first <= end
        assert start == 0 or first - start >= window - stride  # the least left context a token gets
        targets += range(first, end)
    assert targets == list(range(1, length))


def test_without_a_prefix_token_the_first_token_is_not_scored(tiny_model_dir, mixed_records):
    bare = load_scorer(str(tiny_model_dir))
    bare.prefix_id = None  # what a tokenizer with neither BOS nor EOS gives
    records = mixed_records[:5]
    loop, batched = score_records_loop(records, bare), score_records(records, bare, batch_size=4)
    assert [i.id for i in loop.issues] == [i.id for i in batched.issues] == ["r0", "r1"]  # one token each
    assert "nothing to score" in loop.issues[0].message
    for a, b in zip(batched.scores, loop.scores):
        assert a.n_tokens == b.n_tokens == len(bare.tokenizer(records[a.index]["text"],
                                                              add_special_tokens=False)["input_ids"]) - 1
        assert _rel(a.nll_sum, b.nll_sum) <= REL


def test_bad_records_become_issues_naming_them(scorer):
    records = [{"id": "ok1", "text": "一种图像压缩方法"}, {"id": "empty", "text": ""}, {"id": "blank", "text": " \n "},
               {"id": "number", "text": 12}, {"id": "missing", "body": "x"}, "not a record",
               {"id": "huge", "text": "字" * 2001}, {"text": "no id here"}, {"id": "ok2", "text": "hello"}]
    for score in (score_records, score_records_loop):
        result = score(records, scorer, max_chars=2000)
        assert [s.id for s in result.scores] == ["ok1", "#8", "ok2"]
        issues = {i.id: i.message for i in result.issues}
        assert list(issues) == ["empty", "blank", "number", "missing", "#6", "huge"]
        assert "'text' is empty" in issues["empty"] and "'text' is empty" in issues["blank"]
        assert "holds int, not text" in issues["number"] and "no 'text' field" in issues["missing"]
        assert "2,001 characters" in issues["huge"] and "studio chunk" in issues["huge"]
        assert all(message.startswith(f"record '{rid}'") for rid, message in issues.items())
        assert [i.code for i in result.issues] == ["empty", "empty", "not_text", "no_field", "not_a_record",
                                                   "too_long"]


def test_progress_reaches_one_and_cancel_raises(scorer, mixed_records):
    seen = []
    score_records(mixed_records[:6], scorer, batch_size=2, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and "tokens/s" in seen[-1][1]
    calls = []
    for score in (score_records, score_records_loop):
        calls.clear()
        with pytest.raises(Cancelled, match="cancelled after"):
            score(mixed_records, scorer, cancel=lambda: calls.append(1) or len(calls) > 2)


def test_window_settings_are_checked(scorer):
    with pytest.raises(ValueError, match="model's context"):
        score_records([{"text": "x"}], scorer, max_length=scorer.context + 1)
    with pytest.raises(ValueError, match="stride"):
        score_records([{"text": "x"}], scorer, max_length=16, stride=16)
    with pytest.raises(ValueError, match="batch_size"):
        score_records([{"text": "x"}], scorer, batch_size=0)


def test_4bit_reference_scores_finite_values_on_the_cpu(tiny_model_dir, scorer, mixed_records):
    from bitsandbytes.nn import Linear4bit

    quantised = load_scorer(str(tiny_model_dir), load_in_4bit=True)
    assert isinstance(quantised.model.model.layers[0].mlp.up_proj, Linear4bit)
    records = mixed_records[2:7]
    result = score_records(records, quantised, batch_size=4)
    full = score_records(records, scorer, batch_size=4)
    assert [s.n_tokens for s in result.scores] == [s.n_tokens for s in full.scores]
    for q, f in zip(result.scores, full.scores):
        assert math.isfinite(q.ppl) and q.ppl > 1
        assert _rel(q.ppl, f.ppl) < 0.2  # NF4 moves the scores a little, not the picture


@pytest.fixture(scope="module")
def mixed_upload(tmp_path_factory):
    """The records of a mixed upload as ingestion gives them: alpaca pairs are chats by then."""
    return ingest_paths([str(write_mixed(tmp_path_factory.mktemp("mixed") / "mixed.jsonl"))]).records


def test_chat_and_instruction_records_are_scored_on_their_assistant_turns(scorer, mixed_upload):
    assert sum("messages" in r for r in mixed_upload) == N_CHAT + N_ALPACA
    result = score_records(mixed_upload, scorer, batch_size=4)
    assert not result.issues and [s.id for s in result.scores] == [r["id"] for r in mixed_upload]
    assert result.chat_tokens == "assistant"
    for score in result.scores:
        record = mixed_upload[score.index]
        if "messages" in record:  # the assistant tokens after position 0, as the training mask has them
            assert score.n_tokens == sum(encode_chat(scorer.tokenizer, record["messages"]).loss_mask[1:])
        else:
            assert score.n_tokens == len(scorer.tokenizer(record["text"], add_special_tokens=False)["input_ids"])


def test_a_chat_is_scored_on_exactly_the_loss_training_computes(scorer, mixed_upload):
    from studio.train.data import encode_all

    chats = [r for r in mixed_upload if "messages" in r]
    examples, _ = encode_all(chats, scorer.tokenizer, 512)
    result = score_records(chats, scorer, batch_size=3)
    for example, score in zip(examples, result.scores, strict=True):
        with torch.inference_mode():
            mean = scorer.model(input_ids=torch.tensor([example.input_ids]),
                                labels=torch.tensor([example.labels])).loss.item()
        n = sum(label != -100 for label in example.labels[1:])
        assert score.id == example.id and score.n_tokens == n
        assert _rel(score.nll_sum, mean * n) <= REL


def test_whole_conversation_scoring_and_long_chats_in_windows(scorer, mixed_upload):
    docs = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines()]
    zh = next(d["text"] for d in docs if d["lang"] == "zh")
    long_chat = {"id": "long", "messages": [{"role": "user", "content": zh[:300]},
                                            {"role": "assistant", "content": zh[300:700]}]}
    records = [r for r in mixed_upload if "messages" in r] + [long_chat]
    counts = {}
    for mode in ("assistant", "conversation"):
        loop = score_records_loop(records, scorer, chat_tokens=mode, max_length=64, stride=32)
        batched = score_records(records, scorer, chat_tokens=mode, max_length=64, stride=32, batch_size=4)
        assert not loop.issues and not batched.issues
        for a, b in zip(batched.scores, loop.scores, strict=True):
            assert a.n_tokens == b.n_tokens and _rel(a.nll_sum, b.nll_sum) <= REL
        counts[mode] = [s.n_tokens for s in loop.scores]
    rendered = [len(encode_chat(scorer.tokenizer, r["messages"]).input_ids) for r in records]
    assert rendered[-1] > 64  # the long chat really is scored in several windows
    assert counts["conversation"] == [n - 1 for n in rendered]
    assert all(a < c for a, c in zip(counts["assistant"], counts["conversation"]))
    with pytest.raises(ValueError, match="chat_tokens"):
        score_records(records, scorer, chat_tokens="user")


def test_chats_that_cannot_be_rendered_are_issues_with_a_reason(tiny_model_dir, scorer):
    text = {"id": "t", "text": "一种图像压缩方法"}
    records = [text, {"id": "tool", "messages": [{"role": "tool", "content": "{}"},
                                                 {"role": "assistant", "content": "ok"}]},
               {"id": "flat", "messages": "not a list"},
               {"id": "huge", "messages": [{"role": "user", "content": "字" * 50},
                                           {"role": "assistant", "content": "x"}]}]
    for score in (score_records, score_records_loop):
        result = score(records, scorer, max_chars=40)
        assert [s.id for s in result.scores] == ["t"]
        assert [(i.id, i.code) for i in result.issues] == [("tool", "template_error"), ("flat", "bad_chat"),
                                                           ("huge", "too_long")]
        assert "Unsupported role" in result.issues[0].message
    plain = load_scorer(str(tiny_model_dir))
    plain.tokenizer.chat_template = None  # a base model's tokenizer
    result = score_records([text, *records[1:2]], plain)
    assert [s.id for s in result.scores] == ["t"] and [i.code for i in result.issues] == ["no_chat_template"]
