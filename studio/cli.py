"""`python -m studio ...`: the command line. It only parses arguments and calls the same functions the UI calls."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from studio.config import DEMO_MODEL

def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine "
                                                            "only; any other needs --auth)")
    parser.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    parser.add_argument("--workspace", default=None, help="folder for datasets, reports and runs "
                                                          "(default $STUDIO_HOME or ./workspace)")
    parser.add_argument("--auth", default=None, metavar="USER:PASSWORD",
                        help="require this login (or set STUDIO_AUTH)")
    parser.add_argument("--share", action="store_true", help="also publish a public Gradio link (needs --auth)")
    parser.add_argument("--model", default=DEMO_MODEL, help=f"active model: Hub id, local folder or {DEMO_MODEL}")
    parser.add_argument("--allow-path", action="append", default=[], metavar="FOLDER",
                        help="a folder outside the workspace whose models, adapters and data the UI may open "
                             "(repeatable; or STUDIO_ALLOWED_PATHS, separated by os.pathsep)")
    parser.add_argument("--max-upload-mb", type=int, default=None, metavar="MB",
                        help="largest file the UI accepts as an upload (default 2048, or STUDIO_MAX_UPLOAD_MB)")


def run_ui(args: argparse.Namespace) -> int:
    from studio.launch import LaunchError, server_options
    from studio.models import resolve_model

    try:
        options = server_options(args.host, args.port, args.share, args.auth, tuple(args.allow_path),
                                 args.max_upload_mb)
        resolve_model(args.model)
    except (LaunchError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Gradio reads this at import; the studio must not phone home from an offline workstation.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from studio.ui.app import serve  # Gradio is imported only when the UI is asked for

    return serve(options, workspace=args.workspace, model=args.model)


def run_check(args: argparse.Namespace) -> int:
    from studio.recipe_io import RecipeError, load_recipe

    failed = 0
    for path in args.recipes:
        try:
            recipe = load_recipe(path)
        except RecipeError as exc:
            print(exc, file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: ok ({recipe.method}, model {recipe.model.name_or_path})")
    return 1 if failed else 0


def run_chunk(args: argparse.Namespace) -> int:
    import json

    from studio.config import ModelConfig
    from studio.data.chunking import ChunkSettings
    from studio.data.fragment_stats import short_fragments_lines
    from studio.data.fragments import prepare_files
    from studio.models import load_tokenizer
    from studio.workspace import atomic_write_jsonl

    try:
        settings = ChunkSettings(args.min_tokens, args.max_tokens, args.overlap)
        tokenizer = load_tokenizer(ModelConfig(name_or_path=args.tokenizer))
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = prepare_files(args.inputs, tokenizer, settings)
    if result.examples:
        print(f"warning: {len(result.examples)} chat records are training examples already and were not chunked",
              file=sys.stderr)
    for issue in result.issues:
        where = f":{issue.where}" if issue.where else ""
        print(f"{issue.severity}: {issue.file}{where}: {issue.message}", file=sys.stderr)
    if not result.fragments:
        print("error: no fragments: nothing readable as raw text in the inputs (see above); nothing written",
              file=sys.stderr)
        return 1
    atomic_write_jsonl(args.out, result.fragments)
    summary = {**result.summary, "out": str(args.out)}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        short = short_fragments_lines(summary.pop("short_fragments", {}))
        print("\n".join([*(f"{key:>14}: {value}" for key, value in summary.items()), *short]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from studio.data.chunking import ChunkSettings  # pure and light: no tokenizer or torch at import

    parser = argparse.ArgumentParser(prog="python -m studio", description="Fine-Tune Studio: from raw documents "
                                     "or instruction data to a LoRA/QLoRA adapter you can demo.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ui = sub.add_parser("ui", help="start the web UI (same as python app.py)")
    add_server_arguments(ui)
    ui.set_defaults(func=run_ui)
    check = sub.add_parser("check", help="validate recipe YAML files and list every problem")
    check.add_argument("recipes", nargs="+", help="recipe files")
    check.set_defaults(func=run_check)
    chunk = sub.add_parser("chunk", help="split long documents into token-window fragments (JSONL)")
    chunk.add_argument("inputs", nargs="+", help="files or folders: jsonl, json, csv, tsv, parquet, txt, md, pdf, docx")
    chunk.add_argument("--out", required=True, help="the fragments, as JSONL (written atomically)")
    chunk.add_argument("--tokenizer", default=DEMO_MODEL, help=f"model whose tokenizer counts tokens "
                                                               f"(default {DEMO_MODEL})")
    defaults = ChunkSettings()
    chunk.add_argument("--min-tokens", type=int, default=defaults.min_tokens)
    chunk.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    chunk.add_argument("--overlap", type=float, default=defaults.overlap, help="fraction of max tokens repeated")
    chunk.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    chunk.set_defaults(func=run_chunk)
    from studio.estimate import estimate_command
    from studio.quality import dedup_command, ppl_command

    dedup_command.configure_parser(sub.add_parser("dedup", help="exact and MinHash-LSH near-duplicate removal "
                                                               "with a report"))
    ppl = sub.add_parser("ppl", help="perplexity per record with a reference model, tails flagged per length bucket")
    ppl_command.configure_parser(ppl)
    ppl.set_defaults(func=ppl_command.run)
    from studio.train import train_command

    train_command.configure_parser(sub.add_parser("train", help="train a recipe (LoRA, QLoRA or full) in this process; "
                                                              "events, checkpoints and the adapter go to a run folder"))
    estimate_command.configure_parser(sub.add_parser("estimate", help="training memory (VRAM) estimate from a "
                                                                      "model's config.json and the settings"))
    from studio.evaluate import eval_command, merge

    eval_command.configure_parser(sub.add_parser("eval", help="the base model and adapters on a prompt set: JSON "
                                                              "validity, schema, exact match, ROUGE-L, perplexity"))
    merge.configure_parser(sub.add_parser("merge", help="merge a LoRA adapter into its base model (a standalone "
                                                        "model folder)"))
    from studio.report import report_command

    report_command.configure_parser(sub.add_parser("report", help="one self-contained HTML report of a run for "
                                                                  "stakeholders (opens offline)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
