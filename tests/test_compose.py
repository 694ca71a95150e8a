"""Composition on real presets and lyrics: determinism, syllable→note mapping, energy,
fills, chorus repeats, harmony, odd meters."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose import compose_song
from ainur_cli.compose.harmony import chord_at, chord_from_roman
from ainur_cli.compose.lyrics import parse_lyrics, spell_number
from ainur_cli.errors import SpecError
from ainur_cli.key import parse_key
from ainur_cli.spec import parse_spec_text

CHORUS = "We are running through the midnight\nChasing down a silver light"
SONG = f"""
title: Compose Test
preset: {{preset}}
seed: {{seed}}
key: A minor
tempo_bpm: 110
time_signature: "{{sig}}"
sections:
  - {{{{name: Intro, bars: 2}}}}
  - name: Verse 1
    bars: 4
    energy: 0.4
    lyrics: |
      Headlights on the empty road
      Counting every mile we know
  - name: Chorus
    bars: 4
    energy: 0.9
    lyrics: |
{chr(10).join('      ' + l for l in CHORUS.splitlines())}
  - {{{{name: Bridge, bars: 2}}}}
  - name: Chorus 2
    bars: 4
    energy: 0.9
    lyrics: |
{chr(10).join('      ' + l for l in CHORUS.splitlines())}
"""


def compose(preset="pop", seed=1, sig="4/4"):
    spec = parse_spec_text(SONG.format(preset=preset, seed=seed, sig=sig), "song.yaml")
    r = resolve_song(spec)
    p = r.plan
    return p, compose_song(key=p.spec.key, seed=p.spec.seed, style=p.style, timeline=p.timeline,
                           sections=p.sections)


def test_deterministic_and_seed_sensitive():
    _, a = compose(seed=1)
    _, b = compose(seed=1)
    _, c = compose(seed=2)
    assert a.parts == b.parts
    assert a.part("lead").notes != c.part("lead").notes


def test_every_syllable_gets_exactly_one_note():
    plan, comp = compose()
    lead = [n for n in comp.part("lead").notes if n.lyric is not None]
    sung = [n for n in lead if n.lyric != ""]
    expected = sum(len(l.syllables) for s in plan.sections for l in parse_lyrics(s.lyrics))
    assert len(sung) == expected
    for s in plan.sections:
        inside = [n for n in sung if s.start_beat <= n.start_beat < s.end_beat]
        assert len(inside) == sum(len(l.syllables) for l in parse_lyrics(s.lyrics))
        for n in inside:
            assert n.start_beat + n.duration_beats <= float(s.end_beat) + 1e-9
    # No melody in sections without lyrics (pop has no instrumental hook).
    intro = plan.sections[0]
    assert not [n for n in comp.part("lead").notes if n.start_beat < float(intro.end_beat)]


def test_melody_fits_key_and_strong_beats_fit_chords():
    plan, comp = compose()
    scale = set(plan.spec.key.scale_pcs)
    for n in comp.part("lead").notes:
        assert n.pitch % 12 in scale
        assert 45 <= n.pitch <= 84
    chords = comp.chords
    downbeats = [n for n in comp.part("lead").notes if n.lyric and n.start_beat % 4 == 0]
    assert downbeats
    for n in downbeats:
        assert n.pitch % 12 in chord_at(chords, n.start_beat).pitch_classes


def test_repeated_chorus_is_sung_the_same():
    plan, comp = compose()
    c1, c2 = plan.sections[2], plan.sections[4]
    lead = comp.part("lead").notes

    def rel(s):
        return [(n.start_beat - float(s.start_beat), n.duration_beats, n.pitch, n.lyric)
                for n in lead if s.start_beat <= n.start_beat < s.end_beat]

    assert rel(c1) and rel(c1) == rel(c2)


def test_verse_drums_sparser_than_chorus_and_fills_before_changes():
    plan, comp = compose()
    drums = comp.part("drums").notes
    verse, chorus = plan.sections[1], plan.sections[2]

    def count(s, last_bar_excluded=True):
        end = float(s.end_beat) - (4 if last_bar_excluded else 0)
        return len([n for n in drums if float(s.start_beat) <= n.start_beat < end])

    assert count(verse) < count(chorus)
    toms = {45, 47, 50}
    last_bar_of_verse = [n for n in drums if float(verse.end_beat) - 4 <= n.start_beat < float(verse.end_beat)]
    assert any(n.pitch in toms for n in last_bar_of_verse)
    crash_beats = [n.start_beat for n in drums if n.pitch == 49]
    assert any(abs(b - float(chorus.start_beat)) < 0.05 for b in crash_beats)  # humanised


def test_bass_follows_chord_roots():
    plan, comp = compose("ballad")
    bass = comp.part("bass").notes
    for chord in comp.chords:
        first = [n for n in bass if abs(n.start_beat - chord.start_beat) < 0.05]
        if first:
            assert first[0].pitch % 12 == chord.root_pc


@pytest.mark.parametrize("sig", ["3/4", "6/8", "7/8"])
def test_odd_meters(sig):
    plan, comp = compose("rock", sig=sig)
    end = float(plan.timeline.total_beats)
    for part in comp.parts:
        assert part.notes, part.name
        assert all(0 <= n.start_beat < end for n in part.notes)
    bar_beats = plan.timeline.bar_beats(0)
    assert comp.chords[1].start_beat == pytest.approx(float(bar_beats))


def test_every_preset_composes_all_parts():
    from ainur_cli.presets import list_presets

    for name in list_presets():
        plan, comp = compose(name)
        names = [p.name for p in comp.parts]
        assert names == list(plan.style.parts)
        assert all(p.notes for p in comp.parts), name
        assert len({p.channel for p in comp.parts}) == len(comp.parts)
        assert comp.part("drums").channel == 9


def test_roman_numerals():
    a_minor = parse_key("A minor")
    assert chord_from_roman("i", a_minor)[1:] == ((9, 0, 4), "Am")
    assert chord_from_roman("VI", a_minor)[2] == "F"
    assert chord_from_roman("V7", a_minor)[1] == (4, 8, 11, 2)  # E G# B D
    c = parse_key("C major")
    assert chord_from_roman("bVII", c)[1] == (10, 2, 5)
    assert chord_from_roman("IVmaj7", c)[1] == (5, 9, 0, 4)
    assert chord_from_roman("vii°", c)[1] == (11, 2, 5)
    assert chord_from_roman("Isus4", c)[1] == (0, 5, 7)


def test_lyrics_syllables():
    lines = parse_lyrics("Every little thing she does is magic\nI don't know why\n"
                         "21 guns, rock-and-roll\ncafé au lait\n  \n!!!")
    counts = [len(l.syllables) for l in lines]
    assert counts[0] == 11  # cmudict: ev-er-y lit-tle thing she does is mag-ic
    assert counts[1] == 4
    assert [w.text for w in lines[2].words] == ["twenty", "one", "guns", "rock", "and", "roll"]
    assert lines[3].words[0].text == "café" and len(lines[3].words[0].syllables) == 2
    assert lines[4].words == ()  # punctuation only: nothing to sing
    assert "".join(s.text for s in lines[0].words[0].syllables) == "Every"
    assert lines[0].words[4].syllables[0].phones == ("D", "AH", "Z")
    assert spell_number(1999) == "one thousand nine hundred ninety nine"


def test_unsingable_lines_are_errors_not_silence():
    text = SONG.format(preset="pop", seed=1, sig="4/4").replace("Headlights on the empty road", "!!! ???")
    with pytest.raises(SpecError, match="nothing singable"):
        compose_from(text)
    long_line = " ".join(["la"] * 300)
    text = SONG.format(preset="pop", seed=1, sig="4/4").replace("Headlights on the empty road", long_line)
    with pytest.raises(SpecError) as e:
        compose_from(text)
    assert "Verse 1" in e.value.message and "syllables" in e.value.message


def test_crowded_line_is_compressed_with_a_warning():
    text = SONG.format(preset="pop", seed=1, sig="4/4").replace(
        "Headlights on the empty road", " ".join(["na"] * 28))
    comp = compose_from(text)
    assert any("Verse 1" in w for w in comp.metadata["warnings"])


def compose_from(text):
    r = resolve_song(parse_spec_text(text, "song.yaml"))
    p = r.plan
    return compose_song(key=p.spec.key, seed=p.spec.seed, style=p.style, timeline=p.timeline,
                        sections=p.sections)
