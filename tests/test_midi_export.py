"""MIDI export read back with plain mido (an independent reader): tempo map in µs at the right
ticks, time signatures, key, markers, program changes (drums on channel 10), notes at
``round(beat * 960)``, UTF-8 lyrics at note-ons, per-part files, deterministic bytes."""

from __future__ import annotations

from fractions import Fraction

import mido
import pytest

from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.errors import ExportError
from ainur_cli.export.midi import PPQ, write_midi_files
from ainur_cli.timeline import MeterChange, TempoChange, Timeline


def issue_timeline() -> Timeline:
    """4 bars 4/4 at 120 bpm, then 2 bars 3/4 at 90 bpm (22 beats)."""
    return Timeline([TempoChange(Fraction(0), Fraction(120)), TempoChange(Fraction(16), Fraction(90))],
                    [MeterChange(0, 4, 4), MeterChange(4, 3, 4)], 6, 48000)


LYRICS = ["café", "", "naïve", "日本", "ly-", "rics"]


def composition() -> Composition:
    lead = tuple(Note(8.0 + i, 0.5 if i != 1 else 1.5, 64 + i, 90, lyric=s, line_index=0)
                 for i, s in enumerate(LYRICS))
    return Composition((
        Part("drums", 0, True, 9, tuple(Note(b / 2, 0.25, 36 if b % 2 == 0 else 42, 100) for b in range(8))),
        Part("bass", 33, False, 0, (Note(0.0, 1.0, 40), Note(Fraction(1, 3), 1.0, 43),
                                    Note(0.1, 0.2, 45), Note(Fraction(1, 1920), Fraction(1, 2), 47),
                                    Note(17.5, 2.0, 40))),
        Part("lead", 73, False, 1, lead),
    ))


MARKERS = [(Fraction(0), "Intro"), (Fraction(8), "Verse 1"), (Fraction(16), "Bridge ü")]


@pytest.fixture()
def files(tmp_path):
    return write_midi_files(composition(), issue_timeline(), tmp_path / "midi", title="Test Söng",
                            markers=MARKERS, key_signature="F#m")


def absolute(track) -> list[tuple[int, object]]:
    now, out = 0, []
    for msg in track:
        now += msg.time
        out.append((now, msg))
    return out


def test_song_file_layout(files):
    assert sorted(files) == ["bass", "drums", "lead", "song"]
    mid = mido.MidiFile(str(files["song"]), charset="utf-8")
    assert mid.type == 1 and mid.ticks_per_beat == PPQ == 960
    assert [t.name for t in mid.tracks] == ["Test Söng", "drums", "bass", "lead"]
    # Song length = 8 s at 120 + 4 s at 90; 90 bpm is written as 666667 µs per quarter
    # (rounded from 666666.67), so 6 quarters read back 2 µs long.
    assert mid.length == pytest.approx(12.000002, abs=1e-9)


def test_conductor_tempo_meter_key_markers(files):
    conductor = absolute(mido.MidiFile(str(files["song"]), charset="utf-8").tracks[0])
    tempos = [(t, m.tempo) for t, m in conductor if m.type == "set_tempo"]
    assert tempos == [(0, 500000), (16 * 960, 666667)]  # 60e6/90 = 666666.67 µs, rounded
    meters = [(t, m.numerator, m.denominator, m.clocks_per_click)
              for t, m in conductor if m.type == "time_signature"]
    assert meters == [(0, 4, 4, 24), (16 * 960, 3, 4, 24)]
    assert [(t, m.key) for t, m in conductor if m.type == "key_signature"] == [(0, "F#m")]
    markers = [(t, m.text) for t, m in conductor if m.type == "marker"]
    assert markers == [(0, "Intro"), (7680, "Verse 1"), (15360, "Bridge ü")]
    assert conductor[-1][1].type == "end_of_track" and conductor[-1][0] == 22 * 960


def test_program_changes_and_notes(files):
    tracks = {t.name: absolute(t) for t in mido.MidiFile(str(files["song"]), charset="utf-8").tracks[1:]}
    programs = {name: [(m.channel, m.program) for _, m in ev if m.type == "program_change"]
                for name, ev in tracks.items()}
    assert programs == {"drums": [(9, 0)], "bass": [(0, 33)], "lead": [(1, 73)]}
    ons = [(t, m.note) for t, m in tracks["bass"] if m.type == "note_on" and m.velocity > 0]
    # beat 1/3 → 320; float 0.1 → 96; 1/1920 beat = half a tick → rounds up to 1, and its
    # end 961/1920 beat = 480.5 ticks → 481.
    assert ons == [(0, 40), (1, 47), (96, 45), (320, 43), (16800, 40)]
    offs = [(t, m.note) for t, m in tracks["bass"] if m.type == "note_off"]
    assert sorted(offs) == [(288, 45), (481, 47), (960, 40), (1280, 43), (18720, 40)]
    drum_ons = [(t, m.channel, m.note) for t, m in tracks["drums"] if m.type == "note_on"]
    assert drum_ons == [(b * 480, 9, 36 if b % 2 == 0 else 42) for b in range(8)]


def test_lyrics_are_utf8_meta_events_at_note_ons(files):
    lead = absolute(mido.MidiFile(str(files["song"]), charset="utf-8").tracks[3])
    lyrics = [(t, m.text) for t, m in lead if m.type == "lyrics"]
    # RP-017 text: a space after a word's last syllable, none after "ly-" (the word goes on),
    # a carriage return after the line's last syllable; "" = melisma, no event
    assert lyrics == [(960 * 8, "café "), (960 * 10, "naïve "), (960 * 11, "日本 "),
                      (960 * 12, "ly"), (960 * 13, "rics \r")]
    note_ticks = {t for t, m in lead if m.type == "note_on"}
    assert {t for t, _ in lyrics} <= note_ticks
    # The raw bytes are UTF-8 (a latin-1 reader would see mojibake).
    assert "café".encode("utf-8") in files["lead"].read_bytes()


def test_overlaps_same_tick_order_and_min_length(tmp_path):
    part = Part("keys", 0, False, 0, (Note(0.0, 2.0, 60), Note(1.0, 2.0, 60), Note(3.0, 1.0, 60),
                                      Note(4.0, 1e-6, 62)))
    paths = write_midi_files(Composition((part,)), issue_timeline(), tmp_path, title="t", markers=[],
                             key_signature=None)
    events = [(t, m.type, m.note) for t, m in absolute(mido.MidiFile(str(paths["keys"])).tracks[1])
              if m.type in ("note_on", "note_off")]
    # The first note is cut where the second (same key) starts; at tick 2880 the note-off of
    # the second comes before the third's note-on; a tiny note still lasts one tick.
    assert events == [(0, "note_on", 60), (960, "note_off", 60), (960, "note_on", 60),
                      (2880, "note_off", 60), (2880, "note_on", 60), (3840, "note_off", 60),
                      (3840, "note_on", 62), (3841, "note_off", 62)]


def test_per_part_files_hold_the_conductor_and_one_part(files):
    for name in ("drums", "bass", "lead"):
        mid = mido.MidiFile(str(files[name]), charset="utf-8")
        assert [t.name for t in mid.tracks] == ["Test Söng", name]
        assert any(m.type == "set_tempo" and m.tempo == 666667 for m in mid.tracks[0])
        assert sum(m.type == "note_on" for m in mid.tracks[1]) == len(composition().part(name).notes)


def test_bytes_are_deterministic(tmp_path, files):
    again = write_midi_files(composition(), issue_timeline(), tmp_path / "again", title="Test Söng",
                             markers=MARKERS, key_signature="F#m")
    for name, path in files.items():
        assert path.read_bytes() == again[name].read_bytes()


def test_export_errors(tmp_path):
    tl = issue_timeline()
    ok = Composition((Part("bass", 33, False, 0, (Note(0.0, 1.0, 40),)),))
    with pytest.raises(ExportError, match="key_signature.*'H#'.*allowed: Cb, Gb"):
        write_midi_files(ok, tl, tmp_path, title="t", markers=[], key_signature="H#")
    for name in ("song", "../evil", ".hidden", ""):
        with pytest.raises(ExportError, match="part name cannot be a MIDI file name"):
            write_midi_files(Composition((Part(name, 0, False, 0, ()),)), tl, tmp_path, title="t",
                             markers=[], key_signature=None)
    bad_note = Composition((Part("bass", 33, False, 0, (Note(0.0, 1.0, 200),)),))
    with pytest.raises(ExportError, match=r"parts\.bass\.notes\[0\]\.pitch"):
        write_midi_files(bad_note, tl, tmp_path, title="t", markers=[], key_signature=None)
    slow = Timeline.constant(2, 4, 4, 1, 48000)  # 30 s per quarter: beyond set_tempo's 3 bytes
    with pytest.raises(ExportError, match="tempo cannot be written"):
        write_midi_files(ok, slow, tmp_path, title="t", markers=[], key_signature=None)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write MIDI files"):
        write_midi_files(ok, tl, blocker / "midi", title="t", markers=[], key_signature=None)
