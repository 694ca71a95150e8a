"""Written harmony: the spec's ``melody: {harmony_track: N}`` (a second track of the melody
clip, csvmidi_harmony_clip.mid, written by csvmidi from the CSV beside it) sung by a harmony
voice with the lead's words and rhythm at the track's pitches. The expected pitches are the
CSV's, read by hand; the sung pitch is measured on the rendered audio (pyworld harvest)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.song import compose_song
from ainur_cli.spec import load_spec
from ainur_cli.vocals import (harmony_names, harmony_notes, harmony_parts, render_vocals,
                              vocal_settings, vocal_stems)
from tests.conftest import csv_note_ons, midi_note_ons, note_pitch_errors_cents, rendered
from tests.test_melody_file import SPEC, WIDE, _compose, refused

CLIP = Path(__file__).resolve().parent / "data" / "midi" / "csvmidi_harmony_clip.mid"
# The CSV's harmony track (ticks / 96 + the clip's place, song beat 4) against the lead's
# syllables: a third above through the first line; nothing under "Never let it"; "go" and
# its melisma note under one held A (73); in the chorus one held note (78) under "Sing it",
# and the last note played in 4 ticks late (still under "night"). Its note in the lead's
# rest (tick 400) starts at no syllable.
EXPECTED = [(4.0, 73, "Hol-"), (4.5, 74, "ding"), (5.0, 73, "on"), (5.5, 69, "to"),
            (6.0, 67, "yes-"), (6.5, 66, "ter-"), (7.0, 67, "day"), (11.0, 73, "go"),
            (11.5, 73, ""), (12.0, 78, "Sing"), (13.0, 78, "it"), (13.5, 74, "loud"),
            (15.0, 73, "to-"), (15.5, 78, "night")]


def _spec(tmp_path: Path, melody: str = "{file: clip.mid, bar: 2, harmony_track: 3}",
          style: str = "") -> Path:
    """test_melody_file's song (seed 3) on the two-track clip, with ``style`` (YAML)."""
    shutil.copy(CLIP, tmp_path / "clip.mid")
    path = tmp_path / "song.yaml"
    path.write_text(SPEC.format(melody=melody, key="seed: 3\n") + style)
    return path


def test_the_harmony_sings_the_tracks_pitch_on_each_lead_syllable(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("written",)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert part.name == "harmony written"
    assert [(n.start_beat, n.pitch, n.lyric) for n in part.notes] == EXPECTED
    lead = {n.start_beat: n for n in comp.part("lead").notes}
    # the lead's rhythm: each harmony note is the lead's note (beat, length, syllable)
    assert all(n.duration_beats == lead[n.start_beat].duration_beats for n in part.notes)
    assert "1 of 13 note(s) of the harmony track 3 of clip.mid are not sung" in caplog.text
    # the lead is the other track (the one with the most notes, the harmony's left out)
    assert [n.pitch for n in comp.part("lead").notes][:3] == [69, 71, 69]


def test_the_melody_track_left_to_choose_is_never_the_harmonys():
    """``track`` absent: the lead is the track with the most notes other than the
    harmony's (the lead track, 19 notes, named as the harmony leaves the other, 13)."""
    from ainur_cli.melody_file import read_melody

    def error(message, value=None, allowed=None):
        raise AssertionError(message)

    assert len(read_melody(CLIP, None, error)) == 19
    assert [p for _, _, p, _ in read_melody(CLIP, None, error, exclude=(2,))][:3] == [73, 74, 73]
    assert len(read_melody(CLIP, 2, error, exclude=(2,))) == 19  # a given track is read


def test_the_written_harmony_replaces_the_styles_intervals(tmp_path):
    plan, comp = _compose(_spec(tmp_path, style="style:\n  vocals: {harmony: [third-below, "
                                                "sixth-below], harmony_voice: alto}\n"))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(comp, settings) == ("written",)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.pitch) for n in part.notes] == [(a, p) for a, p, _ in EXPECTED]
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}


def test_rendered_harmony_sings_its_notes_and_nothing_else(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    (tmp_path / "plain").mkdir()
    _, plain_comp = _compose(_spec(tmp_path / "plain", "{file: clip.mid, bar: 2}"))
    settings = vocal_settings(plan.style.vocals)
    assert harmony_names(plain_comp, settings) == ()
    kw = dict(seed=3, total_samples=plan.total_samples, workers=1)
    both = render_vocals(comp, plan.timeline, {**settings, "harmony_gain_db": 0.0}, **kw)
    assert np.array_equal(both, render_vocals(comp, plan.timeline,
                                              {**settings, "harmony_gain_db": 0.0}, **kw))
    plain = render_vocals(plain_comp, plan.timeline, settings, **kw)
    extra = both.astype(np.float64) - plain
    sr = plan.sample_rate
    tl = plan.timeline
    # nothing under "Never let it" (song beats 9..11; the harmony's "go" leans in before 11)
    a, b = (int(float(tl.beat_to_seconds(beat)) * sr) for beat in (9.2, 10.6))
    quiet = extra[:, a:b]
    assert np.max(np.abs(quiet)) == 0.0
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    (shift,) = shifts.values()
    errors = note_pitch_errors_cents(extra[0], sr, line, shift, min_duration_s=0.25)
    assert len(errors) >= 4
    assert sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), errors


def test_a_section_rendered_alone_sings_the_same_harmony(tmp_path):
    from daw_bridge.job_runner import section_spec

    path = _spec(tmp_path)
    plan, comp = _compose(path)
    chorus = plan.sections[2]
    sub = resolve_song(section_spec(load_spec(path), plan, chorus, None)).plan
    alone = compose_song(key=sub.spec.key, seed=sub.spec.seed, style=sub.style,
                         timeline=sub.timeline, sections=sub.sections)
    (part,) = harmony_parts(alone, sub.timeline, vocal_settings(sub.style.vocals))
    start = float(chorus.start_beat)
    assert [(n.start_beat + start, n.pitch, n.lyric) for n in part.notes] == EXPECTED[-5:]


def test_render_writes_the_harmony_midi_and_manifest(tmp_path):
    import json

    spec = _spec(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(spec), "--out",
                           str(out)], capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["vocals"]["harmony"] == ["written"]
    assert midi_note_ons(out / "midi" / "vocals_harmony.mid") == [(a, p) for a, p, _ in EXPECTED]


@pytest.mark.parametrize("melody, message", [
    ("{file: clip.mid, harmony_track: 9}", "song.yaml:5: melody.harmony_track: the melody file "
                                           "has no such track (got 9; allowed: a track 1..3)"),
    ("{file: clip.mid, harmony_track: 1}", "song.yaml:5: melody.harmony_track: track 1 of the "
                                           "melody file has no notes"),
    ("{file: clip.mid, track: 2, harmony_track: 2}", "song.yaml:5: melody.harmony_track: names "
                                                     "the melody's track (got 2"),
    ("{file: clip.mid, harmony_track: [3, 3]}", "song.yaml:5: melody.harmony_track[1]: names a "
                                                "track twice (got 3"),
    ("{file: clip.mid, harmony_track: [1, 2, 3]}", "song.yaml:5: melody.harmony_track: names 3 "
                                                   "tracks"),
    ("{file: clip.mid, harmony_track: lead}", "song.yaml:5: melody.harmony_track: is not a "
                                              "track number (got 'lead'"),
])
def test_bad_harmony_track_is_one_line_exit_2_and_writes_nothing(tmp_path, melody, message):
    assert message in refused(_spec(tmp_path, melody=melody), tmp_path)


TWO_VOICES = Path(__file__).resolve().parent / "data" / "midi" / "lilypond_two_voices.mid"


def test_from_midi_a_harmony_track_with_its_own_lyric_events_sings_them(tmp_path):
    """lilypond_two_voices.mid: the lead's lyric events (track 3) sit on track 2's notes;
    ``--harmony-track 4`` (the backing voice, e2 f | g1 | c2 b | c1) has its own lyric
    events on track 5 ("Ooh ah ooh ah ooh ah", one per note; read from the .ly by hand):
    they are its words, sung on its own notes, not the lead's words at its pitches."""
    import mido

    out = rendered(tmp_path, "--from-midi", TWO_VOICES, "--preset", "pop", "--harmony-track",
                   "4", "--parts", "lead,vocals")
    mid = mido.MidiFile(str(out / "midi" / "vocals_harmony.mid"))
    words = [m.text.strip() for trk in mid.tracks for m in trk if m.type == "lyrics"]
    assert midi_note_ons(out / "midi" / "vocals_harmony.mid") == [
        (0, 64), (2, 65), (4, 67), (8, 72), (10, 71), (12, 72)]
    assert words == ["Ooh", "ah", "ooh", "ah", "ooh", "ah"]
    lead = mido.MidiFile(str(out / "midi" / "lead.mid"))
    assert [m.text.strip() for trk in lead.tracks for m in trk if m.type == "lyrics"][:3] == \
        ["Hel", "lo", "my"]


@pytest.mark.parametrize("flags, message", [
    (["--harmony-track", "4", "--vocal-track", "4"], "'4' is the --vocal-track"),
    (["--harmony-track", "lead"], "'lead' is not a track number 1..65535"),
    (["--harmony-track", "9"], "melody.harmony_track: the melody file has no such track (got 9"),
])
def test_from_midi_a_bad_harmony_track_is_exit_2(tmp_path, flags, message):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", "--from-midi",
                           str(TWO_VOICES), "--preset", "pop", *flags, "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 2, proc.stderr
    assert message in " ".join(proc.stderr.split()), proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_which_daw_track_is_the_lead_and_which_the_harmony():
    from ainur_cli.errors import BridgeError
    from daw_bridge.project_vocal import pick_harmony_track, pick_vocal_track

    def lead(*tracks):
        return pick_vocal_track(tracks, None, daw="the set", file="s.als")

    def harmony(tracks, name=None, lead_track="Lead Vox"):
        return pick_harmony_track(tracks, name, lead_track, daw="the set", file="s.als")

    assert lead("Backing Vox", "Lead Vox") == "Lead Vox"   # both read as vocals
    assert lead("BGV", "Harmony", "Vocal") == "Vocal"
    assert lead("Keys", "Backing Vox") == "Backing Vox"    # the only vocal-like track
    assert harmony(("Keys", "Lead Vox", "Harmony 1", "Choir")) == "Harmony 1"
    assert harmony(("Backing Vox", "Lead Vox")) == "Backing Vox"
    assert harmony(("Keys", "Lead Vox")) is None
    assert harmony(("Keys", "Lead Vox"), "keys") == "Keys"
    assert harmony(("Harmony",), lead_track=None) is None  # nothing to harmonise
    with pytest.raises(BridgeError, match="no MIDI track of that name.*allowed: Keys, Lead Vox"):
        harmony(("Keys", "Lead Vox"), "BGV")
    with pytest.raises(BridgeError,
                       match="is the vocal melody's track.*allowed: another MIDI track: Keys"):
        harmony(("Keys", "Lead Vox"), "lead vox")


def test_the_example_sings_its_harmony():
    """examples/own-melody/harmony.yaml: every note of vocals.mid's harmony track (read from
    vocals.csv) is sung, from song bar 3 (beat 8), each under its lead syllable and with
    the lead's rhythm, by the alto into its own stem."""
    example = Path(__file__).resolve().parent.parent / "examples" / "own-melody"
    harmony = csv_note_ons(example / "vocals.csv", 2, 8)
    plan, comp = _compose(example / "harmony.yaml")
    settings = vocal_settings(plan.style.vocals)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    assert [(n.start_beat, n.pitch) for n in part.notes] == harmony  # "go" holds two
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
