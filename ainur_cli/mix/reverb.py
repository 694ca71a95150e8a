"""The reverb bus: a fixed, seeded stereo impulse response and FFT convolution per send.

The reverb is exactly linear and time-invariant: each part's send is convolved with the same
impulse response (IR), so every stem carries its own space and the sum of the returns equals
the return of the summed sends. The IR depends only on the :class:`ReverbBus` settings and
the sample rate (its noise comes from a fixed seed), so renders are bit-identical.

How the IR is built (all settings from ``mix.reverb``):

* a diffuse tail: Gaussian noise shaped frame by frame (1024-sample frames, √Hann
  overlap-add) with a frequency-dependent exponential decay. The decay follows the
  Schroeder/Freeverb comb model the old pedalboard reverb used: loop gain
  ``g = 0.7 + 0.28·room_size`` per 31.25 ms pass, times a one-pole damping low-pass
  ``(1 − a)/(1 − a·e^{−jω})`` with ``a = 0.4·damping`` (ω at 44.1 kHz), so
  ``T60(f) = 60 dB · 31.25 ms / (−20·log10 |g·H(f)|)`` — about 1.3 s at room 0.55 and
  high frequencies die sooner the more damping;
* a 6 ms onset ramp (echo density builds up);
* ``width`` mixes two independent tails like Freeverb's wet1/wet2 (1 = uncorrelated L/R,
  0 = mono);
* the send's high-pass (2nd-order Butterworth at ``highpass_hz``) is applied to the IR;
* each channel is normalised to unit energy, so a white-noise send returns at the same RMS
  (``return_db`` = 0 dB ≈ the return as loud as its send, as documented);
* ``predelay_ms`` shifts the return (it is not part of the IR).

Convolution is overlap-save with power-of-two FFTs (scipy's pocketfft, float32) of at least
twice the IR length, several blocks per transform call, and skips blocks whose input window is
silent (a reverb of silence is silence).
"""

from __future__ import annotations

import math
from functools import lru_cache

import logging

import numpy as np

from ainur_cli.dsp.biquads import sos_filter_rows
from ainur_cli.dsp.buffers import work_buffer
from ainur_cli.dsp.filter_design import butter_sos
from ainur_cli.dsp.scipy_kernels import load_extension
from ainur_cli.mix.settings import ReverbBus

log = logging.getLogger(__name__)

FRAME = 1024                 # IR synthesis frame (samples); hop = FRAME/2
COMB_PASS_S = 1378 / 44100   # mean Freeverb comb delay: one pass of the decay model
TAIL_DB = 70.0               # the IR ends when its slowest band has decayed this much
ONSET_S = 0.006
MAX_IR_S = 15.0
BATCH = 8                    # overlap-save blocks transformed together (at most)
BATCH_SAMPLES = 1 << 21      # … and at most this many window samples per batch (memory)
IR_SEED = 0x41696E75         # "Ainu": the tail's noise (fixed: same settings → same IR)
# scipy.fft's compiled pocketfft, without ``import scipy.fft`` (~0.2 CPU-s): its float32
# real transforms vectorise across rows (~2x numpy.fft's forward transform) and write into
# given arrays (no fresh memory per batch). Checked once; scipy.fft is the fallback.
_POCKETFFT = load_extension("scipy.fft._pocketfft.pypocketfft")


def _pocketfft_works() -> bool:
    """The loaded pocketfft transforms like numpy.fft (a known signal, both directions)."""
    if _POCKETFFT is None:
        return False
    x = np.sin(0.37 * np.arange(128, dtype=np.float64) ** 1.5).reshape(2, 64).astype(np.float32)
    try:
        spec = _POCKETFFT.r2c(x, (1,), True, 0, np.empty((2, 33), np.complex64), 1)
        back = _POCKETFFT.c2r(spec, (1,), 64, False, 2, np.empty((2, 64), np.float32), 1)
    except Exception:  # noqa: BLE001 - any failure means: use scipy.fft
        return False
    return bool(np.allclose(spec, np.fft.rfft(x.astype(np.float64), axis=1), rtol=0, atol=1e-4)
                and np.allclose(back, x, rtol=0, atol=1e-5))


_USE_POCKETFFT = _pocketfft_works()
if not _USE_POCKETFFT:  # pragma: no cover - depends on the scipy release
    log.warning("scipy's compiled pocketfft could not be loaded on its own; the reverb uses "
                "scipy.fft (slower to import, same numbers)")


def _rfft_rows(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Unnormalised real FFT of each row: (rows, n) float32 → ``out`` (rows, n//2 + 1)
    complex64 (scipy.fft.rfft's numbers); returns the spectra."""
    if _USE_POCKETFFT:
        return _POCKETFFT.r2c(x, (1,), True, 0, out, 1)
    import scipy.fft as sfft  # the fallback (see _POCKETFFT)

    return sfft.rfft(x, axis=1)


def _irfft_last(spec: np.ndarray, n: int, out: np.ndarray) -> np.ndarray:
    """Inverse real FFT (1/n) along the last axis: (..., n//2 + 1) complex64 → ``out``
    (..., n) float32 (scipy.fft.irfft's numbers); returns the signals."""
    if _USE_POCKETFFT:
        return _POCKETFFT.c2r(spec, (spec.ndim - 1,), n, False, 2, out, 1)
    import scipy.fft as sfft  # the fallback (see _POCKETFFT)

    return sfft.irfft(spec, n, axis=-1)


def t60_s(bus: ReverbBus, freq_hz: np.ndarray) -> np.ndarray:
    """Reverberation time (s, −60 dB) at each frequency for these settings."""
    g = 0.7 + 0.28 * bus.room_size
    a = 0.4 * bus.damping
    w = 2.0 * np.pi * np.minimum(np.asarray(freq_hz, dtype=np.float64), 22050.0) / 44100.0
    h = (1.0 - a) / np.abs(1.0 - a * np.exp(-1j * w))
    per_pass_db = -20.0 * np.log10(np.maximum(g * h, 1e-6))
    return 60.0 * COMB_PASS_S / per_pass_db


@lru_cache(maxsize=8)
def impulse_response(bus: ReverbBus, sample_rate: int) -> np.ndarray:
    """The bus's stereo IR, (2, samples) float32, each channel of unit energy.

    Deterministic: a fixed seed, and nothing but ``bus`` and ``sample_rate`` goes in.
    """
    hop = FRAME // 2
    freqs = np.fft.rfftfreq(FRAME, 1.0 / sample_rate)
    t60 = t60_s(bus, freqs)
    length_s = min(MAX_IR_S, float(t60.max()) * TAIL_DB / 60.0)
    frames = int(math.ceil(length_s * sample_rate / hop)) + 1
    n = (frames + 1) * hop
    rng = np.random.default_rng(IR_SEED)
    t = (np.arange(frames) * hop + FRAME / 2) / sample_rate            # frame centres, s
    decay = np.exp(-math.log(1000.0) * t[:, None] / t60[None, :])     # −60 dB at T60
    window = np.sqrt(np.hanning(FRAME + 1)[:FRAME])                   # √Hann: power-complementary
    tails = []
    for _ in range(2):
        spec = (rng.standard_normal((frames, freqs.size)) + 1j * rng.standard_normal(
            (frames, freqs.size))) * decay
        spec[:, 0] = 0.0
        grains = np.fft.irfft(spec, FRAME, axis=1) * window
        tail = np.zeros(n)
        for j in range(2):  # overlap-add, even and odd frames separately (no overlap within)
            g = grains[j::2]
            k = g.shape[0]
            tail[j * hop: j * hop + k * FRAME] += g.reshape(-1)
        tails.append(tail)
    time_s = np.arange(n) / sample_rate
    onset = 1.0 - np.exp(-time_s / ONSET_S)
    a, b = (1.0 + bus.width) / 2.0, (1.0 - bus.width) / 2.0
    ir = np.stack([a * tails[0] + b * tails[1], a * tails[1] + b * tails[0]]) * onset
    sos = butter_sos(2, min(bus.highpass_hz, 0.45 * sample_rate), "highpass", sample_rate)
    sos_filter_rows(sos, ir, np.zeros((2, len(sos), 2)))  # in place
    ir /= np.sqrt(np.sum(ir * ir, axis=1, keepdims=True))
    return ir.astype(np.float32)


def _pow2(x: int) -> int:
    """The smallest power of two ≥ x (≥ 1)."""
    return 1 << max(0, int(x) - 1).bit_length()


def fft_size(ir_samples: int, signal_samples: int) -> int:
    """Power-of-two FFT length for overlap-save: ≥ 2x the IR and ≥ 2^15, but no longer than
    one block covering the whole signal needs."""
    size = min(_pow2(max(1 << 15, 2 * ir_samples)),
               _pow2(max(1 << 15, signal_samples + ir_samples - 1)))
    return max(size, _pow2(2 * ir_samples))


@lru_cache(maxsize=8)
def ir_spectrum(bus: ReverbBus, sample_rate: int, size: int) -> np.ndarray:
    """rfft of the IR at FFT length ``size``: (2, size//2 + 1) complex64 (cached)."""
    ir = impulse_response(bus, sample_rate)
    padded = np.zeros((ir.shape[0], size), dtype=np.float32)
    padded[:, : ir.shape[1]] = ir
    return _rfft_rows(padded, np.empty((ir.shape[0], size // 2 + 1), np.complex64))


def prepare_reverb(bus: ReverbBus, sample_rate: int, signal_samples: int) -> None:
    """Build (and cache) the IR and its spectrum for signals of ``signal_samples``: call it
    before forking workers, so that they share the result instead of each building it."""
    size = fft_size(impulse_response(bus, sample_rate).shape[1], signal_samples)
    ir_spectrum(bus, sample_rate, size)


def add_reverb(out: np.ndarray, send: np.ndarray, gain: float, bus: ReverbBus,
               sample_rate: int) -> None:
    """``out += gain · (send ⊛ IR)`` delayed by the pre-delay, cut at the end of ``out``.

    Overlap-save: block ``j`` of the return needs the send from ``j·hop − (IR − 1)`` to
    ``(j + 1)·hop``. Blocks whose window is silent are skipped; the others are transformed
    up to :data:`BATCH` at a time (pocketfft vectorises across the rows of a batch: about
    twice as fast as one transform at a time).

    :param out: (2, samples) float32, modified in place.
    :param send: (samples,) float32 mono send (not modified).
    :param gain: linear gain of the return (send level x return level).
    """
    n = out.shape[1]
    pre = int(round(bus.predelay_ms * 1e-3 * sample_rate))
    produced = n - pre               # return samples that land inside the song
    if gain == 0.0 or produced <= 0:
        return
    ir_len = impulse_response(bus, sample_rate).shape[1]
    size = fft_size(ir_len, n)
    spectrum = ir_spectrum(bus, sample_rate, size) * np.complex64(gain)
    hop = size - ir_len + 1          # new output samples per block
    history = ir_len - 1
    starts = np.arange(0, produced, hop)
    # Silent windows: a prefix count of non-silent 1024-sample pieces of the send.
    piece = 1024
    full = n // piece
    flags = np.zeros(-(-n // piece), dtype=bool)
    flags[:full] = send[: full * piece].reshape(full, piece).any(axis=1)  # no n-sized temporary
    if n > full * piece:
        flags[full] = send[full * piece:].any()
    sounding = np.concatenate(([0], np.cumsum(flags)))
    lo = np.clip(starts - history, 0, n) // piece
    hi = -(-np.clip(starts + hop, 0, n) // piece)
    active = starts[sounding[hi] > sounding[lo]]
    batch = max(1, min(BATCH, BATCH_SAMPLES // size))
    # Work buffers reused by every batch and call (fresh memory for each batch costs page
    # faults comparable to the arithmetic; see :mod:`ainur_cli.dsp.buffers`).
    window_buf = work_buffer("reverb windows", (min(batch, active.size), size), np.float32)
    product_buf = work_buffer("reverb products", (min(batch, active.size), 2, size // 2 + 1),
                              np.complex64)
    spec_buf = work_buffer("reverb spectra", (min(batch, active.size), size // 2 + 1),
                           np.complex64)
    wet_buf = work_buffer("reverb returns", (min(batch, active.size), 2, size), np.float32)
    for b0 in range(0, active.size, batch):
        group = active[b0: b0 + batch]
        windows = window_buf[: group.size]
        for r, s in enumerate(group):
            a, b = max(int(s) - history, 0), min(int(s) + hop, n)
            lo_w, hi_w = a - (int(s) - history), b - (int(s) - history)
            windows[r, :lo_w] = 0.0
            windows[r, lo_w:hi_w] = send[a:b]
            windows[r, hi_w:] = 0.0
        spec = _rfft_rows(windows, spec_buf[: group.size])
        product = product_buf[: group.size]
        np.multiply(spec[:, None, :], spectrum[None, :, :], out=product)
        wet = _irfft_last(product, size, wet_buf[: group.size])
        for r, s in enumerate(group):
            k = min(hop, produced - int(s))
            out[:, pre + s: pre + s + k] += wet[r, :, history: history + k]
