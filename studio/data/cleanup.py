"""Chat clean-up options, as pure functions over records in the internal shape: keep the latest turns of long
conversations (left truncation), strip filler words, drop records containing sensitive words.

Each returns new records (the input is not modified) and a report: {"changed_records", "changed_turns",
"examples": [(before, after), ...up to 3]}, plus "still_too_long" for truncation and "dropped_ids" for the
sensitive-word filter.

Word matching is CJK-aware: a word written with Chinese/Japanese characters matches anywhere (those scripts do not
separate words with spaces), a Latin word only as a whole word ("um" does not match "umbrella"), ignoring case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

DEFAULT_FILLERS = ("嗯", "呃", "um", "uh", "uhm", "umm", "erm", "hmm")
"""Fillers that are hardly ever anything else. Words such as 那个 ("that one") or "like" are fillers only in some
sentences; add them to the list when the data is transcribed speech where they are."""

_EXAMPLES = 3
_CLIP = 160  # characters of a turn shown in an example
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")
_PAUSE = r"(?:[,，、…~～]|\.\.\.)"
_SEPARATORS = re.compile(r"[\n,，、;；]+")

TokenCounter = Callable[[str], int]


def parse_word_list(text: str) -> list[str]:
    """Words from a user's text box: one per line or separated by commas (，、；), blanks and repeats dropped."""
    return list(dict.fromkeys(w.strip() for w in _SEPARATORS.split(text) if w.strip()))


def word_pattern(words: Iterable[str]) -> re.Pattern | None:
    """One case-insensitive pattern for all words: CJK words anywhere, Latin ones as whole words; longest first."""
    alternatives = []
    for word in sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True):
        escaped = re.escape(word)
        alternatives.append(escaped if _CJK.search(word) else rf"(?<![\w'’]){escaped}(?![\w'’])")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[:_CLIP - 1] + "…"


def _render(messages: Sequence[dict]) -> str:
    return "\n".join(f"{m['role']}: {_clip(m['content'])}" for m in messages)


def _counter(count: TokenCounter | object) -> TokenCounter:
    """A function counting tokens of a string, from such a function or a (fast or backend) tokenizer."""
    encode = getattr(count, "encode", None)
    if encode is None:
        if not callable(count):
            raise TypeError(f"count must be a tokenizer or a function str -> int, got {type(count).__name__}")
        return count

    def tokens(text: str) -> int:
        encoded = encode(text, add_special_tokens=False)
        return len(getattr(encoded, "ids", encoded))

    return tokens


def _keep_from(lengths: list[int], rest: list[dict], budget: int) -> tuple[int, bool]:
    """Where the kept turns start: the earliest user turn from which everything fits in `budget`, else the last
    user turn (the final exchange, still too long)."""
    starts = [i for i, m in enumerate(rest) if m["role"] == "user"] or [0]
    suffix = [0] * (len(rest) + 1)
    for i in range(len(rest) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + lengths[i]
    for start in starts:
        if suffix[start] <= budget:
            return start, False
    return starts[-1], True


def truncate_history(records: Sequence[dict], max_tokens: int, count: TokenCounter | object,
                     per_message_tokens: int = 4) -> tuple[list[dict], dict]:
    """Keep the latest turns of conversations longer than `max_tokens` (left truncation).

    Length = tokens of every message's content + `per_message_tokens` (role markers of a chat template).
    Leading system messages are always kept; the kept part starts at a user turn and ends with the last
    assistant turn. When even the system prompt plus the final exchange is too long, that is kept and counted in
    "still_too_long" (training truncates it further). Text records and conversations that fit are unchanged.
    """
    tokens = _counter(count)
    report = {"changed_records": 0, "changed_turns": 0, "still_too_long": 0, "examples": []}
    out = []
    for record in records:
        messages = record.get("messages")
        if not messages:
            out.append(record)
            continue
        lengths = [tokens(m["content"]) + per_message_tokens for m in messages]
        if sum(lengths) <= max_tokens:
            out.append(record)
            continue
        n_system = next((i for i, m in enumerate(messages) if m["role"] != "system"), len(messages))
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
        if last < n_system:  # nothing to keep the end of
            report["still_too_long"] += 1
            out.append(record)
            continue
        rest = messages[n_system:last + 1]
        start, too_long = _keep_from(lengths[n_system:last + 1], rest, max_tokens - sum(lengths[:n_system]))
        kept = [*messages[:n_system], *rest[start:]]
        report["still_too_long"] += too_long
        if len(kept) == len(messages):
            out.append(record)
            continue
        report["changed_records"] += 1
        report["changed_turns"] += len(messages) - len(kept)
        if len(report["examples"]) < _EXAMPLES:
            report["examples"].append((_render(messages), _render(kept)))
        out.append({**record, "messages": kept})
    return out, report


def _strip(text: str, pattern: re.Pattern) -> str:
    """`text` without the fillers `pattern` finds, with the pause marks and spaces around them. Two words the
    filler stood between get one space back ("to, uh, book" -> "to book"); a turn that began with a capitalised
    filler begins with a capital again ("Um, so" -> "So")."""

    def joiner(match: re.Match) -> str:
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        between_words = before and not before.isspace() and after.isalnum()
        return " " if between_words and not _CJK.match(before) and not _CJK.match(after) else ""

    stripped = pattern.sub(joiner, text)
    first = pattern.match(text)
    if first and first.group("word")[:1].isupper() and stripped[:1].islower():
        stripped = stripped[0].upper() + stripped[1:]
    return stripped


def strip_fillers(records: Sequence[dict], words: Iterable[str] = DEFAULT_FILLERS,
                  roles: Iterable[str] = ("user", "assistant")) -> tuple[list[dict], dict]:
    """Remove filler words from the turns of the given roles, with a pause mark after them ("um, " or "嗯，").

    A turn that would be left with no letters or digits is kept as it was. Text records are unchanged.
    """
    found = word_pattern(words)
    report = {"changed_records": 0, "changed_turns": 0, "examples": []}
    if found is None:
        return list(records), report
    pattern = re.compile(rf"[ \t]*(?:{_PAUSE}[ \t]*)?(?P<word>{found.pattern})(?:[ \t]*{_PAUSE})*[ \t]*",
                         re.IGNORECASE)
    roles = set(roles)
    out = []
    for record in records:
        messages = record.get("messages")
        new_messages, changed = [], 0
        for message in messages or ():
            if message["role"] in roles:
                stripped = _strip(message["content"], pattern)
                if stripped != message["content"] and any(c.isalnum() for c in stripped):
                    changed += 1
                    if len(report["examples"]) < _EXAMPLES:
                        report["examples"].append((_clip(message["content"]), _clip(stripped)))
                    message = {**message, "content": stripped}
            new_messages.append(message)
        if changed:
            report["changed_records"] += 1
            report["changed_turns"] += changed
            record = {**record, "messages": new_messages}
        out.append(record)
    return out, report


def _texts(record: dict) -> Iterable[str]:
    if isinstance(record.get("text"), str):
        yield record["text"]
    for message in record.get("messages") or ():
        yield message["content"]


def drop_sensitive(records: Sequence[dict], words: Iterable[str]) -> tuple[list[dict], dict]:
    """Drop every record whose text or any turn contains one of `words`.

    Report: {"changed_records": dropped count, "changed_turns": 0, "dropped_ids": [...], "examples":
    [(text around the word, "dropped: contains '<word>'"), ...]}.
    """
    pattern = word_pattern(words)
    report: dict = {"changed_records": 0, "changed_turns": 0, "dropped_ids": [], "examples": []}
    if pattern is None:
        return list(records), report
    kept = []
    for record in records:
        match, text = None, ""
        for text in _texts(record):
            match = pattern.search(text)
            if match:
                break
        if match is None:
            kept.append(record)
            continue
        report["changed_records"] += 1
        report["dropped_ids"].append(record.get("id"))
        if len(report["examples"]) < _EXAMPLES:
            around = text[max(0, match.start() - 40):match.end() + 40]
            report["examples"].append((around, f"dropped: contains {match.group(0)!r}"))
    return kept, report
