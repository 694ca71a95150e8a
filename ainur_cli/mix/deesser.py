"""A split-band de-esser for a channel strip (the vocal chain's first dynamic stage).

Sibilants ("s", "sh", "t", "ch", "z") carry most of their energy above ~5 kHz, where a vowel
carries little; in a mix they poke out harshly, more so after the voice's air band
(:mod:`ainur_cli.voice.air`) and a presence boost. A de-esser turns down only that band, only
while a sibilant sounds:

* **detector** (stereo-linked, on the mid ``(L + R)/2``): per control block of
  ``block`` samples (about 0.7 ms), the mean power of the mid high-passed at ``freq_hz``
  (4th-order Butterworth, so a vowel's 2-4 kHz stays out) and of the whole mid, each
  averaged over the last :data:`RMS_MS`; their ratio in dB is the *sibilance* of the block (near 0 dB on an "s",
  −20 to −35 dB on a vowel), so the threshold does not depend on how loud the part is;
* **gain computer**: reduction ``(sibilance − threshold_db)·(1 − 1/ratio)``, at most
  ``range_db``; instant-attack/exponential-release hold, then a one-pole attack
  (:mod:`ainur_cli.mix.dynamics`), looked ahead by :data:`LOOKAHEAD_MS` so the cut is in
  place when the sibilant starts. Only blocks within :data:`GATE_BELOW_DB` of the part's
  loud blocks (its 95th-percentile block level) are reduced: breaths, quiet consonants and
  fade-outs are not sibilance that pokes out of a mix;
* **split-band gain**: ``y = x + (g − 1)·HP(x)`` per channel (``g`` ramped linearly between
  blocks), with the 2nd-order high-pass run forward and backward (zero phase, magnitude
  squared), so ``y/x = 1 − (1 − g)·|H(f)|²`` lies between ``g`` and 1 at every frequency: the band above
  ``freq_hz`` is scaled by ``g``, the band below passes (−0.3 dB an octave below the corner at
  9 dB of reduction), and nothing is boosted (a causal high-pass would add a bump at the
  corner through its phase). Where no reduction is needed ``g`` is exactly 1 and the samples
  are not touched at all (bit for bit).

Only the spans that are reduced are filtered for the split, each with :data:`PREROLL`
samples of context on both sides (the high-pass rings for a few dozen samples): sibilants
are a small share of a vocal, so the de-esser costs one high-pass pass of the mid plus a few
percent of a pass per channel.
"""

from __future__ import annotations

import numpy as np

from ainur_cli.dsp.biquads import ChunkFilter, true_runs
from ainur_cli.dsp.buffers import work_buffer
from ainur_cli.dsp.filter_design import butter_sos, zero_phase_sos
from ainur_cli.mix import dynamics as dyn
from ainur_cli.mix.settings import DeEsser

RMS_MS = 10.0           # detector averaging window (a pitch period at 100 Hz: a voiced
                        # sound's power does not flicker with its glottal pulses)
LOOKAHEAD_MS = 6.0      # the gain curve is applied this early (the window's delay, 5 ms, + 1)
GATE_DBFS = -70.0       # blocks whose mid is quieter than this are never reduced ...
GATE_BELOW_DB = 30.0    # ... nor those more than this below the part's loud blocks
MIN_REDUCTION_DB = 0.01  # smaller reductions are not applied (the samples stay bit-exact)
PREROLL = 512           # samples of context filtered on each side of a reduced span
DETECTOR_ORDER = 4      # the detector's high-pass (24 dB/oct: a vowel's 2-4 kHz stays out)
SPLIT_ORDER = 2         # the split's high-pass, run forward and backward


def _sections(d: DeEsser, sample_rate: int, order: int) -> np.ndarray:
    return butter_sos(order, min(d.freq_hz, 0.45 * sample_rate), "highpass", sample_rate)


def detector_db(audio: np.ndarray, d: DeEsser, sample_rate: int, block: int,
                chunk: int = 1 << 17) -> tuple[np.ndarray, np.ndarray]:
    """(sibilance dB, mid level dBFS) per block of ``audio`` (2, n): the high band's power
    over the whole band's, and the whole band's own level, both averaged over :data:`RMS_MS`.
    ``chunk`` must be a multiple of ``block``."""
    n = audio.shape[1]
    hp = ChunkFilter(_sections(d, sample_rate, DETECTOR_ORDER), 1, np.float32)
    band = np.zeros(-(-n // block))
    whole = np.zeros_like(band)
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        mid = work_buffer("deesser mid", (1, e - s), np.float32)
        np.add(audio[0, s:e], audio[1, s:e], out=mid[0])
        mid *= np.float32(0.5)
        b0 = s // block
        whole[b0: b0 + -(-(e - s) // block)] = dyn.mean_square_blocks(mid, block)
        hp(mid, mid)
        band[b0: b0 + -(-(e - s) // block)] = dyn.mean_square_blocks(mid, block)
    width = max(1, int(round(RMS_MS * 1e-3 * sample_rate / block)))
    band, whole = dyn.trailing_mean(band, width), dyn.trailing_mean(whole, width)
    with np.errstate(divide="ignore", invalid="ignore"):
        level_db = 10.0 * np.log10(np.maximum(whole, 1e-30))
        sibilance_db = 10.0 * np.log10(np.maximum(band, 1e-30) / np.maximum(whole, 1e-30))
    return sibilance_db, level_db


def reduction_db(sibilance_db: np.ndarray, level_db: np.ndarray, d: DeEsser, sample_rate: int,
                 block: int) -> np.ndarray:
    """Gain reduction (dB, ≥ 0) per block, smoothed and looked ahead (see the module doc)."""
    target = np.clip((sibilance_db - d.threshold_db) * (1.0 - 1.0 / d.ratio), 0.0, d.range_db)
    heard = level_db >= GATE_DBFS
    gate_db = max(GATE_DBFS, float(np.percentile(level_db[heard], 95)) - GATE_BELOW_DB) \
        if heard.any() else GATE_DBFS
    target[level_db < gate_db] = 0.0
    held = dyn.release(target, dyn.coefficient(d.release_ms, block, sample_rate))
    red = dyn.smooth(held, dyn.coefficient(d.attack_ms, block, sample_rate))
    ahead = min(red.size, int(round(LOOKAHEAD_MS * 1e-3 * sample_rate / block)))
    red = np.concatenate([red[ahead:], np.repeat(red[-1:], ahead)])
    red[red < MIN_REDUCTION_DB] = 0.0
    return red


def deess(audio: np.ndarray, d: DeEsser, sample_rate: int, block: int) -> np.ndarray:
    """De-ess ``audio`` (2, n) float32 in place; returns the reduction (dB, ≥ 0) per block.

    Blocks with no reduction (and not next to one: the gain ramps between blocks) keep their
    samples bit for bit.
    """
    n = audio.shape[1]
    if n == 0:
        return np.zeros(0)
    sib, level = detector_db(audio, d, sample_rate, block)
    red = reduction_db(sib, level, d, sample_rate, block)
    gain = (10.0 ** (-red / 20.0)).astype(np.float32)
    gain[red == 0.0] = 1.0
    # A block's samples ramp from its gain to the next block's: block b is touched when it or
    # block b + 1 is reduced.
    touched = red > 0.0
    touched[:-1] |= touched[1:]
    sos = _sections(d, sample_rate, SPLIT_ORDER)
    for first, end in true_runs(touched):
        a, b = first * block, min(end * block, n)
        pre, post = max(0, a - PREROLL), min(n, b + PREROLL)
        if post - pre < 2:   # a one-sample signal has no band to split
            continue
        g = dyn.block_ramp(gain, block, a, b) - np.float32(1.0)
        same = np.array_equal(audio[0, pre:post], audio[1, pre:post])
        for ch in range(2):
            if ch == 0 or not same:
                high = zero_phase_sos(sos, audio[ch, pre:post])[a - pre: b - pre].astype(np.float32)
            audio[ch, a:b] += g * high
    return red
