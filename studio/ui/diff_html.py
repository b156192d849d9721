"""Text differences as HTML: the parts of one text that differ from another, marked. Pure; no Gradio.

Character-level, so it works the same for Chinese (no spaces between words) and English. Used by the Quality tab
(near-duplicate clusters) and the Compare tab (answers against the first pane).
"""

from __future__ import annotations

import difflib
import html


def mark_differences(base: str, other: str) -> str:
    """`other` as escaped HTML with the characters that differ from `base` in <mark>."""
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    parts = []
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        piece = html.escape(other[j1:j2])
        parts.append(piece if tag == "equal" else f"<mark>{piece}</mark>")
    return "".join(parts) or "<em>(empty)</em>"
