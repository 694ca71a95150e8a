"""Audio plumbing of the neural engine (NumPy/SciPy only): checks, resampling, channels, fades.

Audio is ``(channels, samples)`` float32 everywhere; sample rates are integers in Hz.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ainur_cli.errors import ModelError

MIN_RATE, MAX_RATE = 1000, 768000
MAX_CHANNELS = 64


def check_sample_rate(sample_rate: Any, field: str = "sample_rate") -> int:
    """``sample_rate`` as an int, or :class:`ModelError` if it is not a plausible rate."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or not MIN_RATE <= int(sample_rate) <= MAX_RATE:
        raise ModelError("wrong sample rate", field=field, value=sample_rate,
                         allowed=f"an integer number of Hz, {MIN_RATE}..{MAX_RATE}")
    return int(sample_rate)


def check_audio(audio: Any, field: str = "audio") -> np.ndarray:
    """``audio`` as a (channels, samples) float32 array; 1-D input is taken as mono."""
    arr = np.asarray(audio)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or not 1 <= arr.shape[0] <= MAX_CHANNELS or arr.shape[1] == 0:
        raise ModelError("audio must be a non-empty (channels, samples) array",
                         field=field, value=f"shape {arr.shape}",
                         allowed=f"(1..{MAX_CHANNELS}, samples)")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ModelError("audio must be floating point", field=field, value=str(arr.dtype),
                         allowed="float32 in [-1, 1]")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ModelError("audio contains NaN or infinity", field=field)
    return arr


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling to exactly ``round(samples * rate_out / rate_in)`` samples."""
    if rate_in == rate_out:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    out = resample_poly(audio, up, down, axis=-1).astype(np.float32)
    target = round(audio.shape[-1] * rate_out / rate_in)
    if out.shape[-1] < target:
        out = np.pad(out, ((0, 0), (0, target - out.shape[-1])))
    return np.ascontiguousarray(out[:, :target])


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Mono is copied to every channel; other mismatches are down-mixed to mono first."""
    if audio.shape[0] == channels:
        return audio
    mono = audio if audio.shape[0] == 1 else audio.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(np.repeat(mono, channels, axis=0))


def fade_weights(length: int) -> np.ndarray:
    """Raised-cosine ramp for a crossfade of ``length`` samples, strictly inside (0, 1).

    Sample ``k`` of the join takes ``w[k]`` of the new audio and ``1 - w[k]`` of the old, so
    the first sample after a join already depends on the new window.
    """
    k = np.arange(1, length + 1, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(np.pi * k / (length + 1))).astype(np.float32)
