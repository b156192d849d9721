"""`python -m studio estimate`: training-memory estimate from a model's config.json alone (never its weights).

    python -m studio estimate --model ID|PATH|CONFIG_JSON --method lora --batch-size 4 --max-length 2048 [--json]
    python -m studio estimate --recipe recipes/qlora-qwen2.5-7b.yaml [--gpu-gib 24]
"""

from __future__ import annotations

import argparse
import json
import sys

from studio.estimate.vram import VramSettings

DTYPES = {"bf16": "bf16", "fp16": "fp16", "fp32": "fp32"}


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    defaults = VramSettings()
    parser.add_argument("--model", help="catalogue Hub id, local model folder, config.json, or bundled:demo-model")
    parser.add_argument("--recipe", help="a recipe YAML: model and every other setting come from it")
    parser.add_argument("--method", choices=["full", "lora", "qlora"], default=defaults.method)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="sequences per GPU per step")
    parser.add_argument("--max-length", type=int, default=defaults.max_length, help="tokens per sequence")
    parser.add_argument("--grad-accum", type=int, default=defaults.grad_accum)
    parser.add_argument("--gpus", type=int, default=defaults.num_gpus)
    parser.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing")
    parser.add_argument("--lora-r", type=int, default=defaults.lora_r)
    parser.add_argument("--lora-targets", default=",".join(defaults.lora_targets),
                        help="all-linear, attention, or module names separated by commas")
    parser.add_argument("--optim", choices=["adamw_torch", "adamw_8bit", "paged_adamw_8bit"],
                        default=defaults.optimizer)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default=defaults.precision)
    parser.add_argument("--gpu-gib", type=float, default=None, help="GPU memory to judge the fit against")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
    return parser


def _settings(args: argparse.Namespace):
    """(model reference, VramSettings) from a recipe or from the flags."""
    if args.recipe:
        from studio.estimate.vram import settings_from_recipe
        from studio.recipe_io import load_recipe

        recipe = load_recipe(args.recipe)
        return recipe.model.name_or_path, settings_from_recipe(recipe)
    if not args.model:
        raise ValueError("give --model (or --recipe)")
    targets = tuple(t.strip() for t in args.lora_targets.split(",") if t.strip())
    return args.model, VramSettings(method=args.method, batch_size=args.batch_size, max_length=args.max_length,
                                    grad_accum=args.grad_accum, num_gpus=args.gpus,
                                    gradient_checkpointing=args.grad_ckpt, lora_r=args.lora_r,
                                    lora_targets=targets, optimizer=args.optim, precision=DTYPES[args.dtype])


def run(args: argparse.Namespace) -> int:
    from studio.estimate.catalogue import load_shape
    from studio.estimate.vram import advise, estimate_vram, largest_batch_that_fits, verdict
    from studio.recipe_io import RecipeError

    try:
        model, settings = _settings(args)
        shape = load_shape(model)
        estimate = estimate_vram(shape, settings)
    except (RecipeError, ValueError, FileNotFoundError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = {"model": model, **estimate.to_dict()}
    if args.gpu_gib:
        out["gpu_gib"] = args.gpu_gib
        out["verdict"] = verdict(estimate, args.gpu_gib)
        out["largest_batch_that_fits"] = largest_batch_that_fits(shape, settings, args.gpu_gib)
    out["advice"] = [{"action": a.action, "saving_gib": round(a.saving_gib, 2)} for a in advise(shape, settings)]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    terms = ["weights", "lora", "gradients", "optimizer", "activations", "logits", "overhead"]
    print(f"{model}: {settings.method}, batch {settings.batch_size} x {settings.max_length} tokens, "
          f"effective batch {estimate.effective_batch}")
    for term in terms:
        print(f"  {term:<12} {out[term + '_gib']:8.2f} GiB")
    print(f"  {'peak':<12} {estimate.total_gib:8.2f} GiB ({estimate.peak_phase})"
          + (f" -> {out['verdict']} on {args.gpu_gib:g} GiB" if args.gpu_gib else ""))
    for advice in out["advice"][:5]:
        print(f"  - {advice['action']}: saves {advice['saving_gib']:.2f} GiB")
    return 0



