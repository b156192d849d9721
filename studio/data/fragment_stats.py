"""Figures of a set of fragments, as the Data tab shows them and `python -m studio chunk` prints them: counts, token
statistics, and every fragment under the minimum counted by why it is short.

Chunking (`studio.data.chunking`) keeps every fragment at `min_tokens` or more unless the text does not allow it;
the reason can be read off the fragments alone, so it is worked out here rather than stored in each record.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

# Why a fragment holds fewer tokens than the minimum, most common first. The English text is the message id of
# the UI's catalogue and what the CLI prints.
SHORT_REASONS = {
    "short_document": "the whole document is that short",
    "short_section": "the whole section (a heading and the text under it) is that short",
    "section_end": "the end of a section that could not be shared out with the fragment before it",
    "cut_short": "the window could not be filled (the minimum is close to the maximum)",
}


def _percentile(ordered: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on an ascending list."""
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def short_reason(in_document: int, in_section: int, last_of_section: bool) -> str:
    """The SHORT_REASONS code of a fragment under the minimum, given how many fragments its document and its section
    gave and whether it is the section's last."""
    if in_document == 1:
        return "short_document"
    if in_section == 1:
        return "short_section"
    return "section_end" if last_of_section else "cut_short"


def short_fragments(fragments: list[dict], min_tokens: int) -> dict:
    """{"below": min_tokens, "count": n, "reasons": {code: n}} for the fragments under `min_tokens`, codes in
    SHORT_REASONS order, only those that occur."""
    per_doc = Counter(f["doc"] for f in fragments)
    per_section = Counter((f["doc"], f["section"]) for f in fragments)
    last = {(f["doc"], f["section"]): f["fragment"] for f in fragments}
    reasons = Counter(
        short_reason(per_doc[f["doc"]], per_section[(f["doc"], f["section"])],
                     last[(f["doc"], f["section"])] == f["fragment"])
        for f in fragments if f["n_tokens"] < min_tokens)
    ordered = {code: reasons[code] for code in SHORT_REASONS if reasons[code]}
    return {"below": min_tokens, "count": sum(ordered.values()), "reasons": ordered}


def short_fragments_lines(short: dict) -> list[str]:
    """The count of fragments under the minimum and its reasons, in English, for the command line."""
    if not short.get("count"):
        return []
    return [f"{short['count']} fragments hold fewer than the minimum of {short['below']} tokens:",
            *(f"  {n}: {SHORT_REASONS[code]} ({code})" for code, n in short["reasons"].items())]


def summarize_fragments(fragments: Iterable[dict], min_tokens: int | None = None) -> dict:
    """Counts and token statistics of fragments; with `min_tokens`, also `short_fragments` (see above)."""
    fragments = list(fragments)
    sizes = sorted(f["n_tokens"] for f in fragments)
    summary = {"documents": len({f["doc"] for f in fragments}),
               "sections": len({(f["doc"], f["section"]) for f in fragments}), "fragments": len(sizes),
               "total_tokens": sum(sizes)}
    if not sizes:
        summary.update(mean_tokens=0.0, p50_tokens=0.0, p95_tokens=0.0, min_tokens=0, max_tokens=0)
    else:
        summary.update(mean_tokens=round(sum(sizes) / len(sizes), 1), p50_tokens=round(_percentile(sizes, 0.5), 1),
                       p95_tokens=round(_percentile(sizes, 0.95), 1), min_tokens=sizes[0], max_tokens=sizes[-1])
    if min_tokens is not None:
        summary["short_fragments"] = short_fragments(fragments, min_tokens)
    return summary
