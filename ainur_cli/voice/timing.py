"""Where every phone of a phrase goes in song time, and which source instant each output
frame reads: the vowel lands on the note, consonants keep (about) their spoken length and
sit before the beat, and only the vowel's steady part is stretched.

A phrase's time map is a list of knots (target_s, source_s) plus silent spans; between knots
the source is read linearly. Vowel warping keeps the consonant→vowel and vowel→consonant
transitions at (a spread version of) their natural speed and holds the vowel target in the
middle; a diphthong holds its first target and glides at the end, as singers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ainur_cli.voice.phonemes import DIPHTHONGS
from ainur_cli.voice.score import SungSyllable

MIN_VOWEL_FRACTION = 0.45  # a syllable's vowel keeps at least this share of its span
DETACH_GAP_S = 0.03        # silence shorter than this between notes is sung legato


@dataclass(frozen=True)
class WarpOptions:
    """How vowels are stretched.

    :param transition_s: longest source stretch counted as a CV or VC transition.
    :param transition_spread: how much slower than spoken those transitions are sung when a
        vowel is stretched (1 = spoken speed).
    :param diphthong_hold: where (fraction of the spoken diphthong) its first target ends.
    :param consonant_stretch: consonants are sung this much longer than spoken (when the
        notes leave room; short notes squeeze them back).
    """

    transition_s: float = 0.05
    transition_spread: float = 1.6
    diphthong_hold: float = 0.4
    consonant_stretch: float = 1.0


@dataclass(frozen=True)
class PhraseMap:
    """``knots``: (k, 2) array of (target_s, source_s), target increasing; ``silent``:
    list of (start_s, end_s) target spans to leave silent; ``vowels``: (syllables, 2) target
    spans of each vowel; ``start_s``/``end_s``: target extent. Target times are song seconds."""

    knots: np.ndarray
    silent: list[tuple[float, float]]
    vowels: np.ndarray
    start_s: float
    end_s: float

    def source_at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source seconds for target times ``t_s`` and a mask of silent frames."""
        src = np.interp(t_s, self.knots[:, 0], self.knots[:, 1])
        mute = np.zeros(t_s.shape, dtype=bool)
        for a, b in self.silent:
            mute |= (t_s >= a) & (t_s < b)
        return src, mute


def _vowel_knots(a: float, b: float, A: float, B: float, nucleus: str, opt: WarpOptions
                 ) -> list[tuple[float, float]]:
    """Knots mapping target [A, B] onto source vowel [a, b]."""
    l, L = b - a, B - A
    if L <= l * 1.15 or l <= 0:
        return [(A, a), (B, b)]
    if nucleus in DIPHTHONGS:
        on = min(0.15 * l, opt.transition_s)
        hold_end = a + opt.diphthong_hold * l
        glide = b - hold_end
        on_t = min(on * opt.transition_spread, 0.25 * L)
        glide_t = min(glide * opt.transition_spread, 0.4 * L)
        return [(A, a), (A + on_t, a + on), (B - glide_t, hold_end), (B, b)]
    on = min(0.3 * l, opt.transition_s)
    off = min(0.3 * l, opt.transition_s)
    on_t = min(on * opt.transition_spread, 0.25 * L)
    off_t = min(off * opt.transition_spread, 0.25 * L)
    return [(A, a), (A + on_t, a + on), (B - off_t, b - off), (B, b)]


def phrase_map(sylls: Sequence[SungSyllable], phone_s: np.ndarray, opt: WarpOptions = WarpOptions()
               ) -> PhraseMap:
    """The time map of one phrase.

    :param sylls: the phrase's syllables (song times from their notes).
    :param phone_s: (phones, 2) source seconds of every phone of the phrase, in order
        (onset, nucleus, coda of each syllable).
    """
    # Source spans per syllable: onset start, vowel start, vowel end, coda end.
    spans = []
    i = 0
    for s in sylls:
        n_on, n_co = len(s.phones.onset), len(s.phones.coda)
        on_start = phone_s[i, 0]
        v = phone_s[i + n_on]
        co_end = phone_s[i + n_on + n_co, 1]
        spans.append((on_start, v[0], v[1], co_end))
        i += n_on + 1 + n_co
    knots: list[tuple[float, float]] = []
    silent: list[tuple[float, float]] = []
    vowels = np.zeros((len(sylls), 2))
    # Target start of each syllable's onset and end of each vowel, decided cluster by cluster.
    onset_start_t = [0.0] * len(sylls)
    vowel_end_t = [0.0] * len(sylls)
    first = sylls[0]
    cs = opt.consonant_stretch
    d_on = (spans[0][1] - spans[0][0]) * cs
    scale = min(1.0, first.start_s / d_on) if d_on > 0 else 1.0
    onset_start_t[0] = first.start_s - d_on * scale
    for k in range(1, len(sylls)):
        prev, cur = sylls[k - 1], sylls[k]
        d_coda = (spans[k - 1][3] - spans[k - 1][2]) * cs
        d_on = (spans[k][1] - spans[k][0]) * cs
        room = cur.start_s - prev.start_s
        if cur.start_s - d_on - prev.end_s >= DETACH_GAP_S:  # a rest between the notes
            max_coda = (prev.end_s - prev.start_s) * (1 - MIN_VOWEL_FRACTION)
            c = min(d_coda, max_coda)
            vowel_end_t[k - 1] = prev.end_s - c
            onset_start_t[k] = cur.start_s - d_on
            silent.append((prev.end_s, onset_start_t[k]))
        else:  # legato: coda + onset sit before the beat, squeezed if the note is short
            d = d_coda + d_on
            s = min(1.0, room * (1 - MIN_VOWEL_FRACTION) / d) if d > 0 else 1.0
            vowel_end_t[k - 1] = cur.start_s - d * s
            onset_start_t[k] = cur.start_s - d_on * s
    last = sylls[-1]
    d_coda = (spans[-1][3] - spans[-1][2]) * cs
    c = min(d_coda, (last.end_s - last.start_s) * (1 - MIN_VOWEL_FRACTION))
    vowel_end_t[-1] = last.end_s - c
    end_t = last.end_s
    for k, s in enumerate(sylls):
        on_start, v0, v1, co_end = spans[k]
        knots.append((onset_start_t[k], on_start))
        knots.append((s.start_s, v0))
        knots.extend(_vowel_knots(v0, v1, s.start_s, vowel_end_t[k], s.phones.nucleus, opt)[1:])
        vowels[k] = (s.start_s, vowel_end_t[k])
        coda_end_t = onset_start_t[k + 1] if k + 1 < len(sylls) else end_t
        if silent and k + 1 < len(sylls) and silent[-1][1] == onset_start_t[k + 1]:
            coda_end_t = silent[-1][0]
        knots.append((coda_end_t, co_end))
    arr = np.array(knots)
    # Keep target times strictly increasing (zero-length phones collapse onto one knot).
    keep = np.concatenate([[True], np.diff(arr[:, 0]) > 1e-6])
    arr = arr[keep]
    return PhraseMap(arr, silent, vowels, onset_start_t[0], end_t)
