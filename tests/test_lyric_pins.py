"""Pinned lyric timing: ``@BAR.BEAT+FRACTION`` pins in song.yaml → the melody sings the pinned
syllable exactly there → the MIDI export writes its lyric event at that tick.

Expected positions are worked out here by hand from the bar lengths of the spec's meters
(exact fractions), not with Ainur's timeline; the MIDI files are read back with mido.
"""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction

import mido
import pytest

from ainur_cli.api import resolve_song
from ainur_cli.compose import compose_song
from ainur_cli.compose.lyrics import parse_line
from ainur_cli.errors import SpecError
from ainur_cli.export.midi import PPQ, write_midi_files
from ainur_cli.spec import parse_spec_text
from ainur_cli.spec_lyrics import LyricPin, pin_segments

F = Fraction

# 2 bars 4/4, 2 bars 6/8, 4 bars 3/4; the tempo changes at bar 4 (beats do not care).
HEAD = """title: Pins
preset: PRESET
seed: 3
tempo_map: [{bar: 1, bpm: 100}, {bar: 4, bpm: 140}]
time_signature: [{bar: 1, signature: "4/4"}, {bar: 3, signature: "6/8"}, {bar: 5, signature: "3/4"}]
sections:
  - name: Intro
    bars: 2
  - name: Verse
    bars: 6
    lyrics: |
"""
LINES = """      @3.4 Walking home tonight
      under the silver stars
      @5.2+1/3 we are @6.3 golden
      and the @7.2+1/2 night is young
"""
METERS = [(4, 4), (4, 4), (6, 8), (6, 8), (3, 4), (3, 4), (3, 4), (3, 4)]


def bar_start(bar: int) -> Fraction:
    """Quarter-note beat where 1-based ``bar`` starts (summed by hand from METERS)."""
    return sum((F(4 * n, d) for n, d in METERS[:bar - 1]), F(0))


def expected_beat(bar: int, beat: int, offset: Fraction = F(0)) -> Fraction:
    n, d = METERS[bar - 1]
    return bar_start(bar) + (beat - 1 + offset) * F(4, d)


# (pin, first syllable sung there) for LINES ("Wal-": the word goes on)
PINNED = [((3, 4), "Wal-"), ((5, 2, F(1, 3)), "we"), ((6, 3), "gol-"), ((7, 2, F(1, 2)), "night")]
# those syllables as the MIDI export writes them (RP-017: a space ends a word)
EXPORTED = {"Wal-": "Wal", "we": "we ", "gol-": "gol", "night": "night "}


def compose(text: str, preset: str = "pop"):
    spec = parse_spec_text(text.replace("PRESET", preset), "song.yaml")
    plan = resolve_song(spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections, spec_file="song.yaml")
    return plan, comp


def lyric_notes(comp):
    return [n for n in comp.part("lead").notes if n.lyric]


# -- the syntax ---------------------------------------------------------------------------

def test_pin_forms_and_what_the_line_sings():
    assert pin_segments("no pins here, me@home") == [(None, "no pins here, me@home")]
    assert pin_segments("@5 go @5.3+1/2 now") == [(LyricPin(5), "go"), (LyricPin(5, 3, F(1, 2)), "now")]
    assert pin_segments("say @9.2+0.25 it") == [(None, "say"), (LyricPin(9, 2, F(1, 4)), "it")]
    assert LyricPin(5, 3, F(1, 2)).text() == "@5.3+1/2" and LyricPin(5).text() == "@5.1"
    line = parse_line("@3.1 Walking home @4.2+1/2 21 guns")
    assert line.text == "Walking home 21 guns"  # what is sung: the pins are not words
    assert [w.text for w in line.words] == ["Walking", "home", "twenty", "one", "guns"]
    assert line.pins == ((0, LyricPin(3, 1)), (2, LyricPin(4, 2, F(1, 2))))
    assert line.line_pin == LyricPin(3, 1)
    assert parse_line("@3.2 ... hey").pins == ((0, LyricPin(3, 2)),)  # the next sung word


def test_spec_keeps_pinned_lines_in_block_and_list_forms():
    spec = parse_spec_text((HEAD + LINES).replace("PRESET", "pop"), "song.yaml")
    assert spec.sections[1].lyrics == ("@3.4 Walking home tonight", "under the silver stars",
                                       "@5.2+1/3 we are @6.3 golden", "and the @7.2+1/2 night is young")
    listed = HEAD.replace("    lyrics: |\n", "") + """    lyrics:
      - {at: "3.4", text: Walking home tonight}
      - under the silver stars
      - {at: 5, text: we are @6.3 golden}
"""
    spec = parse_spec_text(listed.replace("PRESET", "pop"), "song.yaml")
    assert spec.sections[1].lyrics == ("@3.4 Walking home tonight", "under the silver stars",
                                       "@5 we are @6.3 golden")


BAD = [
    ("      @3.1.5 Walking\n", 12, "the pin is not a lyric pin", "@3.1.5"),
    ("      ok\n      @3.1+3/2 Walking\n", 13, "not below 1", "@3.1+3/2"),
    ("      @3.1+1/0 Walking\n", 12, "denominator 0", "@3.1+1/0"),
    ("      @3.0 Walking\n", 12, "counts bars and beats from 1", "@3.0"),
    ("      @5pm Walking\n", 12, "is not a lyric pin", "@5pm"),
    ("      @2.4 Walking\n", 12, "outside section 'Verse'", "bars 3..8"),
    ("      ok\n      @9.1 Walking\n", 13, "outside section 'Verse'", "bars 3..8"),
    ("      @4.1 Walking\n      @3.6 home\n", 13, "does not come after the earlier pin @4.1", "@3.6"),
    ("      @4.1 Walking @4.1 home\n", 12, "does not come after the earlier pin @4.1", "@4.1"),
    ("      Walking @4.1\n", 12, "is not followed by a word", "directly before the word"),
    ("      @4.1 ... !!\n", 12, "is not followed by a word", "@4.1"),
    ("      @3.7 Walking\n", 12, "names beat 7 of bar 3, a 6/8 bar", "beats 1..6 (in eighth notes)"),
    ("      ok\n      ok\n      @5.4 Walking\n", 14, "names beat 4 of bar 5, a 3/4 bar", "beats 1..3"),
]


@pytest.mark.parametrize("lines, line_no, message, shown", BAD, ids=[b[0].strip() for b in BAD])
def test_bad_pins_name_file_line_field_and_what_is_allowed(lines, line_no, message, shown):
    with pytest.raises(SpecError) as e:
        parse_spec_text((HEAD + lines).replace("PRESET", "pop"), "song.yaml")
    text = str(e.value)
    assert text.startswith(f"song.yaml:{line_no}: sections[1].lyrics: lyric line "), text
    assert message in text and shown in text


@pytest.mark.parametrize("item, message", [
    ("{at: 3.4, text: Walking}", "'at' quoted"),  # YAML reads 3.4 as a number (3.10 = 3.1)
    ("{at: '3.1', text: Walking, extra: 1}", "must be a lyric line or {at:"),
    ("{at: '3.x', text: Walking}", "is not a lyric pin"),
])
def test_bad_list_items(item, message):
    text = HEAD.replace("    lyrics: |\n", "") + f"    lyrics:\n      - ok\n      - {item}\n"
    with pytest.raises(SpecError) as e:
        parse_spec_text(text.replace("PRESET", "pop"), "song.yaml")
    assert str(e.value).startswith("song.yaml:13: sections[1].lyrics") and message in str(e.value)


def test_cli_bad_pin_is_one_line_exit_2_and_writes_nothing(tmp_path):
    spec = tmp_path / "song.yaml"
    spec.write_text((HEAD + "      @4.1 Walking\n      @3.6 home\n").replace("PRESET", "pop"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", str(spec), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{spec}:13: sections[1].lyrics: lyric line 2: the pin @3.6" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr and not out.exists()


# -- the composer -------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["pop", "jazz-waltz", "funk"])
def test_pinned_syllables_start_exactly_on_their_pins(preset):
    """jazz-waltz swings eighths and funk sixteenths: a pinned syllable still lands on its pin."""
    plan, comp = compose(HEAD + LINES, preset)
    notes = lyric_notes(comp)
    for pin, syllable in PINNED:
        beat = expected_beat(*pin)
        hits = [n for n in notes if abs(n.start_beat - beat) < 1e-9]
        assert [n.lyric for n in hits] == [syllable], (pin, beat, [(n.start_beat, n.lyric) for n in notes])
    # The rest of a pinned line follows its pin, and lines never overlap.
    by_line: dict[int, list] = {}
    for n in notes:
        by_line.setdefault(n.line_index, []).append(n)
    assert [n.lyric for n in by_line[0]] == ["Wal-", "king", "home", "to-", "night"]
    assert by_line[0][0].start_beat == pytest.approx(float(expected_beat(3, 4)), abs=1e-9)
    starts = [n.start_beat for n in notes]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # The line after a pinned one is sung before the next pin.
    assert all(n.start_beat < float(expected_beat(5, 2, F(1, 3))) - 1e-9 for n in by_line[1])
    meta = comp.metadata["lines"]
    assert meta[0]["pins"] == ["@3.4"] and meta[2]["pins"] == ["@5.2+1/3", "@6.3"]
    assert [m["text"] for m in meta] == ["Walking home tonight", "under the silver stars",
                                         "we are golden", "and the night is young"]
    assert "pins" not in meta[1]
    # Nothing of a pin is sung ("@5.2" would otherwise be sung "five two").
    assert not any(re.search(r"[@\d]|five|two", n.lyric) for n in notes)


def test_exported_midi_has_the_lyrics_at_the_pinned_ticks(tmp_path):
    plan, comp = compose(HEAD + LINES)
    paths = write_midi_files(comp, plan.timeline, tmp_path, title="Pins", markers=[],
                             key_signature=None)
    mid = mido.MidiFile(str(paths["lead"]), charset="utf-8")
    assert mid.ticks_per_beat == PPQ
    lyrics = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "lyrics":
                lyrics.append((tick, msg.text))
    for pin, syllable in PINNED:
        tick = expected_beat(*pin) * PPQ
        assert tick.denominator == 1  # these pins fall on whole ticks: compared exactly
        assert (int(tick), EXPORTED[syllable]) in lyrics, (pin, int(tick), lyrics)
    assert [t for t, _ in lyrics] == sorted(t for t, _ in lyrics)


def test_pins_only_move_what_they_pin():
    """Pins in the chorus leave the verse, and the parts that do not follow the melody, as
    they are; the same pinned spec composes the same twice."""
    song = HEAD.replace("bars: 6\n", "bars: 2\n") + """      Walking home tonight
      under the silver stars
  - name: Chorus
    bars: 4
    lyrics: |
      CHORUS
"""
    plain, pinned = song.replace("CHORUS", "we are golden"), song.replace("CHORUS", "we @6.2 are golden")
    _, a = compose(plain)
    _, b = compose(pinned)
    _, b2 = compose(pinned)
    verse_end = float(bar_start(5))
    assert [n for n in lyric_notes(a) if n.start_beat < verse_end] == \
        [n for n in lyric_notes(b) if n.start_beat < verse_end]
    for name in ("drums", "bass"):
        assert a.part(name).notes == b.part(name).notes
    assert b.parts == b2.parts and b.metadata == b2.metadata
    are = [n for n in lyric_notes(b) if n.lyric == "are"]
    assert len(are) == 1 and are[0].start_beat == float(expected_beat(6, 2))


def test_pin_that_leaves_no_room_says_what_to_change():
    crowded = "      @3.1 one two three four five six seven eight nine ten\n      @3.2 go\n"
    with pytest.raises(SpecError) as e:
        compose(HEAD + crowded)
    text = str(e.value)
    assert "sections[1].lyrics" in text and "lyric line 1 (pins @3.1)" in text
    assert "do not fit" in text and "move the next pin later" in text
    squeezed = "      no room before the pin\n      @3.1 go\n"
    with pytest.raises(SpecError) as e:
        compose(HEAD + squeezed)
    assert "the next pin leaves it no room" in str(e.value)



SWUNG = """title: Swung
preset: jazz-waltz
key: C major
tempo_bpm: 120
time_signature: 4/4
sections:
  - name: Verse
    bars: 2
    lyrics: "@1.3 LINE"
"""


def test_pins_that_swing_squeezes_are_refused_before_the_voice():
    """jazz-waltz swings eighths by 0.33: four syllables on the sixteenths from beat 3 with
    the next one pinned at beat 3+7/8 put the fourth at 3+3/4, which swing moves to
    3+5/6: 1/24 beat (21 ms at 120 bpm) before the unswung pin. Refused at the pins, as
    any pin that leaves a syllable under 30 ms (the voice refused it before, naming only
    its field); with room for the swung notes the line is sung with the pins kept."""
    with pytest.raises(SpecError) as e:
        compose(SWUNG.replace("LINE", "a king to go @1.3+7/8 me"))
    assert "its pins leave a syllable shorter than 30 ms" in str(e.value)
    assert "sections[0].lyrics" in str(e.value)
    _, comp = compose(SWUNG.replace("LINE", "a king go @1.3+7/8 me"))
    notes = lyric_notes(comp)
    assert [n.lyric for n in notes] == ["a", "king", "go", "me"]
    assert notes[0].start_beat == 2.0 and notes[-1].start_beat == 2.875
    assert min(b.start_beat - a.start_beat for a, b in zip(notes, notes[1:])) * 0.5 >= 0.03

def test_pinned_beat_outside_the_presets_meter_is_an_error():
    """Without a time_signature the preset's meter is used (jazz-waltz: 3/4): checked then."""
    text = re.sub(r"time_signature: .*\n", "", HEAD) + "      @3.4 Walking\n"
    with pytest.raises(SpecError) as e:
        compose(text, "jazz-waltz")
    assert "the pin @3.4 names beat 4 of a 3/4 bar" in str(e.value) and "beats 1..3" in str(e.value)
    _, comp = compose(text.replace("@3.4", "@3.3"), "jazz-waltz")
    assert lyric_notes(comp)[0].start_beat == 3 * 2 + 2  # bars of 3 beats: bar 3 beat 3


def test_word_pin_inside_an_unpinned_line():
    _, comp = compose(HEAD + "      Walking home @4.2 tonight\n")
    notes = lyric_notes(comp)
    assert [n.lyric for n in notes][:3] == ["Wal-", "king", "home"]
    assert [n.start_beat for n in notes if n.lyric == "to-"] == [float(expected_beat(4, 2))]
    assert notes[0].start_beat < float(expected_beat(4, 2))
    # a word pin that falls before the place the composer gives its (unpinned) line
    with pytest.raises(SpecError) as e:
        compose(HEAD + "      one two three four five six seven\n      and @3.2 then\n")
    assert "is outside the line's place" in str(e.value) and "pin the line's first word" in str(e.value)


def test_spec_hash_sees_the_timing_of_daw_lyric_lines():
    """Lines from a DAW session read as their words but carry their pins: two sessions whose
    lyrics differ only in timing must not look like the same render (batch/serve resume)."""
    from dataclasses import replace

    from ainur_cli.api import spec_hash
    from ainur_cli.spec_lyrics import LyricText

    spec = parse_spec_text(HEAD.replace("PRESET", "pop") + "      walking home\n", "pins.yaml")
    resolved = resolve_song(spec)

    def with_line(line):
        sections = list(resolved.spec.sections)
        sections[1] = replace(sections[1], lyrics=(line,))
        return replace(resolved.spec, sections=tuple(sections))

    plain = spec_hash(with_line("walking home"), resolved.preset)
    early = spec_hash(with_line(LyricText("walking home", "@3.1 walking @3.4 home")), resolved.preset)
    late = spec_hash(with_line(LyricText("walking home", "@4.1 walking @4.4 home")), resolved.preset)
    assert plain == resolved.spec_hash          # plain specs hash as before
    assert len({plain, early, late}) == 3
    assert early == spec_hash(with_line(LyricText("walking home", "@3.1 walking @3.4 home")),
                              resolved.preset)
