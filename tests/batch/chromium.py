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


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def load_page(page: Path, tmp: Path, width: int = 1280, height: int = 2200) -> PageLoad:
    """Load ``page`` twice (DOM dump, then screenshot) and collect console messages of both."""
    assert page.is_file(), page
    url = page.resolve().as_uri()
    shot = tmp / f"{page.stem}-screenshot.png"
    dom = _run(["--dump-dom", url], tmp / "profile-dom")
    pic = _run([f"--window-size={width},{height}", f"--screenshot={shot}", url], tmp / "profile-shot")
    assert dom.returncode == 0 and pic.returncode == 0, dom.stderr[-2000:] + pic.stderr[-2000:]
    console = [m.group(1) for proc in (dom, pic) for line in proc.stderr.splitlines()
               if (m := _CONSOLE.search(line))]
    return PageLoad(dom.stdout, console, shot)
