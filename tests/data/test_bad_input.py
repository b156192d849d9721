"""The bad-input corpus (tests/data/bad_inputs.py): every broken file gives an issue naming the file, where and what
to do; the good records of the same file survive; nothing raises and nothing is written."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from studio.data.ingest import IngestLimits, ingest_paths
from tests.data.bad_inputs import CORPUS, HUGE_LINE_BYTES, BadInput, build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("bad-inputs"))


def snapshot(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*")}


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 20
    assert len({case.path for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case.path for case in CORPUS])
def test_each_broken_file_is_reported_and_good_records_survive(corpus: Path, case: BadInput):
    result = ingest_paths([corpus / case.path])
    matching = [issue for issue in result.issues if issue.file == case.path and issue.where == case.where
                and case.says in issue.message.lower()]
    assert matching, f"expected {case.where!r} / {case.says!r} for {case.path}; got {result.issues}"
    assert matching[0].severity == case.severity
    assert len(result.records) == case.good
    for report in result.files:
        if report.skipped:  # a skipped record is never silent
            assert any(i.file == report.file and i.severity == "error" for i in result.issues)
    for record in result.records:
        assert record["id"] and record["source"] and ("text" in record or "messages" in record)


def test_the_whole_corpus_at_once_reads_the_good_and_writes_nothing(corpus: Path):
    before = snapshot(corpus)
    result = ingest_paths([corpus], display_names={str(corpus): "corpus"})
    assert snapshot(corpus) == before
    expected = sum(case.good for case in CORPUS)
    assert len(result.records) == expected
    named = {issue.file for issue in result.issues} | {r.file for r in result.files if r.records}
    for case in CORPUS:
        if case.write is not None and (corpus / case.path).is_file():
            assert f"corpus/{case.path}" in named
    assert len({r["id"] for r in result.records}) == len(result.records)


def test_a_50_mb_line_is_skipped_fast_without_holding_it(corpus: Path):
    path = corpus / "huge_single_line.jsonl"
    assert path.stat().st_size > HUGE_LINE_BYTES
    tracemalloc.start()
    started = time.perf_counter()
    result = ingest_paths([path])
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r["text"] for r in result.records] == ["before", "after"]
    assert elapsed < 5
    assert peak < 32 * 1024 * 1024  # one record's worth (10 MB limit) plus change, never the 50 MB line


def test_the_record_limit_is_a_setting(tmp_path: Path):
    path = tmp_path / "long.jsonl"
    path.write_text('{"text": "' + "y" * 5000 + '"}\n{"text": "short"}\n')
    result = ingest_paths([path], limits=IngestLimits(max_record_bytes=1000))
    assert [r["text"] for r in result.records] == ["short"]
    assert result.issues[0].where == "line 1" and "max_record_bytes" in result.issues[0].message
    assert len(ingest_paths([path]).records) == 2


def test_many_bad_lines_are_listed_up_to_a_limit_then_counted(tmp_path: Path):
    path = tmp_path / "noisy.jsonl"
    path.write_text("not json\n" * 250 + '{"text": "fine"}\n')
    result = ingest_paths([path], limits=IngestLimits(max_listed_issues=20))
    assert len(result.records) == 1
    assert result.files[0].skipped == 250
    assert len(result.issues) == 21
    assert result.issues[-1].where == "line 21" and "230 errors more" in result.issues[-1].message


def test_a_table_file_too_big_to_read_whole_is_refused_with_the_setting(tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_text("text\n" + "a row\n" * 1000)
    result = ingest_paths([path], limits=IngestLimits(max_file_bytes=1000))
    assert not result.records
    assert "max_file_bytes" in result.issues[0].message and "JSON Lines" in result.issues[0].message
