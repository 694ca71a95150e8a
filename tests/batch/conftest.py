"""Fixtures for batch and report tests: tiny real songs (1–4 bars, 44.1 kHz), the ``ainur``
CLI with the batch commands, and one real batch rendered once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TINY_SONG = """\
title: {title}
preset: {preset}
seed: {seed}
tempo_bpm: {tempo_bpm}
sections:
{sections}output:
  sample_rate: 44100
"""

# The `ainur` entry point with the batch commands added if the main CLI does not have them yet.
_CLI = (
    "import sys\n"
    "from ainur_cli.cli import main\n"
    "from ainur_cli.cli_batch import batch_command, report_command\n"
    "for c in (batch_command, report_command):\n"
    "    if c.name not in main.commands:\n"
    "        main.add_command(c)\n"
    "sys.exit(main())\n"
)


def write_tiny_song(folder: Path, name: str, *, preset: str = "pop", seed: int = 1,
                    tempo_bpm: float = 120, bars: tuple[int, ...] = (1, 1)) -> Path:
    """A real song.yaml with sections of ``bars`` bars (first an intro, then verses)."""
    names = ["Intro"] + [f"Verse {i}" for i in range(1, len(bars))]
    sections = "".join(f"  - name: {n}\n    bars: {b}\n" for n, b in zip(names, bars))
    path = folder / f"{name}.yaml"
    path.write_text(TINY_SONG.format(title=name.replace("-", " ").title(), preset=preset, seed=seed,
                                     tempo_bpm=tempo_bpm, sections=sections), encoding="utf-8")
    return path


def cli_args(*args: str) -> list[str]:
    return [sys.executable, "-c", _CLI, *args]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(cli_args(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env=env)


def read_batch(root: Path) -> dict:
    return json.loads((root / "batch.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def batch_songs(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("songs")
    return [write_tiny_song(folder, "first-light", seed=4, tempo_bpm=120, bars=(1, 2)),
            write_tiny_song(folder, "night-drive", seed=9, tempo_bpm=140, bars=(2, 2))]


@pytest.fixture(scope="session")
def presets_dir(tmp_path_factory) -> Path:
    """Private copies of the presets the tests use: other engineers edit the shipped ones
    while tests run, and an edited preset rightly changes the spec hash."""
    from ainur_cli.presets import list_presets

    folder = tmp_path_factory.mktemp("presets")
    known = list_presets()
    for name in ("pop", "house"):
        shutil.copy(known[name], folder / f"{name}.yaml")
    return folder


@pytest.fixture(scope="session")
def local_batch(tmp_path_factory, batch_songs, presets_dir):
    """2 songs x 2 presets rendered by `ainur batch -j 2 --report` (a real CLI run)."""
    out = tmp_path_factory.mktemp("batch") / "out"
    proc = run_cli("batch", *map(str, batch_songs), "--presets", "pop,house", "-j", "2",
                   "--out", str(out), "--report", "--presets-dir", str(presets_dir))
    proc.batch = read_batch(out) if (out / "batch.json").is_file() else None  # as first written
    return out, proc
