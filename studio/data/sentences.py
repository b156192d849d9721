"""Where a document's sections, paragraphs and sentences begin and end: pure string work, no tokenizer.

Everything here returns character offsets into the string it was given, so the chunker can cut fragments that are
exact substrings and report where they sit. The rules (issue 3):

- A section starts at a heading line: a Markdown ATX heading (`# ...` to `###### ...`) or a step heading
  (`步骤N`, `第N步`, `Step N`) followed by the usual punctuation (`：:、.)` or a space) or the end of the line.
  Text before the first heading is section 0; the k-th heading starts section k, so a document that opens with
  a heading has no section 0 and numbering never shifts when a preamble is added or removed elsewhere.
  Headings inside fenced code blocks (``` or ~~~) are not headings.
- Paragraphs are separated by blank lines; a document with no blank line at all has one paragraph per line.
  The heading line belongs to its section, and is a paragraph of its own when a blank line follows it.
- A sentence ends after 。！？；… (plus closing quotes or brackets), after . ! ? followed by whitespace (so
  3.5 and e.g. stay whole), and at every newline. Whitespace after the end belongs to the sentence, so the
  sentences of a paragraph concatenate back to the paragraph exactly.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Chinese numerals as written in step headings (第三步, 步骤十二).
_CN_NUMBER = "0-9０-９一二三四五六七八九十百零〇两"
# What may follow the step number: full- or half-width colon, enumeration comma, dot, closing bracket, space, or
# the line end. A comma is deliberately absent: "第一步，将..." opens an ordinary sentence ("first, ...").
_AFTER_STEP = r"(?=[：:、.．)）]|[^\S\n]|$)"
_HEADING = re.compile(
    r"^(?:[ \t]{0,3}|\u3000{1,2})(?:"  # full-width indents are common in Chinese text
    r"\#{1,6}(?=[ \t]|$)"  # Markdown ATX; "#include" or "#tag" are not headings
    rf"|步骤[ \t]*[Ss]?[{_CN_NUMBER}]+(?:[.．][0-9０-９]+)*{_AFTER_STEP}"
    rf"|第[ \t]*[{_CN_NUMBER}]+[ \t]*步{_AFTER_STEP}"
    rf"|(?i:step)[ \t]*[0-9]+(?:\.[0-9]+)*{_AFTER_STEP}"
    r")",
    re.MULTILINE,
)
_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~)", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_PARAGRAPH_BREAK = re.compile(r"\n(?:[^\S\n]*\n)+")
_LINE_BREAK = re.compile(r"\n")

_CLOSERS = "\"'”’」』）》〉】)\\]"
_SENTENCE_END = re.compile(
    rf"[。！？；…]+[{_CLOSERS}]*\s*"  # CJK: no space is needed after the mark
    rf"|([.!?]+)[{_CLOSERS}]*\s+"  # Latin: whitespace must follow, so 3.5 and example.com stay whole
    r"|\n\s*"  # every line break ends a sentence
)
_LAST_WORD = re.compile(r"([A-Za-z]+(?:\.[A-Za-z]+)*)$")
# Lower-cased words that end with a dot without ending the sentence. Words with an inner dot (e.g, i.e, U.S) and
# single capitals (initials, as in "J. Smith") are treated the same way without being listed; a lone small letter
# is more often a unit ("0.25 s.") that does end the sentence.
_ABBREVIATIONS = frozenset(
    "al approx ca cf co corp dept dr eq eqs etc fig figs inc jr ltd mr mrs ms no nos pp prof ref refs resp sec "
    "sr st vol vs".split()
)


class Section(NamedTuple):
    """A section's number and its [start, end) character span in the document (heading line included)."""

    number: int
    start: int
    end: int


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF, so every rule below only has to know one line break."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fenced_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of fenced code blocks; an unclosed fence runs to the end of the text."""
    marks = [m.start() for m in _FENCE.finditer(text)]
    spans = []
    for i in range(0, len(marks), 2):
        end = marks[i + 1] if i + 1 < len(marks) else len(text)
        spans.append((marks[i], end))
    return spans


def heading_starts(text: str) -> list[int]:
    """Offsets of the lines that open a section, in order."""
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or "`" not in text and "~" not in text:
        return starts
    fenced = _fenced_spans(text)
    return [s for s in starts if not any(a < s < b for a, b in fenced)]


def split_sections(text: str) -> list[Section]:
    """The document's sections in order; whitespace-only preambles are dropped, numbering is kept."""
    starts = heading_starts(text)
    bounds = [0, *starts, len(text)]
    sections = []
    for number in range(len(bounds) - 1):
        start, end = bounds[number], bounds[number + 1]
        if end > start and not text[start:end].isspace():
            sections.append(Section(number, start, end))
    return sections


def has_blank_lines(text: str) -> bool:
    """Whether paragraphs are separated by blank lines (else each line is a paragraph)."""
    return _BLANK_LINE.search(text.strip()) is not None


def _stripped(text: str, start: int, end: int) -> tuple[int, int] | None:
    """[start, end) narrowed to exclude surrounding whitespace; None when nothing else is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_paragraphs(text: str, start: int = 0, end: int | None = None, *, blank_lines: bool = True
                     ) -> list[tuple[int, int]]:
    """[start, end) spans of the paragraphs inside text[start:end], ends stripped, empty ones skipped.

    `blank_lines` is decided once per document (`has_blank_lines`): mixing the two rules inside one document
    would make a single stray blank line change how every other paragraph is cut.
    """
    end = len(text) if end is None else end
    breaker = _PARAGRAPH_BREAK if blank_lines else _LINE_BREAK
    spans = []
    cursor = start
    for match in breaker.finditer(text, start, end):
        span = _stripped(text, cursor, match.start())
        if span:
            spans.append(span)
        cursor = match.end()
    span = _stripped(text, cursor, end)
    if span:
        spans.append(span)
    return spans


def attach_heading(text: str, section: Section, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a section's heading line to the paragraph after it when the heading stands alone.

    A bare "步骤1：准备样品" would otherwise be a fragment of a dozen tokens: useless as a training sample, and
    the paragraph below loses the title that says what it is about.
    """
    if section.number == 0 or len(spans) < 2:
        return spans
    first_start, first_end = spans[0]
    if first_start != _stripped(text, section.start, section.end)[0] or "\n" in text[first_start:first_end]:
        return spans
    return [(first_start, spans[1][1]), *spans[2:]]


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the '.' at `dot` closes an abbreviation or initial rather than a sentence."""
    match = _LAST_WORD.search(text, max(0, dot - 16), dot)
    if match is None:
        return False
    word = match.group(1)
    return (len(word) == 1 and word.isupper()) or "." in word or word.lower() in _ABBREVIATIONS


def sentence_ends(text: str) -> list[int]:
    """Exclusive end offsets of the sentences of `text`, ascending; the last one is len(text).

    Sentence i is text[ends[i-1]:ends[i]] (with ends[-1] read as 0), trailing whitespace included.
    """
    ends = []
    for match in _SENTENCE_END.finditer(text):
        latin = match.group(1)
        if latin == "." and _is_abbreviation(text, match.start(1)):
            continue
        ends.append(match.end())
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    return ends


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` as strings; they join back to `text` exactly."""
    ends = sentence_ends(text)
    return [text[a:b] for a, b in zip([0, *ends[:-1]], ends)]
