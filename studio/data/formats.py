"""Record formats: detecting which one a file uses, which field holds what, and converting to the internal shape.

Formats and the field names recognised for them (case-insensitive; the most common one in the sample wins):

- text: `text`, `content`, `body`, `document`, `passage`, `article` (文本, 正文, 内容) — raw text for continued
  pre-training;
- alpaca: `instruction`, `input` (optional), `output` (指令, 输入, 输出), optional `system` and `history`
  ([[user, assistant], ...]);
- messages: `messages` (or `conversation(s)`, `dialog`, `chat`, 对话) — a list of {role, content};
- sharegpt: the same fields holding {from, value} turns with human/gpt/system roles;
- prompt_completion: `prompt`/`completion`, `question`/`answer`, `query`/`response` (问题/答案, 提问/回答),
  optional `system`. `input`/`output` without an instruction is read as a prompt/completion pair.

A record fitting several formats is read as the first of messages, alpaca, prompt_completion, text; a `text` field
next to chat or instruction fields is dropped (it is usually the same example rendered as one string).

A mapping is {internal field: source field}, e.g. {"instruction": "query", "output": "response"}; it may also name
the `id` field. Internal shape: {"text": ...} or {"messages": [{"role", "content"}, ...]} plus the record's other
fields; alpaca and prompt/completion become messages (instruction + "\n\n" + input is the user turn).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

FORMATS = ("messages", "sharegpt", "alpaca", "prompt_completion", "text")
"""In order of preference when a record fits several."""

# Chinese column names are common in exports of Chinese labelling tools.
_SYSTEM = ("system", "system_prompt", "系统提示")
_CHAT = ("messages", "conversation", "conversations", "dialog", "dialogue", "chat", "对话")
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "text": {"text": ("text", "content", "body", "document", "passage", "article", "raw_text", "文本", "正文", "内容")},
    "alpaca": {"instruction": ("instruction", "指令"), "input": ("input", "输入"), "output": ("output", "输出"),
               "system": _SYSTEM, "history": ("history", "历史")},
    "messages": {"messages": _CHAT, "system": _SYSTEM},
    "sharegpt": {"messages": _CHAT, "system": _SYSTEM},
    "prompt_completion": {"prompt": ("prompt", "question", "query", "input", "问题", "提问", "输入"),
                          "completion": ("completion", "answer", "response", "output", "答案", "回答", "输出"),
                          "system": _SYSTEM},
}
REQUIRED = {"text": ("text",), "alpaca": ("instruction", "output"), "messages": ("messages",),
            "sharegpt": ("messages",), "prompt_completion": ("prompt", "completion")}
ID_ALIASES = ("id",)
RESERVED = frozenset({"id", "source", "text", "messages"})
"""Fields the internal shape sets itself; a record's own `id` and `source` are used for them when present."""

ROLES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant",
         "bot": "assistant", "model": "assistant", "chatgpt": "assistant", "tool": "tool", "function": "tool",
         "observation": "tool"}
_SAMPLE = 1000

ACCEPTED = ("text/content/body (raw text), instruction+output (alpaca), messages with role/content (chat), "
            "conversations with from/value (ShareGPT), prompt+completion, question+answer or query+response")


class RecordError(ValueError):
    """A record that cannot be used; the message says what is wrong and what to do."""


def _find(row: Mapping, names: Sequence[str]) -> str | None:
    """The key of `row` matching one of `names` (case and surrounding spaces ignored), in the order of `names`."""
    keys = {str(k).strip().lower(): k for k in row}
    for name in names:
        if name in keys:
            return keys[name]
    return None


def _turns_of(value: object) -> list | None:
    """The list of turns a messages field holds (a JSON string of one, as CSV exports store it, is parsed)."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, list) and value and isinstance(value[0], Mapping) else None


def _sharegpt_style(turns: list) -> bool:
    return _find(turns[0], ("from", "value")) is not None and _find(turns[0], ("role",)) is None


def fits(row: Mapping, fmt: str, mapping: Mapping[str, str]) -> bool:
    """True when the row has every required field of `fmt` under `mapping` (messages and sharegpt are one shape:
    a list of turns, whichever keys the turns use)."""
    for internal in REQUIRED[fmt]:
        source = mapping.get(internal)
        if source is None or row.get(source) is None:
            return False
    if fmt in ("messages", "sharegpt"):
        return _turns_of(row[mapping["messages"]]) is not None
    return True


def why_not(row: Mapping, fmt: str, mapping: Mapping[str, str]) -> str:
    """What keeps `row` from fitting `fmt` ("" when it fits), naming the fields."""
    problems = []
    for internal in REQUIRED[fmt]:
        source = mapping.get(internal)
        if source is None or source not in row:
            problems.append(f"no {internal} field" + (f" ({source!r})" if source and source != internal else ""))
        elif row[source] is None:
            problems.append(f"{source!r} is null")
        elif fmt in ("messages", "sharegpt") and _turns_of(row[source]) is None:
            problems.append(f"{source!r} is not a list of {{role, content}} turns")
    return "; ".join(problems)


def map_fields(rows: Sequence[Mapping], fmt: str, fixed: Mapping[str, str]) -> dict[str, str]:
    """Each internal field of `fmt` mapped to the source field most rows have (`fixed` entries kept as given);
    among equally common ones the earlier alias wins."""
    mapping: dict[str, str] = {}
    for internal, names in ALIASES[fmt].items():
        if internal in fixed:
            mapping[internal] = fixed[internal]
            continue
        names = [n for n in names if n not in fixed.values()]
        counts: dict[str, list[int]] = {}
        for row in rows:
            key = _find(row, names)
            if key is not None:
                counts.setdefault(key, [0, -names.index(str(key).strip().lower())])[0] += 1
        if counts:
            mapping[internal] = max(counts, key=counts.__getitem__)
    if "id" in fixed:
        mapping["id"] = fixed["id"]
    else:
        key = next((k for row in rows if (k := _find(row, ID_ALIASES)) is not None), None)
        if key is not None:
            mapping["id"] = key
    return mapping


def format_of_mapping(mapping: Mapping[str, str]) -> str | None:
    """The format whose fields a user's mapping names (None when it names only id or system)."""
    keys = set(mapping) - {"id", "system"}
    for fmt in ("alpaca", "prompt_completion", "text", "messages"):
        if keys and keys <= set(ALIASES[fmt]):
            return fmt
    return None


def detect_format(rows: Sequence[Mapping], mapping: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The format most of the first 1000 rows fit and its field mapping; ("unknown", {}) when none fits.

    `mapping` entries are kept as given and only the rest is detected; a mapping naming alpaca or
    prompt/completion fields (instruction, prompt, ...) selects that format. A list of turns is "sharegpt" when
    most of them use from/value, else "messages".
    """
    sample = [row for row in rows[:_SAMPLE] if isinstance(row, Mapping)]
    fixed = dict(mapping or {})
    forced = format_of_mapping(fixed)
    best, best_count, best_mapping = "unknown", 0, {}
    for fmt in FORMATS:
        if fmt == "sharegpt" or forced not in (None, fmt):
            continue
        found = map_fields(sample, fmt, fixed)
        count = sum(fits(row, fmt, found) for row in sample)
        if count > best_count:
            best, best_count, best_mapping = fmt, count, found
    if best == "messages":
        styles = [_sharegpt_style(t) for row in sample if (t := _turns_of(row.get(best_mapping["messages"])))]
        if sum(styles) * 2 > len(styles):
            best = "sharegpt"
    return best, best_mapping


def check_mapping(rows: Sequence[Mapping], fmt: str, mapping: Mapping[str, str]) -> str:
    """"" when `mapping` can work for `fmt`; else what is wrong with it and what to do."""
    known = set(ALIASES[fmt]) | {"id"}
    unknown = sorted(set(mapping) - known)
    if unknown:
        return (f"mapping names {', '.join(map(repr, unknown))}, which the {fmt} format does not have; its fields "
                f"are {', '.join(sorted(known))}")
    missing = [i for i in REQUIRED[fmt] if i not in mapping]
    if missing:
        return (f"no field for {', '.join(missing)} of the {fmt} format; pass a mapping naming the field that holds "
                f"it, e.g. {{{missing[0]!r}: 'your_field'}}")
    sample = [row for row in rows[:_SAMPLE] if isinstance(row, Mapping)]
    present = {key for row in sample for key in row}
    absent = [f"{internal} → {source!r}" for internal, source in mapping.items() if source not in present]
    if absent:
        return (f"the mapping's {', '.join(absent)} is not a field of these records (fields found: "
                f"{', '.join(map(str, sorted(present, key=str)))}); fix the mapping")
    return ""


def _content(value: object, what: str) -> str:
    if isinstance(value, list):  # OpenAI-style parts: [{"type": "text", "text": "..."}]
        value = "".join(p.get("text", "") if isinstance(p, Mapping) else str(p) for p in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        raise RecordError(f"{what} is missing; fill it in or remove the record")
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise RecordError(f"{what} is empty; fill it in or remove the record")
    return text


def _turns(value: object) -> list[dict]:
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RecordError(f"the conversation is text that is not valid JSON ({exc.msg}); store it as a list "
                              f"of {{role, content}} objects") from None
    if not isinstance(value, list) or not value:
        raise RecordError("the conversation is empty or not a list of turns; fix or remove the record")
    messages = []
    for n, turn in enumerate(value, start=1):
        if not isinstance(turn, Mapping):
            raise RecordError(f"turn {n} is not an object with role and content; fix or remove the record")
        role_key, content_key = _find(turn, ("role", "from", "speaker")), _find(turn, ("content", "value", "text"))
        raw_role = turn.get(role_key) if role_key is not None else None
        role = ROLES.get(str(raw_role).strip().lower()) if raw_role is not None else None
        if role is None:
            raise RecordError(f"turn {n} has role {raw_role!r}; use system, user or assistant (ShareGPT: system, "
                              f"human, gpt), or fix or remove the record")
        content = turn.get(content_key) if content_key is not None else None
        if role == "system" and (content is None or not str(content).strip()):
            continue  # an empty system prompt says nothing; dropping it loses nothing
        messages.append({"role": role, "content": _content(content, f"turn {n} ({role}) content")})
    if not any(m["role"] == "assistant" for m in messages):
        raise RecordError("the conversation has no assistant turn, so there is nothing to learn; add the answer or "
                          "remove the record")
    return messages


def _system(row: Mapping, mapping: Mapping[str, str]) -> list[dict]:
    value = row.get(mapping["system"]) if "system" in mapping else None
    return [{"role": "system", "content": str(value)}] if value is not None and str(value).strip() else []


def _history(value: object) -> list[dict]:
    if value in (None, "", []):
        return []
    if not isinstance(value, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        raise RecordError("history must be a list of [user, assistant] pairs; fix or remove the record")
    return [{"role": role, "content": _content(text, f"history {role} turn")}
            for pair in value for role, text in zip(("user", "assistant"), pair, strict=True)]


def convert(row: Mapping, fmt: str, mapping: Mapping[str, str]) -> dict:
    """The row's body in the internal shape ({"text"} or {"messages"}) plus its other fields (not id/source).

    Raises RecordError when the row cannot be used.
    """
    used = set(mapping.values())
    extra = {k: v for k, v in row.items() if k not in used and k not in RESERVED and isinstance(k, str)}
    if fmt == "text":
        value = row.get(mapping["text"])
        if isinstance(value, (dict, list)):
            raise RecordError(f"field {mapping['text']!r} holds {type(value).__name__}, not text; map the text "
                              f"field with mapping={{'text': 'field'}}")
        return {"text": _content(value, f"field {mapping['text']!r}"), **extra}
    if fmt in ("messages", "sharegpt"):
        messages = _turns(row.get(mapping["messages"]))
        if messages[0]["role"] != "system":
            messages = _system(row, mapping) + messages
        return {"messages": messages, **extra}
    if fmt == "alpaca":
        instruction = row.get(mapping["instruction"])
        extra_input = row.get(mapping["input"]) if "input" in mapping else None
        parts = [str(p) for p in (instruction, extra_input) if p is not None and str(p).strip()]
        if not parts:
            raise RecordError(f"the instruction ({mapping['instruction']!r}) and input are empty; fill them in or "
                              f"remove the record")
        user = "\n\n".join(parts)
        output = _content(row.get(mapping["output"]), f"the output ({mapping['output']!r})")
        history = _history(row.get(mapping["history"])) if "history" in mapping else []
        return {"messages": [*_system(row, mapping), *history, {"role": "user", "content": user},
                             {"role": "assistant", "content": output}], **extra}
    if fmt == "prompt_completion":
        prompt = _content(row.get(mapping["prompt"]), f"the prompt ({mapping['prompt']!r})")
        completion = _content(row.get(mapping["completion"]), f"the completion ({mapping['completion']!r})")
        return {"messages": [*_system(row, mapping), {"role": "user", "content": prompt},
                             {"role": "assistant", "content": completion}], **extra}
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
