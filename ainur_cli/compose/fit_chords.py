"""Chords that fit a given melody: where a song sings the producer's own notes (a DAW
session's vocal notes, or the spec's ``melody:`` file), each chord of the preset's
progression that sounds under them is re-chosen to fit them.

Chords come from the style's own chords (every chord its progressions use), the diatonic
triads of its mode and the dominant sevenths of those triads (secondary dominants, for a
melody's chromatic notes; they cost 0.3 of the melody's weight unless the style uses them).
A chord scores, over the melody's notes that sound during it (weighted
by how long they sound under it; 1.5x for a note that starts under the chord, and twice that
again for one that starts on a strong beat: the downbeat, or the middle of a 4/4, 6/8 or
12/8 bar):

* +1 for a chord tone;
* -1.5 for a note a semitone from a chord tone (it rubs: F over C major, C over B minor);
* -0.5 for any other note outside the chord's key scale;
* 0 otherwise (a passing tone a whole step from a chord tone);

plus 0.2 of the melody's weight for the preset's own chord in that place and 0.1 for a chord
of the section's own progression, so that when several fit equally the style's chord wins;
and 0.4 for the tonic chord where the melody's last note ends, when that note is in the
tonic triad: the song ends home (an authentic or plagal close) rather than on whatever chord
the progression reached, and the chord may change for that close at any strong beat, at no
split cost. A chord with no melody under it is the preset's.

The chord rhythm is the preset's, except where the melody changes harmony inside one of its
chords: a chord may then be split at its strong beats (bar lines and mid-bar strong beats,
never into pieces under a beat), each piece fitted on its own, where that gains the melody
at least :data:`SPLIT_COST` (in weighted beats) per added change. So a bar of C whose second
half sings F, A, C becomes C | F, while a passing F on a weak beat stays over C.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ainur_cli.compose.harmony import chord_event, home_tonic
from ainur_cli.compose.meter import EPS
from ainur_cli.compose.roman import RomanChord, parse_chord
from ainur_cli.compose.types import ChordEvent
from ainur_cli.key import Key

MAJOR_TRIADS = ("I", "ii", "iii", "IV", "V", "vi")
MINOR_TRIADS = ("i", "iv", "v", "V", "bIII", "bVI", "bVII")
#: dominant sevenths of the diatonic chords (D7 -> G in C major): for a melody's chromatic
#: notes (F# in C major). A style's own chords and the triads come first; these cost
#: :data:`SECONDARY_COST`, so they win only where the melody sings their chromatic tone.
MAJOR_SECONDARY = ("V7/V", "V7/vi", "V7/ii", "V7/IV", "V7/iii")
MINOR_SECONDARY = ("V7/iv", "V7/bIII", "V7/bVI", "V7/bVII", "V7/v")
CHORD_TONE = 1.0
RUB = -1.5
OUT_OF_SCALE = -0.5
ONSET_WEIGHT = 1.5
PRESET_BONUS = 0.2
SECTION_BONUS = 0.1
CADENCE_BONUS = 0.4
SECONDARY_COST = 0.3
STRONG_WEIGHT = 2.0
SPLIT_COST = 2.0
MIN_PIECE_BEATS = 1.0


def _chords_named(progressions) -> dict[str, RomanChord]:
    """``{text: chord}`` of the chords ``progressions`` (each a progression's bars of
    slots) name, in the order they name them."""
    out: dict[str, RomanChord] = {}
    for bars in progressions:
        for bar in bars:
            for slot in bar:
                if slot.chord is not None:
                    out.setdefault(slot.chord.text, slot.chord)
    return out


def candidate_chords(style) -> list[RomanChord]:
    """The style's own chords (in the order its progressions name them), then the diatonic
    triads of its mode and the secondary dominants (:data:`MAJOR_SECONDARY`,
    :data:`MINOR_SECONDARY`) that it does not use."""
    out = _chords_named(style.progressions.values())
    minor = style.key.is_minor
    for text in (MINOR_TRIADS + MINOR_SECONDARY) if minor else (MAJOR_TRIADS + MAJOR_SECONDARY):
        out.setdefault(text, parse_chord(text))
    return list(out.values())


def _tone_score(pc: int, chord_pcs: Sequence[int], scale: frozenset[int]) -> float:
    if pc in chord_pcs:
        return CHORD_TONE
    if any((pc - c) % 12 in (1, 11) for c in chord_pcs):
        return RUB
    return 0.0 if pc in scale else OUT_OF_SCALE


def _split_points(a: float, b: float, bars) -> list[float]:
    """``a``, the strong beats strictly inside ``[a, b)`` that leave pieces of at least
    :data:`MIN_PIECE_BEATS`, and ``b``."""
    points = [a]
    bar = bars.at(a)
    index = bar.index
    while index < len(bars) and bars[index].start < b - EPS:
        bar = bars[index]
        for offset in bar.strong_offsets:
            t = bar.start + offset
            if a + MIN_PIECE_BEATS - EPS <= t <= b - MIN_PIECE_BEATS + EPS and t - points[-1] > EPS:
                points.append(t)
        index += 1
    points.append(b)
    return points


def fit_chords(chords: Sequence[ChordEvent], melody: Sequence[tuple[float, float, int]],
               style, key: Key, sections: Sequence, bars) -> list[ChordEvent]:
    """``chords`` (contiguous, the preset's) with each chord that has melody under it
    re-chosen to fit it, or split at its strong beats where the melody changes harmony
    inside it (see the module docstring). The result is contiguous over the same span.

    :param melody: ``(start_beat, end_beat, midi_pitch)`` of the given notes.
    :param sections: the placed sections (``start_beat``, ``end_beat``, ``kind``), for the
        section's own progression.
    :param bars: the song's :class:`~ainur_cli.compose.meter.Bars`, for the strong beats.
    """
    if not melody:
        return list(chords)
    tonic = home_tonic(style.key, key)
    scale = frozenset(key.scale_pcs)
    candidates = candidate_chords(style)
    secondary = set(MINOR_SECONDARY if style.key.is_minor else MAJOR_SECONDARY)
    style_own = set(_chords_named(style.progressions.values()))
    song_end = chords[-1].start_beat + chords[-1].duration_beats if chords else 0.0
    sung = [n for n in melody if n[0] < song_end - EPS]
    if not sung:
        return list(chords)
    _, last_end, last_pitch = max(sung)
    close_at = min(last_end, song_end) - 2 * EPS  # the melody's last chord: where it ends
    triad = tuple((key.tonic_pc + i) % 12 for i in ((0, 3, 7) if key.is_minor else (0, 4, 7)))
    home = last_pitch % 12 in triad
    notes = []
    for s, e, p in sorted(melody):
        bar = bars.at(s)
        strong = any(abs(s - bar.start - o) < EPS for o in bar.strong_offsets)
        notes.append((s, e, p, STRONG_WEIGHT if strong else 1.0))

    def best_for(chord: ChordEvent, own: set[str], a: float, b: float) -> tuple[ChordEvent, float]:
        """The best chord over ``[a, b)`` (``chord`` where no melody sounds) and its score."""
        # (from, to, pitch, onset weight, strong-beat weight) of each note sounding in [a, b)
        under = [(max(s, a), min(e, b), p) + ((ONSET_WEIGHT, strong) if s >= a - EPS else (1.0, 1.0))
                 for s, e, p, strong in notes if s < b - EPS and e > a + EPS]
        if not under:
            return chord, 0.0
        total = sum((y - x) * w for x, y, _, w, _ in under)  # the bonuses' scale: no strong-beat weight
        weights = [(y - x) * w * strong for x, y, _, w, strong in under]
        close = home and a <= close_at < b
        best, best_score = chord, None
        for roman in candidates:
            event = chord_event(roman, tonic, key, a, b - a)
            score = sum(w * _tone_score(p % 12, event.pitch_classes, scale)
                        for w, (_, _, p, _, _) in zip(weights, under))
            score += PRESET_BONUS * total * (roman.text == chord.roman)
            score += SECTION_BONUS * total * (roman.text in own)
            score += CADENCE_BONUS * total * (close and event.root_pc == triad[0]
                                              and set(triad) <= set(event.pitch_classes))
            score -= SECONDARY_COST * total * (roman.text in secondary and roman.text not in style_own)
            if best_score is None or score > best_score + 1e-9:
                best, best_score = event, score
        if best.roman == chord.roman:
            best = replace(chord, start_beat=a, duration_beats=b - a)
        return best, best_score

    out: list[ChordEvent] = []
    for chord in chords:
        a, b = chord.start_beat, chord.start_beat + chord.duration_beats
        section = next((s for s in sections if s.start_beat - EPS <= a < s.end_beat - EPS), None)
        own = set(_chords_named([style.progression(section.kind)])) if section is not None else set()
        points = _split_points(a, b, bars)
        # best[j]: the best pieces over [a, points[j]) and their score, fewest pieces on ties
        best: list[tuple[float, list[ChordEvent]]] = [(0.0, [])]
        for j in range(1, len(points)):
            options = []
            for i in range(j):
                event, score = best_for(chord, own, points[i], points[j])
                # a change into the song's closing piece is free: the close may come mid-bar
                cost = SPLIT_COST if i and not (home and points[i] <= close_at < points[j]) else 0.0
                options.append((best[i][0] + score - cost, best[i][1] + [event]))
            top = options[0]
            for option in options[1:]:
                if option[0] > top[0] + 1e-9:
                    top = option
            best.append(top)
        pieces = best[-1][1]
        out.extend([chord] if len(pieces) == 1 and pieces[0].roman == chord.roman else pieces)
    return out
