"""From files to a training set: ingest, clean chat records, chunk raw-text records into fragments, summarise.

Shared by `python -m studio chunk` and the Data tab, so both give the same records, issues and figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.data.chunking import ChunkSettings, chunk_records
from studio.data.cleanup import drop_sensitive, strip_fillers, truncate_history
from studio.data.fragment_stats import summarize_fragments
from studio.data.ingest import IngestIssue, IngestResult, ingest_hub_dataset, ingest_paths
from studio.data.templates import encode_record

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class CleanupOptions:
    """Chat clean-up; each option is off when empty."""

    max_history_tokens: int = 0  # keep the latest turns of longer conversations
    fillers: tuple[str, ...] = ()  # words removed from user and assistant turns
    sensitive: tuple[str, ...] = ()  # a record containing any of these is dropped


@dataclass
class PreparedData:
    fragments: list[dict]  # raw text cut into token windows
    examples: list[dict]  # chat records: already training examples, so never cut
    ingest: IngestResult
    summary: dict = field(default_factory=dict)
    cleanup: dict[str, dict] = field(default_factory=dict)  # option name -> its report

    @property
    def records(self) -> list[dict]:
        return self.fragments + self.examples

    @property
    def issues(self) -> list[IngestIssue]:
        return self.ingest.issues


def parse_mapping(text: str) -> dict[str, str]:
    """'instruction=query, output=response' -> {"instruction": "query", "output": "response"}."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        ours, sep, theirs = (part.strip() for part in pair.partition("="))
        if not sep or not ours or not theirs:
            raise ValueError(f"field mapping {pair!r}: write it as our_field=your_field, e.g. output=response")
        mapping[ours] = theirs
    return mapping


def truncated_share(records: Sequence[dict], tokenizer, max_length: int) -> float:
    """Share of records longer than `max_length` once encoded exactly as training will encode them."""
    if not records:
        return 0.0
    return sum(encode_record(tokenizer, r).n_tokens > max_length for r in records) / len(records)


def _read(paths: Sequence[str | Path], hub_dataset: str | None, fmt: str, mapping: dict[str, str] | None,
          display_names: Mapping[str, str] | None, progress: Progress) -> IngestResult:
    result = ingest_paths(paths, format=fmt, mapping=mapping, display_names=display_names, progress=progress) \
        if paths else IngestResult()
    if hub_dataset:
        hub = ingest_hub_dataset(hub_dataset, format=fmt, mapping=mapping)
        result.records += hub.records
        result.files += hub.files
        result.issues += hub.issues
    return result


def clean_examples(examples: list[dict], tokenizer, options: CleanupOptions) -> tuple[list[dict], dict[str, dict]]:
    reports = {}
    if options.sensitive:
        examples, reports["sensitive words"] = drop_sensitive(examples, options.sensitive)
    if options.fillers:
        examples, reports["filler words"] = strip_fillers(examples, options.fillers)
    if options.max_history_tokens:
        examples, reports["history truncation"] = truncate_history(examples, options.max_history_tokens, tokenizer)
    return examples, reports


def prepare_files(paths: Sequence[str | Path], tokenizer, settings: ChunkSettings, *, max_length: int | None = None,
                  hub_dataset: str | None = None, format: str = "auto", mapping: dict[str, str] | None = None,
                  cleanup: CleanupOptions = CleanupOptions(), display_names: Mapping[str, str] | None = None,
                  progress: Progress | None = None) -> PreparedData:
    report = progress or (lambda fraction, message: None)
    result = _read(paths, hub_dataset, format, mapping, display_names, lambda f, m: report(0.4 * f, m))
    texts = [r for r in result.records if "text" in r]
    examples, cleanup_reports = clean_examples([r for r in result.records if "messages" in r], tokenizer, cleanup)
    report(0.4, f"chunking {len(texts)} documents")
    fragments = list(chunk_records(texts, tokenizer, settings))
    summary = {"files": len(result.files), "records": len(result.records),
               "formats": sorted({f.format for f in result.files}),
               "encodings": sorted({f.encoding for f in result.files if f.encoding}),
               **summarize_fragments(fragments, settings.min_tokens), "chat_examples": len(examples),
               "issues": len(result.issues)}
    if max_length:
        report(0.8, "measuring lengths")
        summary["max_length"] = max_length
        summary["truncated_share"] = round(truncated_share(fragments + examples, tokenizer, max_length), 4)
    report(1.0, f"{len(fragments)} fragments, {len(examples)} chat examples")
    return PreparedData(fragments, examples, result, summary, cleanup_reports)
