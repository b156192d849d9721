"""Encoding detection and decoding (studio.data.encoding), and each encoding through ingestion of each text type."""

from __future__ import annotations

import codecs
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.data.encoding import SAMPLE_BYTES, decode_document, decode_line, detect_encoding, plausible_chinese
from studio.data.ingest import ingest_paths

TEXT = "标题：图像压缩方法\n本发明涉及数据压缩领域，提供一种方法。Mixed English too.\n"

# name shown, how to write the text as bytes
ENCODINGS = {
    "utf-8": lambda s: s.encode("utf-8"),
    "utf-8-sig": lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
    "gb18030": lambda s: s.encode("gbk"),  # GBK bytes are GB18030 bytes; the superset's name is shown
    "utf-16-le": lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"),
    "utf-16-be": lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
}


@pytest.mark.parametrize("name", ENCODINGS)
def test_detect_and_decode(name):
    data = ENCODINGS[name](TEXT)
    detected = detect_encoding(data)
    assert detected.encoding == name and not detected.binary
    assert decode_document(data, detected) == (TEXT, {}, {})


def test_utf16_without_bom_and_utf32_with_bom():
    assert detect_encoding("plain ascii text\n".encode("utf-16-le")).encoding == "utf-16-le"
    assert detect_encoding("plain ascii text\n".encode("utf-16-be")).encoding == "utf-16-be"
    data = codecs.BOM_UTF32_LE + "文本\n".encode("utf-32-le")
    assert decode_document(data, detect_encoding(data))[0] == "文本\n"


def test_gb18030_four_byte_characters():
    text = "生僻字𠀀与欧元€\n" * 3
    data = text.encode("gb18030")
    assert detect_encoding(data).encoding == "gb18030"
    assert decode_document(data, detect_encoding(data))[0] == text


def test_a_sample_cut_inside_a_character_is_still_utf8():
    data = ("汉" * (SAMPLE_BYTES // 3 + 1)).encode("utf-8")[:SAMPLE_BYTES + 1]
    assert detect_encoding(data[:SAMPLE_BYTES]).encoding == "utf-8"


@pytest.mark.parametrize("head,what", [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"%PDF-1.7", "PDF"), (b"PK\x03\x04", "ZIP"),
                                       (b"\x1f\x8b\x08", "gzip"), (b"PAR1", "Parquet"),
                                       (b"abc\x00\x01\x02\x00\x00\x00\x00\x05def", "NUL")])
def test_binary_files_are_named(head, what):
    assert what in detect_encoding(head + bytes(range(1, 200))).binary


def test_invalid_bytes_give_line_and_byte_offset():
    data = b"good\nbad \xff\xfe\nalso good\n"
    detected = detect_encoding(data)
    text, errors, notes = decode_document(data, detected)
    assert detected.encoding == "utf-8"
    assert text.splitlines()[0] == "good" and text.splitlines()[2] == "also good"
    assert errors == {2: "invalid UTF-8 byte 0xff at byte offset 9"} and notes == {}


def test_latin1_text_is_not_taken_for_chinese():
    data = "Café crème, déjà vu, naïve façade.\n".encode("latin-1") * 5
    detected = detect_encoding(data)
    assert detected.encoding == "utf-8"  # reported line by line as invalid UTF-8, never decoded as mojibake
    assert len(decode_document(data, detected)[1]) == 5


def test_utf8_misread_as_gb18030_is_implausible():
    assert plausible_chinese("本发明涉及数据压缩，提供一种方法。")
    assert not plausible_chinese("涓\ue15f枃")  # UTF-8 "中文" decoded as GB18030 hits private use
    assert plausible_chinese("ascii only")


def test_a_utf8_line_in_a_gb18030_file_is_read_as_utf8_with_a_note():
    line = decode_line("UTF-8 行：中文内容".encode(), "gb18030", 100)
    assert line.text == "UTF-8 行：中文内容" and "re-save the whole file" in line.note and not line.error


def _write(path, kind: str, encode) -> None:
    if kind == "jsonl":
        path.write_bytes(encode("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n"
                                        for t in TEXT.splitlines())))
    elif kind == "csv":
        path.write_bytes(encode("text,lang\n" + "".join(f'"{t}",zh\n' for t in TEXT.splitlines())))
    elif kind == "tsv":
        path.write_bytes(encode("text\tlang\n" + "".join(f"{t}\tzh\n" for t in TEXT.splitlines())))
    elif kind == "json":
        path.write_bytes(encode(json.dumps([{"text": t} for t in TEXT.splitlines()], ensure_ascii=False)))
    else:
        path.write_bytes(encode(TEXT))


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "tsv", "txt", "md"])
@pytest.mark.parametrize("name", ENCODINGS)
def test_each_encoding_through_each_text_file_type(tmp_path, kind, name):
    path = tmp_path / f"data.{kind}"
    _write(path, kind, ENCODINGS[name])
    result = ingest_paths([path])
    assert not result.issues
    assert result.files[0].encoding == name
    texts = [r["text"] for r in result.records]
    assert texts == ([TEXT] if kind in ("txt", "md") else TEXT.splitlines())


_TEXT_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="\ufeff")


@settings(max_examples=60, deadline=None)
@given(text=st.text(_TEXT_CHARS, min_size=1, max_size=200), name=st.sampled_from(["utf-8", "utf-8-sig", "utf-16-le",
                                                                                  "utf-16-be"]))
def test_unicode_encodings_round_trip(text, name):
    data = ENCODINGS[name](text)
    detected = detect_encoding(data)
    assert not detected.binary  # even text starting like a binary signature ("MZ", "%PDF-", "PAR1"...)
    assert decode_document(data, detected)[0] == text


@pytest.mark.parametrize("text", ["MZ-5 camera review\n", "%PDF-1.4 is a version\n", "PAR1 parser notes\n"])
def test_text_that_starts_like_a_signature_is_text(text):
    assert detect_encoding(text.encode()).encoding == "utf-8"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list("数据压缩方法图像本发明涉及领域，。；：“”、（）！？abc 123")), min_size=1,
                max_size=80))
def test_gbk_chinese_is_detected(chars):
    text = "编码" + "".join(chars) + "\n"
    data = text.encode("gbk")
    detected = detect_encoding(data)
    assert detected.encoding == "gb18030" and decode_document(data, detected)[0] == text
