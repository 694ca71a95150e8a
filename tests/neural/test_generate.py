"""Text-and-timing conditioned generation with the tiny random-weight model."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from ainur_cli.errors import ModelError  # noqa: E402
from tests.neural.conftest import rms  # noqa: E402


def test_two_seconds_in_four_steps_has_the_exact_length(tiny):
    seen = []
    audio = tiny.generate("soft piano with drums", seconds_total=2.0, steps=4, seed=1,
                          progress=seen.append)
    assert audio.dtype == np.float32
    assert audio.shape == (2, round(2.0 * tiny.sample_rate)) == (2, 32000)
    assert np.isfinite(audio).all() and rms(audio) > 1e-3
    assert len(seen) == 4 and seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize("seconds_total", [0.5, 1.23456, 2.048, 3.3])
def test_length_is_exact_to_the_sample_after_trimming(tiny, seconds_total):
    audio = tiny.generate("ambient pad", seconds_total=seconds_total, steps=2, seed=0)
    assert audio.shape == (2, round(seconds_total * tiny.sample_rate))


def test_seconds_start_returns_the_rest_of_the_piece(tiny):
    audio = tiny.generate("ambient pad", seconds_start=0.75, seconds_total=1.9, steps=2, seed=0)
    assert audio.shape[1] == round(1.9 * 16000) - round(0.75 * 16000)


def test_same_seed_same_audio_other_seed_or_prompt_differs(tiny):
    a = tiny.generate("warm bass", seconds_total=2.0, steps=3, seed=7)
    b = tiny.generate("warm bass", seconds_total=2.0, steps=3, seed=7)
    c = tiny.generate("warm bass", seconds_total=2.0, steps=3, seed=8)
    d = tiny.generate("bright synth", seconds_total=2.0, steps=3, seed=7)
    assert np.array_equal(a, b)
    assert rms(a - c) > 0.1 * rms(a)
    assert rms(a - d) > 0.01 * rms(a)


def test_negative_prompt_and_timing_condition_the_output(tiny):
    base = tiny.generate("jazz guitar", seconds_total=2.0, steps=3, seed=2, cfg_scale=4.0)
    neg = tiny.generate("jazz guitar", seconds_total=2.0, steps=3, seed=2, cfg_scale=4.0,
                        negative_prompt="low quality noise")
    assert rms(base - neg) > 0.01 * rms(base)
    # the same first window, told the piece lasts 4 s instead of 2 s (seconds_total)
    longer = tiny.generate_song([(0.0, 2.0, "jazz guitar")], song_length_s=4.0, steps=3,
                                seed=2, cfg_scale=4.0)
    assert longer.shape == (2, 64000) and not longer[:, 32000:].any()  # silent after it
    assert rms(base - longer[:, :32000]) > 0.01 * rms(base)


def test_weights_are_a_function_of_the_card_seed():
    from ainur_cli.engines.neural import load_model

    a = load_model("unittest", device="cpu").generate("pop", seconds_total=1.0, steps=2, seed=3)
    b = load_model("unittest", device="cpu").generate("pop", seconds_total=1.0, steps=2, seed=3)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, field", [
    ({"seconds_total": 600.0}, "seconds_total"),
    ({"seconds_total": 0.0}, "seconds_start"),
    ({"seconds_start": 2.0, "seconds_total": 1.0}, "seconds_start"),
    ({"seconds_start": -1.0, "seconds_total": 1.0}, "seconds_start"),
    ({"seconds_total": math.nan}, "seconds_total"),
    ({"seconds_total": 1.0, "steps": 0}, "steps"),
    ({"seconds_total": 1.0, "steps": 2.5}, "steps"),
    ({"seconds_total": 1.0, "cfg_scale": -1.0}, "cfg_scale"),
    ({"seconds_total": 1.0, "seed": -3}, "seed"),
    ({"seconds_total": 1.0, "negative_prompt": 5}, "negative_prompt"),
])
def test_out_of_range_values_raise_clear_errors(tiny, kwargs, field):
    with pytest.raises(ModelError) as e:
        tiny.generate("pop", **kwargs)
    assert field in str(e.value) and "allowed" in str(e.value)
