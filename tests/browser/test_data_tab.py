"""The Data tab in a real browser: upload, chunk, inspect (the table's source column, paging the rendered view to
a chat record), save a version, download the JSONL."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

DOC = {"id": "demo-1", "title": "一种测试方法", "text": "一种测试方法\n\n步骤1：准备样品。\n\n" + "将样品放入容器中，加热到50摄氏度并保持十分钟。" * 30
       + "\n\n步骤2：记录结果。\n\n" + "读取传感器的数值并写入日志文件。" * 20}
CHAT = {"id": "chat-1", "messages": [{"role": "user", "content": "加热多久？"},
                                     {"role": "assistant", "content": "十分钟。"}]}


def test_upload_chunk_inspect_save_and_download(studio_server, page, tmp_path):
    upload = tmp_path / "my docs (v1).jsonl"
    upload.write_text(json.dumps(DOC, ensure_ascii=False) + "\n" + json.dumps(CHAT, ensure_ascii=False) + "\n"
                      + '{"id": "broken", "text": \n', encoding="utf-8")

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
    # The source column is on screen, not pushed past the table's edge by the text.
    table_box = page.locator("#data-table").bounding_box()
    source = page.locator("#data-table td").filter(has_text="my docs (v1).jsonl:1").first
    source_box = source.bounding_box()
    assert source_box["x"] + source_box["width"] <= table_box["x"] + table_box["width"] + 1
    expect(page.locator("#data-files")).to_contain_text("utf-8")  # detected encoding and format, per file
    page.get_by_role("tab", name="Length histogram").click()
    page.locator("#data-histogram .js-plotly-plot").wait_for(timeout=20_000)
    page.get_by_role("tab", name="As the model sees it").click()
    assert "with loss" in page.locator("#data-rendered").inner_text()
    info = page.locator("#data-rendered-info")
    expect(info).to_contain_text("record 1 of ")
    page.locator("#data-rendered-next").click()
    expect(info).to_contain_text("record 2 of ")
    query = page.locator("#data-rendered-query textarea, #data-rendered-query input").first
    query.fill("chat-1")
    query.press("Enter")
    expect(info).to_contain_text("record 1 of 1")
    expect(page.locator("#data-rendered")).to_contain_text("chat-1")

    page.locator("#data-save").click()
    page.locator("#data-saved").get_by_text("Saved").wait_for(timeout=20_000)
    assert "my_docs_v1@v1" in page.locator("#data-saved").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data-tab.png"), full_page=True)
    with page.expect_download(timeout=20_000) as info:
        page.locator("#data-download").click()
    lines = open(info.value.path(), encoding="utf-8").read().splitlines()
    records = [json.loads(line) for line in lines]
    fragments = [r for r in records if "text" in r]
    assert [r["id"] for r in records if "messages" in r] == ["chat-1"]
    assert fragments and all(f["hash"].startswith("sha1:") and f["doc"] == "demo-1" for f in fragments)
    assert all(f["title"] == "一种测试方法" for f in fragments)
    # The upload went into the workspace under a safe name, nowhere else.
    assert [p.name for p in (studio_server["workspace"] / "uploads").iterdir()] == ["my_docs_v1.jsonl"]
    assert page.js_errors == []
