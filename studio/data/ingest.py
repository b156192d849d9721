"""Ingestion's entry points: files, folders or a Hub dataset in; records in the internal shape and issues out.

`ingest_paths` reads each file with the reader for its extension (`studio.data.readers`, `studio.data.documents`),
detects or applies the record format and field mapping (`studio.data.formats`), and gives every record a stable
`id` and a `source`. Nothing is written to disk and nothing raises for bad input: every file, line or record that
cannot be used becomes an `IngestIssue` naming the file, where, what is wrong and what to do, and the good records
of the same file are kept.

Choices where the issue is silent:
- A record's own `id` (or the field mapped to `id`) is kept; without one the id is "{stem}-{n}", n being the line
  (JSONL), spreadsheet row (CSV/TSV, header = row 1), row (Parquet), record (JSON) or page (PDF) number, so ids do
  not shift when another record is fixed or removed. A whole-file document's id is its stem. Duplicates get
  "-dup2", "-dup3"... and a warning.
- A record's own `source` string is kept (it already names the original, e.g. a patent PDF); otherwise `source`
  is "file:17", "file:row 4", "file:record 3" or "file:page 2".
- With format "auto", a record that does not fit the file's format but fits another one is converted by its own
  format (one warning per file); with an explicit format or mapping it is skipped with an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.assets import resolve_bundled
from studio.config import BUNDLED_PREFIX
from studio.data import formats
from studio.data.documents import read_docx, read_pdf, read_text
from studio.data.issues import ERROR, WARNING, IngestIssue, IssueLog
from studio.data.readers import FileRead, IngestLimits, Row, read_json, read_jsonl
from studio.data.tables import read_csv, read_parquet, read_tsv

__all__ = ["FileReport", "IngestIssue", "IngestLimits", "IngestResult", "detect_format", "ingest_hub_dataset",
           "ingest_paths", "SUPPORTED"]

detect_format = formats.detect_format
Progress = Callable[[float, str], None]

READERS = {".jsonl": read_jsonl, ".ndjson": read_jsonl, ".json": read_json, ".csv": read_csv, ".tsv": read_tsv,
           ".parquet": read_parquet, ".txt": read_text, ".md": read_text, ".markdown": read_text,
           ".pdf": read_pdf, ".docx": read_docx}
SUPPORTED = tuple(READERS)
_HINTS = {".xlsx": "save it as CSV", ".xls": "save it as CSV", ".doc": "save it as .docx",
          ".gz": "decompress it first", ".zip": "extract it first", ".tar": "extract it first",
          ".html": "save the page as .txt", ".htm": "save the page as .txt", ".rtf": "save it as .docx or .txt",
          ".pptx": "export the slides as PDF", ".arrow": "convert it to Parquet or JSON Lines"}
FORMAT_CHOICES = ("auto", *formats.FORMATS)


@dataclass(frozen=True)
class FileReport:
    """What one input file gave."""

    file: str
    encoding: str
    """The detected encoding ("utf-8", "utf-8-sig", "gb18030", "utf-16-le", ...), "pdf", or "" if unread."""
    format: str
    """text, alpaca, messages, sharegpt, prompt_completion, mixed, or unknown."""
    records: int
    skipped: int
    mapping: dict[str, str]
    """Internal field -> source field used, e.g. {"instruction": "query", "output": "response"}."""
    other_formats: dict[str, int] = field(default_factory=dict)
    """Of the skipped records, those of another format than the one asked for, by the format they fit."""


@dataclass
class IngestResult:
    records: list[dict] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)

    @property
    def format(self) -> str:
        """"text" or "messages" when all records are of that shape, "mixed" when both occur ("text" if none)."""
        shapes = {"messages" if "messages" in r else "text" for r in self.records}
        return shapes.pop() if len(shapes) == 1 else ("mixed" if shapes else "text")


@dataclass
class _Ids:
    """Ids already given out, across every file of one ingestion, and the duplicates renamed in the current file."""

    seen: set[str] = field(default_factory=set)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)

    def claim(self, wanted: str, where: str) -> str:
        if wanted not in self.seen:
            self.seen.add(wanted)
            return wanted
        k = 2
        while f"{wanted}-dup{k}" in self.seen:
            k += 1
        new = f"{wanted}-dup{k}"
        self.seen.add(new)
        self.renamed.append((where, wanted, new))
        return new

    def report(self, log: IssueLog) -> None:
        """One warning per renamed id, or one for all of a file's when there are many (same data loaded twice)."""
        advice = "give records unique ids if they differ, or remove the duplicates"
        if len(self.renamed) <= 5:
            for where, old, new in self.renamed:
                log.warning(where, f"id {old!r} is already used by an earlier record; this one is now {new!r} — "
                                   f"{advice}")
        else:
            where, old, new = self.renamed[0]
            log.warning(where, f"{len(self.renamed)} ids are already used by earlier records (the first here: "
                               f"{old!r} is now {new!r}); each got a -dup suffix — {advice}; loading the same data "
                               f"twice does this")
        self.renamed.clear()


def _own(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value).strip()


def _finish(body: dict, row: Row, stem: str, id_field: str | None, ids: _Ids) -> dict:
    record = row.value if isinstance(row.value, Mapping) else {}
    wanted = _own(record.get(id_field)) if id_field else ""
    if not wanted:
        wanted = stem if row.number is None else f"{stem}-{row.number}"
    source = _own(record.get("source")) if isinstance(record.get("source"), str) else ""
    return {"id": ids.claim(wanted, row.where), "source": source or row.source, **body}


def _not_a_record(row: Row) -> str:
    kind = {list: "an array", str: "a string", type(None): "null", bool: "true/false"}.get(type(row.value),
                                                                                         "a number")
    return f"{kind}, not a record; each record must be an object such as {{\"text\": \"...\"}} — fix or remove it"


def _records(n: int) -> str:
    return f"{n} record{'s' * (n != 1)}"


def _unknown_fields(rows: list[Row], read: FileRead) -> str:
    fields: dict[str, None] = {}
    for row in rows[:1000]:
        if isinstance(row.value, Mapping):
            fields.update(dict.fromkeys(map(str, row.value)))
    shown = ", ".join(list(fields)[:20]) + (" ..." if len(fields) > 20 else "") or "none"
    first = next(iter(fields), "your_field")
    message = (f"no recognisable fields (found: {shown}); accepted: {formats.ACCEPTED}; rename the fields or pass a "
               f"mapping, e.g. mapping={{'text': '{first}'}} or {{'instruction': ..., 'output': ...}}")
    if read.first_row is not None:
        message = (f"the first row looks like data, not column names ({', '.join(read.first_row)[:120]}): the file "
                   f"has no header row; add one naming the columns, such as instruction,input,output")
    return f"{_records(len(rows))} skipped: {message}"


def _resolve(rows: list[Row], fmt: str, mapping: Mapping[str, str] | None) -> tuple[str, dict[str, str], str]:
    """(format, mapping, "") or ("unknown", {}, what is wrong) for a file's records."""
    values = [row.value for row in rows if isinstance(row.value, Mapping)]
    if fmt == "auto":
        found_fmt, found = formats.detect_format(values, mapping)
        if found_fmt == "unknown":
            forced = formats.format_of_mapping(mapping or {})
            if forced is None:
                return "unknown", {}, ""
            found_fmt, found = forced, formats.map_fields(values[:1000], forced, mapping or {})
    elif fmt not in formats.FORMATS:
        return "unknown", {}, f"format {fmt!r} is not one of {', '.join(FORMAT_CHOICES)}"
    else:
        found_fmt, found = fmt, formats.map_fields(values[:1000], fmt, mapping or {})
    problem = formats.check_mapping(values, found_fmt, found)
    return found_fmt, found, problem


def _convert_rows(read: FileRead, stem: str, fmt: str, mapping: Mapping[str, str] | None, ids: _Ids,
                  log: IssueLog) -> tuple[list[dict], str, dict[str, str]]:
    """The file's records in the internal shape, its format and the mapping used."""
    if read.documents:
        return [_finish(row.value, row, stem, None, ids) for row in read.rows], "text", read.mapping
    file_fmt, used, problem = _resolve(read.rows, fmt, mapping)
    if problem:
        found = _own_formats(read.rows) if fmt in formats.FORMATS else {}
        if found:
            log.other_format("", f"{_records(len(read.rows))} skipped: none is a {fmt} record "
                                 f"({_mix(found)}); {_choose_auto(max(found, key=found.__getitem__))}", found,
                             skips=len(read.rows))
        else:
            log.error("", f"{_records(len(read.rows))} skipped: {problem}", skips=len(read.rows))
        return [], "unknown", dict(mapping or {})
    if file_fmt == "unknown":
        if read.rows:
            log.error("row 1" if read.first_row else "", _unknown_fields(read.rows, read), skips=len(read.rows))
        return [], "unknown", {}
    strict = fmt != "auto" or bool(mapping)
    records, others, first_other = [], {}, ""
    for row in read.rows:
        if not isinstance(row.value, Mapping):
            log.error(row.where, _not_a_record(row))
            continue
        row_fmt, row_mapping = _row_format(row.value, file_fmt, used, mapping, strict)
        own = _other_format(row.value, file_fmt) if row_fmt == "unknown" and fmt != "auto" else None
        if own:
            log.other_format(row.where, f"a {own} record, not {file_fmt}: {_choose_auto(own)}", {own: 1})
            continue
        if row_fmt == "unknown":
            log.error(row.where, f"not a {file_fmt} record like the others: "
                                 f"{formats.why_not(row.value, file_fmt, used)} (fields here: "
                                 f"{', '.join(map(str, row.value)) or 'none'}); fix or remove the record")
            continue
        if row_fmt != file_fmt and {row_fmt, file_fmt} != {"messages", "sharegpt"}:
            others[row_fmt] = others.get(row_fmt, 0) + 1
            first_other = first_other or row.where
        try:
            body = formats.convert(row.value, row_fmt, row_mapping)
        except formats.RecordError as exc:
            log.error(row.where, str(exc))
            continue
        records.append(_finish(body, row, stem, row_mapping.get("id"), ids))
    if others:
        log.warning(first_other, f"mixed record formats: most records are {file_fmt}, but {_mix(others)} (the first "
                                 f"here); each was converted by its own format — check that this is intended")
        file_fmt = "mixed"
    return records, file_fmt, used


def _mix(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {'is' if n == 1 else 'are'} {f}" for f, n in counts.items())


def _choose_auto(found: str) -> str:
    return (f"choose format auto to read each record by its own format (or {found} for records like this), or "
            f"split the file by format")


def _other_format(row: Mapping, asked: str) -> str | None:
    """The format a record that does not fit the one asked for does fit, if any (chat shapes count as one)."""
    own = formats.detect_format([row])[0]
    return None if own == "unknown" or own == asked or {own, asked} == {"messages", "sharegpt"} else own


def _own_formats(rows: list[Row]) -> dict[str, int]:
    """Rows by the format each fits on its own (rows fitting none left out)."""
    found: dict[str, int] = {}
    for row in rows:
        own = formats.detect_format([row.value])[0] if isinstance(row.value, Mapping) else "unknown"
        if own != "unknown":
            found[own] = found.get(own, 0) + 1
    return found


def _row_format(row: Mapping, file_fmt: str, used: dict[str, str], mapping: Mapping[str, str] | None,
                strict: bool) -> tuple[str, dict[str, str]]:
    """The format and mapping to convert one record with: the file's; else, without a user mapping, the same
    format under other field names (text here, content there); else, with format "auto", the record's own."""
    if formats.fits(row, file_fmt, used):
        return file_fmt, used
    if not mapping:
        own = formats.map_fields([row], file_fmt, {})
        if formats.fits(row, file_fmt, own):
            return file_fmt, own
    return ("unknown", {}) if strict else formats.detect_format([row])


def _display(path: Path, given: str, display_names: Mapping[str, str] | None) -> str:
    names = display_names or {}
    return names.get(given) or names.get(str(path)) or names.get(str(path.resolve())) or path.name or given


def _expand(paths: Sequence[str | Path], display_names: Mapping[str, str] | None,
            result: IngestResult) -> list[tuple[Path, str]]:
    """(file, display name) for every supported file; folders are walked recursively, hidden entries ignored.
    A named file that does not exist or is not supported gets an error issue and an empty FileReport."""
    files: list[tuple[Path, str]] = []
    issues = result.issues
    for given in paths:
        # Bundled samples keep their short name in reports, wherever the package is installed.
        path = resolve_bundled(str(given)) if str(given).startswith(BUNDLED_PREFIX) else Path(given).expanduser()
        name = _display(path, str(given), display_names)
        try:
            files += _expand_one(path, name, result)
        except OSError as exc:  # an unreadable folder, a path too long, a broken mount...
            issues.append(IngestIssue(name, "", f"cannot be read ({exc.strerror or exc}); check the path and that "
                                      f"you may read it", ERROR))
    return files


def _unread(result: IngestResult, name: str, message: str) -> None:
    result.issues.append(IngestIssue(name, "", message, ERROR))
    result.files.append(FileReport(name, "", "unknown", 0, 0, {}))


def _walk(folder: Path, name: str, result: IngestResult) -> list[tuple[Path, str]]:
    found = [p for p in sorted(folder.rglob("*")) if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    usable = [p for p in found if p.suffix.lower() in READERS]
    for p in found:
        if p.suffix.lower() not in READERS:
            hint = _HINTS.get(p.suffix.lower(), f"supported: {', '.join(SUPPORTED)}")
            result.issues.append(IngestIssue(f"{name}/{p.relative_to(folder).as_posix()}", "",
                                             f"skipped: {p.suffix or 'no extension'} files are not read; {hint}",
                                             WARNING))
    if not usable:
        result.issues.append(IngestIssue(name, "", f"the folder has no file ingestion can read ({len(found)} other "
                                         f"files); supported: {', '.join(SUPPORTED)}", ERROR))
    return [(p, f"{name}/{p.relative_to(folder).as_posix()}") for p in usable]


def _expand_one(path: Path, name: str, result: IngestResult) -> list[tuple[Path, str]]:
    if path.is_dir():
        return _walk(path, name, result)
    if not path.exists():
        _unread(result, name, f"does not exist ({path}); check the path and the spelling")
    elif not path.is_file():
        _unread(result, name, "not a regular file (a pipe or a device?); save the data to a file first")
    elif path.suffix.lower() not in READERS:
        hint = _HINTS.get(path.suffix.lower(), "convert it to one of those")
        _unread(result, name, f"{path.suffix or 'a file without extension'} is not supported (supported: "
                              f"{', '.join(SUPPORTED)}); {hint}")
    else:
        return [(path, name)]
    return []


def _stem(name: str) -> str:
    path = Path(name)
    return path.with_suffix("").as_posix() if path.suffix else path.as_posix()


def ingest_paths(paths: Sequence[str | Path], *, format: str = "auto", mapping: dict[str, str] | None = None,
                 display_names: Mapping[str, str] | None = None, progress: Progress | None = None,
                 limits: IngestLimits | None = None) -> IngestResult:
    """Read files and folders into records; see the module docstring. `format` is "auto" or one of
    formats.FORMATS; `mapping` is {internal field: source field}; `display_names` maps a given path to the name the
    user knows (an upload's original name); `progress(fraction, message)` is called per file and every 10k lines."""
    limits = limits or IngestLimits()
    result, ids = IngestResult(), _Ids()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = _expand(paths, display_names, result)
    for i, (path, name) in enumerate(files):
        if progress:
            progress(i / len(files), f"reading {name}")
        tick = (lambda f, m, i=i: progress((i + min(f, 1.0)) / len(files), m)) if progress else (lambda f, m: None)
        log = IssueLog(name, max_listed=limits.max_listed_issues)
        read = READERS[path.suffix.lower()](path, name, log, limits, tick)
        records, fmt, used = _convert_rows(read, _stem(name), format, mapping, ids, log)
        ids.report(log)
        result.records += records
        result.issues += log.finish()
        result.files.append(FileReport(name, read.encoding, fmt if read.rows else "unknown", len(records),
                                       log.skipped, dict(used), dict(log.other_formats)))
    if progress:
        progress(1.0, f"{len(result.records):,} records from {len(files)} file{'s' * (len(files) != 1)}")
    return result


def ingest_hub_dataset(dataset_id: str, split: str = "train", *, config: str | None = None, format: str = "auto",
                       mapping: dict[str, str] | None = None, display_names: Mapping[str, str] | None = None,
                       progress: Progress | None = None, limits: IngestLimits | None = None,
                       **load_options) -> IngestResult:
    """A dataset from the Hugging Face Hub (or a local folder or builder name `datasets.load_dataset` accepts,
    with `load_options` such as data_files), streamed so nothing is copied into the datasets cache. Rows are
    numbered from 1 ("row N"); the file name in reports is "{dataset_id}[{split}]" unless display_names maps the
    id to another name."""
    limits = limits or IngestLimits()
    result = IngestResult()
    name = f"{(display_names or {}).get(dataset_id, dataset_id)}[{split}]"
    log = IssueLog(name, max_listed=limits.max_listed_issues)
    if progress:
        progress(0.0, f"opening {dataset_id}")
    rows: list[Row] = []
    try:
        from datasets import load_dataset

        dataset = load_dataset(dataset_id, config, split=split, streaming=True, **load_options)
        for n, value in enumerate(dataset, start=1):
            rows.append(Row(value, f"row {n}", f"{name}:row {n}", n))
            if progress and n % 10_000 == 0:
                progress(0.5, f"{dataset_id}: row {n:,}")
    except Exception as exc:  # load_dataset raises many types (offline, not found, bad split, bad files)
        where = f"row {len(rows) + 1}" if rows else ""
        log.error(where, f"could not load ({type(exc).__name__}: {exc}); check the dataset id, config and split, "
                         f"and that you are online (HF_HUB_OFFLINE unset) for Hub datasets", skips=0)
    read = FileRead(encoding="utf-8", rows=rows)
    stem = dataset_id.rstrip("/").split("/")[-1] or "dataset"
    ids = _Ids()
    records, fmt, used = _convert_rows(read, stem, format, mapping, ids, log)
    ids.report(log)
    result.records, result.issues = records, log.finish()
    result.files.append(FileReport(name, "utf-8", fmt if rows else "unknown", len(records), log.skipped, used,
                                   dict(log.other_formats)))
    if progress:
        progress(1.0, f"{len(records):,} records from {dataset_id}")
    return result
