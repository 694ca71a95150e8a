"""The session's own vocal melody: a DAW-exported MIDI file whose lyric events sit on notes is
sung on those notes (``ainur render --from-midi``).

The fixture ``csvmidi_vocal_melody.mid`` was written by csvmidi from the CSV beside it (see
tests/data/midi/README.md): a type 0 file whose one track holds a kick on every beat (GM
drum channel 10), a pad chord at each bar (channel 2) and the vocal melody with its lyrics
(channel 1): a syllable per note (``Hold-`` ``ing``), a melisma note without a lyric, a
melisma mark (``-``), a three-syllable word on one note, a note after a rest without a
lyric, a chord in the vocal channel and a note that overlaps the next one. The expected
melody below is read off the CSV, not from Ainur.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from daw_bridge.midi_import import read_midi_facts, spec_from_midi

DATA = Path(__file__).resolve().parent.parent / "data" / "midi"
VOCAL = DATA / "csvmidi_vocal_melody.mid"
CSV = DATA / "csvmidi_vocal_melody.csv"
WIDE = {**os.environ, "COLUMNS": "1000"}
PPQ = 480
COUNT_IN = 1920  # the first marker ("Verse") is at bar 2

# (tick, length in ticks, pitch, velocity, syllable starts here): the vocal as it must be
# sung. "beautiful" is one lyric on one note: its three syllables share that note.
EXPECTED = [
    (1920, 480, 64, 96, True),   # Hold-
    (2400, 240, 62, 96, True),   # ing
    (2640, 240, 60, 96, False),  # (a note without a lyric, legato: ing's melisma)
    (2880, 480, 62, 96, True),   # on
    (3360, 480, 64, 96, False),  # "-" (a melisma mark; it ends the line)
    (3840, 160, 67, 96, True),   # beau-
    (4000, 160, 67, 96, True),   # ti-
    (4160, 160, 67, 96, True),   # ful
    (4320, 240, 69, 100, True),  # day
    (4560, 240, 67, 96, False),  # (a continuation whose lyric is only a line end)
    (5760, 480, 72, 110, True),  # Sing (over E4 in the same channel: the top note is sung)
    (6240, 240, 71, 96, True),   # it
    (6480, 720, 69, 96, True),   # loud (written 960 ticks long: cut where "to-" starts)
    (7200, 240, 67, 96, True),   # to-
    (7440, 1200, 72, 96, True),  # night
]


def _csv_events() -> list[tuple[int, str, list[str]]]:
    rows = []
    for line in CSV.read_text().splitlines():
        track, tick, kind, *rest = [x.strip() for x in line.split(",", 3)]
        rows.append((int(tick), kind, [x.strip() for x in rest[0].split(",")] if rest else []))
    return rows


def test_the_expectation_is_the_csv():
    """EXPECTED holds the CSV's channel-1 notes and lyrics (guards the table itself)."""
    rows = _csv_events()
    ons = {(t, int(a[1])): int(a[2]) for t, k, a in rows if k == "Note_on_c" and a[0] == "0" and a[2] != "0"}
    lyrics = {t for t, k, _ in rows if k == "Lyric_t"}
    for tick, _, pitch, vel, _ in EXPECTED:
        if tick in (4000, 4160):
            continue  # the shared note's parts
        assert ons[(tick, pitch)] == vel
    assert {t for t, *_ in EXPECTED} - {4000, 4160} <= {t for t, _ in ons}
    assert lyrics == {1920, 2400, 2880, 3360, 3840, 4320, 4560, 5760, 6240, 6480, 7200, 7440}
    unsung = {t for t, _ in ons} - {t for t, *_ in EXPECTED}
    assert unsung == {5280}  # the note after a rest (and the E4 under "Sing", same tick)


def test_lyric_events_carry_the_notes_they_are_sung_on():
    facts = read_midi_facts(VOCAL)
    got = {e.beat * PPQ: (e.text, [(n.start_beat * PPQ, n.end_beat * PPQ, n.pitch, n.velocity)
                                   for n in e.notes]) for e in facts.lyrics}
    assert got[1920] == ("Hold-", [(1920, 2400, 64, 96)])
    assert got[2400] == ("ing", [(2400, 2640, 62, 96), (2640, 2880, 60, 96)])
    assert got[2880] == ("on", [(2880, 3360, 62, 96), (3360, 3840, 64, 96)])
    assert got[3360] == ("\r", [])  # the melisma mark gave its note away, kept its line end
    assert got[3840] == ("beautiful", [(3840, 4320, 67, 96)])
    assert got[4320] == ("day", [(4320, 4560, 69, 100), (4560, 4800, 67, 96)])
    assert got[4560] == ("\r", [])
    assert got[5760] == ("Sing", [(5760, 6240, 72, 110)])  # not the kick, the pad or the E4
    assert got[6480] == ("loud", [(6480, 7200, 69, 96)])
    assert got[7440] == ("night\r", [(7440, 8640, 72, 96)])
    assert any("1 note(s) of the vocal melody (track 1, channel 1) have no lyric and follow a "
               "rest" in n for n in facts.notes), facts.notes


def test_lyrics_on_a_click_track_sing_only_their_own_notes():
    """The ramp fixture's lyrics sit on a metronome's notes (C4 on every beat, a rest between):
    each lyric gets its own click, the clicks between lyrics are not sung as melismas."""
    facts = read_midi_facts(DATA / "csvmidi_format0_ramp.mid")
    assert facts.lyrics and all(len(e.notes) <= 1 for e in facts.lyrics)
    assert any("have no lyric and follow a rest" in n for n in facts.notes)


def test_lyrics_without_notes_keep_the_composed_melody():
    """Lyric events on a track without notes (the karaoke fixture): no session notes."""
    facts = read_midi_facts(DATA / "abc2midi_karaoke.mid")
    assert facts.lyrics and not any(e.notes for e in facts.lyrics)


def _lead_notes(path: Path) -> list[tuple[int, int, int, int, bool]]:
    """(tick, length, pitch, velocity, has a lyric) of every note in a one-part MIDI export."""
    import mido

    mid = mido.MidiFile(str(path))
    out, lyric_ticks, open_notes = [], set(), {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "lyrics":
                lyric_ticks.add(tick)
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes[msg.note] = (tick, msg.velocity)
            elif msg.type in ("note_on", "note_off") and msg.note in open_notes:
                on, vel = open_notes.pop(msg.note)
                out.append([on, tick - on, msg.note, vel])
    assert mid.ticks_per_beat == 960
    return sorted((a, b, p, v, a in lyric_ticks) for a, b, p, v in out)


@pytest.mark.parametrize("preset", ["jazz-waltz"])  # swung eighths: the session's notes are not
def test_render_sings_the_session_notes_where_they_are(tmp_path, preset):
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(VOCAL), "--preset", preset,
         "--parts", "lead", "--sample-rate", "44100", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    scale = Fraction(960, PPQ)
    expected = [(int((t - COUNT_IN) * scale), int(d * scale), p, v, s) for t, d, p, v, s in EXPECTED]
    assert _lead_notes(out / "midi" / "lead.mid") == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert not manifest.get("warnings") or not any("composed melody" in w for w in manifest["warnings"])


def test_the_voice_sings_the_session_pitches():
    """The dry vocal's F0 (pyworld harvest) on each note of 0.2 s or more is that note's
    pitch, in the voice's octave."""
    import pyworld
    from scipy.signal import resample_poly

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song
    from ainur_cli.vocals import render_vocals, sung_notes, vocal_settings
    from ainur_cli.voice import sung_octave_shift

    spec = spec_from_midi(VOCAL, preset="pop", find_lyrics=False).spec
    plan = resolve_song(spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    settings = vocal_settings(plan.style.vocals)
    notes = sung_notes(comp, plan.timeline)
    assert [(n.syllable != "") for n in notes] == [s for *_, s in EXPECTED]
    shift = sung_octave_shift(notes, settings["voice"])
    audio = render_vocals(comp, plan.timeline, settings, seed=1, total_samples=plan.total_samples)
    sr = 16000
    f0, t = pyworld.harvest(resample_poly(audio[0].astype(np.float64), sr, plan.sample_rate), sr,
                            f0_floor=70.0, f0_ceil=700.0, frame_period=5.0)
    errors = []
    for n in notes:
        if n.duration_s < 0.2:
            continue
        m = (t >= n.start_s + 0.06) & (t < n.start_s + n.duration_s - 0.04) & (f0 > 0)
        assert m.sum() >= 5, n
        want = 440.0 * 2 ** ((n.midi_pitch + shift - 69) / 12)
        errors.append(float(np.median(1200 * np.log2(f0[m] / want))))
    assert len(errors) >= 10
    assert max(abs(e) for e in errors) < 50, errors


def _write_midi(path: Path, items: list[tuple[int, int, int, str | None]], bpm: float = 120,
                start: int = 0) -> Path:
    """A type 1 file (480 PPQ, 4/4): markers "Verse" at tick ``start`` and "End" two bars
    later, and one vocal track (track 2) of ``(tick, length, pitch, lyric or None)`` notes; a
    lyric given as ``("text", tick)`` in place of a string sits at that tick instead of its
    note's."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        mido.MetaMessage("marker", text="Verse", time=start),
        mido.MetaMessage("marker", text="End", time=8 * PPQ)])
    events = []
    for tick, length, pitch, lyric in items:
        if isinstance(lyric, tuple):
            events.append((lyric[1], 1, mido.MetaMessage("lyrics", text=lyric[0])))
        elif lyric is not None:
            events.append((tick, 1, mido.MetaMessage("lyrics", text=lyric)))
        events.append((tick, 2, mido.Message("note_on", note=pitch, velocity=90)))
        events.append((tick + length, 0, mido.Message("note_off", note=pitch, velocity=0)))
    vocal, now = mido.MidiTrack(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        vocal.append(msg.copy(time=tick - now))
        now = tick
    mid.tracks += [conductor, vocal]
    mid.save(str(path))
    return path


def _refused(tmp_path: Path, midi: Path) -> str:
    """``ainur render --from-midi MIDI``: exit code 2, no traceback, nothing written; returns
    its message on one line."""
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(midi), "--preset", "pop",
         "--out", str(out)], capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()
    return " ".join(proc.stderr.split())


def test_a_word_off_its_notes_is_composed_from_its_place_with_a_warning(tmp_path):
    """Line 2's second lyric sits between notes: that line is sung on a composed melody from
    its lyric positions (a warning says so); line 1 is still sung on the session's notes."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song

    path = _write_midi(tmp_path / "off.mid", [
        (0, 480, 67, "Sun-"), (480, 480, 69, "light\r"),
        (1920, 480, 72, "Rain"), (2400, 480, 71, ("falls\r", 2640))])
    plan = resolve_song(spec_from_midi(path, preset="pop", find_lyrics=False).spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    lead = [(n.start_beat, n.pitch) for n in comp.part("lead").notes if n.line_index == 0]
    assert lead == [(0.0, 67), (1.0, 69)]
    warnings = comp.metadata["warnings"]
    assert any("lyric line 2: the word 'falls' has no note in the session's vocal melody" in w
               and "composed melody" in w for w in warnings), warnings
    second = [n for n in comp.part("lead").notes if n.line_index == 1]
    assert [n.lyric for n in second] == ["Rain", "falls"] and second[1].start_beat == 5.5


def test_a_word_on_a_note_too_short_for_its_syllables_is_refused(tmp_path):
    """Three syllables on one 40 ms note: exit 2, one message naming the file's section,
    line and word, no traceback, nothing written."""
    path = _write_midi(tmp_path / "short.mid", [(0, 480, 67, "Sing"), (480, 40, 69, "beautiful\r")])
    assert "section 'Verse', lyric line 1: the word 'beautiful' (song bar 1, beat 2) has 3 " \
           "syllables but only 1 note(s)" in _refused(tmp_path, path)


def test_the_key_comes_from_the_vocal_melody_when_nothing_names_one(caplog):
    """The fixture has no key signature: the rock preset's E minor would put F# under the
    melody's F naturals; the key is estimated from the melody instead (C major). A key from
    the command line (or the spec, or a key signature) wins."""
    import logging

    from ainur_cli.api import resolve_song

    song = spec_from_midi(VOCAL, preset="rock", find_lyrics=False)
    with caplog.at_level(logging.INFO, logger="ainur_cli.api"):
        assert resolve_song(song.spec).plan.spec.key.name == "C major"
    assert any("the key, C major, is estimated from the vocal melody" in r.getMessage()
               for r in caplog.records)
    chosen = spec_from_midi(VOCAL, preset="rock", find_lyrics=False, overrides={"key": "A minor"})
    assert chosen.spec.key.name == "A minor"
    karaoke = spec_from_midi(DATA / "abc2midi_karaoke.mid", preset="rock", find_lyrics=False)
    assert karaoke.spec.key.name == "G major"  # its key signature


@pytest.mark.parametrize("melody, key", [
    ([60, 62, 64, 65, 67, 69, 71, 72, 67, 60], "C major"),
    ([57, 59, 60, 62, 64, 65, 68, 69, 64, 57], "A minor"),          # with its raised seventh
    ([63, 65, 67, 68, 70, 72, 74, 75, 70, 63], "Eb major"),
    ([66, 68, 70, 71, 73, 75, 77, 78, 73, 66], "F# major"),
    # E-heavy, with F naturals: Krumhansl-Schmuckler alone says E minor, whose F# would clash
    ([64, 65, 67, 69, 67, 64, 62, 64, 60, 67, 69, 71, 72, 71, 69, 67, 65, 64], "C major"),
    # C major's and A natural minor's notes, ending on A: the cadence cue says A minor
    ([64, 65, 67, 69, 67, 65, 64, 62, 60, 62, 64, 57], "A minor"),
])
def test_key_of_notes(melody, key):
    from ainur_cli.key import key_of_notes

    assert key_of_notes([(p, 1.0) for p in melody]) == key
    assert key_of_notes([(60, 1.0), (72, 2.0)]) is None  # one pitch class
    assert key_of_notes([]) is None


def test_the_chords_under_the_session_melody_fit_it():
    """Over the fixture's sung notes (read from the CSV) the pop preset's own chords put 42 %
    of the melody on chord tones and 21 % a semitone from one; the chords Ainur plays keep the
    preset's chord rhythm and put at least 70 % on chord tones, at most 5 % rubbing."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.harmony import song_chords
    from ainur_cli.compose.meter import Bars
    from ainur_cli.compose.song import compose_song

    plan = resolve_song(spec_from_midi(VOCAL, preset="pop", find_lyrics=False).spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    melody = [((t - COUNT_IN) / PPQ, (t - COUNT_IN + d) / PPQ, p) for t, d, p, *_ in EXPECTED]

    def shares(chords):
        total = tone = rub = 0.0
        for a, b, pitch in melody:
            for c in chords:
                x, y = max(a, c.start_beat), min(b, c.start_beat + c.duration_beats)
                if y > x:
                    total += y - x
                    tone += (y - x) * (pitch % 12 in c.pitch_classes)
                    rub += (y - x) * (pitch % 12 not in c.pitch_classes and any(
                        (pitch - t) % 12 in (1, 11) for t in c.pitch_classes))
        return tone / total, rub / total

    preset = song_chords(plan.style, plan.spec.key, Bars(plan.timeline), plan.sections)
    assert [(c.start_beat, c.duration_beats) for c in comp.chords] == \
        [(c.start_beat, c.duration_beats) for c in preset]
    before, after = shares(preset), shares(comp.chords)
    assert before[0] < 0.5 and before[1] > 0.15, before
    assert after[0] >= 0.7 and after[1] <= 0.05, after



def test_the_chords_change_mid_bar_where_the_melody_does():
    """``csvmidi_twinkle.mid``, "Twinkle Twinkle" in C as a vocal track with one lyric per
    note: its melody changes harmony every half bar (A A | G, F F | E E, D D | C). The key
    is estimated (C major: the melody ends on C), every sung note lands on a chord tone, and
    those bars are split at their third beat: F | C, F | C, G | C (the traditional
    harmonisation); the bass follows the chord that starts there."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song

    csv = (DATA / "csvmidi_twinkle.csv").read_text().splitlines()
    ons = [line.split(", ") for line in csv if ", Note_on_c, " in line]
    offs = [int(line.split(", ")[1]) for line in csv if ", Note_off_c, " in line]
    melody = [(int(on[1]) / PPQ, off / PPQ, int(on[4])) for on, off in zip(ons, offs)]
    assert len(melody) == 42 and melody[-1][2] == 60
    plan = resolve_song(spec_from_midi(DATA / "csvmidi_twinkle.mid", preset="pop",
                                       find_lyrics=False).spec).plan
    assert plan.spec.key.name == "C major"
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    for a, b, pitch in melody:
        under = [c for c in comp.chords if c.start_beat < b and c.start_beat + c.duration_beats > a]
        assert all(pitch % 12 in c.pitch_classes for c in under), (a, pitch, [c.symbol for c in under])
    starts = {c.start_beat: c.symbol for c in comp.chords}
    assert [starts.get(beat) for beat in (4.0, 6.0, 8.0, 10.0, 12.0, 14.0)] == ["F", "C", "F", "C", "G", "C"]
    assert all(c.start_beat % 2 == 0 for c in comp.chords)  # bar lines and half bars only
    bass = next(p for p in comp.parts if p.name == "bass")
    for beat, pcs in ((6.0, {0, 4, 7}), (10.0, {0, 4, 7}), (12.0, {7, 11, 2})):
        hits = [n.pitch % 12 for n in bass.notes if abs(n.start_beat - beat) < 0.05]
        assert hits and set(hits) <= pcs, (beat, hits)

def test_the_renders_midi_reads_back_as_the_same_words_lines_and_notes(tmp_path):
    """Ainur's MIDI export writes RP-017 lyrics (a space ends a word, a carriage return a
    line): read back, the render's song.mid has the fixture's lines, words and vocal notes."""
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(VOCAL), "--preset", "pop",
         "--parts", "lead,bass", "--sample-rate", "44100", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    from daw_bridge.lyrics import events_to_timed_lines

    back = read_midi_facts(out / "midi" / "song.mid")
    lines = events_to_timed_lines(back.lyrics)
    assert [ln.text for ln in lines] == ["Holding on", "beautiful day", "Sing it loud tonight"]
    sung = [(n.start_beat, n.end_beat - n.start_beat, n.pitch) for e in back.lyrics for n in e.notes]
    assert sung == [(Fraction(t - COUNT_IN, PPQ), Fraction(d, PPQ), p) for t, d, p, *_ in EXPECTED]
    again = spec_from_midi(out / "midi" / "song.mid", preset="pop", find_lyrics=False).spec
    assert [str(x) for s in again.sections for x in s.lyrics] == [ln.text for ln in lines]


def test_a_piano_on_every_syllable_is_not_the_vocal(tmp_path):
    """A type 0 file: a piano (channel 1) strikes a chord on every syllable and plays more
    notes between them; the vocal (channel 4) has a note per syllable. Both meet every lyric:
    the vocal, whose notes all carry one, is sung."""
    import mido

    mid = mido.MidiFile(type=0, ticks_per_beat=PPQ)
    events = [(0, 0, mido.MetaMessage("marker", text="Verse")),
              (8 * PPQ, 0, mido.MetaMessage("marker", text="End"))]
    for k, (word, pitch) in enumerate([("Sing", 67), ("it", 69), ("loud\r", 71)]):
        tick = k * PPQ
        events.append((tick, 1, mido.MetaMessage("lyrics", text=word)))
        events.append((tick, 2, mido.Message("note_on", channel=3, note=pitch, velocity=90)))
        events.append((tick + PPQ // 2, 0, mido.Message("note_off", channel=3, note=pitch)))
        for offset in (0, PPQ // 2):  # the piano: a chord on the beat and on the off-beat
            for note in (48, 52, 55):
                events.append((tick + offset, 2, mido.Message("note_on", channel=0, note=note,
                                                              velocity=70)))
                events.append((tick + offset + PPQ // 4, 0, mido.Message("note_off", channel=0,
                                                                         note=note)))
    track, now = mido.MidiTrack(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    mid.tracks.append(track)
    mid.save(str(tmp_path / "piano.mid"))
    facts = read_midi_facts(tmp_path / "piano.mid")
    assert [[n.pitch for n in e.notes] for e in facts.lyrics] == [[67], [69], [71]]


def test_a_sung_note_no_voice_can_sing_is_refused(tmp_path):
    path = _write_midi(tmp_path / "high.mid", [(0, 480, 67, "Sing"), (480, 480, 110, "high\r")])
    assert "high.mid: track 2 tick 480 note_on: a sung note of the vocal melody is out of any " \
           "voice's range (got 'MIDI 110'; allowed: MIDI 28..96" in _refused(tmp_path, path)


def test_notes_too_short_to_sing_join_their_neighbours_or_are_refused(tmp_path):
    """At 120 bpm a 10-tick note (480 PPQ) lasts 10 ms: as a melisma it joins the note before
    it; as a syllable's only note the render is refused, naming the syllable and its bar."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song

    path = _write_midi(tmp_path / "blip.mid", [(0, 440, 67, "Sing"), (440, 10, 69, None),
                                               (480, 480, 71, "on\r")])
    plan = resolve_song(spec_from_midi(path, preset="pop", find_lyrics=False).spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    assert [(n.start_beat, n.duration_beats, n.pitch, n.lyric) for n in comp.part("lead").notes] \
        == [(0.0, 450 / 480, 67, "Sing"), (1.0, 1.0, 71, "on")]
    path = _write_midi(tmp_path / "short.mid", [(0, 480, 67, "Sing"), (480, 10, 69, "on\r")])
    assert "lyric line 1: the syllable 'on' of 'on' (song bar 1, beat 2) has a note too short " \
           "to sing" in _refused(tmp_path, path)


def test_a_vocal_track_without_lyrics_sings_the_lyrics_file(tmp_path):
    """``--vocal-track 2``: a guide track of notes without lyric events, after a count-in bar,
    sings the lyrics file's line note for note where the session has the notes."""
    count_in = 4 * PPQ
    notes = [(count_in + k * PPQ // 2, PPQ // 2, p, None) for k, p in enumerate([67, 69, 71, 72, 74])]
    path = _write_midi(tmp_path / "guide.mid", notes, start=count_in)
    (tmp_path / "guide.lyrics.txt").write_text("[Verse]\nSing it loud tonight\n")
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(path), "--preset", "pop",
         "--vocal-track", "2", "--parts", "lead", "--sample-rate", "44100", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    assert _lead_notes(out / "midi" / "lead.mid") == [
        (k * 480, 480, p, 90, True) for k, p in enumerate([67, 69, 71, 72, 74])]
    bad = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(path), "--preset", "pop",
         "--vocal-track", "5", "--out", str(tmp_path / "bad")],
        capture_output=True, text=True, timeout=300, env=WIDE)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "(overridden by --vocal-track): melody: the melody file has no such track (got 5; " \
           "allowed: a track 1..2)" in " ".join(bad.stderr.split())
    assert not (tmp_path / "bad").exists()


def _lyrics_file(path: Path, events: list[tuple[int, str]], notes=()) -> Path:
    """A type 1 file (480 PPQ, 120 bpm): "Verse" at tick 0, "End" at bar 3, one track with
    ``(tick, text)`` lyric events and ``(tick, length, pitch)`` notes."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("marker", text="Verse", time=0),
                                      mido.MetaMessage("marker", text="End", time=8 * PPQ)]))
    timed = [(t, 1, mido.MetaMessage("lyrics", text=x)) for t, x in events]
    for t, length, pitch in notes:
        timed += [(t, 2, mido.Message("note_on", note=pitch, velocity=90)),
                  (t + length, 0, mido.Message("note_off", note=pitch))]
    track, now = mido.MidiTrack(), 0
    for t, _, msg in sorted(timed, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - now))
        now = t
    mid.tracks.append(track)
    mid.save(str(path))
    return path


def test_a_note_goes_to_the_lyric_on_its_tick():
    """Two lyric events near one note: the one on the note's tick sings it, not the one two
    ticks before it (which has no note then)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = _lyrics_file(Path(tmp) / "two.mid", [(0, "Hold\r"), (478, "on\r"), (480, "/love\r")],
                            notes=[(0, 470, 64), (480, 480, 67)])
        got = {e.text.strip(): [n.pitch for n in e.notes] for e in read_midi_facts(path).lyrics}
    assert got == {"Hold": [64], "on": [], "/love": [67]}


def test_word_positions_too_close_to_sing_keep_the_lines_start(tmp_path):
    """Lyric events without notes, the word "on" one tick after "Hold": the line keeps its
    start (a warning says so) and no syllable is sung shorter than the voice's 30 ms."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song

    path = _lyrics_file(tmp_path / "close.mid", [(0, "Hold"), (1, "on"), (480, "tight\r")])
    plan = resolve_song(spec_from_midi(path, preset="pop", find_lyrics=False).spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    assert any("lyric line 1" in w and "only the line's start (@1.1) is kept" in w
               for w in comp.metadata["warnings"]), comp.metadata["warnings"]
    sung = [n for n in comp.part("lead").notes if n.lyric]
    assert [n.lyric for n in sung] == ["Hold", "on", "tight"]
    assert min(plan.timeline.beat_to_seconds(n.start_beat + n.duration_beats)
               - plan.timeline.beat_to_seconds(n.start_beat) for n in sung) >= 0.03
