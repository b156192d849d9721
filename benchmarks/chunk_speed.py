"""Benchmark: hierarchical chunking speed against semchunk, same tokenizer, same text, same run.

    python benchmarks/chunk_speed.py [--mb 10] [--tokenizer DIR] [--long-paragraphs]

Builds --mb MiB (UTF-8 bytes) of mixed Chinese/English patent text in memory from the bundled samples: each copy
of a document shifts every digit and shuffles the sentences inside each paragraph with a seeded RNG, so copies
differ (neither chunker gets repeated text it could cache) while keeping the samples' structure (step headings,
blank-line paragraphs). The samples' paragraphs are short (about 100-170 tokens), so most become one fragment;
--long-paragraphs joins the body paragraphs of each section with single newlines (one paragraph of about 400-1500
tokens per step), which makes every paragraph go through sentence packing, overlap and exact re-counting.
Then times, on that text:
  - studio.data.chunking.chunk_records (min 200, max 400 tokens, overlap 0.15: the defaults);
  - semchunk, created with semchunk.chunkerify(tokenizer, 400), once without overlap (its fastest mode) and once
    with overlap 0.15 (what we produce).
Prints chars/s for each, the ratios (ours / semchunk) and whether the issue's target holds: at least as fast as
semchunk and 10 MB in under 30 s. Tokenizer loading is not timed. Needs `pip install semchunk`.
"""

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studio.assets import DEMO_MODEL_DIR, PATENTS_FILE  # noqa: E402
from studio.data.chunking import ChunkSettings, chunk_records  # noqa: E402
from studio.data.fragment_stats import summarize_fragments  # noqa: E402
from studio.data.sentences import heading_starts  # noqa: E402

MIB = 1 << 20
SETTINGS = ChunkSettings()  # the defaults: what the target is stated for
_SENTENCE = re.compile(r"(?<=[。！？；])|(?<=[.!?] )")


def vary(text: str, copy: int) -> str:
    """A deterministic variant of a document: digits shifted by `copy`, sentences shuffled within paragraphs."""
    rng = random.Random(copy)
    text = re.sub(r"\d", lambda m: str((int(m.group()) + copy) % 10), text)
    paragraphs = []
    for paragraph in text.split("\n\n"):
        first, *rest = [s for s in _SENTENCE.split(paragraph) if s] or [paragraph]
        rng.shuffle(rest)  # the first sentence stays: it is the heading when the paragraph is one
        paragraphs.append("".join([first, *rest]))
    return "\n\n".join(paragraphs)


def merge_paragraphs(text: str) -> str:
    """The title and headings stay paragraphs of their own; the body paragraphs under each become one."""
    out: list[str] = []
    body: list[str] = []
    for index, block in enumerate(text.split("\n\n")):
        if index == 0 or heading_starts(block) == [0]:
            out.extend(["\n".join(body)] if body else [])
            out.append(block)
            body = []
        else:
            body.append(block)
    out.extend(["\n".join(body)] if body else [])
    return "\n\n".join(out)


def build_corpus(megabytes: float, long_paragraphs: bool = False) -> list[dict]:
    """Records of varied sample patents until their UTF-8 text reaches `megabytes` MiB."""
    samples = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    records, size, copy = [], 0, 0
    while size < megabytes * MIB:
        for sample in samples:
            text = vary(sample["text"], copy) if copy else sample["text"]
            text = merge_paragraphs(text) if long_paragraphs else text
            records.append({**sample, "id": f"{sample['id']}-v{copy}", "text": text})
            size += len(text.encode("utf-8"))
            if size >= megabytes * MIB:
                break
        copy += 1
    return records


def time_ours(records: list[dict], tokenizer) -> tuple[float, dict]:
    started = time.perf_counter()
    fragments = list(chunk_records(records, tokenizer, SETTINGS))
    return time.perf_counter() - started, summarize_fragments(fragments)


def time_semchunk(texts: list[str], tokenizer, overlap: float | None) -> tuple[float, int]:
    import semchunk

    chunker = semchunk.chunkerify(tokenizer, SETTINGS.max_tokens)  # a fresh token-count cache for every run
    started = time.perf_counter()
    chunks = chunker(texts, overlap=overlap)
    return time.perf_counter() - started, sum(len(c) for c in chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=10.0, help="MiB of UTF-8 text to chunk (default 10)")
    parser.add_argument("--tokenizer", default=str(DEMO_MODEL_DIR), help="tokenizer folder or id (default: bundled)")
    parser.add_argument("--long-paragraphs", action="store_true",
                        help="merge each section's body paragraphs into one (exercises the cutting path)")
    args = parser.parse_args()
    try:
        import semchunk  # noqa: F401
    except ImportError:
        sys.exit("semchunk is not installed: pip install semchunk")
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # semchunk encodes whole documents: the over-max-length warning is expected
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    records = build_corpus(args.mb, args.long_paragraphs)
    texts = [r["text"] for r in records]
    chars = sum(len(t) for t in texts)
    size = sum(len(t.encode("utf-8")) for t in texts) / MIB
    shape = "long paragraphs" if args.long_paragraphs else "sample paragraphs"
    print(f"corpus: {size:.2f} MiB UTF-8, {chars:,} characters, {len(records)} documents ({shape}); "
          f"{os.cpu_count()} CPU cores; tokenizer {args.tokenizer}")

    ours_s, summary = time_ours(records, tokenizer)
    plain_s, plain_n = time_semchunk(texts, tokenizer, None)
    overlap_s, overlap_n = time_semchunk(texts, tokenizer, SETTINGS.overlap)

    print(f"\n{'chunker':34}{'seconds':>9}{'chars/s':>12}{'chunks':>9}")
    print(f"{'ours (200-400 tokens, overlap 0.15)':34}{ours_s:>9.2f}{chars / ours_s:>12,.0f}{summary['fragments']:>9,}")
    print(f"{'semchunk (400 tokens, no overlap)':34}{plain_s:>9.2f}{chars / plain_s:>12,.0f}{plain_n:>9,}")
    print(f"{'semchunk (400 tokens, overlap 0.15)':34}{overlap_s:>9.2f}{chars / overlap_s:>12,.0f}{overlap_n:>9,}")
    print(f"\nratio ours/semchunk (chars/s): {plain_s / ours_s:.2f}x vs no overlap, "
          f"{overlap_s / ours_s:.2f}x vs overlap 0.15")
    per_10mb = ours_s * 10 / size
    print(f"ours: {per_10mb:.1f} s per 10 MiB; fragments: mean {summary['mean_tokens']} tokens, "
          f"p50 {summary['p50_tokens']}, p95 {summary['p95_tokens']}, max {summary['max_tokens']}")
    met = ours_s <= plain_s and per_10mb < 30
    print(f"target (>= semchunk's speed, 10 MB < 30 s): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
