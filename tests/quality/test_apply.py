"""Applying flags: un-flags respected, first reason kept, reports written for people and spreadsheets."""

import csv
import json

from studio.quality.apply import apply_removals, removals_csv, write_report

RECORDS = [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "c", "text": "z"}]


def test_removals_apply_in_order_and_unflagged_records_stay():
    removals = [{"id": "b", "reason": "exact", "duplicate_of": "a"}, {"id": "c", "reason": "ppl_high"},
                {"id": "b", "reason": "ppl_low"}]
    kept, applied = apply_removals(RECORDS, removals, unflagged=["c"])
    assert [r["id"] for r in kept] == ["a", "c"]
    assert applied == [{"id": "b", "reason": "exact", "duplicate_of": "a"}]


def test_reports_are_json_and_csv(tmp_path):
    removals = [{"id": "b", "reason": "near", "duplicate_of": "a", "similarity": 0.91, "record": RECORDS[1]}]
    json_path, csv_path = write_report(tmp_path / "r", "dedup", {"removed": 1}, removals)
    assert json.loads(json_path.read_text(encoding="utf-8")) == {"removed": 1}
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert rows == [{"id": "b", "reason": "near", "duplicate_of": "a", "similarity": "0.91", "perplexity": "",
                     "bucket": ""}]
    assert removals_csv([]).strip() == "id,reason,duplicate_of,similarity,perplexity,bucket"
