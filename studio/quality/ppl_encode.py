"""What perplexity scores of a record: its token ids, which of them are targets, or why it cannot be scored.

Text records are tokenized without special tokens behind one prefix token (perplexity.py says which). Chat records
(a `messages` list; alpaca, ShareGPT and prompt/completion records are chats after ingestion) are rendered by the
reference tokenizer's chat template through `studio.data.templates.encode_chat`, the function training encodes
chats with, so the tokens scored are the tokens trained.

Which tokens of a chat are targets is the `chat_tokens` choice:
- "assistant" (the default): the assistant turns, each predicted in the context of everything before it — the
  loss mask training uses. A high score then means an answer the reference model finds unlikely after its
  question: a garbled, mis-encoded or mismatched answer, which is what the model would learn. The system prompt,
  the questions and the template's markers are context, never targets; scoring them would mostly measure a
  system prompt shared by every record and the template's fixed markers.
- "conversation": every token of the rendering after the first (which nothing precedes), questions included; for
  finding noisy prompts as well as answers.

Every record that cannot be scored gets a `ScoreIssue` with a reason code (UNSCORED_REASONS), so reports count
them by reason and the UI words them; the message names the record for logs and the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.quality.records import RecordTextError, record_id, record_text

CHAT_TOKENS = ("assistant", "conversation")
DEFAULT_CHAT_TOKENS = "assistant"
DEFAULT_MAX_CHARS = 1_000_000  # characters; longer texts should be chunked first (one record = minutes of CPU)
UNSCORED_REASONS = (
    "not_a_record",  # not a JSON object
    "no_field",  # a text record without the text field
    "not_text",  # the text field holds a number, list or object
    "empty",  # the text is empty or blank
    "too_long",  # over the character limit: chunk it first
    "bad_chat",  # `messages` is not a list of {role, content} turns
    "no_chat_template",  # the reference tokenizer cannot render chats
    "template_error",  # the chat template refused the conversation (e.g. a role it does not know)
    "no_assistant_tokens",  # "assistant" scoring, and the rendering has no assistant token
    "too_short",  # one token and no prefix token to predict it from
    "not_finite",  # the model's loss is NaN or infinite
)


@dataclass(frozen=True)
class ScoreIssue:
    """A record that was not scored, and why."""

    id: str
    index: int  # position in the input sequence (0-based)
    message: str
    code: str  # one of UNSCORED_REASONS


@dataclass(frozen=True)
class Encoded:
    """A record as scored: ids and a 0/1 target mask of the same length (position 0 is never a target)."""

    ids: list[int]
    mask: list[int]

    @property
    def n_tokens(self) -> int:
        return sum(self.mask)


Unit = tuple[int, str, object]  # (index, id, text or messages) of a record that passed `check_records`


def check_chat_tokens(chat_tokens: str) -> str:
    if chat_tokens not in CHAT_TOKENS:
        raise ValueError(f"chat_tokens: {chat_tokens!r}; expected one of {', '.join(CHAT_TOKENS)}")
    return chat_tokens


def is_chat(record: object) -> bool:
    return isinstance(record, dict) and "messages" in record


def check_records(records: Sequence[dict], field: str = "text", max_chars: int = DEFAULT_MAX_CHARS
                  ) -> tuple[list[Unit], list[ScoreIssue]]:
    """(index, id, text or messages) of every record that can be encoded, and an issue for each other one.

    Needs no tokenizer, so a command can list these problems before it loads a model."""
    good, issues = [], []
    for index, record in enumerate(records):
        rid = record_id(record, index)
        try:
            value = _chat_value(record, max_chars) if is_chat(record) else _text_value(record, field, max_chars)
        except RecordTextError as exc:
            issues.append(ScoreIssue(rid, index, f"record {rid!r}: {exc}", exc.code))
        else:
            good.append((index, rid, value))
    return good, issues


def _text_value(record: object, field: str, max_chars: int) -> str:
    value = record_text(record, field)
    if len(value) > max_chars:
        raise RecordTextError("too_long", f"field {field!r} holds {len(value):,} characters, over the scoring limit "
                                          f"of {max_chars:,}; split it with `python -m studio chunk` first")
    return value


def _chat_value(record: dict, max_chars: int) -> list[dict]:
    turns = record["messages"]
    if not isinstance(turns, list) or not turns or not all(
            isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("content"), str)
            for t in turns):
        raise RecordTextError("bad_chat", "'messages' is not a list of {role, content} turns; read the file in the "
                                          "Data tab, which converts chat formats, or fix the record")
    chars = sum(len(t["content"]) for t in turns)
    if chars > max_chars:
        raise RecordTextError("too_long", f"the conversation holds {chars:,} characters, over the scoring limit of "
                                          f"{max_chars:,}; shorten it or remove the record")
    return turns


def encode_units(tokenizer, prefix_id: int | None, units: Sequence[Unit], chat_tokens: str = DEFAULT_CHAT_TOKENS
                 ) -> list[Encoded | ScoreIssue]:
    """Each unit encoded, or the issue that stops it being scored; texts are tokenized in one call."""
    texts = [(slot, value) for slot, (_, _, value) in enumerate(units) if isinstance(value, str)]
    out: list[Encoded | ScoreIssue | None] = [None] * len(units)
    if texts:
        encoded = tokenizer([value for _, value in texts], add_special_tokens=False, verbose=False)["input_ids"]
        for (slot, _), token_ids in zip(texts, encoded):
            out[slot] = _text_encoded(units[slot], list(token_ids), prefix_id)
    for slot, unit in enumerate(units):
        if out[slot] is None:
            out[slot] = _chat_encoded(tokenizer, unit, chat_tokens)
    return out


def _text_encoded(unit: Unit, token_ids: list[int], prefix_id: int | None) -> Encoded | ScoreIssue:
    # The prefix is context, never a target; without one the first token has nothing to be predicted from.
    ids = token_ids if prefix_id is None else [prefix_id, *token_ids]
    if len(ids) < 2:
        index, rid, _ = unit
        return ScoreIssue(rid, index, f"record {rid!r}: {len(token_ids)} token(s) and the tokenizer has no BOS/EOS "
                                      f"to predict the first from; nothing to score", "too_short")
    return Encoded(ids, [0] + [1] * (len(ids) - 1))


def _chat_encoded(tokenizer, unit: Unit, chat_tokens: str) -> Encoded | ScoreIssue:
    from jinja2 import TemplateError

    from studio.data.templates import encode_chat

    index, rid, messages = unit
    if not getattr(tokenizer, "chat_template", None):
        return ScoreIssue(rid, index, f"record {rid!r}: the reference model's tokenizer has no chat template, so "
                                      f"chats cannot be rendered; pick a chat model as the reference",
                          "no_chat_template")
    try:
        example = encode_chat(tokenizer, messages)
    except (TemplateError, ValueError, TypeError, KeyError) as exc:
        return ScoreIssue(rid, index, f"record {rid!r}: the chat template refused the conversation ({exc})",
                          "template_error")
    ids = example.input_ids
    mask = list(example.loss_mask) if chat_tokens == "assistant" else [1] * len(ids)
    mask = [0, *mask[1:len(ids)]] if ids else []
    if not any(mask):
        what = "no assistant token" if chat_tokens == "assistant" else f"{len(ids)} token(s)"
        code = "no_assistant_tokens" if chat_tokens == "assistant" else "too_short"
        return ScoreIssue(rid, index, f"record {rid!r}: the rendered conversation has {what} to score", code)
    return Encoded(ids, mask)
