"""`python -m studio train RECIPE.yaml [--run-dir DIR] [--resume latest|checkpoint-N] [--workspace DIR]`.

Without --run-dir a new run folder is made in the workspace's runs/, so a run started from a shell shows up in the
Train tab like one launched there. The run trains in this process, with its log echoed to the terminal.
"""

from __future__ import annotations

import argparse
import sys
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
    from studio.workspace import Workspace

    try:
        recipe = load_recipe(args.recipe)
    except RecipeError as exc:
        print(exc, file=sys.stderr)
        return worker.EXIT_INPUT
    if args.run_dir:
        folder = Path(args.run_dir)
    else:
        ws = Workspace.open(args.workspace)
        busy = runner.live_run(ws)
        if busy:
            print(f"warning: run {busy} is training in this workspace too; both share the device",
                  file=sys.stderr)
        folder = runner.create_run(ws, recipe)
        args.workspace = str(ws.root)
        print(f"run folder: {folder}", file=sys.stderr)
    return worker.run(args.recipe, str(folder), resume=args.resume, workspace=args.workspace, echo=not args.no_echo)
