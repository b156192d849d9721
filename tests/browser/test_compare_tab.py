"""The Compare tab in a real browser: base and a freshly trained adapter answer side by side, then a blind vote."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SYSTEM = "Parse the request into JSON with intent and slots."


def train_adapter(workspace, tmp_path) -> str:
    """A short real LoRA run of the CPU demo recipe, written into the app's workspace; returns the run id."""
    recipe = yaml.safe_load((ROOT / "recipes" / "cpu-demo.yaml").read_text(encoding="utf-8"))
    recipe.update(name="compare-test", duration={"max_steps": 80})
    recipe["checkpoint"].update(save_steps=40, eval_steps=40)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "studio", "train", str(path), "--workspace", str(workspace)], cwd=ROOT,
                   check=True, timeout=600, capture_output=True)
    return next(p.name for p in (workspace / "runs").iterdir() if p.name.endswith("compare-test"))


def choose(page, dropdown: str, value: str) -> None:
    """Pick a dropdown value by typing it (option lists of other dropdowns may still be in the page)."""
    box = page.locator(f"{dropdown} input")
    box.click()
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(value)


def test_base_and_adapter_side_by_side_then_a_blind_vote(studio_server, page, tmp_path):
    run_id = train_adapter(studio_server["workspace"], tmp_path)
    prompt = json.loads((ROOT / "studio/assets/samples/intent_eval.jsonl").open(encoding="utf-8").readline())["prompt"]
    page.goto(studio_server["url"], wait_until="domcontentloaded")
    page.get_by_role("tab", name="Compare").click()
    page.locator("#cmp-refresh").click()
    for pane, model in ((0, "base"), (1, run_id)):
        choose(page, f"#cmp-model-{pane}", model)
    page.get_by_text("System prompt and sampling", exact=False).click()
    page.get_by_label("System prompt", exact=True).fill(SYSTEM)
    page.get_by_label("Max new tokens").first.fill("48")  # the base rambles until the limit: keep it short
    page.locator("#cmp-prompt textarea").fill(prompt)
    page.locator("#cmp-send").click()
    expect(page.locator("#cmp-stats-1")).to_contain_text("tok/s", timeout=180_000)
    expect(page.locator("#cmp-diff-1")).not_to_be_empty(timeout=60_000)
    answers = [page.locator(f"#cmp-chat-{i} .message.bot, #cmp-chat-{i} [data-testid=bot]").last.inner_text()
               for i in (0, 1)]
    assert answers[0].strip() != answers[1].strip()
    assert "intent" in answers[1]  # the adapter learned the JSON answer shape
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare-tab.png"), full_page=True)

    page.get_by_role("tab", name="Blind A/B").click()
    page.locator("#ab-refresh, button:has-text('Refresh adapter list')").last.click()
    for picker_id, model in (("#ab-first", "base"), ("#ab-second", run_id)):
        choose(page, picker_id, model)
    page.locator("#ab-system textarea, #ab-system input").first.fill(SYSTEM)
    page.locator("#ab-max-new input").fill("48")
    page.locator("#ab-prompt textarea").fill(prompt)
    page.locator("#ab-generate").click()
    expect(page.locator("#ab-message")).to_contain_text("Vote", timeout=180_000)
    assert run_id not in page.locator("#ab-message").inner_text()  # labels stay hidden until the vote
    page.locator("#ab-vote-A").click()
    expect(page.locator("#ab-message")).to_contain_text("A was", timeout=30_000)
    expect(page.locator("#ab-tally")).to_contain_text(run_id)
    votes = (studio_server["workspace"] / "votes" / "votes.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(votes) == 1 and json.loads(votes[0])["choice"] == "A"
    assert page.js_errors == []
