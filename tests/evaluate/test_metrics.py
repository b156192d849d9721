"""Metrics of one answer, against values worked out by hand."""

import math

import pytest

from studio.evaluate.metrics import (answer_schema_valid, exact_match, json_valid, lcs_length, parse_json,
                                     perplexity, rouge_l, strip_fence, tokens)

INTENT = '{"intent": "set_alarm", "slots": {"time": "6点"}}'


@pytest.mark.parametrize("text", [INTENT, "  " + INTENT + "\n", "[1, 2]", "```json\n" + INTENT + "\n```",
                                  "```\n" + INTENT + "\n```", "\n```JSON\n" + INTENT + "```\n", "{}"])
def test_json_objects_and_arrays_count_bare_or_in_one_fence(text):
    assert json_valid(text)


@pytest.mark.parametrize("text", ["", "6", '"set_alarm"', "true", "null",  # JSON, but not an answer object
                                  "Sure! " + INTENT, INTENT + " Hope this helps", INTENT + INTENT,
                                  '{"intent": "set_alarm", "slots": {', "{'intent': 'x'}", '{"a": NaN}',
                                  '{"a": Infinity}', "```json\n" + INTENT, "Here:\n```json\n" + INTENT + "\n```"])
def test_prose_around_json_truncation_scalars_and_non_json_constants_do_not_count(text):
    assert not json_valid(text)


def test_strip_fence_only_removes_a_fence_around_the_whole_answer():
    assert strip_fence("```json\n{}\n```") == "{}"
    assert strip_fence("a ```json\n{}\n``` b") == "a ```json\n{}\n``` b"
    assert parse_json("```json\n[1]\n```") == (True, [1])


def test_exact_match_compares_parsed_json_ignoring_order_and_spacing():
    assert exact_match('{"slots":{"time":"6点"},"intent":"set_alarm"}', INTENT)
    assert exact_match("```json\n" + INTENT + "\n```", INTENT)
    assert not exact_match('{"intent": "set_alarm", "slots": {"time": "7点"}}', INTENT)
    assert not exact_match("not json", INTENT)
    assert not exact_match('{"on": 1}', '{"on": true}')  # Python says True == 1; JSON does not
    assert exact_match('{"n": 1.0}', '{"n": 1}')  # one JSON number


def test_exact_match_of_text_collapses_whitespace_but_keeps_case():
    assert exact_match("  Paris\n is  nice ", "Paris is nice")
    assert not exact_match("paris is nice", "Paris is nice")
    assert exact_match("6", "6")  # a bare number reference is text: compared as text


def test_tokens_are_words_for_latin_and_characters_for_cjk():
    assert tokens("The cat, the HAT!") == ["the", "cat", "the", "hat"]
    assert tokens("明天6点叫醒我。") == ["明", "天", "6", "点", "叫", "醒", "我"]
    assert tokens("打开WiFi设置") == ["打", "开", "wifi", "设", "置"]
    assert tokens("ありがとう 안녕") == ["あ", "り", "が", "と", "う", "안", "녕"]
    assert tokens(INTENT) == ["intent", "set_alarm", "slots", "time", "6", "点"]


def test_lcs_length():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4  # the textbook example (CLRS)
    assert lcs_length([], list("abc")) == 0


def test_rouge_l_by_hand():
    # LCS "the cat on the mat" = 5 of 6 tokens on both sides: P = R = F = 5/6
    assert rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    # LCS "a c e" = 3: P = 3/5, R = 3/3, F = 2PR/(P+R) = 0.75
    assert rouge_l("a b c d e", "a c e") == pytest.approx(0.75)
    assert rouge_l("a c e", "a b c d e") == pytest.approx(0.75)  # F1 is symmetric
    assert rouge_l("x y", "a b") == 0.0


def test_rouge_l_on_chinese_is_per_character():
    # 9 characters vs 6; all 6 of the reference appear in order: P = 6/9, R = 1, F = 0.8
    assert rouge_l("明天早上六点叫醒我", "明天六点叫我") == pytest.approx(0.8)
    # English word inside Chinese is one token: [打 开 wifi 设 置] vs [打 开 wifi]: P = 3/5, R = 1, F = 0.75
    assert rouge_l("打开WiFi设置", "打开 wifi") == pytest.approx(0.75)
    assert rouge_l("叫醒我", "叫醒我") == 1.0


def test_rouge_l_of_empty_texts():
    assert rouge_l("", "") == 1.0 and rouge_l("...", "!") == 1.0
    assert rouge_l("", "a") == 0.0 and rouge_l("a", "") == 0.0


def test_perplexity_is_exp_of_mean_nll():
    assert perplexity(4 * math.log(2), 2) == pytest.approx(4.0)
    assert perplexity(0.0, 5) == 1.0
    assert perplexity(1.0, 0) is None
    assert perplexity(1e6, 1) == math.inf


def test_answer_schema_valid_needs_valid_json_first():
    schema = {"type": "object", "required": ["intent"]}
    assert answer_schema_valid('{"intent": "x"}', schema)
    assert not answer_schema_valid('{"slots": {}}', schema)
    assert not answer_schema_valid("intent: x", schema)
