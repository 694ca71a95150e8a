"""Per-part channel strips with the reverb and delay returns folded into each stem.

Reverb and delay are linear and time-invariant, so running the bus on each part's send and
adding that return to the part's own stem gives exactly the sum one shared bus would give —
and every processed stem carries its own space. The sum of the processed stems *is* the
pre-master mix; :func:`ainur_cli.mix.master.linked_master` keeps it that way.

Strip, in signal order (all settings in :class:`ainur_cli.mix.settings.PartMix`)::

    high-pass → low-pass → EQ bands        one cascade of biquads (sosfilt's kernel)
    → de-esser                             split-band, stereo-linked: the band above its
                                           corner turned down while it dominates
                                           (:mod:`ainur_cli.mix.deesser`)
    → compressor                           per channel, feed-forward, hard knee: gain per
                                           32-sample block from its peak, attack/release
                                           ballistics (:func:`dynamics.compressor_gain_db`),
                                           ramped linearly between blocks
    [→ post EQ]                            the master EQ, when the caller folds it in here
    → width (mid/side) → fader → constant-power pan
    send = fader · (L + R)/2 (post-fader, pre-pan, mono)
    + reverb return:  send·reverb_send → FFT convolution with the bus's seeded stereo IR
                      (:mod:`ainur_cli.mix.reverb`; high-pass and pre-delay included)
    + delay return:   send·delay_send → low-pass (highcut, 6 dB/oct) → feedback echo
                      (y[t] = x[t − T] + feedback·y[t − T]), panned as the part

The filters are 2nd-order Butterworth (12 dB/octave) high/low-passes and RBJ-cookbook EQ
biquads. A linear, time-invariant ``post_eq`` (the master EQ) commutes with everything after
the compressor, so folding it into the strip gives the same stems as applying it to each
finished stem — without another pass over memory (for parts without a compressor it is just
more sections of the same cascade).

Everything runs chunk by chunk (:data:`_CHUNK` samples), optionally in place. Reverb tails
and echoes that would ring past the song's last sample are cut there (the stems keep the
input length).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ainur_cli.mix import dynamics as dyn
from ainur_cli.dsp.biquads import FLUSH_LEVEL, ChunkFilter, sos_filter_rows
from ainur_cli.dsp.buffers import work_buffer
from ainur_cli.mix.deesser import deess
from ainur_cli.mix.eq import biquad
from ainur_cli.dsp.filter_design import butter_sos
from ainur_cli.mix.reverb import add_reverb
from ainur_cli.mix.settings import DelayBus, EqBand, MixSettings, PartMix

log = logging.getLogger(__name__)

MAX_DELAY_S = 30.0  # longest echo time
_CHUNK = 1 << 17    # samples per work unit (cache-sized; no full-length temporaries)
COMP_BLOCK = 32     # compressor control-rate block (samples)


def _db(gain_db: float) -> float:
    return 10.0 ** (gain_db / 20.0)


def _pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan normalised to unity at centre: (left, right) gains."""
    if pan == 0.0:
        return 1.0, 1.0  # exactly: a centred part at 0 dB passes bit for bit
    angle = (pan + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(angle), math.sqrt(2.0) * math.sin(angle)


def _below_nyquist(freq_hz: float | None, sample_rate: int) -> bool:
    return freq_hz is not None and freq_hz < 0.45 * sample_rate


def eq_sections(bands: tuple[EqBand, ...], sample_rate: int) -> list[np.ndarray]:
    """The EQ bands that do something (below 0.45 x rate, gain ≠ 0) as biquads (6,)."""
    return [biquad(b, sample_rate) for b in bands
            if _below_nyquist(b.freq_hz, sample_rate) and b.gain_db != 0.0]


def strip_sections(part: PartMix, sample_rate: int) -> list[np.ndarray]:
    """The strip's filters before the compressor: high-pass, low-pass, EQ (biquads)."""
    out: list[np.ndarray] = []
    if part.highpass_hz is not None:
        out.extend(butter_sos(2, min(part.highpass_hz, 0.45 * sample_rate), "highpass",
                              sample_rate))
    if _below_nyquist(part.lowpass_hz, sample_rate):
        out.extend(butter_sos(2, part.lowpass_hz, "lowpass", sample_rate))
    out.extend(eq_sections(part.eq, sample_rate))
    return out


def _cascade(sections: list[np.ndarray]) -> np.ndarray | None:
    return np.stack(sections).astype(np.float32) if sections else None


def _Filter(sections: list[np.ndarray]) -> ChunkFilter:
    """A biquad cascade run chunk by chunk, in place, over (2, m) float32 with its state kept
    (bit-identical to ``sosfilt`` with ``zi``, see :mod:`ainur_cli.dsp.biquads`)."""
    return ChunkFilter(_cascade(sections), 2, np.float32)


def process_stem(audio: np.ndarray, part: PartMix, settings: MixSettings, sample_rate: int,
                 tempo_bpm: float, *, post_eq: tuple[EqBand, ...] = (),
                 inplace: bool = False) -> np.ndarray:
    """One stem through its strip plus its own send returns.

    :param audio: (1 or 2, samples) float; mono is duplicated to stereo.
    :param post_eq: linear EQ bands applied after the compressor (the master EQ, folded in).
    :param inplace: write the result into ``audio`` (it must be a writable (2, samples)
        float32 array); otherwise ``audio`` is not modified.
    :returns: (2, samples) float32 — ``audio`` itself when ``inplace``, else a new array.
    """
    x = np.asarray(audio)
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ValueError(f"a stem must be (1 or 2, samples); got shape {x.shape}")
    n = x.shape[1]
    if inplace:
        if x.shape[0] != 2 or x.dtype != np.float32 or not x.flags.writeable:
            raise ValueError("inplace needs a writable (2, samples) float32 stem")
        out = x
    else:
        out = np.empty((2, n), dtype=np.float32)
    has_comp = part.compressor is not None and part.compressor.ratio > 1.0
    post = eq_sections(post_eq, sample_rate)
    pre_sections = strip_sections(part, sample_rate) + ([] if has_comp else post)
    pre = _Filter(pre_sections) if pre_sections else None
    after = _Filter(post) if has_comp and post else None
    fader = _db(part.gain_db)
    left, right = _pan_gains(part.pan)
    gl, gr = np.float32(fader * left), np.float32(fader * right)
    half, half_w = np.float32(0.5), np.float32(0.5 * part.width)
    wants_send = part.reverb_send > 0 or part.delay_send > 0
    send = work_buffer("send", (n,), np.float32) if wants_send else None
    # Silence in, filters at rest → silence out, exactly: those chunks skip the filtering.
    quiet = np.zeros(-(-n // _CHUNK), dtype=bool)
    for i, s in enumerate(range(0, n, _CHUNK)):
        e = min(s + _CHUNK, n)
        src = x[:, s:e]
        if src.shape[0] == 1:
            src = np.repeat(src, 2, axis=0)
        dst = out[:, s:e]
        silent = not src.any()
        if pre is not None and not (silent and pre.idle()):
            pre(src, dst)
            silent = silent and not dst.any()
        elif not inplace:
            dst[...] = src
        quiet[i] = silent
    if part.deesser is not None and not quiet.all():
        deess(out, part.deesser, sample_rate, COMP_BLOCK)
    gains = _compressor_gains(out, part, sample_rate) if has_comp else None
    same_gains = gains is not None and np.array_equal(gains[0], gains[1])
    for i, s in enumerate(range(0, n, _CHUNK)):
        e = min(s + _CHUNK, n)
        dst = out[:, s:e]
        silent = bool(quiet[i])
        if gains is not None and not silent:
            ramp = None
            for ch in range(2):
                if ramp is None or not same_gains:
                    ramp = dyn.block_ramp(gains[ch], COMP_BLOCK, s, e)
                dst[ch] *= ramp
        if after is not None and not (silent and after.idle()):
            after(dst, dst)
            silent = silent and not dst.any()
        if silent:
            if send is not None:
                send[s:e] = 0.0
            continue
        l, r = dst[0], dst[1]
        if send is None and part.width == 1.0:
            if gl != 1.0:
                l *= gl
            if gr != 1.0:
                r *= gr
            continue
        mid = work_buffer("mid", (e - s,), np.float32)
        np.add(l, r, out=mid)
        mid *= half
        if send is not None:
            np.multiply(mid, np.float32(fader), out=send[s:e])
        if part.width != 1.0:
            side = work_buffer("side", (e - s,), np.float32)
            np.subtract(l, r, out=side)
            side *= half_w
            np.add(mid, side, out=l)
            np.subtract(mid, side, out=r)
        if gl != 1.0:
            l *= gl
        if gr != 1.0:
            r *= gr
    if part.reverb_send > 0:
        add_reverb(out, send, part.reverb_send * _db(settings.reverb.return_db), settings.reverb,
                   sample_rate)
    if part.delay_send > 0:
        _add_delay(out, send, part.delay_send, settings.delay, part.pan, sample_rate, tempo_bpm)
    return out


def _compressor_gains(audio: np.ndarray, part: PartMix, sample_rate: int) -> np.ndarray:
    """The compressor's linear gain per channel and :data:`COMP_BLOCK`-sample block,
    (2, blocks) float32, from each block's peak (see :func:`dynamics.compressor_gain_db`)."""
    c = part.compressor
    n = audio.shape[1]
    peaks = np.zeros((audio.shape[0], -(-n // COMP_BLOCK)))
    for s in range(0, n, _CHUNK):  # _CHUNK is a multiple of COMP_BLOCK
        a = np.abs(audio[:, s: s + _CHUNK])
        full, b0 = a.shape[1] // COMP_BLOCK, s // COMP_BLOCK
        peaks[:, b0: b0 + full] = a[:, : full * COMP_BLOCK].reshape(a.shape[0], full, COMP_BLOCK).max(axis=2)
        if a.shape[1] > full * COMP_BLOCK:
            peaks[:, b0 + full] = a[:, full * COMP_BLOCK:].max(axis=1)
    with np.errstate(divide="ignore"):
        level_db = 20.0 * np.log10(peaks)
    gain_db = []
    for ch, level in enumerate(level_db):
        if ch and np.array_equal(level, level_db[ch - 1]):  # identical channels: same gains
            gain_db.append(gain_db[-1])
            continue
        gain_db.append(dyn.compressor_gain_db(level, threshold_db=c.threshold_db, ratio=c.ratio,
                                              attack_ms=c.attack_ms, release_ms=c.release_ms,
                                              block=COMP_BLOCK, sample_rate=sample_rate))
    # Causal: block b's detector sees its whole block, so its gain takes effect from the
    # next block on (block_ramp ramps from gain[b−1] to gain[b] across block b).
    gain = np.ones((len(gain_db), peaks.shape[1] + 1))
    gain[:, 1:] = 10.0 ** (np.stack(gain_db) / 20.0)
    return gain[:, :-1].astype(np.float32)


def _add_delay(out: np.ndarray, send: np.ndarray, level: float, bus: DelayBus, pan: float,
               sample_rate: int, tempo_bpm: float) -> None:
    """``out += `` the delay bus's return for the mono ``send·level``, panned like its part;
    ``send`` is used as work memory (overwritten).

    The send is low-passed (1st-order Butterworth at ``highcut_hz``), then echoed:
    ``y[t] = x[t − T] + feedback·y[t − T]`` with ``T`` the echo time rounded to samples —
    computed one echo period at a time. Echo samples below ``FLUSH_LEVEL`` (1e-30) are set
    to zero, so that a dying echo never turns into subnormal floats.
    """
    seconds = bus.time_beats * 60.0 / tempo_bpm
    if seconds > MAX_DELAY_S:
        log.warning("delay of %.1f s is longer than %.0f s: using %.0f s", seconds,
                    MAX_DELAY_S, MAX_DELAY_S)
        seconds = MAX_DELAY_S
    n = send.shape[0]
    period = max(1, int(round(seconds * sample_rate)))
    if period >= n:
        return
    x = send[: n - period]  # the send is not needed after this: scaled and filtered in place
    x *= np.float32(level)
    if _below_nyquist(bus.highcut_hz, sample_rate):
        sos = butter_sos(1, bus.highcut_hz, "lowpass", sample_rate).astype(np.float32)
        sos_filter_rows(sos, x[None, :], np.zeros((1, 1, 2), np.float32))  # in place
    left, right = _pan_gains(pan)
    g = _db(bus.return_db)
    gl, gr = np.float32(left * g), np.float32(right * g)
    fb = np.float32(bus.feedback)
    prev = None
    tmp = work_buffer("delay", (period,), np.float32)
    for s in range(period, n, period):  # y[s:e] = x[s−T:e−T] + fb·y[s−T:e−T], in place in x
        e = min(s + period, n)
        y = x[s - period: e - period]
        t = tmp[: e - s]
        if prev is not None:
            np.multiply(prev[: e - s], fb, out=t)
            y += t
            # An echo dying away over silence sinks into subnormal floats, which cost 10-20x
            # on many CPUs in every later pass (see dsp/biquads.py): below FLUSH_LEVEL -> 0.
            np.abs(y, out=t)
            if t.min() < FLUSH_LEVEL:
                np.copyto(y, 0.0, where=t < FLUSH_LEVEL)
        prev = y
        if not y.any():
            continue
        np.multiply(y, gl, out=t)
        out[0, s:e] += t
        np.multiply(y, gr, out=t)
        out[1, s:e] += t


def stem_cost(part: PartMix) -> float:
    """Rough relative CPU cost of a strip (for scheduling the longest jobs first)."""
    return 1.0 + 2.5 * (part.reverb_send > 0) + 0.5 * (part.delay_send > 0) \
        + 2.0 * (part.compressor is not None) + 0.1 * len(part.eq)


def mix_stems(stems: dict[str, np.ndarray], settings: MixSettings, sample_rate: int,
              tempo_bpm: float, *, workers: int = 2, consume: bool = False,
              inplace: bool = False, post_eq: tuple[EqBand, ...] = ()) -> dict[str, np.ndarray]:
    """Run every stem through its strip and sends.

    :param stems: part name → (2, samples) float32 (mono (1, samples) is accepted), all of
        one length; a part without settings gets ``PartMix()`` defaults.
    :param settings: the style's mix settings.
    :param sample_rate: Hz.
    :param tempo_bpm: tempo the delay bus syncs to (the song's first tempo).
    :param workers: threads (sosfilt and the FFTs release the GIL); results do not depend
        on it.
    :param consume: remove each stem from ``stems`` once it is processed, so that its memory
        can be freed early (the caller's dict ends up empty).
    :param inplace: process each (2, samples) float32 stem in its own memory (the returned
        arrays are the inputs; mono or other dtypes get new arrays).
    :param post_eq: the master EQ, folded into every strip (see the module docstring).
    :returns: part name → processed (2, samples) float32, same keys and order; their sum is
        the pre-master mix.
    """
    if not tempo_bpm > 0:
        raise ValueError(f"tempo_bpm must be > 0; got {tempo_bpm!r}")
    lengths = {np.shape(a)[-1] for a in stems.values()}
    if len(lengths) > 1:
        raise ValueError(f"stems must all have one length; got {sorted(lengths)}")
    names = list(stems)
    order = sorted(names, key=lambda k: -stem_cost(settings.part(k)))

    def run(name: str) -> np.ndarray:
        audio = stems[name]
        own = inplace and isinstance(audio, np.ndarray) and audio.dtype == np.float32 \
            and audio.ndim == 2 and audio.shape[0] == 2 and audio.flags.writeable
        result = process_stem(audio, settings.part(name), settings, sample_rate, tempo_bpm,
                              post_eq=post_eq, inplace=own)
        if consume:
            stems.pop(name, None)
        return result

    if workers <= 1 or len(names) <= 1:
        done = {k: run(k) for k in order}
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = dict(zip(order, pool.map(run, order)))
    return {k: done[k] for k in names}
