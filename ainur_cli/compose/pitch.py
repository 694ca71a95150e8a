"""Pitches for a rhythm: a Viterbi path through the singer's range.

Each note may take any pitch of the key's scale or of its chord inside ``[low, high]``. The
path minimises, per note, the cost of a non-chord tone (high on strong positions, small on
weak ones: passing tones), the distance from a contour target (arch, rise, fall or wave
around ``center``) and a little seeded noise, plus, between neighbours, an interval cost
(steps are cheapest, thirds cheap, sixths and sevenths dear, more than an octave impossible;
repeated notes cost what the caller says: dear for an instrument's hook, about a third's cost
for a sung line, which recites on one pitch as often as real vocal lines do). A line's last
note is a chord tone, the root when it ends a section.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# Cost of a melodic interval of 0..12 semitones; wider is not allowed. Entry 0 (a repeated
# note) is the instruments' default: it makes a hook move.
INTERVAL_COST = np.array([0.9, 0.1, 0.0, 0.25, 0.4, 0.65, 1.8, 1.0, 1.8, 2.0, 2.6, 3.0, 2.2])
# A sung line's repeated note costs about a third. With the instruments' 0.9 (dearer than a
# fourth) 1 % of the intervals inside lyric lines were repeated notes and 47 % whole tones
# (pop, trap, ballad, rock, seeds 1-2), where vocal melodies recite on one pitch far more
# often; with 0.4: repeated notes 25 %, steps 53 %, thirds 19 %, fourths 2 %. Fewer glides
# also keep the sung pitch on the score: Praat within 50 cents 95.0-95.3 -> 96.4-96.7 % on
# the vocals bench's lines as a song at 120 bpm (docs/voice.md, session 7).
SUNG_REPEAT_COST = 0.4
SHAPES = ("arch", "rise", "fall", "wave")


def contour(shape: str, n: int, center: float) -> np.ndarray:
    """Target pitch per note for a contour shape."""
    x = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.5])
    if shape == "arch":
        return center - 1 + 5 * np.sin(np.pi * x)
    if shape == "rise":
        return center - 3 + 6 * x
    if shape == "fall":
        return center + 3 - 6 * x
    return center + 3 * np.sin(2 * np.pi * x)


def choose_pitches(*, strong: Sequence[bool], chords: Sequence[tuple[tuple[int, ...], int]],
                   scale: frozenset, low: int, high: int, center: float, final: bool,
                   tonic_pc: int, rng: np.random.Generator,
                   repeat_cost: float = float(INTERVAL_COST[0])) -> list[int]:
    """MIDI pitches for notes with these strong flags and ``(chord pitch classes, root)``;
    ``repeat_cost``: the interval cost of a repeated note (:data:`SUNG_REPEAT_COST` for a
    sung line)."""
    n = len(strong)
    allowed = set(scale)
    for pcs, _ in chords:
        allowed.update(pcs)
    cands = np.array([p for p in range(low, high + 1) if p % 12 in allowed])
    pcs_of = cands % 12
    in_scale = np.isin(pcs_of, sorted(scale))
    shape = SHAPES[int(rng.choice(4, p=[0.1, 0.1, 0.7, 0.1] if final else [0.35, 0.2, 0.2, 0.25]))]
    target = contour(shape, n, center)
    unary = np.empty((n, len(cands)))
    for i in range(n):
        pcs, root = chords[i]
        in_chord = np.isin(pcs_of, pcs)
        cost = np.where(in_chord | in_scale, 0.0, np.inf)
        cost = cost + np.where(in_chord, np.where(in_scale, 0.0, 0.3), 2.5 if strong[i] else 0.45)
        cost = cost + 0.15 * np.abs(cands - target[i])
        cost = cost + np.where(_clashes(pcs_of, pcs, scale) & ~in_chord, 1.5, 0.0)
        if i == n - 1:
            cost = cost + np.where(in_chord, 0.0, 4.0)
            cost = cost - np.where(pcs_of == root, 1.2 if final else 0.5, 0.0)
            if final:
                cost = cost - np.where(pcs_of == tonic_pc, 0.3, 0.0)
        unary[i] = cost + rng.uniform(0.0, 0.3, len(cands))
    dist = np.abs(cands[:, None] - cands[None, :])
    costs = INTERVAL_COST.copy()
    costs[0] = repeat_cost
    pair = np.where(dist <= 12, costs[np.minimum(dist, 12)], np.inf)
    total = unary[0].copy()
    back = np.zeros((n, len(cands)), dtype=np.int64)
    for i in range(1, n):
        m = total[:, None] + pair
        back[i] = np.argmin(m, axis=0)
        total = m[back[i], np.arange(len(cands))] + unary[i]
    k = int(np.argmin(total))
    path = [k]
    for i in range(n - 1, 0, -1):
        k = int(back[i, k])
        path.append(k)
    return [int(cands[k]) for k in reversed(path)]


def _clashes(pcs_of: np.ndarray, chord_pcs: Sequence[int], scale: frozenset) -> np.ndarray:
    """Pitch classes a semitone from a chromatic (out-of-key) chord tone: F against F#dim."""
    chromatic = [pc for pc in chord_pcs if pc not in scale]
    if not chromatic:
        return np.zeros(len(pcs_of), dtype=bool)
    near = {(pc + d) % 12 for pc in chromatic for d in (-1, 1)}
    return np.isin(pcs_of, sorted(near))


def clashes(pc: int, chord_pcs: Sequence[int], scale: frozenset) -> bool:
    """True when ``pc`` is not a chord tone and a semitone from a chromatic chord tone."""
    return pc not in chord_pcs and bool(_clashes(np.array([pc]), chord_pcs, scale)[0])


def nearest_allowed(pitch: int, chord_pcs: Sequence[int], scale: frozenset, low: int, high: int,
                    prefer_chord: bool) -> int:
    """The pitch nearest ``pitch`` in ``[low, high]`` that is a chord tone (``prefer_chord``)
    or a chord or scale tone; ties go down."""
    ok = set(chord_pcs) if prefer_chord else set(chord_pcs) | set(scale)
    best = None
    for d in range(0, 13):
        for p in (pitch - d, pitch + d):
            if low <= p <= high and p % 12 in ok:
                return p
            if best is None and p % 12 in ok:
                best = p
    return best if best is not None else pitch
