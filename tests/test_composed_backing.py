"""Composed backing vocals: chord pads (``vocals: {harmony_rhythm: chords, harmony_sings:
ooh}``), a composed harmony that holds the tones of the song's chords through the harmony
sections on a vowel, and echoes (``harmony_rhythm: echo``), each line's last word sung again
in the rest after it. The checks are against the composition's own chord track, sections
and lead notes (what the band plays and the lead sings), and the sung pitch is measured on
the rendered audio (pyworld harvest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ainur_cli.compose.types import ChordEvent
from ainur_cli.vocal_backing import (PAD_BREATH_BEATS, PAD_PHRASE_BARS, PAD_REACH_SEMITONES,
                                     RESPONSE_BREATH_BEATS, RESPONSE_GAP_BEATS, pad_voicing)
from ainur_cli.vocals import (harmony_names, harmony_notes, harmony_parts, render_vocals,
                              vocal_settings, vocal_stems)
from tests.conftest import note_pitch_errors_cents, rendered
from tests.test_backing_vowels import _compose
from tests.test_melody_file import refused

SONG = """\
title: Pads
preset: pop
seed: 5
tempo_bpm: 110
style:
  vocals: {vocals}
sections:
  - name: Verse
    bars: 4
    lyrics: |
      Headlights on the empty road
      Counting every mile we know
  - name: Chorus
    bars: 6
    lyrics: |
      We are running through the midnight
      Never looking back tonight
  - name: Outro
    bars: 2
"""
PADS = ("{harmony: [third-above, third-below], harmony_rhythm: chords, harmony_sings: ooh, "
        "harmony_sections: [chorus, outro], harmony_voice: alto}")


def _spec(tmp_path: Path, vocals: str = PADS) -> Path:
    path = tmp_path / "song.yaml"
    path.write_text(SONG.format(vocals=vocals))
    return path


def test_the_pads_hold_the_chords_tones_through_the_harmony_sections(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("third-above", "third-below")
    above, below = harmony_parts(comp, plan.timeline, settings)
    tl = plan.timeline
    chorus, outro = plan.sections[1], plan.sections[2]
    start, end = float(chorus.start_beat), float(outro.end_beat)
    # phrases: the chorus' first 4 bars, its last 2, the outro (each section's own)
    cuts = {float(tl.bar_to_beat(chorus.start_bar + PAD_PHRASE_BARS)), float(outro.start_beat)}
    for part in (above, below):
        notes = part.notes
        assert notes and {n.lyric for n in notes} == {"ooh", ""}
        assert notes[0].start_beat == start and notes[0].lyric == "ooh"
        for n in notes:
            a, b = n.start_beat, n.start_beat + n.duration_beats
            assert start <= a < b <= end  # the chorus and the outro (no lyrics) only
            for c in comp.chords:  # a tone of every chord it sounds over
                if c.start_beat < b and c.start_beat + c.duration_beats > a:
                    assert n.pitch % 12 in c.pitch_classes, (n, c)
        # legato through each phrase, a breath before each phrase's end (a new "ooh" after)
        for x, y in zip(notes, notes[1:]):
            gap = y.start_beat - (x.start_beat + x.duration_beats)
            if y.start_beat in cuts:
                assert gap == PAD_BREATH_BEATS and y.lyric == "ooh"
            else:
                assert gap == 0 and (y.lyric == "") == (y.pitch != x.pitch)
        assert notes[-1].start_beat + notes[-1].duration_beats == end - PAD_BREATH_BEATS
    # the voices never sing the same pitch at once; above stays above
    for x in above.notes:
        for y in below.notes:
            if x.start_beat < y.start_beat + y.duration_beats and y.start_beat < x.start_beat + x.duration_beats:
                assert x.pitch > y.pitch
    pitches = [n.pitch for n in above.notes + below.notes]
    assert max(pitches) - min(pitches) <= 2 * PAD_REACH_SEMITONES
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}


def test_the_pads_keep_off_the_leads_pitch_and_sing_the_chords_third(tmp_path):
    """This song's pads (seed 5) never sound the lead's pitch while it sings (the lead by the
    tenor, the pads by the alto, each in its octave placement) and sing the third of 6 of
    its 8 chords with a third (the nearest tones before: 4, and four unisons)."""
    plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    voices, shifts = harmony_notes(comp, plan.timeline, settings)
    lead = [n for n in comp.part("lead").notes if n.lyric is not None]
    tl = plan.timeline
    for line in voices:
        for s in line:
            for n in lead:
                a, b = float(tl.beat_to_seconds(n.start_beat)), \
                    float(tl.beat_to_seconds(n.start_beat + n.duration_beats))
                if a < s.start_s + s.duration_s and s.start_s < b:
                    assert s.midi_pitch + shifts["alto"] != n.pitch + shifts["tenor"], (s, n)
    parts = harmony_parts(comp, plan.timeline, settings)
    thirds = []
    for c in comp.chords:
        held = {n.pitch % 12 for part in parts for n in part.notes
                if n.start_beat < c.start_beat + c.duration_beats
                and c.start_beat < n.start_beat + n.duration_beats}
        third = [pc for pc in c.pitch_classes if (pc - c.root_pc) % 12 in (3, 4)]
        if held and third:
            thirds.append(third[0] in held)
    assert len(thirds) == 8 and sum(thirds) == 6, thirds


C_MAJOR = ChordEvent(0.0, 4.0, 0, (0, 4, 7), "C")
G7 = ChordEvent(0.0, 4.0, 7, (7, 11, 2, 5), "G7")


@pytest.mark.parametrize("chord, wants, lead, expected", [
    # from G and D: the nearest tones are G and C (root and fifth); E (the third) instead
    (C_MAJOR, [67, 62], [], (67, 64)),
    # the lead holds G through the chord: the upper voice leaves it, the third stays
    (C_MAJOR, [67, 64], [(0.0, 4.0, 67)], (72, 64)),
    # ... for half of it: still off it (half the cost of a unison is more than a leap of 5)
    (C_MAJOR, [67, 64], [(2.0, 4.0, 67)], (72, 64)),
    # a dominant seventh: its third and seventh (B and F, the guide tones)
    (G7, [72, 66], [], (71, 65)),
    # one voice: the third, a semitone down from where it was (F, not in the chord)
    (C_MAJOR, [65], [], (64,)),
])
def test_a_pad_voicing_sings_the_chords_third_and_keeps_off_the_lead(chord, wants, lead,
                                                                    expected):
    ups = [1, -1][:len(wants)]
    assert pad_voicing(chord, wants, ups, 64, lead, 4.0) == expected


def test_a_pad_voicing_keeps_the_upper_voice_above_the_lower():
    # wanting to cross (the above voice at E, the below one at G): they do not
    pitches = pad_voicing(C_MAJOR, [64, 67], [1, -1], 64, [], 4.0)
    assert pitches[0] > pitches[1] and {p % 12 for p in pitches} <= {0, 4, 7}


def _alto_in_tune(plan, comp):
    """The alto's stem (the one harmony voice) of ``comp``, after checking that each of its
    notes of 0.2 s or more (3 at least) is sung within 50 cents of its pitch."""
    settings = vocal_settings(plan.style.vocals)
    alto = render_vocals(comp, plan.timeline, settings, seed=5, workers=1,
                         total_samples=plan.total_samples, singer="alto")
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    errors = note_pitch_errors_cents(alto[0], plan.sample_rate, line, shifts["alto"],
                                     f0_ceil=1000.0)
    assert len(errors) >= 3 and all(abs(e) < 50 for e in errors), errors
    return alto


def test_the_rendered_pads_sing_their_pitches(tmp_path):
    vocals = PADS.replace("[third-above, third-below]", "third-above")
    plan, comp = _compose(_spec(tmp_path, vocals))
    alto = _alto_in_tune(plan, comp)
    verse_end = int(float(plan.timeline.beat_to_seconds(plan.sections[1].start_beat))
                    * plan.sample_rate) - 4410
    assert abs(alto[:, :verse_end]).max() == 0.0  # not in the verse


def test_a_written_harmony_is_sung_instead_of_pads(tmp_path):
    from tests.test_backing_vowels import _spec as clip_spec

    plan, comp = _compose(clip_spec(tmp_path, "{harmony: third-above, harmony_rhythm: chords, "
                                              "harmony_sings: ooh}"))
    assert harmony_names(comp, vocal_settings(plan.style.vocals)) == ("written",)


def test_render_records_the_rhythm_in_the_manifest(tmp_path):
    out = rendered(tmp_path, _spec(tmp_path))
    vocals = json.loads((out / "manifest.json").read_text())["vocals"]
    assert (vocals["harmony_rhythm"], vocals["harmony_sings"]) == ("chords", "ooh")


@pytest.mark.parametrize("vocals, message", [
    ("{harmony: third-above, harmony_rhythm: chords}",
     "song.yaml:6: vocals.harmony_rhythm: holds the chords' tones, which have no words: it "
     "needs harmony_sings on a vowel (got 'chords'; allowed: harmony_sings: ooh, ah, oh or mm "
     "with it (or harmony_rhythm: lead))"),
    ("{harmony_rhythm: bars}", "song.yaml:6: vocals.harmony_rhythm: is not a known value (got "
                               "'bars'; allowed: one of lead, chords, echo)"),
])
def test_bad_harmony_rhythm_is_one_line_exit_2(tmp_path, vocals, message):
    assert message in refused(_spec(tmp_path, vocals), tmp_path)


ECHO = "{harmony: [third-above, sixth-below], harmony_rhythm: echo, harmony_voice: alto%s}"
ECHO_SONG = SONG.replace("""      Never looking back tonight
""", """      Never looking back tonight
      Hold me closer
      Till the morning light
""")


def _lead_lines(comp) -> list[list]:
    """The lead's lyric notes per line, in order."""
    lines: dict[int, list] = {}
    for n in comp.part("lead").notes:
        if n.lyric is not None and n.line_index >= 0:
            lines.setdefault(n.line_index, []).append(n)
    return [lines[k] for k in sorted(lines)]


def test_the_echo_answers_each_chorus_line_with_its_last_word(tmp_path):
    path = tmp_path / "song.yaml"
    path.write_text(ECHO_SONG.format(vocals=ECHO % ""))
    plan, comp = _compose(path)
    settings = vocal_settings(plan.style.vocals)
    above, below = harmony_parts(comp, plan.timeline, settings)
    chorus = plan.sections[1]
    lines = _lead_lines(comp)
    answered = 0
    for j, line in enumerate(lines):
        if not float(chorus.start_beat) <= line[0].start_beat < float(chorus.end_beat):
            continue  # the verse's lines are not answered
        starts = [i for i, n in enumerate(line) if n.lyric and (i == 0 or not line[i - 1].lyric
                                                               or not line[i - 1].lyric.endswith("-"))]
        word = line[starts[-1]:]
        end = word[-1].start_beat + word[-1].duration_beats
        first = int(end + RESPONSE_GAP_BEATS) + (0 if (end + RESPONSE_GAP_BEATS) % 1 == 0 else 1)
        after = lines[j + 1][0].start_beat if j + 1 < len(lines) else float(plan.timeline.total_beats)
        echo = [n for n in above.notes if end < n.start_beat < after]
        fits = first + (end - word[0].start_beat) <= after - RESPONSE_BREATH_BEATS
        assert bool(echo) == fits, (j, echo)
        if not echo:
            continue
        answered += 1
        assert echo[0].start_beat == first
        shift = first - word[0].start_beat
        assert [(n.start_beat - shift, n.duration_beats, n.lyric) for n in echo] == \
            [(n.start_beat, n.duration_beats, n.lyric) for n in word]
        low = [n for n in below.notes if end < n.start_beat < after]
        for lead, hi, lo in zip(word, echo, low):
            assert hi.pitch > lead.pitch > lo.pitch  # a third above, a sixth below
    assert answered >= 3
    assert not [n for n in above.notes if n.start_beat < float(chorus.start_beat)]


def test_the_rendered_echo_sings_its_pitches_in_the_leads_rests(tmp_path):
    path = tmp_path / "song.yaml"
    path.write_text(ECHO_SONG.format(vocals=(ECHO % "").replace("[third-above, sixth-below]",
                                                               "third-above")))
    plan, comp = _compose(path)
    alto = _alto_in_tune(plan, comp)
    sr, tl = plan.sample_rate, plan.timeline
    first = _lead_lines(comp)[2]  # the chorus' first line: no echo sings over it
    a = int(float(tl.beat_to_seconds(first[0].start_beat)) * sr)
    b = int(float(tl.beat_to_seconds(first[-1].start_beat)) * sr)
    assert abs(alto[:, a:b]).max() == 0.0


def test_an_echo_on_a_vowel(tmp_path):
    path = tmp_path / "song.yaml"
    path.write_text(ECHO_SONG.format(vocals=ECHO % ", harmony_sings: ooh"))
    plan, comp = _compose(path)
    (path.parent / "words").mkdir()
    words_path = path.parent / "words" / "song.yaml"
    words_path.write_text(ECHO_SONG.format(vocals=ECHO % ""))
    _, words_comp = _compose(words_path)
    above, _ = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    worded, _ = harmony_parts(words_comp, plan.timeline, vocal_settings(
        {**plan.style.vocals, "harmony_sings": "words"}))
    assert [(n.start_beat, n.pitch) for n in above.notes] == \
        [(n.start_beat, n.pitch) for n in worded.notes]
    assert {n.lyric for n in above.notes} <= {"ooh", ""} and above.notes[0].lyric == "ooh"


def test_the_example_sings_pads_in_its_choruses_bridge_and_outro():
    """examples/backing.yaml: two pad voices (the alto's stem) on "ooh" through the sections
    of the types it names, none in the verses, the intro or the pre-chorus."""
    example = Path(__file__).resolve().parent.parent / "examples" / "backing.yaml"
    plan, comp = _compose(example)
    settings = vocal_settings(plan.style.vocals)
    parts = harmony_parts(comp, plan.timeline, settings)
    assert len(parts) == 2
    spans = [(float(s.start_beat), float(s.end_beat)) for s in plan.sections
             if s.kind in ("chorus", "bridge", "outro")]
    for part in parts:
        assert {n.lyric for n in part.notes} == {"ooh", ""}
        assert all(any(a <= n.start_beat < b for a, b in spans) for n in part.notes)
        for a, b in spans:  # each of those sections has its pads
            assert any(a <= n.start_beat < b for n in part.notes)
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
