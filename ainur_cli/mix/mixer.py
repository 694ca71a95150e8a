"""Per-part channel strips (pedalboard) with the reverb and delay returns folded into each stem.

Reverb and delay are linear and time-invariant, so running the bus on each part's send and
adding that return to the part's own stem gives exactly the sum one shared bus would give —
and every processed stem carries its own space. The sum of the processed stems *is* the
pre-master mix; :func:`ainur_cli.mix.master.linked_master` keeps it that way.

Strip, in signal order (all settings in :class:`ainur_cli.mix.settings.PartMix`)::

    high-pass → low-pass → EQ bands → compressor      one pedalboard call
    → width (mid/side) → fader → constant-power pan   numpy
    send = fader · (L + R)/2 (post-fader, pre-pan, mono)
    + reverb return:  send·reverb_send → pre-delay → high-pass → Reverb (100 % wet, stereo)
    + delay return:   send·delay_send → low-pass (highcut) → Delay (100 % wet), panned as the part

Reverb tails and echoes that would ring past the song's last sample are cut there (the
stems keep the input length).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pedalboard as pb
import scipy.signal as ss

from ainur_cli.mix.settings import DelayBus, EqBand, MixSettings, PartMix, ReverbBus

log = logging.getLogger(__name__)

MAX_DELAY_S = 30.0  # pedalboard.Delay's limit
_CHUNK = 1 << 17    # samples per numpy work unit (no full-length temporaries)
_FILTERS = {"peak": pb.PeakFilter, "low_shelf": pb.LowShelfFilter,
            "high_shelf": pb.HighShelfFilter}


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


def strip_board(part: PartMix, sample_rate: int) -> pb.Pedalboard:
    """The pedalboard part of a strip: filters, EQ, compressor (may be empty)."""
    fx: list = []
    if part.highpass_hz is not None:
        fx.append(pb.HighpassFilter(cutoff_frequency_hz=part.highpass_hz))
    if _below_nyquist(part.lowpass_hz, sample_rate):
        fx.append(pb.LowpassFilter(cutoff_frequency_hz=part.lowpass_hz))
    fx.extend(_eq(part.eq, sample_rate))
    if part.compressor is not None and part.compressor.ratio > 1.0:
        c = part.compressor
        fx.append(pb.Compressor(threshold_db=c.threshold_db, ratio=c.ratio,
                                attack_ms=c.attack_ms, release_ms=c.release_ms))
    return pb.Pedalboard(fx)


def _eq(bands: tuple[EqBand, ...], sample_rate: int) -> list:
    return [_FILTERS[b.type](cutoff_frequency_hz=b.freq_hz, gain_db=b.gain_db, q=b.q)
            for b in bands if _below_nyquist(b.freq_hz, sample_rate) and b.gain_db != 0.0]


def _first_sound(x: np.ndarray) -> int:
    """Index of the first non-zero sample of a 1-D array (its length if all zero)."""
    for s in range(0, x.shape[0], _CHUNK):
        nz = np.flatnonzero(x[s: s + _CHUNK])
        if nz.size:
            return s + int(nz[0])
    return x.shape[0]


def _add_reverb(out: np.ndarray, send: np.ndarray, level: float, bus: ReverbBus,
                sample_rate: int) -> None:
    """``out += `` the reverb bus's stereo return for the mono ``send·level``.

    Leading silence is skipped (a reverb of silence is silence), starting 50 ms before the
    first sound so that JUCE's 10 ms parameter smoothing has settled.
    """
    n = send.shape[0]
    pre = int(round(bus.predelay_ms * 1e-3 * sample_rate))
    start = max(0, _first_sound(send) - int(0.05 * sample_rate))
    if start + pre >= n:
        return
    length = n - start
    fed = np.zeros((2, length), dtype=np.float32)
    # The send's high-pass runs on the mono signal (a 2nd-order Butterworth, in pieces).
    sos = ss.butter(2, min(bus.highpass_hz, 0.45 * sample_rate), "highpass", fs=sample_rate,
                    output="sos").astype(np.float32)
    state = np.zeros((1, 2), dtype=np.float32)
    for s in range(0, length - pre, _CHUNK):
        seg = send[start + s: min(start + s + _CHUNK, n - pre)] * np.float32(0.5 * level)
        # JUCE's reverb sums its two inputs to mono: feed half the send to each side.
        fed[0, pre + s: pre + s + seg.shape[0]], state = ss.sosfilt(sos, seg, zi=state)
    fed[1, pre:] = fed[0, pre:]
    board = pb.Pedalboard([pb.Reverb(room_size=bus.room_size, damping=bus.damping,
                                     width=bus.width, wet_level=1.0, dry_level=0.0)])
    wet = board(fed, sample_rate)
    del fed
    gain = np.float32(_db(bus.return_db))
    for s in range(0, length, _CHUNK):
        out[:, start + s: start + s + _CHUNK] += wet[:, s: s + _CHUNK] * gain


def _add_delay(out: np.ndarray, send: np.ndarray, level: float, bus: DelayBus, pan: float,
               sample_rate: int, tempo_bpm: float) -> None:
    """``out += `` the delay bus's return for the mono ``send·level``, panned like its part."""
    seconds = bus.time_beats * 60.0 / tempo_bpm
    if seconds > MAX_DELAY_S:
        log.warning("delay of %.1f s is longer than %.0f s: using %.0f s", seconds,
                    MAX_DELAY_S, MAX_DELAY_S)
        seconds = MAX_DELAY_S
    fx: list = []
    if _below_nyquist(bus.highcut_hz, sample_rate):
        fx.append(pb.LowpassFilter(cutoff_frequency_hz=bus.highcut_hz))
    fx.append(pb.Delay(delay_seconds=seconds, feedback=bus.feedback, mix=1.0))
    echo = pb.Pedalboard(fx)((send * np.float32(level))[None, :], sample_rate)[0]
    left, right = _pan_gains(pan)
    g = _db(bus.return_db)
    gl, gr = np.float32(left * g), np.float32(right * g)
    for s in range(0, send.shape[0], _CHUNK):
        e = echo[s: s + _CHUNK]
        out[0, s: s + _CHUNK] += e * gl
        out[1, s: s + _CHUNK] += e * gr


def process_stem(audio: np.ndarray, part: PartMix, settings: MixSettings, sample_rate: int,
                 tempo_bpm: float) -> np.ndarray:
    """One stem through its strip plus its own send returns.

    :param audio: (1 or 2, samples) float; mono is duplicated to stereo. Not modified.
    :returns: (2, samples) float32, a new array.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ValueError(f"a stem must be (1 or 2, samples); got shape {x.shape}")
    if x.shape[0] == 1:
        x = np.repeat(x, 2, axis=0)
    board = strip_board(part, sample_rate)
    out = board(x, sample_rate) if len(board) else np.array(x, dtype=np.float32, copy=True)
    n = out.shape[1]
    fader = _db(part.gain_db)
    left, right = _pan_gains(part.pan)
    gl, gr = np.float32(fader * left), np.float32(fader * right)
    half, half_w = np.float32(0.5), np.float32(0.5 * part.width)
    send = np.empty(n, dtype=np.float32) if part.reverb_send > 0 or part.delay_send > 0 else None
    for s in range(0, n, _CHUNK):  # width, fader, pan in place, chunk by chunk
        l, r = out[0, s: s + _CHUNK], out[1, s: s + _CHUNK]
        if send is None and part.width == 1.0:
            if gl != 1.0:
                l *= gl
            if gr != 1.0:
                r *= gr
            continue
        mid = (l + r) * half
        if send is not None:
            np.multiply(mid, np.float32(fader), out=send[s: s + _CHUNK])
        if part.width != 1.0:
            side = (l - r) * half_w
            np.add(mid, side, out=l)
            np.subtract(mid, side, out=r)
        if gl != 1.0:
            l *= gl
        if gr != 1.0:
            r *= gr
    if part.reverb_send > 0:
        _add_reverb(out, send, part.reverb_send, settings.reverb, sample_rate)
    if part.delay_send > 0:
        _add_delay(out, send, part.delay_send, settings.delay, part.pan, sample_rate, tempo_bpm)
    return out


def _cost(part: PartMix) -> float:
    """Rough relative CPU cost of a strip (for scheduling the longest jobs first)."""
    return 1.0 + 2.0 * (part.reverb_send > 0) + 0.7 * (part.delay_send > 0) \
        + 0.3 * (part.compressor is not None) + 0.15 * len(part.eq)


def mix_stems(stems: dict[str, np.ndarray], settings: MixSettings, sample_rate: int,
              tempo_bpm: float, *, workers: int = 2, consume: bool = False) -> dict[str, np.ndarray]:
    """Run every stem through its strip and sends.

    :param stems: part name → (2, samples) float32 (mono (1, samples) is accepted), all of
        one length; a part without settings gets ``PartMix()`` defaults.
    :param settings: the style's mix settings.
    :param sample_rate: Hz.
    :param tempo_bpm: tempo the delay bus syncs to (the song's first tempo).
    :param workers: threads (pedalboard releases the GIL); results do not depend on it.
    :param consume: remove each stem from ``stems`` once it is processed, so that its memory
        can be freed early (the caller's dict ends up empty).
    :returns: part name → processed (2, samples) float32, same keys and order; their sum is
        the pre-master mix.
    """
    if not tempo_bpm > 0:
        raise ValueError(f"tempo_bpm must be > 0; got {tempo_bpm!r}")
    lengths = {np.shape(a)[-1] for a in stems.values()}
    if len(lengths) > 1:
        raise ValueError(f"stems must all have one length; got {sorted(lengths)}")
    names = list(stems)
    order = sorted(names, key=lambda k: -_cost(settings.part(k)))

    def run(name: str) -> np.ndarray:
        result = process_stem(stems[name], settings.part(name), settings, sample_rate, tempo_bpm)
        if consume:
            stems.pop(name, None)
        return result

    if workers <= 1 or len(names) <= 1:
        done = {k: run(k) for k in order}
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = dict(zip(order, pool.map(run, order)))
    return {k: done[k] for k in names}
