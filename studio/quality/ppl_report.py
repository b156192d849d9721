"""The perplexity report: scores bucketed by language and length, tails flagged, records split into kept and removed.

Pure functions shared by `python -m studio ppl` and the Quality tab, so both write the same report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from studio.quality.buckets import BucketReport, BucketSettings, Scored, assign_buckets
from studio.quality.ppl_encode import UNSCORED_REASONS, is_chat

REASONS = {"high": "ppl_high", "low": "ppl_low"}


def bucket_scores(records: Sequence[dict], scores: Sequence, settings: BucketSettings) -> BucketReport:
    """Buckets of the scored records, by language when records carry a `lang` string, and by kind (chat or text)
    when both occur."""
    items = []
    for score in scores:
        record = records[score.index]
        lang = record.get("lang")
        items.append(Scored(score.id, score.n_tokens, score.ppl, lang if isinstance(lang, str) and lang else None,
                            "chat" if is_chat(record) else "text"))
    return assign_buckets(items, settings)


def unscored_by_reason(issues: Sequence) -> dict[str, int]:
    """How many records were not scored, per reason code (ppl_encode.UNSCORED_REASONS), in that order."""
    counts = Counter(issue.code for issue in issues)
    return {code: counts[code] for code in (*UNSCORED_REASONS, *sorted(counts)) if counts.get(code)}


def chat_summary(records: Sequence[dict], result) -> dict:
    """Which tokens of a chat were scored, and how many chat and text records were scored."""
    chats = sum(is_chat(records[s.index]) for s in result.scores)
    return {"tokens": result.chat_tokens, "template": "the reference tokenizer's chat template, as training renders "
            "chats", "chat_records_scored": chats, "text_records_scored": len(result.scores) - chats}


def build_report(records: Sequence[dict], result, buckets: BucketReport, meta: dict) -> dict:
    """The report as written to REPORT.json; `result` is a perplexity.ScoreResult."""
    per_record = {s.id: {"ppl": s.ppl, "nll_sum": s.nll_sum, "n_tokens": s.n_tokens,
                         "bucket": buckets.bucket_of.get(s.id), "flagged": buckets.flagged.get(s.id)}
                  for s in result.scores}
    per_record.update({i.id: {"ppl": None, "nll_sum": None, "n_tokens": None, "bucket": None, "flagged": None,
                              "issue": i.message, "issue_code": i.code} for i in result.issues})  # every record
    ppl = {s.id: s.ppl for s in result.scores}
    flagged = [{"id": rid, "tail": tail, "ppl": ppl[rid], "bucket": b.label}
               for b in buckets.buckets for tail, ids in (("high", b.high), ("low", b.low)) for rid in ids]
    settings = buckets.settings
    return {
        **meta,
        "window": {"max_length": result.max_length, "stride": result.stride},
        "chat": chat_summary(records, result),
        "settings": {"buckets": settings.buckets, "trim_high": settings.trim_high, "trim_low": settings.trim_low,
                     "tail_count": "floor(fraction x bucket size + 0.5)",
                     "grouping": _grouping(buckets)},
        "counts": {"records": len(records), "scored": len(result.scores), "unscored": len(result.issues),
                   "unscored_by_reason": unscored_by_reason(result.issues),
                   "flagged_high": sum(len(b.high) for b in buckets.buckets),
                   "flagged_low": sum(len(b.low) for b in buckets.buckets)},
        "edges": buckets.edges,
        "buckets": [{"bucket": b.label, "kind": b.kind, "lang": b.key[0], "length_bucket": b.key[1],
                     "min_tokens": b.min_tokens, "max_tokens": b.max_tokens, "records": len(b.ids),
                     "flagged_high": len(b.high), "flagged_low": len(b.low), "high_threshold": b.high_threshold,
                     "low_threshold": b.low_threshold, "median_ppl": b.median_ppl} for b in buckets.buckets],
        "flagged": flagged,
        "unscored": [{"id": i.id, "code": i.code, "message": i.message} for i in result.issues],
        "records": per_record,
        "timing": {"seconds": round(result.seconds, 3), "tokens": result.tokens,
                   "forward_tokens": result.forward_tokens, "tokens_per_second": round(result.tokens_per_second, 1)},
    }


def _grouping(buckets: BucketReport) -> str:
    parts = [name for name, present in (("kind (chat or text)", any(b.kind for b in buckets.buckets)),
                                        ("language", any(b.key[0] for b in buckets.buckets))) if present]
    return ", then ".join([*parts, "length"])


def split_records(records: Sequence[dict], report: dict) -> tuple[list[dict], list[dict]]:
    """(kept, removed) by the report's flags; pass a report whose "flagged" list a person has edited to un-flag."""
    flagged = {f["id"]: f for f in report["flagged"]}
    kept, removed = [], []
    for record in records:
        flag = flagged.get(str(record.get("id")))
        if flag is None:
            kept.append(record)
            continue
        info = report["records"][flag["id"]]
        removed.append({"id": flag["id"], "reason": REASONS[flag["tail"]], "perplexity": info["ppl"],
                        "bucket": info["bucket"], "n_tokens": info["n_tokens"], "record": record})
    return kept, removed
