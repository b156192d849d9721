"""Conversations through the tokenizer's chat template, and the tokens that end an answer."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.chat import prompts


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def test_the_prompt_is_the_template_with_the_assistant_turn_opened_and_one_bos(tokenizer):
    ids = prompts.prompt_ids(tokenizer, [{"role": "user", "content": "hi"}])
    assert tokenizer.decode(ids) == "<s><|user|>hi<|end|>\n<|assistant|>"
    assert ids.count(tokenizer.bos_token_id) == 1  # the template writes BOS; tokenizing must not add another


def test_the_end_of_turn_token_is_found_from_the_template(tokenizer):
    assert prompts.end_of_turn_id(tokenizer) == tokenizer.convert_tokens_to_ids("<|end|>")
    assert prompts.stop_ids(tokenizer, None) == [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|end|>")]


def test_a_template_that_ends_turns_with_plain_text_has_no_end_token(tokenizer):
    plain = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    plain.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    assert prompts.end_of_turn_id(plain) is None


def test_no_chat_template_is_a_clear_error(tokenizer):
    bare = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    bare.chat_template = None
    with pytest.raises(ValueError, match="no chat template"):
        prompts.prompt_ids(bare, [{"role": "user", "content": "hi"}])
    assert prompts.end_of_turn_id(bare) is None


def test_the_system_prompt_goes_first_and_replaces_a_leading_one():
    user = {"role": "user", "content": "hi"}
    assert prompts.with_system([user], None) == [user]
    assert prompts.with_system([user], "be brief") == [{"role": "system", "content": "be brief"}, user]
    assert prompts.with_system([{"role": "system", "content": "old"}, user], "new") == [
        {"role": "system", "content": "new"}, user]
