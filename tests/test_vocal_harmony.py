"""Harmony lines for the vocal: the interval rules on worked examples, the lines of a real
composed song (in key, a third/sixth from the lead where that fits the chord, no unisons,
in range, only in the chosen sections) and the ``vocals:`` fields' validation."""

from __future__ import annotations

import numpy as np
import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.harmony import ChordTrack
from ainur_cli.compose.song import compose_song
from ainur_cli.compose.vocal_harmony import INTERVALS, against_chord, diatonic, harmony_pitches
from ainur_cli.errors import SpecError
from ainur_cli.key import parse_key
from ainur_cli.spec import parse_spec_text
from ainur_cli.vocals import harmony_notes, sung_notes, vocal_settings
from tests.conftest import note_pitch_errors_cents

C_MAJOR = parse_key("C major").scale_pcs
C, F, G7 = (0, 4, 7), (5, 9, 0), (7, 11, 2, 5)

SONG = """\
title: Harmony Test
preset: pop
seed: 5
key: {key}
tempo_bpm: 120
sections:
  - name: Verse
    bars: 4
    lyrics: |
      Walking down the empty street
      Counting every step I take
  - name: Chorus
    bars: 4
    lyrics: |
      Hold on, hold on to me
      We will never let it go
  - name: Bridge
    bars: 4
    lyrics: |
      Somewhere in the middle of the night
style:
  vocals: {vocals}
"""


def test_diatonic_steps_follow_the_key():
    assert diatonic(64, 2, C_MAJOR) == 67      # E4 -> G4, a minor third
    assert diatonic(60, 2, C_MAJOR) == 64      # C4 -> E4, a major third
    assert diatonic(71, 2, C_MAJOR) == 74      # B4 -> D5 across the octave
    assert diatonic(72, -5, C_MAJOR) == 64     # C5 -> E4, a minor sixth below
    a_minor = parse_key("A minor").scale_pcs
    assert diatonic(69, 2, a_minor) == 72      # A4 -> C5 in A minor
    assert diatonic(61, 2, C_MAJOR) is None    # C#4 is not in C major


def test_worked_examples_over_chords():
    # Over C: E -> G (a third); D -> F would grind against E, so the chord's G (a fourth);
    # C -> E; F (a passing tone) -> A (a tone from G: kept). Over G7: F -> A, a tone from G and B.
    lead = [64, 62, 60, 65, 65]
    chords = [C, C, C, C, G7]
    assert harmony_pitches(lead, chords, C_MAJOR, "third-above", 48, 84) == [67, 67, 64, 69, 69]
    assert against_chord(65, C) and not against_chord(69, C) and not against_chord(67, C)
    # Below: E -> C (third below); C over F -> A (third below, a chord tone).
    assert harmony_pitches([64, 60], [C, F], C_MAJOR, "third-below", 48, 84) == [60, 57]
    # Sixth below: G4 over C -> B3 grinds against C, so the chord's C4 (a fifth below).
    assert harmony_pitches([67], [C], C_MAJOR, "sixth-below", 48, 84) == [60]
    # Out of range: a third above G5 (B5) is folded an octave down (a sixth below).
    assert harmony_pitches([79], [(7, 11, 2)], C_MAJOR, "third-above", 60, 81) == [71]
    with pytest.raises(ValueError, match="unknown harmony"):
        harmony_pitches([60], [C], C_MAJOR, "ninth-above", 48, 84)


def _song(key="A minor", vocals="{harmony: [third-above, sixth-below]}"):
    plan = resolve_song(parse_spec_text(SONG.format(key=key, vocals=vocals), "song.yaml")).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    return plan, comp, vocal_settings(plan.style.vocals)


@pytest.mark.parametrize("key", ["A minor", "E major", "D dorian"])
def test_harmony_lines_of_a_composed_song(key):
    from ainur_cli.voice import sung_octave_shift
    from ainur_cli.voice.voices import get_voice

    plan, comp, settings = _song(key)
    lead = {round(n.start_s, 6): n for n in sung_notes(comp, plan.timeline)}
    voices, shifts = harmony_notes(comp, plan.timeline, settings)
    shift = sung_octave_shift(list(lead.values()), settings["voice"])
    assert shifts == {"tenor": shift}  # one voice sings every section, "default" resolved
    chorus = plan.sections[1]
    t0, t1 = chorus.start_s, chorus.end_s
    scale = set(plan.spec.key.scale_pcs)
    track = ChordTrack(comp.chords)
    centre = get_voice(settings["voice"]).centre_midi - shift
    for interval, line in zip(settings["harmony"], voices):
        steps, direction, _ = INTERVALS[interval]
        chorus_notes = [n for n in lead.values() if t0 - 1e-6 <= n.start_s < t1]
        assert len(line) == len(chorus_notes) > 8  # every chorus note, nothing else
        kept = 0
        for h in line:
            n = lead[round(h.start_s, 6)]
            assert (h.syllable, h.duration_s, h.line_index) == (n.syllable, n.duration_s, n.line_index)
            chord = track.at(float(plan.timeline.seconds_to_beat(h.start_s))).pitch_classes
            assert h.midi_pitch % 12 in scale | set(chord), (interval, h)
            assert h.midi_pitch % 12 != n.midi_pitch % 12                  # no unison/octave
            assert centre - 12 <= h.midi_pitch <= centre + 12
            if h.midi_pitch == diatonic(n.midi_pitch, direction * steps, sorted(scale)):
                kept += 1
        # Most notes keep the plain diatonic interval; the rest are chord tones.
        assert kept >= 0.5 * len(line), (interval, kept, len(line))
    # The two voices never sing the same pitch at once.
    assert all(a.midi_pitch != b.midi_pitch for a, b in zip(*voices))


def test_thirds_and_sixths_are_what_they_say():
    plan, comp, settings = _song("C major", "{harmony: [third-above, sixth-below]}")
    lead = {round(n.start_s, 6): n.midi_pitch for n in sung_notes(comp, plan.timeline)}
    above, below = harmony_notes(comp, plan.timeline, settings)[0]
    up = [h.midi_pitch - lead[round(h.start_s, 6)] for h in above]
    down = [lead[round(h.start_s, 6)] - h.midi_pitch for h in below]
    assert all(d > 0 for d in up) and all(d > 0 for d in down)   # no crossing in range
    assert sum(d in (3, 4) for d in up) >= 0.5 * len(up), up
    assert sum(d in (8, 9) for d in down) >= 0.5 * len(down), down


def test_no_harmony_by_default_and_sections_choose_where():
    plan, comp, settings = _song(vocals="{}")
    assert settings["harmony"] == () and harmony_notes(comp, plan.timeline, settings) == ([], {})
    plan, comp, settings = _song(vocals="{harmony: third-below, harmony_sections: [Verse, bridge]}")
    assert settings["harmony_sections"] == ("verse", "bridge")
    (line,), _ = harmony_notes(comp, plan.timeline, settings)
    verse, chorus, bridge = plan.sections
    assert line and all(not (chorus.start_s - 1e-6 <= h.start_s < chorus.end_s) for h in line)
    assert any(h.start_s >= bridge.start_s for h in line) and any(h.start_s < verse.end_s for h in line)


@pytest.mark.parametrize("vocals,field,value", [
    ("{harmony: fourth-above}", "vocals.harmony", "fourth-above"),
    ("{harmony: [third-above, third-above]}", "vocals.harmony[1]", "third-above"),
    ("{harmony: [none, third-above]}", "vocals.harmony[0]", "none"),
    ("{harmony: [third-above, sixth-below, fifth-above]}", "vocals.harmony", 3),
    ("{harmony: {up: 3}}", "vocals.harmony", {"up": 3}),
    ("{harmony_sections: [chorus, refrain]}", "vocals.harmony_sections[1]", "refrain"),
    ("{harmony_sections: []}", "vocals.harmony_sections", 0),
    ("{harmony_gain_db: 12}", "vocals.harmony_gain_db", 12),
    ("{harmony_gain_db: loud}", "vocals.harmony_gain_db", "loud"),
    ("{harmony_singer: soprano}", "vocals.harmony_singer", "harmony_singer"),
    ("{harmony_voice: bass}", "vocals.harmony_voice", "bass"),
    ("{line_end_beats: 0.1}", "vocals.line_end_beats", 0.1),
    ("{line_end_beats: long}", "vocals.line_end_beats", "long"),
    ("{section_end_beats: 9}", "vocals.section_end_beats", 9),
])
def test_bad_harmony_fields_name_file_line_field_value(vocals, field, value):
    with pytest.raises(SpecError) as e:
        _song(vocals=vocals)
    err = e.value
    assert (err.file, err.line, err.field, err.value) == ("song.yaml", 22, field, value)
    assert err.allowed


# -- rendered ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered():
    """The song's vocals without and with a third above in the chorus, and the harmony."""
    from ainur_cli.vocals import render_vocals

    plan, comp, plain = _song(vocals="{}")
    _, _, harm = _song(vocals="{harmony: third-above, harmony_gain_db: 0}")
    kw = dict(seed=5, total_samples=plan.total_samples)
    return (plan, comp, harm, render_vocals(comp, plan.timeline, plain, **kw),
            render_vocals(comp, plan.timeline, harm, **kw), render_vocals(comp, plan.timeline, harm, **kw))


def test_sections_without_harmony_are_unchanged(rendered):
    plan, _, _, plain, with_harmony, again = rendered
    assert np.array_equal(with_harmony, again)  # deterministic
    verse, chorus, bridge = plan.sections
    lead_in = int(0.5 * plan.sample_rate)  # the harmony's first consonant comes before the beat
    a, b = chorus.start_sample - lead_in, bridge.start_sample + lead_in
    assert np.array_equal(plain[:, :a], with_harmony[:, :a])
    assert np.array_equal(plain[:, b:], with_harmony[:, b:])
    extra = with_harmony[:, a:b].astype(np.float64) - plain[:, a:b]
    assert 10 * np.log10(np.mean(extra ** 2)) > -40  # the chorus does get a second voice


def test_rendered_harmony_sings_its_notes(rendered):
    plan, comp, settings, plain, with_harmony, _ = rendered
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    (shift,) = shifts.values()  # sung with the lead's octave shift
    errors = note_pitch_errors_cents(with_harmony[0].astype(np.float64) - plain[0],
                                     plan.sample_rate, line, shift)
    assert len(errors) >= 5
    assert np.median(np.abs(errors)) < 30 and sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), errors


def test_another_voice_sings_the_harmony_in_its_own_register(rendered):
    """``harmony_voice: soprano`` under the tenor: the same harmony notes, sung by the
    soprano in its register (as written, an octave above where the tenor sings them)."""
    from ainur_cli.vocals import render_vocals
    from ainur_cli.voice import sung_octave_shift

    plan, comp, _, plain, with_tenor, _ = rendered
    _, _, settings = _song(vocals="{harmony: third-above, harmony_gain_db: 0, "
                                  "harmony_voice: soprano}")
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    soprano = sung_octave_shift(line, "soprano")
    assert (shifts["tenor"], soprano) == (-12, 0)
    with_soprano = render_vocals(comp, plan.timeline, settings, seed=5,
                                 total_samples=plan.total_samples)
    chorus = plan.sections[1]
    a = chorus.start_sample - int(0.5 * plan.sample_rate)
    assert np.array_equal(with_soprano[:, :a], with_tenor[:, :a])  # the same until the harmony
    errors = note_pitch_errors_cents(with_soprano[0].astype(np.float64) - plain[0],
                                     plan.sample_rate, line, soprano, f0_ceil=900.0)
    assert len(errors) >= 5
    assert sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), errors


def test_sing_takes_a_given_octave_shift_and_can_skip_breaths():
    import pyworld

    from ainur_cli.errors import VoiceError
    from ainur_cli.voice import SungNote, sing, sung_octave_shift

    sr = 22050
    notes = [SungNote(0.8, 0.6, 64, "two", "two", (), 0, True, False),
             SungNote(1.5, 0.8, 67, "far", "far", (), 0, True, True)]
    assert sung_octave_shift(notes, "tenor") == -12
    kw = dict(sample_rate=sr, total_samples=int(2.8 * sr), voice="tenor", seed=2)
    for shift in (0, -12):
        y = sing(notes, octave_shift=shift, **kw)[0].astype(np.float64)
        f0, t = pyworld.harvest(y, sr, f0_floor=70.0, f0_ceil=700.0, frame_period=5.0)
        m = (t > 1.6) & (t < 2.2) & (f0 > 0)
        cents = 1200 * np.log2(np.median(f0[m]) / (440.0 * 2 ** ((67 + shift - 69) / 12)))
        assert abs(cents) < 30, (shift, cents)
    breathing = sing(notes, **kw)
    quiet = sing(notes, breaths=False, **kw)
    before = slice(int(0.3 * sr), int(0.65 * sr))  # the breath before the first phrase
    assert np.abs(breathing[:, before]).max() > 1e-3 and not quiet[:, before].any()
    assert np.array_equal(breathing[:, int(0.8 * sr):], quiet[:, int(0.8 * sr):])  # the notes
    for bad in (5, 48, 12.0):
        with pytest.raises(VoiceError, match="octave shift|out of range"):
            sing(notes, octave_shift=bad, **kw)
