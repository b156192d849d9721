"""From files to a training set: ingest, chunk raw-text records into fragments, keep chat records as examples,
and summarise. Shared by `python -m studio chunk` and the Data tab."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.assets import resolve_bundled
from studio.config import BUNDLED_PREFIX
from studio.data.chunking import ChunkSettings, chunk_records, summarize_fragments
from studio.data.ingest import IngestIssue, IngestResult, ingest_paths
from studio.data.templates import encode_record


@dataclass
class PreparedData:
    fragments: list[dict]  # raw text cut into token windows
    examples: list[dict]  # chat records: already training examples, so never cut
    ingest: IngestResult
    summary: dict = field(default_factory=dict)

    @property
    def records(self) -> list[dict]:
        return self.fragments + self.examples

    @property
    def issues(self) -> list[IngestIssue]:
        return self.ingest.issues


def truncated_share(records: Sequence[dict], tokenizer, max_length: int) -> float:
    """Share of records longer than `max_length` once encoded exactly as training will encode them."""
    if not records:
        return 0.0
    return sum(encode_record(tokenizer, r).n_tokens > max_length for r in records) / len(records)


def prepare_files(paths: Sequence[str | Path], tokenizer, settings: ChunkSettings, *, max_length: int | None = None,
                  display_names: Mapping[str, str] | None = None,
                  progress: Callable[[float, str], None] | None = None) -> PreparedData:
    report = progress or (lambda fraction, message: None)
    paths = [resolve_bundled(str(p)) if str(p).startswith(BUNDLED_PREFIX) else p for p in paths]
    result = ingest_paths(paths, display_names=display_names, progress=lambda f, m: report(0.4 * f, m))
    texts = [r for r in result.records if "text" in r]
    examples = [r for r in result.records if "messages" in r]
    report(0.4, f"chunking {len(texts)} documents")
    fragments = list(chunk_records(texts, tokenizer, settings))
    summary = {"files": len(result.files), "records": len(result.records),
               "formats": sorted({f.format for f in result.files}),
               "encodings": sorted({f.encoding for f in result.files if f.encoding}),
               **summarize_fragments(fragments), "chat_examples": len(examples), "issues": len(result.issues)}
    if max_length:
        report(0.8, "measuring lengths")
        summary["max_length"] = max_length
        summary["truncated_share"] = round(truncated_share(fragments + examples, tokenizer, max_length), 4)
    report(1.0, f"{len(fragments)} fragments, {len(examples)} chat examples")
    return PreparedData(fragments, examples, result, summary)
