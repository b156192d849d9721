"""Benchmark: batched perplexity scoring against the one-record-at-a-time loop, same model, same records.

    python benchmarks/ppl_bench.py [--records 400] [--unit fragments|paragraphs|both] [--batch-sizes 8,16,32]
                                   [--model bundled:demo-model] [--threads N] [--repeats 3]

Records come from the bundled patents: the chunker's fragments (200-400-token windows, the defaults; the sample's
paragraphs are short, so most fragments are one paragraph of ~100-170 tokens) or the documents split at blank
lines. Both implementations score the same records with the same model; each is timed `--repeats` times,
alternating, and the fastest run counts (the machine may be shared). Model loading is not timed; one small
warm-up pass runs first. Prints tokens/s (tokens scored: every text token once), the ratio batched / loop, the
largest relative difference between the two (must be <= 1e-4), and whether the issue's 3x target holds.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studio.assets import PATENTS_FILE  # noqa: E402
from studio.config import DEMO_MODEL  # noqa: E402
from studio.data.chunking import chunk_records  # noqa: E402
from studio.quality.perplexity import load_scorer, score_records, score_records_loop  # noqa: E402

TARGET = 3.0  # batched tokens/s over the loop's (issue #4)
BOUND = 1e-4  # largest relative difference allowed between the two


def build_records(unit: str, count: int, tokenizer) -> list[dict]:
    docs = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    if unit == "fragments":
        records = list(chunk_records(docs, tokenizer))
    else:
        records = [{"id": f"{d['id']}-{i}", "text": p, "lang": d["lang"]}
                   for d in docs for i, p in enumerate(d["text"].split("\n\n")) if p.strip()]
    return records[:count]


def max_relative_difference(a, b) -> float:
    assert [s.id for s in a.scores] == [s.id for s in b.scores]
    assert [s.n_tokens for s in a.scores] == [s.n_tokens for s in b.scores]
    return max(abs(x.ppl - y.ppl) / y.ppl for x, y in zip(a.scores, b.scores))


def best_of(repeats: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench(unit: str, records: list[dict], scorer, batch_sizes: list[int], repeats: int) -> float:
    """Print one table; returns the best ratio batched / loop."""
    tokens = sum(len(ids) for ids in scorer.tokenizer([r["text"] for r in records], add_special_tokens=False,
                                                      verbose=False)["input_ids"])
    print(f"\n{unit}: {len(records)} records, {tokens:,} tokens (mean {tokens / len(records):.0f} per record)")
    score_records_loop(records[:8], scorer)  # warm-up: first calls allocate and pick kernels
    score_records(records[:8], scorer)
    loop_s, loop = best_of(repeats, lambda: score_records_loop(records, scorer))
    print(f"{'implementation':24}{'seconds':>9}{'tokens/s':>11}{'ratio':>8}{'max rel diff':>14}")
    print(f"{'loop (one record)':24}{loop_s:>9.2f}{tokens / loop_s:>11,.0f}{1.0:>8.2f}{'-':>14}")
    best = 0.0
    for size in batch_sizes:
        batched_s, batched = best_of(repeats, lambda size=size: score_records(records, scorer, batch_size=size))
        diff = max_relative_difference(batched, loop)
        if diff > BOUND:
            sys.exit(f"batched (batch {size}) differs from the loop by {diff:.2e} > {BOUND}: results not identical")
        ratio = loop_s / batched_s
        best = max(best, ratio)
        print(f"{f'batched (batch {size})':24}{batched_s:>9.2f}{tokens / batched_s:>11,.0f}{ratio:>8.2f}"
              f"{diff:>14.1e}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=400, help="records per unit (default 400)")
    parser.add_argument("--unit", choices=("fragments", "paragraphs", "both"), default="both")
    parser.add_argument("--batch-sizes", default="8,16,32", help="comma-separated (default 8,16,32)")
    parser.add_argument("--model", default=DEMO_MODEL, help=f"reference model (default {DEMO_MODEL})")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per implementation; the fastest counts")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    scorer = load_scorer(args.model)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"model {args.model} on {device}; {os.cpu_count()} cores, load average {load} at start")
    units = ("fragments", "paragraphs") if args.unit == "both" else (args.unit,)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    ratios = {u: bench(u, build_records(u, args.records, scorer.tokenizer), scorer, sizes, args.repeats)
              for u in units}
    summary = ", ".join(f"{u} {r:.2f}x" for u, r in ratios.items())
    met = all(r >= TARGET for r in ratios.values())
    print(f"\nbest ratio batched/loop: {summary}; target (>= {TARGET:.0f}x, identical results): "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
