"""`python -m studio train RECIPE.yaml [--run-dir DIR] [--resume latest|checkpoint-N] [--workspace DIR]`.

Without --run-dir a new run folder is made in the workspace's runs/, so a run started from a shell shows up in the
Train tab like one launched there. The run trains in this process, with its log echoed to the terminal.

Under `accelerate launch` / `torchrun` (several processes) the processes must share one run folder. Without
--run-dir, rank 0 makes it and leaves its path in runs/.launch-<launcher>, where the other ranks of the same launch
on this machine (children of the same launcher process) find it. On several machines, pass --run-dir.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("recipe", help="recipe YAML (see recipes/)")
    parser.add_argument("--run-dir", default=None, help="run folder (default: a new one in WORKSPACE/runs/)")
    parser.add_argument("--resume", default=None, metavar="latest|checkpoint-N",
                        help="continue from the newest good checkpoint, or from this one")
    parser.add_argument("--workspace", default=None, help="workspace for datasets and runs "
                                                          "(default $STUDIO_HOME or ./workspace)")
    parser.add_argument("--no-echo", action="store_true", help="log to RUN_DIR/worker.log only (used by the runner)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from studio.recipe_io import RecipeError, load_recipe
    from studio.train import runner, worker
    from studio.train.ranks import is_main, world_size
    from studio.workspace import Workspace

    try:
        recipe = load_recipe(args.recipe)
    except RecipeError as exc:
        print(exc, file=sys.stderr)
        return worker.EXIT_INPUT
    note = None
    if args.run_dir:
        folder = Path(args.run_dir)
    else:
        ws = Workspace.open(args.workspace)
        args.workspace = str(ws.root)
        note = ws.runs / f".launch-{_launcher_key()}" if world_size() > 1 else None
        if note is not None and not is_main():
            folder = _wait_for_folder(note)
            if folder is None:
                print(f"error: rank 0 announced no run folder in {note.parent} within 5 minutes; on several "
                      "machines pass --run-dir", file=sys.stderr)
                return worker.EXIT_INPUT
        else:
            busy = runner.live_run(ws)
            if busy:
                print(f"warning: run {busy} is training in this workspace too; both share the device",
                      file=sys.stderr)
            folder = runner.create_run(ws, recipe)
            if note is not None:
                from studio.workspace import atomic_write_text

                atomic_write_text(note, str(folder))
            print(f"run folder: {folder}", file=sys.stderr)
    try:
        return worker.run(args.recipe, str(folder), resume=args.resume, workspace=args.workspace,
                          echo=not args.no_echo)
    finally:
        if note is not None and is_main():
            note.unlink(missing_ok=True)


def _launcher_key() -> str:
    """The launcher process (every rank's parent) as pid and start time, so a reused pid never names it."""
    ppid = os.getppid()
    try:
        started = Path(f"/proc/{ppid}/stat").read_text().rsplit(")", 1)[1].split()[19]  # field 22: start time
    except (OSError, IndexError):
        started = "0"
    return f"{ppid}-{started}"


def _wait_for_folder(note: Path, timeout_s: float = 300.0) -> Path | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return Path(note.read_text(encoding="utf-8").strip())
        except FileNotFoundError:
            time.sleep(0.2)
    return None
