"""Where a run's data came from: each data source of the recipe, its dataset versions back to the first one, and
the duplicate and perplexity figures of every version that has a report.

A workspace dataset version has meta.json (parent, operation, parameters, counts) and may have
reports/<name>/<version>/dedup.json and ppl.json. A quality filter's report is made on the version it filtered and
the result is a child version, so the figures behind a filtered version sit on its parent: the whole chain is
listed, each version with its own reports or a plain "none". Bundled samples and plain files have no versions.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.config import BUNDLED_PREFIX
from studio.data.versions import DatasetVersion, resolve_dataset
from studio.workspace import NAME_PATTERN, Workspace

MAX_DEPTH = 50  # versions followed up a lineage; a longer chain is cut with a note


@dataclass(frozen=True)
class QualityReport:
    """The headline figures of one dedup.json or ppl.json, as (label, value as shown); `problem` if unreadable."""

    kind: str  # "dedup" or "ppl"
    path: Path
    figures: tuple[tuple[str, str], ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    """One dataset version as its meta.json describes it, with its quality reports (None: no report)."""

    ref: str
    path: Path
    parent: str | None
    operation: str | None
    parameters: dict[str, Any]
    records: int | None
    removed: int | None
    created: str | None
    dedup: QualityReport | None
    ppl: QualityReport | None
    problem: str | None = None  # meta.json missing or unreadable


@dataclass(frozen=True)
class DataSource:
    """One data set the recipe names, what kind of thing it is, and its lineage (the version used first)."""

    role: str  # "training data" or "general data mixed in (…)"
    ref: str
    kind: str  # "workspace dataset", "bundled sample", "file" or "not found"
    path: Path | None
    lineage: tuple[VersionInfo, ...] = ()
    notes: tuple[str, ...] = ()


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1%}"


def _count(value: Any) -> str:
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def dedup_figures(report: dict) -> tuple[tuple[str, str], ...]:
    remaining = report.get("remaining_duplicates") or {}
    interval = remaining.get("interval_95")
    rest = _pct(remaining.get("rate")) + (f" (95% CI {_pct(interval[0])}–{_pct(interval[1])}, "
                                          f"{_count(remaining.get('sampled'))} sampled)" if interval else "")
    return (("records checked", _count(report.get("documents"))), ("kept", _count(report.get("kept"))),
            ("exact duplicates", _count(report.get("exact_duplicates"))),
            ("near duplicates", _count(report.get("near_duplicates"))),
            ("removed", f"{_count(report.get('removed'))} ({_pct(report.get('share_removed'))})"),
            ("duplicate clusters", _count(report.get("clusters"))),
            ("similarity threshold", str((report.get("settings") or {}).get("threshold", "—"))),
            ("near duplicates left (sampled)", rest))


def ppl_figures(report: dict) -> tuple[tuple[str, str], ...]:
    counts = report.get("counts") or {}
    values = [r["ppl"] for r in (report.get("records") or {}).values() if isinstance(r, dict)
              and isinstance(r.get("ppl"), (int, float))]
    reasons = counts.get("unscored_by_reason") or {}
    why = " (" + ", ".join(f"{code.replace('_', ' ')}: {n:,}" for code, n in reasons.items()) + ")" if reasons else ""
    chat = report.get("chat") or {}
    chats = ()
    if chat.get("chat_records_scored"):
        scope = "assistant turns" if chat.get("tokens") == "assistant" else "whole conversation"
        chats = (("chat records scored on", f"{scope} ({_count(chat['chat_records_scored'])})"),)
    return (("reference model", str(report.get("model", "—"))), ("records", _count(counts.get("records"))),
            ("scored", _count(counts.get("scored"))), *chats,
            ("not scored", _count(counts.get("unscored")) + why),
            ("flagged high (noise)", _count(counts.get("flagged_high"))),
            ("flagged low (boilerplate)", _count(counts.get("flagged_low"))),
            ("length buckets", _count(len(report.get("buckets") or []))),
            ("median perplexity", f"{statistics.median(values):.3g}" if values else "—"))


def read_quality_report(path: Path, kind: str) -> QualityReport | None:
    """The report at `path`, None when there is none, or one naming the problem when it cannot be read."""
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict):
            raise ValueError("not a JSON object")
        return QualityReport(kind, path, dedup_figures(report) if kind == "dedup" else ppl_figures(report))
    except (OSError, ValueError, TypeError, AttributeError, IndexError) as exc:
        return QualityReport(kind, path, problem=f"{path}: unreadable ({exc})")


def version_info(ws: Workspace, version: DatasetVersion) -> VersionInfo:
    reports = ws.reports / version.name / version.version
    dedup, ppl = read_quality_report(reports / "dedup.json", "dedup"), read_quality_report(reports / "ppl.json", "ppl")
    try:
        meta = version.meta()
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return VersionInfo(version.ref, version.path, None, None, {}, None, None, None, dedup, ppl,
                           problem=f"{version.path / 'meta.json'}: unreadable ({exc})")
    counts = meta.get("counts") or {}
    return VersionInfo(version.ref, version.path, meta.get("parent"), meta.get("operation"),
                       meta.get("parameters") or {}, counts.get("records"), counts.get("removed"),
                       meta.get("created"), dedup, ppl)


def lineage(ws: Workspace, version: DatasetVersion) -> tuple[tuple[VersionInfo, ...], list[str]]:
    """The version and its ancestors, newest first, and notes on a parent that cannot be followed."""
    chain, notes, seen = [], [], set()
    current: DatasetVersion | None = version
    while current is not None:
        info = version_info(ws, current)
        chain.append(info)
        seen.add(info.ref)
        current = None
        if not info.parent:
            break
        if info.parent in seen or len(chain) >= MAX_DEPTH:
            notes.append(f"lineage cut at {info.ref}: its parent {info.parent} was already listed or the chain is "
                         f"longer than {MAX_DEPTH} versions")
            break
        try:
            current = resolve_dataset(ws, info.parent)
        except (FileNotFoundError, ValueError) as exc:
            notes.append(f"parent {info.parent} of {info.ref} is not in this workspace ({exc})")
    return tuple(chain), notes


def describe_source(ws: Workspace, ref: str, role: str) -> DataSource:
    """What `ref` (a recipe's data.dataset or data.mix_general_dataset) is, and its lineage when it has one."""
    if ref.startswith(BUNDLED_PREFIX):
        from studio.assets import resolve_bundled

        try:
            path = resolve_bundled(ref)
        except FileNotFoundError as exc:
            return DataSource(role, ref, "not found", None, notes=(str(exc),))
        return DataSource(role, ref, "bundled sample", path, notes=("a sample shipped with the studio: no versions, "
                                                                    "lineage or quality reports",))
    if "@" in ref or (NAME_PATTERN.match(ref) and (ws.datasets / ref).is_dir()):
        try:
            version = resolve_dataset(ws, ref)
        except (FileNotFoundError, ValueError) as exc:
            return DataSource(role, ref, "not found", None, notes=(f"{exc} (workspace {ws.root})",))
        chain, notes = lineage(ws, version)
        if "@" not in ref:
            notes.insert(0, f"the recipe names no version; {version.ref} is the newest now, and the run used the "
                            f"newest when it started")
        return DataSource(role, ref, "workspace dataset", version.data_file, chain, tuple(notes))
    path = Path(ref).expanduser()
    if path.is_file():
        return DataSource(role, ref, "file", path.resolve(), notes=("a file outside the workspace's datasets: no "
                                                                    "versions, lineage or quality reports",))
    return DataSource(role, ref, "not found", None,
                      notes=(f"no such file, workspace dataset or bundled sample (workspace {ws.root})",))


def data_sources(ws: Workspace, dataset: str, general: str | None = None, general_ratio: float = 0.0
                 ) -> list[DataSource]:
    """The training data set and, when the recipe mixes one in, the general data set."""
    sources = [describe_source(ws, dataset, "training data")]
    if general and general_ratio > 0:
        sources.append(describe_source(ws, general, f"general data mixed in ({general_ratio:.0%} of training "
                                                    f"examples)"))
    return sources
