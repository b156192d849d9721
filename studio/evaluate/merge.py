"""Merging a LoRA adapter into its base model: one standalone model folder that loads without PEFT.

    python -m studio merge --base ID|PATH --adapter PATH --out DIR [--dtype auto|float32|bfloat16|float16]

The base is loaded unquantised (studio.models.load_model, so bundled:demo-model, local folders and Hub ids work
as everywhere else), the adapter is applied with PEFT and folded into the weights (W + B·A·scale), and the model
and tokenizer are saved to DIR. The tokenizer saved is the adapter folder's when it has one (the studio's trainer
saves it there, with the chat template used in training), else the base's.

- DIR must be new or empty: merging never overwrites a model. The files are written to a hidden staging folder
  beside DIR and renamed into place at the end, so an interrupted merge leaves no half-written model under DIR.
- A QLoRA adapter is merged into the full-precision base, the usual practice: the merged weights are what the
  adapter adds to the original base, not to the 4-bit copy it was trained against, so answers can differ
  slightly from the 4-bit model with the adapter.
- Exit status: 0 merged; 2 bad arguments, adapter or base (nothing written); 1 the merge itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from studio.config import DEMO_MODEL


class MergeError(ValueError):
    """A problem the user can fix: the message says what and how."""


def check_out_dir(out: str | os.PathLike) -> Path:
    """`out` as a Path when it is new or an empty folder; MergeError otherwise."""
    target = Path(out).expanduser()
    if target.exists() and not target.is_dir():
        raise MergeError(f"--out {out}: a file of that name exists; give a folder name")
    if target.is_dir() and any(target.iterdir()):
        raise MergeError(f"--out {out}: the folder is not empty; give a new or empty folder (merge never "
                         f"overwrites a model)")
    return target


def read_adapter_config(adapter: str | os.PathLike) -> dict:
    config = Path(adapter).expanduser() / "adapter_config.json"
    if not config.is_file():
        raise MergeError(f"--adapter {adapter}: no adapter_config.json there, so it is not a PEFT adapter folder "
                         f"(a run's adapter is in runs/<run_id>/adapter)")
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MergeError(f"{config}: not valid JSON ({exc}); the adapter is damaged") from exc


def merge_adapter(base: str, adapter: str | os.PathLike, out: str | os.PathLike, dtype: str = "auto") -> Path:
    """Merge `adapter` into `base` and save model + tokenizer to `out` (new or empty); returns the folder."""
    from peft import PeftModel

    from studio.config import ModelConfig
    from studio.models import load_model, load_tokenizer

    target = check_out_dir(out)
    read_adapter_config(adapter)
    cfg = ModelConfig(name_or_path=base, dtype=dtype)
    model = load_model(cfg)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    adapter_dir = Path(adapter).expanduser()
    if (adapter_dir / "tokenizer_config.json").is_file():
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    else:
        tokenizer = load_tokenizer(cfg)
    staging = target.parent / f".{target.name}.merging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        merged.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.is_dir():
            target.rmdir()  # empty, checked above
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--base", default=DEMO_MODEL, metavar="ID|PATH",
                        help=f"the base model the adapter was trained on: Hub id, local folder or {DEMO_MODEL} "
                             f"(default)")
    parser.add_argument("--adapter", required=True, metavar="PATH", help="a PEFT adapter folder "
                                                                         "(e.g. workspace/runs/<run_id>/adapter)")
    parser.add_argument("--out", required=True, metavar="DIR", help="new or empty folder for the merged model")
    parser.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto",
                        help="dtype of the merged weights (auto: bf16 on GPUs that support it, else fp32)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        check_out_dir(args.out)
        config = read_adapter_config(args.adapter)
    except MergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    recorded = config.get("base_model_name_or_path")
    if recorded and Path(str(recorded)).name != Path(args.base.removeprefix("bundled:")).name:
        print(f"warning: the adapter was trained on {recorded}, merging into {args.base}", file=sys.stderr)
    try:
        target = merge_adapter(args.base, args.adapter, args.out, args.dtype)
    except (MergeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError) as exc:  # shapes that do not fit the base, disk full, ...
        print(f"error: merge failed: {exc}", file=sys.stderr)
        return 1
    print(f"merged {args.adapter} into {args.base}: {target}")
    return 0
