"""Length buckets by token-count quantiles (per language), tail sizes rounded half up, flags at both extremes."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from studio.quality.buckets import (
    BucketSettings,
    Scored,
    assign_buckets,
    bucket_index,
    length_edges,
    tail_count,
)


@pytest.mark.parametrize("size, fraction, expected", [
    (0, 0.02, 0), (24, 0.02, 0), (25, 0.02, 1), (74, 0.02, 1), (75, 0.02, 2), (100, 0.02, 2),
    (49, 0.01, 0), (50, 0.01, 1), (149, 0.01, 1), (150, 0.01, 2), (1000, 0.01, 10), (7, 0.0, 0), (3, 0.49, 1),
])
def test_tail_count_rounds_half_up(size, fraction, expected):
    assert tail_count(size, fraction) == expected


def test_edges_split_distinct_lengths_into_equal_shares():
    lengths = list(range(1, 101))
    edges = length_edges(lengths, 5)
    assert edges == [1, 20, 40, 60, 80, 100]
    assert Counter(bucket_index(n, edges) for n in lengths) == {0: 20, 1: 20, 2: 20, 3: 20, 4: 20}


def test_a_length_on_an_edge_goes_to_the_lower_bucket():
    edges = [10.0, 20.0, 30.0]
    assert [bucket_index(n, edges) for n in (10, 11, 20, 21, 30)] == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("lengths, edges", [
    ([], []), ([5] * 7, [5, 5]), ([1, 1, 1, 1, 10], [1, 1, 10]), ([1, 10], [1, 1, 10]), ([3, 3, 9, 9], [3, 3, 9]),
])
def test_equal_edges_merge_and_no_bucket_is_empty(lengths, edges):
    assert length_edges(lengths, 5) == edges
    if lengths:
        assert {bucket_index(n, edges) for n in lengths} == set(range(len(edges) - 1))


def test_no_bucket_is_ever_empty_on_random_lengths():
    rng = random.Random(7)
    for _ in range(200):
        lengths = [rng.choice([rng.randint(1, 20), rng.randint(1, 2000)]) for _ in range(rng.randint(1, 60))]
        edges = length_edges(lengths, rng.randint(1, 8))
        assert {bucket_index(n, edges) for n in lengths} == set(range(len(edges) - 1))


def _bucket_of_100():
    # lengths 1..100 with the perplexities 1..100 in a shuffled order
    rng = random.Random(1)
    ppls = list(range(1, 101))
    rng.shuffle(ppls)
    return [Scored(f"r{n}", n, float(ppls[n - 1])) for n in range(1, 101)]


def test_each_bucket_flags_its_own_top_two_percent_and_bottom_one_percent():
    items = _bucket_of_100()
    # five buckets of 20 flag nothing with the defaults (0.02 x 20 = 0.4 rounds to 0) ...
    report = assign_buckets(items)
    assert [len(b.ids) for b in report.buckets] == [20] * 5 and not report.flagged
    # ... one bucket of 100 flags the 2 highest and the 1 lowest
    report = assign_buckets(items, BucketSettings(buckets=1))
    (bucket,) = report.buckets
    ppl = {i.id: i.ppl for i in items}
    ranked = sorted(ppl, key=ppl.get)
    assert bucket.high == [ranked[-1], ranked[-2]] and bucket.low == [ranked[0]]
    assert (bucket.high_threshold, bucket.low_threshold) == (99.0, 1.0)
    assert report.flagged == {ranked[-1]: "high", ranked[-2]: "high", ranked[0]: "low"}
    assert report.edges == {"all": [1, 100]} and bucket.label == "0" and bucket.key == (None, 0)


def test_thresholds_are_per_bucket():
    # two length buckets of 50: short records have perplexity ~10, long ones ~1000
    items = [Scored(f"s{i}", 10, 10.0 + i, None) for i in range(50)]
    items += [Scored(f"l{i}", 500, 1000.0 + i, None) for i in range(50)]
    report = assign_buckets(items, BucketSettings(buckets=2, trim_high=0.04, trim_low=0.02))
    short, long_ = report.buckets
    assert (short.high, short.low) == (["s49", "s48"], ["s0"])
    assert (long_.high, long_.low) == (["l49", "l48"], ["l0"])
    assert short.high_threshold == 58.0 and long_.low_threshold == 1000.0  # a global cut would flag no short one
    assert (short.min_tokens, short.max_tokens, long_.min_tokens, long_.max_tokens) == (10, 10, 10, 500)


def test_languages_are_bucketed_separately_with_their_own_edges():
    zh = [Scored(f"zh{n}", n * 2, 1000.0 + n, "zh") for n in range(1, 51)]
    en = [Scored(f"en{n}", n, 100.0 + n, "en") for n in range(1, 51)]
    unknown = [Scored("x", 5, 1.0, None)]
    report = assign_buckets(zh + en + unknown, BucketSettings(buckets=2, trim_high=0.02, trim_low=0.02))
    assert set(report.edges) == {"en", "zh", "und"}
    assert report.edges["zh"] == [2, 50, 100] and report.edges["en"] == [1, 25, 50]
    assert [b.label for b in report.buckets] == ["en/0", "en/1", "und/0", "zh/0", "zh/1"]
    # zh's lowest perplexity is far above all of en's: a shared ranking would flag only en as low, only zh as high
    assert {report.flagged[i] for i in ("en25", "en50", "zh25", "zh50")} == {"high"}
    assert {report.flagged[i] for i in ("en1", "en26", "zh1", "zh26")} == {"low"}
    assert report.bucket_of["x"] == "und/0" and "x" not in report.flagged


def test_small_buckets_flag_nothing_and_tails_never_overlap():
    items = [Scored(f"r{i}", 10, float(i), None) for i in range(3)]
    assert not assign_buckets(items, BucketSettings(buckets=1)).flagged
    report = assign_buckets(items, BucketSettings(buckets=1, trim_high=0.49, trim_low=0.49))
    assert report.flagged == {"r2": "high", "r0": "low"}
    for size in range(1, 30):
        items = [Scored(f"r{i}", 10, float(i % 4), None) for i in range(size)]
        (bucket,) = assign_buckets(items, BucketSettings(buckets=1, trim_high=0.49, trim_low=0.49)).buckets
        assert not set(bucket.high) & set(bucket.low) and len(bucket.high) + len(bucket.low) <= size


def test_ties_are_broken_by_id_so_runs_repeat():
    items = [Scored(rid, 10, 5.0, None) for rid in ("d", "b", "a", "c")]
    report = assign_buckets(items, BucketSettings(buckets=1, trim_high=0.25, trim_low=0.25))
    assert report.flagged == {"d": "high", "a": "low"}


@pytest.mark.parametrize("kwargs, message", [
    ({"buckets": 0}, "buckets"), ({"buckets": 2.5}, "buckets"), ({"buckets": True}, "buckets"),
    ({"trim_high": 0.5}, "trim_high"), ({"trim_low": -0.01}, "trim_low"), ({"trim_low": "0.1"}, "trim_low"),
])
def test_settings_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BucketSettings(**kwargs)
