"""What the browser journeys share: picking a dropdown value, filling a recipe field, timed screenshots."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect


def choose(page, selector: str, value: str) -> None:
    """Pick a dropdown value by typing it (option lists of other dropdowns may still be in the page)."""
    box = page.locator(f"{selector} input").first
    box.click()
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(value)


def set_field(page, field: str, value: str) -> None:
    control = page.locator(f"#field-{field} input, #field-{field} textarea").first
    control.fill(value)
    control.press("Tab")


class Steps:
    """Numbered screenshots in `folder` and the wall time of each step, printed at the end (pytest -s shows them)."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.n, self.times = page, folder, 0, []
        self.start = self.last = time.monotonic()

    def done(self, name: str) -> None:
        self.n += 1
        try:
            self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"), full_page=True, timeout=90_000)
        except PlaywrightTimeout:  # a picture is evidence, not the check: a saturated machine may not paint in time
            print(f"no screenshot of step {name}: the page did not paint within 90 s")
        now = time.monotonic()
        self.times.append((name, now - self.last))
        self.last = now

    def summary(self) -> str:
        lines = [f"{name:<14}{seconds:6.1f} s" for name, seconds in self.times]
        return "\n".join([*lines, f"{'total':<14}{time.monotonic() - self.start:6.1f} s"])
