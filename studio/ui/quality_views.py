"""Views of quality reports for the Quality tab: pure functions, no Gradio."""

from __future__ import annotations

import html
from collections.abc import Sequence

from studio.ui.diff_html import mark_differences
from studio.ui import i18n
from studio.ui.i18n import tr

CLUSTERS_SHOWN = 5
DEDUP_FLAG_COLUMNS = ["remove", "id", "reason", "duplicate_of", "similarity"]
PPL_FLAG_COLUMNS = ["remove", "id", "reason", "perplexity", "bucket", "tokens"]
# What a removal's reason code reads as; the report files keep the code. ("exact" alone would collide with the
# "exact" of the verification choices, which means something else.)
REASONS = {"exact": "exact duplicate", "near": "near duplicate", "ppl_high": "perplexity too high",
           "ppl_low": "perplexity too low"}


# Why a record was not scored, by the core's reason code (studio.quality.ppl_encode.UNSCORED_REASONS).
UNSCORED = {"not_a_record": "not a record", "no_field": "no text field", "not_text": "the text field is not text",
            "empty": "empty text", "too_long": "too long to score (chunk it first)",
            "bad_chat": "not a list of chat turns", "no_chat_template": "the reference model has no chat template",
            "template_error": "the chat template refused the conversation",
            "no_assistant_tokens": "no assistant tokens to score", "too_short": "too short to score",
            "not_finite": "the model's loss is not finite"}


def reason_text(code: str) -> str:
    return tr(REASONS.get(code, code))


def reworded(rows: list[list]) -> list[list]:
    """A flag table's rows with the reason (third column) worded again in the current language, after a switch."""
    codes = {i18n.translate(text, lang): code for code, text in REASONS.items() for lang in i18n.LANGUAGES}
    return [[*row[:2], reason_text(codes.get(row[2], row[2])), *row[3:]] for row in rows]


def dedup_summary_markdown(report: dict) -> str:
    remaining = report["remaining_duplicates"]
    low, high = remaining["interval_95"]
    curve = report["s_curve"]
    return (tr("**{records}** records · **{exact}** exact and **{near}** near duplicates · **{removed:.1%}** "
               "removed · {clusters} clusters", records=report["documents"], exact=report["exact_duplicates"],
               near=report["near_duplicates"], removed=report["share_removed"], clusters=report["clusters"])
            + "\n\n"
            + tr("{verified} of {candidates} candidate pairs verified at Jaccard ≥ {threshold} ({bands} bands × "
                 "{rows} rows, S-curve midpoint {midpoint:.2f}) · estimated remaining duplicate rate **{rate:.1%}** "
                 "(95% {low:.1%}–{high:.1%}, {sampled} kept records sampled)", verified=report["verified_pairs"],
                 candidates=report["candidate_pairs"], threshold=curve["threshold"], bands=curve["bands"],
                 rows=curve["rows"], midpoint=curve["midpoint"], rate=remaining["rate"], low=low, high=high,
                 sampled=remaining["sampled"]))


def clusters_html(clusters: Sequence[dict], limit: int = CLUSTERS_SHOWN, chars: int = 600) -> str:
    """The largest clusters, members side by side, differences from the kept record marked."""
    if not clusters:
        return f"<p>{html.escape(tr('No duplicate clusters.'))}</p>"
    blocks = []
    for cluster in clusters[:limit]:
        members = cluster["members"]
        kept = next((m for m in members if m["kept"]), members[0])
        columns = []
        for member in members:
            text = member["text"][:chars]
            body = html.escape(text) if member is kept else mark_differences(kept["text"][:chars], text)
            label = html.escape(tr("kept") if member is kept else
                                f"{reason_text(member['reason'])} · {member['similarity']:.2f}")
            columns.append(f"<div style='flex:1;min-width:0;border:1px solid #e5e7eb;padding:6px;white-space:pre-wrap;"
                           f"font-size:0.85em'><b>{html.escape(member['id'])}</b> ({label})<br>{body}</div>")
        blocks.append(f"<div class='dup-cluster' style='display:flex;gap:8px;margin:8px 0'>{''.join(columns)}</div>")
    return "".join(blocks)


def dedup_flag_rows(removed: Sequence[dict]) -> list[list]:
    return [[True, r["id"], reason_text(r["reason"]), r.get("duplicate_of", ""), round(r.get("similarity", 1.0), 3)]
            for r in removed]


def unflagged_ids(rows) -> list[str]:
    """Ids whose 'remove' box the person cleared, from the flag table's current value."""
    values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    return [str(row[1]) for row in values if row and not _truthy(row[0])]


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def unscored_markdown(by_reason: dict[str, int]) -> str:
    """"**3** not scored (kept in the data set): 2 × empty text; 1 × ..." from the report's counts per reason."""
    total = sum(by_reason.values())
    if not total:
        return ""
    reasons = "; ".join(f"{count} × {tr(UNSCORED.get(code, code))}" for code, count in by_reason.items())
    return tr("**{n}** not scored (kept in the data set, listed in the report): {reasons}", n=total, reasons=reasons)


def chat_markdown(chat: dict) -> str:
    """Which tokens of the chat records were scored, from the report's "chat" section ("" without chats)."""
    n = chat.get("chat_records_scored", 0)
    if not n:
        return ""
    if chat.get("tokens") == "conversation":
        return tr("{n} chat records scored on the whole conversation, as the chat template renders it for training",
                  n=n)
    return tr("{n} chat records scored on their assistant turns, each in the context of the conversation before "
              "it, as the chat template renders it for training", n=n)


def ppl_summary_markdown(report: dict) -> str:
    """The perplexity run in a few lines: scored and flagged, how chats were scored, what was not scored and why."""
    counts, timing = report["counts"], report["timing"]
    head = tr("**{scored}** records scored in {seconds:.1f} s ({speed:,.0f} tokens/s) · **{high}** flagged high "
              "(noise) · **{low}** flagged low (boilerplate, copies) · {buckets} buckets", scored=counts["scored"],
              seconds=timing["seconds"], speed=timing["tokens_per_second"], high=counts["flagged_high"],
              low=counts["flagged_low"], buckets=len(report["buckets"]))
    extra = [chat_markdown(report.get("chat") or {}), unscored_markdown(counts.get("unscored_by_reason") or {})]
    return "\n\n".join([head, *(part for part in extra if part)])
