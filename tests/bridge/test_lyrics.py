"""DAW lyrics: syllable events → timed lines, lyrics files beside a project, their precedence."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from ainur_cli.errors import SpecError
from daw_bridge.facts import LyricEvent
from daw_bridge.lyrics import (
    TimedLine,
    assign_lyrics,
    decode_text,
    events_to_lines,
    events_to_timed_lines,
    find_lyrics_file,
    read_lyrics_file,
)
from daw_bridge.midi_import import spec_from_midi

LILYPOND = Path(__file__).resolve().parent.parent / "data" / "midi" / "lilypond_session.mid"


def ev(*pairs):
    return [LyricEvent(Fraction(b), t) for b, t in pairs]


def test_hyphenated_syllables_join_and_carriage_returns_end_lines():
    lines = events_to_timed_lines(ev((0, "Wal-"), (1, "king"), (2, "home\r"), (4, "in"),
                                     (5, "the"), (6, "rain\n")))
    assert lines == [TimedLine(Fraction(0), "Walking home"), TimedLine(Fraction(4), "in the rain")]


def test_karaoke_slashes_backslashes_and_leading_spaces():
    lines = events_to_lines(ev((0, "/Walk"), (1, "ing"), (2, " down"), (3, "\\ Sing"),
                               (4, "ing"), (5, " loud"), (6, "/ Hear"), (7, " me")))
    assert lines == ["Walking down", "Singing loud", "Hear me"]


def test_without_marks_a_whole_bar_gap_starts_a_line():
    lines = events_to_timed_lines(ev((0, "one"), (1, "two"), (5, "three"), (Fraction(17, 2), "four")))
    assert lines == [TimedLine(Fraction(0), "one two"), TimedLine(Fraction(5), "three four")]


def test_nul_bytes_blank_events_and_spaces_are_cleaned():
    assert events_to_lines(ev((0, "hel-\x00"), (1, "lo\x00"), (2, "  "), (3, "world  "))) == [
        "hello world"]
    assert events_to_lines([]) == []


def test_assign_lyrics_splits_at_section_boundaries():
    events = ev((0, "a"), (1, "b"), (4, "c"), (5, "d"), (9, "e"))
    spans = [(Fraction(0), Fraction(4)), (Fraction(4), Fraction(8)), (Fraction(8), Fraction(12))]
    got = [[ln.text for ln in sec] for sec in assign_lyrics(events, spans)]
    assert got == [["a b"], ["c d"], ["e"]]


def test_decode_text_prefers_utf8_then_latin1():
    assert decode_text("café".encode("utf-8")) == "café"
    assert decode_text("café".encode("latin-1")) == "café"
    assert decode_text("夜".encode("utf-8")) == "夜"


def test_read_lyrics_file(tmp_path):
    p = tmp_path / "lyrics.txt"
    p.write_bytes("\ufeff# my song\n[VERSE  1]\nLine one\n\nLine two\n[chorus]\nCafé\n".encode())
    assert read_lyrics_file(p, ["Verse 1", "Chorus"]) == {
        "verse 1": ["Line one", "Line two"], "chorus": ["Café"]}
    p.write_bytes("[Chorus]\nna\xefve\n".encode("latin-1"))
    assert read_lyrics_file(p, ["Chorus"]) == {"chorus": ["naïve"]}


@pytest.mark.parametrize("text, message, line", [
    ("[Verse 1]\nok\n[Solo]\nx\n", "names no section", 3),
    ("Before any header\n[Verse 1]\nx\n", "must follow a [Section name] header", 1),
    ("# only comments\n\n", "has no [Section name] headers", None),
])
def test_read_lyrics_file_errors(tmp_path, text, message, line):
    p = tmp_path / "lyrics.txt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(message)) as e:
        read_lyrics_file(p, ["Verse 1", "Chorus"])
    assert e.value.file == str(p) and e.value.line == line
    assert "[Verse 1], [Chorus]" in str(e.value)


def test_missing_lyrics_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read the lyrics file"):
        read_lyrics_file(tmp_path / "nope.txt", ["Verse"])


def test_find_lyrics_file_prefers_the_projects_own(tmp_path):
    mid = tmp_path / "session.mid"
    assert find_lyrics_file(mid) is None
    (tmp_path / "lyrics.txt").write_text("[Intro]\nx\n")
    assert find_lyrics_file(mid) == tmp_path / "lyrics.txt"
    (tmp_path / "session.lyrics.txt").write_text("[Intro]\nx\n")
    assert find_lyrics_file(mid) == tmp_path / "session.lyrics.txt"


def test_lyrics_file_beside_a_real_midi_file_wins_over_its_lyric_events(tmp_path):
    mid = tmp_path / "lilypond_session.mid"
    shutil.copy(LILYPOND, mid)
    (tmp_path / "lilypond_session.lyrics.txt").write_text(
        "[Verse 1]\nWalking through the night town\n[chorus]\nLoud tonight we go\n",
        encoding="utf-8")
    song = spec_from_midi(mid, preset="pop")
    lyrics = {s.name: s.lyrics for s in song.spec.sections}
    assert lyrics["Verse 1"] == ("Walking through the night town",)
    assert lyrics["Chorus"] == ("Loud tonight we go",)
    assert lyrics["Intro"] == ("Ca fé na ïve schön",)  # not in the file: the MIDI's events
    assert song.lyric_sources == ("daw", "file", "daw", "file")
    assert song.lyrics_file == str(tmp_path / "lilypond_session.lyrics.txt")
    assert spec_from_midi(mid, preset="pop", find_lyrics=False).lyric_sources == ("daw",) * 4


def test_cli_lyrics_option_errors_before_rendering(tmp_path):
    bad = tmp_path / "words.txt"
    bad.write_text("[Verse 9]\nnothing\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-midi", str(LILYPOND), "--preset", "pop",
         "--lyrics", str(bad), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "names no section" in proc.stderr and not out.exists()
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", "x.yaml", "--lyrics",
                           str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--lyrics works with --from-midi" in proc.stderr
