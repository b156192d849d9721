"""`python -m studio eval`: the base model and any adapters on a prompt set, scored side by side.

    python -m studio eval --base ID|PATH --adapter NAME=PATH [--adapter ...] --prompts FILE.jsonl
        --out RESULTS.json [--max-new-tokens N] [--json] [--4bit]

RESULTS.json (written atomically) is `studio.evaluate.batch.evaluate`'s dict plus "base", "adapters" and
"prompts": `models.<name>` holds json_valid_rate, schema_valid_rate, exact_match, rouge_l, perplexity and
mean_latency_s (and more), with "base" as one name; `examples` holds every answer with its metrics. The table
printed (or with --json, one JSON object: the "models" summary, counts and the output path) is the same figures.

Choices where the issue is silent:
- `--adapter PATH` without NAME= takes the name of the run (`runs/<run_id>/adapter` -> <run_id>) or the folder.
- A prompt-set line that cannot be used stops the command before the model is loaded, every problem listed by
  file and line, and nothing is written, as `ppl` does: a rate over a silently shortened set would mislead.
- Generation is greedy by default (the engine's settings), so a rerun gives the same answers.
- Ctrl-C (or SIGTERM) stops after the answer in flight: the prompts finished are written with "complete": false;
  a second Ctrl-C stops at once and writes nothing (exit status 130).
- Exit status: 0 done (or stopped, see above); 2 bad arguments, prompts, model or adapter (nothing written);
  1 generation failed (out of memory, a prompt longer than the model's context; nothing written).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.chat.engine import GenerationSettings  # light: torch is imported only when a model is loaded
from studio.config import DEMO_MODEL
from studio.progress import StderrProgress

_LISTED = 20  # problems printed before "... and N more"


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--base", default=DEMO_MODEL, metavar="ID|PATH",
                        help=f"base model: Hub id, local folder or {DEMO_MODEL} (default); it is evaluated as "
                             f"\"base\"")
    parser.add_argument("--adapter", action="append", default=[], metavar="NAME=PATH",
                        help="a PEFT adapter folder to evaluate under NAME; repeat for several")
    parser.add_argument("--prompts", required=True, metavar="FILE.jsonl",
                        help="prompt set: one {\"prompt\" or \"messages\", \"reference\"?, \"json_schema\"?} per "
                             "line, or bundled:intent_eval")
    parser.add_argument("--out", required=True, metavar="RESULTS.json", help="results (written atomically)")
    parser.add_argument("--max-new-tokens", type=int, default=GenerationSettings.max_new_tokens, metavar="N",
                        help=f"longest answer in tokens (default {GenerationSettings.max_new_tokens}); answers "
                             f"are greedy")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--4bit", "--load-in-4bit", dest="load_in_4bit", action="store_true",
                        help="load the base in 4-bit NF4 (bitsandbytes)")
    parser.set_defaults(func=run)
    return parser


def parse_adapters(specs: list[str]) -> dict[str, Path]:
    """NAME=PATH (or PATH) flags as {name: folder}; ValueError naming the flag that is wrong."""
    from studio.evaluate.merge import MergeError, read_adapter_config

    adapters: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            folder = Path(spec).expanduser()
            name, path = (folder.parent.name if folder.name == "adapter" else folder.name), spec
        name = name.strip()
        if not name or not path:
            raise ValueError(f"--adapter {spec}: write NAME=PATH, e.g. cpu-demo=workspace/runs/<run_id>/adapter")
        if name == "base":
            raise ValueError(f"--adapter {spec}: \"base\" is the base model's name; call the adapter something else")
        if name in adapters:
            raise ValueError(f"--adapter {spec}: the name {name!r} is given twice; give each adapter its own name")
        try:
            read_adapter_config(path)
        except MergeError as exc:
            raise ValueError(str(exc)) from exc
        adapters[name] = Path(path).expanduser()
    return adapters


def _fail(message: str, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _read(path: str):
    """The prompts, or None after listing every problem that stops the run."""
    from studio.evaluate.prompts import read_prompts

    try:
        prompt_set = read_prompts(path)
    except FileNotFoundError as exc:
        _fail(f"--prompts {path}: {exc}")
        return None
    for issue in prompt_set.issues:
        if issue.severity != "error":
            print(f"warning: {issue.file}{':' + issue.where if issue.where else ''}: {issue.message}", file=sys.stderr)
    errors = [f"{i.file}{':' + i.where if i.where else ''}: {i.message}" for i in prompt_set.errors]
    if not prompt_set.prompts and not errors:
        errors.append(f"{path}: no prompts")
    if errors:
        for line in errors[:_LISTED]:
            print(f"error: {line}", file=sys.stderr)
        if len(errors) > _LISTED:
            print(f"error: ... and {len(errors) - _LISTED} more", file=sys.stderr)
        print(f"error: {len(errors)} problems in the prompt set; fix or remove those lines and run again — nothing "
              f"was written", file=sys.stderr)
        return None
    return prompt_set.prompts


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Inside the block, a first SIGINT/SIGTERM sets `stop` (finish the answer in flight, write what is done) and a
    second raises KeyboardInterrupt (abort, write nothing); the previous handlers are restored after it."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(f"\n{signal.Signals(signum).name} received: stopping after this answer (again to abort)",
              file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(args: argparse.Namespace) -> int:
    if args.max_new_tokens < 1:
        return _fail(f"--max-new-tokens: {args.max_new_tokens}; must be at least 1")
    if Path(args.out).resolve() == Path(args.prompts).resolve():
        return _fail(f"--out is the prompt file {args.prompts}; write the results elsewhere")
    try:
        adapters = parse_adapters(args.adapter)
    except ValueError as exc:
        return _fail(str(exc))
    prompts = _read(args.prompts)
    if prompts is None:
        return 2

    from studio.chat.engine import ChatEngine
    from studio.config import ModelConfig
    from studio.evaluate.batch import evaluate, format_table, json_safe, write_results

    settings = GenerationSettings(max_new_tokens=args.max_new_tokens)
    try:
        engine = ChatEngine(ModelConfig(name_or_path=args.base), load_in_4bit=args.load_in_4bit)
    except (OSError, ValueError, ImportError) as exc:  # no such folder, not on the Hub (offline), bad config
        return _fail(f"--base {args.base}: {exc}")
    for name, path in adapters.items():
        try:
            engine.add_adapter(name, str(path))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:  # wrong base: shapes or module names differ
            return _fail(f"--adapter {name}: {exc}")
    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            results = evaluate(engine, engine.names, prompts, settings, progress=StderrProgress(), stop=stop)
    except ValueError as exc:  # a prompt longer than the model's context, named by file and line
        return _fail(str(exc), 1)
    except RuntimeError as exc:  # out of memory and other failures inside the model
        return _fail(f"generation failed: {exc}; try a smaller --max-new-tokens", 1)
    except KeyboardInterrupt:
        return _fail("aborted; nothing was written", 130)
    results = {"base": args.base, "adapters": {name: str(path) for name, path in adapters.items()},
               "prompts": str(args.prompts), **results}
    write_results(args.out, results)
    if args.json:
        summary = {key: results[key] for key in ("models", "n_prompts", "n_evaluated", "complete")}
        print(json.dumps(json_safe({**summary, "out": str(args.out)}), ensure_ascii=False))
    else:
        print(format_table(results))
        print(f"results: {args.out}")
    return 0
