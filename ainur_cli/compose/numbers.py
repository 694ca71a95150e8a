"""Numbers in lyrics, spelled out as they are sung: "21" → "twenty one", "3rd" → "third".

Four-digit numbers that read like years (1100–1999 except whole hundreds, 2010–2099) are
spelled as years ("1999" → "nineteen ninety nine"); others as cardinals. Numbers of a million
and more are read digit by digit ("8675309"), unless written with thousands separators
("1,000,000" → "one million"). :func:`amount_words` reads what surrounds a number: decimals
("3.14" → "three point one four"), money ("$5" → "five dollars"), per cent, degrees, "#1"
("number one") and decades ("90s" → "nineties", "1960s" → "nineteen sixties").
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
    """A cardinal 0..999 999 in words; larger numbers digit by digit (0 as "oh")."""
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
    return " ".join(_digits(str(n)))


def _digits(digits: str) -> list[str]:
    """Digit by digit, as a phone number is sung: "8675309" → eight six seven five three oh
    nine."""
    return [ONES[int(d)] if int(d) else "oh" for d in digits]


def spell_grouped(n: int) -> str:
    """A cardinal written with thousands separators, up to 999 999 999 999: "one million two
    hundred thousand" (:func:`spell_number` reads an unseparated long number digit by digit,
    as a phone number is sung)."""
    parts = []
    for size, name in ((10 ** 9, "billion"), (10 ** 6, "million")):
        if n >= size:
            parts.append(f"{spell_number(n // size)} {name}")
            n %= size
    if n or not parts:
        parts.append(spell_number(n))
    return " ".join(parts)


def spell_year(n: int) -> str:
    """1999 → "nineteen ninety nine", 1905 → "nineteen oh five", 2024 → "twenty twenty four",
    1900 → "nineteen hundred"."""
    hi, lo = divmod(n, 100)
    tail = spell_number(lo) if lo >= 10 else "oh " + ONES[lo] if lo else "hundred"
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


def plural(words: str) -> str:
    """The plural of a spelled number's last word: "ninety" → "nineties", "six" → "sixes"."""
    parts = words.split()
    last = parts[-1]
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "s")):
        last += "es"
    else:
        last += "s"
    return " ".join(parts[:-1] + [last])


CURRENCIES = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
              "¥": ("yen", "yen")}
#: Vulgar fractions as sung (other fractions are read digit by digit after NFKC: "1⁄7").
FRACTIONS = {"½": "a half", "⅓": "a third", "⅔": "two thirds", "¼": "a quarter",
             "¾": "three quarters"}


def _whole_words(whole: str) -> list[str]:
    """A whole number, thousands separators allowed: "10,000" → ten thousand; over twelve
    digits digit by digit (as :func:`number_words`)."""
    digits = whole.replace(",", "")
    return _digits(digits) if len(digits) > 12 else spell_grouped(int(digits)).split()


def _decimal_words(whole: str, fraction: str) -> list[str]:
    """ "3", "14" → three point one four."""
    return _whole_words(whole) + ["point"] + [ONES[int(d)] for d in fraction]


def amount_words(kind: str, number: str, sign: str = "") -> list[str]:
    """A number with what makes it an amount, as sung.

    :param kind: ``"decimal"`` (a decimal or separated number: "3.14", "10,000"), ``"money"``
        (``sign`` a key of :data:`CURRENCIES`, ``number`` "5" or "3.50"), ``"percent"``,
        ``"degrees"``, ``"hash"`` ("#1" → number one) or ``"decade"`` ("90", "1960": the
        decade's plural).
    """
    whole, _, fraction = number.partition(".")
    if kind == "decade":
        n = int(whole)
        year = len(whole) == 4 and (1100 <= n <= 1999 or _is_year(n))  # the 1900s, 2010s
        return plural(spell_year(n) if year else spell_number(n)).split()
    if kind == "money":
        one, many = CURRENCIES[sign]
        words = _whole_words(whole)
        words.append(one if words == ["one"] else many)
        cents = int((fraction + "00")[:2]) if fraction else 0
        if words[0] == "zero" and cents:  # "$0.99" → ninety nine cents
            small = {"$": ("cent", "cents"), "€": ("cent", "cents"), "£": ("penny", "pence")}
            unit = small.get(sign)
            return spell_number(cents).split() + ([unit[cents != 1]] if unit else [])
        return words + (spell_number(cents).split() if cents else [])
    said = _decimal_words(whole, fraction) if fraction else _whole_words(whole)
    if kind == "percent":
        return said + ["percent"]
    if kind == "degrees":
        return said + ["degree" if said == ["one"] else "degrees"]
    if kind == "hash":
        return ["number"] + said
    return said


def number_words(token: str) -> list[str]:
    """A digit token ("21", "1999", "3rd") → the words sung; ``[]`` if it is not a number."""
    m = NUMBER_TOKEN.match(token)
    if not m:
        return []
    digits, suffix = m.groups()
    if len(digits) > 12:
        return _digits(digits)
    n = int(digits)
    if suffix:
        return ordinal(spell_number(n)).split()
    if len(digits) == 4 and _is_year(n):
        return spell_year(n).split()
    if len(digits) > 1 and digits.startswith("0"):
        return _digits(digits)
    return spell_number(n).split()
