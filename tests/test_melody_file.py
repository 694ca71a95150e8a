"""The spec's ``melody:``: a MIDI clip (csvmidi_melody_clip.mid, written by csvmidi from the
CSV beside it, as Ableton Live exports a clip: 96 PPQ, one track, no lyrics) sung with the
sections' lyrics. The expected notes are the CSV's, not Ainur's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose.song import compose_song
from ainur_cli.spec import load_spec

CLIP = Path(__file__).resolve().parent / "data" / "midi" / "csvmidi_melody_clip.mid"
WIDE = {**os.environ, "COLUMNS": "1000"}
SPEC = """\
title: Clip Song
preset: pop
tempo_bpm: 100
{key}melody: {melody}
sections:
  - name: Intro
    bars: 1
  - name: Verse
    bars: 2
    lyrics: |
      Holding on to yesterday
      Never let it go
  - name: Chorus
    bars: 2
    lyrics: |
      Sing it loud tonight
"""
# The CSV's notes (beat, length, pitch), clip beat 0 = song bar 2 = song beat 4; the last
# one (clip beat 16) falls after the song's end.
CLIP_NOTES = [(0, .5, 69), (.5, .5, 71), (1, .5, 69), (1.5, .5, 66), (2, .5, 64), (2.5, .5, 62),
              (3, 1, 64), (5, .5, 66), (5.5, .5, 67), (6, .5, 69), (6.5, .5, 71), (7, .5, 69),
              (7.5, .5, 66), (8, 1, 74), (9, .5, 73), (9.5, 1.5, 71), (11, .5, 69), (11.5, 2.5, 74)]


def _csv_notes() -> list[tuple[float, float, int]]:
    ppq, on, out = 96, {}, []
    for line in CLIP.with_suffix(".csv").read_text().splitlines():
        parts = [x.strip() for x in line.split(",")]
        if parts[2] == "Note_on_c" and parts[5] != "0":
            on[int(parts[4])] = int(parts[1])
        elif parts[2] in ("Note_off_c", "Note_on_c") and int(parts[4]) in on:
            start = on.pop(int(parts[4]))
            out.append((start / ppq, (int(parts[1]) - start) / ppq, int(parts[4])))
    return sorted(out)


def _spec(tmp_path: Path, melody: str = "{file: clip.mid, bar: 2}", key: str = ""):
    shutil.copy(CLIP, tmp_path / "clip.mid")
    path = tmp_path / "song.yaml"
    path.write_text(SPEC.format(melody=melody, key=key))
    return path


def _compose(path: Path):
    plan = resolve_song(load_spec(path)).plan
    return plan, compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                              timeline=plan.timeline, sections=plan.sections)


def test_the_table_is_the_csv():
    assert _csv_notes() == sorted(CLIP_NOTES + [(16, 1, 62)])


def test_the_lyrics_are_sung_on_the_clips_notes(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    lead = [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in comp.part("lead").notes]
    assert [(a, b, p) for a, b, p, _ in lead] == [(a + 4, b, p) for a, b, p in CLIP_NOTES]
    # the verse's 13 notes for 12 syllables: split at its rest into 7 + 6, "go" holds two
    # notes; the chorus has a note per syllable
    assert [lyric for *_, lyric in lead] == [
        "Hol-", "ding", "on", "to", "yes-", "ter-", "day",
        "Ne-", "ver", "let", "it", "go", "",
        "Sing", "it", "loud", "to-", "night"]
    assert plan.spec.key.name == "D major"  # no key in the spec: the clip's (C# and F#)


def test_a_key_in_the_spec_wins(tmp_path):
    plan, _ = _compose(_spec(tmp_path, key="key: F major\n"))
    assert plan.spec.key.name == "F major"


def test_the_bar_moves_the_clip_and_short_phrases_fall_back_to_a_composed_melody(tmp_path, caplog):
    """At bar 3 the verse (bars 2-3) holds only the clip's first 7 notes (the rest move into
    the chorus): its 12 syllables cannot be sung on them, so the verse is composed; the
    chorus holds 11 notes for 5 syllables in one line: the last syllables hold the extras."""
    plan, comp = _compose(_spec(tmp_path, melody="{file: clip.mid, bar: 3}"))
    verse = [n for n in comp.part("lead").notes if n.line_index in (0, 1)]
    assert len([n for n in verse if n.lyric]) == 12 and all(4 <= n.start_beat < 12 for n in verse)
    assert any("section 'Verse', lyric line 1: 7 syllables but 6 note(s)" in r.getMessage()
               for r in caplog.records)
    chorus = [n for n in comp.part("lead").notes if n.line_index == 2]
    clip = [(a + 8, p) for a, _, p in CLIP_NOTES if 12 <= a + 8 < 20]
    assert [(n.start_beat, n.pitch) for n in chorus] == clip
    assert sum(1 for n in chorus if n.lyric) == 5


def test_render_from_the_cli(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(spec), "--parts",
                           "lead,bass", "--out", str(out)], capture_output=True, text=True,
                          timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    assert "1 note(s) of the melody file start after the song's end" in proc.stderr
    assert json.loads((out / "manifest.json").read_text())["key"] == "D major"


@pytest.mark.parametrize("melody, message", [
    ("missing.mid", "song.yaml:4: melody: the melody file does not exist"),
    ("{file: clip.mid, track: 3}", "song.yaml:4: melody.file: the melody file has no such track "
                                   "(got 3; allowed: a track 1..1)"),
    ("{file: song.yaml}", "song.yaml:4: melody.file: the melody file is not a readable Standard "
                          "MIDI File"),
    ("{file: clip.mid, bar: 9}", "song.yaml:4: melody.bar: is out of range (got 9"),
])
def test_bad_melody_is_one_line_exit_2_and_writes_nothing(tmp_path, melody, message):
    assert message in refused(_spec(tmp_path, melody=melody), tmp_path)


def refused(spec: Path, tmp_path: Path) -> str:
    """``ainur render spec`` refused: exit code 2, no traceback, nothing written; its stderr
    with the paths under ``tmp_path`` made relative."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(spec), "--out",
                           str(out)], capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists(), proc.stderr
    return proc.stderr.replace(str(tmp_path) + "/", "")


def test_a_section_rendered_alone_sings_the_same_notes(tmp_path):
    """``/ainur/render_section``'s spec for the chorus: the clip keeps its place in the full
    song, so the chorus alone sings the full song's chorus notes (its start is beat 0)."""
    from daw_bridge.job_runner import section_spec

    path = _spec(tmp_path)
    spec = load_spec(path)
    plan, comp = _compose(path)
    chorus = plan.sections[2]
    sub = resolve_song(section_spec(spec, plan, chorus, None)).plan
    alone = compose_song(key=sub.spec.key, seed=sub.spec.seed, style=sub.style,
                         timeline=sub.timeline, sections=sub.sections)
    full = [(n.start_beat - float(chorus.start_beat), n.pitch, n.lyric)
            for n in comp.part("lead").notes if n.start_beat >= float(chorus.start_beat)]
    assert [(n.start_beat, n.pitch, n.lyric) for n in alone.part("lead").notes] == full
    assert len(full) == 5


def test_the_example_sings_its_clip():
    """examples/own-melody: every note of its vocal.mid (read from vocal.csv) is sung, from
    song bar 3 (beat 8), a syllable on each but the two melisma notes; its key is the clip's."""
    example = Path(__file__).resolve().parent.parent / "examples" / "own-melody"
    ppq, on, clip = 96, {}, []
    for line in (example / "vocal.csv").read_text().splitlines():
        parts = [x.strip() for x in line.split(",")]
        if parts[2] == "Note_on_c":
            on[int(parts[4])] = int(parts[1])
        elif parts[2] == "Note_off_c":
            start = on.pop(int(parts[4]))
            clip.append((start / ppq + 8, (int(parts[1]) - start) / ppq, int(parts[4])))
    plan, comp = _compose(example / "song.yaml")
    lead = comp.part("lead").notes
    assert [(n.start_beat, n.duration_beats, n.pitch) for n in lead] == sorted(clip)
    assert sum(1 for n in lead if n.lyric) == 26 and sum(1 for n in lead if n.lyric == "") == 2
    assert plan.spec.key.name == "D major"


def test_one_voice_keeps_the_top_of_each_chord_and_cuts_overlaps():
    from ainur_cli.melody_file import one_voice

    # a chord (its highest note sung, whichever order it was written in), a flam whose
    # grace note is one tick long, a note overlapping the next
    notes = [[0, 96, 60, 80], [0, 90, 67, 90], [0, 96, 64, 80],
             [96, 97, 66, 70], [98, 200, 69, 100],
             [192, 300, 62, 90]]
    assert one_voice(notes, 3) == [[0, 90, 67, 90], [98, 192, 69, 100], [192, 300, 62, 90]]


def test_grace_notes_too_short_to_sing_are_left_out(tmp_path, caplog):
    """A 20 ms grace note before a note (96 PPQ, 120 bpm: 4 ticks) carries no syllable: it is
    left out with a warning and the four syllables go on the four real notes."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    track, now = mido.MidiTrack(), 0
    for on, length, pitch in [(0, 48, 64), (48, 4, 65), (52, 44, 66), (96, 48, 67), (144, 96, 64)]:
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=on - now))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=length))
        now = on + length
    mid.tracks.append(track)
    mid.save(str(tmp_path / "grace.mid"))
    (tmp_path / "song.yaml").write_text("title: Grace\npreset: pop\ntempo_bpm: 120\n"
                                        "melody: grace.mid\nsections:\n  - name: Verse\n"
                                        "    bars: 2\n    lyrics: Sing it to me\n")
    _, comp = _compose(tmp_path / "song.yaml")
    lead = [(n.start_beat, n.pitch, n.lyric) for n in comp.part("lead").notes]
    assert lead == [(0.0, 64, "Sing"), (52 / 96, 66, "it"), (1.0, 67, "to"), (1.5, 64, "me")]
    assert any("1 note(s) of the melody file are shorter than 30 ms" in r.getMessage()
               for r in caplog.records)


def test_a_note_no_voice_can_sing_is_refused(tmp_path):
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    mid.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=64, velocity=90, time=0),
        mido.Message("note_off", note=64, velocity=0, time=96),
        mido.Message("note_on", note=118, velocity=90, time=0),
        mido.Message("note_off", note=118, velocity=0, time=96)]))
    mid.save(str(tmp_path / "high.mid"))
    (tmp_path / "song.yaml").write_text("title: High\npreset: pop\ntempo_bpm: 120\n"
                                        "melody: {file: high.mid, bar: 2}\nsections:\n"
                                        "  - name: Verse\n    bars: 2\n    lyrics: Sing high\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(tmp_path / "song.yaml"),
                           "--out", str(out)], capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "song.yaml:4: melody.file: the note of the melody file at @2.2 (song bar.beat) is out of " \
           "any voice's range (got 'MIDI 118'; allowed: MIDI 28..96" in " ".join(proc.stderr.split())
    assert not out.exists()


def test_a_note_held_into_a_composed_section_ends_where_it_starts(tmp_path):
    """The clip's last note is held 6 beats, past the verse into a chorus that has no notes
    of its own (its line is composed): the held note ends where the chorus's first note
    starts, and the song renders (one voice sings one note at a time)."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    mid.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=64, velocity=90, time=0),
        mido.Message("note_off", note=64, velocity=0, time=96),
        mido.Message("note_on", note=67, velocity=90, time=0),
        mido.Message("note_off", note=67, velocity=0, time=6 * 96)]))
    mid.save(str(tmp_path / "held.mid"))
    (tmp_path / "song.yaml").write_text(
        "title: Held\npreset: pop\ntempo_bpm: 120\nmelody: held.mid\nsections:\n"
        "  - name: Verse\n    bars: 1\n    lyrics: Hold on\n"
        "  - name: Chorus\n    bars: 2\n    lyrics: Sing it loud tonight\n")
    _, comp = _compose(tmp_path / "song.yaml")
    lead = comp.part("lead").notes
    held = next(n for n in lead if n.start_beat == 1.0)
    chorus = [n for n in lead if n.start_beat >= 4.0]
    assert held.pitch == 67 and held.start_beat + held.duration_beats == chorus[0].start_beat
    assert all(a.start_beat + a.duration_beats <= b.start_beat + 1e-9 for a, b in zip(lead, lead[1:]))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(tmp_path / "song.yaml"),
                           "--parts", "lead,vocals", "--out", str(out)], capture_output=True,
                          text=True, timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
