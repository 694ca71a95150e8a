"""Rendering parts with a General MIDI soundfont, sample-exact, in-process (TinySoundFont).

Every note-on and note-off happens at exactly ``timeline.beat_to_sample(beat)``: the
synthesiser renders the stretch between two event samples straight into the output buffer,
then applies the events of that sample (note-offs before note-ons). Each part gets its own
fresh synthesiser (a clone of the soundfont loaded once per process, sharing its sample
data), so a part sounds the same whatever else is rendered, in any order, with any number of
worker processes: ``workers=2`` is bit-identical to ``workers=1``.

What TinySoundFont does, so the numbers make sense (read from ``tsf.h``, checked by tests):

* envelopes, LFOs and filter cut-offs advance once per 64-sample block counted from the start
  of each render call; a voice's gain is constant within a block. A preset whose volume
  envelope has an attack therefore stays silent for the first block after its note-on
  (64 samples: 1.3 ms at 48 kHz) and then ramps in 64-sample steps; presets without attack
  (pianos, drums, most plucked sounds) sound from the note-on sample itself. Likewise a
  release starts at the note-off sample and is heard from the next block on (<= 64 samples);
* voices are allocated without a limit (no ``set_max_voices``), so no note is ever dropped
  or stolen; a released voice lives until its release envelope reaches -80 dB;
* velocity is linear in amplitude (velocity 64 = -6 dB), channel volume is full (CC7 = 127),
  the output is not clipped: a loud drum part can peak above 1.0 (see the bench's level
  table for per-program levels of TimGM6mb).
"""

from __future__ import annotations

import logging
import mmap
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import tinysoundfont._tinysoundfont as tsf

from ainur_cli.compose.gm import program_name
from ainur_cli.compose.types import Composition, Part
from ainur_cli.engines.embedded.events import beats_to_samples, check_part, note_spans
from ainur_cli.engines.embedded.soundfont import ALLOWED, soundfont_presets
from ainur_cli.errors import EngineError
from ainur_cli.timeline import Timeline

log = logging.getLogger(__name__)

DRUM_BANK = 128
END_FADE_S = 0.010  # notes still sounding at the song end fade out over the last 10 ms
SCRATCH_FRAMES = 8192  # a multiple of TinySoundFont's 64-sample block (TSF_RENDER_EFFECTSAMPLEBLOCK)


def preset_for(part: Part, presets: dict[tuple[int, int], str], soundfont: str | Path) -> tuple[int, int]:
    """``(bank, program)`` that plays ``part``: bank 0 ``program`` for instruments; for drums
    bank 128 ``program`` (GM2 kit number; 0 = Standard) or, when missing, bank 128 kit 0.

    :param presets: ``soundfont_presets(soundfont)``.
    :raises EngineError: the soundfont lacks that preset.
    """
    if part.is_drums:
        for choice in ((DRUM_BANK, part.program), (DRUM_BANK, 0)):
            if choice in presets:
                return choice
        raise EngineError("the soundfont has no General MIDI drum kit (bank 128)", file=str(soundfont),
                          field=f"parts.{part.name}", value=part.program,
                          allowed="a General MIDI soundfont, or " + ALLOWED)
    if (0, part.program) not in presets:
        have = sorted(p for b, p in presets if b == 0)
        raise EngineError(f"the soundfont has no preset for program {part.program} "
                          f"({program_name(part.program)}) in bank 0", file=str(soundfont),
                          field=f"parts.{part.name}.program", value=part.program,
                          allowed=f"programs this soundfont has in bank 0: {have[:32]}"
                                  f"{'...' if len(have) > 32 else ''}, or a General MIDI soundfont")
    return 0, part.program


@lru_cache(maxsize=1)
def _loaded(path: str, size: int, mtime_ns: int) -> tsf.SoundFont:
    """The soundfont parsed once per process (keyed by size and mtime, so an edited file is
    reloaded); never played itself, only cloned."""
    try:
        if os.name == "posix":
            try:
                return tsf.SoundFont(path)  # streams from the file: no extra copy in memory
            except UnicodeEncodeError:
                pass
        return tsf.SoundFont(Path(path).read_bytes())
    except (RuntimeError, OSError) as e:
        raise EngineError(f"cannot load the soundfont: {e}", file=path, field="soundfont",
                          allowed=ALLOWED) from None


def load_soundfont(soundfont: str | Path) -> tsf.SoundFont:
    """The process-wide parsed soundfont for ``soundfont`` (cached; TimGM6mb takes 20 ms,
    FluidR3_GM 0.3 s and about 300 MB)."""
    path = Path(soundfont).resolve()
    try:
        st = path.stat()
    except OSError as e:
        raise EngineError(f"cannot read the soundfont: {e.strerror or e}", file=str(path),
                          field="soundfont", allowed=ALLOWED) from None
    return _loaded(str(path), st.st_size, st.st_mtime_ns)


def render_part(part: Part, timeline: Timeline, soundfont: str | Path, *, total_samples: int,
                gain_db: float = 0.0, out: np.ndarray | None = None) -> np.ndarray:
    """Render one part to audio.

    :param part: its notes (positions in beats), program and channel; drums use bank 128.
    :param timeline: converts beats to samples; its ``sample_rate`` is the render rate.
    :param soundfont: path of a .sf2/.sf3 file (see :func:`resolve_soundfont`).
    :param total_samples: length of the result; notes starting at or after it are skipped,
        notes sounding at it are cut there (the last :data:`END_FADE_S` fade to zero).
    :param gain_db: synthesiser output gain in dB (applied to every voice).
    :param out: optional C-contiguous float32 array of shape ``(2, total_samples)`` to render
        into (every sample is overwritten); a new array is allocated when None.
    :returns: ``out`` or a new array, shape ``(2, total_samples)`` float32, unclipped, at
        ``timeline.sample_rate``.
    :raises EngineError: bad notes, a preset the soundfont lacks, an unloadable soundfont.
    """
    if total_samples < 0:
        raise EngineError("negative render length", field="total_samples", value=total_samples,
                          allowed="an integer >= 0")
    if out is None:
        out = np.empty((2, total_samples), dtype=np.float32)
    elif out.shape != (2, total_samples) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous float32 (2, {total_samples}), got "
                         f"{out.dtype} {out.shape}")
    check_part(part)
    bank, program = preset_for(part, soundfont_presets(soundfont), soundfont)
    synth = tsf.SoundFont(load_soundfont(soundfont))  # a clone: fresh voices and channels
    synth.set_output(tsf.OutputMode.StereoUnweaved, timeline.sample_rate, float(gain_db))
    ch = part.channel
    synth.channel_set_bank(ch, bank)
    synth.channel_set_preset_index(ch, synth.get_preset_index(bank, program))

    events: list[tuple[int, int, int, int]] = []  # (sample, 0 = off / 1 = on, key, velocity)
    for span in note_spans(part, lambda beats: beats_to_samples(timeline, beats)):
        if span.on >= total_samples:
            continue
        events.append((span.on, 1, span.key, span.velocity))
        if span.off < total_samples:
            events.append((span.off, 0, span.key, 0))
    events.sort()

    # A render call of n frames writes n left samples, then n right samples. Rendered at
    # ``out[0, start:]`` the left block lands in place and the right block just after it,
    # in the stretch of row 0 the next call overwrites: one copy (the right block into row 1)
    # instead of two from a scratch buffer. Only the last calls of the song, whose right
    # block would run past row 0, go through the scratch buffer. Long stretches are rendered
    # in SCRATCH_FRAMES pieces, a multiple of TinySoundFont's 64-sample block, so the result
    # equals one render call over the whole stretch.
    flat = out.reshape(-1)  # row 0, then row 1
    left, right = out[0], out[1]
    scratch = np.empty(2 * SCRATCH_FRAMES, dtype=np.float32)

    def render_until(start: int, stop: int) -> None:
        while start < stop:
            n = min(SCRATCH_FRAMES, stop - start)
            if start + 2 * n <= total_samples:
                block = flat[start:start + 2 * n]
                synth.render(block.view(np.uint8), False)
            else:
                block = scratch[:2 * n]
                synth.render(block.view(np.uint8), False)
                left[start:start + n] = block[:n]
            right[start:start + n] = block[n:]
            start += n

    pos = 0
    for sample, is_on, key, velocity in events:
        if sample > pos:
            render_until(pos, sample)
            pos = sample
        if is_on:
            synth.channel_note_on(ch, key, velocity / 127.0)
        else:
            synth.channel_note_off(ch, key)
    render_until(pos, total_samples)
    fade = min(total_samples, round(END_FADE_S * timeline.sample_rate))
    if fade and np.any(out[:, total_samples - fade:]):
        out[:, total_samples - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def _render_job(job: tuple) -> np.ndarray:
    part, timeline, soundfont, total_samples, gain_db = job
    return render_part(part, timeline, soundfont, total_samples=total_samples, gain_db=gain_db)


# Output buffers that forked workers inherit and write into: {call token: [array per job]}.
_SHARED_OUT: dict[int, list[np.ndarray]] = {}


def shared_array(total_samples: int) -> np.ndarray:
    """A ``(2, total_samples)`` float32 array in an anonymous ``MAP_SHARED`` mapping: a child
    forked after its creation writes into the very same memory (no pickling, no copy).
    Zero samples give an empty ordinary array (an empty mapping is not allowed)."""
    if total_samples == 0:
        return np.zeros((2, 0), dtype=np.float32)
    buf = mmap.mmap(-1, 2 * total_samples * 4)
    return np.frombuffer(buf, dtype=np.float32).reshape(2, total_samples)


def _render_shared_job(job: tuple) -> None:
    token, k, part, timeline, soundfont, total_samples, gain_db = job
    render_part(part, timeline, soundfont, total_samples=total_samples, gain_db=gain_db,
                out=_SHARED_OUT[token][k])


def fork_is_safe() -> bool:
    """Whether worker processes may be forked here: Linux, and no other thread running
    (see :func:`_pool_context`)."""
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def _pool_context() -> multiprocessing.context.BaseContext:
    """How worker processes start.

    ``fork`` on Linux when this process runs a single thread: it starts in milliseconds,
    lets the workers write straight into shared output buffers and, unlike
    ``spawn``/``forkserver``, does not re-run the caller's ``__main__`` (a script without an
    ``if __name__ == "__main__":`` guard still works). With other threads running (the DAW
    bridge's OSC server) forking could copy a lock held by another thread, so then
    ``forkserver`` (or ``spawn`` on macOS/Windows) is used and the stems come back pickled.
    """
    methods = multiprocessing.get_all_start_methods()
    if fork_is_safe():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def render_parts(composition: Composition, timeline: Timeline, soundfont: str | Path, *,
                 total_samples: int, parts: Sequence[str] | None = None, workers: int = 1,
                 gain_db: float = 0.0) -> dict[str, np.ndarray]:
    """Render several parts of a composition, each with :func:`render_part`.

    :param parts: names to render, in composition order (default: all).
    :param workers: processes; ``> 1`` renders parts in a process pool, bit-identical to
        ``workers=1``. Every part is checked before anything is rendered.
    :returns: ``{part name: (2, total_samples) float32}`` in composition order.
    :raises EngineError: an unknown part name, bad notes, a preset the soundfont lacks.
    """
    known = [p.name for p in composition.parts]
    if parts is not None:
        for name in parts:
            if name not in known:
                raise EngineError("no such part in the composition", field="parts", value=name,
                                  allowed=", ".join(known))
    if total_samples < 0:
        raise EngineError("negative render length", field="total_samples", value=total_samples,
                          allowed="an integer >= 0")
    chosen = [p for p in composition.parts if parts is None or p.name in parts]
    presets = soundfont_presets(soundfont)
    for part in chosen:
        check_part(part)
        preset_for(part, presets, soundfont)
    soundfont = str(soundfont)
    workers = max(1, min(int(workers), len(chosen)))
    if workers > 1 and multiprocessing.current_process().daemon:
        log.debug("a daemon process cannot start workers: rendering %d parts here", len(chosen))
        workers = 1
    if workers == 1 or total_samples == 0:
        return {p.name: render_part(p, timeline, soundfont, total_samples=total_samples,
                                    gain_db=gain_db) for p in chosen}
    context = _pool_context()
    log.debug("rendering %d parts in %d %s processes", len(chosen), workers, context.get_start_method())
    if context.get_start_method() == "fork":
        load_soundfont(soundfont)  # parsed once here; the children share its pages (copy-on-write)
        token = id(chosen)
        _SHARED_OUT[token] = [shared_array(total_samples) for _ in chosen]
        try:
            jobs = [(token, k, p, timeline, soundfont, total_samples, gain_db) for k, p in enumerate(chosen)]
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                list(pool.map(_render_shared_job, jobs))
            audio = _SHARED_OUT[token]
        finally:
            del _SHARED_OUT[token]
    else:
        jobs = [(p, timeline, soundfont, total_samples, gain_db) for p in chosen]
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            audio = list(pool.map(_render_job, jobs))
    return {p.name: a for p, a in zip(chosen, audio)}
