"""Per-part mix chains (pedalboard) with reverb/delay sends folded into each stem.

Reverb and delay are linear, so running the bus on each stem's send and adding the return to
that stem gives exactly the same sum as one shared bus — and every processed stem carries its
own space, so the stems still sum to the pre-master mix.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pedalboard as pb

from ainur_cli.mix.settings import MixSettings, PartMix


def _db(x: float) -> float:
    return 10 ** (x / 20)


def eq_plugins(bands) -> list:
    """pedalboard filters for EQ bands (peak / low_shelf / high_shelf)."""
    cls = {"peak": pb.PeakFilter, "low_shelf": pb.LowShelfFilter, "high_shelf": pb.HighShelfFilter}
    return [cls[b.type](cutoff_frequency_hz=b.freq_hz, gain_db=b.gain_db, q=b.q) for b in bands]


def _chain(part: PartMix) -> pb.Pedalboard:
    fx: list = []
    if part.highpass_hz:
        fx.append(pb.HighpassFilter(cutoff_frequency_hz=part.highpass_hz))
    if part.lowpass_hz:
        fx.append(pb.LowpassFilter(cutoff_frequency_hz=part.lowpass_hz))
    fx += eq_plugins(part.eq)
    if part.compressor:
        c = part.compressor
        fx.append(pb.Compressor(threshold_db=c.threshold_db, ratio=c.ratio,
                                attack_ms=c.attack_ms, release_ms=c.release_ms))
    if part.gain_db:
        fx.append(pb.Gain(gain_db=part.gain_db))
    return pb.Pedalboard(fx)


def _pan_width(audio: np.ndarray, pan: float, width: float) -> np.ndarray:
    """Constant-power pan and mid/side width of a stereo (2, n) signal."""
    if width != 1.0:
        mid = (audio[0] + audio[1]) * 0.5
        side = (audio[0] - audio[1]) * 0.5 * width
        audio = np.stack([mid + side, mid - side])
    if pan:
        angle = (pan + 1) * math.pi / 4
        gains = np.array([[math.cos(angle)], [math.sin(angle)]], dtype=np.float32) * math.sqrt(2)
        audio = audio * gains
    return audio


def process_stem(audio: np.ndarray, part: PartMix, settings: MixSettings, sample_rate: int,
                 tempo_bpm: float) -> np.ndarray:
    """One stem through its chain plus its sends' returns; (2, n) float32 in and out."""
    n = audio.shape[1]
    dry = _chain(part)(audio.astype(np.float32), sample_rate)
    dry = _pan_width(dry, part.pan, part.width)
    out = dry.astype(np.float32, copy=True)
    if part.reverb_send > 0:
        r = settings.reverb
        verb = pb.Reverb(room_size=r.room_size, damping=r.damping, width=r.width,
                         wet_level=1.0, dry_level=0.0)
        out += verb(dry * part.reverb_send, sample_rate)[:, :n] * _db(r.return_db)
    if part.delay_send > 0:
        d = settings.delay
        seconds = d.time_beats * 60.0 / tempo_bpm
        echo = pb.Pedalboard([pb.Delay(delay_seconds=min(seconds, 4.0), feedback=d.feedback, mix=1.0),
                              pb.LowpassFilter(cutoff_frequency_hz=d.highcut_hz)])
        out += echo(dry * part.delay_send, sample_rate)[:, :n] * _db(d.return_db)
    if settings.master.eq:
        # The master EQ is linear: applied to each stem here, it is the master's EQ.
        out = pb.Pedalboard(eq_plugins(settings.master.eq))(out, sample_rate)
    return out


def mix_stems(stems: dict[str, np.ndarray], settings: MixSettings, sample_rate: int,
              tempo_bpm: float, workers: int = 2) -> dict[str, np.ndarray]:
    """Process every stem (2, n) float32 with its chain; same keys, order and lengths.

    The sum of the returned stems is the pre-master mix, already through the master's linear
    EQ (``settings.master.eq``). Deterministic for any ``workers``.
    """
    names = list(stems)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = pool.map(lambda k: process_stem(stems[k], settings.part(k), settings,
                                               sample_rate, tempo_bpm), names)
        return dict(zip(names, done))
