"""Conversations → token ids through the tokenizer's own chat template, and the token ids a turn ends with.

The template is rendered to text and then tokenized with `add_special_tokens=False`: templates write their own
BOS, and letting the tokenizer add another would give the model a prompt it never saw in training.
"""

from __future__ import annotations

from typing import Any

_MARKER = "Zq7xMarker"  # stands in for an assistant answer when locating the template's end-of-turn token


def with_system(messages: list[dict], system_prompt: str | None) -> list[dict]:
    """The conversation with the settings' system prompt in front; it replaces a leading system message."""
    if not system_prompt:
        return list(messages)
    rest = messages[1:] if messages and messages[0].get("role") == "system" else messages
    return [{"role": "system", "content": system_prompt}, *rest]


def render(tokenizer: Any, messages: list[dict], add_generation_prompt: bool) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{tokenizer.name_or_path}: the tokenizer has no chat template, so it cannot chat "
                         "(base models without one can be compared on perplexity of plain text instead)")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def prompt_ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    """The conversation rendered with the generation prompt (the assistant's turn opened), as token ids."""
    return tokenizer(render(tokenizer, messages, True), add_special_tokens=False)["input_ids"]


def answer_ids(tokenizer: Any, answer: str) -> list[int]:
    """An assistant answer's own tokens, as they follow the generation prompt (no end-of-turn token)."""
    return tokenizer(answer, add_special_tokens=False)["input_ids"]


def end_of_turn_id(tokenizer: Any) -> int | None:
    """The special token the template writes right after an assistant answer (<|end|>, <|im_end|>, <|eot_id|>),
    found by rendering a conversation; None when the template writes no special token there."""
    try:
        text = render(tokenizer, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": _MARKER}],
                      False)
    except Exception:  # noqa: BLE001 — a template that rejects this probe simply has no detectable end token
        return None
    at = text.rfind(_MARKER)
    if at < 0:
        return None
    after = tokenizer(text[at + len(_MARKER):], add_special_tokens=False)["input_ids"]
    special = set(tokenizer.all_special_ids)
    return after[0] if after and after[0] in special else None


def stop_ids(tokenizer: Any, generation_config: Any) -> list[int]:
    """Every token that ends an answer: the model's EOS ids, the tokenizer's EOS and the template's end of turn."""
    ids: list[int] = []
    model_eos = getattr(generation_config, "eos_token_id", None)
    candidates = model_eos if isinstance(model_eos, list) else [model_eos]
    for token in [*candidates, tokenizer.eos_token_id, end_of_turn_id(tokenizer)]:
        if token is not None and token not in ids:
            ids.append(int(token))
    return ids
