"""The report in headless Chromium, opened from disk with the network cut: it asks for nothing and draws its plots."""

from __future__ import annotations

import pytest

from studio.report.report_command import write_report
from tests.report.conftest import RUN_ID

pytestmark = pytest.mark.browser


def test_the_report_opens_offline_and_draws_its_plots(hand_workspace, tmp_path, browser):
    out = tmp_path / "report.html"
    write_report(hand_workspace.runs / RUN_ID, out)
    requested, refused, errors = [], [], []

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri(), wait_until="load")
        page.wait_for_selector("#report-loss-plot .main-svg", timeout=10_000)
        page.wait_for_selector("#report-lr-plot .main-svg", timeout=10_000)
        assert page.locator(".js-plotly-plot").count() == 2
        assert page.locator("#report-loss-plot .scatterlayer .trace").count() == 3  # raw, smoothed, eval
        assert page.locator("#final-eval-loss").inner_text() == "2.247"
        assert page.locator("#examples pre.prompt").first.inner_text().startswith("<script>alert('x')")
        page.wait_for_timeout(300)  # anything a plot would fetch late
    finally:
        context.close()
    assert refused == [] and errors == []
    assert requested and all(url.startswith(("file:", "data:")) for url in requested), requested
