"""An upload over --max-upload-mb is refused in the browser before it is sent, with the limit in the notice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import running_app

pytestmark = pytest.mark.browser


def test_an_oversized_upload_is_refused_with_the_limit(page, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"text": "x"}\n' * 100_000)  # 1.4 MB
    with running_app(tmp_path / "ws", "--max-upload-mb", "1") as server:
        page.goto(server["url"], wait_until="domcontentloaded")
        page.locator("#data-upload input[type=file]").set_input_files(str(big))
        notice = page.locator(".toast-body")
        # Gradio's own words ("1.0 Mb"); the limit is checked in the browser, so the server's reworded 413
        # (tests/security/test_server.py) is what API clients see.
        expect(notice).to_contain_text(re.compile(r"exceed the maximum allowed size of 1\.0 MB", re.I),
                                       timeout=20_000)
        expect(notice).to_contain_text("big.jsonl")
        assert list((tmp_path / "ws" / "uploads").iterdir()) == []
