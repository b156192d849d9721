"""The Compare tab in a real browser with a run that finishes after the page opened, as on a user's first day.

The app starts on an empty workspace, the page opens, then a real two-step run of the demo recipe trains (the
worker, as the Train tab starts it). The page is never reloaded and no "Refresh" button is pressed: Export offers
the new adapter, "Open in Compare" lands on the side-by-side panes with it beside base, and a prompt sent without
opening "System prompt and sampling" is answered in both panes — no error toast, no traceback in the server log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, ROOT, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "compare-tab"
RUN_NAME = "compare-follow"


def two_step_recipe(folder):
    recipe = yaml.safe_load((ROOT / "recipes" / "cpu-demo.yaml").read_text(encoding="utf-8"))
    # Two small steps and no evaluation: the run exists to save a real adapter, not to learn.
    recipe["name"], recipe["duration"]["max_steps"] = RUN_NAME, 2
    recipe["data"]["eval_split"], recipe["batch"]["per_device_batch_size"] = 0.0, 2
    path = folder / "two-steps.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def wait_until_finished(workspace, worker: subprocess.Popen, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for status in (workspace / "runs").glob(f"*-{RUN_NAME}/status.json"):
            if json.loads(status.read_text(encoding="utf-8")).get("state") == "finished":
                return status.parent.name
        assert worker.poll() in (None, 0), f"the worker exited with {worker.returncode}"
        time.sleep(0.5)
    pytest.fail(f"the run did not finish in {timeout_s:.0f} s")


def test_compare_follows_a_run_saved_after_the_page_opened(tmp_path, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with running_app(workspace) as server:
        worker = subprocess.Popen([sys.executable, "-m", "studio", "train", str(two_step_recipe(tmp_path)),
                                   "--workspace", str(workspace), "--no-echo"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.STDOUT)
        try:
            page.goto(server["url"], wait_until="domcontentloaded")
            page.get_by_role("tab", name="Compare").click()
            page.get_by_role("tab", name="Export").click()
            page.locator("#export-report").click()  # nothing to export yet: said in words
            expect(page.locator(".toast-body")).to_contain_text("No adapter in this workspace yet", timeout=30_000)
            page.locator(".toast-close").first.click()
            expect(page.locator(".toast-body")).to_have_count(0)
            page.get_by_role("tab", name="Data").click()
            run_id = wait_until_finished(workspace, worker)
        finally:
            worker.wait(timeout=60)

        page.get_by_role("tab", name="Compare").click()  # shown again: the lists follow the workspace
        expect(page.locator("#export-pick input")).to_have_value(run_id, timeout=30_000)
        page.screenshot(path=str(SHOTS / "1-export-follows.png"), full_page=True)

        page.get_by_role("tab", name="Train").click()
        expect(page.locator("#train-run-select input")).to_have_value(run_id, timeout=30_000)
        page.locator("#train-compare").click()
        expect(page.get_by_role("tab", name="Compare", exact=True)).to_have_attribute("aria-selected", "true",
                                                                                      timeout=30_000)
        expect(page.get_by_role("tab", name="Side by side")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#cmp-model-0 input")).to_have_value("base")
        expect(page.locator("#cmp-model-1 input")).to_have_value(run_id)
        message = page.locator("#train-message").inner_text()
        words = message.replace(str(workspace), "").lower()  # pytest's folder names hold "test"
        assert run_id in message and not any(w in words for w in ("issue", "#7", "test")), message

        page.locator("#cmp-prompt textarea").fill("明天早上7点叫醒我")  # the sampling panel stays closed
        page.locator("#cmp-send").click()
        for pane in (0, 1):
            expect(page.locator(f"#cmp-stats-{pane}")).to_contain_text("tok/s", timeout=120_000)
        expect(page.locator("#cmp-chat-1")).to_contain_text("明天早上7点叫醒我")
        page.screenshot(path=str(SHOTS / "2-side-by-side.png"), full_page=True)
        assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
        log = server["log"].read_text(encoding="utf-8", errors="replace")
    context.close()
    assert "Traceback" not in log, log[-3000:]
    assert errors == []
