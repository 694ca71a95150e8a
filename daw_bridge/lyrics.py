"""Lyrics from a DAW: timed lyric events → lines per section; lyrics files beside a project.

Timed events (MIDI ``lyrics`` meta events, REAPER's ``LYRICS``) are syllables or words:

* a syllable ending in ``-`` continues the word (``Wal-`` ``king`` → ``Walking``);
* text starting with ``/`` or ``\\`` starts a new line (karaoke .kar convention), text ending
  in a carriage return or newline ends one (Cubase, Logic);
* without any of these marks, a gap of a whole 4/4 bar (4 beats) or more between two events
  starts a new line.

A lyrics file is UTF-8 (Latin-1 is accepted) text with ``[Section name]`` headers::

    [Verse 1]
    Walking home in the rain
    [Chorus]
    Sing it loud tonight
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from ainur_cli.errors import SpecError

from daw_bridge.facts import LyricEvent

LINE_GAP_BEATS = Fraction(4)
_HEADER = re.compile(r"^\s*\[(.+?)\]\s*$")


def decode_text(raw: bytes) -> str:
    """UTF-8 when it is valid UTF-8, else Latin-1 (every byte is a character there)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def events_to_lines(events: Sequence[LyricEvent]) -> list[str]:
    """Join syllable events into lyric lines (see module docstring)."""
    marked = any(e.text[:1] in "/\\" or e.text[-1:] in "\r\n" for e in events if e.text)
    # Karaoke files mark word starts with a leading space and split syllables without "-".
    spaced = any(e.text[:1] == " " for e in events)
    lines: list[str] = []
    line = ""
    joining = False
    last_beat: Fraction | None = None
    for e in events:
        text = e.text.replace("\x00", "")
        new_line = False
        if text[:1] in "/\\":
            new_line = True
            text = text[1:]
        elif not marked and last_beat is not None and e.beat - last_beat >= LINE_GAP_BEATS:
            new_line = True
        if new_line and line.strip():
            lines.append(line.strip())
            line, joining = "", False
        ends = text[-1:] in "\r\n"
        text = text.rstrip("\r\n")
        word = text.strip()
        if word:
            continues = word.endswith("-") and len(word) > 1
            if continues:
                word = word[:-1]
            if line and not joining and (not spaced or text[:1].isspace()):
                line += " "
            line += word
            joining = continues
        last_beat = e.beat
        if ends and line.strip():
            lines.append(line.strip())
            line, joining = "", False
    if line.strip():
        lines.append(line.strip())
    return [re.sub(r"\s+", " ", ln) for ln in lines]


def assign_lyrics(events: Sequence[LyricEvent],
                  spans: Sequence[tuple[Fraction, Fraction]]) -> list[list[str]]:
    """Lines for each ``(start_beat, end_beat)`` section span from the events inside it."""
    out = []
    for start, end in spans:
        inside = [e for e in events if start <= e.beat < end]
        out.append(events_to_lines(inside))
    return out


def read_lyrics_file(path: Path | str, section_names: Sequence[str]) -> dict[str, list[str]]:
    """``{lower-case section name: lines}`` from a lyrics file with ``[Section]`` headers.

    :raises SpecError: unreadable file, no headers, or a header naming no section.
    """
    path = Path(path)
    try:
        text = decode_text(path.read_bytes())
    except OSError as e:
        raise SpecError(f"cannot read the lyrics file: {e.strerror or e}", file=str(path)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    names = {n.lower(): n for n in section_names}
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            key = m.group(1).strip().lower()
            if key not in names:
                raise SpecError("the header names no section of the session", file=str(path),
                                line=n, value=m.group(1).strip(),
                                allowed=", ".join(section_names) or "a section name")
            current = key
            blocks.setdefault(current, [])
            continue
        if not line.strip():
            continue
        if current is None:
            raise SpecError("lyrics must follow a [Section name] header", file=str(path), line=n,
                            value=line.strip()[:40],
                            allowed="[" + "], [".join(section_names) + "] headers")
        blocks[current].append(line.strip())
    if not blocks:
        raise SpecError("the lyrics file has no [Section name] headers", file=str(path),
                        allowed="[Verse 1] followed by its lines, [Chorus]...")
    return blocks
