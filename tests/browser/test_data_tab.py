"""The Data tab in a real browser: upload, chunk, inspect, save a version, download the JSONL."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

DOC = {"id": "demo-1", "title": "一种测试方法", "text": "一种测试方法\n\n步骤1：准备样品。\n\n" + "将样品放入容器中，加热到50摄氏度并保持十分钟。" * 30
       + "\n\n步骤2：记录结果。\n\n" + "读取传感器的数值并写入日志文件。" * 20}


def test_upload_chunk_inspect_save_and_download(studio_server, page, tmp_path):
    upload = tmp_path / "my docs (v1).jsonl"
    upload.write_text(json.dumps(DOC, ensure_ascii=False) + "\n" + '{"id": "broken", "text": \n', encoding="utf-8")

    page.goto(studio_server["url"], wait_until="domcontentloaded")
    page.locator("#data-upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#data-upload")).to_contain_text("my docs (v1).jsonl", timeout=20_000)
    page.locator("#data-run").click()

    summary = page.locator("#data-summary")
    expect(summary).to_contain_text("documents →", timeout=60_000)  # progress text shows first; wait for the result
    assert "1 documents" in summary.inner_text().replace("**", "")
    assert "issues listed below" in summary.inner_text()
    # The issue names the file as the user knows it, not the workspace copy.
    expect(page.locator("#data-issues")).to_contain_text("my docs (v1).jsonl")

    expect(page.locator("#data-table")).to_contain_text("demo-1-s1-p0-f1")
    expect(page.locator("#data-files")).to_contain_text("utf-8")  # detected encoding and format, per file
    page.get_by_role("tab", name="Length histogram").click()
    page.locator("#data-histogram .js-plotly-plot").wait_for(timeout=20_000)
    page.get_by_role("tab", name="As the model sees it").click()
    assert "with loss" in page.locator("#data-rendered").inner_text()

    page.locator("#data-save").click()
    page.locator("#data-saved").get_by_text("Saved").wait_for(timeout=20_000)
    assert "my_docs_v1@v1" in page.locator("#data-saved").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data-tab.png"), full_page=True)
    with page.expect_download(timeout=20_000) as info:
        page.locator("#data-download").click()
    lines = open(info.value.path(), encoding="utf-8").read().splitlines()
    fragments = [json.loads(line) for line in lines]
    assert fragments and all(f["hash"].startswith("sha1:") and f["doc"] == "demo-1" for f in fragments)
    assert all(f["title"] == "一种测试方法" for f in fragments)
    # The upload went into the workspace under a safe name, nowhere else.
    assert [p.name for p in (studio_server["workspace"] / "uploads").iterdir()] == ["my_docs_v1_.jsonl"]
    assert page.js_errors == []
