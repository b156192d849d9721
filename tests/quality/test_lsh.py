"""Banding arithmetic and candidate pairs."""

import numpy as np
import pytest

from studio.quality.lsh import (
    band_keys,
    candidate_pairs,
    candidate_probability,
    choose_bands,
    error_areas,
    s_curve,
    s_curve_midpoint,
)


def test_s_curve_formula_and_the_32x4_midpoint():
    assert candidate_probability(0.8, 32, 4) == pytest.approx(1 - (1 - 0.8**4) ** 32)
    assert s_curve_midpoint(32, 4) == pytest.approx(0.4204, abs=1e-4)
    # Banding alone is no 0.8 threshold: a pair at J = 0.5 is a candidate almost surely.
    assert candidate_probability(0.5, 32, 4) > 0.87


def test_s_curve_points_rise_from_zero_to_one():
    points = s_curve(9, 13)
    assert points[0] == [0.0, 0.0] and points[-1] == [1.0, 1.0]
    probabilities = [p for _, p in points]
    assert probabilities == sorted(probabilities)


def _brute_force(threshold: float, num_perm: int) -> tuple[int, int]:
    costs = {(b, r): sum(error_areas(threshold, b, r)) for b in range(1, num_perm + 1)
             for r in range(1, num_perm // b + 1)}
    return min(costs, key=costs.get)


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_auto_bands_minimise_the_weighted_error_areas(threshold):
    bands, rows = choose_bands(threshold, 128)
    assert bands * rows <= 128
    best = _brute_force(threshold, 128)
    assert sum(error_areas(threshold, bands, rows)) == pytest.approx(sum(error_areas(threshold, *best)), abs=1e-9)


def test_auto_bands_for_0_8_at_128_is_what_datasketch_picks():
    assert choose_bands(0.8, 128) == (9, 13)  # DOMAIN.md; and its midpoint sits near the threshold
    assert abs(s_curve_midpoint(9, 13) - 0.8) < 0.05


def test_choose_bands_rejects_impossible_thresholds():
    with pytest.raises(ValueError, match="^threshold"):
        choose_bands(1.0, 128)


def _signatures(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint32)


def test_one_shared_band_makes_a_candidate_pair():
    sig = _signatures([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 6, 8, 8]])
    found = candidate_pairs(sig, bands=2, rows=2)
    assert found.pairs.tolist() == [[0, 1], [0, 2]]
    assert found.large_buckets == []


def test_buckets_give_every_pair_once_and_large_buckets_whole():
    sig = _signatures([[1, 1]] * 4 + [[2, 2]] * 70 + [[3, 4]])
    found = candidate_pairs(sig, bands=2, rows=1, max_bucket=64)
    assert found.pairs.tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert len(found.large_buckets) == 1 and found.large_buckets[0].tolist() == list(range(4, 74))


def test_band_keys_are_equal_exactly_when_bands_are():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32, (1000, 8), dtype=np.uint32)
    sig[500] = sig[3]
    keys = band_keys(sig, 2, 4)
    assert keys[0, 500] == keys[0, 3] and len(np.unique(keys[0])) == 999


def test_more_bands_than_the_signature_holds_is_refused():
    with pytest.raises(ValueError, match="^bands"):
        candidate_pairs(np.zeros((3, 8), dtype=np.uint32), bands=3, rows=3)
