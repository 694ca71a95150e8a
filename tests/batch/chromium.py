"""Loading a page in headless Chromium (Debian's ``chromium``): screenshot, DOM after load,
and every console message the page produced (Chromium logs them as ``INFO:CONSOLE``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*(.*)")


@dataclass
class PageLoad:
    dom: str
    console: list[str]
    screenshot: Path


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    return exe


def load_page(page: Path, tmp: Path, width: int = 1280, height: int = 2200) -> PageLoad:
    """Load ``page`` once: screenshot, the DOM after the load event, console messages."""
    assert page.is_file(), page
    shot = tmp / f"{page.stem}-screenshot.png"
    proc = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}",
                           f"--window-size={width},{height}", f"--screenshot={shot}", "--dump-dom",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    console = [m.group(1) for line in proc.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return PageLoad(proc.stdout, console, shot)
