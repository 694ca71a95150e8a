"""Chords fitted to a given melody (a DAW session's own vocal notes): worked examples over
the pop preset's chords in C major, and a song.yaml's chords untouched."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.fit_chords import candidate_chords, fit_chords
from ainur_cli.compose.harmony import chord_event, home_tonic
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


def _chord(style, key, text, start=0.0, length=4.0):
    return chord_event(parse_chord(text), home_tonic(style.key, key), key, start, length)


VERSE = [SimpleNamespace(start_beat=0.0, end_beat=8.0, kind="verse")]


def test_a_chord_is_rechosen_to_hold_the_melody(pop):
    style, key = pop
    chords = [_chord(style, key, "V"), _chord(style, key, "V", 4.0)]
    melody = [(0.0, 1.0, 60), (1.0, 2.0, 64), (2.0, 4.0, 67)]  # C E G over G major
    fitted = fit_chords(chords, melody, style, key, VERSE)
    assert set(fitted[0].pitch_classes) == {0, 4, 7}
    assert (fitted[0].start_beat, fitted[0].duration_beats) == (0.0, 4.0)  # the preset's rhythm
    assert fitted[1] is chords[1]  # nothing sung under it: the preset's chord


def test_a_held_note_that_rubs_moves_the_chord(pop):
    style, key = pop
    fitted = fit_chords([_chord(style, key, "I")], [(0.0, 4.0, 65)], style, key, VERSE)  # F over C
    assert 5 in fitted[0].pitch_classes


def test_the_presets_chord_stays_when_it_fits(pop):
    style, key = pop
    chords = [_chord(style, key, "vi")]
    fitted = fit_chords(chords, [(0.0, 2.0, 60), (2.0, 4.0, 64)], style, key, VERSE)  # C, E: in Am
    assert fitted[0] is chords[0]


def test_candidates_are_the_styles_chords_and_its_modes_triads(pop):
    style, _ = pop
    texts = [c.text for c in candidate_chords(style)]
    assert {"I", "V", "vi", "IV", "iii", "ii"} <= set(texts)
    assert len(texts) == len(set(texts))
    minor = resolve_song(parse_spec_text(SONG.format(preset="trap"), "song.yaml")).plan.style
    assert {"i", "iv", "v", "bIII", "bVI", "bVII"} <= {c.text for c in candidate_chords(minor)}


def test_a_song_yaml_has_no_session_melody():
    plan = resolve_song(parse_spec_text(SONG.format(preset="pop"), "song.yaml")).plan
    assert session_melody(plan.sections) == []
