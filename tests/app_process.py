"""`python app.py` in a subprocess, as a user starts it, for the browser tests, the server tests and the load
benchmark: a free port, offline settings, a wait until it answers, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}


class AppDidNotStart(RuntimeError):
    """The app exited or never answered; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """True once the server answers at all (a login page's 401 counts: the app is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code in (401, 403)
    except OSError:
        return False


@contextmanager
def app_process(workspace: Path, *args: str, env: dict | None = None, log: Path | None = None,
                stderr_log: Path | None = None, timeout: float = 180.0) -> Iterator[dict]:
    """Start the app on `workspace` with extra command-line `args`; yields url, port, process, seconds to start.

    Output goes to `log` (stdout, and stderr too unless `stderr_log` is given). STUDIO_AUTH is dropped from the
    environment unless `env` sets it, so a developer's own login never leaks into a test.
    """
    port = free_port()
    log = log or workspace.parent / f"app-{port}.log"
    full_env = {**os.environ, **OFFLINE_ENV}
    full_env.pop("STUDIO_AUTH", None)
    full_env.update(env or {})
    with open(log, "wb") as out, open(stderr_log or os.devnull, "wb") as err:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--workspace", str(workspace), *args],
                                cwd=ROOT, stdout=out, stderr=err if stderr_log else subprocess.STDOUT, env=full_env)
    url = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    try:
        while not answers(url + "/"):
            tail = (stderr_log or log).read_text(errors="replace")[-3000:] if (stderr_log or log).exists() else ""
            if proc.poll() is not None:
                raise AppDidNotStart(f"app exited with {proc.returncode}:\n{tail}")
            if time.monotonic() - start > timeout:
                raise AppDidNotStart(f"no answer from {url} in {timeout:.0f} s:\n{tail}")
            time.sleep(0.25)
        yield {"url": url, "port": port, "process": proc, "startup_s": time.monotonic() - start, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
