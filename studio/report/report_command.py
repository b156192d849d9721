"""`python -m studio report`: one self-contained HTML report of a training run, for showing to stakeholders.

    python -m studio report RUN_DIR --out FILE.html [--workspace DIR] [--examples 5]

The page holds the run's header, its data sources with their versions, lineage and quality reports, the recipe,
the loss and learning-rate curves (plotly.js inlined once), estimated vs measured peak memory, the batch
evaluations that include the run's adapter, side-by-side examples and the blind-vote tallies. It makes no request
when opened, so it can be mailed or opened on a machine without a network.

Choices where the issue is silent:
- The workspace is --workspace, else the one RUN_DIR sits in (WORKSPACE/runs/<run_id>), else $STUDIO_HOME or
  ./workspace. Nothing is created in it.
- A run that is still training gets a report of where it is now; a run that has not started (no events) is refused.
- The Train and Compare tabs write theirs to WORKSPACE/reports/runs/<run_id>/report.html (`write_run_report`).
- Exit status: 0 written; 2 bad input (not a run folder, no events, --out a folder or a file of the run, a
  negative --examples, --out not writable), with a message naming the path and the fix, and no file written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_EXAMPLES = 5
REPORT_FILE = "report.html"
RUN_FILES = ("recipe.yaml", "status.json", "events.jsonl", "worker.log")  # --out must not replace one of these


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike, workspace: str | os.PathLike | None = None,
                 n_examples: int = DEFAULT_EXAMPLES):
    """Collect, render and write atomically; returns the ReportData. ReportError (nothing written) for bad input."""
    from studio.report.collect import collect_report
    from studio.report.page import render_html
    from studio.workspace import atomic_write_text

    data = collect_report(run_dir, workspace, n_examples)
    atomic_write_text(out, render_html(data))
    return data


def write_run_report(ws, run_id: str, n_examples: int = DEFAULT_EXAMPLES) -> Path:
    """The report of the workspace's run `run_id`, at WORKSPACE/reports/runs/<run_id>/report.html (the UI's)."""
    from studio.report.collect import ReportError
    from studio.workspace import NAME_PATTERN

    if not NAME_PATTERN.match(run_id or "") or not (ws.runs / run_id).is_dir():
        raise ReportError(f"no run named {run_id!r} in {ws.runs}; pick a run from the list")
    out = ws.reports / "runs" / run_id / REPORT_FILE
    write_report(ws.runs / run_id, out, ws.root, n_examples)
    return out


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (WORKSPACE/runs/<run_id>)")
    parser.add_argument("--out", required=True, metavar="FILE.html", help="the report (written atomically)")
    parser.add_argument("--workspace", default=None, help="workspace with the datasets, reports and votes (default: "
                                                          "the one RUN_DIR is in, else $STUDIO_HOME or ./workspace)")
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, metavar="N",
                        help=f"side-by-side examples of base and adapter answers (default {DEFAULT_EXAMPLES})")
    parser.set_defaults(func=run)
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}; nothing was written", file=sys.stderr)
    return 2


def check_out(out: Path, run_dir: Path) -> str | None:
    """Why `out` cannot be the report's path, or None."""
    if out.is_dir():
        return f"--out {out}: a folder; give a file name, such as {out / REPORT_FILE}"
    if out.resolve().parent == run_dir.resolve() and out.name in RUN_FILES:
        return f"--out {out}: a file of the run itself; give another name, such as {out.with_name(REPORT_FILE)}"
    return None


def run(args: argparse.Namespace) -> int:
    from studio.report.collect import ReportError

    if args.examples < 0:
        return _fail(f"--examples {args.examples}: give 0 or more")
    out, run_dir = Path(args.out).expanduser(), Path(args.run_dir).expanduser()
    problem = check_out(out, run_dir)
    if problem:
        return _fail(problem)
    try:
        data = write_report(run_dir, out, args.workspace, args.examples)
    except ReportError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"--out {out}: cannot write it ({exc.strerror or exc}); pick a folder you can write to")
    print(f"report of {data.run.run_id} ({data.run.state}): {len(data.evaluations)} evaluation(s), "
          f"{data.votes.votes} vote(s), {len(data.examples.examples) if data.examples else 0} example(s)")
    print(f"written: {out} ({out.stat().st_size / 2**20:.1f} MiB, opens offline)")
    return 0
