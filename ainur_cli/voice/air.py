"""Air: the sung vocal's band above 11 kHz, made from its own 5.5-11 kHz band.

WORLD runs at espeak-ng's 22 050 Hz (voice/render.py), so the resampled vocal stops at
11.025 kHz: dull next to the instruments, where a sung voice carries breath and sibilance up
to 16-20 kHz, about 25-45 dB below its 1-4 kHz band. :func:`add_air` extends the band at the
output rate, after the resample: the 5.5-11 kHz band (the fricative noise and the top of the
voiced harmonics) is full-wave rectified, which doubles its frequencies (a sine's ``|x|`` has
its first overtone at twice the frequency, 7.5 dB below it; two harmonics of F0 give their
sum, again a harmonic), and the part of that above 11 kHz is high-passed out and mixed in.

Rectification is homogeneous of degree one, so the air follows the band's level and envelope
exactly: no noise, nothing to seed, silence stays silence, and an "s" gets far more air than
a vowel, as in a real voice. Measured figures are in docs/voice.md ("Air").
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

SOURCE_BAND_HZ = (5500.0, 11000.0)   # what is rectified
AIR_EDGE_HZ = 11000.0                # the air is high-passed here (-3 dB, 6th order)
AIR_TOP_HZ = 15000.0                 # and rolled off above here (2nd order), as a voice's air
MIN_RATE_HZ = 2 * 12000              # below this there is no room above 11 kHz: no air
BLOCK_SAMPLES = 512                  # silence is found (and skipped) in blocks this long
TAIL_SAMPLES = 2 * BLOCK_SAMPLES     # filters ring on this long after the voice stops
SILENT = 1e-7                        # |sample| below this (-140 dBFS) counts as silence


def _active_runs(x: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges ``[a, b)`` where any row of ``x`` (rows, samples) is not silent, in
    whole blocks, each extended by :data:`TAIL_SAMPLES` for the filters' ringing."""
    n = x.shape[1]
    whole = n // BLOCK_SAMPLES * BLOCK_SAMPLES
    peak = [np.abs(x[:, :whole].reshape(x.shape[0], -1, BLOCK_SAMPLES)).max(axis=(0, 2))]
    if whole < n:
        peak.append(np.abs(x[:, whole:]).max(keepdims=True).reshape(1))
    loud = np.flatnonzero(np.concatenate(peak) >= SILENT)
    if loud.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(loud) * BLOCK_SAMPLES > TAIL_SAMPLES + BLOCK_SAMPLES)
    starts = np.concatenate([loud[:1], loud[breaks + 1]]) * BLOCK_SAMPLES
    ends = (np.concatenate([loud[breaks], loud[-1:]]) + 1) * BLOCK_SAMPLES + TAIL_SAMPLES
    return [(int(a), int(min(b, n))) for a, b in zip(starts, ends)]


def add_air(x: np.ndarray, sample_rate: int, air_db: float | None) -> np.ndarray:
    """Add the air band to a vocal, in place.

    :param x: (channels, samples) float32 at ``sample_rate``, writable; a vocal with nothing
        above ~11 kHz (the resampled 22 050 Hz voice).
    :param sample_rate: Hz. Below :data:`MIN_RATE_HZ` nothing is added.
    :param air_db: gain of the rectified-and-filtered band, in dB; ``None`` = off. At the
        default (``RenderOptions.air_db``) the 11-16 kHz band of the benchmark song sits about
        37 dB (tenor) / 30 dB (soprano) below its 1-4 kHz band, about 8 dB below it in the
        frames where the 5.5-11 kHz band leads (fricatives).
    :returns: ``x``; where the voice is silent it is unchanged, bit for bit, apart from the
        filters' decay over the :data:`TAIL_SAMPLES` after each phrase.
    """
    if x.dtype != np.float32 or x.ndim != 2:
        raise ValueError(f"add_air takes (channels, samples) float32; got {x.dtype} {x.shape}")
    if air_db is None or sample_rate < MIN_RATE_HZ or x.shape[1] == 0:
        return x
    from ainur_cli.dsp.biquads import sos_filter_rows  # (as breath_noise: loaded when used)
    from ainur_cli.dsp.filter_design import butter_sos

    band_sos = butter_sos(2, SOURCE_BAND_HZ, "bandpass", sample_rate)
    # One cascade costs about the same whatever its length (the kernel is latency-bound), so
    # the roll-off rides on the high-pass, and the gain on its first section.
    air_sos = butter_sos(6, AIR_EDGE_HZ, "highpass", sample_rate)
    if AIR_TOP_HZ < sample_rate / 2:
        air_sos = np.concatenate([air_sos, butter_sos(2, AIR_TOP_HZ, "lowpass", sample_rate)])
    air_sos[0, :3] *= 10.0 ** (air_db / 20.0)
    runs = _active_runs(x)
    log.debug("air %+.1f dB on %d runs, %.0f %% of %d samples", air_db, len(runs),
              100.0 * sum(b - a for a, b in runs) / x.shape[1], x.shape[1])
    for a, b in runs:
        y = x[:, a:b].copy()  # x stays the dry signal until the sum
        sos_filter_rows(band_sos, y, np.zeros((y.shape[0], len(band_sos), 2), np.float32))
        np.abs(y, out=y)
        sos_filter_rows(air_sos, y, np.zeros((y.shape[0], len(air_sos), 2), np.float32))
        x[:, a:b] += y
    return x
