"""Fixtures of the neural-engine tests: the tiny random-weight ``unittest`` model, loaded once.

Tests that need torch call ``pytest.importorskip("torch")`` themselves, so the card, window
and CLI tests still run where the ``neural`` extra is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny():
    """The ``unittest`` model on the CPU (16 kHz stereo, 2.048 s window, 4 default steps)."""
    pytest.importorskip("torch")
    from ainur_cli.engines.neural import load_model

    return load_model("unittest", device="cpu")


@pytest.fixture(scope="session")
def tiny_folder(tiny, tmp_path_factory):
    """The tiny model saved in the diffusers folder layout."""
    folder = tmp_path_factory.mktemp("weights") / "tiny-saved"
    tiny.save(folder)
    return folder


def sine(seconds: float, sample_rate: int, freq_hz: float = 220.0, channels: int = 2,
         amplitude: float = 0.5) -> np.ndarray:
    """A (channels, samples) float32 test tone; channel k is detuned by k semitones."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    rows = [amplitude * np.sin(2 * np.pi * freq_hz * 2 ** (k / 12) * t) for k in range(channels)]
    return np.asarray(rows, dtype=np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
