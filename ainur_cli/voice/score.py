"""The sung score: :class:`SungNote` (the voice's input), checks, and grouping into phrases.

Times are song seconds. A note's ``start_s`` is where its vowel lands (the consonants before
it are sung earlier). Notes whose ``syllable`` is ``""`` or ``"-"`` continue the previous
vowel (melisma). :func:`notes_for_line` puts a lyric line's syllables on given note timings
(melisma when there are more notes, shared notes when there are fewer).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from ainur_cli.errors import VoiceError
from ainur_cli.voice.phonemes import SylPhones, from_arpabet, split_syllable, word_syllables

MIN_NOTE_S = 0.03        # shorter notes cannot carry a vowel
MIN_MIDI, MAX_MIDI = 28, 96  # E1..C7: what any voice preset can be asked to sing
PHRASE_GAP_S = 0.25      # a silence at least this long between notes starts a new phrase
OVERLAP_TOLERANCE_S = 0.02
_LETTER = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class SungNote:
    """One sung note.

    :param start_s: when the vowel must land, song seconds (>= 0).
    :param duration_s: how long the note lasts, seconds (> 0).
    :param midi_pitch: MIDI note number of the sung pitch.
    :param syllable: sung text of the syllable ("lo", "-ve"); "" or "-" continues the vowel.
    :param word: the whole word this syllable belongs to ("love").
    :param phones: ARPAbet phones of this syllable (stress digits optional); () → phonemised.
    :param line_index: lyric line (song-wide) the note belongs to.
    :param is_word_start: True on the first syllable of a word.
    :param is_line_end: True on the last note of a lyric line.
    """

    start_s: float
    duration_s: float
    midi_pitch: int
    syllable: str
    word: str = ""
    phones: tuple[str, ...] = ()
    line_index: int = 0
    is_word_start: bool = True
    is_line_end: bool = False

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def is_melisma(self) -> bool:
        return self.syllable.strip() in ("", "-")


@dataclass(frozen=True)
class SungSyllable:
    """A syllable with its notes: the first note carries the consonant onset and the vowel
    onset; the others (melisma) keep the vowel. Times in song seconds."""

    phones: SylPhones
    notes: tuple[SungNote, ...]

    @property
    def start_s(self) -> float:
        return self.notes[0].start_s

    @property
    def end_s(self) -> float:
        return self.notes[-1].end_s


def _where(note: SungNote, index: int) -> str:
    return f"lyric line {note.line_index + 1}, note {index + 1} ({note.word or note.syllable!r})"


def check_notes(notes: Sequence[SungNote]) -> None:
    """Raise :class:`VoiceError` naming the line and note for anything unsingable."""
    prev: SungNote | None = None
    for i, n in enumerate(notes):
        where = _where(n, i)
        if not (math.isfinite(n.start_s) and n.start_s >= 0):
            raise VoiceError(f"{where}: start must be a time in seconds >= 0", field="start_s",
                             value=n.start_s, allowed="a finite number >= 0")
        if not (math.isfinite(n.duration_s) and n.duration_s >= MIN_NOTE_S):
            raise VoiceError(f"{where}: note too short to sing", field="duration_s",
                             value=n.duration_s, allowed=f"at least {MIN_NOTE_S} s")
        if not MIN_MIDI <= int(n.midi_pitch) <= MAX_MIDI:
            raise VoiceError(f"{where}: pitch out of any voice's range", field="midi_pitch",
                             value=n.midi_pitch, allowed=f"MIDI {MIN_MIDI}..{MAX_MIDI}")
        if not n.is_melisma and not n.phones and not _LETTER.search(n.syllable + n.word):
            raise VoiceError(f"{where}: nothing to sing (no letters, digits or phones)",
                             field="syllable", value=n.syllable,
                             allowed="a syllable with letters, or '' / '-' to hold the vowel")
        if prev is not None and n.start_s < prev.start_s - 1e-9:
            raise VoiceError(f"{where}: notes must be in time order", field="start_s",
                             value=n.start_s, allowed=f">= {prev.start_s:.3f} s")
        if prev is not None and n.start_s < prev.end_s - max(OVERLAP_TOLERANCE_S, 0.5 * prev.duration_s):
            raise VoiceError(f"{where}: overlaps the previous note (one voice sings one note)",
                             field="start_s", value=n.start_s, allowed=f">= {prev.end_s:.3f} s")
        prev = n
    if notes and notes[0].is_melisma:
        raise VoiceError(f"{_where(notes[0], 0)}: the first note holds a vowel that was never sung",
                         field="syllable", value=notes[0].syllable, allowed="a syllable with letters")


def _word_groups(notes: Sequence[SungNote]) -> list[list[int]]:
    """Indices of the sung (non-melisma) notes, grouped into words."""
    groups: list[list[int]] = []
    for i, n in enumerate(notes):
        if n.is_melisma:
            continue
        if n.is_word_start or not groups or notes[groups[-1][-1]].line_index != n.line_index:
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def _phones_for_word(notes: Sequence[SungNote], idx: list[int]) -> list[SylPhones]:
    """Syllable phones for the notes ``idx`` of one word (one per note). Notes that carry
    ARPAbet keep it (stress from the dictionary when the syllable counts agree); the others
    take the word's syllables in order."""
    first = notes[idx[0]]
    word = first.word or "".join(notes[i].syllable.strip("-") for i in idx)
    sylls = list(word_syllables(word)) if _LETTER.search(word) else []
    stresses = [s.stress for s in sylls] if len(sylls) == len(idx) else [1] * len(idx)
    if all(notes[i].phones for i in idx):
        return [split_syllable(from_arpabet(notes[i].phones, st), st)
                for i, st in zip(idx, stresses)]
    if not sylls:  # fall back to the syllable texts themselves
        sylls = [s for i in idx for s in word_syllables(notes[i].syllable.strip("-"))[:1]]
    if not sylls:
        raise VoiceError(f"{_where(first, idx[0])}: espeak-ng cannot pronounce this word",
                         field="word", value=word, allowed="words with letters")
    while len(sylls) > len(idx):  # more syllables than notes: the last note sings the rest
        a, b = sylls[-2], sylls[-1]
        sylls[-2:] = [SylPhones(a.onset, a.nucleus, a.coda + b.onset + (b.nucleus,) + b.coda, a.stress)]
    out = []
    for k, i in enumerate(idx):
        if notes[i].phones:
            out.append(split_syllable(from_arpabet(notes[i].phones, stresses[k]), stresses[k]))
        elif k < len(sylls):
            out.append(sylls[k])
        else:  # fewer syllables than notes: repeat the last vowel without its consonants
            out.append(SylPhones((), sylls[-1].nucleus, (), 0))
    return out


def sung_syllables(notes: Sequence[SungNote]) -> list[SungSyllable]:
    """Notes → syllables with phones, melisma notes attached to the syllable they continue."""
    phones: dict[int, SylPhones] = {}
    for idx in _word_groups(notes):
        for i, p in zip(idx, _phones_for_word(notes, idx)):
            phones[i] = p
    out: list[SungSyllable] = []
    for i, n in enumerate(notes):
        if n.is_melisma and out:
            last = out[-1]
            out[-1] = SungSyllable(last.phones, last.notes + (n,))
        elif not n.is_melisma:
            out.append(SungSyllable(phones[i], (n,)))
    return out


def phrases(sylls: Sequence[SungSyllable]) -> list[list[SungSyllable]]:
    """Split syllables into phrases sung in one breath: at line changes and at rests of
    :data:`PHRASE_GAP_S` or more."""
    out: list[list[SungSyllable]] = []
    for s in sylls:
        if out:
            prev = out[-1][-1]
            same_line = prev.notes[-1].line_index == s.notes[0].line_index
            if same_line and s.start_s - prev.end_s < PHRASE_GAP_S:
                out[-1].append(s)
                continue
        out.append([s])
    return out


def melisma_counts(syllables: int, notes: int) -> list[int]:
    """How many of ``notes`` (>= ``syllables`` > 0) each syllable is sung on: one each, the
    extra notes held by the last syllables (melismas), spread from the line's end backwards."""
    counts = [1] * syllables
    for e in range(notes - syllables):
        counts[syllables - 1 - (e % syllables)] += 1
    return counts


def notes_for_line(line, starts_s: Sequence[float], durations_s: Sequence[float],
                   pitches: Sequence[int], line_index: int = 0,
                   continues: Sequence[bool] | None = None) -> list[SungNote]:
    """Put a parsed lyric line (:class:`ainur_cli.compose.lyrics.LyricLine`) on notes.

    ``continues`` (one flag per note, optional): True where a note continues the syllable
    before it (a melisma). When the other notes are as many as the syllables, the first
    note, each syllable goes on them in order. Otherwise: more notes than syllables, the
    last syllables hold over the extra notes (melisma, spread from the end); fewer notes than
    syllables, the last note takes all remaining syllables' phones. Returns one
    :class:`SungNote` per given note.
    """
    if not (len(starts_s) == len(durations_s) == len(pitches)) or not starts_s:
        raise VoiceError(f"lyric line {line_index + 1}: note lists differ in length or are empty",
                         value=(len(starts_s), len(durations_s), len(pitches)))
    flat = [(w, k, s) for w in line.words for k, s in enumerate(w.syllables)]
    if not flat:
        raise VoiceError(f"lyric line {line_index + 1}: nothing singable", value=line.text,
                         allowed="words with letters or numbers")
    n_notes = len(starts_s)
    if continues is not None and len(continues) == n_notes and not continues[0] \
            and n_notes - sum(map(bool, continues)) == len(flat):
        out: list[SungNote] = []
        i = -1
        for n, more in enumerate(continues):
            i += not more
            w, k, s = flat[i]
            last = n == n_notes - 1
            out.append(SungNote(float(starts_s[n]), float(durations_s[n]), int(pitches[n]),
                                "" if more else (s.text or "-"), w.text, () if more else s.phones,
                                line_index, not more and k == 0, last))
        return out
    if len(flat) > n_notes:  # fold the tail syllables into the last note
        head, tail = flat[:n_notes - 1], flat[n_notes - 1:]
        phones = tuple(p for _, _, s in tail for p in s.phones) if all(s.phones for _, _, s in tail) else ()
        w0, k0, s0 = tail[0]
        merged = type(s0)("".join(s.text for _, _, s in tail), phones, s0.stress)
        words = []
        for w, _, _ in tail:
            if not words or words[-1] is not w:
                words.append(w)
        flat = head + [(type(w0)(" ".join(w.text for w in words), ()), k0, merged)]
    counts = melisma_counts(len(flat), n_notes)
    out: list[SungNote] = []
    i = 0
    for (w, k, s), count in zip(flat, counts):
        for m in range(count):
            syl = (s.text or "-") if m == 0 else ""
            out.append(SungNote(float(starts_s[i]), float(durations_s[i]), int(pitches[i]), syl,
                                w.text, s.phones if m == 0 else (), line_index,
                                m == 0 and k == 0, i == n_notes - 1))
            i += 1
    return out
