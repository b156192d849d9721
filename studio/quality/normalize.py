"""Text normalisation for duplicate detection, and the exact-duplicate key.

Two records are exact duplicates when their normalised texts are equal: Unicode NFKC (full-width letters and digits,
ligatures and compatibility forms folded to their plain forms), case-folded (a stronger lower-casing that also
folds ß to ss), and every run of whitespace (Unicode spaces, tabs, newlines) collapsed to one space, leading and
trailing whitespace dropped. Near-duplicate shingles are taken from the same normalised text, so a copy that differs
only in spacing or letter case is an exact duplicate, not a near one.
"""

from __future__ import annotations

import hashlib
import unicodedata

# Full-width punctuation and the ideographic space, which Chinese text uses constantly; NFKC maps each to one ASCII
# character. CPython's full NFKC costs ~80 ns per character (2 s per 100k Chinese records of 500 characters), its
# quick check ~1 ns, so these are replaced first and most texts then pass the quick check. The result is the same:
# each replacement is the character's own compatibility decomposition, and NFKC decomposes before it composes.
_WIDE = tuple((chr(c), unicodedata.normalize("NFKC", chr(c)))
              for c in (0xFF0C, 0xFF1B, 0xFF1A, 0xFF1F, 0xFF01, 0xFF08, 0xFF09, 0x3000))


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), faster for Chinese text (see _WIDE)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for wide, narrow in _WIDE:
        if wide in text:
            text = text.replace(wide, narrow)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces and stripped."""
    # NFKC again after casefold: folding can produce sequences (e.g. from "ǅ" or Greek final sigma) that NFKC
    # would compose differently, and the key must not depend on the order the two steps ran in.
    folded = nfkc(nfkc(text).casefold())
    return " ".join(folded.split())


def exact_key(text: str) -> str:
    """Hex sha1 of the normalised text's UTF-8 bytes: equal keys mean exact duplicates."""
    return normalized_key(normalize_text(text))


def normalized_key(normalized: str) -> str:
    """`exact_key` of a text that is already normalised (the pipeline normalises once and reuses the result)."""
    # surrogatepass: JSON allows lone surrogates; they must hash, not crash the run.
    return hashlib.sha1(normalized.encode("utf-8", "surrogatepass")).hexdigest()
