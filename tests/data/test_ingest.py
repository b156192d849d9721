"""Ingestion end to end (studio.data.ingest): every file type, several files and folders, ids and sources, mapping
and format overrides, progress, and the Hub path through the real datasets.load_dataset on local files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.data.ingest import FileReport, IngestResult, detect_format, ingest_hub_dataset, ingest_paths
from tests.data.bad_inputs import chat, docx_bytes, jsonl, pdf_bytes

ALPACA = [{"instruction": "Translate to French.", "input": "cat", "output": "chat"},
          {"instruction": "Say hi.", "output": "hi", "system": "Be brief."}]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def only_file(result: IngestResult) -> FileReport:
    assert len(result.files) == 1
    return result.files[0]


def test_jsonl_text_records_get_stable_ids_and_line_sources(tmp_path):
    path = write(tmp_path / "corpus.jsonl", jsonl({"text": "one", "lang": "en"}) + "\n" + jsonl({"content": "two"}))
    result = ingest_paths([path])
    assert result.records == [{"id": "corpus-1", "source": "corpus.jsonl:1", "text": "one", "lang": "en"},
                              {"id": "corpus-3", "source": "corpus.jsonl:3", "text": "two"}]
    assert not result.issues
    assert result.format == "text"
    assert ingest_paths([path]).records == result.records  # stable across runs


def test_alpaca_becomes_messages_with_input_and_system(tmp_path):
    result = ingest_paths([write(tmp_path / "a.jsonl", jsonl(*ALPACA))])
    first, second = result.records
    assert first["messages"] == [{"role": "user", "content": "Translate to French.\n\ncat"},
                                 {"role": "assistant", "content": "chat"}]
    assert second["messages"][0] == {"role": "system", "content": "Be brief."}
    report = only_file(result)
    assert (report.format, report.encoding, report.records, report.skipped) == ("alpaca", "utf-8", 2, 0)
    assert report.mapping == {"instruction": "instruction", "input": "input", "output": "output", "system": "system"}
    assert result.format == "messages"


def test_chat_and_sharegpt(tmp_path):
    sharegpt = {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"},
                                  {"from": "gpt", "value": "A"}]}
    result = ingest_paths([write(tmp_path / "chat.jsonl", jsonl(chat("hi", "hello"))),
                           write(tmp_path / "share.jsonl", jsonl(sharegpt))])
    assert result.records[0]["messages"] == [{"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "hello"}]
    assert result.records[1]["messages"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                                             {"role": "assistant", "content": "A"}]
    assert [f.format for f in result.files] == ["messages", "sharegpt"]
    assert result.files[1].mapping["messages"] == "conversations"


@pytest.mark.parametrize("prompt,completion", [("prompt", "completion"), ("question", "answer"),
                                               ("query", "response")])
def test_prompt_completion_pairs(tmp_path, prompt, completion):
    result = ingest_paths([write(tmp_path / "pc.jsonl", jsonl({prompt: "2+2?", completion: "4"}))])
    assert result.records[0]["messages"] == [{"role": "user", "content": "2+2?"},
                                             {"role": "assistant", "content": "4"}]
    assert only_file(result).format == "prompt_completion"
    assert only_file(result).mapping == {"prompt": prompt, "completion": completion}


def test_own_ids_and_sources_are_kept(tmp_path):
    path = write(tmp_path / "p.jsonl", jsonl({"id": 7, "text": "a", "source": "patents/CN1.pdf", "page": 3},
                                             {"id": "b", "text": "b"}))
    records = ingest_paths([path]).records
    assert [(r["id"], r["source"], r.get("page")) for r in records] == [("7", "patents/CN1.pdf", 3),
                                                                        ("b", "p.jsonl:2", None)]


def test_json_array_and_object_of_arrays(tmp_path):
    array = write(tmp_path / "arr.json", json.dumps([{"text": "a"}, {"text": "b"}]))
    wrapped = write(tmp_path / "obj.json", json.dumps({"version": 2, "data": ALPACA}))
    two = write(tmp_path / "splits.json", json.dumps({"train": [{"text": "t"}], "test": [{"text": "u"}]}))
    result = ingest_paths([array, wrapped, two])
    assert [r["source"] for r in result.records] == ["arr.json:record 1", "arr.json:record 2", "obj.json:record 1",
                                                     "obj.json:record 2", 'splits.json:"train" record 1',
                                                     'splits.json:"test" record 1']
    assert [r["id"] for r in result.records][:3] == ["arr-1", "arr-2", "obj-1"]
    assert [f.format for f in result.files] == ["text", "alpaca", "text"]


def test_jsonl_holding_an_array_and_json_holding_lines_are_read_anyway(tmp_path):
    result = ingest_paths([write(tmp_path / "a.jsonl", json.dumps([{"text": "x"}], indent=2)),
                           write(tmp_path / "b.json", jsonl({"text": "y"}, {"text": "z"}))])
    assert [r["text"] for r in result.records] == ["x", "y", "z"]
    assert {i.severity for i in result.issues} == {"warning"}


def test_csv_and_tsv_rows_are_numbered_like_a_spreadsheet(tmp_path):
    csv_path = write(tmp_path / "qa.csv", 'Question,Answer,topic\n"What is 2+2, exactly?",4,math\n'
                                          '"multi\nline",yes,misc\n')
    tsv_path = write(tmp_path / "t.tsv", "instruction\tinput\toutput\nUpper\tabc\tABC\n")
    result = ingest_paths([csv_path, tsv_path])
    first, second, third = result.records
    assert first == {"id": "qa-2", "source": "qa.csv:row 2", "topic": "math",
                     "messages": [{"role": "user", "content": "What is 2+2, exactly?"},
                                  {"role": "assistant", "content": "4"}]}
    assert second["messages"][0]["content"] == "multi\nline" and second["source"] == "qa.csv:row 3"
    assert third["messages"][0]["content"] == "Upper\n\nabc"
    assert [f.mapping for f in result.files] == [{"prompt": "Question", "completion": "Answer"},
                                                 {"instruction": "instruction", "input": "input", "output": "output"}]


def test_csv_with_chat_turns_as_json_text(tmp_path):
    turns = json.dumps([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    path = write(tmp_path / "chat.csv", 'id,messages\nc1,"' + turns.replace('"', '""') + '"\n')
    (record,) = ingest_paths([path]).records
    assert record["id"] == "c1" and record["messages"][1] == {"role": "assistant", "content": "a"}


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"messages": [[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]],
                      "score": [0.5]})
    pq.write_table(table, tmp_path / "chat.parquet")
    result = ingest_paths([tmp_path / "chat.parquet"])
    assert result.records == [{"id": "chat-1", "source": "chat.parquet:row 1", "score": 0.5,
                               "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}]
    assert only_file(result).encoding == "utf-8"


def test_txt_and_md_are_one_document_each(tmp_path):
    result = ingest_paths([write(tmp_path / "notes.txt", "Para one.\n\nPara two.\n"),
                           write(tmp_path / "guide.md", "# Title\n\n第1步：做事。\n")])
    assert result.records == [{"id": "notes", "source": "notes.txt", "text": "Para one.\n\nPara two.\n", "line": 1},
                              {"id": "guide", "source": "guide.md", "text": "# Title\n\n第1步：做事。\n", "line": 1}]
    assert result.files[0].mapping == {"text": "(whole file)"}


def test_pdf_pages_keep_their_numbers(tmp_path):
    path = write(tmp_path / "patent.pdf", pdf_bytes([["Abstract", "A method (claimed)."], None, ["Claims"]]))
    result = ingest_paths([path])
    assert [(r["id"], r["source"], r["page"]) for r in result.records] == [
        ("patent-1", "patent.pdf:page 1", 1), ("patent-3", "patent.pdf:page 3", 3)]
    assert result.records[0]["text"] == "Abstract\nA method (claimed)."
    assert [(i.where, i.severity) for i in result.issues] == [("page 2", "warning")]
    assert "OCR" in result.issues[0].message
    assert only_file(result).encoding == "pdf"


def test_docx_headings_paragraphs_and_tables(tmp_path):
    path = write(tmp_path / "spec.docx", docx_bytes([("Heading1", "Overview"), "First paragraph.",
                                                     [["Name", "Value"], ["a", "1"]], ("Heading2", "Details"),
                                                     "Last."]))
    (record,) = ingest_paths([path]).records
    assert record == {"id": "spec", "source": "spec.docx",
                      "text": "# Overview\n\nFirst paragraph.\n\nName | Value\na | 1\n\n## Details\n\nLast."}


def test_folder_is_walked_recursively_with_other_files_listed(tmp_path):
    root = tmp_path / "data"
    write(root / "a.jsonl", jsonl({"text": "a"}))
    write(root / "sub" / "b.txt", "b")
    write(root / "sub" / "c.xlsx", b"PK\x03\x04")
    write(root / ".git" / "config.json", "{}")
    write(root / ".hidden.jsonl", jsonl({"text": "no"}))
    result = ingest_paths([root])
    assert [(r["id"], r["source"]) for r in result.records] == [("data/a-1", "data/a.jsonl:1"),
                                                                ("data/sub/b", "data/sub/b.txt")]
    assert [(i.file, i.severity) for i in result.issues] == [("data/sub/c.xlsx", "warning")]
    assert "save it as CSV" in result.issues[0].message


def test_several_files_display_names_and_mixed_result(tmp_path):
    upload = write(tmp_path / "tmp123" / "upload.jsonl", jsonl(chat("q", "a")))
    text = write(tmp_path / "doc.txt", "plain")
    result = ingest_paths([upload, text], display_names={str(upload): "My Chats.jsonl"})
    assert [f.file for f in result.files] == ["My Chats.jsonl", "doc.txt"]
    assert result.records[0]["id"] == "My Chats-1" and result.records[0]["source"] == "My Chats.jsonl:1"
    assert result.format == "mixed"


def test_mapping_override(tmp_path):
    path = write(tmp_path / "q.jsonl", jsonl({"query": "Q", "response": "R", "note": "n"}))
    result = ingest_paths([path], mapping={"instruction": "query", "output": "response"})
    assert result.records[0]["messages"] == [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "R"}]
    assert result.records[0]["note"] == "n"
    assert only_file(result).format == "alpaca"
    assert only_file(result).mapping == {"instruction": "query", "output": "response"}


def test_mapping_rescues_unknown_fields_and_can_name_the_id(tmp_path):
    path = write(tmp_path / "w.jsonl", jsonl({"uid": "u1", "body_text": "hello", "other": 1}))
    (record,) = ingest_paths([path], mapping={"text": "body_text", "id": "uid"}).records
    assert record == {"id": "u1", "source": "w.jsonl:1", "text": "hello", "other": 1}


def test_a_mapping_naming_a_missing_field_is_an_issue_not_an_exception(tmp_path):
    path = write(tmp_path / "m.jsonl", jsonl({"a": "x"}, {"a": "y"}))
    result = ingest_paths([path], mapping={"text": "body"})
    assert not result.records and only_file(result).skipped == 2
    (issue,) = result.issues
    assert "'body'" in issue.message and "fields found: a" in issue.message


def test_explicit_format_skips_records_that_do_not_fit(tmp_path):
    path = write(tmp_path / "f.jsonl", jsonl({"text": "t"}, {"instruction": "i", "output": "o"}))
    result = ingest_paths([path], format="text")
    assert [r["text"] for r in result.records] == ["t"]
    assert [(i.where, i.severity) for i in result.issues] == [("line 2", "error")]
    auto = ingest_paths([path])
    assert len(auto.records) == 2 and only_file(auto).format == "mixed"


def test_unknown_format_name_is_an_issue(tmp_path):
    result = ingest_paths([write(tmp_path / "x.jsonl", jsonl({"text": "t"}))], format="csv")
    assert not result.records and "not one of auto" in result.issues[0].message


def test_duplicate_ids_across_files_get_a_suffix(tmp_path):
    first = write(tmp_path / "a" / "d.jsonl", jsonl({"id": "x", "text": "1"}))
    second = write(tmp_path / "b" / "d.jsonl", jsonl({"id": "x", "text": "2"}))
    result = ingest_paths([first, second])
    assert [r["id"] for r in result.records] == ["x", "x-dup2"]
    assert result.issues[0].severity == "warning" and "'x-dup2'" in result.issues[0].message


def test_progress_is_reported_per_file_and_ends_at_one(tmp_path):
    big = write(tmp_path / "big.jsonl", jsonl({"text": "t"}) * 25_000)
    small = write(tmp_path / "small.txt", "s")
    calls: list[tuple[float, str]] = []
    ingest_paths([big, small], progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("line 20,000" in m for _, m in calls) and any("small.txt" in m for _, m in calls)


def test_detect_format_is_exported():
    assert detect_format([{"text": "a"}]) == ("text", {"text": "text"})


def test_hub_path_with_a_local_folder(tmp_path):
    folder = tmp_path / "my_dataset"
    write(folder / "train.jsonl", jsonl(*ALPACA))
    result = ingest_hub_dataset(str(folder))
    assert [r["id"] for r in result.records] == ["my_dataset-1", "my_dataset-2"]
    assert result.records[0]["source"] == f"{folder}[train]:row 1"
    assert only_file(result).format == "alpaca" and not result.issues


def test_hub_path_with_a_builder_and_mapping(tmp_path):
    data = write(tmp_path / "raw.jsonl", jsonl({"q": "Q", "a": "A"}))
    result = ingest_hub_dataset("json", data_files=str(data), mapping={"prompt": "q", "completion": "a"})
    assert result.records[0]["messages"][1] == {"role": "assistant", "content": "A"}


def test_hub_failures_are_issues(tmp_path):
    missing = ingest_hub_dataset("nobody/no-such-dataset-xyz")  # offline in tests: HF_HUB_OFFLINE=1
    assert not missing.records and missing.issues[0].severity == "error"
    assert "check the dataset id" in missing.issues[0].message
    folder = tmp_path / "ds"
    write(folder / "train.jsonl", jsonl({"text": "t"}))
    bad_split = ingest_hub_dataset(str(folder), split="validation")
    assert "validation" in bad_split.issues[0].message


def test_a_mapping_naming_only_the_id_keeps_detection(tmp_path):
    path = write(tmp_path / "k.jsonl", jsonl({"key": "k1", "prompt": "p", "completion": "c"}))
    result = ingest_paths([path], mapping={"id": "key"})
    assert result.records[0]["id"] == "k1" and "key" not in result.records[0]
    assert only_file(result).format == "prompt_completion"


def test_a_pipe_is_refused_not_read(tmp_path):
    import os

    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    result = ingest_paths([fifo])
    assert not result.records and "not a regular file" in result.issues[0].message


def test_chinese_column_names(tmp_path):
    path = write(tmp_path / "问答.csv", "问题,答案\n今天星期几？,星期三\n")
    result = ingest_paths([path])
    assert result.records[0]["messages"][1]["content"] == "星期三"
    assert only_file(result).mapping == {"prompt": "问题", "completion": "答案"}


def test_csv_delimiters_blank_rows_and_duplicate_columns(tmp_path):
    semicolons = write(tmp_path / "eu.csv", "prompt;completion\nq;a\n\nq2;a2\n")
    dupes = write(tmp_path / "dupes.csv", "text,text\nx,y\n")
    header_only = write(tmp_path / "header.csv", "prompt,completion\n")
    result = ingest_paths([semicolons, dupes, header_only])
    assert [r["source"] for r in result.records] == ["eu.csv:row 2", "eu.csv:row 4", "dupes.csv:row 2"]
    assert result.records[2]["text"] == "x" and result.records[2]["text_2"] == "y"
    assert [(i.file, i.where, i.severity) for i in result.issues] == [("dupes.csv", "row 1", "warning"),
                                                                      ("header.csv", "", "error")]
