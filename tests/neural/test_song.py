"""Windowed song generation: exact length, sample-exact section boundaries."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from ainur_cli.errors import ModelError  # noqa: E402
from tests.neural.conftest import rms  # noqa: E402

SECTIONS = [(0.0, 1.3, "soft piano"), (1.3, 3.7, "loud drums"), (3.7, 5.0, "dark ambient")]


def first_difference(a: np.ndarray, b: np.ndarray) -> int:
    diff = np.nonzero(np.any(a != b, axis=0))[0]
    return int(diff[0]) if diff.size else -1


@pytest.fixture(scope="module")
def song(tiny):
    return tiny.generate_song(SECTIONS, song_length_s=5.0, steps=2, seed=11)


def test_song_longer_than_the_window_has_the_exact_length(tiny, song):
    assert 5.0 > 2 * tiny.max_window_s
    assert song.shape == (2, 80000) and song.dtype == np.float32
    assert np.isfinite(song).all()
    for a, b, _ in SECTIONS:  # every section has sound, none is a silent hole
        assert rms(song[:, round(a * 16000):round(b * 16000)]) > 1e-3


@pytest.mark.parametrize("changed", [1, 2])
def test_section_boundaries_are_sample_exact(tiny, song, changed):
    """Re-prompting section ``changed`` leaves every sample before its start bit-identical
    and changes the very first sample of the section."""
    sections = list(SECTIONS)
    a, b, _ = sections[changed]
    sections[changed] = (a, b, "bright rock")
    other = tiny.generate_song(sections, song_length_s=5.0, steps=2, seed=11)
    assert other.shape == song.shape
    assert first_difference(song, other) == round(a * 16000)


def test_sections_can_start_fresh_at_their_own_seconds_start(tiny):
    fresh = tiny.generate_song(SECTIONS, song_length_s=5.0, steps=2, seed=11,
                               continue_across_sections=False)
    assert fresh.shape == (2, 80000)
    sections = list(SECTIONS)
    sections[2] = (3.7, 5.0, "jazz")
    other = tiny.generate_song(sections, song_length_s=5.0, steps=2, seed=11,
                               continue_across_sections=False)
    assert first_difference(fresh, other) == round(3.7 * 16000)


def test_batched_windows_match_one_by_one(tiny):
    one = tiny.generate_song(SECTIONS, song_length_s=5.0, steps=2, seed=5,
                             continue_across_sections=False, max_batch=1)
    many = tiny.generate_song(SECTIONS, song_length_s=5.0, steps=2, seed=5,
                              continue_across_sections=False, max_batch=3)
    # same noise per window; only float rounding of batched kernels differs
    assert rms(one - many) < 1e-2 * rms(one)


def test_gaps_are_silent_and_fit_window_keeps_lengths(tiny):
    out = tiny.generate_song([(0.0, 0.8, "pad"), (1.6, 2.4, "bass")], song_length_s=3.0,
                             steps=2, seed=1, fit_window=True)
    assert out.shape == (2, 48000)
    assert not out[:, 12800:25600].any() and not out[:, 38400:].any()
    assert rms(out[:, :12800]) > 1e-3 and rms(out[:, 25600:38400]) > 1e-3


def test_bad_sections_raise(tiny):
    with pytest.raises(ModelError, match="overlap"):
        tiny.generate_song([(0, 2, "a"), (1, 3, "b")], song_length_s=3.0, steps=2)
    with pytest.raises(ModelError, match="song_length_s"):
        tiny.generate_song([(0, 2, "a")], song_length_s=1000.0, steps=2)
