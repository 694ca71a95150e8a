"""Chords: roman numerals in a key → pitch classes; progressions laid over sections' bars."""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ainur_cli.compose.types import ChordEvent
from ainur_cli.key import Key
from ainur_cli.style import Style, parse_chord_symbol
from ainur_cli.timeline import Timeline

_DEGREES = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}
_EXT = {"maj7": 11, "m7": 10, "6": 9, "add9": 14}


def chord_from_roman(symbol: str, key: Key) -> tuple[int, tuple[int, ...], str]:
    """``(root pitch class, chord pitch classes root first, display name)``.

    The numeral is a degree of the key's own scale (in A minor, ``VI`` = F); upper case is a
    major triad, lower case minor, ``°`` diminished, ``+`` augmented; ``b``/``#`` shift the root.
    ``7`` adds the scale's seventh above the root (dominant on an upper-case V), ``maj7``/``m7``
    force it; ``sus2``/``sus4`` replace the third.
    """
    m = parse_chord_symbol(symbol)
    if m is None:
        raise ValueError(symbol)
    accidental, numeral, quality, ext = m.groups()
    degree = _DEGREES[numeral.lower()]
    root = key.scale_pcs[degree] + {"b": -1, "#": 1, None: 0}[accidental]
    root %= 12
    upper = numeral.isupper()
    third = 4 if upper else 3
    fifth = 7
    if quality in ("°", "o", "dim"):
        third, fifth = 3, 6
    elif quality in ("+", "aug"):
        third, fifth = 4, 8
    intervals = [0, third, fifth]
    if ext in ("sus2", "sus4"):
        intervals[1] = 2 if ext == "sus2" else 5
    elif ext == "7":
        diatonic = (key.scale_pcs[(degree + 6) % 7] - key.scale_pcs[degree]) % 12
        intervals.append(10 if (upper and degree == 4) or diatonic not in (10, 11) else diatonic)
    elif ext == "9":
        intervals += [10, 2]
    elif ext in _EXT:
        intervals.append(_EXT[ext] % 12)
    pcs = tuple(dict.fromkeys((root + i) % 12 for i in intervals))
    name = key.pc_name(root) + ("" if upper else "m")
    if quality in ("°", "o", "dim"):
        name = key.pc_name(root) + "dim"
    elif quality in ("+", "aug"):
        name = key.pc_name(root) + "aug"
    name += {"7": "7", "maj7": "maj7", "m7": "7", "sus2": "sus2", "sus4": "sus4",
             "add9": "add9", "6": "6", "9": "9"}.get(ext or "", "")
    return root, pcs, name


def section_chords(style: Style, key: Key, timeline: Timeline, section) -> list[ChordEvent]:
    """Chords over a section: its progression cycled bar by bar, a bar's chords equal length."""
    bars = style.progression(section.kind)
    out = []
    for i in range(section.bars):
        bar = section.start_bar + i
        start = timeline.bar_to_beat(bar)
        length = timeline.bar_beats(bar)
        symbols = bars[i % len(bars)]
        # Last bar of a section that loops back cleanly: keep the progression as written.
        part = length / len(symbols)
        for j, sym in enumerate(symbols):
            root, pcs, name = chord_from_roman(sym, key)
            out.append(ChordEvent(float(start + j * part), float(part), root, pcs, name))
    return out


def song_chords(style: Style, key: Key, timeline: Timeline, sections: Sequence) -> list[ChordEvent]:
    chords: list[ChordEvent] = []
    for s in sections:
        chords.extend(section_chords(style, key, timeline, s))
    return chords


def chord_at(chords: Sequence[ChordEvent], beat: float) -> ChordEvent:
    """The chord sounding at ``beat`` (chords are sorted and contiguous)."""
    lo, hi = 0, len(chords) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if chords[mid].start_beat <= beat + 1e-9:
            lo = mid
        else:
            hi = mid - 1
    return chords[lo]


def nearest_voicing(pcs: Sequence[int], previous: Sequence[int] | None, center: int,
                    size: int = 4) -> list[int]:
    """MIDI pitches for a chord near ``center`` moving least from ``previous`` (voice leading)."""
    tones = list(pcs)[:size]
    while len(tones) < min(size, 4) and len(tones) < 4:
        tones.append(tones[0])  # double the root
    best, best_cost = None, None
    for inversion in range(len(tones)):
        order = tones[inversion:] + tones[:inversion]
        for base in range(center - 12, center + 1):
            if base % 12 != order[0]:
                continue
            voicing = [base]
            for pc in order[1:]:
                nxt = voicing[-1] + 1
                while nxt % 12 != pc:
                    nxt += 1
                voicing.append(nxt)
            if previous:
                cost = sum(abs(a - b) for a, b in zip(sorted(voicing), sorted(previous)))
            else:
                cost = abs(sum(voicing) / len(voicing) - center) * len(voicing)
            cost += 0.5 * abs(sum(voicing) / len(voicing) - center)
            if best_cost is None or cost < best_cost:
                best, best_cost = voicing, cost
    return best


def to_fraction(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x).limit_denominator(1 << 20)
