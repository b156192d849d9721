"""Shingling and MinHash signatures."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.quality import minhash
from studio.quality.minhash import (
    _POLY,
    MinHasher,
    _window_hashes,
    estimate_jaccard,
    exact_jaccard,
    shingle_hashes,
    shingle_set,
    text_shingles,
)


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def test_a_text_has_one_shingle_per_window():
    hashes, offsets = shingle_hashes(["abcdefghijklmnop", "一种基于上下文建模的图像无损压缩方法"], 13)
    assert offsets.tolist() == [0, 4, 4 + 18 - 13 + 1]
    assert len(np.unique(hashes[:4])) == 4


def test_equal_shingles_hash_equal_across_texts():
    hashes, offsets = shingle_hashes(["xxabcdefghijklm", "abcdefghijklmyy"], 13)
    assert set(hashes[offsets[0]:offsets[1]].tolist()) & set(hashes[offsets[1]:].tolist())


def test_texts_shorter_than_k_have_one_shingle_and_match_only_when_equal():
    hashes, offsets = shingle_hashes(["ab", "ab", "abc", "一"], 13)
    assert np.diff(offsets).tolist() == [1, 1, 1, 1]
    assert hashes[0] == hashes[1] and len(set(hashes.tolist())) == 3
    assert text_shingles("ab", 13) == {"ab"}


def test_no_texts():
    hashes, offsets = shingle_hashes([], 13)
    assert len(hashes) == 0 and offsets.tolist() == [0]


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 13, 24, 31])
def test_doubling_window_hash_equals_the_plain_polynomial(k):
    mixed = np.random.default_rng(k).integers(0, 2**64, 60, dtype=np.uint64, endpoint=False)
    expected = np.zeros(60 - k + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            expected = expected * _POLY + mixed[j:j + 60 - k + 1]
    assert (_window_hashes(mixed, k) == expected).all()


_TEXT = st.lists(st.sampled_from(list("ab c一二") + ["三"]), min_size=0, max_size=40).map("".join)


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TEXT, st.integers(1, 6))
def test_exact_jaccard_on_hashes_equals_jaccard_on_strings(a, b, k):
    expected = _jaccard(text_shingles(a, k), text_shingles(b, k))
    assert exact_jaccard(shingle_set(a, k), shingle_set(b, k)) == pytest.approx(expected)


def _reference_signature(hasher: MinHasher, text: str) -> np.ndarray:
    hashes, _ = shingle_hashes([text], hasher.shingle, hasher.seed)
    x = (hashes >> np.uint64(32)).astype(np.uint64)
    values = (hasher._a.astype(np.uint64) * x[None, :] + hasher._b.astype(np.uint64)) & np.uint64(0xFFFFFFFF)
    return values.min(axis=1).astype(np.uint32)


def test_signatures_do_not_depend_on_chunks_batches_or_threads(monkeypatch):
    rng = np.random.default_rng(3)
    texts = ["".join(rng.choice(list("abcdefg 一二三"), size=n)) for n in (1, 5, 13, 14, 40, 200, 3000)]
    monkeypatch.setattr(minhash, "_CHUNK", 7)  # texts straddle many chunks
    monkeypatch.setattr(minhash, "_BATCH_CHARS", 50)  # and batches
    hasher = MinHasher(num_perm=16, shingle=5, workers=2)
    together = hasher.signatures(texts)
    for text, row in zip(texts, together):
        assert (row == _reference_signature(hasher, text)).all()
    assert (MinHasher(num_perm=16, shingle=5, workers=1).signatures(texts) == together).all()


def test_the_estimate_tracks_the_true_jaccard():
    rng = np.random.default_rng(5)
    base = "".join(rng.choice(list("abcdefghij klmnop"), size=600))
    edited = list(base)
    for i in rng.choice(600, size=6, replace=False):
        edited[i] = "z"
    edited = "".join(edited)
    truth = _jaccard(text_shingles(base, 13), text_shingles(edited, 13))
    sig = MinHasher(num_perm=512).signatures([base, edited, base])
    assert (sig[0] == sig[2]).all()
    assert abs(estimate_jaccard(sig[0], sig[1]) - truth) < 4 * np.sqrt(truth * (1 - truth) / 512)


def test_checkpoint_can_stop_between_batches(monkeypatch):
    monkeypatch.setattr(minhash, "_BATCH_CHARS", 10)
    calls = []

    def checkpoint():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        MinHasher(num_perm=8).signatures(["x" * 20] * 10, checkpoint=checkpoint)


def test_bad_parameters_name_the_field():
    with pytest.raises(ValueError, match="^num_perm"):
        MinHasher(num_perm=0)
    with pytest.raises(ValueError, match="^shingle"):
        MinHasher(shingle=0)
