"""Runs as the UI and the CLI manage them: create, queue, start, stop, resume, cancel, delete, list.

Everything is read from and written to the workspace's runs/ folder, never kept in this process, so the UI can be
closed, refreshed or restarted and finds its runs as they are. One run trains at a time (one device): launches go
into runs/queue.json, and whoever notices the device is free starts the next one — the UI on its poll, or the
supervisor of the run that just ended (`studio.train.supervisor`), so a queue drains with no browser open.

Each started run is a supervisor process in its own session, which starts the worker and waits for it; output goes
to worker.log through a file handle, never a pipe, so nothing blocks when the UI goes away.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from studio.config import Recipe
from studio.recipe_io import recipe_to_yaml
from studio.redaction import without_secrets
from studio.train.events import (CANCELLED, FAILED, FINAL_STATES, LIVE_STATES, LOG_FILE, QUEUED, RECIPE_FILE,
                                 STARTING, STOPPED, STOPPING, log_tail, read_status, write_status)
from studio.workspace import NAME_PATTERN, Workspace, atomic_write_text

QUEUE_FILE, LOCK_FILE = "queue.json", ".queue.lock"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESUMABLE = (STOPPED, FAILED)


class RunError(ValueError):
    """An action that does not apply to the run as it is now; the message says why."""


@contextmanager
def _locked(ws: Workspace) -> Iterator[None]:
    """Serialises queue changes between the UI, supervisors and CLI processes of one workspace."""
    with open(ws.runs / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_queue(ws: Workspace) -> list[dict[str, Any]]:
    try:
        return json.loads((ws.runs / QUEUE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []


def _write_queue(ws: Workspace, queue: list[dict[str, Any]]) -> None:
    atomic_write_text(ws.runs / QUEUE_FILE, json.dumps(queue, indent=1) + "\n")


def run_dir(ws: Workspace, run_id: str) -> Path:
    if not NAME_PATTERN.match(run_id or "") or not (ws.runs / run_id).is_dir():
        raise RunError(f"no run named {run_id!r} in {ws.runs}")
    return ws.runs / run_id


def create_run(ws: Workspace, recipe: Recipe) -> Path:
    """A new run folder holding the recipe; its id is the time and the recipe name, unique in the workspace."""
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{recipe.name}"[:60]
    for n in range(1, 1000):
        folder = ws.runs / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        header = f"python -m studio train {folder / RECIPE_FILE} --run-dir {folder}"
        atomic_write_text(folder / RECIPE_FILE, recipe_to_yaml(recipe, header))
        write_status(folder, run_id=folder.name, name=recipe.name, method=recipe.method,
                     model=recipe.model.name_or_path, dataset=recipe.data.dataset, created=time.time())
        return folder
    raise RunError(f"could not create a run folder for {stem} in {ws.runs}")


def pid_alive(pid: int | None) -> bool:
    """True when `pid` runs and is one of ours (a studio process, not a recycled pid or a zombie)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z" and b"studio" in cmdline


def is_live(status: dict[str, Any]) -> bool:
    return status.get("state") in LIVE_STATES and (pid_alive(status.get("pid"))
                                                   or pid_alive(status.get("supervisor_pid")))


def reconcile(folder: Path) -> dict[str, Any]:
    """Mark a run failed when it claims to be live but neither its worker nor its supervisor exists."""
    status = read_status(folder)
    if status.get("state") in LIVE_STATES and not is_live(status):
        final = STOPPED if status.get("state") == STOPPING else FAILED
        status = write_status(folder, state=final, ended=time.time(),
                              error=None if final == STOPPED else "the worker is gone without a final status "
                                                                  "(machine restart or killed with its supervisor)",
                              log_tail=log_tail(folder, 1500))
    return status


def live_run(ws: Workspace) -> str | None:
    """The id of the run that holds the device now, if any."""
    for folder in sorted(ws.runs.iterdir()):
        if folder.is_dir() and is_live(reconcile(folder)):
            return folder.name
    return None


def _start(ws: Workspace, folder: Path, resume: str | None) -> None:
    command = [sys.executable, "-m", "studio.train.supervisor", str(folder), "--workspace", str(ws.root)]
    if resume:
        command += ["--resume", resume]
    env = {**without_secrets(os.environ),  # the worker never needs the UI password
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    with open(folder / LOG_FILE, "a") as log:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    # One write: a reader must never see "starting" without a process it can check.
    write_status(folder, state=STARTING, supervisor_pid=proc.pid, error=None, queued_at=None)
    threading.Thread(target=proc.wait, daemon=True).start()  # reaps it if this process is still around


def tick(ws: Workspace) -> str | None:
    """Start the first queued run if the device is free; returns its id."""
    with _locked(ws):
        if live_run(ws) is not None:
            return None
        queue = read_queue(ws)
        while queue:
            entry = queue.pop(0)
            folder = ws.runs / entry["run"]
            if folder.is_dir() and read_status(folder).get("state") == QUEUED:
                _write_queue(ws, queue)
                _start(ws, folder, entry.get("resume"))
                return folder.name
        _write_queue(ws, queue)
    return None


def _enqueue(ws: Workspace, folder: Path, resume: str | None) -> None:
    with _locked(ws):
        queue = [e for e in read_queue(ws) if e["run"] != folder.name]
        _write_queue(ws, queue + [{"run": folder.name, "resume": resume}])
        write_status(folder, state=QUEUED, queued_at=time.time(), resume=resume, error=None)


def launch(ws: Workspace, recipe: Recipe) -> Path:
    """Create a run for `recipe`, queue it, and start it now if nothing else is training."""
    folder = create_run(ws, recipe)
    _enqueue(ws, folder, None)
    tick(ws)
    return folder


def resume(ws: Workspace, run_id: str, checkpoint: str = "latest") -> None:
    folder = run_dir(ws, run_id)
    state = reconcile(folder).get("state")
    if state not in RESUMABLE:
        raise RunError(f"{run_id} is {state}; only stopped or failed runs can be resumed")
    _enqueue(ws, folder, checkpoint)
    tick(ws)


def stop(ws: Workspace, run_id: str, grace_s: float = 60.0) -> str:
    """Ask a live run to save and stop (a queued one is cancelled); returns what was done."""
    folder = run_dir(ws, run_id)
    status = reconcile(folder)
    if status.get("state") == QUEUED:
        cancel(ws, run_id)
        return "cancelled"
    if not is_live(status):
        raise RunError(f"{run_id} is {status.get('state', 'not started')}; there is nothing to stop")
    write_status(folder, state=STOPPING, stop_requested=time.time(), grace_s=grace_s)
    if pid_alive(status.get("supervisor_pid")):
        os.kill(status["supervisor_pid"], signal.SIGTERM)  # it forwards, then kills after grace_s
    else:
        os.kill(status["pid"], signal.SIGTERM)  # a run started from a shell has no supervisor
    return "stopping"


def cancel(ws: Workspace, run_id: str) -> None:
    folder = run_dir(ws, run_id)
    with _locked(ws):
        if read_status(folder).get("state") != QUEUED:
            raise RunError(f"{run_id} is not queued")
        _write_queue(ws, [e for e in read_queue(ws) if e["run"] != run_id])
        write_status(folder, state=CANCELLED, ended=time.time())


def move(ws: Workspace, run_id: str, offset: int) -> None:
    """Move a queued run `offset` places (negative: sooner)."""
    with _locked(ws):
        queue = read_queue(ws)
        ids = [e["run"] for e in queue]
        if run_id not in ids:
            raise RunError(f"{run_id} is not in the queue")
        i = ids.index(run_id)
        entry = queue.pop(i)
        queue.insert(max(0, min(len(queue), i + offset)), entry)
        _write_queue(ws, queue)


def delete(ws: Workspace, run_id: str) -> None:
    folder = run_dir(ws, run_id)
    status = reconcile(folder)
    if is_live(status) or status.get("state") == QUEUED:
        raise RunError(f"{run_id} is {status.get('state')}; stop or cancel it before deleting")
    shutil.rmtree(folder)


def list_runs(ws: Workspace) -> list[dict[str, Any]]:
    """Status of every run, newest first, each with its id and queue position (None when not queued)."""
    positions = {e["run"]: i + 1 for i, e in enumerate(read_queue(ws))}
    runs = []
    for folder in sorted((p for p in ws.runs.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)), reverse=True):
        status = reconcile(folder)
        if status:
            runs.append({**status, "run_id": folder.name, "queue_position": positions.get(folder.name),
                         "final": status.get("state") in FINAL_STATES})
    return runs
