"""What singing needs from phonemes: espeak mnemonics, classes, and onset/nucleus/coda.

The synthesis units are espeak-ng's English mnemonics (``"aI"``, ``"tS"``, ``"3:"``...), so a
pronunciation from cmudict (ARPAbet) and one from espeak-ng's own phonemiser end up in the same
alphabet. Words come from the notes' ARPAbet when given, else from cmudict through
:mod:`ainur_cli.compose.lyrics`, else from espeak-ng (numbers, names, non-ASCII letters).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ainur_cli.compose.lyrics import sung_spelling
from ainur_cli.compose.pronounce import lookup
from ainur_cli.voice.espeak import word_phonemes

# ARPAbet (no stress digits) → espeak-ng en-us mnemonic.
ARPABET_TO_ESPEAK = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "ER": "3:",
    "EY": "eI", "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:",
    "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ",
    "K": "k", "L": "l", "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S",
    "T": "t", "TH": "T", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}
UNSTRESSED_AH = "@"

_VOWEL_START = set("aeiouAEIOUV03@")
DIPHTHONGS = {"aI", "aU", "OI", "eI", "oU", "aI@", "aU@", "e@", "i@", "U@", "o@", "A@", "O@", "I@"}
SONORANTS = {"m", "n", "N", "l", "r", "w", "j"}
VOICED_OBSTRUENTS = {"b", "d", "g", "v", "D", "z", "Z", "dZ"}
ONSET_CLUSTERS = {
    ("p", "r"), ("p", "l"), ("b", "r"), ("b", "l"), ("t", "r"), ("d", "r"), ("k", "r"),
    ("k", "l"), ("g", "r"), ("g", "l"), ("f", "r"), ("f", "l"), ("T", "r"), ("S", "r"),
    ("s", "p"), ("s", "t"), ("s", "k"), ("s", "m"), ("s", "n"), ("s", "l"), ("s", "w"),
    ("t", "w"), ("d", "w"), ("k", "w"), ("g", "w"), ("s", "p", "r"), ("s", "t", "r"),
    ("s", "k", "r"), ("s", "p", "l"), ("s", "k", "w"), ("p", "j"), ("b", "j"), ("f", "j"),
    ("m", "j"), ("k", "j"), ("h", "j"), ("v", "j"), ("n", "j"),
}


def base(phone: str) -> str:
    """A mnemonic without stress marks: ``"'aI"`` → ``"aI"``."""
    return phone.lstrip("',%=")


def is_vowel(phone: str) -> bool:
    b = base(phone)
    return bool(b) and b[0] in _VOWEL_START


def is_voiced(phone: str) -> bool:
    b = base(phone)
    return is_vowel(b) or b in SONORANTS or b in VOICED_OBSTRUENTS or b.endswith("-")


@dataclass(frozen=True)
class SylPhones:
    """One sung syllable in espeak mnemonics: consonants before the vowel, the vowel, after.

    ``stress``: 1 primary, 2 secondary, 0 none.
    """

    onset: tuple[str, ...]
    nucleus: str
    coda: tuple[str, ...]
    stress: int = 1

    @property
    def phones(self) -> tuple[str, ...]:
        return self.onset + (self.nucleus,) + self.coda


def from_arpabet(phones: tuple[str, ...], stress: int = 1) -> tuple[str, ...]:
    """ARPAbet (stress digits allowed) → espeak mnemonics; unknown symbols are skipped."""
    out = []
    for p in phones:
        digit = p[-1] if p[-1:].isdigit() else None
        key = p.rstrip("012").upper()
        m = ARPABET_TO_ESPEAK.get(key)
        if m is None:
            continue
        s = int(digit) if digit is not None else stress
        if key == "AH" and s == 0:
            m = UNSTRESSED_AH
        out.append(m)
    return tuple(out)


def split_syllable(phones: tuple[str, ...], stress: int = 1) -> SylPhones:
    """Phones of ONE syllable → onset / nucleus / coda. Without a vowel the last sonorant is
    the nucleus; with nothing singable at all a schwa is sung."""
    bare = tuple(base(p) for p in phones if base(p))
    vowels = [i for i, p in enumerate(bare) if is_vowel(p)]
    if vowels:
        i = vowels[0]
        # Extra vowels (two syllables merged onto one note) go to the coda.
        return SylPhones(bare[:i], bare[i], bare[i + 1:], stress)
    sonorants = [i for i, p in enumerate(bare) if p in SONORANTS]
    if sonorants:
        i = sonorants[-1]
        return SylPhones(bare[:i], bare[i], bare[i + 1:], stress)
    return SylPhones(bare, "@", (), stress)


def syllabify(phones: tuple[str, ...]) -> tuple[SylPhones, ...]:
    """A word's phones (espeak mnemonics with stress marks) → syllables, maximal onset."""
    stresses = []
    bare = []
    for p in phones:
        b = base(p)
        if not b or b.startswith("_"):
            continue
        bare.append(b)
        stresses.append(1 if p.startswith("'") else 2 if p.startswith(",") else 0)
    nuclei = [i for i, p in enumerate(bare) if is_vowel(p)]
    if not nuclei:
        return (split_syllable(tuple(bare)),) if bare else ()
    bounds = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = bare[a + 1:b]
        take = 0
        for k in range(len(cluster), -1, -1):
            if k <= 1 or tuple(cluster[len(cluster) - k:]) in ONSET_CLUSTERS:
                take = k
                break
        bounds.append(b - take)
    bounds.append(len(bare))
    out = []
    for i, n in enumerate(nuclei):
        seg = tuple(bare[bounds[i]:bounds[i + 1]])
        out.append(SylPhones(seg[:n - bounds[i]], bare[n], seg[n - bounds[i] + 1:], stresses[n]))
    if len(out) == 1 and out[0].stress == 0:
        out[0] = SylPhones(out[0].onset, out[0].nucleus, out[0].coda, 1)
    return tuple(out)


def _with_stress(arpabet: tuple[str, ...]) -> tuple[str, ...]:
    """ARPAbet with digits → espeak mnemonics with stress marks (``'`` primary, ``,`` secondary)."""
    out = []
    for p in arpabet:
        (m,) = from_arpabet((p,)) or ("",)
        if not m:
            continue
        digit = p[-1] if p[-1:].isdigit() else ""
        out.append(("'" if digit == "1" else "," if digit == "2" else "") + m)
    return tuple(out)


@lru_cache(maxsize=8192)
def word_syllables(word: str) -> tuple[SylPhones, ...]:
    """A word's sung syllables: cmudict first, espeak-ng's phonemiser otherwise (names,
    non-ASCII words, anything cmudict lacks). Several words may be given. A word in another
    script than Latin is read in Latin letters (:func:`ainur_cli.compose.lyrics.sung_spelling`,
    as the composer sets it)."""
    word = sung_spelling(word)
    key = word.lower().replace("\u2019", "'").strip()
    if " " in key:
        return tuple(s for w in key.split() for s in word_syllables(w))
    plain = key.strip("'") and "(" not in key   # "(" only marks cmudict's alternates
    arpa = (lookup(key) or lookup(key.strip("'"))) if plain else None
    if arpa:
        return syllabify(_with_stress(arpa))
    return syllabify(word_phonemes(word))
