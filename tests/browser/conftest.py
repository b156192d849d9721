"""Start the real app in a subprocess and drive it with Debian's Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.app_process import ROOT, AppDidNotStart, app_process


ARTIFACTS = Path(os.environ.get("STUDIO_ARTIFACTS", ROOT / "test-artifacts"))


@contextmanager
def running_app(workspace: Path, *extra: str) -> Iterator[dict]:
    """`python app.py --port N --workspace DIR [extra]` as a user starts it, offline; a test failure if it doesn't
    start."""
    try:
        with app_process(workspace, *extra) as app:
            yield {**app, "url": app["url"] + "/", "workspace": workspace}
    except AppDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """The app shared by the browser tests, on its own workspace."""
    with running_app(tmp_path_factory.mktemp("workspace")) as server:
        yield server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
