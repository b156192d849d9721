"""Reading tables: CSV and TSV with a header row, and Parquet, into located rows (see `studio.data.readers`).

CSV/TSV rows are numbered as a spreadsheet shows them (the header is row 1, the first record row 2); Parquet rows
from 1. A row whose bytes are not valid text, or whose field count differs from the header's, is skipped with an
error naming it.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from studio.data.issues import IssueLog
from studio.data.readers import FileRead, IngestLimits, Row, Tick, decode_whole

_TICK_ROWS = 10_000
# A header cell: a short name of letters, digits, spaces and a little punctuation. Anything else is data.
_WORD_ONLY = re.compile(r"^[\w .\-/()]{1,40}$")


def _looks_like_data(cell: str) -> bool:
    return not _WORD_ONLY.match(cell.strip()) or cell.strip().replace(".", "").replace("-", "").isdigit()


def _header(cells: list[str], log: IssueLog, where: str) -> list[str]:
    names, seen = [], set()
    for i, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column_{i}"
        if name in seen:
            log.warning(where, f"column name {name!r} appears twice; the second is read as {name}_{i}; "
                               f"rename one of them in the header")
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


def _delimiter(text: str, default: str) -> str:
    """"," for CSV unless the header line has more ";" (Excel in many European locales) or tabs; TSV is tabs."""
    if default != ",":
        return default
    first = text.lstrip("\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _row_problem(cells: list[str], header: list[str], broken: list[int], bad: dict[int, str],
                 delimiter: str) -> str:
    if broken:
        return f"{bad[broken[0]]} (line {broken[0]}); re-save the file as UTF-8, or fix or remove the row"
    if len(cells) != len(header):
        shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
        return (f"{len(cells)} fields where the header has {len(header)}; quote values that contain {shown} "
                f"(\"a{delimiter} b\"), or fix the row")
    return ""


def read_csv(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick,
             delimiter: str = ",") -> FileRead:
    """CSV/TSV with a header row. Rows are numbered as a spreadsheet shows them: the header is row 1, blank rows
    count, and a quoted value spanning lines is one row."""
    kind = "CSV" if delimiter == "," else "TSV"
    decoded = decode_whole(path, log, limits, kind)
    if decoded is None:
        return FileRead()
    text, detected, bad = decoded
    delimiter = _delimiter(text, delimiter)
    read = FileRead(encoding=detected.encoding)
    previous_limit = csv.field_size_limit(limits.max_record_bytes)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] | None = None
        number, last_line, lines = 0, 0, text.count("\n") + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                number, last_line = number + 1, reader.line_num
                log.error(f"row {number}", f"unreadable {kind} ({exc}); fix the quoting of this row or remove it")
                continue
            first, last_line, number = last_line + 1, reader.line_num, number + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and rows of empty cells are spreadsheet leftovers, not records
            broken = [line for line in range(first, last_line + 1) if line in bad] if bad else []
            if header is None:
                header = _header(cells, log, f"row {number}")
                if broken:
                    log.warning(f"row {number}", "the header row has bytes that are not valid text; check the "
                                                 "column names")
                read.first_row = cells if any(map(_looks_like_data, cells)) else None
                continue
            problem = _row_problem(cells, header, broken, bad, delimiter)
            if problem:
                log.error(f"row {number}", problem)
            else:
                record = dict(zip(header, cells, strict=True))
                read.rows.append(Row(record, f"row {number}", f"{name}:row {number}", number))
            if number % _TICK_ROWS == 0:
                tick(last_line / lines, f"{name}: row {number:,}")
    finally:
        csv.field_size_limit(previous_limit)
    if header is not None and not read.rows and not log.issues:
        log.error("", f"only a header row ({', '.join(header)[:120]}), no records; export the data again", skips=0)
    return read


def read_tsv(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    return read_csv(path, name, log, limits, tick, delimiter="\t")


def read_parquet(path: Path, name: str, log: IssueLog, limits: IngestLimits, tick: Tick) -> FileRead:
    """Parquet, streamed in batches; a batch that fails to read ends the file with the rows before it kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        total = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        log.error("", f"not a readable Parquet file ({exc}); export it again, or save the data as JSON Lines",
                  skips=0)
        return FileRead()
    read = FileRead(encoding="utf-8")  # Parquet stores strings as UTF-8 by definition
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=1024):
            for value in batch.to_pylist():
                number += 1
                read.rows.append(Row(value, f"row {number}", f"{name}:row {number}", number))
            tick(number / max(total, 1), f"{name}: row {number:,}")
    except (pa.ArrowException, OSError, ValueError) as exc:
        missing = max(total - number, 1)
        log.error(f"row {number + 1}", f"rows {number + 1}–{total} could not be read ({exc}); the file is damaged "
                                       f"from here on — export it again", skips=missing)
    return read
