"""LSH banding over MinHash signatures: the S-curve arithmetic, choosing bands and rows, and candidate pairs.

A signature of num_perm values is cut into b bands of r rows (b * r <= num_perm; rows past b * r are unused by the
banding but still count in the similarity estimate). Two texts become a candidate pair when all r values of at least
one band agree. For a pair with Jaccard similarity J each row agrees with probability J, so

    P(candidate | J) = 1 - (1 - J^r)^b          (the S-curve)

which rises steepest near J ≈ (1/b)^(1/r), its conventional midpoint. Banding alone is not a threshold: with
32 bands x 4 rows the midpoint is ≈ 0.42, so many pairs far below 0.8 are candidates, and the pipeline verifies every
candidate (`studio.quality.dedup`). `choose_bands` picks b and r for a threshold the way datasketch's MinHashLSH
does: minimise the weighted false-positive area (∫ P over J < t) plus false-negative area (∫ 1 - P over J >= t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.quality.minhash import fmix64

_GRID = 2001  # integration points on [0, 1]; the trapezoid error is far below the differences between (b, r)


def candidate_probability(jaccard: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """P(two texts with this Jaccard similarity share at least one band) = 1 - (1 - J^r)^b."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands


def s_curve_midpoint(bands: int, rows: int) -> float:
    """(1/b)^(1/r): where the S-curve is steepest; ≈ 0.42 for 32 x 4, ≈ 0.84 for 9 x 13."""
    return (1.0 / bands) ** (1.0 / rows)


def s_curve(bands: int, rows: int, points: int = 101) -> list[list[float]]:
    """[[J, P(candidate | J)], ...] at `points` evenly spaced J in [0, 1], rounded for reports and plots."""
    j = np.linspace(0.0, 1.0, points)
    p = candidate_probability(j, bands, rows)
    return [[round(float(a), 4), round(float(b), 6)] for a, b in zip(j, p)]


def error_areas(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    """(false-positive area ∫_0^t P dJ, false-negative area ∫_t^1 (1 - P) dJ) for this banding."""
    below = np.linspace(0.0, threshold, _GRID)
    above = np.linspace(threshold, 1.0, _GRID)
    fp = np.trapezoid(candidate_probability(below, bands, rows), below)
    fn = np.trapezoid(1.0 - candidate_probability(above, bands, rows), above)
    return float(fp), float(fn)


def choose_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
                 ) -> tuple[int, int]:
    """(bands, rows) with bands * rows <= num_perm minimising fp_weight * FP area + fn_weight * FN area.

    Every (b, r) is scored at once on a shared grid, so the search over all ~num_perm * log(num_perm) pairs is one
    vectorised evaluation. Ties (equal cost to 1e-12) go to more bands, which only adds candidates to verify.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold: must be between 0 and 1 (exclusive) to choose bands, got {threshold}")
    if num_perm < 1:
        raise ValueError(f"num_perm: must be at least 1, got {num_perm}")
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=float)
    b, r = pairs[:, :1], pairs[:, 1:]
    below = np.linspace(0.0, threshold, _GRID)[None, :]
    above = np.linspace(threshold, 1.0, _GRID)[None, :]
    fp = np.trapezoid(1.0 - (1.0 - below ** r) ** b, below, axis=1)
    fn = np.trapezoid((1.0 - above ** r) ** b, above, axis=1)
    cost = fp_weight * fp + fn_weight * fn
    best = np.flatnonzero(cost <= cost.min() + 1e-12)
    choice = max(best, key=lambda i: pairs[i, 0])
    return int(pairs[choice, 0]), int(pairs[choice, 1])


@dataclass
class Candidates:
    """Candidate pairs from banding."""

    pairs: np.ndarray
    """(m, 2) int64, i < j, each pair once, from buckets of at most `max_bucket` texts."""
    large_buckets: list[np.ndarray]
    """Members (ascending) of buckets over `max_bucket` texts: all their pairs would be quadratic, so the caller
    verifies them another way (`studio.quality.dedup` links each member to a verified leader)."""


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(bands, n) uint64: one key per band per text; equal bands give equal keys (different ones collide ~2^-64)."""
    n = signatures.shape[0]
    keys = np.empty((bands, n), dtype=np.uint64)
    # Fixed odd multipliers per row: a linear combination mod 2^64 then a finaliser; unequal bands colliding would
    # only add a candidate pair, which verification rejects.
    multipliers = fmix64(np.arange(1, rows + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    with np.errstate(over="ignore"):
        for s in range(0, n, 16384):  # 16k texts at a time: temporaries of bands x rows x 16k x 8 bytes
            block = signatures[s:s + 16384, :bands * rows].reshape(-1, bands, rows).astype(np.uint64)
            block *= multipliers
            keys[:, s:s + 16384] = fmix64(block.sum(axis=2, dtype=np.uint64)).T
    return keys


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int, max_bucket: int = 64) -> Candidates:
    """Pairs of texts sharing a bucket in any band. Buckets of up to `max_bucket` texts give all their pairs
    (vectorised per bucket size), larger ones are returned whole."""
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"bands: {bands} bands x {rows} rows = {bands * rows} exceeds the {signatures.shape[1]} "
                         f"signature values")
    n = signatures.shape[0]
    found: list[np.ndarray] = [np.zeros((0, 2), dtype=np.int64)]
    large: dict[bytes, np.ndarray] = {}
    for keys in band_keys(signatures, bands, rows):
        order = np.argsort(keys)
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, n])
        for size in np.unique(sizes[sizes > 1]).tolist():
            at = starts[sizes == size]
            if size > max_bucket:
                for start in at.tolist():
                    members = np.sort(order[start:start + size])
                    large.setdefault(members.tobytes(), members)  # the same bucket in several bands: once
                continue
            members = order[at[:, None] + np.arange(size)]  # (buckets of this size, size)
            i, j = np.triu_indices(size, 1)
            found.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    pairs = np.sort(np.concatenate(found).astype(np.int64), axis=1)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])  # each pair once, whichever bands it shared
    return Candidates(np.stack([codes // n, codes % n], axis=1), list(large.values()))
