"""Chords fitted to a given melody (a DAW session's own vocal notes): worked examples over
the pop preset's chords in C major (one chord re-chosen; one split where the melody changes
harmony mid-bar, not for a passing tone; never inside a 3/4 bar), and a song.yaml's chords
untouched."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.fit_chords import candidate_chords, fit_chords
from ainur_cli.compose.harmony import chord_event, home_tonic
from ainur_cli.compose.meter import Bars
from ainur_cli.compose.roman import parse_chord
from ainur_cli.compose.song import session_melody
from ainur_cli.key import parse_key
from ainur_cli.spec import parse_spec_text

SONG = """\
title: Fit
preset: {preset}
key: C major
tempo_bpm: 120
sections:
  - name: Verse
    bars: 2
    lyrics: Walking down the street
"""


@pytest.fixture(scope="module")
def pop():
    plan = resolve_song(parse_spec_text(SONG.format(preset="pop"), "song.yaml")).plan
    return plan.style, parse_key("C major")


@pytest.fixture(scope="module")
def bars():
    """Two bars of 4/4 at 120 bpm."""
    return Bars(resolve_song(parse_spec_text(SONG.format(preset="pop"), "song.yaml")).plan.timeline)


def _chord(style, key, text, start=0.0, length=4.0):
    return chord_event(parse_chord(text), home_tonic(style.key, key), key, start, length)


VERSE = [SimpleNamespace(start_beat=0.0, end_beat=8.0, kind="verse")]


def test_a_chord_is_rechosen_to_hold_the_melody(pop, bars):
    style, key = pop
    chords = [_chord(style, key, "V"), _chord(style, key, "V", 4.0)]
    melody = [(0.0, 1.0, 60), (1.0, 2.0, 64), (2.0, 4.0, 67)]  # C E G over G major
    fitted = fit_chords(chords, melody, style, key, VERSE, bars)
    assert set(fitted[0].pitch_classes) == {0, 4, 7}
    assert (fitted[0].start_beat, fitted[0].duration_beats) == (0.0, 4.0)  # the preset's rhythm
    assert fitted[1] is chords[1]  # nothing sung under it: the preset's chord


def test_a_held_note_that_rubs_moves_the_chord(pop, bars):
    style, key = pop
    fitted = fit_chords([_chord(style, key, "I")], [(0.0, 4.0, 65)], style, key, VERSE, bars)  # F over C
    assert 5 in fitted[0].pitch_classes


def test_the_presets_chord_stays_when_it_fits(pop, bars):
    style, key = pop
    chords = [_chord(style, key, "vi"), _chord(style, key, "V", 4.0)]
    melody = [(0.0, 2.0, 60), (2.0, 4.0, 64), (4.0, 8.0, 71)]  # C, E: in Am; then B over G
    fitted = fit_chords(chords, melody, style, key, VERSE, bars)
    assert fitted == chords and fitted[0] is chords[0]


def test_a_chord_is_split_where_the_melody_changes_harmony_mid_bar(pop, bars):
    """C E | F A over a bar of C: the second half is F's (F on the strong third beat rubs
    against C's E), so the bar becomes C | F; the next bar, with nothing sung, stays."""
    style, key = pop
    chords = [_chord(style, key, "I"), _chord(style, key, "V", 4.0)]
    melody = [(0.0, 1.0, 60), (1.0, 2.0, 64), (2.0, 3.0, 65), (3.0, 4.0, 69)]
    fitted = fit_chords(chords, melody, style, key, VERSE, bars)
    assert [(c.start_beat, c.duration_beats, c.roman) for c in fitted] == \
        [(0.0, 2.0, "I"), (2.0, 2.0, "IV"), (4.0, 4.0, "V")]
    assert fitted[2] is chords[1]


def test_a_passing_tone_on_a_weak_beat_does_not_split(pop, bars):
    """C E G on beats 1-3 and a passing F on beat 4 (a rub against E, but a weak beat):
    the bar stays one chord of C."""
    style, key = pop
    chords = [_chord(style, key, "I")]
    melody = [(0.0, 1.0, 60), (1.0, 2.0, 64), (2.0, 3.0, 67), (3.0, 4.0, 65)]
    assert fit_chords(chords, melody, style, key, VERSE, bars) == chords


def test_a_waltz_bar_is_not_split_but_a_two_bar_chord_is():
    """3/4 has no strong beat inside the bar: a chord held over two bars may change at the
    bar line (C C C | F A C under a two-bar C becomes C | F), never inside a bar."""
    plan = resolve_song(parse_spec_text(SONG.format(preset="pop").replace(
        "tempo_bpm: 120", "tempo_bpm: 120\ntime_signature: 3/4"), "song.yaml")).plan
    style, key = plan.style, parse_key("C major")
    bars = Bars(plan.timeline)
    assert [b.length for b in bars] == [3.0, 3.0]
    melody = [(0.0, 3.0, 64), (3.0, 4.0, 65), (4.0, 5.0, 69), (5.0, 6.0, 72)]
    fitted = fit_chords([_chord(style, key, "I", 0.0, 6.0)], melody, style, key, VERSE, bars)
    assert [(c.start_beat, c.duration_beats, c.roman) for c in fitted] == [(0.0, 3.0, "I"), (3.0, 3.0, "IV")]
    one_bar = [(0.0, 1.0, 60), (1.0, 2.0, 65), (2.0, 3.0, 69)]  # C | F A: F's, but inside one bar
    fitted = fit_chords([_chord(style, key, "I", 0.0, 3.0)], one_bar, style, key, VERSE, bars)
    assert [(c.start_beat, c.duration_beats) for c in fitted] == [(0.0, 3.0)]



def test_the_song_ends_on_the_tonic_when_its_melody_does(pop, bars):
    """E then C over the preset's Am: Am holds both, and stays where more is sung after it;
    under the melody's last note (C, the tonic) the tonic chord C (which holds both too)
    closes the song instead; a close may split the last chord."""
    style, key = pop
    chords = [_chord(style, key, "vi"), _chord(style, key, "vi", 4.0)]
    phrase = [(0.0, 2.0, 64), (2.0, 4.0, 60)]
    fitted = fit_chords(chords, phrase + [(4.0, 6.0, 64), (6.0, 8.0, 60)], style, key, VERSE, bars)
    assert [c.roman for c in fitted] == ["vi", "I"]
    assert fitted[0] is chords[0]
    ends_on_e = fit_chords(chords, phrase + [(4.0, 6.0, 60), (6.0, 8.0, 64)], style, key, VERSE, bars)
    assert [c.roman for c in ends_on_e] == ["vi", "I"]  # E: in the tonic triad too
    ends_on_a = fit_chords(chords, phrase + [(4.0, 6.0, 64), (6.0, 8.0, 69)], style, key, VERSE, bars)
    assert [c.roman for c in ends_on_a] == ["vi", "vi"]
    # A A C under a bar of F (all its tones): the close may come mid-bar, at no split cost
    close = fit_chords([_chord(style, key, "IV")], [(0.0, 1.0, 69), (1.0, 2.0, 69), (2.0, 4.0, 60)],
                       style, key, VERSE, bars)
    assert [(c.roman, c.start_beat, c.duration_beats) for c in close] == [("IV", 0.0, 2.0), ("I", 2.0, 2.0)]


def test_a_chromatic_melody_gets_its_secondary_dominant(pop, bars):
    """D F# A C over a bar of C (C major): D7, the dominant of G (V7/V). A chromatic
    neighbour note (G F# G E, the F# short and off the beat) leaves the C chord alone."""
    style, key = pop
    chords = [_chord(style, key, "I"), _chord(style, key, "V", 4.0)]
    arpeggio = [(0.0, 1.0, 62), (1.0, 2.0, 66), (2.0, 3.0, 69), (3.0, 4.0, 72), (4.0, 8.0, 71)]
    fitted = fit_chords(chords, arpeggio, style, key, VERSE, bars)
    assert [(c.roman, c.symbol) for c in fitted] == [("V7/V", "D7"), ("V", "G")]
    neighbour = [(0.0, 1.0, 67), (1.0, 1.5, 66), (1.5, 3.0, 67), (3.0, 4.0, 64), (4.0, 8.0, 71)]
    assert fit_chords(chords, neighbour, style, key, VERSE, bars)[0] is chords[0]

def test_candidates_are_the_styles_chords_and_its_modes_triads(pop):
    style, _ = pop
    texts = [c.text for c in candidate_chords(style)]
    assert {"I", "V", "vi", "IV", "iii", "ii", "V7/V", "V7/vi"} <= set(texts)
    assert len(texts) == len(set(texts))
    minor = resolve_song(parse_spec_text(SONG.format(preset="trap"), "song.yaml")).plan.style
    assert {"i", "iv", "v", "bIII", "bVI", "bVII"} <= {c.text for c in candidate_chords(minor)}


def test_a_song_yaml_has_no_session_melody():
    plan = resolve_song(parse_spec_text(SONG.format(preset="pop"), "song.yaml")).plan
    assert session_melody(plan.sections) == []
