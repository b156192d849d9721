"""Reading files into located rows, reporting every line it cannot use: the shared parts, JSON Lines and JSON.

A reader returns the rows it could parse, each with where it came from ("line 17", "row 4", "record 12"), and logs
an issue for everything else; it never raises for a bad file. Rows are what the file holds (usually dicts); turning
them into the internal shape is `studio.data.formats`' job. Tables are read in `studio.data.tables`; documents
(.txt, .md, .pdf, .docx) in `studio.data.documents`, which gives text records already.

Memory: JSON Lines are streamed line by line and a line over `max_record_bytes` is skipped without being held;
whole-file formats (.json, .csv, .tsv, .txt, .md, .pdf, .docx) are read at once, up to `max_file_bytes`.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.data.encoding import (BYTE_ENCODINGS, SAMPLE_BYTES, Detected, Line, decode_document, decode_line,
                                   detect_encoding)
from studio.data.issues import IssueLog

Tick = Callable[[float, str], None]
"""Progress within one file: (fraction of the file done, message)."""

_MB = 1 << 20
_TICK_LINES = 10_000


@dataclass(frozen=True)
class IngestLimits:
    """Sizes beyond which ingestion skips a record or a file with a message instead of running out of memory."""

    max_record_bytes: int = 10 * _MB
    """The largest single record (a JSONL line, a CSV field, a .txt/.md document), in bytes."""
    max_file_bytes: int = 256 * _MB
    """The largest file read whole (.json, .csv, .tsv, .pdf, .docx); JSON Lines and Parquet are streamed."""
    max_listed_issues: int = 100
    """Issues listed per file; the rest are counted in one summary issue."""


@dataclass(frozen=True)
class Row:
    """One record as the file holds it, and where it came from."""

    value: object
    where: str
    """"line 17", "row 4", "record 12", "page 3", or "" for a whole-file document."""
    source: str
    """"data.jsonl:17", "table.csv:row 4", "paper.pdf:page 3", or the file name for a whole-file document."""
    number: int | None
    """The n of the stable id "{stem}-{n}"; None for a whole-file document, whose id is the stem."""


@dataclass
class FileRead:
    encoding: str = ""
    rows: list[Row] = field(default_factory=list)
    documents: bool = False
    """True when rows are text records already ({"text": ...}), so there is no format to detect."""
    mapping: dict[str, str] = field(default_factory=dict)
    """For documents: where their text came from, shown like a field mapping."""
    first_row: list[str] | None = None
    """CSV/TSV: the header cells when they look like data, so a failed detection can say the header is missing."""


def megabytes(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n < 10 * _MB else f"{n / _MB:.0f} MB"


def read_whole(path: Path, log: IssueLog, limit: int, setting: str = "max_file_bytes") -> bytes | None:
    """The file's bytes, or None after logging why not (too big, unreadable, empty)."""
    try:
        size = path.stat().st_size
        if size > limit:
            log.error("", f"the file is {megabytes(size)}, over the {megabytes(limit)} limit for this file type "
                          f"(setting {setting}); split it, or convert it to JSON Lines, which is streamed", skips=0)
            return None
        data = path.read_bytes()
    except OSError as exc:
        log.error("", f"cannot be read ({exc.strerror or exc}); check that it exists and you may read it", skips=0)
        return None
    if not data:
        log.error("", "empty file (0 bytes); nothing to ingest — export the data again or remove the file", skips=0)
    return data or None


def _text_or_none(detected: Detected, log: IssueLog, kind: str) -> bool:
    if detected.binary:
        log.error("", f"this is {detected.binary}, not a {kind} text file; check that you picked the right file, "
                      f"or give it the extension of what it really is", skips=0)
        return False
    return True


def decode_whole(path: Path, log: IssueLog, limits: IngestLimits, kind: str, limit: int | None = None,
                 setting: str = "max_file_bytes") -> tuple[str, Detected, dict[int, str]] | None:
    """Read, detect and decode a whole text file: (text, encoding, {line: what was wrong with its bytes}), or None
    (with the reason logged) when it is not usable text. Lines in another encoding are logged as warnings here."""
    data = read_whole(path, log, limit or limits.max_file_bytes, setting)
    if data is None:
        return None
    detected = detect_encoding(data[:SAMPLE_BYTES])
    if not _text_or_none(detected, log, kind):
        return None
    text, errors, notes = decode_document(data, detected)
    for line, note in notes.items():
        log.warning(f"line {line}", note)
    if not text.strip():
        log.error("", "the file holds only whitespace; nothing to ingest", skips=0)
        return None
    return text, detected, errors


def _unusable(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _json_error(exc: json.JSONDecodeError, cut_off: bool) -> str:
    if cut_off:
        return (f"cut off: the last line is not complete JSON ({exc.msg}, column {exc.colno}); the file was "
                f"probably truncated — export it again, or remove the line")
    return f"not valid JSON ({exc.msg}, column {exc.colno}); fix or remove the line"


def _json_error(exc: json.JSONDecodeError, cut_off: bool) -> str:
    if cut_off:
        return (f"cut off: the last line is not complete JSON ({exc.msg} at column {exc.colno}); the file was "
                f"probably truncated — export it again, or remove the line")
    return f"not valid JSON ({exc.msg} at column {exc.colno}); fix or remove the line"


def _parse_line(line: Line, number: int, name: str, log: IssueLog, cut_off: bool) -> Row | None:
    """One decoded JSON Lines line as a row; None (logged unless blank) when it cannot be used."""
    if line.error:
        log.error(f"line {number}", f"{line.error}; re-save the file as UTF-8, or fix or remove the line")
        return None
    if not line.text.strip():
        return None
    if line.note:
        log.warning(f"line {number}", line.note)
    try:
        value = json.loads(line.text)
    except json.JSONDecodeError as exc:
        log.error(f"line {number}", _json_error(exc, cut_off))
        return None
    except (ValueError, RecursionError) as exc:  # an integer of over 4300 digits; nesting deeper than ~1000
        log.error(f"line {number}", f"not usable JSON ({_unusable(exc)}); fix or remove the line")
        return None
    return Row(value, f"line {number}", f"{name}:{number}", number)


def _too_long(log: IssueLog, number: int, length: int, limit: int) -> None:
    log.error(f"line {number}", f"the line is {megabytes(length)}, over the {megabytes(limit)} limit for one record "
                                f"(setting max_record_bytes); split the record, or raise the limit if it really is "
                                f"one record")


def _jsonl_text(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """UTF-16/32 JSON Lines, which cannot be split on bytes: decoded whole (up to max_file_bytes)."""
    decoded = decode_whole(path, log, limits, "JSON Lines")
    if decoded is None:
        return FileRead()
    text, detected, errors = decoded
    if _array_not_lines(text[:SAMPLE_BYTES]):
        return read_json(path, name, log, limits, tick, from_jsonl=True)
    read = FileRead(encoding=detected.encoding)
    lines = text.split("\n")
    for number, body in enumerate(lines, start=1):
        body = body.rstrip("\r")
        if len(body) > limits.max_record_bytes // 4 and len(body.encode("utf-8")) > limits.max_record_bytes:
            _too_long(log, number, len(body.encode("utf-8")), limits.max_record_bytes)
            continue
        line = Line(body, errors.get(number, ""))
        row = _parse_line(line, number, name, log, cut_off=number == len(lines) and not text.endswith("\n"))
        if row is not None:
            read.rows.append(row)
    return read


def _array_not_lines(head: str) -> bool:
    """True when a .jsonl file holds one JSON array spread over lines: it starts with "[" and its first line alone
    is not JSON (a line such as [1, 2] is a JSON Lines record, if not a usable one)."""
    stripped = head.lstrip()
    if not stripped.startswith("["):
        return False
    try:
        json.loads(stripped.split("\n", 1)[0])
    except (ValueError, RecursionError):
        return True
    return False


def _skip_rest_of_line(handle: io.BufferedReader) -> int:
    size = 0
    while True:
        chunk = handle.readline(_MB)
        size += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return size


def read_jsonl(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """JSON Lines, streamed: one record per line, blank lines ignored."""
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as exc:
        log.error("", f"cannot be read ({exc.strerror or exc}); check that it exists and you may read it", skips=0)
        return FileRead()
    with handle:
        sample = handle.read(SAMPLE_BYTES)
        detected = detect_encoding(sample)
        if not sample:
            log.error("", "empty file (0 bytes); nothing to ingest — export the data again or remove the file",
                      skips=0)
            return FileRead()
        if not _text_or_none(detected, log, "JSON Lines"):
            return FileRead()
        if detected.encoding not in BYTE_ENCODINGS:
            return _jsonl_text(path, name, log, limits, tick)
        if _array_not_lines(sample[detected.bom:].decode(detected.encoding, errors="replace")):
            return read_json(path, name, log, limits, tick, from_jsonl=True)
        handle.seek(detected.bom)
        read = FileRead(encoding=detected.encoding)
        offset, number, limit = detected.bom, 0, limits.max_record_bytes
        while raw := handle.readline(limit + 1):
            number += 1
            start = offset
            if len(raw) > limit and not raw.endswith(b"\n"):
                length = len(raw) + _skip_rest_of_line(handle)
                offset += length
                _too_long(log, number, length, limit)
                continue
            offset += len(raw)
            line = decode_line(raw.rstrip(b"\r\n"), detected.encoding, start)
            row = _parse_line(line, number, name, log, cut_off=offset >= size and not raw.endswith(b"\n"))
            if row is not None:
                read.rows.append(row)
            if number % _TICK_LINES == 0:
                tick(offset / max(size, 1), f"{name}: line {number:,}")
    if not read.rows and not log.issues:
        log.error("", "the file holds only whitespace; nothing to ingest", skips=0)
    return read


def _array_items(text: str, start: int, log: IssueLog) -> list[object]:
    """The values of the JSON array opening at `start`; stops at the first error, so the records before a broken
    one are kept."""
    decoder, items, i = json.JSONDecoder(), [], start + 1
    whitespace = re.compile(r"\s*")
    i = whitespace.match(text, i).end()
    if text.startswith("]", i):
        return items
    while True:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            log.error(f"line {exc.lineno}", f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}) "
                                            f"in record {len(items) + 1}; it and the records after it were not "
                                            f"read ({len(items)} read before it) — fix the file and load it again")
            return items
        except (ValueError, RecursionError) as exc:
            log.error(f"line {text.count(chr(10), 0, i) + 1}",
                      f"record {len(items) + 1} is not usable JSON ({_unusable(exc)}); it and the records after it "
                      f"were not read ({len(items)} read before it) — fix the file and load it again")
            return items
        items.append(value)
        i = whitespace.match(text, end).end()
        if text.startswith(",", i):
            i = whitespace.match(text, i + 1).end()
        elif text.startswith("]", i):
            rest = whitespace.match(text, i + 1).end()
            if rest < len(text):
                log.error(f"line {text.count(chr(10), 0, rest) + 1}", "more data after the array's closing ']', not "
                          "read; a .json file holds one array — put every record inside it, or save as JSON Lines")
            return items
        else:
            line = text.count("\n", 0, i) + 1
            log.error(f"line {line}", f"expected ',' or ']' after record {len(items)}; the records after it were "
                                      f"not read — fix the file and load it again")
            return items


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a true/false value",
            type(None): "null"}.get(type(value), "a number")


def read_json(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick,
              from_jsonl: bool = False) -> FileRead:
    """A JSON array of records, or an object whose values include arrays of records ({"data": [...]})."""
    decoded = decode_whole(path, log, limits, "JSON")
    if decoded is None:
        return FileRead()
    text, detected, bad = decoded
    read = FileRead(encoding=detected.encoding)
    for line, problem in bad.items():
        log.warning(f"line {line}", f"{problem}, replaced by U+FFFD; re-save the file as UTF-8")
    start = re.compile(r"\s*").match(text).end()
    if text.startswith("[", start):
        if from_jsonl:
            log.warning("", "this .jsonl file holds one JSON array, not one record per line; read it as JSON")
        for n, value in enumerate(_array_items(text, start, log), start=1):
            read.rows.append(Row(value, f"record {n}", f"{name}:record {n}", n))
        return read
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and not from_jsonl:
            log.warning("", "this .json file holds one JSON value per line (JSON Lines); read it as .jsonl")
            return read_jsonl(path, name, log, limits, tick)
        log.error(f"line {exc.lineno}", f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}); "
                                        f"fix the file and load it again", skips=0)
        return read
    except (ValueError, RecursionError) as exc:
        log.error("", f"not usable JSON ({_unusable(exc)}); fix the file and load it again", skips=0)
        return read
    if not isinstance(value, dict):
        log.error("", f"the file holds {_kind(value)}, not records; a .json file must hold an array of records "
                      f"([{{...}}, ...]) or an object whose value is one ({{\"data\": [...]}})", skips=0)
        return read
    lists = {key: items for key, items in value.items()
             if isinstance(items, list) and items and sum(isinstance(x, dict) for x in items) * 2 >= len(items)}
    if not lists:
        log.error("", f"a JSON object with no array of records in it (keys: {', '.join(map(str, value)) or 'none'});"
                      f" a .json file must hold an array of records, or an object whose value is one, e.g. "
                      f"{{\"data\": [{{...}}, ...]}}", skips=0)
        return read
    number = 0
    for key, items in lists.items():
        for n, item in enumerate(items, start=1):
            number += 1
            where = f"record {n}" if len(lists) == 1 else f'"{key}" record {n}'
            read.rows.append(Row(item, where, f"{name}:{where}", number))
    return read
