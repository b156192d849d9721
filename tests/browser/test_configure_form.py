"""The Configure form in Chromium as a person edits it: fields in closed sections, an optional number left unset, a
refused value, and the workspace's data sets offered in the list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from studio.data.versions import save_version
from studio.workspace import Workspace

pytestmark = pytest.mark.browser


def total_steps(page) -> int:
    return int(re.search(r"(\d+) steps in all", page.locator("#recipe-steps").inner_text())[1])


def test_epochs_move_the_steps_and_a_refused_batch_is_named(studio_server, page):
    log = studio_server["log"]
    tracebacks = log.read_text(errors="replace").count("Traceback")
    save_version(Workspace.open(studio_server["workspace"]), "form-test", [{"text": "a line"}], operation="upload",
                 parameters={})
    page.goto(studio_server["url"], wait_until="domcontentloaded")
    page.get_by_role("tab", name="Configure").click()
    verdict = page.locator("#recipe-verdict")
    expect(verdict).to_contain_text("Valid", timeout=30_000)
    expect(page.locator("#recipe-steps")).to_contain_text("steps in all")
    before = total_steps(page)  # cpu-demo: 8 epochs

    # Duration is closed when the page opens: its max-steps box is first drawn now, and must stay unset.
    page.locator("#section-duration").get_by_text("Duration", exact=True).click()
    max_steps = page.locator("#field-duration-max_steps input, #field-duration-max_steps textarea").first
    expect(max_steps).to_have_value("")
    epochs = page.locator("#field-duration-epochs input")
    epochs.fill("10")
    epochs.press("Tab")
    expect(page.locator("#recipe-steps")).to_contain_text(f"{before // 8 * 10} steps in all", timeout=30_000)
    expect(verdict).to_contain_text("Valid")

    batch = page.locator("#field-batch-per_device_batch_size input")
    batch.fill("0")
    batch.press("Tab")
    expect(verdict).to_contain_text("Per-device batch (batch.per_device_batch_size): must be >= 1", timeout=30_000)
    expect(verdict).not_to_contain_text("Valid")

    # The data-set list holds the version saved above (the tab re-reads the workspace when shown).
    page.locator("#section-data").get_by_text("Data", exact=True).click()
    page.locator("#field-data-dataset input").first.click()
    expect(page.get_by_role("option", name="form-test@v1")).to_be_visible(timeout=10_000)

    assert page.locator(".toast-body").count() == 0
    assert log.read_text(errors="replace").count("Traceback") == tracebacks
    assert page.js_errors == []
