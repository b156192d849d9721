"""`python -m studio dedup`: exact and near-duplicate removal from the command line.

    python -m studio dedup IN.jsonl --out KEPT.jsonl --removed REMOVED.jsonl --report REPORT.json
        [--field text] [--shingle 13] [--num-perm 128] [--bands 32 --rows 4 | --auto-bands] [--threshold 0.8]
        [--keep first|longest]

Input is read by ingestion (`studio.data.ingest`), so every format it reads works (JSONL, JSON, CSV, Parquet, text,
PDF...) and records carry their `id` and `source`. The three outputs are written only after the whole run
succeeded, each through a temp file renamed into place, so a failed or interrupted run leaves no partial files.

Choices where the issue is silent:
- Records ingestion could not read (bad JSON, empty text...) stop the run before anything is written: dropping
  them from KEPT.jsonl without a trace would lose them. The messages name file, line and what to fix.
- --field names a field of the ingested records; when ingestion mapped that field to `text` (e.g. `body`), `text`
  is used. Given --bands alone, rows = num_perm // bands, and the other way round; neither: 4 rows and
  num_perm // 4 bands (32 x 4 at 128 permutations).
- Exit status: 0 done, 1 the input has records that cannot be used, 2 bad options or unreadable files.
"""

from __future__ import annotations

import argparse
import json
import sys

from studio.quality.dedup import KEEP_CHOICES, Cancelled, DedupInputError, DedupResult, DedupSettings, find_duplicates
from studio.workspace import atomic_open

_DEFAULTS = DedupSettings()
_LISTED = 20  # problems printed one by one; the rest are counted


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the dedup arguments to `parser` (a subcommand's parser) and set `func` to `run`."""
    parser.add_argument("inputs", nargs="+", metavar="IN",
                        help="files or folders: jsonl, json, csv, tsv, parquet, txt, md, pdf, docx")
    parser.add_argument("--out", required=True, metavar="KEPT.jsonl", help="records kept, as JSONL")
    parser.add_argument("--removed", required=True, metavar="REMOVED.jsonl",
                        help="records removed, one per line: id, duplicate_of, reason, similarity, record")
    parser.add_argument("--report", required=True, metavar="REPORT.json", help="the report, as JSON")
    parser.add_argument("--field", default=_DEFAULTS.field, help=f"field holding the text (default "
                                                                 f"{_DEFAULTS.field})")
    parser.add_argument("--shingle", type=int, default=_DEFAULTS.shingle,
                        help=f"characters per shingle (default {_DEFAULTS.shingle})")
    parser.add_argument("--num-perm", type=int, default=_DEFAULTS.num_perm,
                        help=f"MinHash permutations (default {_DEFAULTS.num_perm})")
    parser.add_argument("--bands", type=int, default=None,
                        help="LSH bands (default num-perm // rows: 32 at 128); bands x rows <= num-perm")
    parser.add_argument("--rows", type=int, default=None, help="rows per band (default 4, or num-perm // bands)")
    parser.add_argument("--auto-bands", action="store_true",
                        help="choose bands and rows for the threshold instead (fewest false positives + negatives)")
    parser.add_argument("--threshold", type=float, default=_DEFAULTS.threshold,
                        help=f"Jaccard similarity of near duplicates (default {_DEFAULTS.threshold}; presets: web "
                             f"0.82, books 0.9, code 0.95); every candidate pair is checked against it")
    parser.add_argument("--keep", choices=KEEP_CHOICES, default=_DEFAULTS.keep,
                        help="which record of a cluster stays: the first seen or the longest (default first)")
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace, field: str) -> DedupSettings:
    """DedupSettings from parsed arguments; ValueError names the option at fault."""
    bands, rows = args.bands, args.rows
    if args.auto_bands and (bands is not None or rows is not None):
        raise ValueError("--auto-bands chooses bands and rows itself; drop --bands/--rows or --auto-bands")
    if bands is None and rows is None:
        rows = min(_DEFAULTS.rows, max(1, args.num_perm))
    # One of the two given (or rows defaulted): the other fills the permutations. Values below 1 pass through
    # unchanged for DedupSettings to reject with its message.
    if bands is None:
        bands = max(1, args.num_perm // rows) if rows >= 1 else _DEFAULTS.bands
    if rows is None:
        rows = max(1, args.num_perm // bands) if bands >= 1 else _DEFAULTS.rows
    return DedupSettings(field=field, shingle=args.shingle, num_perm=args.num_perm, bands=bands, rows=rows,
                         auto_bands=args.auto_bands, threshold=args.threshold, keep=args.keep)


def _option(message: str) -> str:
    """'num_perm: ...' -> '--num-perm: ...': messages from the settings in the option names of this command."""
    name, sep, rest = message.partition(":")
    return f"--{name.replace('_', '-')}:{rest}" if sep and name.isidentifier() else message


def write_outputs(result: DedupResult, out: str, removed: str, report: str) -> None:
    """The three files, each atomically; none is renamed into place before all three are fully written."""
    with atomic_open(out) as kept_file, atomic_open(removed) as removed_file, atomic_open(report) as report_file:
        for record in result.kept:
            kept_file.write(json.dumps(record, ensure_ascii=False) + "\n")
        for entry in result.removed:
            removed_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        report_file.write(json.dumps(result.report, ensure_ascii=False, indent=1) + "\n")


def _field_in_records(files: list, field: str) -> str:
    """The field to read: `text` when ingestion mapped the given field to it (e.g. body -> text)."""
    mapped = any(report.mapping.get("text") == field for report in files)
    return "text" if field != "text" and mapped else field


def run(args: argparse.Namespace) -> int:
    from studio.data.ingest import ingest_paths  # here, so that building the parser stays light

    if len({args.out, args.removed, args.report}) < 3:
        print("error: --out, --removed and --report must be three different files", file=sys.stderr)
        return 2
    result = ingest_paths(args.inputs)
    errors = [issue for issue in result.issues if issue.severity == "error"]
    for issue in result.issues:
        where = f":{issue.where}" if issue.where else ""
        print(f"{issue.severity}: {issue.file}{where}: {issue.message}", file=sys.stderr)
    if not result.records and not errors:
        print("error: no records in the input; nothing written", file=sys.stderr)
        return 1
    if errors:
        unread = any(not report.encoding for report in result.files)
        print(f"error: {len(errors)} problem{'s' * (len(errors) != 1)} in the input (listed above); fix or remove "
              f"those records and run again — nothing written, so no record is dropped unseen", file=sys.stderr)
        return 2 if unread else 1
    try:
        settings = settings_from_args(args, _field_in_records(result.files, args.field))
        dedup = find_duplicates(result.records, settings)
    except DedupInputError as exc:
        for problem in exc.problems[:_LISTED]:
            print(f"error: {problem}", file=sys.stderr)
        more = f" ({len(exc.problems) - _LISTED} more not listed)" if len(exc.problems) > _LISTED else ""
        print(f"error: {len(exc.problems)} record{'s' * (len(exc.problems) != 1)} without usable text{more}; fix "
              f"them or pick the text field with --field; nothing written", file=sys.stderr)
        return 1
    except (ValueError, Cancelled) as exc:
        print(f"error: {_option(str(exc))}", file=sys.stderr)
        return 2
    try:
        write_outputs(dedup, args.out, args.removed, args.report)
    except OSError as exc:
        print(f"error: cannot write the outputs ({exc}); nothing written", file=sys.stderr)
        return 2
    report = dedup.report
    print(f"{report['documents']:,} records: {report['exact_duplicates']:,} exact and {report['near_duplicates']:,} "
          f"near duplicates removed ({report['share_removed']:.1%}), {report['kept']:,} kept; "
          f"{report['verified_pairs']:,} of {report['candidate_pairs']:,} candidate pairs verified at "
          f"{settings.threshold} ({report['s_curve']['bands']} bands x {report['s_curve']['rows']} rows)")
    remaining = report["remaining_duplicates"]
    if remaining["rate"] is not None:
        low, high = remaining["interval_95"]
        print(f"remaining duplicate rate ≈ {remaining['rate']:.1%} (95% {low:.1%}–{high:.1%}, "
              f"{remaining['sampled']} kept records sampled)")
    print(f"written: {args.out}, {args.removed}, {args.report}")
    return 0
