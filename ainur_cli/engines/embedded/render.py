"""Rendering parts with a General MIDI soundfont, sample-exact (tinysoundfont, in-process).

Every note-on/off happens at exactly ``timeline.beat_to_sample(beat)``: the synthesiser
renders the stretch between two events straight into the output buffer, then the events at
that sample are applied. Each part gets a fresh synthesiser, so parts are independent and the
result is the same with any number of worker processes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import tinysoundfont._tinysoundfont as tsf

from ainur_cli.compose.types import Composition, Part
from ainur_cli.errors import EngineError
from ainur_cli.timeline import Timeline

END_FADE_S = 0.01


@lru_cache(maxsize=2)
def _soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _events(part: Part, timeline: Timeline, total_samples: int) -> list[tuple[int, int, int, int]]:
    """``(sample, order, key, velocity)`` sorted; order 0 = note off before 1 = note on."""
    events = []
    for note in part.notes:
        on = timeline.beat_to_sample(note.start_beat)
        off = timeline.beat_to_sample(note.start_beat + note.duration_beats)
        if on >= total_samples:
            continue
        off = max(off, on + 1)
        events.append((on, 1, note.pitch, note.velocity))
        if off < total_samples:
            events.append((off, 0, note.pitch, 0))
    events.sort()
    return events


def render_part(part: Part, timeline: Timeline, soundfont: Path, *, total_samples: int,
                gain_db: float = 0.0) -> np.ndarray:
    """Render one part to (2, total_samples) float32 at ``timeline.sample_rate``."""
    try:
        sf = tsf.SoundFont(_soundfont_bytes(str(soundfont)))
    except Exception as e:  # tinysoundfont raises a bare exception on a broken file
        raise EngineError(f"cannot load the soundfont: {e}", file=str(soundfont)) from None
    sf.set_output(tsf.OutputMode.StereoInterleaved, timeline.sample_rate, gain_db)
    sf.set_max_voices(256)
    ch = part.channel
    sf.channel_set_bank(ch, 128 if part.is_drums else 0)
    try:
        sf.channel_set_preset_number(ch, 0 if part.is_drums else part.program, part.is_drums)
    except Exception:
        raise EngineError("the soundfont has no preset for this part", file=str(soundfont),
                          field=part.name, value=part.program, allowed="a General MIDI soundfont") from None
    out = np.zeros(total_samples * 2, dtype=np.float32)
    pos = 0
    for sample, kind, key, velocity in _events(part, timeline, total_samples):
        if sample > pos:
            sf.render(memoryview(out[pos * 2: sample * 2].view(np.uint8)), False)
            pos = sample
        if kind:
            sf.channel_note_on(ch, key, velocity / 127.0)
        else:
            sf.channel_note_off(ch, key)
    if pos < total_samples:
        sf.render(memoryview(out[pos * 2:].view(np.uint8)), False)
    audio = out.reshape(total_samples, 2).T.copy()
    fade = min(total_samples, int(END_FADE_S * timeline.sample_rate))
    if fade:
        audio[:, total_samples - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return audio


def _render_job(args):
    return render_part(*args[:3], total_samples=args[3])


def render_parts(composition: Composition, timeline: Timeline, soundfont: Path, *,
                 total_samples: int, parts: Sequence[str] | None = None,
                 workers: int = 1) -> dict[str, np.ndarray]:
    """Render the named parts (default all) → ``{name: (2, total_samples) float32}``."""
    chosen = [p for p in composition.parts if parts is None or p.name in parts]
    jobs = [(p, timeline, soundfont, total_samples) for p in chosen]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            audio = list(pool.map(_render_job, jobs))
    else:
        audio = [_render_job(j) for j in jobs]
    return {p.name: a for p, a in zip(chosen, audio)}
