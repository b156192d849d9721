"""The header's language switch in a real browser: every tab title changes, the choice survives a reload and a
restart of the app (it is stored in the workspace), and switching back restores English."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, running_app

pytestmark = pytest.mark.browser

ENGLISH_TABS = ["Data", "Quality", "Configure", "Train", "Compare"]
CHINESE_TABS = ["数据", "质量", "配置", "训练", "对比"]
# A switch re-labels some 220 components and then re-runs the tabs' readouts; with other work on the same cores
# that takes seconds, more than expect()'s default of 5.
SWITCH_MS = 30_000


def tab_titles(page) -> list[str]:
    return page.locator("#studio-tabs [role=tablist]").first.get_by_role("tab").all_inner_texts()


def first_tab(page):
    return page.locator("#studio-tabs [role=tablist]").first.get_by_role("tab").first


def open_studio(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#studio-header").wait_for(timeout=30_000)


def test_language_switches_and_is_remembered(tmp_path, browser):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with running_app(workspace) as server:
        open_studio(page, server["url"])
        assert tab_titles(page) == ENGLISH_TABS
        page.locator("#studio-language").get_by_text("中文").click()
        expect(first_tab(page)).to_have_text("数据", timeout=SWITCH_MS)
        assert tab_titles(page) == CHINESE_TABS
        expect(page.locator("#studio-header")).to_contain_text("工作区", timeout=SWITCH_MS)
        page.get_by_role("tab", name="配置").click()
        expect(page.locator("#recipe-verdict")).to_contain_text("有效批量", timeout=SWITCH_MS)
        assert json.loads((workspace / "settings.json").read_text(encoding="utf-8"))["language"] == "zh"

        open_studio(page, server["url"])  # a reload opens in the language last chosen
        expect(first_tab(page)).to_have_text("数据", timeout=SWITCH_MS)
        expect(page.locator("#studio-language input[value=zh]")).to_be_checked()
    with running_app(workspace) as server:  # and so does a restart of the app on the same workspace
        open_studio(page, server["url"])
        expect(first_tab(page)).to_have_text("数据", timeout=SWITCH_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.get_by_role("tab", name="配置").click()
        # What handlers made at build time (in English) is made again in Chinese when the page opens.
        expect(page.locator("#recipe-verdict")).to_contain_text("有效批量", timeout=SWITCH_MS)
        expect(page.locator("#recipe-lr .js-plotly-plot")).to_be_visible(timeout=SWITCH_MS)
        page.screenshot(path=str(ARTIFACTS / "configure-zh.png"))
        page.locator("#studio-language").get_by_text("English").click()
        expect(first_tab(page)).to_have_text("Data", timeout=SWITCH_MS)
        assert tab_titles(page) == ENGLISH_TABS
        expect(page.locator("#recipe-verdict")).to_contain_text("effective batch", timeout=SWITCH_MS)
    context.close()
    assert errors == []
