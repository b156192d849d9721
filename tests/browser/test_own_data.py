"""A new user's first hour, in one browser session on a fresh workspace, with data written at test time.

The upload (tests/browser/own_data.py) mixes a ShareGPT JSON export, a GBK CSV and a long Markdown guide. The user
walks every tab in order and touches the controls a user touches first, leaving optional panels closed: chunk,
save, find duplicates, score perplexity, apply, Configure (pick the data set from the list, change epochs, batch
and rank), train, stop, resume, Open in Compare, side by side, a blind vote, the report.

The test fails on any error notice in the page, any traceback in the server's log, any count that two places show
differently, and any record that is neither trained nor dropped with a reason. Screenshots of each step go to
test-artifacts/own-data/, the seconds per step to its timings.txt.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, running_app
from tests.browser.flow_steps import Steps, choose, set_field
from tests.browser.own_data import write_upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "own-data"
RUN_NAME = "own-data"
# Error notices vanish after a while: the page keeps a copy of each one's text as it appears.
RECORD_NOTICES = """
window.__notices = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.toast-body')) {
    if (el.dataset.seen) continue;
    el.dataset.seen = '1';
    window.__notices.push((el.className.includes('error') ? 'error: ' : 'notice: ') + el.innerText);
  }
}).observe(document, {childList: true, subtree: true});
"""


def count_lines(path: Path) -> int:
    return sum(1 for line in path.open(encoding="utf-8") if line.strip())


def number_in(text: str, pattern: str) -> int:
    found = re.search(pattern, text.replace("**", "").replace(",", ""))
    assert found, f"{pattern!r} not in {text!r}"
    return int(found[1])


def read_status(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text(encoding="utf-8"))


def wait_for_state(run_dir: Path, states: set[str], timeout_s: float = 600) -> dict:
    deadline = time.monotonic() + timeout_s
    while (status := read_status(run_dir) if (run_dir / "status.json").exists() else {}).get("state") not in states:
        assert time.monotonic() < deadline, status
        time.sleep(1)
    return status


def chunk_and_save(page, steps: Steps, upload: list[Path], workspace: Path) -> int:
    page.locator("#data-upload input[type=file]").set_input_files([str(p) for p in upload])
    expect(page.locator("#data-upload")).to_contain_text("handbook", timeout=30_000)
    page.locator("#data-run").click()
    summary = page.locator("#data-summary")
    expect(summary).to_contain_text("documents →", timeout=120_000)
    files = page.locator("#data-files")
    for name, fmt, encoding in (("客服对话.json", "sharegpt", "utf-8"), ("faq-gbk.csv", "alpaca", "gb18030")):
        expect(files.get_by_role("row", name=re.compile(re.escape(name)))).to_contain_text(f"{encoding} {fmt}")
    # Every record of the upload is read: 26 conversations (two repeated), 20 CSV rows, the guide as one document.
    assert number_in(summary.inner_text(), r"(\d+) records") == 26 + 20 + 1
    page.get_by_label("Dataset name").fill("shop")
    page.locator("#data-save").click()
    expect(page.locator("#data-saved")).to_contain_text("Saved shop@v1", timeout=30_000)
    saved = count_lines(workspace / "datasets/shop/v1/data.jsonl")
    assert number_in(page.locator("#data-saved").inner_text(), r"\((\d+) records\)") == saved
    steps.done("chunked")
    return saved


def clean(page, steps: Steps, workspace: Path, v1_records: int) -> int:
    page.get_by_role("tab", name="Quality").click()
    # The version saved a moment ago is offered without pressing "Refresh list".
    choose(page, "#quality-source", "shop@v1")
    page.locator("#dedup-run").click()
    summary = page.locator("#dedup-summary")
    expect(summary).to_contain_text("near duplicates", timeout=120_000)
    assert number_in(summary.inner_text(), r"(\d+) exact") >= 2  # the export's two repeated conversations
    steps.done("dedup")

    page.get_by_role("tab", name="Perplexity").click()
    page.locator("#ppl-run").click()
    ppl = page.locator("#ppl-summary")
    expect(ppl).to_contain_text("flagged high", timeout=300_000)
    report = json.loads((workspace / "reports/shop/v1/ppl.json").read_text(encoding="utf-8"))
    # Chat and instruction records are scored too: nothing here is unscoreable.
    assert report["counts"]["scored"] == v1_records, report["counts"]
    steps.done("perplexity")

    page.locator("#quality-apply").click()
    applied = page.locator("#quality-applied")
    expect(applied).to_contain_text("Saved shop@v2", timeout=60_000)
    v2 = workspace / "datasets/shop/v2"
    kept, removed = count_lines(v2 / "data.jsonl"), count_lines(v2 / "removed.jsonl")
    assert kept + removed == v1_records and removed >= 2
    steps.done("applied")
    return kept


def configure(page, steps: Steps, examples: int) -> None:
    page.get_by_role("tab", name="Configure").click()
    verdict = page.locator("#recipe-verdict")
    expect(verdict).to_contain_text("Valid", timeout=30_000)
    set_field(page, "name", RUN_NAME)
    page.locator("#section-data").get_by_text("Data", exact=True).click()
    # The data set comes from the workspace's list, the version just applied among them.
    choose(page, "#field-data-dataset", "shop@v2")
    # Chats, instructions and document fragments together do not fit the recipe's chat-only format: the form says
    # how many records would not train, and a mixed format takes them all.
    expect(verdict).to_contain_text("data.format", timeout=30_000)
    choose(page, "#field-data-format", "auto")
    expect(verdict).to_contain_text("Valid", timeout=30_000)
    page.locator("#section-duration").get_by_text("Duration", exact=True).click()
    steps_box = page.locator("#recipe-steps")
    before = number_in(steps_box.inner_text(), r"(\d+) steps in all")
    set_field(page, "duration-epochs", "2")
    expect(steps_box).not_to_contain_text(f"{before} steps in all", timeout=30_000)
    set_field(page, "batch-per_device_batch_size", "4")
    set_field(page, "lora-r", "8")
    expect(verdict).to_contain_text("Valid", timeout=30_000)
    assert number_in(steps_box.inner_text(), r"(\d+) examples") == examples
    steps.done("configured")


def train_stop_resume(page, steps: Steps, workspace: Path) -> Path:
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-launch").click()
    expect(page.locator("#train-message")).to_contain_text("Launched", timeout=30_000)
    run_dir = next(p for p in (workspace / "runs").iterdir() if p.name.endswith(RUN_NAME))
    state = page.locator("#train-state")
    expect(state).to_contain_text("starting", timeout=60_000)  # the model loads before the first step
    page.wait_for_function("() => Number(document.querySelector('#train-step')?.textContent) >= 1", timeout=180_000)
    steps.done("first-step")
    page.locator("#train-stop").click()
    expect(state).to_have_text("stopped", timeout=120_000)
    expect(page.locator("#train-message")).not_to_contain_text("stopping")
    steps.done("stopped")
    page.locator("#train-resume").click()
    expect(state).to_contain_text("starting", timeout=30_000)
    page.get_by_role("tab", name="Data").click()  # the presenter looks elsewhere while a CPU run trains
    status = wait_for_state(run_dir, {"finished", "failed"})
    assert status["state"] == "finished", status
    page.get_by_role("tab", name="Train").click()
    expect(state).to_have_text("finished", timeout=60_000)
    steps.done("resumed-finished")
    return run_dir


def compare(page, steps: Steps, run_id: str) -> None:
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-compare").click()
    expect(page.get_by_role("tab", name="Side by side")).to_be_visible(timeout=30_000)
    expect(page.locator("#cmp-model-1 input")).to_have_value(run_id, timeout=30_000)
    page.locator("#cmp-prompt textarea").fill("你好，我的蓝牙耳机连接不上手机，怎么办？")
    page.locator("#cmp-send").click()
    for pane in (0, 1):
        expect(page.locator(f"#cmp-stats-{pane}")).to_contain_text("tok/s", timeout=180_000)
    steps.done("side-by-side")

    page.get_by_role("tab", name="Blind A/B").click()
    choose(page, "#ab-first", "base")
    choose(page, "#ab-second", run_id)
    page.locator("#ab-prompt textarea").fill("How long is the warranty?")
    page.locator("#ab-generate").click()
    expect(page.locator("#ab-message")).to_contain_text("Vote", timeout=180_000)
    page.locator("#ab-vote-A").click()
    expect(page.locator("#ab-tally")).to_contain_text(run_id, timeout=30_000)
    steps.done("blind-vote")


def report(page, steps: Steps) -> None:
    page.get_by_role("tab", name="Export").click()
    page.locator("#export-report").click()
    expect(page.locator("#export-report-download")).to_be_visible(timeout=120_000)
    steps.done("report")


def test_own_data_through_every_tab(tmp_path, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = write_upload(tmp_path / "my files")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.add_init_script(RECORD_NOTICES)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with running_app(workspace) as server:
        page.goto(server["url"], wait_until="domcontentloaded")
        page.locator("#studio-header").wait_for(timeout=60_000)
        steps = Steps(page, SHOTS)
        steps.done("page-served")
        v1 = chunk_and_save(page, steps, upload, workspace)
        v2 = clean(page, steps, workspace, v1)
        configure(page, steps, v2)
        run_dir = train_stop_resume(page, steps, workspace)
        status = read_status(run_dir)
        compare(page, steps, run_dir.name)
        report(page, steps)
        notices = page.evaluate("window.__notices")
        log = Path(server["log"]).read_text(encoding="utf-8", errors="replace")
        (SHOTS / "timings.txt").write_text(steps.summary() + "\n", encoding="utf-8")
        print("\nown data, seconds per step:\n" + steps.summary())
    context.close()
    assert [n for n in notices if n.startswith("error")] == []
    assert "Traceback" not in log, log[-4000:]
    assert errors == []
    assert status["data"]["records"] == v2, status["data"]  # every record of the version is accounted for
