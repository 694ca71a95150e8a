"""Timeline maths against hand-computed cases."""

from fractions import Fraction

import pytest

from ainur_cli.timeline import MeterChange, TempoChange, Timeline


def issue_case(sr=48000):
    # 4 bars 4/4 at 120, then 2 bars 3/4 at 90.
    return Timeline(
        [TempoChange(Fraction(0), Fraction(120)), TempoChange(Fraction(16), Fraction(90))],
        [MeterChange(0, 4, 4), MeterChange(4, 3, 4)],
        total_bars=6, sample_rate=sr,
    )


def test_issue_case_by_hand():
    tl = issue_case()
    # 16 beats at 120 bpm = 8 s; 6 beats at 90 bpm = 4 s.
    assert tl.bar_to_beat(4) == 16
    assert tl.bar_to_beat(6) == 22
    assert tl.beat_to_seconds(16) == 8
    assert tl.total_seconds == 12
    assert tl.bar_to_sample(4) == 384000
    assert tl.total_samples == 576000
    assert tl.bar_to_sample(5) == 384000 + 2 * 48000  # one 3/4 bar at 90 = 2 s
    assert tl.beat_to_bar(19) == (5, 0)
    assert tl.beat_to_bar(Fraction(35, 2)) == (4, Fraction(3, 2))
    assert tl.tempo_at_beat(15.999) == 120 and tl.tempo_at_beat(16) == 90
    assert tl.meter_at_bar(4).numerator == 3 and tl.bar_beats(3) == 4


def test_44100_and_96000():
    assert issue_case(44100).total_samples == 12 * 44100
    assert issue_case(96000).bar_to_sample(4) == 8 * 96000


def test_round_trip_seconds_beats_samples():
    tl = issue_case()
    for beat in [Fraction(0), Fraction(1, 3), Fraction(15), Fraction(16), Fraction(41, 2)]:
        assert tl.seconds_to_beat(tl.beat_to_seconds(beat)) == beat
    for sample in [0, 1, 383999, 384000, 500001]:
        # sample → beat → sample is exact (rational arithmetic, no drift).
        assert tl.beat_to_sample(tl.sample_to_beat(sample)) == sample


def test_compound_meter_and_odd_tempo():
    # 6/8: a bar is 3 quarter notes. At 93.5 bpm a quarter is 60/93.5 s.
    tl = Timeline.constant(Fraction(187, 2), 6, 8, total_bars=10, sample_rate=44100)
    assert tl.bar_to_beat(10) == 30
    assert tl.total_seconds == Fraction(30 * 60 * 2, 187)
    # round(30*120/187*44100) = round(848983.957...) = 848984
    assert tl.total_samples == 848984


def test_tempo_change_mid_bar():
    tl = Timeline([TempoChange(Fraction(0), Fraction(60)), TempoChange(Fraction(2), Fraction(120))],
                  [MeterChange(0, 4, 4)], total_bars=1, sample_rate=1000)
    # 2 beats at 60 = 2 s, 2 beats at 120 = 1 s.
    assert tl.total_seconds == 3
    assert tl.seconds_to_beat(Fraction(5, 2)) == 3
    assert tl.tempo_segments() == [(0, 2, 60), (2, 4, 120)]


def test_rounding_half_up():
    tl = Timeline.constant(120, 4, 4, 1, sample_rate=3)
    # beat 1 = 0.5 s → 1.5 samples → 2
    assert tl.beat_to_sample(1) == 2


@pytest.mark.parametrize("bad", [
    dict(tempo=[TempoChange(Fraction(1), Fraction(120))], meters=[MeterChange(0, 4, 4)]),
    dict(tempo=[TempoChange(Fraction(0), Fraction(0))], meters=[MeterChange(0, 4, 4)]),
    dict(tempo=[TempoChange(Fraction(0), Fraction(120))], meters=[MeterChange(0, 7, 5)]),
    dict(tempo=[TempoChange(Fraction(0), Fraction(120))], meters=[MeterChange(1, 4, 4)]),
])
def test_inconsistent_maps_rejected(bad):
    with pytest.raises(ValueError):
        Timeline(bad["tempo"], bad["meters"], 4, 48000)
