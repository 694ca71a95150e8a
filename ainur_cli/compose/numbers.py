"""Numbers in lyrics, spelled out as they are sung: "21" → "twenty one", "3rd" → "third".

Four-digit numbers that read like years (1100–1999 except whole hundreds, 2010–2099) are
spelled as years ("1999" → "nineteen ninety nine"); others as cardinals. Numbers of a million
and more are read digit by digit.
"""

from __future__ import annotations

import re

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}
NUMBER_TOKEN = re.compile(r"^(\d+)(st|nd|rd|th)?$", re.IGNORECASE)


def spell_number(n: int) -> str:
    """A cardinal 0..999 999 in words; larger numbers digit by digit."""
    if n < 0:
        return "minus " + spell_number(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + spell_number(rest))
    if n < 1_000_000:
        rest = n % 1000
        return spell_number(n // 1000) + " thousand" + ("" if rest == 0 else " " + spell_number(rest))
    return " ".join(ONES[int(d)] for d in str(n))


def spell_year(n: int) -> str:
    """1999 → "nineteen ninety nine", 1905 → "nineteen oh five", 2024 → "twenty twenty four"."""
    hi, lo = divmod(n, 100)
    tail = spell_number(lo) if lo >= 10 else "oh " + ONES[lo]
    return spell_number(hi) + " " + tail


def _is_year(n: int) -> bool:
    return (1100 <= n <= 1999 and n % 100 != 0) or 2010 <= n <= 2099


def ordinal(words: str) -> str:
    """Make the last word of a spelled cardinal ordinal: "twenty one" → "twenty first"."""
    parts = words.split()
    last = parts[-1]
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join(parts[:-1] + [last])


def number_words(token: str) -> list[str]:
    """A digit token ("21", "1999", "3rd") → the words sung; ``[]`` if it is not a number."""
    m = NUMBER_TOKEN.match(token)
    if not m:
        return []
    digits, suffix = m.groups()
    if len(digits) > 12:
        return [ONES[int(d)] for d in digits]
    n = int(digits)
    if suffix:
        return ordinal(spell_number(n)).split()
    if len(digits) == 4 and _is_year(n):
        return spell_year(n).split()
    if len(digits) > 1 and digits.startswith("0"):
        return [ONES[int(d)] if d != "0" else "oh" for d in digits]
    return spell_number(n).split()
