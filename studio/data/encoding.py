"""Which text encoding a file is in, and decoding it line by line so one bad line costs one line, not the file.

Detection looks at a sample of the file's first bytes (`SAMPLE_BYTES`), in this order:

1. a byte-order mark: UTF-8 with BOM, UTF-16 LE/BE, UTF-32 LE/BE;
2. a known binary signature (PNG, ZIP, PDF, Parquet, ...) followed by bytes text does not have: not text at all;
3. UTF-16 without a BOM, recognised by NUL bytes in every other position (Windows exports);
4. any other NUL byte: binary;
5. strict UTF-8;
6. mostly UTF-8 (at least half of the sample's non-ASCII lines are valid UTF-8): UTF-8 with some bad lines;
7. mostly GB18030 (a superset of GBK and GB2312): at least half of the non-ASCII lines decode as GB18030 into
   plausible Chinese — most non-ASCII characters CJK ideographs or CJK/full-width punctuation, none private-use
   or controls (UTF-8 bytes misread as GB18030 produce exactly those);
8. otherwise UTF-8, so that every undecodable line is reported with its byte offset.

Byte-oriented encodings (UTF-8, GB18030) are decoded per line: byte 0x0A never occurs inside one of their
multi-byte characters, so splitting on it is safe. UTF-16/32 files are decoded whole.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

# 1 MiB: enough for the statistics of step 6/7, small enough to read for every file.
SAMPLE_BYTES = 1 << 20

BYTE_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")

_BOMS = (  # UTF-32 first: its LE mark starts with the UTF-16 LE mark
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Leading bytes of file types people rename or upload by mistake.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (also .docx, .xlsx, .pptx)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a Linux executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc, .xls)"),
    (b"ARROW1", "an Arrow file"),
)

_NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


@dataclass(frozen=True)
class Detected:
    """The outcome of detection: a codec name, or `binary` set to what the bytes look like."""

    encoding: str
    """A Python codec name: utf-8, utf-8-sig, gb18030, utf-16-le, utf-16-be, utf-32-le or utf-32-be."""
    bom: int = 0
    """Bytes of byte-order mark at the start of the file, to skip before decoding."""
    binary: str = ""
    """Non-empty when the file is not text: e.g. "a PNG image" or "binary data"."""


def signature(head: bytes) -> str:
    """What a known binary signature at the start of `head` says the file is, or ""."""
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    return ""


def _has_binary_bytes(sample: bytes) -> bool:
    """Control bytes other than tab, line ends and form feed, or bytes that are not UTF-8."""
    head = sample[:4096]
    return any(b < 0x20 and b not in (9, 10, 12, 13) for b in head) or not _decodes(head, "utf-8")


def _utf16_without_bom(sample: bytes) -> str:
    """utf-16-le/-be when NULs sit in every other byte, as in ASCII-heavy UTF-16 text; else ""."""
    head = sample[:4096]
    if len(head) < 4:
        return ""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    for zeros, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= 0.3 * half and other <= 0.02 * half:
            try:
                codecs.getincrementaldecoder(codec)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            return codec
    return ""


def _decodes(sample: bytes, codec: str) -> bool:
    """Strict decode of a sample that may end inside a character."""
    try:
        codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(sample: bytes) -> bool:
    lines = _NON_ASCII_LINE.findall(sample)
    good = 0
    for line in lines:
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            pass
    return bool(lines) and good * 2 >= len(lines)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2FA1F
            or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F
            or 0x3040 <= code <= 0x30FF)


def plausible_chinese(text: str) -> bool:
    """True when most non-ASCII characters are CJK and none are private-use, unassigned or control characters."""
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return True
    if any(unicodedata.category(c) in ("Co", "Cn", "Cc") for c in non_ascii):
        return False
    return sum(map(_is_cjk, non_ascii)) >= 0.6 * len(non_ascii)


def _mostly_gb18030(sample: bytes) -> bool:
    """True when at least half of the sample's non-ASCII lines decode as GB18030 into plausible Chinese."""
    lines = _NON_ASCII_LINE.findall(sample)
    good = 0
    for line in lines:
        try:
            good += plausible_chinese(codecs.getincrementaldecoder("gb18030")().decode(line, final=False))
        except UnicodeDecodeError:
            pass
    return bool(lines) and good * 2 >= len(lines)


def detect_encoding(sample: bytes) -> Detected:
    """The encoding of a file whose first bytes are `sample` (see the module docstring for the order of tests)."""
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return Detected(codec, bom=len(bom))
    what = signature(sample)
    if what and _has_binary_bytes(sample):  # "MZ..." or "%PDF-..." alone may start a text file
        return Detected("", binary=what)
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Detected(utf16)
    if b"\x00" in sample:
        return Detected("", binary="binary data (it contains NUL bytes)")
    if _decodes(sample, "utf-8") or _mostly_utf8(sample):
        return Detected("utf-8")
    if _mostly_gb18030(sample):
        return Detected("gb18030")
    controls = sum(1 for b in sample[:4096] if b < 0x20 and b not in (9, 10, 13))
    if controls > 0.05 * min(len(sample), 4096):
        return Detected("", binary="binary data (many control bytes)")
    return Detected("utf-8")


def describe_error(exc: UnicodeDecodeError, codec: str, base_offset: int) -> str:
    """'invalid UTF-8 byte 0xff at byte offset 1234' for an error in a line starting at `base_offset`."""
    bad = exc.object[exc.start:exc.end][:4]
    name = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030"}.get(codec, codec.upper())
    shown = " ".join(f"0x{b:02x}" for b in bad)
    return f"invalid {name} byte{'s' if len(bad) > 1 else ''} {shown} at byte offset {base_offset + exc.start}"


class Line(NamedTuple):
    """One decoded line."""

    text: str
    error: str = ""
    """What was wrong with its bytes (they are replaced by U+FFFD in `text`); "" when it decoded."""
    note: str = ""
    """Set when the line decoded, but not with the file's encoding (a UTF-8 line in a GB18030 file)."""


_MIXED_NOTE = ("this line is UTF-8 while the rest of the file is GB18030; it was read as UTF-8 — re-save the whole "
               "file in one encoding")


def decode_line(raw: bytes, codec: str, base_offset: int) -> Line:
    """Decode one line (without its line end) that starts at byte `base_offset` of the file.

    Files that mix encodings are common when exports are concatenated: a UTF-8 line that fails but reads as
    plausible GB18030 says so in its error, and a line of a GB18030 file that is valid UTF-8 and reads as
    Chinese only that way is taken as UTF-8, with a note.
    """
    codec = "utf-8" if codec == "utf-8-sig" else codec
    if codec == "gb18030" and not raw.isascii():
        try:
            as_utf8 = raw.decode("utf-8")
            if plausible_chinese(as_utf8) and not plausible_chinese(raw.decode("gb18030", errors="replace")):
                return Line(as_utf8, note=_MIXED_NOTE)
        except UnicodeDecodeError:
            pass
    try:
        return Line(raw.decode(codec))
    except UnicodeDecodeError as exc:
        detail = describe_error(exc, codec, base_offset)
    if codec == "utf-8":
        try:
            if plausible_chinese(raw.decode("gb18030")):
                detail += " (this line reads as GB18030: the file mixes encodings)"
        except UnicodeDecodeError:
            pass
    return Line(raw.decode(codec, errors="replace"), detail)


def decode_document(data: bytes, detected: Detected) -> tuple[str, dict[int, str], dict[int, str]]:
    """The whole file as text (line ends kept) and, per 1-based line number, what was wrong with its bytes
    (errors: replaced by U+FFFD, the caller decides whether to keep the line) and notes (see `decode_line`)."""
    body = data[detected.bom:]
    if detected.encoding in BYTE_ENCODINGS:
        codec = "utf-8" if detected.encoding == "utf-8-sig" else detected.encoding
        if codec == "utf-8":  # GB18030 goes line by line even when it decodes: UTF-8 lines decode as mojibake
            try:
                return body.decode(codec), {}, {}
            except UnicodeDecodeError:
                pass
        parts, errors, notes, offset = [], {}, {}, detected.bom
        for number, raw in enumerate(body.split(b"\n"), start=1):
            line = decode_line(raw, codec, offset)
            if line.error:
                errors[number] = line.error
            if line.note:
                notes[number] = line.note
            parts.append(line.text)
            offset += len(raw) + 1
        return "\n".join(parts), errors, notes
    try:
        return body.decode(detected.encoding), {}, {}
    except UnicodeDecodeError as exc:
        text = body.decode(detected.encoding, errors="replace")
        line = body[:exc.start].decode(detected.encoding, errors="replace").count("\n") + 1
        return text, {line: describe_error(exc, detected.encoding, detected.bom)}, {}
