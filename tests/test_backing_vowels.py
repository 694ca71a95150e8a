"""Backing vocals on a vowel (the style's ``vocals.harmony_sings: ooh``): a written harmony
track (csvmidi_backing_clip.mid, written by csvmidi from the CSV beside it) sung in its own
rhythm, every note of it, and the style's composed harmony on the lead's rhythm. The
expected notes are the CSV's, read by hand; the sung pitch is measured on the rendered audio
(pyworld harvest)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.song import compose_plan
from ainur_cli.spec import load_spec
from ainur_cli.vocal_backing import LEGATO_GAP_BEATS
from ainur_cli.vocals import (harmony_names, harmony_notes, harmony_parts, render_vocals,
                              vocal_settings, vocal_stems)
from tests.conftest import csv_note_ons, midi_note_ons, note_pitch_errors_cents, rendered
from tests.test_melody_file import SPEC, refused

CLIP = Path(__file__).resolve().parent / "data" / "midi" / "csvmidi_backing_clip.mid"
# The CSV's "Oohs" track (ticks / 96, the clip at song bar 1) as sung on "ooh": a whole bar
# in the intro (no lyrics there) and a legato step up into the verse (slurred on: "" lyric);
# a tied whole note on the same pitch (sung again); a legato step up (slurred); a rest; a
# held note to the song's end. Its 2-tick grace note and its note after the song's end are
# not sung.
EXPECTED = [(0.0, 4.0, 69, "ooh"), (4.0, 4.0, 73, ""), (8.0, 4.0, 73, "ooh"),
            (12.0, 2.0, 74, ""), (15.0, 5.0, 78, "ooh")]


def _spec(tmp_path: Path, style: str = "{harmony_sings: ooh, harmony_voice: alto}",
          melody: str = "{file: clip.mid, bar: 1, track: 2, harmony_track: 3}") -> Path:
    """test_melody_file's song (seed 3) on the backing clip, with the ``vocals`` ``style``."""
    shutil.copy(CLIP, tmp_path / "clip.mid")
    path = tmp_path / "song.yaml"
    path.write_text(SPEC.format(melody=melody, key="seed: 3\n") + f"style:\n  vocals: {style}\n")
    return path


def _compose(path: Path):
    plan = resolve_song(load_spec(path)).plan
    return plan, compose_plan(plan)


def test_the_track_is_sung_on_the_vowel_in_its_own_rhythm(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    assert settings["harmony_sings"] == ("ooh",)
    assert harmony_names(comp, settings) == ("written",)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in part.notes] == EXPECTED
    assert {n.velocity for n in part.notes} == {80}  # the track's own
    assert "1 note(s) of the harmony track 3 of clip.mid start after the song's end" in caplog.text
    assert "1 note(s) of the harmony track 3 of clip.mid are shorter than 30 ms" in caplog.text
    assert "are not sung: the harmony sings the lead's syllables" not in caplog.text
    # the lead still sings its own track, with the words
    assert [n.pitch for n in comp.part("lead").notes][:3] == [69, 71, 69]
    (sung,), shifts = harmony_notes(comp, plan.timeline, settings)
    assert [(n.syllable, n.word, n.is_word_start) for n in sung] == [
        (lyric, "ooh", lyric == "ooh") for *_, lyric in EXPECTED]
    assert [n.is_line_end for n in sung] == [False, True, False, True, True]
    assert set(shifts) == {"tenor", "alto"}


def test_one_written_voice_sings_the_words_the_other_oohs(tmp_path, caplog):
    """``harmony_track: [4, 3]`` with ``harmony_sings: [words, ooh]``: track 4 (the
    harmony of csvmidi_harmony_clip.mid, moved with its lead) sings the lead's words on its
    pitches as test_written_harmony expects, track 3 its oohs in its own rhythm."""
    from tests.test_written_harmony import EXPECTED as WORDS

    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(
            tmp_path, "{harmony_sings: [words, ooh], harmony_voice: alto}",
            "{file: clip.mid, bar: 1, track: 2, harmony_track: [4, 3]}"))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("written 1", "written 2")
    words, oohs = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.pitch, n.lyric) for n in words.notes] == WORDS
    assert [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in oohs.notes] == EXPECTED
    assert "1 of 13 note(s) of the harmony track 4 of clip.mid are not sung" in caplog.text
    assert "of the harmony track 3 of clip.mid are not sung" not in caplog.text


def test_the_composed_harmony_sings_the_vowel_on_the_leads_rhythm(tmp_path):
    style = "{harmony: third-above, harmony_sections: [verse, chorus], harmony_sings: %s}"
    plan, comp = _compose(_spec(tmp_path, style % "ah", "{file: clip.mid, bar: 1, track: 2}"))
    (tmp_path / "words").mkdir()
    _, words_comp = _compose(_spec(tmp_path / "words", style % "words",
                                   "{file: clip.mid, bar: 1, track: 2}"))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("third-above",)
    (vowel,) = harmony_parts(comp, plan.timeline, settings)
    (words,) = harmony_parts(words_comp, plan.timeline, vocal_settings(
        {**plan.style.vocals, "harmony_sings": "words"}))
    assert [(n.start_beat, n.pitch) for n in vowel.notes] == \
        [(n.start_beat, n.pitch) for n in words.notes]
    assert {n.lyric for n in vowel.notes} == {"ah", ""}
    for before, n in zip(vowel.notes, vowel.notes[1:]):
        legato = n.start_beat - (before.start_beat + before.duration_beats) <= LEGATO_GAP_BEATS
        assert (n.lyric == "") == (legato and n.pitch != before.pitch), (before, n)
    assert sum(n.lyric == "ah" for n in vowel.notes) >= 3  # the rests start new syllables


def test_the_rendered_oohs_sing_their_notes_and_rest_where_the_track_rests(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
    kw = dict(seed=3, total_samples=plan.total_samples, workers=1, singer="alto")
    alto = render_vocals(comp, plan.timeline, settings, **kw)
    assert np.array_equal(alto, render_vocals(comp, plan.timeline, settings, **kw))
    sr, tl = plan.sample_rate, plan.timeline

    def span(a: float, b: float) -> np.ndarray:
        return alto[0, int(float(tl.beat_to_seconds(a)) * sr):int(float(tl.beat_to_seconds(b)) * sr)]

    assert np.sqrt(np.mean(span(0.5, 3.5) ** 2)) > 0.01  # the intro, where no one sings words
    assert np.max(np.abs(span(14.2, 14.8))) == 0.0  # the track's rest (its grace note unsung)
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    errors = note_pitch_errors_cents(alto[0], sr, line, shifts["alto"], f0_ceil=1000.0)
    assert len(errors) == 5
    assert all(abs(e) < 50 for e in errors), errors


def test_each_section_s_voice_sings_its_oohs_without_a_harmony_voice(tmp_path):
    """No ``harmony_voice``: the intro's oohs are sung by the intro's voice (the alto, who
    sings no words), the rest by the tenor, who leads the other sections."""
    plan, comp = _compose(_spec(tmp_path, "{harmony_sings: ooh, section_voices: {intro: alto}}"))
    settings = vocal_settings(plan.style.vocals)
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
    _, shifts = harmony_notes(comp, plan.timeline, settings)
    assert set(shifts) == {"tenor", "alto"}
    kw = dict(seed=3, total_samples=plan.total_samples, workers=1)
    alto = render_vocals(comp, plan.timeline, settings, singer="alto", **kw)
    tenor = render_vocals(comp, plan.timeline, settings, singer="tenor", **kw)
    both = render_vocals(comp, plan.timeline, settings, **kw)
    assert np.allclose(alto + tenor, both, atol=1e-6)  # the stems sum to the vocal
    intro_end = int(float(plan.timeline.beat_to_seconds(4.2)) * plan.sample_rate)
    assert np.sqrt(np.mean(alto[0, :intro_end] ** 2)) > 0.01
    assert np.max(np.abs(alto[:, intro_end:])) == 0.0


def test_a_section_rendered_alone_sings_the_same_oohs(tmp_path, caplog):
    """The chorus alone: its notes, the first now a syllable of its own (the one it slurs
    on from in the song is the verse's); the verse's notes before it are left silently."""
    from daw_bridge.job_runner import section_spec

    path = _spec(tmp_path)
    plan, comp = _compose(path)
    chorus = plan.sections[2]
    with caplog.at_level(logging.WARNING):
        sub = resolve_song(section_spec(load_spec(path), plan, chorus, None)).plan
    assert "1 note(s) of the harmony track 3 of clip.mid start after" in caplog.text
    (part,) = harmony_parts(compose_plan(sub), sub.timeline, vocal_settings(sub.style.vocals))
    start = float(chorus.start_beat)
    assert [(n.start_beat + start, n.duration_beats, n.pitch, n.lyric) for n in part.notes] == \
        [(12.0, 2.0, 74, "ooh"), EXPECTED[-1]]


def test_render_writes_the_oohs_midi_and_manifest(tmp_path):
    import mido

    out = rendered(tmp_path, _spec(tmp_path))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["vocals"]["harmony"] == ["written"]
    assert manifest["vocals"]["harmony_sings"] == "ooh"
    assert sorted(manifest["vocals"]["stems"]) == ["vocals", "vocals-alto"]
    harmony = out / "midi" / "vocals_harmony.mid"
    assert midi_note_ons(harmony) == [(a, p) for a, _, p, _ in EXPECTED]
    lyrics = [m.text for t in mido.MidiFile(str(harmony)).tracks for m in t if m.type == "lyrics"]
    assert lyrics == ["ooh ", "ooh ", "ooh "]  # the slurred notes have none


@pytest.mark.parametrize("style, message", [
    ("{harmony_sings: la}", "song.yaml:19: vocals.harmony_sings: is not a known value (got 'la'; "
                            "allowed: one of words, ooh, ah, oh, mm)"),
    ("{harmony_sings: [ooh, ah, mm]}", "song.yaml:19: vocals.harmony_sings: has the wrong "
                                       "number of items (got 3; allowed: 1..2 items)"),
    ("{harmony_sings: [ooh, la]}", "song.yaml:19: vocals.harmony_sings[1]: is not a known value "
                                   "(got 'la'"),
    ("{harmony_sings: {a: 1}}", "song.yaml:19: vocals.harmony_sings: must be text"),
])
def test_bad_harmony_sings_is_one_line_exit_2_and_writes_nothing(tmp_path, style, message):
    assert message in refused(_spec(tmp_path, style), tmp_path)


def test_a_hum_is_as_loud_as_an_ooh(tmp_path):
    """``mm`` comes out of the voice about 11 dB under a vowel; raised by HUM_GAIN_DB, the
    same notes hummed are within 3 dB (RMS over the notes) of the same notes on "ooh"."""
    levels = {}
    for vowel in ("ooh", "mm"):
        (tmp_path / vowel).mkdir()
        plan, comp = _compose(_spec(tmp_path / vowel, f"{{harmony_sings: {vowel}, "
                                                      "harmony_voice: alto}"))
        settings = vocal_settings(plan.style.vocals)
        y = render_vocals(comp, plan.timeline, settings, seed=3, workers=1,
                          total_samples=plan.total_samples, singer="alto")[0]
        (line,), _ = harmony_notes(comp, plan.timeline, settings)
        sr = plan.sample_rate
        spans = np.concatenate([y[int(n.start_s * sr):int(n.end_s * sr)] for n in line])
        levels[vowel] = 20 * np.log10(np.sqrt(np.mean(spans.astype(np.float64) ** 2)))
    assert abs(levels["mm"] - levels["ooh"]) < 3.0, levels


def test_the_example_sings_every_note_of_its_oohs_track():
    """examples/own-melody/backing.yaml: every note of backing.mid's "Oohs" track (read from
    backing.csv) is sung, from song bar 3 (beat 8), by the alto into its own stem: "ooh"
    twice in the verse (the tied A sung again), the outro's own word "home" slurred."""
    example = Path(__file__).resolve().parent.parent / "examples" / "own-melody"
    oohs = csv_note_ons(example / "backing.csv", 2, 8)
    plan, comp = _compose(example / "backing.yaml")
    settings = vocal_settings(plan.style.vocals)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.pitch) for n in part.notes] == oohs
    assert [n.lyric for n in part.notes] == ["ooh", "", "ooh", "", "home", ""]
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
