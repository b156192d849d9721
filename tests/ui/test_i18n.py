"""Every text of the UI exists in English and Chinese, and switching language changes what the page is sent."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import gradio as gr
import pytest

from studio.config import DEMO_MODEL
from studio.device import detect_device
from studio.ui import i18n
from studio.ui.app import StudioContext, build_app
from studio.workspace import Workspace

UI_DIR = Path(i18n.__file__).parent


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    ws = Workspace.open(tmp_path_factory.mktemp("ws"))
    demo = build_app(StudioContext(ws, DEMO_MODEL, detect_device()))
    yield ws, demo
    i18n.use_language(i18n.DEFAULT_LANGUAGE)


def tr_literals() -> dict[str, str]:
    """Every literal passed to `tr(...)` under studio/ui, with where it is (file:line)."""
    found = {}
    for path in sorted(UI_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = f"{path.name}:{node.lineno}"
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_component_text_has_chinese(app):
    _, demo = app
    strings = demo.translator.strings()
    assert len(strings) > 200  # the walk found the tabs' labels, not just the header
    assert i18n.missing(strings) == []


def test_every_message_made_by_handlers_has_chinese():
    literals = tr_literals()
    assert len(literals) > 20
    lacking = [f"{where}: {text!r}" for text, where in literals.items() if text in i18n.missing([text])]
    assert lacking == []


def test_catalogue_entries_are_complete_and_keep_their_fields():
    table = json.loads((UI_DIR / "locales" / "zh.json").read_text(encoding="utf-8"))
    empty = [en for en, zh in table.items() if not en.strip() or not isinstance(zh, str) or not zh.strip()]
    assert empty == []
    # A Chinese text must fill the same {fields} as its English one, or tr(..., name=value) raises or drops a value.
    broken = [en for en, zh in table.items() if fields(en) != fields(zh)]
    assert broken == []
    # Markdown emphasis and code spans must survive translation (a lost ` or ** garbles the message).
    marks = [en for en, zh in table.items() if en.count("`") != zh.count("`") or en.count("**") != zh.count("**")]
    assert marks == []


def test_a_missing_translation_is_found(monkeypatch):
    # The check above can fail: a string the catalogue lacks is reported, and falls back to English on screen.
    assert i18n.missing(["A sentence nobody translated"]) == ["A sentence nobody translated"]
    monkeypatch.setitem(i18n._current, "lang", "zh")
    assert i18n.tr("A sentence nobody translated") == "A sentence nobody translated"
    assert i18n.tr("Train") == "训练"


def test_switching_sends_chinese_to_every_component_and_is_saved(app):
    ws, demo = app
    translator = demo.translator
    updates = translator.updates("zh")
    assert len(updates) == len(translator.entries)
    tab_titles = {e.block.label: u for e, u in zip(translator.entries, updates) if isinstance(e.block, gr.Tab)}
    assert tab_titles["Train"].label == "训练"
    assert tab_titles["Compare"].label == "对比"
    english = translator.updates("en")
    assert all(u.get("label", "") in ("", e.texts.get("label")) for e, u in zip(translator.entries, english)
               if isinstance(u, dict))
    assert i18n.save_language(ws, "zh") == "zh"
    assert i18n.read_language(ws) == "zh" and i18n.tr("Data") == "数据"
    assert i18n.save_language(ws, "klingon") == "en"  # unknown codes fall back, the file stays valid
    assert json.loads((ws.root / "settings.json").read_text(encoding="utf-8")) == {"language": "en"}


def test_code_stays_verbatim():
    for text in ("lora.r", "data.dataset", "recipe.yaml", "0.8", "—"):
        assert not i18n.needs_translation(text)
    assert re.search(r"[\u4e00-\u9fff]", i18n.translate("Compare", "zh"))
