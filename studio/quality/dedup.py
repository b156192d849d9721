"""Exact and near-duplicate removal: records in; kept records, removed records with reasons, and a report out.

The pipeline (`find_duplicates`):
1. Exact: records whose normalised texts (`studio.quality.normalize`) have the same sha1 form a group; one is kept.
2. Near, on the records left: MinHash signatures (`studio.quality.minhash`), LSH banding for candidate pairs
   (`studio.quality.lsh`), then every candidate pair is verified against the Jaccard threshold, by the signature
   estimate or, with `verify="exact"`, by the exact Jaccard of the two shingle sets. Banding alone is no threshold.
3. Verified pairs are joined into clusters by union-find (so A~B and B~C put A, B, C together), one record per
   cluster is kept (the first seen, or the longest text), the others are removed.

Nothing is written here and nothing is lost: every input record is either kept or removed with `duplicate_of` (the
id of the kept record it duplicates), `reason` ("exact" or "near") and `similarity` (to that kept record).

Choices where the issue is silent:
- A removed entry is {"id", "duplicate_of", "reason", "similarity", "record": the whole record}, so a version's
  removed.jsonl can restore what was dropped. Similarity is the signature estimate (exact Jaccard with
  verify="exact") between the removed and the kept record; through a chain it can be below the threshold.
- Exact copies of a record that is then removed as a near duplicate point at the cluster's kept record, with reason
  "near" and that record's similarity: each entry describes its relation to the record that stayed.
- Chat records (`messages`, no `text`) are compared by their turns' contents joined with newlines.
- Buckets of more than `max_bucket` records (one band shared by many) are not expanded into all their pairs: each
  member is verified against a leader (the first member), those that fail against the next leader, and so on.
- The remaining duplicate rate: `sample_size` kept records drawn at random (seeded), each checked against every
  kept record: an LSH index banded to find pairs at the threshold with probability >= 0.9999 proposes the pairs,
  exact Jaccard settles them; the rate is the share of sampled records with a kept duplicate >= threshold, with a
  95% Wilson interval. (Sampling pairs within the sample instead would see almost none at 100k records.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from studio.quality.records import record_id, record_label, record_text
from studio.quality.cancel import CancelCheck, Cancelled
from studio.quality import dedup_report
from studio.quality.lsh import candidate_pairs, choose_bands
from studio.quality.minhash import MinHasher, estimate_jaccard, exact_jaccard
from studio.quality.normalize import normalize_text, normalized_key

PRESETS = {"web": 0.82, "books": 0.9, "code": 0.95}
"""Rules of thumb for the threshold (DOMAIN.md): no published source; published pipelines use 0.7-0.8."""
KEEP_CHOICES = ("first", "longest")
VERIFY_CHOICES = ("signature", "exact")

Progress = Callable[[float, str], None]


class DedupInputError(ValueError):
    """Some records cannot be compared (no text field, not a string, empty); every one is listed in `problems`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"{len(problems)} record{'s' * (len(problems) != 1)} cannot be compared: {shown}")


@dataclass(frozen=True)
class DedupSettings:
    """How duplicates are found and which record of a cluster stays."""

    field: str = "text"
    """The record field holding the text (chat records without it are compared by their turns' contents)."""
    shingle: int = 13
    """Characters per shingle; 13 is strict: editing ~3% of words drops Jaccard to ~0.85."""
    num_perm: int = 128
    """MinHash permutations (signature length); the estimate's standard error is sqrt(J(1 - J) / num_perm)."""
    bands: int = 32
    """LSH bands (ignored with auto_bands); bands x rows <= num_perm."""
    rows: int = 4
    """Signature values per band (ignored with auto_bands)."""
    auto_bands: bool = False
    """Choose bands and rows for the threshold (minimum of false-positive + false-negative areas)."""
    threshold: float = 0.8
    """Jaccard similarity at or above which two records are near duplicates."""
    keep: str = "first"
    """Which record of a cluster stays: "first" (input order) or "longest" (most characters; ties: first)."""
    verify: str = "signature"
    """How candidate pairs are checked: "signature" (the MinHash estimate) or "exact" (shingle-set Jaccard)."""
    sample_size: int = 1000
    """Kept records sampled to estimate the remaining duplicate rate (0: skip)."""
    max_bucket: int = 64
    """Buckets larger than this are verified against leaders instead of pair by pair."""
    seed: int = 1
    """Seed of the permutations and of the sample."""

    def __post_init__(self) -> None:
        checks = [
            ("field", isinstance(self.field, str) and self.field.strip() != "", "must name a field, e.g. 'text'"),
            ("shingle", _is_int(self.shingle) and 1 <= self.shingle <= 1000, "must be 1..1000 characters"),
            ("num_perm", _is_int(self.num_perm) and 1 <= self.num_perm <= 4096, "must be 1..4096"),
            ("threshold", isinstance(self.threshold, (int, float)) and 0 < self.threshold <= 1,
             "must be a Jaccard similarity in (0, 1]"),
            ("keep", self.keep in KEEP_CHOICES, f"must be one of {', '.join(KEEP_CHOICES)}"),
            ("verify", self.verify in VERIFY_CHOICES, f"must be one of {', '.join(VERIFY_CHOICES)}"),
            ("sample_size", _is_int(self.sample_size) and self.sample_size >= 0, "must be 0 or more"),
            ("max_bucket", _is_int(self.max_bucket) and self.max_bucket >= 2, "must be 2 or more"),
        ]
        if not self.auto_bands:
            checks += [("bands", _is_int(self.bands) and self.bands >= 1, "must be 1 or more"),
                       ("rows", _is_int(self.rows) and self.rows >= 1, "must be 1 or more")]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name}: {rule}, got {getattr(self, name)!r}")
        if self.auto_bands and self.threshold >= 1:
            raise ValueError("threshold: auto_bands needs a threshold below 1; set bands and rows for 1.0")
        if not self.auto_bands and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands: {self.bands} bands x {self.rows} rows = {self.bands * self.rows} exceeds "
                             f"num_perm {self.num_perm}; lower bands or rows, or raise num_perm")

    @classmethod
    def preset(cls, name: str, **changes) -> DedupSettings:
        """Settings with the threshold of a preset ("web", "books", "code") and any other changes."""
        if name not in PRESETS:
            raise ValueError(f"preset: {name!r} is not one of {', '.join(PRESETS)}")
        return cls(**{"threshold": PRESETS[name], **changes})

    def banding(self) -> tuple[int, int]:
        """(bands, rows) actually used."""
        return choose_bands(self.threshold, self.num_perm) if self.auto_bands else (self.bands, self.rows)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class DedupResult:
    kept: list[dict]
    removed: list[dict]
    """{"id", "duplicate_of", "reason", "similarity", "record"} per removed record, in input order."""
    report: dict = field(default_factory=dict)


def record_texts(records: Sequence[dict], field: str = "text") -> list[str]:
    """The text of every record, or DedupInputError naming every record that has none."""
    texts, problems = [], []
    for index, record in enumerate(records):
        try:
            texts.append(record_text(record, field, join_chat=True))
        except ValueError as exc:
            problems.append(f"{record_label(record, index)}: {exc}")
    if problems:
        raise DedupInputError(problems)
    return texts


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving: later finds are nearly O(1)
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Verifier:
    """Similarity of pairs of exact survivors (indices into `texts`): signature estimate or exact Jaccard."""

    signatures: np.ndarray
    texts: list[str]
    """Normalised texts, the ones the signatures were computed from."""
    hasher: MinHasher
    exact: bool = False
    _sets: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __call__(self, pairs: np.ndarray) -> np.ndarray:
        return self.exact_jaccard(pairs) if self.exact else self.estimate(pairs)

    def estimate(self, pairs: np.ndarray) -> np.ndarray:
        out = np.empty(len(pairs))
        for s in range(0, len(pairs), 65536):  # bounded temporaries: 64k pairs x num_perm values
            chunk = pairs[s:s + 65536]
            out[s:s + 65536] = estimate_jaccard(self.signatures[chunk[:, 0]], self.signatures[chunk[:, 1]])
        return out

    def exact_jaccard(self, pairs: np.ndarray) -> np.ndarray:
        """Exact Jaccard of the shingle sets; sets are computed once per text and kept for later pairs."""
        missing = [i for i in np.unique(pairs).tolist() if i not in self._sets]
        for s in range(0, len(missing), 2048):
            group = missing[s:s + 2048]
            self._sets.update(zip(group, self.hasher.shingle_sets([self.texts[i] for i in group])))
        return np.array([exact_jaccard(self._sets[a], self._sets[b]) for a, b in pairs.tolist()], dtype=float)


@dataclass
class NearPairs:
    """The near-duplicate phase's findings over the exact survivors (indices into the survivor list)."""

    pairs: np.ndarray
    """(m, 2) verified pairs."""
    similarity: np.ndarray
    """(m,) their similarity."""
    candidates: int
    """Candidate pairs checked (including leader checks in large buckets)."""
    verifier: Verifier


def _leaders(members: np.ndarray, verify: Verifier, threshold: float) -> tuple[list, list, int]:
    """Verified (leader, member) pairs of one large bucket, their similarities, and how many pairs were checked."""
    found, sims, checked = [], [], 0
    rest = members
    while len(rest) > 1:
        leader, others = rest[0], rest[1:]
        pairs = np.stack([np.full(len(others), leader), others], axis=1)
        sim = verify(pairs)
        checked += len(others)
        ok = sim >= threshold
        found.append(pairs[ok])
        sims.append(sim[ok])
        rest = others[~ok]
    return found, sims, checked


def _near_pairs(texts: list[str], settings: DedupSettings, progress: Progress, checkpoint: Callable[[], None]
                ) -> NearPairs:
    """Signatures, candidates and verification over the (normalised) texts of the exact survivors."""
    hasher = MinHasher(settings.num_perm, settings.shingle, settings.seed)
    sig = hasher.signatures(texts, lambda f, m: progress(0.15 + 0.65 * f, m), checkpoint)
    verify = Verifier(sig, texts, hasher, exact=settings.verify == "exact")
    checkpoint()
    bands, rows = settings.banding()
    progress(0.82, f"LSH: {bands} bands x {rows} rows")
    found = candidate_pairs(sig, bands, rows, settings.max_bucket)
    checkpoint()
    progress(0.86, f"verifying {len(found.pairs):,} candidate pairs")
    sim = verify(found.pairs)
    ok = sim >= settings.threshold
    pairs, sims, checked = [found.pairs[ok]], [sim[ok]], len(found.pairs)
    for members in found.large_buckets:
        checkpoint()
        more, more_sims, n = _leaders(members, verify, settings.threshold)
        pairs += more
        sims += more_sims
        checked += n
    return NearPairs(np.concatenate(pairs).reshape(-1, 2), np.concatenate(sims), checked, verify)


def _exact_groups(norm: list[str], lengths: list[int], keep: str) -> tuple[list[int], dict[int, int]]:
    """(survivors in input order, {exact duplicate: the survivor of its group})."""
    keys = [normalized_key(text) for text in norm]
    chosen: dict[str, int] = {}
    for i, key in enumerate(keys):
        j = chosen.setdefault(key, i)
        if j != i and keep == "longest" and lengths[i] > lengths[j]:
            chosen[key] = i
    exact_of = {i: chosen[key] for i, key in enumerate(keys) if chosen[key] != i}
    return sorted(chosen.values()), exact_of


def _normalise(texts: list[str], progress: Progress, checkpoint: Callable[[], None]) -> list[str]:
    norm: list[str] = []
    for s in range(0, len(texts), 10_000):
        checkpoint()
        norm += [normalize_text(t) for t in texts[s:s + 10_000]]
        progress(0.1 * len(norm) / len(texts), f"normalised {len(norm):,} of {len(texts):,} texts")
    return norm


def find_duplicates(records: Sequence[dict], settings: DedupSettings | None = None, *,
                    progress: Progress | None = None, cancel: CancelCheck | None = None) -> DedupResult:
    """Split records into kept and removed; see the module docstring. Raises DedupInputError for records without
    usable text (all listed), Cancelled when `cancel()` returns True."""
    settings = settings or DedupSettings()
    started = time.perf_counter()
    tell = progress or (lambda fraction, message: None)

    def checkpoint() -> None:
        if cancel is not None and cancel():
            raise Cancelled("deduplication cancelled; nothing was written")

    texts = record_texts(records, settings.field)
    ids = [record_id(record, index) for index, record in enumerate(records)]
    lengths = [len(t) for t in texts]
    norm = _normalise(texts, tell, checkpoint)
    survivors, exact_of = _exact_groups(norm, lengths, settings.keep)
    checkpoint()
    tell(0.15, f"{len(exact_of):,} exact duplicates; signatures of {len(survivors):,} texts")
    near = _near_pairs([norm[i] for i in survivors], settings, tell, checkpoint)
    checkpoint()
    tell(0.9, "clustering")
    result, kept_of, entries = _assemble(records, ids, survivors, exact_of, near, lengths, settings)
    tell(0.93, "estimating the remaining duplicate rate")
    result.report = dedup_report.build_report(ids, texts, result, kept_of, entries, survivors, near, settings,
                                              checkpoint)
    result.report["seconds"] = round(time.perf_counter() - started, 3)
    tell(1.0, f"{len(result.removed):,} of {len(records):,} records removed")
    return result


def _assemble(records: Sequence[dict], ids: list[str], survivors: list[int], exact_of: dict[int, int],
              near: NearPairs, lengths: list[int], settings: DedupSettings
              ) -> tuple[DedupResult, list[int], dict[int, dict]]:
    """Clusters over survivors and the kept record of each: the result (removed entries in input order), for every
    record the index of the record kept in its place (itself when kept), and {index: entry} of the removed."""
    uf = _UnionFind(len(survivors))
    for a, b in near.pairs.tolist():
        uf.union(a, b)
    best: dict[int, int] = {}  # cluster root -> survivor position kept
    for pos in range(len(survivors)):
        current = best.setdefault(uf.find(pos), pos)
        if settings.keep == "longest" and lengths[survivors[pos]] > lengths[survivors[current]]:
            best[uf.find(pos)] = pos
    kept_pos = [best[uf.find(pos)] for pos in range(len(survivors))]
    similarity = _kept_similarity(kept_pos, near)
    position = {index: pos for pos, index in enumerate(survivors)}
    kept_of, entries = [], {}
    for index, record in enumerate(records):
        pos = position[exact_of.get(index, index)]
        kept = survivors[kept_pos[pos]]
        kept_of.append(kept)
        if kept == index:
            continue
        near_removed = kept_pos[pos] != pos  # its exact group's survivor is itself a near duplicate
        entries[index] = {"id": ids[index], "duplicate_of": ids[kept],
                          "reason": "near" if near_removed else "exact",
                          "similarity": round(float(similarity[pos]), 4) if near_removed else 1.0,
                          "record": record}
    kept_records = [record for index, record in enumerate(records) if kept_of[index] == index]
    return DedupResult(kept_records, list(entries.values())), kept_of, entries


def _kept_similarity(kept_pos: list[int], near: NearPairs) -> dict[int, float]:
    """Similarity of every near-removed survivor to its cluster's kept one; verified pairs reuse their value, pairs
    joined only through a chain are measured now, the same way."""
    verified = {(a, b): s for (a, b), s in zip(near.pairs.tolist(), near.similarity.tolist())}
    out, todo = {}, []
    for pos, kept in enumerate(kept_pos):
        if pos != kept:
            pair = (min(pos, kept), max(pos, kept))
            if pair in verified:
                out[pos] = verified[pair]
            else:
                todo.append((pos, pair))
    if todo:
        sims = near.verifier(np.array([pair for _, pair in todo], dtype=np.int64))
        out.update({pos: float(s) for (pos, _), s in zip(todo, sims)})
    return out
