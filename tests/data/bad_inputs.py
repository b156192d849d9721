"""Builders for test files: tiny valid PDFs and .docx written byte by byte, and the corpus of broken inputs.

Nothing binary is committed: every file is written into a temporary folder at test time, the 50 MB single line
included. Each `BadInput` says what ingestion must report for it (where, a phrase of the message, the severity)
and how many good records of the same file must survive.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HUGE_LINE_BYTES = 50 * 1024 * 1024


def pdf_bytes(pages: list[list[str] | None]) -> bytes:
    """A PDF with one page per entry: lines of (Latin-1) text in Helvetica, or None for a page holding only a
    filled rectangle (no text layer, like a scan)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}] "
               f"/Count {len(pages)} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        if lines is None:
            stream = b"0 0 1 rg 100 100 200 200 re f"
        else:
            escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
            stream = ("BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({line}) Tj T*" for line in escaped)
                      + " ET").encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
                       f">> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_bytes(blocks: list[str | tuple[str, str] | list[list[str]]]) -> bytes:
    """A minimal .docx: a str is a paragraph, (style, text) a styled one (e.g. ("Heading1", "Title")), a list of
    rows a table."""
    def paragraph(text: str, style: str = "") -> str:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'

    body = []
    for block in blocks:
        if isinstance(block, str):
            body.append(paragraph(block))
        elif isinstance(block, tuple):
            body.append(paragraph(block[1], block[0]))
        else:
            rows = "".join("<w:tr>" + "".join(f"<w:tc>{paragraph(c)}</w:tc>" for c in row) + "</w:tr>"
                           for row in block)
            body.append(f"<w:tbl>{rows}</w:tbl>")
    document = f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>{"".join(body)}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"/>')
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def chat(user: str, assistant: str, role: str = "assistant") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": role, "content": assistant}]}


def _write_huge(path: Path) -> None:
    """A good line, one 50 MB line (a valid record, too big), a good line; written in 1 MiB pieces."""
    with path.open("wb") as handle:
        handle.write(b'{"text": "before"}\n{"text": "')
        piece = b"x" * (1 << 20)
        for _ in range(HUGE_LINE_BYTES >> 20):
            handle.write(piece)
        handle.write(b'"}\n{"text": "after"}\n')


def _text(content: str | bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return write


def _parquet_then_cut(path: Path) -> None:
    path.write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")


def _folder_without_usable(path: Path) -> None:
    path.mkdir()
    (path / "notes.xyz").write_text("nothing to read here")
    (path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")


GOOD = {"text": "a good record"}


@dataclass(frozen=True)
class BadInput:
    path: str
    """Relative to the corpus folder; also the expected file name in the issue."""
    write: Callable[[Path], None] | None
    """Writes the file at the given path; None for a path that must not exist."""
    where: str
    says: str
    """A phrase the message must contain (case ignored)."""
    severity: str = "error"
    good: int = 0
    """Records of the same file that must still come back."""


CORPUS = [
    BadInput("empty.jsonl", _text(b""), "", "empty file"),
    BadInput("whitespace_only.jsonl", _text(" \n\n\t \n"), "", "only whitespace"),
    BadInput("png_renamed.jsonl", _text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)), "", "png image"),
    BadInput("truncated_last_line.jsonl", _text(jsonl(GOOD, GOOD) + '{"text": "cut of'), "line 3", "cut off",
             good=2),
    BadInput("bad_middle_line.jsonl", _text(jsonl(GOOD) + '{"text": "a",, }\n' + jsonl(GOOD)), "line 2",
             "not valid json", good=2),
    BadInput("mixed_schemas.jsonl", _text(jsonl({"instruction": "a", "output": "b"},
                                                {"instruction": "c", "output": "d"}, chat("hi", "hello"))),
             "line 3", "mixed record formats", severity="warning", good=3),
    BadInput("wrong_field_names.jsonl", _text(jsonl({"foo": "x", "bar": "y"}, {"foo": "z", "bar": "w"})), "",
             "found: foo, bar"),
    BadInput("not_an_object.jsonl", _text(jsonl(GOOD, [1, 2], GOOD)), "line 2", "not a record", good=2),
    BadInput("unknown_role.jsonl", _text(jsonl(chat("a", "b"), chat("c", "d", role="narrator"))), "line 2",
             "'narrator'", good=1),
    BadInput("empty_content.jsonl", _text(jsonl(chat("a", ""), chat("c", "d"))), "line 1", "is empty", good=1),
    BadInput("invalid_utf8.jsonl", _text(jsonl(GOOD).encode() + b'{"text": "bad \xff\xfe here"}\n'
                                         + jsonl(GOOD).encode()), "line 2", "byte offset 40", good=2),
    BadInput("mixed_encodings.jsonl", _text(jsonl({"text": "第一行"}).encode()
                                            + jsonl({"text": "中文内容"}).encode("gb18030")
                                            + jsonl({"text": "第三行"}).encode()), "line 2", "mixes encodings", good=2),
    BadInput("utf8_line_in_gbk.jsonl", _text(jsonl({"text": "第一行中文"}, {"text": "第二行"}).encode("gb18030")
                                             + jsonl({"text": "第三行是UTF-8"}).encode()), "line 3",
             "read as utf-8", severity="warning", good=3),
    BadInput("huge_single_line.jsonl", _write_huge, "line 2", "over the 10 mb limit", good=2),
    BadInput("no_text_layer.pdf", _text(pdf_bytes([None, None])), "", "ocr"),
    BadInput("corrupt.pdf", _text(pdf_bytes([["Hello"]])[:60]), "", "not a readable pdf"),
    BadInput("corrupt.parquet", _parquet_then_cut, "", "not a readable parquet"),
    BadInput("ragged_rows.csv", _text("prompt,completion\nq1,a1\nq2,a2,extra\nq3,a3\n"), "row 3",
             "3 fields where the header has 2", good=2),
    BadInput("no_header.csv", _text("What is 2+2?,4\nCapital of France?,Paris\n"), "row 1", "no header row"),
    BadInput("invalid_bytes.csv", _text(b"text\nfine\nbad \xff byte\n"), "row 3", "invalid utf-8", good=1),
    BadInput("scalar.json", _text("42"), "", "holds a number"),
    BadInput("object_without_records.json", _text('{"name": "x", "size": 3}'), "", "no array of records"),
    BadInput("truncated_array.json", _text('[{"text": "a"},\n {"text": "b"},\n {"text": "c'), "line 3",
             "2 read before it", good=2),
    BadInput("unsupported.xlsx", _text(b"PK\x03\x04"), "", "save it as csv"),
    BadInput("nothing_usable", _folder_without_usable, "", "no file ingestion can read"),
    BadInput("does_not_exist.jsonl", None, "", "does not exist"),
    BadInput("not_a_zip.docx", _text("just text, not a zip"), "", "not a .docx"),
    BadInput("old_doc_renamed.docx", _text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)), "", "old binary .doc"),
    BadInput("messages_not_a_list.jsonl", _text(jsonl(chat("a", "b"), {"messages": "hello"})), "line 2",
             "not a list of", good=1),
    BadInput("no_assistant_turn.jsonl", _text(jsonl(chat("a", "b"), {"messages": [{"role": "user", "content": "q"}]})),
             "line 2", "no assistant turn", good=1),
    BadInput("duplicate_ids.jsonl", _text(jsonl({"id": "x", "text": "a"}, {"id": "x", "text": "b"})), "line 2",
             "already used", severity="warning", good=2),
    BadInput("deeply_nested.jsonl", _text(jsonl(GOOD) + "[" * 100_000 + "]" * 100_000 + "\n" + jsonl(GOOD)),
             "line 2", "nested too deeply", good=2),
    BadInput("huge_integer.jsonl", _text(jsonl(GOOD) + '{"text": "x", "n": ' + "9" * 5000 + "}\n"), "line 2",
             "not usable json", good=1),
    BadInput("deeply_nested.json", _text("[" + json.dumps(GOOD) + "," + "[" * 100_000 + "]" * 100_000 + "]"),
             "line 1", "nested too deeply", good=1),
    BadInput("arrays_per_line.jsonl", _text("[1, 2]\n" + jsonl(GOOD)), "line 1", "an array, not a record", good=1),
    BadInput("data_after_array.json", _text(json.dumps([GOOD]) + "\n" + json.dumps(GOOD)), "line 2",
             "more data after the array", good=1),
    BadInput("utf16_odd_bytes.txt", _text(codecs.BOM_UTF16_LE + "fine text".encode("utf-16-le") + b"\x00"),
             "line 1", "replaced by u+fffd", severity="warning", good=1),
]


def build(root: Path) -> Path:
    """Write every broken input under `root` and return it."""
    for case in CORPUS:
        if case.write is not None:
            case.write(root / case.path)
    return root
