"""Roman-numeral chords and progressions: the grammar of a preset's ``progressions:``.

A chord is written ``[b|#]NUMERAL[quality][extension][/inversion][/applied-to]``:

* ``NUMERAL`` ``I``..``VII`` is a degree of the **major scale** on the home tonic (so ``bVII``
  is a whole tone below the tonic in every key, and a natural-minor progression is written
  ``i bVI bIII bVII``); upper case = major triad, lower case = minor triad;
* ``quality``: ``°``/``o``/``dim`` diminished, ``+``/``aug`` augmented, ``ø`` half-diminished
  (a 7th chord);
* ``extension``: ``7`` (b7: dominant on upper case, minor 7 on lower case, diminished 7 on
  ``°``), ``maj7``, ``9``, ``maj9``, ``add9``, ``6``, ``sus2``, ``sus4``, ``7sus4``, ``5``
  (power chord: root and fifth);
* ``/3``, ``/5``, ``/7``: inversion — the bass plays the chord's third, fifth or seventh;
* ``/V``, ``/vi``, ``/bVII``...: applied chord — the numeral is counted from that degree
  (``V7/V`` is D7 in C major).

A bar of a progression is a string of 1..8 chords that share the bar equally; ``.`` holds the
chord before it for one more share (``"I . . V"``: I for three quarters of the bar, V for
one); a bar ``%`` (or a bar starting with ``.``) holds the previous bar's last chord.

This module is pure Python (no numpy): validating a preset does not load the composer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
MAX_CHORDS_PER_BAR = 8
MAX_BARS = 64

_CHORD = re.compile(
    r"^(?P<acc>[b#♭♯]?)(?P<num>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
    r"(?P<qual>°|o|dim|ø|\+|aug)?(?P<ext>maj9|maj7|7sus4|sus2|sus4|add9|7|9|6|5)?$")
_TARGET = re.compile(r"^(?P<acc>[b#♭♯]?)(?P<num>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)$")

ALLOWED_CHORD_TEXT = (
    "[b|#] + I..VII (upper case major, lower case minor) + optional °, +, ø + optional 7, "
    "maj7, 9, maj9, add9, 6, sus2, sus4, 7sus4, 5 + optional /3 /5 /7 (inversion) or "
    "/V /vi ... (applied) — e.g. I, vi, bVII, V7, ii7, IVmaj7, V/3, V7/V")


@dataclass(frozen=True)
class RomanChord:
    """A parsed chord symbol, independent of the key.

    :param text: as written, e.g. ``"V7/V"``.
    :param root_steps: semitones from the home tonic to the root, 0..11.
    :param intervals: chord tones in semitones above the root, root first (0, third, ...).
    :param bass_interval: interval above the root of the bass note for inversions, else None.
    :param suffix: chord-name suffix after the root, e.g. ``"m7"``, ``"dim"``, ``"maj7"``.
    """

    text: str
    root_steps: int
    intervals: tuple[int, ...]
    bass_interval: int | None
    suffix: str

    def root_pc(self, tonic_pc: int) -> int:
        return (tonic_pc + self.root_steps) % 12

    def pitch_classes(self, tonic_pc: int) -> tuple[int, ...]:
        """Chord tones as pitch classes, root first."""
        root = self.root_pc(tonic_pc)
        return tuple(dict.fromkeys((root + i) % 12 for i in self.intervals))

    def bass_pc(self, tonic_pc: int) -> int | None:
        """Pitch class of an inversion's bass note, or None in root position."""
        if self.bass_interval is None:
            return None
        return (self.root_pc(tonic_pc) + self.bass_interval) % 12


@dataclass(frozen=True)
class ChordSlot:
    """One share of a bar: ``chord`` (None = keep the chord before) for ``fraction`` of it."""

    chord: RomanChord | None
    fraction: Fraction


def _acc(text: str) -> int:
    return {"b": -1, "♭": -1, "#": 1, "♯": 1}.get(text, 0)


def parse_chord(text: str) -> RomanChord:
    """Parse one roman-numeral chord; ``ValueError`` says what is wrong."""
    if not isinstance(text, str) or not text:
        raise ValueError("empty chord")
    head, *tails = text.split("/")
    m = _CHORD.match(head)
    if m is None:
        raise ValueError("not a roman-numeral chord")
    degree = NUMERALS.index(m["num"].upper())
    upper = m["num"].isupper()
    qual, ext = m["qual"] or "", m["ext"] or ""
    root = (MAJOR_STEPS[degree] + _acc(m["acc"])) % 12
    inversion: str | None = None
    for tail in tails:
        if tail in ("3", "5", "7"):
            if inversion is not None:
                raise ValueError("two inversions")
            inversion = tail
            continue
        t = _TARGET.match(tail)
        if t is None or tail == "":
            raise ValueError(f"'/{tail}' is neither an inversion (/3 /5 /7) nor a numeral (/V)")
        root = (root + MAJOR_STEPS[NUMERALS.index(t["num"].upper())] + _acc(t["acc"])) % 12
    intervals, suffix, seventh = _intervals(upper, qual, ext)
    bass = None
    if inversion == "3":
        if ext in ("sus2", "sus4", "7sus4", "5"):
            raise ValueError("/3 needs a third; this chord has none")
        bass = intervals[1]
    elif inversion == "5":
        bass = 7 if 7 in intervals else intervals[2]
    elif inversion == "7":
        if seventh is None:
            raise ValueError("/7 needs a seventh chord (add 7 or maj7)")
        bass = seventh
    return RomanChord(text, root, intervals, bass, suffix)


def _intervals(upper: bool, qual: str, ext: str) -> tuple[tuple[int, ...], str, int | None]:
    """Chord tones above the root, the name suffix, and the seventh's interval (or None)."""
    if qual in ("°", "o", "dim"):
        third, fifth, name = 3, 6, "dim"
    elif qual in ("+", "aug"):
        third, fifth, name = 4, 8, "aug"
    elif qual == "ø":
        if ext not in ("", "7"):
            raise ValueError("ø (half-diminished) takes no other extension")
        return (0, 3, 6, 10), "m7b5", 10
    else:
        third, fifth, name = (4, 7, "") if upper else (3, 7, "m")
    if ext == "5":
        if qual:
            raise ValueError("a power chord (5) has no quality")
        return (0, 7), "5", None
    if ext in ("sus2", "sus4", "7sus4") and qual:
        raise ValueError("a sus chord has no quality")
    tones = [0, third, fifth]
    seventh = None
    if ext in ("7", "9", "7sus4"):
        seventh = 9 if name == "dim" else 10
    elif ext in ("maj7", "maj9"):
        seventh = 11
    if ext == "sus2":
        tones[1] = 2
    elif ext in ("sus4", "7sus4"):
        tones[1] = 5
    if seventh is not None:
        tones.append(seventh)
    if ext in ("9", "maj9", "add9"):
        tones.append(2)
    elif ext == "6":
        tones.append(9)
    suffix = _suffix(name, ext)
    return tuple(tones), suffix, seventh


def _suffix(name: str, ext: str) -> str:
    if ext in ("sus2", "sus4", "7sus4"):
        return ext
    if name == "dim":
        return "dim7" if ext == "7" else "dim" + ext
    if name == "aug":
        return "aug" + ext
    if name == "m":
        return {"7": "m7", "maj7": "m(maj7)", "9": "m9", "maj9": "m(maj9)", "add9": "madd9",
                "6": "m6"}.get(ext, "m")
    return ext


def parse_bar(text: str) -> tuple[ChordSlot, ...]:
    """One bar: chords sharing the bar equally, ``.`` holds, ``%`` holds the previous bar."""
    tokens = str(text).split()
    if not tokens:
        raise ValueError("an empty bar")
    if tokens == ["%"]:
        return (ChordSlot(None, Fraction(1)),)
    if len(tokens) > MAX_CHORDS_PER_BAR:
        raise ValueError(f"more than {MAX_CHORDS_PER_BAR} chords in one bar")
    share = Fraction(1, len(tokens))
    slots: list[list] = []
    for tok in tokens:
        if tok == ".":
            if slots:
                slots[-1][1] += share
            else:
                slots.append([None, share])
            continue
        try:
            slots.append([parse_chord(tok), share])
        except ValueError as e:
            raise ValueError(f"{tok!r}: {e}") from None
    return tuple(ChordSlot(c, f) for c, f in slots)


def split_progression(value) -> list[str]:
    """A progression as a list of bars, or one string with ``|`` between bars."""
    if isinstance(value, str):
        return [b.strip() for b in value.split("|")]
    return [str(b) for b in value]
