"""Per-answer metrics of a batch evaluation: JSON validity, schema validity, exact match, ROUGE-L, perplexity.

Pure functions of text (no torch), so the CLI, the Compare tab and the tests score answers the same way.

Choices where the brief was open, made as a user would expect:
- **JSON validity is lenient about one code fence, strict about everything else.** Chat models often wrap JSON
  in ```json ... ``` and every program that consumes chat output strips that, so a fenced answer counts. Any other
  text around the JSON (a "Sure! Here it is:" preamble, a second object, a cut-off answer) does not: a program
  calling json.loads on it would fail. Surrounding whitespace is ignored.
- **A JSON answer is an object or an array.** A bare number, string, true/false or null parses with json.loads
  but is almost always an accident ("6" instead of {"time": "6"}), so it does not count as valid JSON; this is
  the top level JSON text had in RFC 4627. NaN and Infinity are not JSON and are refused (Python accepts them).
- **Exact match** compares parsed values when the reference is a JSON answer (key order and spacing do not count,
  true is not 1), else the two texts with runs of whitespace collapsed and the ends stripped; case counts.
- **ROUGE-L** is the F1 of the longest common subsequence of tokens. Each CJK character (Han, kana, Hangul) is a
  token and every other run of letters/digits/underscore is one token, lower-cased; punctuation and spaces are
  dropped. So Chinese and Japanese are scored per character, English per word, and an English word inside Chinese
  text is one token. Both texts empty of tokens score 1.0 (identical); one empty scores 0.0.
- **Perplexity** is exp(total NLL / total tokens): token-weighted over a prompt set, as a corpus perplexity is.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from studio.evaluate.schema import same_json, schema_errors

# One Markdown code fence around the whole answer, with an optional language tag (```json, ```JSON, ```).
_FENCE = re.compile(r"^```[A-Za-z0-9_+-]*[ \t]*\n(.*?)\n?[ \t]*```$", re.S)
# Han (with extensions A-G and compatibility ideographs), hiragana, katakana (with half-width forms), Hangul
# syllables and jamo.
_CJK_RANGES = ("\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
               "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_TOKEN = re.compile(f"[{_CJK_RANGES}]|[^\\W{_CJK_RANGES}]+")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strip_fence(text: str) -> str:
    """The text inside one code fence that wraps the whole answer, else the text; surrounding whitespace removed."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return match.group(1).strip() if match else stripped


def parse_json(text: str) -> tuple[bool, Any]:
    """(True, value) when `text` is one JSON object or array (optionally in one code fence), else (False, None)."""
    try:
        value = json.loads(strip_fence(text), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return False, None
    return (True, value) if isinstance(value, (dict, list)) else (False, None)


def json_valid(text: str) -> bool:
    return parse_json(text)[0]


def schema_valid(value: Any, schema: Mapping) -> bool:
    """True when a parsed JSON value conforms to `schema` (the subset `studio.evaluate.schema` checks)."""
    return not schema_errors(value, schema)


def answer_schema_valid(text: str, schema: Mapping) -> bool:
    """True when the answer is valid JSON (as `json_valid` says) and conforms to `schema`."""
    ok, value = parse_json(text)
    return ok and schema_valid(value, schema)


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def exact_match(candidate: str, reference: str) -> bool:
    """Parsed-value equality when the reference is a JSON answer, else whitespace-normalised text equality."""
    is_json, expected = parse_json(reference)
    if is_json:
        ok, value = parse_json(candidate)
        return ok and same_json(value, expected)
    return normalise_space(candidate) == normalise_space(reference)


def tokens(text: str) -> list[str]:
    """ROUGE tokens: one per CJK character, one per other run of word characters, lower-cased."""
    return _TOKEN.findall(text.casefold())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence; O(len(a) * len(b)) time, O(len(b)) memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (precision and recall weighted equally) between two texts, tokenised by `tokens`."""
    cand, ref = tokens(candidate), tokens(reference)
    if not cand or not ref:
        return 1.0 if not cand and not ref else 0.0
    common = lcs_length(cand, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def perplexity(nll_sum: float, n_tokens: int) -> float | None:
    """exp(mean NLL per token) from a summed NLL in nats; None when there are no tokens, inf when it overflows."""
    if n_tokens <= 0:
        return None
    mean = nll_sum / n_tokens
    return math.exp(mean) if mean < 709 else math.inf  # exp(709.8) is the largest float64
