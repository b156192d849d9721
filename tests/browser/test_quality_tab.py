"""The Quality tab in a real browser: duplicates and perplexity on the bundled corpus, flags applied as a version."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MANIFEST = "studio/assets/samples/patents_manifest.json"


def test_dedup_and_perplexity_flag_the_planted_records_and_apply(studio_server, page):
    manifest = json.load(open(MANIFEST, encoding="utf-8"))
    page.goto(studio_server["url"], wait_until="domcontentloaded")
    page.get_by_role("tab", name="Quality").click()

    page.locator("#dedup-run").click()
    summary = page.locator("#dedup-summary")
    expect(summary).to_contain_text("2 exact and 3 near duplicates", timeout=60_000)
    flags = page.locator("#dedup-flags")
    expect(flags).to_contain_text("exact")
    expect(flags).to_contain_text("near")
    expect(page.locator("#dedup-clusters mark").first).to_be_visible()  # differing characters highlighted

    page.get_by_role("tab", name="Perplexity").click()
    # 46 documents in 5 length buckets per language leave no 2% tail; one bucket and 7% flag the worst few.
    page.get_by_label("Length buckets (per language)").fill("1")
    page.get_by_label("Flag top fraction (noise)").fill("0.07")
    page.get_by_label("Window (tokens)").fill("256")
    page.locator("#ppl-run").click()
    expect(page.locator("#ppl-summary")).to_contain_text("flagged high", timeout=240_000)
    for noisy in manifest["noisy"]:
        expect(page.locator("#ppl-flags")).to_contain_text(noisy["id"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quality-tab.png"), full_page=True)

    page.locator("#quality-apply").click()
    applied = page.locator("#quality-applied")
    expect(applied).to_contain_text("Saved sample-patents@v", timeout=30_000)
    version = studio_server["workspace"] / "datasets" / "sample-patents"
    newest = sorted(version.iterdir())[-1]
    removed = [json.loads(line) for line in (newest / "removed.jsonl").open(encoding="utf-8")]
    reasons = {r["id"]: r["reason"] for r in removed}
    assert {n["id"] for n in manifest["noisy"]} <= set(reasons)
    # "keep first" keeps whichever twin comes first in the file: exactly one of each planted pair goes.
    pairs = [(d["id"], d["duplicate_of"]) for d in manifest["exact_duplicates"]] + [
        (d["id"], d["near_of"]) for d in manifest["near_duplicates"]]
    deduped = {rid for rid, reason in reasons.items() if reason in ("exact", "near")}
    assert all(len({a, b} & deduped) == 1 for a, b in pairs), reasons
    assert json.loads((newest / "meta.json").read_text(encoding="utf-8"))["parent"] == "bundled:patents"
    assert page.js_errors == []
