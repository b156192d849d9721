"""Near-duplicate removal: ours (python -m studio dedup) against the datasketch script a user would write.

    python benchmarks/dedup_bench.py [--records 100000] [--seed 7] [--keep-files DIR]

The corpus is generated (deterministic seed): half English-like text over a Zipf vocabulary of made-up words, half
Chinese over ~3,000 CJK characters, ~500 characters each. On top of the originals it plants exact copies (some with
changed case or spacing, which normalisation folds) and near copies made by character edits at rates from 0.1% to
12%, a few originals getting several. The exact Jaccard of every planted pair (13-character shingles of the
normalised texts) is computed here, so

- precision = removed records whose kept twin truly has Jaccard >= 0.7 (computed for every removed record),
- recall = planted pairs with Jaccard >= 0.85 that end up together (one kept, the other pointing at it, or both
  pointing at the same kept record).

Both programs run end to end as child processes (interpreter start, imports, reading the JSONL, writing kept and
removed files), timed from spawn to exit, with the child's peak resident memory from wait4. The baseline is
datasketch MinHash(num_perm=128) + MinHashLSH(threshold=0.8): query each record, remove it if anything matches,
else insert it; same normalisation, same shingles, exact duplicates by a dict first (as ours). Needs
`pip install datasketch`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.quality.normalize import normalize_text

K = 13
EDIT_RATES = (0.001, 0.002, 0.003, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.12)
_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
_SYLLABLES = [a + b for a in "bcdfghjklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ai", "ou", "ea")]

BASELINE = r'''
import hashlib, json, sys, unicodedata
from datasketch import MinHash, MinHashLSH

def normalize(text):
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())

def shingles(text, k=13):
    return [text[i:i + k].encode("utf-8") for i in range(len(text) - k + 1)] or [text.encode("utf-8")]

src, kept_path, removed_path = sys.argv[1:4]
records = [json.loads(line) for line in open(src, encoding="utf-8")]
lsh = MinHashLSH(threshold=0.8, num_perm=128)
seen, hashes, kept, removed = {}, {}, [], []
for record in records:
    text = normalize(record["text"])
    key = hashlib.sha1(text.encode("utf-8")).hexdigest()
    if key in seen:
        removed.append({"id": record["id"], "duplicate_of": seen[key], "reason": "exact", "similarity": 1.0})
        continue
    m = MinHash(num_perm=128)
    m.update_batch(shingles(text))
    found = lsh.query(m)
    if found:
        twin = found[0]
        removed.append({"id": record["id"], "duplicate_of": twin, "reason": "near",
                        "similarity": m.jaccard(hashes[twin])})
        continue
    seen[key] = record["id"]
    hashes[record["id"]] = m
    lsh.insert(record["id"], m)
    kept.append(record)
with open(kept_path, "w", encoding="utf-8") as f:
    f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
with open(removed_path, "w", encoding="utf-8") as f:
    f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in removed)
'''

OURS = ("import argparse, sys\n"
        "from studio.quality.dedup_command import configure_parser\n"
        "parser = argparse.ArgumentParser()\n"
        "configure_parser(parser)\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "sys.exit(args.func(args))\n")


def _ours_command() -> list[str]:
    """`python -m studio dedup` once the CLI has it, else the same parser and run() called from `python -c`."""
    from studio import cli

    wired = "dedup" not in getattr(cli, "PLANNED", {})
    return [sys.executable, "-m", "studio", "dedup"] if wired else [sys.executable, "-c", OURS]


def _english(rng: random.Random, vocabulary: list[str], weights: list[float], chars: int) -> str:
    """Sentences of Zipf-distributed words; `weights` are cumulative."""
    words: list[str] = []
    size = 0
    while size < chars:
        sentence = rng.choices(vocabulary, cum_weights=weights, k=rng.randint(6, 16))
        sentence[0] = sentence[0].capitalize()
        words.append(" ".join(sentence) + rng.choice(".,;."))
        size += len(words[-1]) + 1
    return " ".join(words)[:chars]


def _chinese(rng: random.Random, weights: list[float], chars: int) -> str:
    out, size = [], 0
    while size < chars:
        out.append("".join(rng.choices(_CJK, cum_weights=weights, k=rng.randint(8, 24))) + rng.choice("，。；、。"))
        size += len(out[-1])
    return "".join(out)[:chars]


def _edit(rng: random.Random, text: str, rate: float) -> str:
    """Substitute, insert or delete characters at max(1, rate * len) random positions."""
    chars = list(text)
    pool = _CJK[:500] if any("\u4e00" <= c <= "\u9fff" for c in text[:20]) else list("abcdefghiklmnoprstu")
    for _ in range(max(1, round(rate * len(text)))):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.6:
            chars[i] = rng.choice(pool)
        elif op < 0.8:
            chars.insert(i, rng.choice(pool))
        elif len(chars) > K + 1:
            del chars[i]
    return "".join(chars)


def _restyle(rng: random.Random, text: str) -> str:
    """An exact duplicate after normalisation: upper-cased, doubled spaces or a trailing newline."""
    return rng.choice([text.upper(), text.replace(" ", "  "), text + "\n", "  " + text])


def shingle_set(text: str) -> set[str]:
    return {text[i:i + K] for i in range(len(text) - K + 1)} if len(text) >= K else {text}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingle_set(normalize_text(a)), shingle_set(normalize_text(b))
    return len(sa & sb) / len(sa | sb)


def make_corpus(n: int, seed: int) -> tuple[list[dict], list[tuple[str, str, float]]]:
    """Records in random order, and the planted pairs (id, id, exact Jaccard) of every cluster."""
    rng = random.Random(seed)
    vocabulary = sorted({"".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(8000)})
    zipf_en = list(itertools.accumulate(1 / (r + 1) for r in range(len(vocabulary))))  # cumulative weights
    zipf_zh = list(itertools.accumulate(1 / (r + 1) ** 0.8 for r in range(len(_CJK))))
    originals = int(n * 0.7)
    records = []
    for i in range(originals):
        chars = rng.randint(450, 550)
        text = _english(rng, vocabulary, zipf_en, chars) if i % 2 else _chinese(rng, zipf_zh, chars)
        records.append({"id": f"doc{i:06d}", "text": text})
    clusters: dict[int, list[int]] = {}
    for j in range(originals, n):
        source = rng.randrange(originals)
        base = records[source]["text"]
        exact = rng.random() < 0.3
        text = _restyle(rng, base) if exact else _edit(rng, base, rng.choice(EDIT_RATES))
        records.append({"id": f"dup{j:06d}", "text": text})
        clusters.setdefault(source, [source]).append(j)
    pairs = [(records[a]["id"], records[b]["id"], jaccard(records[a]["text"], records[b]["text"]))
             for members in clusters.values() for x, a in enumerate(members) for b in members[x + 1:]]
    rng.shuffle(records)
    return records, pairs


def run_child(argv: list[str]) -> tuple[float, float, int]:
    """(seconds from spawn to exit, peak RSS in MiB, exit status) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.stderr.write(child.stderr.read().decode("utf-8", "replace")[-2000:])
    rss_kib = usage.ru_maxrss  # KiB on Linux
    return seconds, rss_kib / 1024, child.returncode


def score(removed_path: Path, texts: dict[str, str], pairs: list[tuple[str, str, float]]) -> tuple[float, float]:
    """(precision, recall) as defined in the module docstring."""
    removed = [json.loads(line) for line in removed_path.open(encoding="utf-8")]
    twin = {entry["id"]: entry["duplicate_of"] for entry in removed}
    good = sum(jaccard(texts[e["id"]], texts[e["duplicate_of"]]) >= 0.7 for e in removed)
    strong = [(a, b) for a, b, j in pairs if j >= 0.85]
    found = sum(twin.get(a, a) == twin.get(b, b) for a, b in strong)
    return (good / len(removed) if removed else 1.0), (found / len(strong) if strong else 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-files", default=None, help="write the corpus and outputs here instead of a temp dir")
    parser.add_argument("--skip-baseline", action="store_true", help="run ours only")
    args = parser.parse_args()
    folder = Path(args.keep_files or tempfile.mkdtemp(prefix="dedup-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    records, pairs = make_corpus(args.records, args.seed)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    strong = sum(j >= 0.85 for _, _, j in pairs)
    print(f"corpus: {len(records):,} records, {corpus.stat().st_size / 2**20:.1f} MiB, {len(pairs):,} planted pairs "
          f"({strong:,} with Jaccard >= 0.85), generated in {time.perf_counter() - t0:.1f} s")
    texts = {r["id"]: r["text"] for r in records}
    ours_argv = [*_ours_command(), str(corpus), "--out", str(folder / "ours_kept.jsonl"),
                 "--removed", str(folder / "ours_removed.jsonl"), "--report", str(folder / "ours_report.json")]
    rows = [("ours", *run_child(ours_argv), *score(folder / "ours_removed.jsonl", texts, pairs))]
    if not args.skip_baseline:
        script = folder / "baseline.py"
        script.write_text(BASELINE, encoding="utf-8")
        base_argv = [sys.executable, str(script), str(corpus), str(folder / "base_kept.jsonl"),
                     str(folder / "base_removed.jsonl")]
        rows.append(("datasketch", *run_child(base_argv), *score(folder / "base_removed.jsonl", texts, pairs)))
    print(f"{'':12} {'seconds':>8} {'peak MiB':>9} {'precision':>10} {'recall':>8}")
    for name, seconds, mib, status, precision, recall in rows:
        print(f"{name:12} {seconds:8.2f} {mib:9.0f} {precision:10.4f} {recall:8.4f}" + (f"  exit {status}" if status
                                                                                       else ""))
    ours = rows[0]
    print(f"targets: precision >= 0.99 ({ours[4]:.4f}), recall >= 0.98 ({ours[5]:.4f}), 100k records < 60 s "
          f"({ours[1]:.1f} s for {len(records):,})")
    if len(rows) > 1:
        print(f"speed ratio (datasketch / ours, end to end): {rows[1][1] / ours[1]:.1f}x (target >= 8x)")
    if not args.keep_files:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
