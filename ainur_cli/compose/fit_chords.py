"""Chords that fit a given melody: where a song sings the producer's own notes (a DAW
session's vocal notes, or the spec's ``melody:`` file), each chord of the preset's
progression that sounds under them is re-chosen to fit them.

The chord rhythm stays the preset's (every chord keeps its start and length); only the
chord changes, chosen from the style's own chords (every chord its progressions use) and
the diatonic triads of its mode. A chord scores, over the melody's notes that sound during
it (weighted by how long they sound under it, 1.5x for a note that starts on the chord):

* +1 for a chord tone;
* -1.5 for a note a semitone from a chord tone (it rubs: F over C major, C over B minor);
* -0.5 for any other note outside the chord's key scale;
* 0 otherwise (a passing tone a whole step from a chord tone);

plus 0.2 of the melody's weight for the preset's own chord in that place and 0.1 for a chord
of the section's own progression, so that when several fit equally the style's chord wins.
A chord with no melody under it is the preset's.
"""

from __future__ import annotations

from typing import Sequence

from ainur_cli.compose.harmony import chord_event, home_tonic
from ainur_cli.compose.meter import EPS
from ainur_cli.compose.roman import RomanChord, parse_chord
from ainur_cli.compose.types import ChordEvent
from ainur_cli.key import Key

MAJOR_TRIADS = ("I", "ii", "iii", "IV", "V", "vi")
MINOR_TRIADS = ("i", "iv", "v", "V", "bIII", "bVI", "bVII")
CHORD_TONE = 1.0
RUB = -1.5
OUT_OF_SCALE = -0.5
ONSET_WEIGHT = 1.5
PRESET_BONUS = 0.2
SECTION_BONUS = 0.1


def candidate_chords(style) -> list[RomanChord]:
    """The style's own chords (in the order its progressions name them), then the diatonic
    triads of its mode that it does not use."""
    out: dict[str, RomanChord] = {}
    for bars in style.progressions.values():
        for bar in bars:
            for slot in bar:
                if slot.chord is not None:
                    out.setdefault(slot.chord.text, slot.chord)
    for text in MINOR_TRIADS if style.key.is_minor else MAJOR_TRIADS:
        out.setdefault(text, parse_chord(text))
    return list(out.values())


def _tone_score(pc: int, chord_pcs: Sequence[int], scale: frozenset[int]) -> float:
    if pc in chord_pcs:
        return CHORD_TONE
    if any((pc - c) % 12 in (1, 11) for c in chord_pcs):
        return RUB
    return 0.0 if pc in scale else OUT_OF_SCALE


def fit_chords(chords: Sequence[ChordEvent], melody: Sequence[tuple[float, float, int]],
               style, key: Key, sections: Sequence) -> list[ChordEvent]:
    """``chords`` (contiguous, the preset's) with each chord that has melody under it
    re-chosen to fit it (see the module docstring).

    :param melody: ``(start_beat, end_beat, midi_pitch)`` of the given notes.
    :param sections: the placed sections (``start_beat``, ``end_beat``, ``kind``), for the
        section's own progression.
    """
    if not melody:
        return list(chords)
    tonic = home_tonic(style.key, key)
    scale = frozenset(key.scale_pcs)
    candidates = candidate_chords(style)
    notes = sorted(melody)
    out: list[ChordEvent] = []
    for chord in chords:
        a, b = chord.start_beat, chord.start_beat + chord.duration_beats
        under = [(max(s, a), min(e, b), p, s >= a - EPS) for s, e, p in notes if s < b - EPS and e > a + EPS]
        if not under:
            out.append(chord)
            continue
        weights = [(y - x) * (ONSET_WEIGHT if starts else 1.0) for x, y, _, starts in under]
        total = sum(weights)
        section = next((s for s in sections if s.start_beat - EPS <= a < s.end_beat - EPS), None)
        own = {slot.chord.text for bar in style.progression(section.kind) for slot in bar
               if slot.chord is not None} if section is not None else set()
        best, best_score = chord, None
        for k, roman in enumerate(candidates):
            event = chord_event(roman, tonic, key, a, chord.duration_beats)
            score = sum(w * _tone_score(p % 12, event.pitch_classes, scale)
                        for w, (_, _, p, _) in zip(weights, under))
            score += PRESET_BONUS * total * (roman.text == chord.roman)
            score += SECTION_BONUS * total * (roman.text in own)
            if best_score is None or score > best_score + 1e-9:
                best, best_score = event, score
        out.append(best if best.roman != chord.roman else chord)
    return out
