"""Normalisation and the exact-duplicate key."""

import hashlib
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from studio.quality.normalize import _WIDE, exact_key, nfkc, normalize_text, normalized_key


def test_nfkc_folds_full_width_forms_and_ligatures():
    assert normalize_text("ＡＢＣ１２３，ﬁne") == "abc123,fine"


def test_case_is_folded_not_just_lowered():
    assert normalize_text("STRASSE Straße") == "strasse strasse"


def test_every_kind_of_whitespace_collapses_to_one_space():
    assert normalize_text("  a \t\n b\u3000\u3000c\u2029d\r\n") == "a b c d"


def test_chinese_text_keeps_its_characters():
    assert normalize_text("一种图像压缩方法，包括：步骤一。") == "一种图像压缩方法,包括:步骤一。"


def test_exact_key_is_sha1_of_the_normalised_utf8():
    text = "Hello,  WORLD"
    assert exact_key(text) == hashlib.sha1(b"hello, world").hexdigest()
    assert exact_key(text) == exact_key("hello, world\n") == normalized_key(normalize_text(text))
    assert exact_key("hello world") != exact_key("hello world!")


def test_lone_surrogates_do_not_crash():
    assert len(exact_key("a\ud800b")) == 40


_ALPHABET = st.sampled_from([w for w, _ in _WIDE] + list("aAß ǅΣς\u0301\u3000\n，。ﬁ①가각") + ["e\u0301"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_fast_nfkc_equals_unicodedata(text):
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_normalisation_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
