"""Headless Debian Chromium driven by Playwright, shared by the browser tests.

Playwright's own browser download cannot work offline, so it drives the system's
``/usr/bin/chromium`` (Debian's ``chromium`` package, installed by ``make browser``).
The flags keep Chromium from reaching out to Google's services, which this network refuses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from coursetools.paths import REPO_ROOT
from helpers.config import env_text

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return env_text("TL_COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The browser's path; a failure on CI (where `make browser` installs it), a skip elsewhere."""
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextlib.contextmanager
def chromium_page(viewport=(1280, 900)):
    """A fresh browser profile and page; everything is closed and removed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    profile = Path(tempfile.mkdtemp(prefix="tl-course-chromium-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=executable,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def artifacts_dir(kind: str) -> Path:
    """Where screenshots are kept for CI to collect (``artifacts/`` is ignored by git)."""
    root = Path(env_text("TL_COURSE_ARTIFACTS") or REPO_ROOT / "artifacts")
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder
