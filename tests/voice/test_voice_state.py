"""Vocals do not depend on what the process sang before (a batch worker's second song, an
``ainur serve`` process's second request): the same notes and seed give the same bytes in a
fresh process and after other songs. Each case runs in fresh interpreters (the state in
question lives in libespeak-ng, which a process loads once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lyrics dense in stops (p t k b d g) and bursts, in both voices' espeak speakers.
SONGS = {
    "A": ["Take the kid to the dock", "Bad dogs dig by the gate"],
    "B": ["Big red kettle, keep it cooking", "Pack the tapes and go back"],
    "C": ["Could it be the quiet night", "Tick tock, the clock got stuck"],
}

_SCRIPT = r"""
import hashlib, json, sys
import numpy as np
from ainur_cli.compose.lyrics import parse_line
from ainur_cli.voice import notes_for_line, sing
from ainur_cli.voice.analysis import analyse_phrase

songs, order, voice, clear = json.loads(sys.argv[1])
out = {}
for name in order:
    if clear:
        analyse_phrase.cache_clear()  # the phrase cache off: every phrase spoken again
    notes, t = [], 0.5
    for i, text in enumerate(songs[name]):
        line = parse_line(text)
        n = len(line.syllables)
        starts = [t + 0.3 * k for k in range(n)]
        notes += notes_for_line(line, starts, [0.27] * n, [60 + (k * 3) % 7 for k in range(n)], i)
        t = starts[-1] + 0.9
    y = sing(notes, sample_rate=22050, total_samples=int((t + 0.5) * 22050), voice=voice,
             seed=1, workers=1)
    out[name] = hashlib.sha256(y.tobytes()).hexdigest()
print(json.dumps(out))
"""


def _hashes(order: list[str], voice: str, clear: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps([SONGS, order, voice, clear])],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("voice", ["tenor", "soprano"])
@pytest.mark.parametrize("clear", [False, True], ids=["cache", "no-cache"])
def test_a_song_sounds_the_same_after_other_songs(voice, clear):
    fresh = {name: _hashes([name], voice, clear)[name] for name in ("B", "C")}
    assert fresh["B"] != fresh["C"]
    after = _hashes(["A", "B", "C", "B"], voice, clear)
    assert after["B"] == fresh["B"], "song B differs when song A was sung first in the process"
    assert after["C"] == fresh["C"], "song C differs when songs A and B were sung first"
