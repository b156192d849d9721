"""HTML and table views of prepared data for the Data tab: pure functions, no Gradio."""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import groupby

from studio.data.ingest import FileReport, IngestIssue
from studio.data.templates import EncodedExample
from studio.ui.i18n import tr

TABLE_COLUMNS = ["id", "n_tokens", "text", "source"]
FILE_COLUMNS = ["file", "encoding", "format", "records", "skipped", "mapping"]
ISSUE_COLUMNS = ["severity", "file", "where", "message"]


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
    if summary.get("chat_examples"):
        parts.append(tr("**{n}** chat examples (kept whole, not chunked)", n=summary["chat_examples"]))
    if "truncated_share" in summary:
        parts.append(tr("{share:.1%} of records would be truncated at max length {max_length}",
                        share=summary["truncated_share"], max_length=summary["max_length"]))
    if summary.get("issues"):
        parts.append(tr("⚠ {n} issues listed below: nothing was dropped silently", n=summary["issues"]))
    return "\n\n".join(parts)


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


def table_page(records: Sequence[dict], query: str = "", page: int = 1, page_size: int = 50
               ) -> tuple[list[list], int, int]:
    """One page of rows matching `query` (in id or text), the page shown and the number of pages."""
    needle = query.strip().lower()
    matches = [r for r in records if not needle or needle in r.get("id", "").lower()
               or needle in _text_of(r).lower()]
    pages = max(1, -(-len(matches) // page_size))
    page = min(max(1, int(page or 1)), pages)
    chunk = matches[(page - 1) * page_size: page * page_size]
    return [[r.get("id", ""), r.get("n_tokens", ""), _text_of(r), r.get("source", "")] for r in chunk], page, pages


def _text_of(record: dict) -> str:
    if "text" in record:
        return record["text"]
    return " ⏎ ".join(f"{m['role']}: {m['content']}" for m in record.get("messages", []))


def document_tree_html(fragments: Sequence[dict], doc: str) -> str:
    """document → section → paragraph → fragments, with the text each fragment repeats from its predecessor marked."""
    mine = [f for f in fragments if f["doc"] == doc]
    if not mine:
        return f"<p>{html.escape(tr('No fragments for this document.'))}</p>"
    repeated = tr("repeated from the previous fragment")
    out = [f"<div class='doc-tree'><h4>{html.escape(doc)}</h4>"]
    for section, in_section in groupby(mine, key=lambda f: f["section"]):
        out.append(f"<details open><summary>{html.escape(tr('section {n}', n=section))}</summary>")
        for paragraph, in_paragraph in groupby(in_section, key=lambda f: f["paragraph"]):
            out.append(f"<details open style='margin-left:1em'><summary>{html.escape(tr('paragraph {n}', n=paragraph))}"
                       "</summary>")
            previous = None
            for frag in in_paragraph:
                shared = max(0, previous["end"] - frag["start"]) if previous else 0
                body = (f"<mark title='{html.escape(repeated, quote=True)}'>{html.escape(frag['text'][:shared])}"
                        f"</mark>{html.escape(frag['text'][shared:])}")
                out.append(f"<div class='fragment' style='margin:0.3em 0 0.3em 2em'><code>{html.escape(frag['id'])}"
                           f"</code> · {html.escape(tr('{n} tokens', n=frag['n_tokens']))}<br>{body}</div>")
                previous = frag
            out.append("</details>")
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
