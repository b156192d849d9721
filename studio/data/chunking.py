"""Hierarchical chunking: document → section → paragraph → fragment, in a token window of the chosen tokenizer.

Section, paragraph and sentence boundaries come from `studio.data.sentences`. Each paragraph is cut into
fragments on sentence boundaries so that every fragment holds at most `max_tokens` tokens and, unless it is the
last of its paragraph, at least `min_tokens`. Consecutive fragments repeat about `overlap × max_tokens` tokens:
whole trailing sentences of the previous fragment where they fit, else the tail of its last sentence cut at a
token boundary, so neighbours always share text. A sentence longer than the window is cut on token boundaries.

Speed: each paragraph is tokenized once (offsets on) and every window size is read off those offsets with
bisection; only the final fragments are tokenized again, in one batch, to get their exact `n_tokens`. The rare
paragraph where a fragment tokenized alone breaks a limit (BPE merges differently at a cut) is re-planned one
fragment at a time with exact counts.

Numbering is 0-based: section 0 is the text before the first heading, the k-th heading opens section k;
paragraphs and fragments count from 0 inside their parent. `start`/`end` are character offsets of the fragment
within its paragraph (the paragraph with its ends stripped), so an overlap is paragraph[next.start:prev.end].
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from studio.data.sentences import attach_heading, has_blank_lines, normalize_newlines, sentence_ends, split_paragraphs, split_sections

# Documents are gathered until this many characters so the tokenizer sees big batches (its Rust side runs them
# in parallel) while memory stays bounded whatever the input size.
_BATCH_CHARS = 1 << 18
# Paragraphs longer than this are tokenized in slices: offsets for a 50 MB line would not fit in memory as Python
# lists. A slice edge may split a word, which only makes that window's estimate less exact; the exact pass catches it.
_SLICE_CHARS = 1 << 16


@dataclass(frozen=True)
class ChunkSettings:
    """The token window fragments are cut to, measured with the chosen model's tokenizer."""

    min_tokens: int = 200
    """A fragment holds at least this many tokens unless its paragraph has nothing left."""
    max_tokens: int = 400
    """A fragment never holds more tokens than this (counted alone, without special tokens)."""
    overlap: float = 0.15
    """Fraction of max_tokens repeated from the end of the previous fragment of the same paragraph."""

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


class _Tokens:
    """The fast tokenizer's Rust backend, set up to count text alone: no special tokens, truncation or padding."""

    def __init__(self, tokenizer) -> None:
        from tokenizers import Tokenizer

        backend = tokenizer if isinstance(tokenizer, Tokenizer) else getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError("tokenizer: chunking needs a fast tokenizer (a tokenizer.json); "
                             f"{type(tokenizer).__name__} has none")
        if backend.truncation or backend.padding:
            # A copy, so the caller's tokenizer keeps its settings; truncation would make counts silently wrong.
            backend = Tokenizer.from_str(backend.to_str())
            backend.no_truncation()
            backend.no_padding()
        self._backend = backend
        self._count_batch = getattr(backend, "encode_batch_fast", backend.encode_batch)

    def token_ends(self, texts: list[str]) -> list[list[int]]:
        """For each text, the character offset where each of its tokens ends (ascending)."""
        pieces, owners = [], []
        for index, text in enumerate(texts):
            for shift in range(0, max(len(text), 1), _SLICE_CHARS):
                pieces.append(text[shift:shift + _SLICE_CHARS])
                owners.append((index, shift))
        result: list[list[int]] = [[] for _ in texts]
        for (index, shift), encoding in zip(owners, self._backend.encode_batch(pieces, add_special_tokens=False)):
            if shift:
                result[index].extend(end + shift for _, end in encoding.offsets)
            else:
                result[index].extend(end for _, end in encoding.offsets)
        return result

    def counts(self, texts: list[str]) -> list[int]:
        """The exact token count of each text tokenized alone."""
        return [len(encoding) for encoding in self._count_batch(texts, add_special_tokens=False)]


class _Paragraph:
    """One paragraph being cut: its text, sentence ends and token ends (character offsets), and the result."""

    __slots__ = ("bound_tokens", "bounds", "counts", "ends", "number", "record", "section", "spans", "text")

    def __init__(self, record: int, section: int, number: int, text: str) -> None:
        self.record, self.section, self.number, self.text = record, section, number, text
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


def _cut_at_most(par: _Paragraph, start: int, budget: int, cursor: int) -> int:
    """The furthest token end p after `start` with at most `budget` estimated tokens in [start, p), past `cursor`."""
    ends, first = par.ends, par.tokens_to(start)
    index = first + budget - 1
    if index >= len(ends):
        return len(par.text)
    position = ends[index]
    if index + 1 < len(ends) and ends[index + 1] == position:
        # The next token is another byte of the same character: cut before the character, never inside it.
        previous = bisect_left(ends, position) - 1
        position = ends[previous] if previous >= first else position
    if position <= cursor:
        # The overlap used the whole budget; take one more character so the fragment still moves forward.
        following = par.tokens_to(cursor)
        position = ends[following] if following < len(ends) else len(par.text)
    return position


def _next_end(par: _Paragraph, start: int, cursor: int, budget: int, need: int) -> int:
    """Where the fragment starting at `start` ends: the last sentence end within `budget` tokens past `cursor`,
    or, when that falls short of `need` tokens (or of the cursor), a token cut filling the budget."""
    first = par.tokens_to(start)
    j = bisect_right(par.bound_tokens, first + budget) - 1
    if j >= 0 and par.bounds[j] > cursor and (
            par.bounds[j] == len(par.text) or par.bound_tokens[j] - first >= need):
        return par.bounds[j]
    return _cut_at_most(par, start, budget, cursor)


def _overlap_start(par: _Paragraph, start: int, end: int, overlap: int) -> int:
    """Where the next fragment starts so it repeats about `overlap` tokens of [start, end) (end stripped):
    whole trailing sentences when they fit, else the tail of the last sentence cut at a token boundary."""
    last = par.tokens_to(end)
    bounds = par.bounds
    j = max(bisect_left(par.bound_tokens, last - overlap), bisect_right(bounds, start))
    if bounds[j] < end:
        return bounds[j]
    i = bisect_left(bounds, end) - 1
    piece_start = bounds[i] if i >= 0 and bounds[i] > start else start
    # Never repeat a whole one-sentence fragment: keep at least its first token out of the overlap.
    want = overlap if piece_start > start else min(overlap, last - par.tokens_to(start) - 1)
    if want < 1:
        return start
    position = par.ends[last - want - 1]
    if position >= end:
        # The wanted tail starts inside the last character (its bytes are several tokens): take the character.
        below = bisect_left(par.ends, end) - 1
        position = max(par.ends[below], piece_start) if below >= 0 else piece_start
    return par.lstrip(position, end)


def _plan(par: _Paragraph, settings: ChunkSettings) -> list[tuple[int, int]]:
    """Fragments of the paragraph as (start, end) spans, sized by the offset-based estimate."""
    spans = []
    start = cursor = 0
    length = len(par.text)
    while True:
        end = _next_end(par, start, cursor, settings.max_tokens, settings.min_tokens)
        stripped = par.rstrip(end)
        spans.append((start, stripped))
        if end >= length:
            return spans
        # New text starts at the next non-space character, so no fragment adds only whitespace.
        cursor = par.lstrip(end, length)
        if settings.overlap_tokens:
            start = _overlap_start(par, start, stripped, settings.overlap_tokens)
        else:
            start = cursor


def _exact_fragment(par: _Paragraph, settings: ChunkSettings, tokens: _Tokens, cursor: int,
                    previous: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """One fragment from `cursor` on, tokenized alone until it fits: (start, end, stripped end, exact count).

    Too many tokens: shrink the window; when the overlap leaves no room for new text, repeat less of the
    previous fragment (down to nothing). Too few before the paragraph's end: fill the window on tokens."""
    low, high, length = settings.min_tokens, settings.max_tokens, len(par.text)
    overlap = settings.overlap_tokens if previous else 0
    start = _overlap_start(par, *previous, overlap) if overlap else cursor
    budget, need = high, low
    # Every retry shrinks the budget or the overlap (resetting the budget) or raises `need`: this bounds them.
    for _ in range((overlap + 2) * (high + 2)):
        end = _next_end(par, start, cursor, budget, need)
        stripped = par.rstrip(end)
        count = tokens.counts([par.text[start:stripped]])[0]
        if count > high:
            budget -= count - high
            if budget <= par.tokens_to(cursor) - par.tokens_to(start) and start < cursor:
                overlap -= 1
                start = _overlap_start(par, *previous, overlap) if overlap > 0 else cursor
                budget = high
            budget = max(budget, 1)
        elif count < low and end < length and need <= budget:
            need = budget + 1  # a sentence end came too early: fill the window on tokens instead
        else:
            return start, end, stripped, count
    raise RuntimeError(f"chunking did not converge on a paragraph starting {par.text[:40]!r}")


def _plan_exact(par: _Paragraph, settings: ChunkSettings, tokens: _Tokens) -> None:
    """Re-plan the paragraph one fragment at a time with exact counts (the rare path, see the module docstring)."""
    spans, counts = [], []
    cursor, previous, length = 0, None, len(par.text)
    while True:
        start, end, stripped, count = _exact_fragment(par, settings, tokens, cursor, previous)
        spans.append((start, stripped))
        counts.append(count)
        if end >= length:
            break
        cursor, previous = par.lstrip(end, length), (start, stripped)
    par.spans, par.counts = spans, counts


def _fits(par: _Paragraph, settings: ChunkSettings) -> bool:
    """Whether every exact count is within the window (the last fragment may be short)."""
    last = len(par.counts) - 1
    return all(n <= settings.max_tokens and (n >= settings.min_tokens or i == last) for i, n in enumerate(par.counts))


def _paragraphs(records: list[dict], text_field: str) -> list[_Paragraph]:
    """Every non-empty paragraph of the batch, in document order."""
    paragraphs = []
    for index, record in enumerate(records):
        text = normalize_newlines(record[text_field])
        blank_lines = has_blank_lines(text)
        for section in split_sections(text):
            spans = attach_heading(text, section, split_paragraphs(text, section.start, section.end,
                                                                   blank_lines=blank_lines))
            for number, (a, b) in enumerate(spans):
                paragraphs.append(_Paragraph(index, section.number, number, text[a:b]))
    return paragraphs


def _fragment(record: dict, par: _Paragraph, number: int, span: tuple[int, int], count: int, text_field: str
              ) -> dict:
    """One output record: our fields first, then every other field of the input record."""
    doc = str(record["id"])
    text = par.text[span[0]:span[1]]
    fragment = {
        "id": f"{doc}-s{par.section}-p{par.number}-f{number}",
        "doc": doc,
        "section": par.section,
        "paragraph": par.number,
        "fragment": number,
        "text": text,
        "n_tokens": count,
        "start": span[0],
        "end": span[1],
        "source": record.get("source"),
        "hash": "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest(),
    }
    for key, value in record.items():
        if key != text_field and key not in fragment:
            fragment[key] = value
    return fragment


def _chunk_batch(records: list[dict], tokens: _Tokens, settings: ChunkSettings, text_field: str) -> Iterator[dict]:
    """Plan every paragraph of the batch on one batched tokenization, check with one batched exact count."""
    paragraphs = _paragraphs(records, text_field)
    for par, ends in zip(paragraphs, tokens.token_ends([par.text for par in paragraphs])):
        par.prepare(ends)
        par.spans = _plan(par, settings)
    # A fragment that is its whole paragraph was already tokenized alone: its count is the paragraph's.
    whole = [par.spans == [(0, len(par.text))] and len(par.text) <= _SLICE_CHARS for par in paragraphs]
    counts = iter(tokens.counts([par.text[a:b] for par, done in zip(paragraphs, whole) if not done
                                 for a, b in par.spans]))
    for par, done in zip(paragraphs, whole):
        par.counts = [len(par.ends)] if done else [next(counts) for _ in par.spans]
        if not _fits(par, settings):
            _plan_exact(par, settings, tokens)
        record = records[par.record]
        for number, (span, count) in enumerate(zip(par.spans, par.counts)):
            yield _fragment(record, par, number, span, count, text_field)


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
    n_tokens, start, end, source, hash: "sha1:<hex of the UTF-8 text>"} followed by the record's other fields."""
    settings = settings or ChunkSettings()
    tokens = _Tokens(tokenizer)
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


def _percentile(ordered: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on an ascending list."""
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_fragments(fragments: Iterable[dict]) -> dict:
    """Counts and token statistics of fragments, as shown in the Data tab and printed by the CLI."""
    docs, paragraphs, sizes = set(), set(), []
    for fragment in fragments:
        docs.add(fragment["doc"])
        paragraphs.add((fragment["doc"], fragment["section"], fragment["paragraph"]))
        sizes.append(fragment["n_tokens"])
    sizes.sort()
    summary = {"documents": len(docs), "paragraphs": len(paragraphs), "fragments": len(sizes),
               "total_tokens": sum(sizes)}
    if not sizes:
        return {**summary, "mean_tokens": 0.0, "p50_tokens": 0.0, "p95_tokens": 0.0, "min_tokens": 0, "max_tokens": 0}
    return {
        **summary,
        "mean_tokens": round(sum(sizes) / len(sizes), 1),
        "p50_tokens": round(_percentile(sizes, 0.5), 1),
        "p95_tokens": round(_percentile(sizes, 0.95), 1),
        "min_tokens": sizes[0],
        "max_tokens": sizes[-1],
    }
