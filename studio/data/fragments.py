"""From files to training fragments: ingest, chunk the raw-text records, summarise. Shared by the CLI and the UI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.data.chunking import ChunkSettings, chunk_records, summarize_fragments
from studio.data.ingest import IngestIssue, IngestResult, ingest_paths


@dataclass
class FragmentSet:
    fragments: list[dict]
    ingest: IngestResult
    summary: dict = field(default_factory=dict)

    @property
    def issues(self) -> list[IngestIssue]:
        return self.ingest.issues


def fragment_files(paths: Sequence[str | Path], tokenizer, settings: ChunkSettings,
                   progress: Callable[[float, str], None] | None = None) -> FragmentSet:
    """Ingest `paths` and cut every raw-text record into fragments; chat records are reported, not cut.

    Chat examples are already training samples: cutting them would separate questions from answers.
    """
    result = ingest_paths(paths, progress=(lambda f, m: progress(0.5 * f, m)) if progress else None)
    texts = [r for r in result.records if "text" in r]
    skipped = len(result.records) - len(texts)
    if skipped:
        result.issues.append(IngestIssue(file="(all files)", where="", severity="warning",
                                         message=f"{skipped} chat records are examples already and were not "
                                                 f"chunked; use them as a dataset directly"))
    if progress:
        progress(0.5, f"chunking {len(texts)} documents")
    fragments = list(chunk_records(texts, tokenizer, settings))
    summary = {"files": len(result.files), "records": len(result.records), **summarize_fragments(fragments),
               "issues": len(result.issues)}
    if progress:
        progress(1.0, f"{len(fragments)} fragments")
    return FragmentSet(fragments, result, summary)
