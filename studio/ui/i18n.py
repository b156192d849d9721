"""English and Chinese for everything the UI shows, switchable in the header and remembered in the workspace.

The English text is the message id (gettext style): code keeps plain English literals, `studio/ui/locales/zh.json`
maps each to its Chinese. Two ways text reaches the screen:

- Component text set when the tabs are built (labels, help, placeholders, button and Markdown text, tab titles,
  choice labels, table headers) is collected by `Translator.register` after the app is built; switching language
  sends one update per component. Markdown that handlers rewrite is left to those handlers.
- Text made by handlers (messages, status, alerts, table columns) goes through `tr(...)` at call time, which reads
  the current language.

The language is one setting of the workspace (`settings.json`), not of a browser session: a studio has one user,
and a restart or a second tab opens in the language last chosen.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from studio.workspace import Workspace, atomic_write_text

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).with_name("locales")
SETTINGS_FILE = "settings.json"

# Text that is code, not prose, stays as it is in every language: recipe field paths (`lora.r`), file names,
# numbers and symbols.
_VERBATIM = re.compile(r"^(?:[a-z0-9_]+(?:\.[a-z0-9_]+)+|[\W\d_]*|[\w.-]+\.(?:yaml|jsonl?|csv|html|zip|png))$")
# Properties of a component that hold text a person reads.
_TEXT_PROPS = ("label", "info", "placeholder")
_VALUE_TEXT = (gr.Button, gr.DownloadButton, gr.UploadButton, gr.Markdown)

_current = {"lang": DEFAULT_LANGUAGE}
# Handlers a tab asks to re-run after a switch, so text they made re-renders in the new language (set while the
# app is built; `build_app` clears it first).
_refreshers: list[tuple] = []


def refresh_on_switch(fn, inputs: list | None = None, outputs: list | None = None) -> None:
    """Re-run `fn(inputs) -> outputs` after each language switch (a tab's handler that writes text)."""
    _refreshers.append((fn, inputs or [], outputs or []))


def take_refreshers() -> list[tuple]:
    taken = list(_refreshers)
    _refreshers.clear()
    return taken


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """English text → text in `lang` (English maps to itself)."""
    if lang == DEFAULT_LANGUAGE:
        return {}
    path = LOCALES_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def needs_translation(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip()) and not _VERBATIM.match(text.strip())


def translate(text: str, lang: str) -> str:
    """`text` in `lang`; text the catalogue lacks shows in English rather than not at all (a test keeps it full)."""
    if lang == DEFAULT_LANGUAGE or not needs_translation(text):
        return text
    return catalogue(lang).get(text, text)


def current_language() -> str:
    return _current["lang"]


def tr(text: str, **values) -> str:
    """`text` in the current language, with `{name}` fields filled from `values` after translation."""
    out = translate(text, _current["lang"])
    return out.format(**values) if values else out


def table(columns: Iterable[str], rows: list):
    """A Dataframe update with its column names in the current language: a bare list of rows would be shown under
    the headers the table was built with, which are English."""
    return gr.update(value=rows, headers=[tr(c) for c in columns])


def rows_of(value) -> list[list]:
    """The rows of a Dataframe's value as a handler receives it (a pandas DataFrame), less all-blank ones."""
    rows = value.values.tolist() if hasattr(value, "values") else list(value or [])
    return [row for row in rows if any(cell not in ("", None) for cell in row)]


def retitle_on_switch(block, columns: list[str]) -> None:
    """Re-send a table's rows under `columns` in the new language after a switch: the page shows the column names
    that came with the table's value, so a header update alone leaves them as they were."""
    refresh_on_switch(lambda value: table(columns, rows_of(value)), [block], [block])


def read_language(ws: Workspace) -> str:
    try:
        lang = json.loads((ws.root / SETTINGS_FILE).read_text(encoding="utf-8")).get("language")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def use_language(lang: str) -> str:
    _current["lang"] = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return _current["lang"]


def save_language(ws: Workspace, lang: str) -> str:
    """Make `lang` current and remember it in the workspace, keeping any other settings stored there."""
    lang = use_language(lang)
    path = ws.root / SETTINGS_FILE
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
        settings = settings if isinstance(settings, dict) else {}
    except (OSError, ValueError):
        settings = {}
    settings["language"] = lang
    atomic_write_text(path, json.dumps(settings, ensure_ascii=False, indent=2) + "\n")
    return lang


def names_kept_current(block):
    """Mark a list whose choices are names a handler keeps current (runs, adapters, data sets): a language switch
    translates its label but never sends its choices, which would be the list as built — stale, and Gradio then
    refuses the value shown as "not in the list of choices"."""
    block.studio_names_kept_current = True
    return block


def _choice_labels(block) -> list[tuple[str, object]] | None:
    if getattr(block, "studio_names_kept_current", False):
        return None
    choices = getattr(block, "choices", None)
    if not choices or not isinstance(choices, list):
        return None
    pairs = [tuple(c) if isinstance(c, (list, tuple)) else (c, c) for c in choices]
    return pairs if any(needs_translation(label) for label, _ in pairs) else None


def _headers(block) -> list[str] | None:
    if not isinstance(block, gr.Dataframe):
        return None
    headers = getattr(block, "headers", None)
    return list(headers) if headers and any(needs_translation(h) for h in headers) else None


@dataclass
class Entry:
    """One component and the English text of each of its translatable properties, as built."""

    block: object
    texts: dict[str, str] = field(default_factory=dict)
    choices: list[tuple[str, object]] | None = None
    headers: list[str] | None = None

    def update(self, lang: str):
        kwargs: dict = {prop: translate(text, lang) for prop, text in self.texts.items()}
        if self.choices is not None:
            kwargs["choices"] = [(translate(str(label), lang), value) for label, value in self.choices]
        if self.headers is not None:
            kwargs["headers"] = [translate(h, lang) for h in self.headers]
        if isinstance(self.block, (gr.Tab, gr.Accordion)):
            return type(self.block)(**kwargs)
        return gr.update(**kwargs)

    def strings(self) -> list[str]:
        found = list(self.texts.values())
        found += [str(label) for label, _ in self.choices or []]
        found += list(self.headers or [])
        return [s for s in found if needs_translation(s)]


def handler_outputs(demo: gr.Blocks) -> set[int]:
    """Ids of the blocks some event or language-switch refresher writes to: their text belongs to the handler, not
    to the build."""
    ids = set()
    for fn in demo.fns.values():
        ids.update(getattr(block, "_id", None) for block in fn.outputs)
    for _, _, outputs in _refreshers:  # wired after the collection, so not among demo.fns yet
        ids.update(getattr(block, "_id", None) for block in outputs)
    return ids


def collect(demo: gr.Blocks, skip: Iterable = ()) -> list[Entry]:
    """Every block of `demo` with text a person reads, with that text as built (in English)."""
    written = handler_outputs(demo)
    skipped = {id(b) for b in skip}
    entries = []
    for block in demo.blocks.values():
        if id(block) in skipped:
            continue
        entry = Entry(block)
        for prop in _TEXT_PROPS:
            text = getattr(block, prop, None)
            if needs_translation(text):
                entry.texts[prop] = text
        value = getattr(block, "value", None)
        if isinstance(block, _VALUE_TEXT) and needs_translation(value) and (
                not isinstance(block, gr.Markdown) or block._id not in written):
            entry.texts["value"] = value
        entry.choices = _choice_labels(block)
        entry.headers = _headers(block)
        if entry.texts or entry.choices or entry.headers:
            entries.append(entry)
    return entries


@dataclass
class Translator:
    """The app's translatable components; `updates(lang)` is what a language switch sends to the page."""

    entries: list[Entry]

    @property
    def outputs(self) -> list:
        return [e.block for e in self.entries]

    def updates(self, lang: str) -> list:
        return [e.update(lang) for e in self.entries]

    def strings(self) -> set[str]:
        return {s for e in self.entries for s in e.strings()}


def missing(strings: Iterable[str], lang: str = "zh") -> list[str]:
    """Strings the `lang` catalogue lacks (sorted), for the completeness test and `python -m studio.ui.i18n`."""
    table = catalogue(lang)
    return sorted({s for s in strings if needs_translation(s) and not table.get(s, "").strip()})
