"""The deduplication report: counts, cluster sizes, the largest clusters, the remaining duplicate rate, settings and
the LSH S-curve, as one JSON-ready dict (the Quality tab renders it; `python -m studio dedup --report` writes it).

Fields: documents, kept, exact_duplicates, near_duplicates, removed, share_removed, clusters (groups of two or
more), cluster_sizes ({size: how many clusters}), largest_clusters (members side by side, kept one first),
candidate_pairs / verified_pairs (how much verification rejected), remaining_duplicates (the sampled estimate),
settings (as given, plus the bands and rows used), s_curve (P(candidate | J) points, midpoint, threshold).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from studio.quality.lsh import band_keys, candidate_probability, s_curve, s_curve_midpoint

if TYPE_CHECKING:  # dedup imports this module; the types are only for reading
    from studio.quality.dedup import DedupResult, DedupSettings, NearPairs

LARGEST_CLUSTERS = 10
MEMBERS_SHOWN = 20  # per cluster; the size says how many there are in all
TEXT_SHOWN = 2000  # characters of each member's text in the report


def build_report(ids: list[str], texts: list[str], result: DedupResult, kept_of: list[int],
                 entries: dict[int, dict], survivors: list[int], near: NearPairs, settings: DedupSettings,
                 checkpoint: Callable[[], None]) -> dict:
    """The report for one run; `kept_of[i]` is the index of the record kept in record i's place, `entries` the
    removed entries by index."""
    reasons = Counter(entry["reason"] for entry in result.removed)
    members: dict[int, list[int]] = {}
    for index, kept in enumerate(kept_of):
        members.setdefault(kept, []).append(index)
    clusters = sorted((m for m in members.values() if len(m) > 1), key=lambda m: (-len(m), m[0]))
    bands, rows = settings.banding()
    n = len(ids)
    position = {index: pos for pos, index in enumerate(survivors)}
    kept_positions = np.array([position[i] for i, k in enumerate(kept_of) if i == k], dtype=np.int64)
    return {
        "documents": n,
        "kept": len(result.kept),
        "exact_duplicates": reasons["exact"],
        "near_duplicates": reasons["near"],
        "removed": len(result.removed),
        "share_removed": round(len(result.removed) / n, 6) if n else 0.0,
        "clusters": len(clusters),
        "cluster_sizes": {str(size): count for size, count in sorted(Counter(map(len, clusters)).items())},
        "largest_clusters": [_cluster(ids, texts, entries, m) for m in clusters[:LARGEST_CLUSTERS]],
        "candidate_pairs": int(near.candidates),
        "verified_pairs": len(near.pairs),
        "remaining_duplicates": remaining_rate(near, kept_positions, survivors, ids, settings, checkpoint),
        "settings": {**asdict(settings), "bands": bands, "rows": rows},
        "s_curve": {"bands": bands, "rows": rows, "threshold": settings.threshold,
                    "midpoint": round(s_curve_midpoint(bands, rows), 4),
                    "p_at_threshold": round(float(candidate_probability(settings.threshold, bands, rows)), 4),
                    "points": s_curve(bands, rows)},
    }


def _cluster(ids: list[str], texts: list[str], entries: dict[int, dict], indices: list[int]) -> dict:
    """One cluster for display: the kept record first, then the removed ones with reason and similarity."""
    kept = next(i for i in indices if i not in entries)
    shown = []
    for index in [kept, *(i for i in indices if i != kept)][:MEMBERS_SHOWN]:
        entry = entries.get(index)
        text = texts[index]
        shown.append({"id": ids[index], "kept": entry is None,
                      "reason": entry["reason"] if entry else None,
                      "similarity": entry["similarity"] if entry else 1.0,
                      "text": text[:TEXT_SHOWN], "chars": len(text)})
    return {"kept": ids[kept], "size": len(indices), "members": shown}


def screen_banding(threshold: float, num_perm: int, recall: float = 0.9999) -> tuple[int, int]:
    """(bands, rows) that make a pair at the threshold a candidate with probability >= `recall`: the most rows
    (fewest chance candidates) that still do."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= recall:
            return bands, rows
    return num_perm, 1


def remaining_rate(near: NearPairs, kept_positions: np.ndarray, survivors: list[int], ids: list[str],
                   settings: DedupSettings, checkpoint: Callable[[], None]) -> dict:
    """Share of kept records that still have a near duplicate among the kept ones, estimated from a sample.

    Each sampled record is looked up against every kept record in an LSH index banded so that a pair at the
    threshold is found with probability >= 0.9999 (`screen_banding`), and every pair found is settled by exact
    Jaccard: the sample is checked pairwise against all kept records without comparing each pair.
    """
    total = len(kept_positions)
    size = min(settings.sample_size, total)
    if size == 0:
        return {"sampled": 0, "with_duplicate": 0, "rate": None, "interval_95": None, "examples": []}
    sample = np.sort(np.random.default_rng(settings.seed).choice(total, size=size, replace=False))
    bands, rows = screen_banding(settings.threshold, settings.num_perm)
    keys = band_keys(near.verifier.signatures[kept_positions], bands, rows)
    found: list[list[np.ndarray]] = [[] for _ in range(size)]
    for band_keys_ in keys:
        order = np.argsort(band_keys_)
        ordered = band_keys_[order]
        low = np.searchsorted(ordered, band_keys_[sample], side="left")
        high = np.searchsorted(ordered, band_keys_[sample], side="right")
        for n in np.flatnonzero(high - low > 1).tolist():  # more than the sampled record itself
            found[n].append(order[low[n]:high[n]])
    checkpoint()
    hits, examples = 0, []
    for n, s in enumerate(sample.tolist()):
        if n % 100 == 99:
            checkpoint()
        others = np.setdiff1d(np.concatenate(found[n]), [s]) if found[n] else []
        if not len(others):
            continue
        pairs = np.stack([np.full(len(others), kept_positions[s]), kept_positions[others]], axis=1)
        exact = near.verifier.exact_jaccard(pairs)
        if exact.max() >= settings.threshold:
            hits += 1
            best = int(np.argmax(exact))
            if len(examples) < 10:
                examples.append({"id": ids[survivors[pairs[best, 0]]], "duplicate": ids[survivors[pairs[best, 1]]],
                                 "jaccard": round(float(exact[best]), 4)})
    return {"sampled": size, "with_duplicate": hits, "rate": round(hits / size, 6),
            "interval_95": [round(x, 6) for x in wilson_interval(hits, size)], "examples": examples,
            "screen": {"bands": bands, "rows": rows}}


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (sensible at 0 hits, unlike the normal one)."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
