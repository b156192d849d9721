"""HTML and table views of prepared data for the Data tab: pure functions, no Gradio."""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import groupby

from studio.data.fragment_stats import SHORT_REASONS
from studio.data.ingest import FileReport, IngestIssue
from studio.data.templates import EncodedExample
from studio.ui.i18n import tr

TABLE_COLUMNS = ["id", "n_tokens", "text", "source"]
# The text gets most of the width, wrapped; ids and sources wrap in theirs (percentages of the table's width).
TABLE_WIDTHS = ["19%", "7%", "56%", "18%"]
# What the rendered view can be narrowed to: every record, the chat examples, or the text fragments.
RECORD_KINDS = [("all records", "all"), ("chat examples", "chat"), ("text fragments", "text")]
FILE_COLUMNS = ["file", "encoding", "format", "records", "skipped", "mapping"]
ISSUE_COLUMNS = ["severity", "file", "where", "message"]
ISSUE_WIDTHS = ["9%", "18%", "11%", "62%"]


def summary_markdown(summary: dict) -> str:
    if not summary:
        return ""
    parts = [tr("**{files}** files · **{records}** records · format {formats} · encoding {encodings}",
                files=summary["files"], records=summary["records"], formats=", ".join(summary["formats"]) or "—",
                encodings=", ".join(summary["encodings"]) or "—")]
    if summary.get("fragments"):
        parts.append(tr("**{documents}** documents → **{fragments}** fragments · {tokens:,} tokens · mean "
                        "{mean:.0f} · p50 {p50:.0f} · p95 {p95:.0f} · max {max}", documents=summary["documents"],
                        fragments=summary["fragments"], tokens=summary["total_tokens"], mean=summary["mean_tokens"],
                        p50=summary["p50_tokens"], p95=summary["p95_tokens"], max=summary["max_tokens"]))
    short = summary.get("short_fragments") or {}
    if short.get("count"):
        parts.append(short_fragments_markdown(short))
    if summary.get("chat_examples"):
        parts.append(tr("**{n}** chat examples (kept whole, not chunked)", n=summary["chat_examples"]))
    if "truncated_share" in summary:
        parts.append(tr("{share:.1%} of records would be truncated at max length {max_length}",
                        share=summary["truncated_share"], max_length=summary["max_length"]))
    if summary.get("issues"):
        parts.append(tr("⚠ {n} issues listed below: nothing was dropped silently", n=summary["issues"]))
    return "\n\n".join(parts)


def short_fragments_markdown(short: dict) -> str:
    """How many fragments are under the minimum and why, one line per reason (see studio.data.fragment_stats)."""
    head = tr("**{n}** fragments hold fewer than the minimum of {min} tokens:", n=short["count"], min=short["below"])
    lines = [f"- {n}: {tr(SHORT_REASONS[code])}" for code, n in short["reasons"].items()]
    return "\n".join([head, *lines])


def file_rows(files: Sequence[FileReport]) -> list[list]:
    """One row per file: what was detected and which source field fed each of ours."""
    return [[f.file, f.encoding, f.format, f.records, f.skipped,
             ", ".join(f"{ours}←{theirs}" for ours, theirs in f.mapping.items())] for f in files]


def cleanup_markdown(reports: dict[str, dict]) -> str:
    """What each chat clean-up option changed, with before → after examples."""
    blocks = []
    for option, report in reports.items():
        # The option names ("filler words", …) come from studio.data.fragments and are in the catalogue.
        head = (tr("**{option}**: {records} records, {turns} turns changed", option=tr(option),
                   records=report["changed_records"], turns=report["changed_turns"])
                + (tr(", {n} still too long", n=report["still_too_long"]) if report.get("still_too_long") else ""))
        examples = "\n".join(f"- `{before}` → `{after}`" for before, after in report.get("examples", []))
        blocks.append(f"{head}\n\n{examples}" if examples else head)
    return "\n\n".join(blocks)


def issue_rows(issues: Sequence[IngestIssue]) -> list[list[str]]:
    """One row per issue; the severity is translated, the message is the reader's own (English)."""
    return [[tr(i.severity), i.file, i.where, i.message] for i in issues]


def matching(records: Sequence[dict], query: str = "", kind: str = "all") -> list[dict]:
    """The records whose id or text contains `query` (any case), of one kind ("chat", "text" or "all"); a query
    that is exactly a record's id picks that record alone."""
    if kind in ("chat", "text"):
        records = [r for r in records if ("messages" in r) == (kind == "chat")]
    needle = query.strip()
    exact = [r for r in records if needle and str(r.get("id", "")) == needle]
    if exact:
        return exact
    needle = needle.lower()
    return [r for r in records if not needle or needle in str(r.get("id", "")).lower()
            or needle in _text_of(r).lower()]


def source_of(record: dict) -> str:
    """Where a record comes from: its source, with the file line a fragment starts on when that is known."""
    source = record.get("source") or ""
    return f"{source}:{record['line']}" if source and "line" in record else source


def table_page(records: Sequence[dict], query: str = "", page: int = 1, page_size: int = 50
               ) -> tuple[list[list], int, int]:
    """One page of rows matching `query` (in id or text), the page shown and the number of pages."""
    matches = matching(records, query)
    pages = max(1, -(-len(matches) // page_size))
    page = min(max(1, int(page or 1)), pages)
    chunk = matches[(page - 1) * page_size: page * page_size]
    return [[r.get("id", ""), r.get("n_tokens", ""), _text_of(r), source_of(r)] for r in chunk], page, pages


def pick_record(records: Sequence[dict], query: str = "", kind: str = "all", position: int = 1
                ) -> tuple[dict | None, int, int]:
    """The record at `position` (1-based, kept within range) among those `matching` the query and kind, that
    position, and how many match."""
    matches = matching(records, query, kind)
    if not matches:
        return None, 0, 0
    position = min(max(1, int(position or 1)), len(matches))
    return matches[position - 1], position, len(matches)


def _text_of(record: dict) -> str:
    if "text" in record:
        return record["text"]
    return " ⏎ ".join(f"{m['role']}: {m['content']}" for m in record.get("messages", []))


def document_tree_html(fragments: Sequence[dict], doc: str) -> str:
    """document → section → fragments (each starting in the paragraph its id names), with the text each fragment
    repeats from the one before it in its section marked."""
    mine = [f for f in fragments if f["doc"] == doc]
    if not mine:
        return f"<p>{html.escape(tr('No fragments for this document.'))}</p>"
    repeated = tr("repeated from the previous fragment")
    out = [f"<div class='doc-tree'><h4>{html.escape(doc)}</h4>"]
    for section, in_section in groupby(mine, key=lambda f: f["section"]):
        out.append(f"<details open><summary>{html.escape(tr('section {n}', n=section))}</summary>")
        previous = None
        for frag in in_section:
            shared = max(0, previous["end"] - frag["start"]) if previous else 0
            body = (f"<mark title='{html.escape(repeated, quote=True)}'>{html.escape(frag['text'][:shared])}"
                    f"</mark>{html.escape(frag['text'][shared:])}")
            where = tr("paragraph {n}", n=frag["paragraph"]) + (f" · {source_of(frag)}" if "line" in frag else "")
            out.append(f"<div class='fragment' style='margin:0.3em 0 0.3em 1.5em;white-space:pre-wrap'><code>"
                       f"{html.escape(frag['id'])}</code> · {html.escape(tr('{n} tokens', n=frag['n_tokens']))} · "
                       f"{html.escape(where)}<br>{body}</div>")
            previous = frag
        out.append("</details>")
    out.append("</div>")
    return "".join(out)


def readable_pieces(tokenizer, ids: Sequence[int], mask: Sequence[int]) -> list[tuple[str, int]]:
    """Consecutive tokens grouped until they decode to whole characters, with the mask of the group's first token.

    Byte-level BPE splits one CJK character over several tokens; decoded alone each would show as U+FFFD.
    """
    pieces, buffer, learned = [], [], 0
    for token_id, flag in zip(ids, mask):
        if not buffer:
            learned = flag
        buffer.append(token_id)
        text = tokenizer.decode(buffer)
        if not text.endswith("\ufffd") or len(buffer) >= 8:
            pieces.append((text, learned))
            buffer = []
    if buffer:
        pieces.append((tokenizer.decode(buffer), learned))
    return pieces


def rendered_example_html(tokenizer, example: EncodedExample, title: str) -> str:
    """The example piece by piece: text that carries loss on green, context greyed."""
    spans = []
    for text, learned in readable_pieces(tokenizer, example.input_ids, example.loss_mask):
        piece = html.escape(text).replace("\n", "↵<br>")
        style = "background:#bbf7d0" if learned else "color:#6b7280;background:#f3f4f6"
        spans.append(f"<span style='{style};border-right:1px solid #fff'>{piece}</span>")
    learned = sum(example.loss_mask)
    note = " · " + tr("truncated") if example.truncated else ""
    counts = tr("{n} tokens, {learned} with loss", n=example.n_tokens, learned=learned)
    return (f"<div class='rendered'><p><code>{html.escape(title)}</code> · {html.escape(counts + note)}</p>"
            f"<div style='font-family:monospace;line-height:1.8'>{''.join(spans)}</div></div>")
