"""The spec's ``lyrics:`` field: lyric lines and their pins (``@5.3 Walking @6.1+1/2 home``).

A pin is a whitespace-separated token ``@BAR[.BEAT][+FRACTION]`` before a word: ``BAR`` the
1-based song bar (as ``tempo_map`` counts), ``BEAT`` the 1-based beat in the bar's meter unit
(6/8: eighths 1..6), ``FRACTION`` a part of that beat (``+1/2``, ``+0.25``). Before a line's
first word it pins the line. Pins stay in the line's text (``SectionSpec.lyrics`` holds
them as written); :func:`pin_segments` reads them, and the melody composer sings each pinned
syllable on its pin. A line from a DAW session is a :class:`LyricText`: its words as text,
its pinned form beside them. Errors are :class:`SpecError` naming file, line, field, pin and
what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ainur_cli.errors import SpecError
from ainur_cli.source import Source

if TYPE_CHECKING:
    from ainur_cli.spec import SongSpec


@dataclass(frozen=True, order=True)
class LyricPin:
    """Where a pinned lyric line or word starts: ``bar`` (1-based song bar, as ``tempo_map``
    counts), ``beat`` (1-based, in the bar's meter unit: 6/8 has beats 1..6) and ``offset``
    (a fraction of that beat, 0 <= offset < 1). Pins order as positions when their beats
    fit their bars."""

    bar: int
    beat: int = 1
    offset: Fraction = Fraction(0)

    @classmethod
    def in_bar(cls, bar: int, beats_in: Fraction, denominator: int) -> "LyricPin":
        """The pin of a position ``beats_in`` quarter notes into 1-based ``bar``, whose meter
        counts beats of 1/``denominator``."""
        pos = Fraction(beats_in) / Fraction(4, denominator)
        whole = pos.numerator // pos.denominator
        return cls(bar, whole + 1, pos - whole)

    def text(self) -> str:
        """The pin as a producer writes it: ``@5.3`` or ``@5.3+1/2``."""
        tail = f"+{self.offset.numerator}/{self.offset.denominator}" if self.offset else ""
        return f"@{self.bar}.{self.beat}{tail}"


PIN_SYNTAX = ("@BAR, @BAR.BEAT or @BAR.BEAT+FRACTION before a word (1-based song bar, 1-based "
              "beat in the meter's unit, fraction of a beat like +1/2 or +0.25), e.g. @5.3 or @9.1+1/3")
_PIN_RE = re.compile(r"@(\d{1,6})(?:\.(\d{1,3}))?(?:\+(\d{1,6}/\d{1,6}|\d{0,6}\.\d{1,9}))?")


def parse_pin(token: str) -> LyricPin:
    """``"@5.3+1/2"`` → ``LyricPin(5, 3, 1/2)``; :class:`ValueError` (saying why) otherwise."""
    m = _PIN_RE.fullmatch(token)
    if not m:
        raise ValueError("is not a lyric pin")
    bar, beat = int(m[1]), int(m[2] or 1)
    offset = Fraction(m[3]) if m[3] and "/" not in m[3] else Fraction(0)
    if m[3] and "/" in m[3]:
        num, den = (int(x) for x in m[3].split("/"))
        if den == 0:
            raise ValueError("has a fraction with denominator 0")
        offset = Fraction(num, den)
    if bar < 1 or beat < 1:
        raise ValueError("counts bars and beats from 1")
    if offset >= 1:
        raise ValueError("has a fraction of a beat that is not below 1 (write the next beat)")
    return LyricPin(bar, beat, offset)


def pin_segments(line: str) -> list[tuple[LyricPin | None, str]]:
    """A lyric line split at its pins: ``(pin or None, text after it)``, in order. A pin is
    a whitespace-separated token ``@`` + digit...; the first segment has no pin unless the
    line starts with one. Text without pins gives ``[(None, line)]``.

    :raises ValueError: ``(token, reason)`` for a token that starts like a pin but is none.
    """
    if "@" not in line:
        return [(None, line)]
    out: list[tuple[LyricPin | None, str]] = [(None, "")]
    for tok in re.split(r"(\s+)", line):
        if tok.startswith("@") and tok[1:2].isdigit():
            try:
                out.append((parse_pin(tok), ""))
            except ValueError as e:
                raise ValueError(tok, str(e)) from None
        else:
            pin, text = out[-1]
            out[-1] = (pin, text + tok)
    if out[0] == (None, "") and len(out) > 1:
        out.pop(0)
    return [(pin, text.strip()) for pin, text in out]


@dataclass(frozen=True)
class ToplineNote:
    """A note of a given vocal melody: MIDI ``pitch`` from ``start_beat`` to ``end_beat``
    (quarter-note beats: from the song's start, as floats, in a spec; from the session's
    start, as exact fractions, in :class:`daw_bridge.facts.LyricEvent`), at MIDI ``velocity``.
    ``harmony``: per written harmony voice (:attr:`ainur_cli.spec.MelodySpec.harmony_tracks`),
    the MIDI pitch it sings with this note, None where it rests; empty without one."""

    start_beat: float | Fraction
    end_beat: float | Fraction
    pitch: int
    velocity: int = 100
    harmony: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class ToplineWord:
    """A word of a DAW lyric line as the session sings it: per lyric event of the word (a
    syllable as the DAW split it: ``Wal-`` ``king``), the notes that event is sung on (its
    note, then the notes that continue it)."""

    text: str
    events: tuple[tuple[ToplineNote, ...], ...]

    @property
    def notes(self) -> tuple[ToplineNote, ...]:
        return tuple(n for group in self.events for n in group)


class LyricText(str):
    """A lyric line whose text is what is sung (no pins) and which carries the same line as
    pinned spec text in ``pinned`` (``@5.1 Walking @5.2 home``): how a spec built from a DAW
    session keeps the session's lyric timing while its lines read as their words.
    ``topline``: where the session has the vocal melody, its words with their notes (the
    melody composer then sings those notes); empty otherwise."""

    pinned: str
    topline: tuple[ToplineWord, ...]

    def __new__(cls, text: str, pinned: str,
                topline: tuple[ToplineWord, ...] = ()) -> "LyricText":
        obj = super().__new__(cls, text)
        obj.pinned = pinned
        obj.topline = tuple(topline)
        return obj

    def __reduce__(self):
        return (LyricText, (str(self), self.pinned, self.topline))

    def key(self) -> Any:
        """What identifies the line in a spec hash: its pinned form, and its notes."""
        if not self.topline:
            return self.pinned
        return [self.pinned, [[w.text, [[[n.start_beat, n.end_beat, n.pitch, n.velocity,
                                           *([list(n.harmony)] if n.harmony else [])]
                                          for n in group] for group in w.events]]
                              for w in self.topline]]


_LYRICS_ALLOWED = ("a YAML block (lyrics: |) with one line per line, or a list of lines and "
                   "{at: '5.3', text: ...} items")


# A lyric sheet's repeat mark at the end of a line: "(x2)", "[x3]", "(2x)", "( x 2 )", " x2",
# " ×2". The line is sung that many times (MAX_REPEATS at most).
_REPEAT = re.compile(r"(?:\s*[(\[]\s*(?:[x×]\s*(\d{1,3})|(\d{1,3})\s*[x×])\s*[)\]]"
                     r"|\s+[x×](\d{1,3}))\s*$", re.IGNORECASE)
MAX_REPEATS = 16
# A whole line in square brackets is a lyric sheet's section header ("[Chorus]"); so is a
# line in parentheses or asterisks made only of these words ("(Repeat chorus x2)",
# "(Guitar solo)", "*Spoken*"), which a sung "(Ooh yeah)" is not.
_HEADER_LINE = re.compile(r"^\[[^\[\]]*\]$")
_DIRECTION_LINE = re.compile(r"^(?:\((?P<p>[^()]*)\)|\*(?P<a>[^*]*)\*)$")
_DIRECTION_WORDS = frozenset(
    "intro verse pre chorus post refrain hook bridge breakdown build drop solo instrumental "
    "interlude outro break repeat fade out in spoken whispered ad lib libs guitar piano sax "
    "the x".split())


def _is_header(line: str) -> bool:
    """A lyric sheet's section header or stage direction, not a sung line."""
    if _HEADER_LINE.match(line):
        return True
    m = _DIRECTION_LINE.match(line)
    if m is None:
        return False
    words = re.findall(r"[^\W\d_]+", (m["p"] or m["a"] or "").lower().replace("×", "x"))
    return bool(words) and all(w in _DIRECTION_WORDS for w in words)


def repeat_mark(line: str) -> tuple[str, int]:
    """``(line without its repeat mark, times to sing it)``: ``"Hold me (x2)"`` →
    ``("Hold me", 2)``; a line without one → ``(line, 1)``."""
    m = _REPEAT.search(line)
    if m is None:
        return line, 1
    return line[:m.start()].rstrip(), int(next(g for g in m.groups() if g is not None))


def parse_lyrics_field(value: Any, src: Source, path: tuple, name: str, start_bar: int,
                  bars: int) -> tuple[str, ...]:
    """A section's lyric lines (pins kept in the text), their pins checked: syntax, inside
    the section's bars (``start_bar`` 0-based), strictly increasing, each before a word.

    A line that ends in a lyric sheet's repeat mark (``Hold me close (x2)``, ``[x3]``,
    ``(2x)``, `` x2``) becomes that many lines; a line that is a section header in square
    brackets (``[Chorus]``) or a direction (``(Repeat chorus)``, ``(Guitar solo)``), a repeat
    mark on its own and a pinned line with a repeat mark are refused (:class:`SpecError`
    naming the file line)."""
    items: list[tuple[str, int | None]] = []  # (line, file line)
    if isinstance(value, str):
        first = src.line_of(path)
        block = first is not None and "\n" in value  # a literal block starts on the next line
        items = [(ln, first + 1 + k if block else first) for k, ln in enumerate(value.splitlines())]
    elif isinstance(value, list):
        for k, entry in enumerate(value):
            where = src.line_of(path + (k,))
            if isinstance(entry, str):
                items += [(ln, where) for ln in entry.splitlines()]
            elif isinstance(entry, dict) and set(entry) <= {"at", "text"} and "text" in entry \
                    and isinstance(entry["text"], str) and isinstance(entry.get("at", ""), (str, int)) \
                    and not isinstance(entry.get("at"), bool):
                at = str(entry.get("at", "")).strip()
                at = at if not at or at.startswith("@") else "@" + at
                items.append((f"{at} {entry['text']}".strip(), where))
            else:
                raise src.error(path + (k,), "must be a lyric line or {at: 'BAR.BEAT', text: ...}",
                                entry, _LYRICS_ALLOWED + " ('at' quoted: '5.10' is not 5.1)")
    else:
        raise src.error(path, "must be text (one lyric line per line)", value, _LYRICS_ALLOWED)
    if sum(len(t) for t, _ in items) > 20_000:
        raise src.error(path, "is too long", f"{sum(len(t) for t, _ in items)} characters",
                        "at most 20000 characters per section")
    lines: list[str] = []
    last: tuple[LyricPin, str] | None = None
    first_bar, end_bar = start_bar + 1, start_bar + bars
    for text, line_no in items:
        text = text.strip()
        if not text:
            continue
        n = len(lines) + 1

        def fail(message: str, value: Any, allowed: str) -> SpecError:
            err = src.error(path, f"lyric line {n}: {message}", value, allowed)
            if line_no is not None and err.line is not None:
                err = SpecError(err.message, file=err.file, line=line_no, field=err.field,
                                value=value, allowed=allowed)
            return err

        written = text
        text, times = repeat_mark(written)
        if not text:
            raise fail("is a repeat mark on its own", written,
                       "the mark at the end of the line to repeat: 'Hold me close (x2)'")
        if _is_header(text):
            raise fail("is a section header or direction, not a sung line", written,
                       "the section's sung lines only: in a song.yaml each section is an entry "
                       "of sections: with its own lyrics: ([Section] headers belong in a lyrics "
                       "file, --lyrics)")
        if not 1 <= times <= MAX_REPEATS:
            raise fail("repeats the line too many or too few times", written,
                       f"x1 .. x{MAX_REPEATS}")

        try:
            segments = pin_segments(text)
        except ValueError as e:
            token, reason = e.args
            raise fail(f"the pin {reason}", token, PIN_SYNTAX) from None
        if times > 1 and any(pin is not None for pin, _ in segments):
            raise fail("is pinned and repeated: each repetition needs a place of its own",
                       written, "the line written again for each repetition, each with its pin")
        for k, (pin, words) in enumerate(segments):
            if pin is None:
                continue
            if not any(c.isalnum() for c in words):
                raise fail(f"the pin {pin.text()} is not followed by a word", text,
                           "a pin directly before the word it pins: '@5.3 Walking home'")
            if not first_bar <= pin.bar <= end_bar:
                raise fail(f"the pin {pin.text()} is outside section {name!r}", pin.text(),
                           f"bars {first_bar}..{end_bar} (song bars, counted from 1)")
            if last is not None and pin <= last[0]:
                raise fail(f"the pin {pin.text()} does not come after the earlier pin "
                           f"{last[0].text()} ({last[1]!r})", pin.text(),
                           f"a position after {last[0].text()}: pins run in song order")
            last = (pin, words.split()[0])
        for _ in range(times):
            lines.append(text)
            if line_no is not None and src.line_of(path) is not None:
                src.lines[path + (_LINE_KEY, len(lines))] = line_no
    return tuple(lines)


_LINE_KEY = "#line"  # Source.lines key of a lyric line's file line (not a field of the spec)


def lyric_file_lines(src: Source) -> dict[tuple[int, int], int]:
    """Where the lyrics are written in the spec file: (section index, lyric line number from
    1) → file line, and (section index, 0) → the line of the section's ``lyrics`` field. The
    composer names these lines in errors about lyrics it cannot sing."""
    out: dict[tuple[int, int], int] = {}
    for path, line in src.lines.items():
        if len(path) < 3 or path[0] != "sections" or path[2] != "lyrics" or not isinstance(path[1], int):
            continue
        if len(path) == 3:
            out[(path[1], 0)] = line
        elif len(path) == 5 and path[3] == _LINE_KEY:
            out[(path[1], path[4])] = line
    return out


def check_pin_beats(spec: "SongSpec", src: Source | None = None) -> None:
    """Every pinned beat exists in its bar's meter (``spec.meters`` must be resolved)."""
    if not spec.meters:
        return
    src = src or spec.source
    for i, s in enumerate(spec.sections):
        for n, line in enumerate(s.lyrics, start=1):
            if "@" not in line:
                continue
            try:
                pins = [p for p, _ in pin_segments(line) if p is not None]
            except ValueError:
                continue  # reported when the spec was parsed
            for pin in pins:
                num, den = next((nu, de) for b, nu, de in reversed(spec.meters) if b <= pin.bar)
                if pin.beat > num:
                    path = ("sections", i, "lyrics")
                    err = src.error(path, f"lyric line {n}: the pin {pin.text()} names beat "
                                    f"{pin.beat} of bar {pin.bar}, a {num}/{den} bar", pin.text(),
                                    f"beats 1..{num} (in {_NOTE_NAMES.get(den, f'1/{den}')} notes)")
                    err.line = src.lines.get(path + (_LINE_KEY, n), err.line)
                    raise type(err)(err.message, file=err.file, line=err.line, field=err.field,
                                    value=err.value, allowed=err.allowed)


_NOTE_NAMES = {1: "whole", 2: "half", 4: "quarter", 8: "eighth", 16: "sixteenth", 32: "32nd"}
