"""Examples as the model sees them: token ids plus which tokens carry loss.

Chat records use the tokenizer's own chat template, with loss on assistant tokens only; raw text carries loss on
every token (continued pre-training). The trainer and the Data tab's rendered view both call these, so what is
shown is exactly what is trained.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EncodedExample:
    input_ids: list[int]
    loss_mask: list[int]  # 1 where the token is predicted with loss, 0 where it is context only
    truncated: bool  # True when max_length cut the example

    @property
    def n_tokens(self) -> int:
        return len(self.input_ids)


def _render_ids(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt,
                                        return_dict=True)
    return list(out["input_ids"])


def _mask_by_prefixes(tokenizer, messages: list[dict], ids: list[int]) -> list[int]:
    """Assistant spans found by rendering growing prefixes, for templates without {% generation %} markers.

    The span of assistant turn k is what rendering messages[:k+1] adds to messages[:k] with the generation prompt.
    """
    mask = [0] * len(ids)
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(_render_ids(tokenizer, messages[:k], add_generation_prompt=True))
        end = len(_render_ids(tokenizer, messages[: k + 1]))
        for i in range(start, min(end, len(ids))):
            mask[i] = 1
    return mask


def encode_chat(tokenizer, messages: list[dict], max_length: int | None = None) -> EncodedExample:
    """Token ids of a conversation with the loss mask on assistant turns; truncation keeps the start."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; pick a chat model or set data.template")
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = list(out["input_ids"]), list(out.get("assistant_masks") or [])
    if not any(mask):
        mask = _mask_by_prefixes(tokenizer, messages, ids)
    return _truncate(ids, mask, max_length)


def encode_text(tokenizer, text: str, max_length: int | None = None) -> EncodedExample:
    """Raw text for continued pre-training: BOS (if the tokenizer adds one) + text + EOS, loss on every token."""
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    if tokenizer.eos_token_id is not None and (not ids or ids[-1] != tokenizer.eos_token_id):
        ids.append(tokenizer.eos_token_id)  # so the model learns where a document ends
    return _truncate(ids, [1] * len(ids), max_length)


def encode_record(tokenizer, record: dict, max_length: int | None = None) -> EncodedExample:
    if "messages" in record:
        return encode_chat(tokenizer, record["messages"], max_length)
    return encode_text(tokenizer, record["text"], max_length)


def _truncate(ids: list[int], mask: list[int], max_length: int | None) -> EncodedExample:
    if max_length is not None and len(ids) > max_length:
        return EncodedExample(ids[:max_length], mask[:max_length], True)
    return EncodedExample(ids, mask, False)
