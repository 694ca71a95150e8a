"""Lyrics from a DAW: timed lyric events → timed lines per section; lyrics files beside a project.

Timed events (MIDI ``lyrics`` meta events, the text events of .kar karaoke files, REAPER's
``LYRICS``) are syllables or words:

* a syllable ending in ``-`` continues the word (``Wal-`` ``king`` → ``Walking``);
* text starting with ``/`` (new line) or ``\\`` (new paragraph) starts a new line (the .kar
  convention), text ending in a carriage return or newline ends one (Cubase, Logic);
* when some events start with a space (the .kar convention for "a new word starts here"),
  an event without one continues the previous word (``/Walk`` ``ing`` → ``Walking``);
* when at least half of the events end with a space (the MIDI Association's RP-017: a space
  after every word, which Ainur's own MIDI export writes), an event without one goes on into
  the next (``Walk`` ``ing `` → ``Walking``);
* when the events carry none of these line marks, a gap of 4 beats (a 4/4 bar) or more
  between two events starts a new line.

Each line keeps the beat of its first event and of each word's first event
(:class:`TimedLine`); :func:`pinned_line` writes it with lyric pins (``@5.3+1/2 Walking``) so
the melody composer sings it where the DAW has it. Where the events carry the session's
vocal notes (:attr:`daw_bridge.facts.LyricEvent.notes`), each word keeps them too, one group
per event, and the melody composer sings those notes.

A lyrics file is UTF-8 (Latin-1 is accepted) text with ``[Section name]`` headers; blank
lines and lines starting with ``#`` are skipped::

    [Verse 1]
    Walking home in the rain
    [Chorus]
    Sing it loud tonight
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from ainur_cli.errors import SpecError
from ainur_cli.spec_lyrics import ToplineNote

from daw_bridge.facts import LyricEvent

LINE_GAP_BEATS = Fraction(4)
MAX_LYRICS_FILE_BYTES = 1024 * 1024
_HEADER = re.compile(r"^\s*\[(.+?)\]\s*$")


@dataclass(frozen=True)
class TimedLine:
    """One lyric line and the beat of its first syllable (session beats, quarter notes);
    ``words``: ``(beat of its first syllable, word)`` per word of ``text``, in order (the
    words joined by spaces give ``text``)."""

    beat: Fraction
    text: str
    words: tuple[tuple[Fraction, str], ...] = field(default=(), compare=False)
    #: per word of ``words``: per lyric event of the word, the notes it is sung on (empty
    #: groups where the session has no vocal notes)
    word_notes: tuple[tuple[tuple[ToplineNote, ...], ...], ...] = field(default=(), compare=False)

    def shifted(self, beats: Fraction) -> "TimedLine":
        """The same line ``beats`` later (words and notes too)."""
        return TimedLine(self.beat + beats, self.text,
                         tuple((b + beats, w) for b, w in self.words),
                         tuple(tuple(tuple(ToplineNote(n.start_beat + beats, n.end_beat + beats,
                                                       n.pitch, n.velocity) for n in group)
                                     for group in word) for word in self.word_notes))


def decode_text(raw: bytes) -> str:
    """UTF-8 when it is valid UTF-8, else Latin-1 (every byte is a character there)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def normalize_name(name: str) -> str:
    """Section names compare case-insensitively with runs of spaces folded."""
    return re.sub(r"\s+", " ", name.strip()).lower()


def events_to_timed_lines(events: Sequence[LyricEvent]) -> list[TimedLine]:
    """Join syllable events (sorted by beat) into timed lyric lines (see module docstring)."""
    texts = [e.text.replace("\x00", "") for e in events]
    marked = any(t[:1] in "/\\" or t[-1:] in "\r\n" for t in texts if t)
    spaced = any(t[:1] == " " and t.strip() for t in texts)
    worded = [t.rstrip("\r\n") for t in texts if t.strip()]
    trailing = not spaced and sum(t.endswith(" ") for t in worded) >= 0.5 * len(worded) > 0
    lines: list[TimedLine] = []
    line, line_beat, joining = "", None, False
    words: list[list] = []  # [beat, word, [notes per event]] per word of the line
    last_beat: Fraction | None = None

    def close() -> None:
        nonlocal line, line_beat, joining, words
        text = re.sub(r"\s+", " ", line).strip()
        if text:
            kept = [x for x in words if x[1].strip()]
            timed = tuple((b, re.sub(r"\s+", " ", w).strip()) for b, w, _ in kept)
            lines.append(TimedLine(line_beat, text, timed, tuple(tuple(g) for _, _, g in kept)))
        line, line_beat, joining, words = "", None, False, []

    for e, text in zip(events, texts):
        new_line = False
        if text[:1] in "/\\":
            new_line, text = True, text[1:]
        elif not marked and last_beat is not None and e.beat - last_beat >= LINE_GAP_BEATS:
            new_line = True
        if new_line:
            close()
        ends = text[-1:] in "\r\n"
        text = text.rstrip("\r\n")
        word = text.strip()
        if word:
            hyphen = word.endswith("-") and len(word) > 1
            if hyphen:
                word = word[:-1]
            continues = hyphen or (trailing and not text.endswith(" ") and not ends)
            if line and not joining and (not spaced or text[:1].isspace()):
                line += " "
            if line_beat is None:
                line_beat = e.beat
            if not words or line.endswith(" "):
                words.append([e.beat, word, []])
            else:
                words[-1][1] += word
            words[-1][2].append(tuple(e.notes))
            line += word
            joining = continues
        last_beat = e.beat
        if ends:
            close()
    close()
    return lines


def events_to_lines(events: Sequence[LyricEvent]) -> list[str]:
    """The lines of :func:`events_to_timed_lines` without their beats."""
    return [ln.text for ln in events_to_timed_lines(events)]


def assign_lyrics(events: Sequence[LyricEvent],
                  spans: Sequence[tuple[Fraction, Fraction]]) -> list[list[TimedLine]]:
    """Timed lines for each ``(start_beat, end_beat)`` section span, from the events in it.

    An event belongs to the section whose span holds its beat, so a line that crosses a
    section boundary is split there.
    """
    events = sorted(events, key=lambda e: e.beat)
    beats = [e.beat for e in events]
    return [events_to_timed_lines(events[bisect.bisect_left(beats, start):
                                         bisect.bisect_left(beats, end)])
            for start, end in spans]


def find_lyrics_file(project: Path | str) -> Path | None:
    """The lyrics file beside a project file: ``<stem>.lyrics.txt``, else ``lyrics.txt``."""
    project = Path(project)
    for candidate in (project.with_name(project.stem + ".lyrics.txt"),
                      project.with_name("lyrics.txt")):
        if candidate.is_file():
            return candidate
    return None


def read_lyrics_file(path: Path | str, section_names: Sequence[str]) -> dict[str, list[str]]:
    """``{normalized section name: lines}`` from a lyrics file with ``[Section]`` headers.

    :param section_names: the song's section names; a header must name one of them
        (case and repeated spaces do not matter).
    :raises SpecError: unreadable or oversized file, text before the first header, no
        headers, or a header naming no section (with the line number and the allowed names).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_LYRICS_FILE_BYTES:
            raise SpecError("the lyrics file is too large", file=str(path), value=f"{size} bytes",
                            allowed="at most 1 MiB of text")
        text = decode_text(path.read_bytes())
    except IsADirectoryError:
        raise SpecError("the lyrics file is a folder", file=str(path),
                        allowed="a text file with [Section name] headers") from None
    except OSError as e:
        raise SpecError(f"cannot read the lyrics file: {e.strerror or e}", file=str(path)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    names = {normalize_name(n): n for n in section_names}
    allowed = ", ".join(f"[{n}]" for n in dict.fromkeys(section_names)) or "a section name"
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _HEADER.match(line)
        if m:
            key = normalize_name(m.group(1))
            if key not in names:
                raise SpecError("the header names no section of the song", file=str(path),
                                line=n, value=m.group(1).strip(), allowed=allowed)
            current = key
            blocks.setdefault(current, [])
            continue
        if current is None:
            raise SpecError("lyrics must follow a [Section name] header", file=str(path), line=n,
                            value=stripped[:40], allowed=allowed)
        blocks[current].append(stripped)
    if not blocks:
        raise SpecError("the lyrics file has no [Section name] headers", file=str(path),
                        allowed=allowed)
    return blocks


def pin_at(bars: Sequence, beat: Fraction) -> str:
    """The lyric pin (``@BAR.BEAT+N/D``, 1-based bar of ``bars``) of a beat inside ``bars``
    (``daw_bridge.session_bars.Bar``: ``start_beat``, ``numerator``, ``denominator``)."""
    from ainur_cli.spec_lyrics import LyricPin

    i = max(0, bisect.bisect_right([b.start_beat for b in bars], beat) - 1)
    bar = bars[i]
    return LyricPin.in_bar(i + 1, beat - bar.start_beat, bar.denominator).text()


def pinned_line(line: TimedLine, bars: Sequence) -> str:
    """``line`` as spec text with a pin before each word (the line's first word at least):
    ``@5.1 Walking @5.2 home``; ``bars`` are the song's bars (bar 1 first), their beats on the
    same scale as the line's. Words that cannot be sung get no pin; a word at or before the
    previous pin's beat keeps none either."""
    from ainur_cli.compose.lyrics import words_of

    words = line.words or ((line.beat, line.text),)
    tokens: list[list[str]] = []
    last: Fraction | None = None
    for beat, word in words:
        pin = ""
        if words_of(word) and (last is None or beat > last) and beat >= bars[0].start_beat:
            pin, last = pin_at(bars, beat), beat
        tokens.append([pin, word])
    first = next((k for k, (pin, _) in enumerate(tokens) if pin), None)
    if first:  # words before it cannot be sung: the line starts at its first sung word
        tokens[0][0], tokens[first][0] = tokens[first][0], ""
    return " ".join(f"{pin} {word}" if pin else word for pin, word in tokens)
