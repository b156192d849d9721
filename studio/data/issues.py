"""What ingestion tells the user about their files: one `IngestIssue` per problem, collected per file.

An issue always names the file as the user knows it, where in it (line, row, page, record, or "" for the whole
file), what is wrong and what to do. A file with thousands of bad lines would bury everything else, so each file
lists its first `max_listed` issues and then one summary issue with the count of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
"""The record or file was skipped."""
WARNING = "warning"
"""Kept, but changed or suspicious."""


@dataclass(frozen=True)
class IngestIssue:
    """One problem in one place of one input file."""

    file: str
    """The file name as the user knows it (the upload's name, or the path relative to the folder given)."""
    where: str
    """"line 17", "row 4", "page 3", "record 12", or "" for the whole file."""
    message: str
    """What is wrong and what to do about it."""
    severity: str
    """"error" (the record or file was skipped) or "warning" (kept, but changed or suspicious)."""


@dataclass
class IssueLog:
    """The issues of one file, with the count of skipped records kept exact even when the listing stops."""

    file: str
    max_listed: int = 100
    issues: list[IngestIssue] = field(default_factory=list)
    skipped: int = 0
    """Records skipped so far (each one is an error issue, listed or counted)."""
    other_formats: dict[str, int] = field(default_factory=dict)
    """Of the skipped records, those of another format than the one asked for, by the format they fit."""
    _unlisted: dict[str, int] = field(default_factory=dict)
    _first_unlisted: str = ""

    def add(self, where: str, message: str, severity: str = ERROR, *, skips: int = 0) -> None:
        """Record a problem; `skips` is how many records it cost (1 for a skipped line, 0 for a warning)."""
        self.skipped += skips
        if len(self.issues) < self.max_listed:
            self.issues.append(IngestIssue(self.file, where, message, severity))
            return
        self._unlisted[severity] = self._unlisted.get(severity, 0) + 1
        self._first_unlisted = self._first_unlisted or where

    def error(self, where: str, message: str, *, skips: int = 1) -> None:
        self.add(where, message, ERROR, skips=skips)

    def other_format(self, where: str, message: str, found: dict[str, int], *, skips: int = 1) -> None:
        """`skips` records skipped, `found` of them ({format: count}) because they are records of another format
        than the one asked for (the rest fit no format)."""
        for fmt, n in found.items():
            self.other_formats[fmt] = self.other_formats.get(fmt, 0) + n
        self.error(where, message, skips=skips)

    def warning(self, where: str, message: str) -> None:
        self.add(where, message, WARNING)

    def finish(self) -> list[IngestIssue]:
        """The listed issues plus, when some were not listed, one issue saying how many and from where."""
        if not self._unlisted:
            return list(self.issues)
        errors, warnings = self._unlisted.get(ERROR, 0), self._unlisted.get(WARNING, 0)
        counts = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for n, kind in
                              ((errors, "error"), (warnings, "warning")) if n)
        summary = IngestIssue(
            self.file, self._first_unlisted,
            f"{counts} more from here on are not listed ({self.skipped} records skipped in all); fix the problems "
            f"above first, the rest are often the same", ERROR if errors else WARNING)
        return [*self.issues, summary]
