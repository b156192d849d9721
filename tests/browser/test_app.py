"""The running app in a real browser: five tabs in order, the device header, a recipe checked on screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

TABS = ["Data", "Quality", "Configure", "Train", "Compare"]


def test_app_shows_five_tabs_and_the_device_header(studio_server, page):
    page.goto(studio_server["url"], wait_until="domcontentloaded")
    header = page.locator("#studio-header")
    header.wait_for(timeout=30_000)
    text = header.inner_text()
    assert "CPU only" in text
    assert str(studio_server["workspace"]) in text
    assert "bundled:demo-model" in text

    tabs = page.locator("#studio-tabs [role=tablist]").first.get_by_role("tab")  # nested tabs live further down
    assert tabs.all_inner_texts() == TABS

    page.get_by_role("tab", name="Configure").click()
    verdict = page.locator("#recipe-verdict")
    verdict.get_by_text("Valid").wait_for(timeout=10_000)
    assert "method" in verdict.inner_text()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "studio-configure.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page.js_errors == []
    print(f"first HTTP 200 after {studio_server['startup_s']:.1f} s; screenshot {shot}")
