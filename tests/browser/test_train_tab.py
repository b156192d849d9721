"""The Train tab in a real browser: launch the Configure tab's recipe, watch it train, stop, resume, stop, delete.

Timeouts are generous: the tiny demo model takes 1-2 s per step on two CPU cores that other jobs share.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUN_NAME = "ui-train-test"


def set_field(page, field: str, value: str) -> None:
    control = page.locator(f"#field-{field} input, #field-{field} textarea").first
    control.fill(value)
    control.press("Tab")


def shown_step(page) -> int:
    return int(page.locator("#train-step").inner_text())


def wait_for_step_above(page, step: int, timeout_ms: int) -> None:
    page.wait_for_function("s => Number(document.querySelector('#train-step')?.textContent) > s", arg=step,
                           timeout=timeout_ms)


def test_launch_watch_stop_resume_and_delete_a_run(studio_server, page):
    page.goto(studio_server["url"], wait_until="domcontentloaded")
    page.get_by_role("tab", name="Configure").click()
    verdict = page.locator("#recipe-verdict")
    expect(verdict).to_contain_text("Valid", timeout=30_000)  # cpu-demo is loaded
    # A short run of the loaded recipe: many points quickly, never finishing before the test stops it.
    set_field(page, "name", RUN_NAME)
    for section in ("Duration", "Checkpoints and evaluation"):  # closed accordions render their fields on opening
        page.get_by_text(section, exact=True).click()
    set_field(page, "duration-max_steps", "200")
    set_field(page, "checkpoint-logging_steps", "2")
    set_field(page, "optim-learning_rate", "-1")
    expect(verdict).to_contain_text("optim.learning_rate")

    page.get_by_role("tab", name="Train").click()
    message = page.locator("#train-message")
    page.locator("#train-launch").click()
    expect(message).to_contain_text("Not launched", timeout=30_000)
    expect(message).to_contain_text("optim.learning_rate")  # the field is named

    page.get_by_role("tab", name="Configure").click()
    set_field(page, "optim-learning_rate", "0.002")
    expect(verdict).to_contain_text("Valid")
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-launch").click()
    expect(message).to_contain_text("Launched", timeout=30_000)
    expect(page.locator("#train-run-select input")).to_have_value(re.compile(RUN_NAME), timeout=10_000)

    state = page.locator("#train-state")
    expect(state).to_have_text("starting: loading model…", timeout=30_000)  # from the launch on, not a blank
    expect(state).to_have_text("running", timeout=180_000)
    wait_for_step_above(page, 3, 120_000)
    expect(page.locator("#train-runs")).to_contain_text("/ 200", timeout=30_000)
    loss_traces = page.locator("#train-loss-plot .scatterlayer .trace")
    expect(loss_traces.first).to_be_attached(timeout=30_000)
    assert loss_traces.count() >= 2  # raw and smoothed train loss (eval loss once evaluated)

    page.locator("#train-stop").click()
    expect(message).to_contain_text(re.compile("stopping|stopped at step"), timeout=30_000)
    expect(state).to_have_text("stopped", timeout=120_000)
    stopped_at = shown_step(page)
    expect(message).to_contain_text(f"stopped at step {stopped_at}", timeout=30_000)  # the end, not "stopping"
    assert stopped_at > 3

    # Nothing lives in the page: a reload finds the run as it is on disk.
    page.reload(wait_until="domcontentloaded")
    page.get_by_role("tab", name="Train").click()
    expect(page.locator("#train-state")).to_have_text("stopped", timeout=30_000)
    expect(page.locator("#train-checkpoint input")).to_have_value("latest", timeout=10_000)

    page.locator("#train-resume").click()
    expect(message).to_contain_text("resuming from latest", timeout=30_000)
    expect(state).to_have_text("starting: loading model…", timeout=30_000)
    expect(state).to_have_text("running", timeout=180_000)
    wait_for_step_above(page, stopped_at, 180_000)
    expect(page.locator("#train-loss-plot")).to_contain_text(f"resumed at {stopped_at}", timeout=30_000)
    page.locator("#train-stop").click()
    expect(state).to_have_text("stopped", timeout=120_000)
    expect(page.locator("#train-log textarea")).to_have_value(re.compile("stopped at step"), timeout=30_000)
    page.locator("#train-report").click()
    expect(message).to_contain_text("created at", timeout=60_000)
    expect(page.locator("#train-report-download")).to_be_visible()
    page.locator("#train-compare").click()  # lands on Compare with the run's adapter beside base
    expect(message).to_contain_text("/adapter")
    expect(page.locator("#cmp-model-1 input")).to_have_value(re.compile(RUN_NAME), timeout=30_000)
    page.get_by_role("tab", name="Train").click()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train-tab.png"), full_page=True)

    # Issue #5's ETA: the Configure tab now knows this model's measured throughput.
    page.get_by_role("tab", name="Configure").click()
    page.get_by_text("Duration", exact=True).click()  # closed again since the reload
    set_field(page, "duration-max_steps", "100")
    expect(page.locator("#recipe-steps")).to_contain_text("measured by run", timeout=30_000)
    expect(page.locator("#recipe-steps")).to_contain_text("ETA ≈")
    page.get_by_role("tab", name="Train").click()

    page.locator("#train-delete").click()
    expect(message).to_contain_text("confirm delete")  # a first click without confirming deletes nothing
    assert len(list((studio_server["workspace"] / "runs").glob(f"*{RUN_NAME}*"))) == 1
    page.locator("#train-delete-confirm input").check()
    page.locator("#train-delete").click()
    expect(message).to_contain_text("Deleted", timeout=30_000)
    assert not list((studio_server["workspace"] / "runs").glob(f"*{RUN_NAME}*"))
    assert page.js_errors == []
