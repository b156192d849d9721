"""Reading documents as text records: .txt/.md (one per file), PDF (its text layer, one per page), .docx (one per
file).

PDF text comes from pypdf; a page without a text layer (a scan) cannot be read without OCR, and the user is told so.
.docx is read with the standard library (zipfile + ElementTree): a .docx is a ZIP archive whose `word/document.xml`
holds the body. Word headings become Markdown headings so that chunking starts sections there.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

from studio.data.issues import IssueLog
from studio.data.readers import FileRead, IngestLimits, Row, Tick, decode_whole, megabytes, read_whole

_OCR_HINT = "run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) and load the result"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:Heading|heading|标题)\s*([1-6])$")


def read_text(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """.txt and .md: the whole file is one document, its id the file name without extension; it starts on line 1."""
    decoded = decode_whole(path, log, limits, "plain", limit=limits.max_record_bytes, setting="max_record_bytes")
    if decoded is None:
        return FileRead()
    text, detected, bad = decoded
    for line, problem in bad.items():
        log.warning(f"line {line}", f"{problem}, replaced by U+FFFD; re-save the file as UTF-8")
    # `line`: the file line the text starts on, so each fragment can say which line of the file it comes from.
    return FileRead(detected.encoding, [Row({"text": text, "line": 1}, "", name, None)], documents=True,
                    mapping={"text": "(whole file)"})


def read_pdf(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """One text record per page with a text layer, each with `page` (1-based, as a PDF viewer numbers pages)."""
    data = read_whole(path, log, limits.max_file_bytes)
    if data is None:
        return FileRead()
    from io import BytesIO

    from pypdf import PdfReader

    read = FileRead(documents=True, mapping={"text": "(page text)", "page": "(page number)"})
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about sloppy files are not the user's business
    try:
        pdf = PdfReader(BytesIO(data), strict=False)
        if pdf.is_encrypted and not pdf.decrypt(""):
            log.error("", "the PDF is password-protected; save an unprotected copy and load that", skips=0)
            return read
        pages = list(pdf.pages)
        read.encoding = "pdf"
    except Exception as exc:  # pypdf raises many types for damaged files; all mean the same to the user
        log.error("", f"not a readable PDF ({type(exc).__name__}: {exc}); open it in a PDF viewer and save or "
                      f"export it again", skips=0)
        return read
    empty: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = (page.extract_text() or "").strip()
        except Exception as exc:  # a damaged content stream spoils one page, not the document
            log.error(f"page {number}", f"the text of this page could not be extracted ({type(exc).__name__}: "
                                        f"{exc}); {_OCR_HINT}")
            continue
        if not text:
            empty.append(number)
            continue
        read.rows.append(Row({"text": text, "page": number}, f"page {number}", f"{name}:page {number}", number))
        if number % 20 == 0:
            tick(number / len(pages), f"{name}: page {number}")
    if not pages:
        log.error("", "the PDF has no pages; export it again", skips=0)
    elif not read.rows and empty:
        log.error("", f"no text layer on any of its {len(pages)} page{'s' * (len(pages) > 1)} (a scan or images); "
                      f"{_OCR_HINT}", skips=0)
    else:
        for number in empty:
            log.warning(f"page {number}", f"no text on this page (blank, or a scanned image); if it should have "
                                          f"text, {_OCR_HINT}")
    return read


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == _W + "t" and node.text:
            parts.append(node.text)
        elif node.tag == _W + "tab":
            parts.append("\t")
        elif node.tag in (_W + "br", _W + "cr"):
            parts.append("\n")
    text = "".join(parts).strip()
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    level = style.get(_W + "val", "") if style is not None else ""
    heading = _HEADING_STYLE.match(level)
    if text and (heading or level == "Title"):
        return "#" * (int(heading.group(1)) if heading else 1) + " " + text
    return text


def _blocks(parent: ElementTree.Element) -> list[str]:
    """Paragraphs in document order; a table becomes one block with a line per row, cells joined by " | "."""
    blocks: list[str] = []
    for child in parent:
        if child.tag == _W + "p":
            blocks.append(_paragraph_text(child))
        elif child.tag == _W + "tbl":
            rows = [" | ".join(" ".join(filter(None, map(_paragraph_text, cell.iter(_W + "p"))))
                               for cell in row.iter(_W + "tc")) for row in child.iter(_W + "tr")]
            blocks.append("\n".join(r for r in rows if r.strip(" |")))
        elif child.tag == _W + "sdt":  # content controls wrap ordinary paragraphs
            content = child.find(_W + "sdtContent")
            blocks.extend(_blocks(content) if content is not None else [])
    return [b for b in blocks if b]


def _not_docx(path: Path, exc: Exception) -> str:
    """Why a .docx could not be opened: not a ZIP at all (perhaps an old .doc renamed), or a damaged ZIP."""
    if zipfile.is_zipfile(path):
        return f"the .docx archive is damaged or encrypted ({exc})"
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        head = b""
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "an old binary .doc file renamed to .docx"
    return "not a .docx (a .docx is a ZIP archive)"


def read_docx(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """The body of a Word document as one text record; paragraphs are separated by blank lines."""
    resave = "open it in Word or LibreOffice and save it as .docx again"
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > limits.max_file_bytes:
                log.error("", f"its text part is {megabytes(info.file_size)} unpacked, over the "
                              f"{megabytes(limits.max_file_bytes)} limit (setting max_file_bytes); split the "
                              f"document", skips=0)
                return FileRead()
            xml = archive.read(info)
    except KeyError:
        log.error("", f"a ZIP archive without word/document.xml, so not a Word document; {resave}", skips=0)
        return FileRead()
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
        log.error("", f"{_not_docx(path, exc)}; {resave}", skips=0)
        return FileRead()
    except OSError as exc:
        log.error("", f"cannot be read ({exc.strerror or exc}); check that it exists and you may read it", skips=0)
        return FileRead()
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        log.error("", f"its word/document.xml is damaged ({exc}); {resave}", skips=0)
        return FileRead()
    body = root.find(_W + "body")
    text = "\n\n".join(_blocks(body)) if body is not None else ""
    if not text.strip():
        log.error("", "the document has no text (images only?); if it holds scanned pages, OCR them first", skips=0)
        return FileRead(encoding="utf-8")
    if len(text.encode("utf-8")) > limits.max_record_bytes:
        log.error("", f"its text is over the {megabytes(limits.max_record_bytes)} limit for one document (setting "
                      f"max_record_bytes); split the document", skips=0)
        return FileRead(encoding="utf-8")
    return FileRead("utf-8", [Row({"text": text}, "", name, None)], documents=True,
                    mapping={"text": "(document body)"})
