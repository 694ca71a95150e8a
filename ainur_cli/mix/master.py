"""Linked mastering: one gain curve, computed from the mix, applied to every stem.

The master chain has a linear part (EQ, applied to each stem identically by the mixer) and a nonlinear
part (glue compression, loudness gain, true-peak limiting). The nonlinear part is computed once
from the mix as a per-sample gain curve ``g[n]``; every stem is multiplied by the same curve
and the mastered mix is the sum of the mastered stems. So the stems null against the mix
exactly, up to export quantisation.

The limiter is a look-ahead peak limiter computed on 16-sample blocks:

1. required gain per block ``req = min(1, threshold / block peak)``;
2. attack: a centred minimum over the look-ahead then a centred moving average of the same
   width (never above ``req``: every averaged value is a minimum over a window holding the
   block);
3. release: gain reduction in dB decays linearly, computed in closed form with a running
   maximum (never less reduction than step 2);
4. linear ramps between block edges, each edge the minimum of the blocks it joins (an
   interpolated value is never above the requirement of the block it lies in).

Loudness gain and limiting are iterated until the mix's integrated loudness is within
0.1 LU of the target (or as close as the ceiling allows) and its 4x-oversampled true peak is
at or below the ceiling.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d

from ainur_cli.mix.loudness import (
    gated_loudness_from_power,
    integrated_lufs,
    k_weighted_power,
    true_peak_linear,
)
from ainur_cli.mix.settings import MasterSettings

log = logging.getLogger(__name__)

BLOCK = 16


@dataclass
class MasterResult:
    """Mastered stems (2, n) float32, their sum ``mix``, the shared gain curve (n,) float32,
    and what was measured on the final mix."""

    stems: dict
    mix: np.ndarray
    gain: np.ndarray
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_gain_db: float
    max_gain_reduction_db: float


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average with edge padding (same length)."""
    if width <= 1:
        return x
    half = width // 2
    padded = np.pad(x, (half, width - 1 - half), mode="edge")
    c = np.concatenate([[0.0], np.cumsum(padded)])
    return (c[width:] - c[:-width]) / width


def _block_peaks(env: np.ndarray) -> np.ndarray:
    nb = -(-env.shape[0] // BLOCK)
    padded = np.zeros(nb * BLOCK)
    padded[: env.shape[0]] = env
    return padded.reshape(nb, BLOCK).max(axis=1)


def _to_samples(block_gain: np.ndarray, n: int) -> np.ndarray:
    """Block gains → samples: linear ramps between block-boundary values, each the minimum of
    the two blocks it joins, so no sample gets more gain than its own block allows."""
    edges = np.minimum(np.r_[block_gain[0], block_gain], np.r_[block_gain, block_gain[-1]])
    w = (np.arange(BLOCK) + 0.5) / BLOCK
    ramps = edges[:-1, None] * (1 - w) + edges[1:, None] * w
    return ramps.ravel()[:n]


def limiter_gain(peak_env: np.ndarray, threshold: float, sample_rate: int,
                 lookahead_ms: float = 2.0, release_ms: float = 80.0) -> np.ndarray:
    """Per-sample gain (n,) so that ``peak_env * gain <= threshold`` everywhere."""
    blocks = _block_peaks(peak_env)
    with np.errstate(divide="ignore"):
        req = np.minimum(1.0, threshold / np.maximum(blocks, 1e-12))
    a = max(1, int(round(lookahead_ms * 1e-3 * sample_rate / BLOCK)))
    g = minimum_filter1d(req, size=2 * a + 1, mode="nearest")
    g = np.minimum(_moving_average(g, 2 * a + 1), req)
    gr_db = -20 * np.log10(np.maximum(g, 1e-12))
    rate = 6.0 / max(release_ms * 1e-3 * sample_rate / BLOCK, 1e-9)  # dB per block
    idx = np.arange(gr_db.shape[0]) * rate
    gr_db = np.maximum.accumulate(gr_db + idx) - idx
    return _to_samples(10 ** (-gr_db / 20), peak_env.shape[0])


def glue_gain(mix: np.ndarray, sample_rate: int, threshold_db: float, ratio: float) -> np.ndarray:
    """Slow RMS compressor gain (n,) computed from the mix (linked: applied to all stems)."""
    n = mix.shape[1]
    if ratio <= 1.0:
        return np.ones(n)
    power = _block_peaks(np.mean(mix.astype(np.float64) ** 2, axis=0))  # block max power
    win = max(1, int(0.05 * sample_rate / BLOCK))
    level_db = 10 * np.log10(np.maximum(_moving_average(power, win), 1e-12)) + 3.0
    gr = np.maximum(0.0, level_db - threshold_db) * (1 - 1 / ratio)
    gr = _moving_average(gr, max(1, int(0.2 * sample_rate / BLOCK)))
    return _to_samples(10 ** (-gr / 20), n)


def linked_master(stems: dict[str, np.ndarray], sample_rate: int, *, target_lufs: float = -14.0,
                  true_peak_dbtp: float = -1.0, settings: MasterSettings = MasterSettings()) -> MasterResult:
    """Master ``stems`` (name → (2, n) float32, already through the master EQ, see
    :func:`ainur_cli.mix.mixer.mix_stems`) to ``target_lufs`` under ``true_peak_dbtp``."""
    names = list(stems)
    n = next(iter(stems.values())).shape[1] if stems else 0
    mix = np.zeros((2, n), dtype=np.float64)
    for a in stems.values():
        mix += a
    ceiling = 10 ** (true_peak_dbtp / 20)
    power = k_weighted_power(mix, sample_rate)
    loudness = gated_loudness_from_power(power, sample_rate)
    if not math.isfinite(loudness):
        log.warning("the mix is silent; nothing to master")
        return MasterResult({k: v.astype(np.float32) for k, v in stems.items()},
                            mix.astype(np.float32), np.ones(n, np.float32), -math.inf,
                            -math.inf, 0.0, 0.0)
    gain_db = target_lufs - loudness
    glue = glue_gain(mix * 10 ** (gain_db / 20), sample_rate, settings.glue_threshold_db,
                     settings.glue_ratio)
    base_env = np.abs(mix).max(axis=0)
    margin_db = 0.3
    bias_db = 0.0  # exact loudness minus the estimate, learnt from the last exact measurement
    inner = 0
    for attempt in range(12):
        static = 10 ** (gain_db / 20)
        pre = static * glue
        lim = limiter_gain(base_env * pre, ceiling * 10 ** (-margin_db / 20), sample_rate,
                           release_ms=settings.limiter_release_ms)
        curve = pre * lim
        # Loudness of mix*curve from the K-weighted power of the mix (the curve is smooth, so
        # K(mix*curve) ≈ K(mix)*curve); the final mix is measured exactly below.
        est = gated_loudness_from_power(power * curve * curve, sample_rate) + bias_db
        if abs(target_lufs - est) > 0.02 and inner < 6:
            gain_db += target_lufs - est
            inner += 1
            continue
        gain = curve.astype(np.float32)
        mastered = {k: stems[k] * gain for k in names}
        final = np.zeros((2, n), dtype=np.float32)
        for k in names:
            final += mastered[k]
        tp = true_peak_linear(final, sample_rate)
        if tp > ceiling and attempt < 11:
            margin_db += 20 * math.log10(tp / ceiling) + 0.02
            continue
        lufs = integrated_lufs(final, sample_rate)
        if abs(target_lufs - lufs) > 0.1 and attempt < 10:
            bias_db += lufs - est
            inner = 0
            continue
        break
    if abs(lufs - target_lufs) > 0.3:
        log.warning("mix reaches %.1f LUFS, not %.1f: the true-peak ceiling %.1f dBTP limits it",
                    lufs, target_lufs, true_peak_dbtp)
    return MasterResult(mastered, final, gain, lufs, 20 * math.log10(max(tp, 1e-12)),
                        gain_db, float(-20 * math.log10(max(float(np.min(lim)), 1e-12))))
