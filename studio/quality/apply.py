"""Turning quality flags into a new dataset version: a person's un-flags respected, every removal recorded.

Dedup and perplexity both produce removal entries ({"id", "reason", ..., "record"}). Applying them never touches
the source: kept records go to a new version, removed ones (with why) to its removed.jsonl.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from studio.workspace import atomic_write_text

CSV_COLUMNS = ("id", "reason", "duplicate_of", "similarity", "perplexity", "bucket")


def apply_removals(records: Sequence[dict], removals: Iterable[dict], unflagged: Iterable[str] = ()
                   ) -> tuple[list[dict], list[dict]]:
    """(kept records in their original order, removal entries applied); un-flagged ids stay in the data."""
    spared = set(unflagged)
    applied: dict[str, dict] = {}
    for entry in removals:
        if entry["id"] not in spared and entry["id"] not in applied:  # the first reason found is the one kept
            applied[entry["id"]] = entry
    kept = [r for r in records if r.get("id") not in applied]
    return kept, list(applied.values())


def removals_csv(removals: Iterable[dict]) -> str:
    """The removal list for a spreadsheet: one row per record, the columns that apply filled in."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in removals:
        writer.writerow({k: entry.get(k, "") for k in CSV_COLUMNS})
    return buffer.getvalue()


def write_report(folder: Path, kind: str, report: dict, removals: Sequence[dict]) -> tuple[Path, Path]:
    """reports/<name>/<version>/<kind>.json and <kind>.csv, each written atomically."""
    json_path, csv_path = folder / f"{kind}.json", folder / f"{kind}.csv"
    atomic_write_text(json_path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    atomic_write_text(csv_path, removals_csv(removals))
    return json_path, csv_path
