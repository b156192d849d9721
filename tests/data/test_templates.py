"""What the model sees: chat template applied, loss only where it should be."""

import pytest
from transformers import AutoTokenizer

from studio.assets import DEMO_MODEL_DIR
from studio.data.templates import encode_chat, encode_record, encode_text

CHAT = [{"role": "system", "content": "Parse the request into JSON with intent and slots."},
        {"role": "user", "content": "明天早上7点叫醒我"},
        {"role": "assistant", "content": '{"intent": "set_alarm", "slots": {"time": "7点"}}'}]


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def test_loss_only_on_the_assistant_answer(tokenizer):
    example = encode_chat(tokenizer, CHAT)
    learned = [t for t, m in zip(example.input_ids, example.loss_mask) if m]
    assert tokenizer.decode(learned) == CHAT[2]["content"] + "<|end|>"
    assert example.n_tokens == len(example.loss_mask) and not example.truncated


def test_prefix_fallback_agrees_with_generation_markers(tokenizer):
    marked = encode_chat(tokenizer, CHAT)
    plain = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    plain.chat_template = plain.chat_template.replace("{%- generation -%}", "").replace("{%- endgeneration -%}", "")
    assert "endgeneration" not in plain.chat_template
    fallback = encode_chat(plain, CHAT)
    assert fallback.input_ids == marked.input_ids
    # Prefix rendering also counts the template's glue after <|end|> (a newline): harmless, and nothing else.
    assert all(f >= m for f, m in zip(fallback.loss_mask, marked.loss_mask))
    extra = [t for t, f, m in zip(fallback.input_ids, fallback.loss_mask, marked.loss_mask) if f and not m]
    assert tokenizer.decode(extra).strip() == ""


def test_raw_text_learns_every_token_and_its_end(tokenizer):
    example = encode_text(tokenizer, "步骤1：将电池放入壳体。")
    assert example.input_ids[0] == tokenizer.bos_token_id and example.input_ids[-1] == tokenizer.eos_token_id
    assert all(example.loss_mask)


def test_truncation_keeps_the_start_and_says_so(tokenizer):
    example = encode_record(tokenizer, {"messages": CHAT}, max_length=10)
    assert example.truncated and example.n_tokens == 10
    assert example.input_ids == encode_chat(tokenizer, CHAT).input_ids[:10]


def test_a_tokenizer_without_template_is_a_clear_error(tokenizer):
    bare = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    bare.chat_template = None
    with pytest.raises(ValueError, match="no chat template"):
        encode_chat(bare, CHAT)
