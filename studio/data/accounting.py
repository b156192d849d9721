"""Every record of a training data set accounted for, counted by one function for the Configure tab and the worker.

`count_records` turns what ingestion read under the recipe's `data.format` into figures: records training reads
(by shape), records of another format, records that fit no format. Both the Configure tab (its step readouts and
its check of `data.format`) and the worker (`studio.train.data`) call `read_for_training`, so the numbers they show
cannot disagree. The figures are data; each place renders its own words.

What happens to each kind of record, and why:
- of another format than an explicit `data.format` (text fragments in a chat set read as `messages`): the run is
  refused before the model loads, and the Configure tab shows the same refusal on `data.format`. The recipe asks
  for one kind and the set holds two, so dropping some would train on a set nobody chose; one setting (`auto`, or
  the other format) or splitting the set fixes it, and nothing has been spent yet;
- fitting no format at all (a broken line, unknown fields, an empty answer, a chat without an assistant turn):
  dropped and counted. No setting can train them, the Data tab names each one with its line and the fix, and a
  large set should not wait on one bad line. Only a set with no usable record at all is refused;
- with nothing left to learn after truncation: dropped and counted when encoded (`studio.train.data.encode_all`),
  as the token budget counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.data.ingest import IngestIssue, IngestResult, ingest_paths

OTHER_FORMAT, NO_RECORDS = "other_format", "no_records"
"""Refusal codes: records of another format than data.format; no record training could read."""
_PROBLEMS_KEPT = 3


def shape(record: dict) -> str:
    """"messages" (a chat: alpaca and prompt/completion records become one) or "text"."""
    return "messages" if "messages" in record else "text"


def expected_shape(fmt: str) -> str | None:
    """The shape every record must have under data.format `fmt` (None for auto: each its own)."""
    return None if fmt == "auto" else "text" if fmt == "text" else "messages"


@dataclass(frozen=True)
class RecordCount:
    """A data set's records under one data.format; records == read + sum(other_formats) + invalid."""

    format: str
    usable: dict[str, int]
    """Records training reads, by shape ("messages", "text")."""
    other_formats: dict[str, int] = field(default_factory=dict)
    """Records of another format than `format`, by the format they fit."""
    invalid: int = 0
    """Records that fit no format (the Data tab lists each with its line)."""
    problems: tuple[IngestIssue, ...] = ()
    """The first skipped records' issues: where, and what to do."""

    @property
    def read(self) -> int:
        return sum(self.usable.values())

    @property
    def other(self) -> int:
        return sum(self.other_formats.values())

    @property
    def records(self) -> int:
        return self.read + self.other + self.invalid

    @property
    def suggested_format(self) -> str | None:
        """The data.format that reads the most common other format (a ShareGPT chat reads as messages)."""
        if not self.other_formats:
            return None
        top = max(self.other_formats, key=self.other_formats.__getitem__)
        return "messages" if top == "sharegpt" else top

    @property
    def refusal(self) -> str | None:
        """OTHER_FORMAT, NO_RECORDS, or None when the set can be trained."""
        if self.other:
            return OTHER_FORMAT
        return None if self.read else NO_RECORDS

    def as_data(self) -> dict:
        """Flat figures for events, status.json and the report (other_formats only when there are some)."""
        out = {"format": self.format, "records": self.records, "read": self.read,
               "chat_records": self.usable.get("messages", 0), "text_records": self.usable.get("text", 0),
               "dropped_invalid": self.invalid}
        return {**out, "other_formats": dict(self.other_formats)} if self.other_formats else out


def count_records(result: IngestResult, fmt: str) -> RecordCount:
    """Every record of `result` (ingested with format `fmt`) as usable, of another format, or invalid.

    Ingestion skips a record of another format under an explicit format and says which one it fits
    (`FileReport.other_formats`); a read record of the wrong shape (a document read as text under a chat format)
    counts as another format too.
    """
    usable: dict[str, int] = {}
    other: dict[str, int] = {}
    want = expected_shape(fmt)
    for record in result.records:
        kind = shape(record)
        target = usable if want is None or kind == want else other
        target[kind] = target.get(kind, 0) + 1
    invalid = 0
    for report in result.files:
        for name, n in report.other_formats.items():
            other[name] = other.get(name, 0) + n
        invalid += report.skipped - sum(report.other_formats.values())
    problems = tuple(i for i in result.issues if i.severity == "error")[:_PROBLEMS_KEPT]
    return RecordCount(fmt, usable, other, invalid, problems)


def read_for_training(path: str, fmt: str) -> tuple[list[dict], RecordCount]:
    """The records training reads from a data file under data.format `fmt`, and the count of all of them."""
    result = ingest_paths([path], format=fmt)
    return result.records, count_records(result, fmt)
