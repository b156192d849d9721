"""Views of quality reports for the Quality tab: pure functions, no Gradio."""

from __future__ import annotations

import html
from collections.abc import Sequence

from studio.ui.diff_html import mark_differences

CLUSTERS_SHOWN = 5
DEDUP_FLAG_COLUMNS = ["remove", "id", "reason", "duplicate_of", "similarity"]
PPL_FLAG_COLUMNS = ["remove", "id", "reason", "perplexity", "bucket", "tokens"]


def dedup_summary_markdown(report: dict) -> str:
    remaining = report["remaining_duplicates"]
    low, high = remaining["interval_95"]
    curve = report["s_curve"]
    return (f"**{report['documents']}** records · **{report['exact_duplicates']}** exact and "
            f"**{report['near_duplicates']}** near duplicates · **{report['share_removed']:.1%}** removed · "
            f"{report['clusters']} clusters\n\n"
            f"{report['verified_pairs']} of {report['candidate_pairs']} candidate pairs verified at Jaccard ≥ "
            f"{curve['threshold']} ({curve['bands']} bands × {curve['rows']} rows, S-curve midpoint "
            f"{curve['midpoint']:.2f}) · estimated remaining duplicate rate **{remaining['rate']:.1%}** (95% "
            f"{low:.1%}–{high:.1%}, {remaining['sampled']} kept records sampled)")


def clusters_html(clusters: Sequence[dict], limit: int = CLUSTERS_SHOWN, chars: int = 600) -> str:
    """The largest clusters, members side by side, differences from the kept record marked."""
    if not clusters:
        return "<p>No duplicate clusters.</p>"
    blocks = []
    for cluster in clusters[:limit]:
        members = cluster["members"]
        kept = next((m for m in members if m["kept"]), members[0])
        columns = []
        for member in members:
            text = member["text"][:chars]
            body = html.escape(text) if member is kept else mark_differences(kept["text"][:chars], text)
            label = "kept" if member is kept else f"{member['reason']} · {member['similarity']:.2f}"
            columns.append(f"<div style='flex:1;min-width:0;border:1px solid #e5e7eb;padding:6px;white-space:pre-wrap;"
                           f"font-size:0.85em'><b>{html.escape(member['id'])}</b> ({label})<br>{body}</div>")
        blocks.append(f"<div class='dup-cluster' style='display:flex;gap:8px;margin:8px 0'>{''.join(columns)}</div>")
    return "".join(blocks)


def dedup_flag_rows(removed: Sequence[dict]) -> list[list]:
    return [[True, r["id"], r["reason"], r.get("duplicate_of", ""), round(r.get("similarity", 1.0), 3)]
            for r in removed]


def unflagged_ids(rows) -> list[str]:
    """Ids whose 'remove' box the person cleared, from the flag table's current value."""
    values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    return [str(row[1]) for row in values if row and not _truthy(row[0])]


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")
