"""Rebuilds the bundled sample data sets in studio/assets/samples/, byte for byte.

Run: `python -m studio.assets.build_samples [--out DIR]`.

Owns the file layout and record shapes of patents.jsonl (+ patents_manifest.json naming the planted duplicates and
noisy records), intent_chat.jsonl, intent_alpaca.jsonl and intent_eval.jsonl. All content is invented by the
composers in sample_patents.py / sample_intents.py from fixed seeds; nothing is downloaded or copied. Re-running
writes identical bytes, and tests/assets/test_samples.py checks that the committed files are up to date.
"""

import argparse
import json
import os
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from studio.assets import (INTENT_ALPACA_FILE, INTENT_CHAT_FILE, INTENT_EVAL_FILE, PATENTS_FILE, PATENTS_MANIFEST,
                           SAMPLES_DIR)
from studio.assets.sample_intents import alpaca_record, chat_record, draw_examples, eval_record
from studio.assets.sample_patents import (boilerplate, compose_document, garble, jaccard13, near_copy,
                                          shuffled_fragments)
from studio.assets.sample_vocab import EN_SUBJECTS, ZH_SUBJECTS

PATENT_SEED = 20240611
META_SEED = 7321
INTENT_SEED = 4242
N_INTENT_TRAIN = 396  # 36 per intent
N_INTENT_EVAL = 66  # 6 per intent

# Which ordinary documents get planted copies: (language, index into that language's subject table).
EXACT_OF = (("zh", 4), ("en", 2))
NEAR_OF = (("zh", 9), ("zh", 17), ("en", 5))
NEAR_MIN_JACCARD = 0.85


def draw_metadata(rng: random.Random, lang: str, used: set[str]) -> dict:
    """id, jurisdiction, pub_date, source and page for one record; ids are unique within `used`."""
    jurisdiction = rng.choice(("CN", "CN", "CN", "CN", "WO")) if lang == "zh" else rng.choice(("US", "EP", "WO"))
    day = date(2015, 1, 1) + timedelta(days=rng.randrange(9 * 365))
    while True:
        serial = rng.randrange(1, 1_000_000)
        doc_id = f"{jurisdiction}-{day.year}-{serial:06d}"
        if doc_id not in used:
            used.add(doc_id)
            break
    kind = "A" if jurisdiction == "CN" else "A1"
    return {"id": doc_id, "jurisdiction": jurisdiction, "pub_date": day.isoformat(),
            "source": f"samples/patents/{jurisdiction}{day.year}{serial:06d}{kind}.pdf",
            "page": rng.choice((1, 1, 1, 2, 3))}


def patent_record(meta: dict, title: str, lang: str, text: str) -> dict:
    """The record in its fixed field order."""
    return {"id": meta["id"], "jurisdiction": meta["jurisdiction"], "title": title, "lang": lang,
            "pub_date": meta["pub_date"], "source": meta["source"], "page": meta["page"], "text": text}


def ordinary_patents(meta_rng: random.Random, used: set[str]) -> dict[tuple[str, int], dict]:
    """One document per subject, each from its own seed so that editing one subject leaves the others alone."""
    docs = {}
    for lang, subjects, offset in (("zh", ZH_SUBJECTS, 0), ("en", EN_SUBJECTS, 1000)):
        for i, subject in enumerate(subjects):
            title, text = compose_document(random.Random(PATENT_SEED + offset + i), subject, lang)
            docs[(lang, i)] = patent_record(draw_metadata(meta_rng, lang, used), title, lang, text)
    return docs


def planted_duplicates(meta_rng: random.Random, used: set[str], docs: dict) -> tuple[list[dict], dict]:
    """Exact and near copies of chosen ordinary documents, re-filed under new ids, with their manifest entries."""
    records, manifest = [], {"exact_duplicates": [], "near_duplicates": []}
    for key in EXACT_OF:
        original = docs[key]
        copy = patent_record(draw_metadata(meta_rng, key[0], used), original["title"], key[0], original["text"])
        records.append(copy)
        manifest["exact_duplicates"].append({"id": copy["id"], "duplicate_of": original["id"]})
    for n, key in enumerate(NEAR_OF):
        original = docs[key]
        text = near_copy(random.Random(PATENT_SEED + 5000 + n), original["text"])
        similarity = jaccard13(text, original["text"])
        # A planted near duplicate that the documented threshold would miss is a bug in the generator.
        assert NEAR_MIN_JACCARD <= similarity < 1.0, (key, similarity)
        copy = patent_record(draw_metadata(meta_rng, key[0], used), original["title"], key[0], text)
        records.append(copy)
        manifest["near_duplicates"].append({"id": copy["id"], "near_of": original["id"],
                                            "jaccard13": round(similarity, 4)})
    return records, manifest


def planted_noise(meta_rng: random.Random, used: set[str], docs: dict) -> tuple[list[dict], list[dict]]:
    """A mojibake text, a boilerplate page and a shuffle of clause fragments, all declared as Chinese."""
    rng = random.Random(PATENT_SEED + 9000)
    title, text = compose_document(rng, ZH_SUBJECTS[12], "zh")
    sources = [docs[("zh", i)]["text"] for i in rng.sample(range(len(ZH_SUBJECTS)), 3)]
    shelf, mixed = "一种可折叠货架的连接结构", "一种复合式检测与处理装置"
    noisy = (
        ("garbled", title, garble(text)),
        ("boilerplate", shelf, boilerplate(shelf, 36)),
        ("shuffled", mixed, f"{mixed}\n\n{shuffled_fragments(rng, sources, 90)}"),
    )
    records, manifest = [], []
    for kind, noisy_title, noisy_text in noisy:
        record = patent_record(draw_metadata(meta_rng, "zh", used), noisy_title, "zh", noisy_text)
        records.append(record)
        manifest.append({"id": record["id"], "kind": kind})
    return records, manifest


def build_patents() -> tuple[list[dict], dict]:
    """All patent records sorted by id (planted ones mixed in), and the manifest of what was planted."""
    meta_rng, used = random.Random(META_SEED), set()
    docs = ordinary_patents(meta_rng, used)
    duplicates, manifest = planted_duplicates(meta_rng, used, docs)
    noise, manifest["noisy"] = planted_noise(meta_rng, used, docs)
    records = sorted([*docs.values(), *duplicates, *noise], key=lambda r: r["id"])
    for entries in manifest.values():
        entries.sort(key=lambda e: e["id"])
    return records, manifest


def build_intents() -> tuple[list[dict], list[dict], list[dict]]:
    """(chat, alpaca, eval) records; eval utterances are drawn after, and disjoint from, the training ones."""
    rng, seen = random.Random(INTENT_SEED), set()
    train = draw_examples(rng, N_INTENT_TRAIN, seen)
    held_out = draw_examples(rng, N_INTENT_EVAL, seen)
    chat = [chat_record(i, u, a) for i, (u, a) in enumerate(train, start=1)]
    alpaca = [alpaca_record(i, u, a) for i, (u, a) in enumerate(train, start=1)]
    evaluation = [eval_record(i, u, a) for i, (u, a) in enumerate(held_out, start=1)]
    return chat, alpaca, evaluation


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def build_all(out: Path) -> dict[str, Path]:
    """Writes every sample file under `out` (same names as in SAMPLES_DIR); returns them by name."""
    patents, manifest = build_patents()
    chat, alpaca, evaluation = build_intents()
    contents = {
        PATENTS_FILE.name: jsonl(patents),
        PATENTS_MANIFEST.name: json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        INTENT_CHAT_FILE.name: jsonl(chat),
        INTENT_ALPACA_FILE.name: jsonl(alpaca),
        INTENT_EVAL_FILE.name: jsonl(evaluation),
    }
    written = {}
    for name, text in contents.items():
        write_atomic(out / name, text)
        written[name] = out / name
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild the bundled sample data sets deterministically.")
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    for name, path in build_all(args.out).items():
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
