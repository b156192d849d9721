"""What the Quality tab's two reports share: the records under review and each session's flags."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import gradio as gr

from studio.config import BUNDLED_PREFIX
from studio.data.ingest import ingest_paths
from studio.data.versions import list_datasets, list_versions, resolve_dataset
from studio.ui.i18n import tr
from studio.workspace import Workspace

SAMPLE_SOURCES = ["bundled:patents", "bundled:intent_chat"]


@dataclass
class Source:
    """The records under review and where they came from (a bundled sample or a workspace version)."""

    ref: str
    name: str  # dataset name the applied version is saved under
    version: str  # "sample" for bundled data
    records: list[dict]


@dataclass
class Review:
    """One browser session's reports; kept in gr.State so sessions never share results."""

    source: Source | None = None
    dedup_removed: list[dict] = field(default_factory=list)
    ppl_removed: list[dict] = field(default_factory=list)
    ppl_report: dict | None = None  # the last perplexity report, so its summary can be made again in another language
    dedup_done: bool = False  # a duplicate report ran on this source (it may have flagged nothing)
    cancel: threading.Event = field(default_factory=threading.Event)

    def use(self, ws: Workspace, ref: str) -> Source:
        """The source for `ref`, reloaded when another dataset was picked (its old flags no longer apply)."""
        if self.source is None or self.source.ref != ref:
            self.source, self.dedup_removed, self.ppl_removed = load_source(ws, ref), [], []
            self.ppl_report, self.dedup_done = None, False
        return self.source


def source_choices(ws: Workspace) -> list[str]:
    refs = [v.ref for latest in list_datasets(ws) for v in list_versions(ws, latest.name)]
    return SAMPLE_SOURCES + refs


def followed_sources(ws: Workspace, current: str | None) -> tuple[list[str], str]:
    """The data sets on disk now, and the selection: kept while it still names one (a listed version, or a bare
    name typed in), else the first sample."""
    choices = source_choices(ws)
    if current in choices:
        return choices, current
    try:
        if current and not current.startswith(BUNDLED_PREFIX):
            resolve_dataset(ws, current)
            return choices, current
    except (FileNotFoundError, ValueError):
        pass
    return choices, SAMPLE_SOURCES[0]


def load_source(ws: Workspace, ref: str) -> Source:
    try:
        if ref.startswith(BUNDLED_PREFIX):
            path, name, version = ref, "sample-" + ref.removeprefix(BUNDLED_PREFIX), "sample"
        else:
            dataset = resolve_dataset(ws, ref)
            path, name, version = dataset.data_file, dataset.name, dataset.version
    except (FileNotFoundError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    result = ingest_paths([path])
    if not result.records:
        raise gr.Error(tr("{ref}: no records; {issues}", ref=ref,
                          issues="; ".join(f"{i.where} {i.message}" for i in result.issues[:3])))
    return Source(ref, name, version, result.records)
