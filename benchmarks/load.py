"""Benchmark: five people use the Data and Compare tabs while a run trains; errors, and what it costs the run.

    python benchmarks/load.py [--sessions 5] [--seconds 60] [--quiet-s 60] [--browser-nice 19]
                              [--worker-threads N] [--stagger-s 2] [--keep DIR]

One app (`python app.py`) and one training run (the CPU demo recipe made endless: `python -m studio train`, eval and
saves off, a log every 2 steps) share the machine, as on a workstation. The run's throughput is measured from its
events.jsonl in three windows: quiet (no browser) → load (--sessions headless Chromium sessions for --seconds) →
quiet again. Each session loops: open the page, read and chunk a bundled sample in the Data tab, then send a prompt
to both panes of the Compare tab and wait for the answers; every page error, error toast and HTTP 5xx is recorded.

Printed: iterations and errors per session, steps/s and real tokens/s of the run in each window, the drop under
load relative to the mean of the two quiet windows, and the CPU seconds the worker, the studio server and the
browsers used in each window. The run must keep training through the load.
Baseline: the same run in the same process, measured in the quiet windows of this one invocation.

In a demo the five browsers run on the viewers' machines, not on the training workstation; here they share its
cores. So they run at a lower priority (--browser-nice, default 19: the playwright driver and Chromium inherit it)
and their CPU time is reported apart, to tell the studio's own cost from the browsers'. --worker-threads caps the
run's torch threads (default: all cores, as the worker starts by itself); the CI test leaves one of two cores to the
server and the browsers, as a GPU run would, so that five page loads on two cores finish in its time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app_process import OFFLINE_ENV, app_process  # noqa: E402  (the path above makes the repo importable)

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
SAMPLES = ("intent_chat", "intent_alpaca")
PROMPT = "Book a table for two at an Italian place tomorrow at 7pm."
ENV = {**os.environ, **OFFLINE_ENV}


@dataclass
class Session:
    """What one browser session did and every error it saw."""

    index: int
    iterations: int = 0
    chunked: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Window:
    name: str
    start: float
    end: float
    cpu: dict = field(default_factory=dict)  # CPU seconds used in the window: worker, server, browsers

    def throughput(self, events: list[dict]) -> dict:
        """Steps/s between the first and last train log inside the window, and the median real tokens/s."""
        logs = [e for e in events if e.get("kind") == "train" and self.start <= e["time"] <= self.end]
        if len(logs) < 2:
            return {"window": self.name, "steps_per_s": None, "tokens_per_s": None, "logs": len(logs),
                "seconds": self.end - self.start, "cpu": self.cpu}
        steps = logs[-1]["step"] - logs[0]["step"]
        rate = steps / (logs[-1]["time"] - logs[0]["time"])
        tokens = [e["tokens_per_second"] for e in logs if e.get("tokens_per_second")]
        return {"window": self.name, "steps_per_s": rate, "tokens_per_s": statistics.median(tokens) if tokens else None,
                "logs": len(logs), "first_step": logs[0]["step"], "last_step": logs[-1]["step"],
                "seconds": self.end - self.start, "cpu": self.cpu}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BrowserCpu:
    """CPU seconds of every Chromium and playwright-driver process, sampled twice a second from /proc while the
    sessions run (renderers come and go, and a closed one is never waited for by this process)."""

    def __init__(self):
        self.before: dict[int, float] = {}  # processes that were there before the window, and their time then
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"chromium" in cmd or b"playwright" in cmd:
                self.last[int(entry.name)] = cpu_seconds(int(entry.name))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.5)

    def __enter__(self) -> "BrowserCpu":
        self._sample()
        self.before = dict(self.last)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def seconds(self) -> float:
        return sum(used - self.before.get(pid, 0.0) for pid, used in self.last.items())


def endless_recipe(path: Path) -> None:
    recipe = yaml.safe_load((ROOT / "recipes" / "cpu-demo.yaml").read_text(encoding="utf-8"))
    recipe["name"] = "under-load"
    recipe["duration"] = {"max_steps": 100_000}
    recipe["data"]["eval_split"] = 0.0
    recipe["checkpoint"].update(logging_steps=2, save_steps=100_000, eval_steps=100_000)
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")


def read_events(run_dir: Path) -> list[dict]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_steps(run_dir: Path, proc: subprocess.Popen, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while sum(e.get("kind") == "train" for e in read_events(run_dir)) < n:
        if proc.poll() is not None:
            raise RuntimeError(f"the run exited with {proc.returncode}; see {run_dir / 'worker.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the run logged fewer than {n} steps in {timeout:.0f} s")
        time.sleep(1)


async def use_studio(browser, url: str, session: Session, deadline: float, stagger_s: float) -> None:
    """One person's loop over the Data and Compare tabs until `deadline` (an iteration started is finished)."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    # Five browsers, the app and a training run share the cores: a click may wait a long time for its element to
    # render, which is slow, not an error; a page error, an error toast or an HTTP 5xx is.
    page.set_default_timeout(180_000)
    page.on("pageerror", lambda exc: session.errors.append(f"page error: {exc}"))
    page.on("response", lambda r: r.status >= 500 and session.errors.append(f"HTTP {r.status} {r.url}"))
    try:
        await asyncio.sleep(session.index * stagger_s)  # five people do not press Enter in the same second
        while time.monotonic() < deadline:
            sample = SAMPLES[(session.index + session.iterations) % len(SAMPLES)]
            await page.goto(url, wait_until="domcontentloaded")
            await page.locator("#studio-header").wait_for()
            box = page.locator("#data-sample input").first
            await box.click()
            await box.fill(sample)
            await box.press("Enter")
            await page.locator("#data-run").click()
            await expect(page.locator("#data-summary")).to_contain_text("examples", timeout=120_000)
            session.chunked += 1

            await page.get_by_role("tab", name="Compare").click()
            await page.get_by_text("System prompt and sampling", exact=False).click()
            await page.get_by_label("Max new tokens").first.fill("24")
            await page.locator("#cmp-prompt textarea").fill(f"{PROMPT} (session {session.index})")
            await page.locator("#cmp-send").click()
            await expect(page.locator("#cmp-stats-1")).to_contain_text("tok/s", timeout=180_000)
            session.answered += 1
            toasts = await page.locator(".toast-body.error").all_inner_texts()
            session.errors += [f"error toast: {t}" for t in toasts]
            session.iterations += 1
    except Exception as exc:  # a timeout or a missing element is an error of this session, not of the benchmark
        session.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def run_sessions(url: str, n: int, seconds: float, stagger_s: float) -> list[Session]:
    from playwright.async_api import async_playwright

    sessions = [Session(i) for i in range(n)]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(use_studio(browser, url, s, deadline, stagger_s) for s in sessions))
        await browser.close()
    return sessions


class Meter:
    """Times a window and the CPU seconds each side used in it."""

    def __init__(self, worker: int, server: int):
        self.pids = {"worker": worker, "server": server}

    def sample(self) -> dict:
        return {k: cpu_seconds(pid) for k, pid in self.pids.items()}

    def measure(self, name: str, work) -> tuple[Window, object]:
        before, start = self.sample(), time.time()
        with BrowserCpu() as browsers:
            result = work()
        after = self.sample()
        used = {**{k: after[k] - before[k] for k in after}, "browsers": browsers.seconds()}
        return Window(name, start, time.time(), used), result


def run_load(workspace: Path, sessions: int = 5, seconds: float = 60, quiet_s: float = 60,
             browser_nice: int = 19, worker_threads: int | None = None, stagger_s: float = 2.0) -> dict:
    """The whole measurement; returns sessions, windows and the run's state (the CI test calls this too)."""
    workspace.mkdir(parents=True, exist_ok=True)
    recipe, run_dir = workspace / "under-load.yaml", workspace / "runs" / "under-load"
    endless_recipe(recipe)
    worker_env = {**ENV, "OMP_NUM_THREADS": str(worker_threads)} if worker_threads else ENV
    with app_process(workspace, log=workspace / "app.log") as app:
        url, server_pid = app["url"] + "/", app["process"].pid
        worker = subprocess.Popen([sys.executable, "-m", "studio", "train", str(recipe), "--run-dir", str(run_dir),
                                   "--workspace", str(workspace), "--no-echo"], cwd=ROOT, env=worker_env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_steps(run_dir, worker, 3)
            meter, windows = Meter(worker.pid, server_pid), []
            if quiet_s:
                windows.append(meter.measure("quiet before", lambda: time.sleep(quiet_s))[0])
            os.nice(browser_nice)  # only this process and what it starts from now on: the browsers
            window, done = meter.measure("load", lambda: asyncio.run(run_sessions(url, sessions, seconds, stagger_s)))
            windows.append(window)
            if quiet_s:
                windows.append(meter.measure("quiet after", lambda: time.sleep(quiet_s))[0])
            alive = worker.poll() is None
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=120)
            except subprocess.TimeoutExpired:
                worker.kill()
    events = read_events(run_dir)
    return {"sessions": done, "windows": [w.throughput(events) for w in windows], "run_alive": alive,
            "status": json.loads((run_dir / "status.json").read_text(encoding="utf-8")),
            "browser_nice": browser_nice, "worker_threads": worker_threads}


def report(result: dict) -> str:
    lines = ["session  iterations  chunked  answered  errors"]
    for s in result["sessions"]:
        lines.append(f"{s.index:>7}  {s.iterations:>10}  {s.chunked:>7}  {s.answered:>8}  {len(s.errors):>6}")
        lines += [f"         {e}" for e in s.errors]
    lines.append("")
    lines.append("window          seconds  steps/s  real tokens/s  logs  steps      CPU s: worker  server  browsers")
    for w in result["windows"]:
        rate = f"{w['steps_per_s']:.3f}" if w["steps_per_s"] else "—"
        tokens = f"{w['tokens_per_s']:.0f}" if w["tokens_per_s"] else "—"
        span = f"{w.get('first_step', '—')}–{w.get('last_step', '—')}"
        cpu = w["cpu"]
        lines.append(f"{w['window']:<14}  {w['seconds']:>7.0f}  {rate:>7}  {tokens:>13}  {w['logs']:>4}  {span:<9}  "
                     f"{cpu.get('worker', 0):>12.0f}  {cpu.get('server', 0):>6.0f}  {cpu.get('browsers', 0):>8.0f}")
    by_name = {w["window"]: w for w in result["windows"]}
    quiet = [w["steps_per_s"] for n, w in by_name.items() if n.startswith("quiet") and w["steps_per_s"]]
    load = by_name.get("load", {}).get("steps_per_s")
    if quiet and load:
        base = statistics.mean(quiet)
        lines.append(f"\nrun throughput under load: {load / base:.2f}× the quiet windows (drop {1 - load / base:.0%})")
    lines.append(f"browsers at nice {result['browser_nice']}; worker torch threads "
                 f"{result['worker_threads'] or 'all (default)'}")
    lines.append(f"run still training during the load: {result['run_alive']}; final state "
                 f"{result['status'].get('state')}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--quiet-s", type=float, default=60)
    parser.add_argument("--browser-nice", type=int, default=19, help="niceness of the browsers (0 = equal share)")
    parser.add_argument("--worker-threads", type=int, help="torch threads of the run (default: all cores)")
    parser.add_argument("--stagger-s", type=float, default=2.0, help="seconds between the sessions' first page loads")
    parser.add_argument("--keep", type=Path, help="workspace folder to keep (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = args.keep or Path(tmp) / "workspace"
        result = run_load(workspace, args.sessions, args.seconds, args.quiet_s, args.browser_nice,
                          args.worker_threads, args.stagger_s)
    print(report(result), flush=True)
    if args.json:
        figures = {**result, "sessions": [vars(s) for s in result["sessions"]]}
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    errors = sum(len(s.errors) for s in result["sessions"])
    return 0 if errors == 0 and result["run_alive"] else 1


if __name__ == "__main__":
    sys.exit(main())
