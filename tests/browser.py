"""Open a page in headless Chromium: the DOM after scripts ran, console errors, a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """Path of chromium; skips locally when absent, fails on CI."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI") == "true" or os.environ.get("CAPACITY_REQUIRE_VALIDATION") == "1":
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return exe


def render(page: Path, profile: Path, screenshot: Path, height: int = 2400) -> tuple[str, list[str]]:
    """(DOM after load, console errors) of ``page``; writes a ``screenshot`` PNG of its top."""
    exe = chromium()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    r = subprocess.run(
        [exe, *flags, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180
    )
    assert r.returncode == 0, r.stderr[-2000:]
    errors = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln and ("ERROR" in ln.upper() or "Uncaught" in ln)]
    s = subprocess.run(
        [exe, *flags, f"--window-size=1200,{height}", f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert s.returncode == 0 and screenshot.exists(), s.stderr[-2000:]
    return r.stdout, errors


def screenshot_colours(path: Path) -> dict[str, int]:
    """Pixel counts of a screenshot: 'red' (warning red / shortfall red), 'blue' headings, distinct colours."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(path).convert("RGB")).astype(int)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return {
        "red": int(((r > 180) & (g < 140) & (b < 140)).sum()),
        "blue": int(((b > 100) & (r < 60) & (g < 100)).sum()),
        "distinct": len(np.unique(a.reshape(-1, 3)[::37], axis=0)),
    }
