"""`python -m studio.train.supervisor RUN_DIR`: starts one worker, outlives any UI, and tells how the worker ended.

A worker can die without a word (kill -9, the kernel's OOM killer, a segfault in a kernel extension). Its parent is
the only process that learns the exit signal, so the parent is this small process rather than the UI: it records
a final status the worker could not write, turns a stop request into SIGTERM for the worker and a kill after the
grace period, and starts the next queued run when its worker is gone.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from studio.train.events import (FAILED, FINAL_STATES, LOG_FILE, RECIPE_FILE, STOPPED, STOPPING, EventLog,
                                 log_tail, read_status, write_status)


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def supervise(folder: Path, workspace: str, resume: str | None, grace_s: float = 60.0) -> int:
    command = [sys.executable, "-m", "studio", "train", str(folder / RECIPE_FILE), "--run-dir", str(folder),
               "--workspace", workspace, "--no-echo"]
    if resume:
        command += ["--resume", resume]
    with open(folder / LOG_FILE, "a") as log:
        worker = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    write_status(folder, pid=worker.pid)
    deadline: list[float] = []

    def forward(signum, frame):
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        if not deadline:
            deadline.append(time.monotonic() + float(read_status(folder).get("grace_s") or grace_s))

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            code = worker.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if deadline and time.monotonic() > deadline[0]:
                worker.kill()  # the grace period is over: the worker did not reach a step end in time
    _record_end(folder, code, killed_after_grace=bool(deadline) and code == -signal.SIGKILL)
    return code


def _record_end(folder: Path, code: int, killed_after_grace: bool) -> None:
    status = read_status(folder)
    if status.get("state") in FINAL_STATES:
        write_status(folder, exit_code=code)
        return
    how = describe_exit(code)
    if status.get("state") == STOPPING:
        note = "killed after the grace period without reaching a step end" if killed_after_grace else how
        write_status(folder, state=STOPPED, ended=time.time(), exit_code=code,
                     error=f"stopped without saving: {note}; resume uses the last checkpoint")
    else:
        write_status(folder, state=FAILED, ended=time.time(), exit_code=code,
                     error=f"the worker died ({how}) without a final status", log_tail=log_tail(folder, 1500))
    events = EventLog(folder)
    events.write("status", state=read_status(folder)["state"], error=read_status(folder)["error"], exit_code=code)
    events.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.train.supervisor")
    parser.add_argument("run_dir")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--resume", default=None)
    args = parser.parse_args(argv)
    folder = Path(args.run_dir).resolve()
    code = supervise(folder, args.workspace, args.resume)
    from studio.train.runner import tick
    from studio.workspace import Workspace

    tick(Workspace.open(args.workspace))  # the device is free: the next queued run may start
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
