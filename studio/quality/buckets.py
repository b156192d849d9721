"""Length buckets and tail trimming of perplexity scores: which records look like noise or like boilerplate.

Perplexity depends on length and, more, on language (DOMAIN.md: raw perplexity is not comparable across
languages), so records are compared only with records of the same language and a similar length. Records are
grouped by `lang` when any record carries one (a record without it joins the group "und", undetermined), and each
group is cut into `buckets` length buckets at its token-count quantiles. Within each bucket the records with the
highest perplexity (garbled, mis-encoded, mixed-up text) and the lowest (boilerplate, copies, repeated lines) are
flagged. Chat and text records are compared apart too when both occur (kinds "chat" and "text"): a chat's
assistant turns are predicted after their question, a text from nothing, so their perplexities differ by kind
before they differ by quality, and one kind would take every flag of a shared bucket.

Choices where the issue is silent:
- Edges: the group's token-count quantiles at 1/b, 2/b, ... between its minimum and maximum, taken as actual
  token counts (the smallest count with at least that share of records at or below it); bucket k holds
  edges[k] < n_tokens <= edges[k+1], the first bucket [edges[0], edges[1]] (so edges[1] may equal the minimum).
  With distinct lengths the buckets hold equal shares of the group. Every edge is some record's length and an
  edge equal to the one before it (many records of one length) is dropped, so a group can get fewer buckets than
  asked, never an empty one.
- Tail sizes: round half up, count = floor(fraction × bucket size + 0.5). With the defaults a bucket needs 25
  records before its top tail gets one (0.02 × 25 = 0.5) and 50 before its bottom tail does (0.01 × 50 = 0.5);
  smaller buckets flag nothing. The bottom tail never takes a record the top tail already holds.
- Ties: records are ranked by (perplexity, id), so the same input always flags the same records.
- Thresholds: a bucket's high threshold is the lowest perplexity it flagged high, its low threshold the highest it
  flagged low (None when that tail is empty).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_BUCKETS = 5
DEFAULT_TRIM_HIGH = 0.02
DEFAULT_TRIM_LOW = 0.01
UNDETERMINED = "und"  # BCP 47 for "language not known"
_EPS = 1e-9  # so that 0.02 × 25 = 0.5000000000000001 or 0.49999999999999994 rounds the same way


@dataclass(frozen=True)
class Scored:
    """One scored record, as the bucketing sees it."""

    id: str
    n_tokens: int
    ppl: float
    lang: str | None = None
    kind: str | None = None  # "chat" or "text"; records are grouped by it when both kinds occur


@dataclass(frozen=True)
class BucketSettings:
    buckets: int = DEFAULT_BUCKETS
    """Length buckets per language, at token-count quantiles."""
    trim_high: float = DEFAULT_TRIM_HIGH
    """Fraction of each bucket flagged for the highest perplexity (noise)."""
    trim_low: float = DEFAULT_TRIM_LOW
    """Fraction of each bucket flagged for the lowest perplexity (boilerplate, copies)."""

    def __post_init__(self) -> None:
        if isinstance(self.buckets, bool) or not isinstance(self.buckets, int) or not 1 <= self.buckets <= 1000:
            raise ValueError(f"buckets: expected a whole number from 1 to 1000, got {self.buckets!r}")
        for name in ("trim_high", "trim_low"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 0.5:
                raise ValueError(f"{name}: expected a fraction from 0 to below 0.5 (0.02 = 2%), got {value!r}")


@dataclass
class Bucket:
    key: tuple[str | None, int]  # (language or None when no record has one, length bucket from 0)
    min_tokens: float  # lower edge (inclusive for the first bucket of a group, exclusive otherwise)
    max_tokens: float  # upper edge, inclusive
    ids: list[str] = field(default_factory=list)
    high: list[str] = field(default_factory=list)  # flagged ids, highest perplexity first
    low: list[str] = field(default_factory=list)  # flagged ids, lowest perplexity first
    high_threshold: float | None = None
    low_threshold: float | None = None
    median_ppl: float | None = None
    kind: str | None = None  # "chat" or "text" when the scores mixed both kinds, else None

    @property
    def label(self) -> str:
        """"zh/2", "chat/zh/2", or "2" when records carry no language and one kind; what reports and removed.jsonl
        show."""
        group = group_label(self.kind, self.key[0])
        return f"{group}/{self.key[1]}" if group is not None else str(self.key[1])


def group_label(kind: str | None, lang: str | None) -> str | None:
    """"chat/zh", "zh", "chat", or None when the records were grouped by length only."""
    parts = [part for part in (kind, lang) if part is not None]
    return "/".join(parts) if parts else None


@dataclass
class BucketReport:
    settings: BucketSettings
    edges: dict[str, list[float]]  # group ("zh", "chat/en", or "all" without languages or kinds) -> bucket edges
    buckets: list[Bucket]
    bucket_of: dict[str, str]  # record id -> bucket label
    flagged: dict[str, str]  # record id -> "high" or "low"


def tail_count(size: int, fraction: float) -> int:
    """Records flagged in one tail of a bucket of `size` records: fraction × size rounded half up."""
    return math.floor(fraction * size + 0.5 + _EPS)


def length_edges(lengths: Sequence[int], buckets: int) -> list[float]:
    """Bucket edges [min, q(1/b), ..., q((b-1)/b), max], merged where a bucket would be empty.

    q(k/b) is the ceil(k·n/b)-th smallest length (1-based), computed in integers: numpy's "inverted_cdf" on
    floating-point fractions would turn 0.6 × 100 into rank 61."""
    if not lengths:
        return []
    ordered, n = sorted(lengths), len(lengths)
    ranks = [1] + [-(-k * n // buckets) for k in range(1, buckets)] + [n]
    edges: list[float] = []
    for rank in ranks:
        value = float(ordered[rank - 1])
        # Bucket 0 is [edges[0], edges[1]], so edges[1] may equal the minimum; any later bucket (e, e] is empty.
        if len(edges) < 2 or value > edges[-1]:
            edges.append(value)
    return edges


def bucket_index(n_tokens: float, edges: Sequence[float]) -> int:
    """Which bucket of `edges` holds n_tokens: edges[k] < n <= edges[k+1], the minimum in bucket 0."""
    return bisect_left(edges, n_tokens, 1, len(edges) - 1) - 1


def _groups(items: Sequence[Scored]) -> dict[tuple[str | None, str | None], list[Scored]]:
    """(kind, language) -> its records; either part None when the records do not differ in it."""
    with_lang = any(item.lang for item in items)
    with_kind = len({item.kind for item in items}) > 1
    groups: dict[tuple[str | None, str | None], list[Scored]] = {}
    for item in items:
        key = (item.kind if with_kind else None, (item.lang or UNDETERMINED) if with_lang else None)
        groups.setdefault(key, []).append(item)
    return groups


def _trim(bucket: Bucket, members: list[Scored], settings: BucketSettings) -> None:
    """Flag the tails of one bucket and set its thresholds."""
    ranked = sorted(members, key=lambda item: (item.ppl, item.id))
    n_high = tail_count(len(ranked), settings.trim_high)
    n_low = min(tail_count(len(ranked), settings.trim_low), len(ranked) - n_high)
    high = ranked[len(ranked) - n_high:][::-1]
    low = ranked[:n_low]
    bucket.high, bucket.low = [i.id for i in high], [i.id for i in low]
    bucket.high_threshold = high[-1].ppl if high else None
    bucket.low_threshold = low[-1].ppl if low else None
    bucket.median_ppl = statistics.median(i.ppl for i in ranked) if ranked else None


def assign_buckets(items: Sequence[Scored], settings: BucketSettings | None = None) -> BucketReport:
    """Bucket every scored record by (language, length) and flag each bucket's tails."""
    settings = settings or BucketSettings()
    report = BucketReport(settings, {}, [], {}, {})
    for (kind, lang), members in sorted(_groups(items).items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
        edges = length_edges([m.n_tokens for m in members], settings.buckets)
        report.edges[group_label(kind, lang) or "all"] = edges
        by_index: dict[int, list[Scored]] = {}
        for member in members:
            by_index.setdefault(bucket_index(member.n_tokens, edges), []).append(member)
        for index in range(len(edges) - 1):
            bucket = Bucket((lang, index), edges[index], edges[index + 1], kind=kind)
            chosen = by_index.get(index, [])
            bucket.ids = [m.id for m in chosen]
            _trim(bucket, chosen, settings)
            report.buckets.append(bucket)
            report.bucket_of.update(dict.fromkeys(bucket.ids, bucket.label))
            report.flagged.update({**dict.fromkeys(bucket.high, "high"), **dict.fromkeys(bucket.low, "low")})
    return report
