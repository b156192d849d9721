"""Hierarchical chunking: document → section → paragraph → fragment, in a token window of the chosen tokenizer.

Section, paragraph and sentence boundaries come from `studio.data.sentences`. A section (a heading and the text
under it, up to the next heading) is the unit that is cut: its paragraphs are taken together, so short paragraphs
under one heading merge into fragments that fill the window, and a paragraph longer than the window is cut inside.
Cuts fall on sentence boundaries (a paragraph break is one), so that every fragment holds at most `max_tokens`
tokens and at least `min_tokens`. The end of a section is shared out: when the text left after a fragment would
make a last fragment under the minimum, that fragment ends earlier; a last fragment still short once counted
exactly starts earlier instead, repeating more of the one before it. Only a section shorter than the minimum as a
whole (or, rarely, a window too narrow for both rules) gives a shorter fragment; `studio.data.fragment_stats`
counts those by reason. Consecutive fragments of a section repeat about `overlap × max_tokens` tokens: whole
trailing sentences of the previous fragment where they fit, else the tail of its last sentence cut at a token
boundary, so neighbours always share text. A sentence longer than the window is cut on token boundaries.
Sections are never merged with each other: a fragment does not mix two headings' topics.

Speed: each section is tokenized once (offsets on) and every window size is read off those offsets with
bisection; only the final fragments are tokenized again, in one batch, to get their exact `n_tokens`. The rare
section where a fragment tokenized alone breaks a limit (BPE merges differently at a cut) is re-planned one
fragment at a time with exact counts.

Numbering is 0-based: section 0 is the text before the first heading, the k-th heading opens section k;
paragraphs count from 0 inside their section (a heading standing alone counts with the paragraph after it).
A fragment's `paragraph` is the paragraph its first character is in, and `fragment` counts the fragments of the
section, so the id `{doc}-s{section}-p{paragraph}-f{fragment}` is unique and says where the fragment begins.
`start`/`end` are character offsets of the fragment within its section's text (from the start of its first
paragraph to the end of its last), so an overlap is section[next.start:prev.end]. When the record has a whole
number in `line` (the line of its file where its text begins: the .txt/.md readers set it), each fragment gets
`line`, the file line its first character is on.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from studio.data.sentences import (
    attach_heading,
    has_blank_lines,
    normalize_newlines,
    sentence_ends,
    split_paragraphs,
    split_sections,
)
from studio.data.tokens import Tokens

# Documents are gathered until this many characters so the tokenizer sees big batches (its Rust side runs them
# in parallel) while memory stays bounded whatever the input size.
_BATCH_CHARS = 1 << 18
# Sections longer than this are tokenized in slices: offsets for a 50 MB line would not fit in memory as Python
# lists. A slice edge may split a word, which only makes that window's estimate less exact; the exact pass catches it.
_SLICE_CHARS = 1 << 16


@dataclass(frozen=True)
class ChunkSettings:
    """The token window fragments are cut to, measured with the chosen model's tokenizer."""

    min_tokens: int = 200
    """A fragment holds at least this many tokens unless its whole section has fewer."""
    max_tokens: int = 400
    """A fragment never holds more tokens than this (counted alone, without special tokens)."""
    overlap: float = 0.15
    """Fraction of max_tokens repeated from the end of the previous fragment of the same section."""

    def __post_init__(self) -> None:
        for name in ("min_tokens", "max_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: expected a whole number of tokens, got {value!r}")
        # One character can be up to 4 byte-level tokens (5 with a SentencePiece prefix): below 8 a window might
        # not fit a single character plus any overlap.
        if self.max_tokens < 8:
            raise ValueError(f"max_tokens: must be at least 8, got {self.max_tokens}")
        if not 1 <= self.min_tokens <= self.max_tokens:
            raise ValueError(f"min_tokens: must be between 1 and max_tokens ({self.max_tokens}), got {self.min_tokens}")
        if isinstance(self.overlap, bool) or not isinstance(self.overlap, (int, float)) or math.isnan(self.overlap):
            raise ValueError(f"overlap: expected a fraction such as 0.15, got {self.overlap!r}")
        # Beyond one half every token would be repeated more than twice and fragments would multiply.
        if not 0 <= self.overlap <= 0.5:
            raise ValueError(f"overlap: must be between 0 and 0.5 (a fraction of max_tokens), got {self.overlap}")

    @property
    def overlap_tokens(self) -> int:
        """The overlap in tokens; at least 1 whenever overlap > 0, so neighbours share text."""
        if self.overlap == 0:
            return 0
        return max(1, round(self.overlap * self.max_tokens))


class _Section:
    """One section being cut: its text, where its paragraphs start, its sentence ends and token ends (character
    offsets), the file line its text starts on (None when unknown), and the result."""

    __slots__ = ("bound_tokens", "bounds", "counts", "ends", "first_line", "number", "paragraphs", "record", "spans",
                 "text")

    def __init__(self, record: int, number: int, text: str, paragraphs: list[int], first_line: int | None) -> None:
        self.record, self.number, self.text = record, number, text
        self.paragraphs, self.first_line = paragraphs, first_line
        self.bounds: list[int] = []
        self.ends: list[int] = []
        self.bound_tokens: list[int] = []
        self.spans: list[tuple[int, int]] = []
        self.counts: list[int] = []

    def prepare(self, ends: list[int]) -> None:
        self.ends = ends
        self.bounds = sentence_ends(self.text)
        # Tokens that end at or before each sentence end: the estimate of text[a:b] is tokens(b) - tokens(a).
        self.bound_tokens = [bisect_right(ends, bound) for bound in self.bounds]

    def tokens_to(self, position: int) -> int:
        return bisect_right(self.ends, position)

    def rstrip(self, position: int) -> int:
        while position > 0 and self.text[position - 1].isspace():
            position -= 1
        return position

    def lstrip(self, position: int, limit: int) -> int:
        while position < limit and self.text[position].isspace():
            position += 1
        return position


def _cut_at_most(sec: _Section, start: int, budget: int, cursor: int) -> int:
    """The furthest token end p after `start` with at most `budget` estimated tokens in [start, p), past `cursor`."""
    ends, first = sec.ends, sec.tokens_to(start)
    index = first + budget - 1
    if index >= len(ends):
        return len(sec.text)
    position = ends[index]
    if index + 1 < len(ends) and ends[index + 1] == position:
        # The next token is another byte of the same character: cut before the character, never inside it.
        previous = bisect_left(ends, position) - 1
        position = ends[previous] if previous >= first else position
    if position <= cursor:
        # The overlap used the whole budget; take one more character so the fragment still moves forward.
        following = sec.tokens_to(cursor)
        position = ends[following] if following < len(ends) else len(sec.text)
    return position


def _next_end(sec: _Section, start: int, cursor: int, budget: int, need: int) -> int:
    """Where the fragment starting at `start` ends: the last sentence end within `budget` tokens past `cursor`,
    or, when that falls short of `need` tokens (or of the cursor), a token cut filling the budget."""
    first = sec.tokens_to(start)
    j = bisect_right(sec.bound_tokens, first + budget) - 1
    if j >= 0 and sec.bounds[j] > cursor and (
            sec.bounds[j] == len(sec.text) or sec.bound_tokens[j] - first >= need):
        return sec.bounds[j]
    return _cut_at_most(sec, start, budget, cursor)


def _overlap_start(sec: _Section, start: int, end: int, overlap: int) -> int:
    """Where the next fragment starts so it repeats about `overlap` tokens of [start, end) (end stripped):
    whole trailing sentences when they fit, else the tail of the last sentence cut at a token boundary."""
    last = sec.tokens_to(end)
    bounds = sec.bounds
    j = max(bisect_left(sec.bound_tokens, last - overlap), bisect_right(bounds, start))
    if bounds[j] < end:
        return bounds[j]
    i = bisect_left(bounds, end) - 1
    piece_start = bounds[i] if i >= 0 and bounds[i] > start else start
    # Never repeat a whole one-sentence fragment: keep at least its first token out of the overlap.
    want = overlap if piece_start > start else min(overlap, last - sec.tokens_to(start) - 1)
    if want < 1:
        return start
    position = sec.ends[last - want - 1]
    if position >= end:
        # The wanted tail starts inside the last character (its bytes are several tokens): take the character.
        below = bisect_left(sec.ends, end) - 1
        position = max(sec.ends[below], piece_start) if below >= 0 else piece_start
    return sec.lstrip(position, end)


def _next_start(sec: _Section, start: int, stripped: int, cursor: int, overlap: int) -> int:
    """Where the fragment after [start, stripped) starts: `overlap` tokens back from the new text at `cursor`."""
    return _overlap_start(sec, start, stripped, overlap) if overlap else cursor


def _shared_end(sec: _Section, start: int, cursor: int, settings: ChunkSettings) -> int:
    """`_next_end` with the window, moved earlier when the text left after it would make the section's last
    fragment shorter than `min_tokens`; unchanged when this fragment cannot give enough up and keep its own
    minimum (`_pad_tail` then lengthens the last one)."""
    low, length = settings.min_tokens, len(sec.text)
    end = first = _next_end(sec, start, cursor, settings.max_tokens, low)
    budget = settings.max_tokens
    # Each round lowers the budget by at least one token: the loop ends.
    while end < length:
        stripped = sec.rstrip(end)
        following = _next_start(sec, start, stripped, sec.lstrip(end, length), settings.overlap_tokens)
        missing = low - (len(sec.ends) - sec.tokens_to(following))
        if missing <= 0:
            return end
        budget = min(budget, sec.tokens_to(stripped) - sec.tokens_to(start)) - missing
        if budget < low:
            return first
        end = _next_end(sec, start, cursor, budget, low)
    return end


def _plan(sec: _Section, settings: ChunkSettings) -> list[tuple[int, int]]:
    """Fragments of the section as (start, end) spans, sized by the offset-based estimate."""
    spans = []
    start = cursor = 0
    length = len(sec.text)
    while True:
        end = _shared_end(sec, start, cursor, settings)
        stripped = sec.rstrip(end)
        spans.append((start, stripped))
        if end >= length:
            return spans
        # New text starts at the next non-space character, so no fragment adds only whitespace.
        cursor = sec.lstrip(end, length)
        start = _next_start(sec, start, stripped, cursor, settings.overlap_tokens)


def _exact_fragment(sec: _Section, settings: ChunkSettings, tokens: Tokens, cursor: int,
                    previous: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """One fragment from `cursor` on, tokenized alone until it fits: (start, end, stripped end, exact count).

    Too many tokens: shrink the window; when the overlap leaves no room for new text, repeat less of the
    previous fragment (down to nothing). Too few before the section's end: fill the window on tokens."""
    low, high, length = settings.min_tokens, settings.max_tokens, len(sec.text)
    overlap = settings.overlap_tokens if previous else 0
    start = _overlap_start(sec, *previous, overlap) if overlap else cursor
    budget, need = high, low
    # Every retry shrinks the budget or the overlap (resetting the budget) or raises `need`: this bounds them.
    for _ in range((overlap + 2) * (high + 2)):
        end = _next_end(sec, start, cursor, budget, need)
        stripped = sec.rstrip(end)
        count = tokens.counts([sec.text[start:stripped]])[0]
        if count > high:
            budget -= count - high
            if budget <= sec.tokens_to(cursor) - sec.tokens_to(start) and start < cursor:
                overlap -= 1
                start = _overlap_start(sec, *previous, overlap) if overlap > 0 else cursor
                budget = high
            budget = max(budget, 1)
        elif count < low and end < length and need <= budget:
            need = budget + 1  # a sentence end came too early: fill the window on tokens instead
        else:
            return start, end, stripped, count
    raise RuntimeError(f"chunking did not converge on a section starting {sec.text[:40]!r}")


def _plan_exact(sec: _Section, settings: ChunkSettings, tokens: Tokens) -> None:
    """Re-plan the section one fragment at a time with exact counts (the rare path, see the module docstring)."""
    spans, counts = [], []
    cursor, previous, length = 0, None, len(sec.text)
    while True:
        start, end, stripped, count = _exact_fragment(sec, settings, tokens, cursor, previous)
        spans.append((start, stripped))
        counts.append(count)
        if end >= length:
            break
        cursor, previous = sec.lstrip(end, length), (start, stripped)
    sec.spans, sec.counts = spans, counts


def _pad_tail(sec: _Section, settings: ChunkSettings, tokens: Tokens) -> None:
    """A section's last fragment still under the minimum once counted exactly (the estimate was a token or two off,
    or the text before it was cut on tokens) starts earlier, repeating more of the fragment before it, until it
    holds the minimum; left as it is when no start does that within the window."""
    low, high = settings.min_tokens, settings.max_tokens
    if len(sec.spans) < 2 or sec.counts[-1] >= low:
        return
    floor, (start, end) = sec.spans[-2][0], sec.spans[-1]
    # Token i starts where token i-1 ends; walk back one token at a time from a window of `low` estimated tokens.
    for index in range(sec.tokens_to(end) - low, sec.tokens_to(floor), -1):
        position = sec.lstrip(sec.ends[index - 1], end)
        if position >= start:
            continue
        if position <= floor:
            return
        count = tokens.counts([sec.text[position:end]])[0]
        if count > high:
            return
        if count >= low:
            sec.spans[-1], sec.counts[-1] = (position, end), count
            return


def _fits(sec: _Section, settings: ChunkSettings) -> bool:
    """Whether every exact count is within the window (the last fragment may be short)."""
    last = len(sec.counts) - 1
    return all(n <= settings.max_tokens and (n >= settings.min_tokens or i == last) for i, n in enumerate(sec.counts))


def _first_line(record: dict) -> int | None:
    line = record.get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None


def _sections(records: list[dict], text_field: str) -> list[_Section]:
    """Every non-empty section of the batch, in document order, with its paragraphs' starts."""
    sections = []
    for index, record in enumerate(records):
        text = normalize_newlines(record[text_field])
        blank_lines = has_blank_lines(text)
        line, counted = _first_line(record), 0
        for section in split_sections(text):
            spans = attach_heading(text, section, split_paragraphs(text, section.start, section.end,
                                                                   blank_lines=blank_lines))
            if not spans:
                continue
            start = spans[0][0]
            if line is not None:
                line, counted = line + text.count("\n", counted, start), start
            sections.append(_Section(index, section.number, text[start:spans[-1][1]],
                                     [a - start for a, _ in spans], line))
    return sections


def _fragment(record: dict, sec: _Section, number: int, span: tuple[int, int], count: int, text_field: str,
              line: int | None) -> dict:
    """One output record: our fields first, then every other field of the input record."""
    doc = str(record["id"])
    text = sec.text[span[0]:span[1]]
    paragraph = bisect_right(sec.paragraphs, span[0]) - 1
    fragment = {
        "id": f"{doc}-s{sec.number}-p{paragraph}-f{number}",
        "doc": doc,
        "section": sec.number,
        "paragraph": paragraph,
        "fragment": number,
        "text": text,
        "n_tokens": count,
        "start": span[0],
        "end": span[1],
        "source": record.get("source"),
        "hash": "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest(),
    }
    if line is not None:
        fragment["line"] = line
    for key, value in record.items():
        if key != text_field and key not in fragment:
            fragment[key] = value
    return fragment


def _chunk_batch(records: list[dict], tokens: Tokens, settings: ChunkSettings, text_field: str) -> Iterator[dict]:
    """Plan every section of the batch on one batched tokenization, check with one batched exact count."""
    sections = _sections(records, text_field)
    for sec, ends in zip(sections, tokens.token_ends([sec.text for sec in sections], _SLICE_CHARS)):
        sec.prepare(ends)
        sec.spans = _plan(sec, settings)
    # A fragment that is its whole section was already tokenized alone: its count is the section's.
    whole = [sec.spans == [(0, len(sec.text))] and len(sec.text) <= _SLICE_CHARS for sec in sections]
    counts = iter(tokens.counts([sec.text[a:b] for sec, done in zip(sections, whole) if not done
                                 for a, b in sec.spans]))
    for sec, done in zip(sections, whole):
        sec.counts = [len(sec.ends)] if done else [next(counts) for _ in sec.spans]
        if not _fits(sec, settings):
            _plan_exact(sec, settings, tokens)
        _pad_tail(sec, settings, tokens)
        record = records[sec.record]
        line, counted = sec.first_line, 0
        for number, (span, count) in enumerate(zip(sec.spans, sec.counts)):
            if line is not None:  # fragments start in order: count the line breaks once
                line, counted = line + sec.text.count("\n", counted, span[0]), span[0]
            yield _fragment(record, sec, number, span, count, text_field, line)


def _checked(record: object, position: int, text_field: str) -> dict:
    """The record itself, once it is known to have an id and a string text field."""
    if not isinstance(record, dict):
        raise ValueError(f"record {position}: expected a JSON object, got {type(record).__name__}")
    if record.get("id") in (None, ""):
        raise ValueError(f"record {position}: no 'id' field; every document needs one to name its fragments")
    if not isinstance(record.get(text_field), str):
        raise ValueError(f"record {position} (id {record['id']!r}): field '{text_field}' is missing or not text")
    return record


def chunk_records(records: Iterable[dict], tokenizer, settings: ChunkSettings | None = None,
                  text_field: str = "text") -> Iterator[dict]:
    """Fragments of every record, in order. Each record needs an `id` and a string `text_field` (else ValueError
    naming the record); records are read lazily and processed in batches, so any number can stream through.

    A fragment is {id: "{doc}-s{section}-p{paragraph}-f{fragment}", doc, section, paragraph, fragment, text,
    n_tokens, start, end, source, hash: "sha1:<hex of the UTF-8 text>", line (when known)} followed by the
    record's other fields (see the module docstring for what the numbers mean)."""
    settings = settings or ChunkSettings()
    tokens = Tokens(tokenizer)
    batch: list[dict] = []
    size = 0
    for position, record in enumerate(records, start=1):
        batch.append(_checked(record, position, text_field))
        size += len(record[text_field])
        if size >= _BATCH_CHARS:
            yield from _chunk_batch(batch, tokens, settings, text_field)
            batch, size = [], 0
    if batch:
        yield from _chunk_batch(batch, tokens, settings, text_field)


def chunk_document(record: dict, tokenizer, settings: ChunkSettings | None = None, text_field: str = "text"
                   ) -> list[dict]:
    """The fragments of one document record (see `chunk_records`)."""
    return list(chunk_records([record], tokenizer, settings, text_field))
