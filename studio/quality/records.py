"""How the quality jobs read a record's text and name a record in messages; shared by dedup and perplexity."""

from __future__ import annotations


class RecordTextError(ValueError):
    """A record without usable text; `code` says which kind of problem, so reports can count them by reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def record_id(record: object, index: int) -> str:
    """The record's id, or "#n" (its 1-based position) for records without one."""
    value = record.get("id") if isinstance(record, dict) else None
    return str(value) if value not in (None, "") else f"#{index + 1}"


def record_label(record: object, index: int) -> str:
    """How a message names a record: its id (and source) or its position."""
    source = f" ({record['source']})" if isinstance(record, dict) and record.get("source") else ""
    return f"record {record_id(record, index)!r}{source}"


def record_text(record: object, field: str = "text", join_chat: bool = False) -> str:
    """The record's text; raises ValueError saying what is wrong with it.

    Every kind of bad value is the same exception (`RecordTextError`, a ValueError with a reason code: not_a_record,
    no_field, not_text, empty) because it is a problem in the data, collected with the others and shown to the
    user, not a programming error. With `join_chat`, a chat record without the field is compared
    by its turns' contents joined with newlines.
    """
    if not isinstance(record, dict):
        raise RecordTextError("not_a_record", f"a {type(record).__name__}, not a record")
    value = record.get(field)
    if value is None and join_chat and field == "text" and isinstance(record.get("messages"), list):
        value = "\n".join(str(turn.get("content", "")) for turn in record["messages"] if isinstance(turn, dict))
    if value is None:
        fields = ", ".join(map(str, record)) or "none"
        raise RecordTextError("no_field", f"no {field!r} field (fields: {fields}); pick the text field")
    if not isinstance(value, str):
        kind = type(value).__name__
        raise RecordTextError("not_text", f"field {field!r} holds {kind}, not text; fix the record or pick another "
                                          f"field")
    if not value.strip():
        raise RecordTextError("empty", f"field {field!r} is empty; fill it in or remove the record")
    return value
