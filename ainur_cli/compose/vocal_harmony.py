"""Harmony lines for the sung vocal: a second (or third) voice singing the lead's words a
diatonic interval above or below it, in the song's key, fitted to the chord track.

For each lead note (MIDI pitch, with the chord sounding at its start):

1. **Diatonic interval** — the note a scale third (2 steps), fifth (4) or sixth (5) above
   or below the lead in the key's scale (so a third is major or minor as the key makes it).
2. **Chord fit** — where that note is not a chord tone and lies a semitone from one (a
   minor second against the band) the harmony takes the chord tone, on the same side of the
   lead, nearest the interval's size (3.5 semitones for a third, 7 for a fifth, 8.5 for a
   sixth), 3 to 10 semitones away. A lead note outside the key (a chromatic chord tone) is
   harmonised by that chord tone directly.
3. **No unisons** — the harmony never takes the lead's pitch class (so never a unison or
   octave with it), nor the pitch of an earlier harmony voice at the same note.
4. **Range** — outside ``[low, high]`` the note moves by octaves into it (a third above
   becomes a sixth below, as singers invert a line that would go too high).

Pitches are the score's (written) pitches; the voice places the harmony with the lead's
octave shift (:func:`ainur_cli.voice.sing` ``octave_shift``).
"""

from __future__ import annotations

from typing import Sequence

# name -> (scale steps, direction, size in semitones the chord-tone fallback aims for)
INTERVALS: dict[str, tuple[int, int, float]] = {
    "third-above": (2, 1, 3.5), "third-below": (2, -1, 3.5),
    "fifth-above": (4, 1, 7.0), "fifth-below": (4, -1, 7.0),
    "sixth-above": (5, 1, 8.5), "sixth-below": (5, -1, 8.5),
}


def diatonic(pitch: int, steps: int, scale_pcs: Sequence[int]) -> int | None:
    """``pitch`` moved ``steps`` scale degrees (negative: down) in ``scale_pcs``; None when
    ``pitch`` is not in the scale."""
    scale = sorted(set(int(pc) % 12 for pc in scale_pcs))
    if pitch % 12 not in scale:
        return None
    n = len(scale)
    octave, degree = divmod(pitch, 12)
    index = octave * n + scale.index(degree) + steps
    o, d = divmod(index, n)
    return 12 * o + scale[d]


def against_chord(pc: int, chord_pcs: Sequence[int]) -> bool:
    """True when pitch class ``pc`` is not a chord tone and a semitone from one."""
    pcs = {int(c) % 12 for c in chord_pcs}
    return pc % 12 not in pcs and any((pc - c) % 12 in (1, 11) for c in pcs)


def _chord_tone(lead: int, direction: int, size: float, chord_pcs: Sequence[int],
                avoid: set[int]) -> int | None:
    """The chord tone 3..10 semitones (a minor third to a minor seventh) from ``lead`` in
    ``direction`` nearest ``size`` (ties: the closer one), skipping pitch classes and pitches
    in ``avoid``."""
    pcs = {int(c) % 12 for c in chord_pcs}
    best = None
    for d in range(3, 11):
        q = lead + direction * d
        if q % 12 in pcs and q % 12 != lead % 12 and q not in avoid:
            if best is None or abs(d - size) < abs(best[0] - size):
                best = (d, q)
    return None if best is None else best[1]


def harmony_pitches(lead: Sequence[int], chords: Sequence[Sequence[int]], scale_pcs: Sequence[int],
                    interval: str, low: int, high: int,
                    others: Sequence[Sequence[int]] = ()) -> list[int]:
    """One harmony line for a lead line.

    :param lead: the lead's MIDI pitches, one per note.
    :param chords: the chord's pitch classes sounding at each note's start (same length).
    :param scale_pcs: the key's scale (7 pitch classes).
    :param interval: a key of :data:`INTERVALS`, e.g. ``"third-above"``.
    :param low, high: the harmony's MIDI range (written pitches), ``high - low >= 12``.
    :param others: harmony lines already chosen (each one pitch per note): not doubled.
    :returns: one MIDI pitch per lead note.
    """
    if interval not in INTERVALS:
        raise ValueError(f"unknown harmony interval {interval!r}; allowed: {', '.join(INTERVALS)}")
    if len(chords) != len(lead) or any(len(o) != len(lead) for o in others):
        raise ValueError("lead, chords and other lines differ in length")
    if high - low < 12:
        raise ValueError(f"harmony range {low}..{high} is narrower than an octave")
    steps, direction, size = INTERVALS[interval]
    out = []
    for i, (p, pcs) in enumerate(zip(lead, chords)):
        p = int(p)
        avoid = {int(o[i]) for o in others}
        h = diatonic(p, direction * steps, scale_pcs)
        if h is None or against_chord(h, pcs) or h in avoid:
            fit = _chord_tone(p, direction, size, pcs, avoid)
            h = fit if fit is not None else h
        if h is None:  # out of key, no usable chord tone: the scale pitch nearest the size
            target = p + direction * round(size)
            h = min((q for q in range(target - 2, target + 3) if q % 12 in set(scale_pcs)),
                    key=lambda q: (abs(q - target), q))
        while h > high:
            h -= 12
        while h < low:
            h += 12
        if h in avoid or h % 12 == p % 12:  # the range fold landed on a sung pitch
            alt = _chord_tone(p, -direction, 12 - size, pcs, avoid | {h})
            h = alt if alt is not None and low <= alt <= high else h
        out.append(h)
    return out
