"""A written harmony with its own words (a section's ``harmony_lyrics``): the harmony track's
own notes in the section sing them, by the lead's rules. The notes are csvmidi_backing_clip's
(written by csvmidi from the CSV beside it) and lilypond_two_voices' (from the .ly beside
it), read by hand; the sung pitch is measured on the rendered audio (pyworld harvest)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ainur_cli.vocals import (harmony_names, harmony_notes, harmony_parts, render_vocals,
                              vocal_settings, vocal_stems)
from tests.conftest import midi_lyrics, note_pitch_errors_cents, rendered
from tests.test_backing_vowels import CLIP, EXPECTED as OOHS, _compose
from tests.test_melody_file import SPEC, refused
from tests.test_written_harmony import EXPECTED as WORDS



def _spec(tmp_path: Path, backing: str = "'(hold on)'", track: int = 4,
          style: str = "{harmony_voice: alto}", melody: str | None = None) -> Path:
    """test_melody_file's song (seed 3) on the backing clip, the chorus with ``backing`` as
    its harmony lyrics and the ``vocals`` ``style``."""
    shutil.copy(CLIP, tmp_path / "clip.mid")
    path = tmp_path / "song.yaml"
    melody = melody or f"{{file: clip.mid, bar: 1, track: 2, harmony_track: {track}}}"
    path.write_text(SPEC.format(melody=melody, key="seed: 3\n")  # its chorus is the last section
                    + f"    harmony_lyrics: {backing}\nstyle:\n  vocals: {style}\n")
    return path


def test_the_chorus_sings_its_own_words_on_the_harmony_tracks_notes(tmp_path, caplog):
    """Track 4 (the harmony of csvmidi_harmony_clip.mid): the lead's words in the verse, as
    test_written_harmony expects; in the chorus "hold on" on the track's own four notes
    (two syllables: a note each, the rest melismas from the end: 2 + 2)."""
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("written",)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    got = [(n.start_beat, n.pitch, n.lyric) for n in part.notes]
    assert got[:9] == WORDS[:9]  # the verse: the lead's syllables
    assert got[9:] == [(12.0, 78, "hold"), (13.5, 74, ""), (15.0, 73, "on"),
                       (15 + 52 / 96, 78, "")]
    assert part.notes[-1].duration_beats == pytest.approx(18 - 15 - 52 / 96)  # the track's
    # the chorus notes sing the words, not the lead's syllables there; the note in the
    # lead's rest is still not sung
    assert "1 of 9 note(s) of the harmony track 4 of clip.mid are not sung" in caplog.text
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}


def test_own_words_and_oohs_on_one_track(tmp_path, caplog):
    """Track 3 ("Oohs") on a vowel: its intro and verse notes sing "ooh", its chorus notes
    the chorus' words; its 2-tick grace note in the chorus is not sung."""
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(tmp_path, track=3,
                                    style="{harmony_voice: alto, harmony_sings: ooh}"))
    settings = vocal_settings(plan.style.vocals)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in part.notes] == \
        OOHS[:3] + [(12.0, 2.0, 74, "hold"), (15.0, 5.0, 78, "on")]
    assert "section 'Chorus': 1 note(s) of the harmony track 3 of clip.mid are shorter than " \
           "30 ms" in caplog.text
    (sung,), shifts = harmony_notes(comp, plan.timeline, settings)
    assert [n.word for n in sung] == ["ooh", "ooh", "ooh", "hold", "on"]
    assert sung[3].line_index == sung[4].line_index != sung[2].line_index  # its own phrase


def test_the_own_words_are_sung_at_the_tracks_pitches(tmp_path):
    plan, comp = _compose(_spec(tmp_path, track=3,
                                style="{harmony_voice: alto, harmony_sings: ooh}"))
    settings = vocal_settings(plan.style.vocals)
    alto = render_vocals(comp, plan.timeline, settings, seed=3, workers=1,
                         total_samples=plan.total_samples, singer="alto")
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    words = [n for n in line if n.word in ("hold", "on")]
    errors = note_pitch_errors_cents(alto[0], plan.sample_rate, words, shifts["alto"],
                                     f0_ceil=1000.0)
    assert len(errors) == 2 and all(abs(e) < 50 for e in errors), errors


def test_words_that_do_not_fit_the_notes_leave_them_to_the_rest_of_the_track(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(tmp_path, "'Sing it loud tonight forever'", track=3,
                                    style="{harmony_voice: alto, harmony_sings: ooh}"))
    assert "section 'Chorus', harmony lyric line 1: 8 syllables but 2 note(s) in its phrase " \
           "of the harmony track 3 of clip.mid: its harmony lyrics are not sung, its notes " \
           "are sung as the rest of the track" in caplog.text
    (part,) = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    assert [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in part.notes] == OOHS


NO_HARMONY = ("section 'Chorus': its harmony_lyrics are not sung: the song has no harmony to "
              "sing them: neither a written harmony track (melody.harmony_track, "
              "--harmony-track, a DAW project's harmony track) nor vocals.harmony (whose voices "
              "answer the lead with them)")


@pytest.mark.parametrize("melody, style, message", [
    ("{file: clip.mid, bar: 1, track: 2}", "{harmony_voice: alto}", NO_HARMONY),
    (None, "{harmony_voice: alto}", NO_HARMONY),
    (None, "{harmony: third-above, harmony_rhythm: chords, harmony_sings: ooh}",
     "section 'Chorus': its harmony_lyrics are not sung: its chord pads (vocals.harmony_rhythm: "
     "chords) hold through the lead's rests; harmony_rhythm lead or echo answers the lead "
     "with them"),
])
def test_harmony_lyrics_nobody_sings_are_a_warning(tmp_path, caplog, melody, style, message):
    path = _spec(tmp_path, melody=melody or "{file: clip.mid, bar: 1, track: 2}", style=style)
    if melody is None:
        path.write_text(path.read_text().replace("melody: {file: clip.mid, bar: 1, track: 2}\n",
                                                 ""))
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(path)
    assert message in caplog.text
    assert not [n for part in harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
                for n in part.notes if n.lyric in ("hold", "on")]


@pytest.mark.parametrize("backing, message", [
    ("'@4.1 hold on'", "song.yaml:18: sections[2].harmony_lyrics: cannot pin a harmony lyric: "
                       "the harmony track's notes (or the lead's rests) place its words (got "
                       "'@4.1 hold on'"),
    ("{hold: on}", "song.yaml:18: sections[2].harmony_lyrics: must be text (one line per line)"),
])
def test_bad_harmony_lyrics_are_one_line_exit_2_and_write_nothing(tmp_path, backing, message):
    assert message in refused(_spec(tmp_path, backing), tmp_path)


def test_a_section_rendered_alone_sings_the_same_words(tmp_path):
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.spec import load_spec
    from daw_bridge.job_runner import section_spec

    path = _spec(tmp_path)
    plan, comp = _compose(path)
    chorus = plan.sections[2]
    sub = resolve_song(section_spec(load_spec(path), plan, chorus, None)).plan
    (part,) = harmony_parts(compose_plan(sub), sub.timeline, vocal_settings(sub.style.vocals))
    (whole,) = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    start = float(chorus.start_beat)
    assert [(n.start_beat + start, n.pitch, n.lyric) for n in part.notes] == \
        [(n.start_beat, n.pitch, n.lyric) for n in whole.notes if n.start_beat >= start]


TWO_VOICES = Path(__file__).resolve().parent / "data" / "midi" / "lilypond_two_voices.mid"


def test_from_midi_the_specs_harmony_lyrics_win_over_the_files(tmp_path):
    """lilypond_two_voices.mid with ``--harmony-track 4`` (the backing voice: e2 f | g1 |
    c2 b | c1, its own lyric events "Ooh ah ooh ah ooh ah"): a spec whose Chorus (a marker
    of the file) gives it "yeah yeah yeah" sings those there, one syllable on each of its
    notes; the Verse, without harmony lyrics in the spec, sings the file's."""
    spec = tmp_path / "song.yaml"
    spec.write_text("title: t\npreset: pop\nsections:\n  - name: Chorus\n    harmony_lyrics: "
                    "yeah yeah yeah\n")
    out = rendered(tmp_path, "--from-midi", TWO_VOICES, spec, "--harmony-track", "4", "--parts",
                   "lead,vocals")
    events = midi_lyrics(out / "midi" / "vocals_harmony.mid")
    assert events == [(0, "Ooh"), (2, "ah"), (4, "ooh"), (8, "yeah"), (10, "yeah"), (12, "yeah")]


def test_the_parentheses_backing_vocals_are_written_in_are_dropped(tmp_path):
    from ainur_cli.spec import load_spec

    spec = load_spec(_spec(tmp_path, "['(all night) (all night long)', '[ooh]', '  ']"))
    assert spec.sections[2].harmony_lyrics == ("all night all night long", "ooh")
    assert spec.sections[1].harmony_lyrics == ()


def test_a_hums_gain_is_not_given_to_the_voices_own_words(tmp_path):
    """Track 3 hummed (``mm``, raised by HUM_GAIN_DB) or on "ooh": its chorus words ("hold
    on", from beat 12) come out as loud either way (RMS from beat 12.6, after the verse's
    last hum or ooh has ended), and the hums as loud as the oohs."""
    sung = {}
    for vowel in ("mm", "ooh"):
        (tmp_path / vowel).mkdir()
        plan, comp = _compose(_spec(tmp_path / vowel, track=3,
                                    style=f"{{harmony_voice: alto, harmony_sings: {vowel}}}"))
        sung[vowel] = render_vocals(comp, plan.timeline, vocal_settings(plan.style.vocals),
                                    seed=3, workers=1, total_samples=plan.total_samples,
                                    singer="alto")[0].astype(np.float64)

    def db(x: np.ndarray) -> float:
        return float(20 * np.log10(np.sqrt(np.mean(x ** 2))))

    sr, tl = plan.sample_rate, plan.timeline
    words = int(float(tl.beat_to_seconds(12.6)) * sr)
    vowels = slice(int(float(tl.beat_to_seconds(0.5)) * sr), int(float(tl.beat_to_seconds(11.5)) * sr))
    assert abs(db(sung["mm"][words:]) - db(sung["ooh"][words:])) < 0.5
    assert abs(db(sung["mm"][vowels]) - db(sung["ooh"][vowels])) < 3.0
