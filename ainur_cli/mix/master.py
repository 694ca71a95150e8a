"""Linked mastering: one gain curve, computed from the mix, applied to every stem.

The master chain has a linear part — EQ, applied to each stem identically — and a nonlinear
part: glue compression, loudness gain and true-peak limiting. The nonlinear part is computed
once, from the (EQ'd) mix, as a gain curve ``g[n]``; every stem is multiplied by the same
curve and the mastered mix *is* the sum of the mastered stems. So the stems null against the
mix up to float rounding (and, in files, export quantisation).

How the curve is found (all per ~0.7 ms block, see :mod:`ainur_cli.mix.dynamics`):

1. K-weighted power of the mix (once) → its loudness ``L0``; the glue compressor's detector
   sees the mix scaled by ``target − L0``, so its threshold means the same for every song.
2. The mix's true-peak envelope per block: a proven upper bound everywhere, 8x oversampled
   where the limiter can act.
3. Loudness gain ``G`` and the limiter are solved together: the limiter keeps
   ``glue·G·limiter·envelope`` under the ceiling (with a look-ahead ramp, so it never needs to
   clip) — and every stem's sample peaks under −0.1 dBFS, since stems that cancel each other
   can peak above the mix — and ``G`` is iterated (secant steps) until the loudness estimated
   from the block powers meets the target, or until the limiter would need more than
   ``max_limiting_db``.
4. The *final mix* ``mix·g`` is measured — integrated loudness exactly, true peak at 8x
   wherever it can come near the top (:func:`ainur_cli.mix.truepeak.curve_true_peak`) —
   without building it. If the loudness is off by more than 0.05 LU or the true peak is over
   the ceiling, the estimate's bias / the internal ceiling is corrected and step 3 repeats
   (at most 3 rounds; in practice one).
5. Every stem is multiplied by the expanded curve and the mix is rebuilt as their sum.

Everything runs chunk by chunk (no full-length temporaries) and touches each stem three
times: EQ + sum + peaks, the final gain, and nothing else.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ainur_cli.mix import dynamics as dyn
from ainur_cli.mix.eq import eq_sos
from ainur_cli.mix.loudness import (
    BLOCK_S,
    block_bounds,
    gated_loudness,
    integrated_lufs,
    k_power_prefix,
    sorted_unique,
)
from ainur_cli.mix.truepeak import (
    block_peaks,
    curve_true_peak,
    exact_block_peaks,
    neighbour_max,
    peak_bound,
    true_peak_linear,
)
from ainur_cli.mix.settings import MasterSettings
from ainur_cli.mix.stems import MixSum, apply_curve, eq_sum_peaks

log = logging.getLogger(__name__)

LOUDNESS_TOLERANCE_LU = 0.05   # aim of the final correction rounds (the promise is ±0.3 LU)
CEILING_MARGIN_DB = 0.1        # the limiter aims this far under the ceiling (8x grid vs finer)
NEAR_DB = 1.0                  # blocks this close to the limiter's reach are oversampled
REPORT_TOLERANCE_DB = 0.1      # the reported true peak may be this much below the exact one
# The master detects peaks at 8x: a 4x grid reads up to ~0.2 dB low on hi-hat-like content,
# and other meters (ffmpeg's ebur128 resamples to 192 kHz) would see the difference.
OVERSAMPLE = 8
MAX_ROUNDS = 3
# Stems can peak above the mix where they cancel each other; the shared gain also keeps every
# stem's samples under this, so 16/24-bit stems never clip (a clipped stem would not null).
STEM_PEAK_DBFS = -0.1


@dataclass(frozen=True, eq=False)
class MasterResult:
    """What :func:`linked_master` returns.

    :ivar stems: name → mastered stem, (channels, samples) float32, same keys/order as given.
    :ivar mix: the sum of ``stems``, (channels, samples) float32.
    :ivar gain_db_curve: the shared gain in dB at control points, float32 (points,); point
        ``i`` sits at sample ``i*curve_hop_samples + (curve_hop_samples−1)/2``; samples
        in between get the linear interpolation of the *linear* gains
        (see :meth:`gain_linear`).
    :ivar integrated_lufs: loudness of ``mix`` (−inf if silent).
    :ivar true_peak_dbtp: true peak of ``mix``, 8x oversampled (−inf if silent); at most
        0.1 dB below the exact value of that meter.
    :ivar loudness_gain_db: the static gain that moved the mix to the target.
    :ivar max_gain_reduction_db: most dynamic gain reduction (glue + limiter) anywhere, ≥ 0.
    """

    stems: dict
    mix: np.ndarray
    gain_db_curve: np.ndarray
    curve_hop_samples: int
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_gain_db: float
    max_gain_reduction_db: float
    glue_max_reduction_db: float = 0.0
    limiter_max_reduction_db: float = 0.0
    target_reached: bool = True
    warnings: tuple = field(default=())

    def gain_linear(self) -> np.ndarray:
        """The per-sample linear gain (samples,) float32 exactly as applied to every stem."""
        return dyn.expand(10.0 ** (self.gain_db_curve.astype(np.float64) / 20.0),
                          self.curve_hop_samples, self.mix.shape[1])


def _db(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(np.maximum(x, 0.0))


class _Solver:
    """Block-rate model of the master: loudness and limiter as functions of the gain G."""

    def __init__(self, power_blocks, env_db, stem_headroom_db, glue_db, sample_rate, block,
                 n_samples, settings):
        self.power_blocks = power_blocks          # K-weighted energy per block
        self.env_db = env_db                      # true-peak envelope of the mix per block, dB
        self.stem_headroom_db = stem_headroom_db  # most gain before a stem's samples clip, dB
        self.glue_db = glue_db                    # glue gain per block, dB (≤ 0)
        self.block = block
        lo, hi = block_bounds(n_samples, sample_rate)
        self.lo_b, self.hi_b = lo // block, np.maximum(hi // block, lo // block + 1)
        self.norm = BLOCK_S * sample_rate
        self.lookahead = max(1, int(round(settings.lookahead_ms * 1e-3 * sample_rate / block)))
        self.release = dyn.coefficient(settings.limiter_release_ms, block, sample_rate)
        self.max_limiting_db = settings.max_limiting_db

    def headroom_db(self, ceiling_db: float) -> np.ndarray:
        """Most total gain each block may get (dB), neighbours included (see dyn.expand)."""
        return dyn.neighbour_min(np.minimum(ceiling_db - self.env_db, self.stem_headroom_db))

    def gain_cap_db(self, ceiling_db: float) -> float:
        """The largest G whose limiter needs at most ``max_limiting_db`` anywhere."""
        return float(np.min(self.headroom_db(ceiling_db) - self.glue_db)) + self.max_limiting_db

    def curve_db(self, gain_db: float, ceiling_db: float) -> tuple[np.ndarray, np.ndarray]:
        """(total gain dB per block, limiter gain dB per block)."""
        required = self.headroom_db(ceiling_db) - gain_db - self.glue_db
        lim = dyn.limiter_gain_db(required, lookahead_blocks=self.lookahead,
                                  release_coeff=self.release)
        return self.glue_db + gain_db + lim, lim

    def loudness(self, total_db: np.ndarray) -> float:
        energy = self.power_blocks * 10.0 ** (total_db / 10.0)
        c = np.concatenate(([0.0], np.cumsum(energy)))
        hi = np.minimum(self.hi_b, energy.size)
        return gated_loudness((c[hi] - c[np.minimum(self.lo_b, hi)]) / self.norm)

    def solve(self, target: float, ceiling_db: float, start_db: float
              ) -> tuple[float, bool, np.ndarray, np.ndarray, float]:
        """G (dB) whose estimated loudness is ``target``: (G, capped, and at G the total and
        limiter gains per block (see :meth:`curve_db`) and the estimated loudness)."""
        cap = self.gain_cap_db(ceiling_db)
        g = min(start_db, cap)
        total, lim = self.curve_db(g, ceiling_db)
        estimate = self.loudness(total)
        f = estimate - target
        prev = None
        for _ in range(12):
            if abs(f) < 0.002:
                break
            # Loudness rises with G at a slope between ~0 (hard limiting) and 1 (none): a
            # secant step with the slope kept in [0.25, 1] never overshoots far.
            slope = 1.0
            if prev is not None and g != prev[0]:
                slope = min(max((f - prev[1]) / (g - prev[0]), 0.25), 1.0)
            new = min(g - f / slope, cap)
            if new == g:
                break
            prev = (g, f)
            g = new
            total, lim = self.curve_db(g, ceiling_db)
            estimate = self.loudness(total)
            f = estimate - target
        return g, (g >= cap - 1e-9 and f < -0.002), total, lim, estimate


def linked_master(
    stems: dict[str, np.ndarray],
    sample_rate: int,
    *,
    target_lufs: float = -14.0,
    true_peak_dbtp: float = -1.0,
    settings: MasterSettings = MasterSettings(),
    inplace: bool = False,
    premixed: MixSum | None = None,
    workers: int = 2,
) -> MasterResult:
    """Master ``stems`` to ``target_lufs`` under a ``true_peak_dbtp`` ceiling, linked.

    :param stems: name → (channels, samples) float32, all the same shape (the processed stems
        from :func:`ainur_cli.mix.mixer.mix_stems`; their sum is the pre-master mix).
    :param sample_rate: Hz.
    :param target_lufs: integrated loudness of the mastered mix (BS.1770), LUFS.
    :param true_peak_dbtp: ceiling for the mix's true peak, dBTP (held at 8x oversampling,
        so 4x meters such as BS.1770's read it at or below the ceiling too).
    :param settings: master EQ and dynamics.
    :param inplace: allow overwriting the input arrays (saves a copy of every stem; the
        caller must not use ``stems`` afterwards). The result is the same either way.
    :param premixed: the stems already summed (in a fixed order) with their block peaks
        (:class:`ainur_cli.mix.stems.MixSum`, block :func:`dynamics.block_size_for`); only
        without a master EQ (fold it into the strips). Its ``mix`` becomes the result's.
    :param workers: threads for the EQ/sum and gain passes (1 or 2); the result is the same.
    :returns: :class:`MasterResult`; deterministic for the same input.
    :raises ValueError: empty ``stems``, mismatched shapes or non-finite targets
        (programming errors; user settings are validated earlier).
    """
    if not stems:
        raise ValueError("linked_master needs at least one stem")
    shapes = {np.shape(a) for a in stems.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"stems must all be (channels, samples) of one shape; got {shapes}")
    if not (math.isfinite(target_lufs) and math.isfinite(true_peak_dbtp)):
        raise ValueError("target_lufs and true_peak_dbtp must be finite")
    shape = next(iter(shapes))
    n = shape[1]
    if inplace:
        stems = {k: v if isinstance(v, np.ndarray) and v.dtype == np.float32 and v.flags.writeable
                 else np.array(v, dtype=np.float32) for k, v in stems.items()}
    sos = eq_sos(settings.eq, sample_rate)
    owned = inplace or sos is not None
    block = dyn.block_size_for(sample_rate)
    n_blocks = -(-n // block)
    if premixed is not None:
        if sos is not None or premixed.block != block or premixed.mix.shape != shape \
                or premixed.count != len(stems):
            raise ValueError("premixed needs every stem summed, the master's block and no master EQ")
        work, mix, stem_peaks = stems, premixed.mix, premixed.stem_peaks
    else:
        work, mix, stem_peaks = eq_sum_peaks(stems, sos, block, inplace, workers=workers)

    # 1. K-weighted energy per block and per gating block, in one pass over the mix. With two
    # workers that pass runs in a second thread (the filter releases the GIL) while this one
    # finds the mix's block peaks and powers for steps 1-2.
    lo, hi = block_bounds(n, sample_rate)
    grid = np.arange(n_blocks + 1) * block
    grid[-1] = n
    cuts = sorted_unique(np.concatenate((grid, lo, hi)))
    with ThreadPoolExecutor(max_workers=1) as pool:
        k_pass = pool.submit(k_power_prefix, mix, sample_rate, cuts) if workers > 1 else None
        mean_square = dyn.mean_square_blocks(mix, block)
        peaks, curvature = block_peaks(mix, block)
        prefix = k_pass.result() if k_pass is not None else k_power_prefix(mix, sample_rate, cuts)
    l0 = gated_loudness((prefix[np.searchsorted(cuts, hi)] - prefix[np.searchsorted(cuts, lo)])
                        / (BLOCK_S * sample_rate)) if lo.size else -math.inf
    if not math.isfinite(l0):
        return _unchanged(work if owned else {k: v.copy() for k, v in work.items()}, mix,
                          block, n_blocks, sample_rate)
    g0 = target_lufs - l0
    power_blocks = np.diff(prefix[np.searchsorted(cuts, grid)])
    glue_db = -dyn.glue_reduction_db(
        mean_square, offset_db=g0,
        threshold_db=settings.glue_threshold_db, ratio=settings.glue_ratio,
        knee_db=settings.glue_knee_db, attack_ms=settings.glue_attack_ms,
        release_ms=settings.glue_release_ms, block=block, sample_rate=sample_rate)

    # 2. True-peak envelope: a proven upper bound of every block's 8x peak from its sample
    # peaks and second differences (:func:`ainur_cli.mix.truepeak.peak_bound`; a few
    # hundredths of a dB above the exact value on most audio), made exact by oversampling
    # wherever the limiter may act: within NEAR_DB of the ceiling at the first solution.
    local = neighbour_max(peaks)
    bound = peak_bound(peaks, curvature, block, OVERSAMPLE)
    stem_headroom = STEM_PEAK_DBFS - _db(stem_peaks)
    solver = _Solver(power_blocks, _db(bound), stem_headroom, glue_db, sample_rate, block, n,
                     settings)
    ceiling = true_peak_dbtp - CEILING_MARGIN_DB
    gain_db = solver.solve(target_lufs, ceiling, g0)[0]
    near = np.flatnonzero(solver.env_db + glue_db + gain_db + NEAR_DB > ceiling)
    env = bound
    if near.size:
        env[near] = exact_block_peaks(mix, near, block, oversample=OVERSAMPLE)
    solver.env_db = _db(env)

    # 3–4. Solve, measure the real result, correct (bias / ceiling), repeat if needed.
    bias = 0.0
    for round_ in range(MAX_ROUNDS):
        gain_db, capped, total_db, lim_db, estimate = solver.solve(target_lufs - bias, ceiling,
                                                                  gain_db)
        curve = 10.0 ** (total_db / 20.0)
        lufs = integrated_lufs(mix, sample_rate,
                               gain=lambda s, e: dyn.curve_span(curve, block, s, e))
        tp_db = curve_true_peak(mix, curve, block, env, local, true_peak_dbtp,
                                tolerance_db=REPORT_TOLERANCE_DB, oversample=OVERSAMPLE)
        log.debug("master round %d: G %.3f dB, estimate %.3f, measured %.3f LUFS, TP %.3f dBTP",
                  round_, gain_db, estimate, lufs, tp_db)
        tp_ok = tp_db <= true_peak_dbtp - 0.001  # room for float32 rounding of the stem sum
        loud_ok = abs(lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU or (capped and lufs < target_lufs)
        if (tp_ok and loud_ok) or round_ == MAX_ROUNDS - 1:
            break
        bias += lufs - estimate
        if not tp_ok:
            ceiling -= tp_db - true_peak_dbtp + 0.01

    # 5. The same curve on every stem; the mix is their sum.
    out = work if owned else {k: np.empty(shape, dtype=np.float32) for k in work}
    apply_curve(curve, block, work, out, mix, workers=workers)

    warnings: list[str] = []
    reached = abs(lufs - target_lufs) <= 0.3
    if not reached:
        msg = (f"the mix reaches {lufs:.2f} LUFS, not the target {target_lufs:.2f} LUFS: "
               f"that would need more than {settings.max_limiting_db:g} dB of limiting under "
               f"the {true_peak_dbtp:g} dBTP ceiling" if lufs < target_lufs else
               f"the mix ends at {lufs:.2f} LUFS instead of {target_lufs:.2f} LUFS")
        log.warning(msg)
        warnings.append(msg)
    if tp_db > true_peak_dbtp:
        msg = f"true peak {tp_db:.2f} dBTP is over the {true_peak_dbtp:g} dBTP ceiling"
        log.warning(msg)
        warnings.append(msg)
    dynamic_db = glue_db + lim_db
    return MasterResult(
        stems=out, mix=mix, gain_db_curve=total_db.astype(np.float32), curve_hop_samples=block,
        integrated_lufs=float(lufs), true_peak_dbtp=tp_db, loudness_gain_db=float(gain_db),
        max_gain_reduction_db=float(max(0.0, -dynamic_db.min())),
        glue_max_reduction_db=float(max(0.0, -glue_db.min())),
        limiter_max_reduction_db=float(max(0.0, -lim_db.min())),
        target_reached=bool(reached), warnings=tuple(warnings))


def _unchanged(stems, mix, block, n_blocks, sample_rate) -> MasterResult:
    """A silent (or below-gate) mix: nothing to master; report what it is."""
    peak = true_peak_linear(mix, sample_rate)
    if peak == 0.0:
        msg = "the mix is silent: nothing to master"
    elif mix.shape[1] < BLOCK_S * sample_rate:
        msg = "the mix is shorter than one 400 ms loudness block: left as it is"
    else:
        msg = "the mix is below the -70 LUFS gate: left as it is"
    log.warning(msg)
    return MasterResult(
        stems=stems, mix=mix, gain_db_curve=np.zeros(n_blocks, np.float32),
        curve_hop_samples=block, integrated_lufs=-math.inf,
        true_peak_dbtp=float(_db(np.array([peak]))[0]) if peak > 0 else -math.inf,
        loudness_gain_db=0.0, max_gain_reduction_db=0.0, target_reached=False,
        warnings=(msg,))
