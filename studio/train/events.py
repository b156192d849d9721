"""A run's files as the worker writes them and the UI reads them: status.json and events.jsonl.

The worker is the only writer of events; the runner and the supervisor write status only when the worker cannot
(queued, or dead without a final word). Status is replaced atomically; events are appended one JSON line at a time
and flushed, so a reader never sees half a line except possibly the last one, which `read_events` leaves for the
next poll. Pure file I/O: no torch, no Gradio.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.redaction import redact
from studio.workspace import atomic_write_text

QUEUED, STARTING, RUNNING, STOPPING = "queued", "starting", "running", "stopping"
STOPPED, FINISHED, FAILED, CANCELLED = "stopped", "finished", "failed", "cancelled"
LIVE_STATES = (STARTING, RUNNING, STOPPING)
FINAL_STATES = (STOPPED, FINISHED, FAILED, CANCELLED)

STATUS_FILE, EVENTS_FILE, LOG_FILE, RECIPE_FILE = "status.json", "events.jsonl", "worker.log", "recipe.yaml"
STATUS_LOCK = ".status.lock"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read_status(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's status, or {} if it has none yet (a folder being created)."""
    path = Path(run_dir) / STATUS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def write_status(run_dir: str | os.PathLike, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into status.json and replace it atomically; returns the new status.

    The worker, its supervisor and the UI each update the status; the lock keeps one's read-modify-write from
    dropping another's change.
    """
    with open(Path(run_dir) / STATUS_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        status = {**read_status(run_dir), **changes, "updated": now()}
        atomic_write_text(Path(run_dir) / STATUS_FILE, json.dumps(status, ensure_ascii=False, indent=1) + "\n")
    return status


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf; the UI must still see that a loss was NaN, so non-finite floats become strings.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class EventLog:
    """Appends events to events.jsonl, one flushed line each, so a killed worker leaves a readable file.

    The worker also updates status.json through it. In a multi-process run every rank holds one, but only rank 0's
    is `enabled`: the others build the same events and status changes and write nothing, so the run has one
    events.jsonl with each step once and no status updates racing each other.
    """

    def __init__(self, run_dir: str | os.PathLike, enabled: bool = True):
        self.run_dir, self.enabled = Path(run_dir), enabled
        self.path = self.run_dir / EVENTS_FILE
        self._handle = open(self.path, "a", encoding="utf-8") if enabled else None

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"time": time.time(), "kind": kind, **{k: _clean(v) for k, v in fields.items() if v is not None}}
        if self._handle is not None:
            self._handle.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._handle.flush()
        return event

    def update_status(self, **changes: Any) -> dict[str, Any]:
        """`write_status` for the run of this log; on a disabled log, only the changes themselves are returned."""
        return write_status(self.run_dir, **changes) if self.enabled else dict(changes)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class EventCursor:
    """Where a reader stopped in events.jsonl, so each poll reads only what was appended since."""

    offset: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


def read_events(run_dir: str | os.PathLike, cursor: EventCursor | None = None) -> EventCursor:
    """All events so far; with a cursor, only the lines appended since it, added to `cursor.events`.

    A trailing line without its newline is being written right now and is read on the next call.
    """
    cursor = cursor or EventCursor()
    path = Path(run_dir) / EVENTS_FILE
    try:
        with open(path, "rb") as handle:
            handle.seek(cursor.offset)
            chunk = handle.read()
    except FileNotFoundError:
        return cursor
    complete = chunk[: chunk.rfind(b"\n") + 1]
    for line in complete.splitlines():
        try:
            cursor.events.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a crash mid-write; the rest of the file is still good
    cursor.offset += len(complete)
    return cursor


def log_tail(run_dir: str | os.PathLike, max_bytes: int = 4000) -> str:
    """The end of worker.log, for the UI and for failure messages, with tokens and passwords masked."""
    path = Path(run_dir) / LOG_FILE
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - max_bytes))
            return redact(handle.read().decode("utf-8", errors="replace"))
    except FileNotFoundError:
        return ""
