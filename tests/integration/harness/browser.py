"""Debian's chromium driven by Playwright, for the console's browser tests: how it is launched and the
screen it gets. Needs ``/usr/bin/chromium`` (``scripts/setup --test``) and the built console
(``web/dist``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from dockyard.api.console import default_directory

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# "Reduce motion": a click never lands on a button that is still moving in.
SCREEN: dict[str, Any] = {"viewport": {"width": 1440, "height": 1000}, "reduced_motion": "reduce"}
LONG = 120_000  # ms: the machine is shared and loaded; no assertion depends on speed


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless chromium with a fresh, empty profile of its own; the test fails (never skips) when
    chromium or the console's build is missing."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup --test")
    if not (default_directory() / "index.html").is_file():
        pytest.fail("the console is not built: run scripts/setup (or npm run build in web/)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()
