"""The running app in a real browser: five tabs in order, the device header, a recipe checked on screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, ROOT

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
    expect(verdict).to_contain_text("effective batch 8", timeout=10_000)  # cpu-demo: 8 × 1 × 1
    accumulation = page.locator("#field-batch-gradient_accumulation_steps input")
    accumulation.fill("4")
    accumulation.press("Tab")
    expect(verdict).to_contain_text("effective batch 32")
    # 396 examples, 10% eval -> 356 train; ceil(356 / 32) = 12 steps per epoch, 8 epochs -> 96 steps.
    expect(page.locator("#recipe-steps")).to_contain_text("12 steps per epoch")
    expect(page.locator("#recipe-steps")).to_contain_text("96 steps in all")
    expect(page.locator("#recipe-lr .js-plotly-plot")).to_be_visible()
    memory = page.locator("#recipe-memory")
    expect(memory).to_contain_text("Trains on the CPU")  # no GPU here: sized against this machine's RAM
    expect(page.locator("#recipe-vram .js-plotly-plot")).to_be_visible()
    before = memory.inner_text()
    batch = page.locator("#field-batch-per_device_batch_size input")
    batch.fill("64")
    batch.press("Tab")
    expect(verdict).to_contain_text("effective batch 256")
    expect(memory).not_to_have_text(before)  # a bigger micro-batch moves the estimate
    page.locator("#recipe-budget-run").click()
    expect(page.locator("#recipe-budget")).to_contain_text("396 examples", timeout=30_000)
    expect(page.locator("#recipe-budget")).to_contain_text("with packing")
    rate = page.locator("#field-optim-learning_rate input")
    rate.fill("-1")
    rate.press("Tab")
    expect(verdict).to_contain_text("optim.learning_rate")  # the field is named, not a stack trace
    rate.fill("0.002")
    rate.press("Tab")
    expect(verdict).to_contain_text("Valid")
    expect(page.locator("#recipe-command")).to_contain_text("python -m studio train recipes/cpu-demo.yaml")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Upload and download of recipe files.
    upload = ARTIFACTS / "uploaded-recipe.yaml"
    upload.write_text("name: uploaded\nbatch:\n  per_device_batch_size: 3\n", encoding="utf-8")
    with page.expect_file_chooser() as chooser:
        page.locator("#recipe-upload").click()
    chooser.value.set_files(str(upload))
    expect(verdict).to_contain_text("effective batch 12", timeout=30_000)  # 3 per device × 4 accumulation
    page.get_by_label("Save as (file name in recipes/)").fill("browser-test-recipe")
    page.locator("#recipe-save").click()
    saved = ROOT / "recipes" / "browser-test-recipe.yaml"
    try:
        expect(page.locator("#recipe-download")).to_be_visible(timeout=20_000)
        with page.expect_download() as download:
            page.locator("#recipe-download").click()
        assert "per_device_batch_size: 3" in open(download.value.path(), encoding="utf-8").read()
    finally:
        saved.unlink(missing_ok=True)

    shot = ARTIFACTS / "studio-configure.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page.js_errors == []
    print(f"first HTTP 200 after {studio_server['startup_s']:.1f} s; screenshot {shot}")
