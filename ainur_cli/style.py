"""A style preset, validated: instruments, progressions, grooves, feel and mix.

The field reference with types, ranges and defaults is docs/presets.md; this module is its
implementation. Every error names the preset file (or the song spec, for ``style:``
overrides), line, field, value and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ainur_cli.key import ALLOWED_KEYS_TEXT, Key, parse_key
from ainur_cli.mix.settings import MixSettings, parse_mix
from ainur_cli.source import (
    Source, check_keys, expect_mapping, get_bool, get_list, get_number, get_str,
)
from ainur_cli.spec import SECTION_KINDS

ROLES = ("drums", "bass", "chords", "pad", "arp", "melody")
PATTERNS = {
    "drums": ("groove",),
    "bass": ("root", "root_fifth", "octave_pulse", "syncopated", "walking", "sub"),
    "chords": ("block", "stabs", "arpeggio", "broken", "strum", "offbeat"),
    "pad": ("sustain", "swell"),
    "arp": ("up", "updown", "random"),
    "melody": ("lead",),
}
DEFAULT_ROLE = {"drums": "drums", "bass": "bass", "lead": "melody", "keys": "chords",
                "piano": "chords", "guitar": "chords", "organ": "chords", "pad": "pad",
                "strings": "pad", "arp": "arp", "synth": "arp"}
DRUM_VOICES = {"kick": 36, "snare": 38, "clap": 39, "rim": 37, "hat": 42, "pedal_hat": 44,
               "open_hat": 46, "ride": 51, "crash": 49, "shaker": 70, "tambourine": 54,
               "cowbell": 56, "tom_low": 45, "tom_mid": 47, "tom_high": 50, "conga": 63}
ENERGY_LEVELS = ("low", "mid", "high")
STEP_CHARS = "Xxo."
_ROMAN = re.compile(r"^(b|#)?(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
                    r"(°|o|dim|\+|aug)?(maj7|m7|7|sus2|sus4|add9|6|9)?$")


@dataclass(frozen=True)
class PartStyle:
    """One part: GM ``program``, ``role`` (see ROLES), ``pattern``, ``octave`` of its
    register (MIDI octave: 4 = middle C), ``velocity`` 1..127, ``min_energy``: the part plays
    only in sections with at least this energy."""

    name: str
    role: str
    program: int
    pattern: str
    octave: int
    velocity: int
    min_energy: float

    @property
    def is_drums(self) -> bool:
        return self.role == "drums"

    def describe(self) -> str:
        from ainur_cli.compose.gm import program_name

        return "GM drum kit" if self.is_drums else f"{program_name(self.program)} ({self.pattern})"


@dataclass(frozen=True)
class Style:
    """A validated preset (see docs/presets.md)."""

    description: str
    tempo_bpm: float
    key: Key
    swing: float
    swing_unit: int
    humanize_ms: float
    humanize_velocity: int
    parts: dict
    progressions: dict
    grooves: dict
    fills: bool
    hook: bool
    vocals: dict = field(default_factory=dict)
    mix: MixSettings = MixSettings()

    def progression(self, kind: str) -> tuple[tuple[str, ...], ...]:
        return self.progressions.get(kind) or self.progressions["default"]


def parse_chord_symbol(text: str) -> re.Match | None:
    """Match a roman-numeral chord: b/# + I..VII (case = quality) + °/+ + 7/maj7/sus2/sus4/add9/6/9."""
    return _ROMAN.match(text)


TOP = ("description", "tempo_bpm", "key", "swing", "swing_unit", "humanize", "parts",
       "progressions", "drums", "hook", "vocals", "mix")


def parse_style(raw: dict, src: Source) -> Style:
    """Validate a preset mapping (merged with any spec overrides)."""
    check_keys(raw, TOP, src, ())
    description = get_str(raw, "description", src, (), max_len=300)
    tempo = get_number(raw, "tempo_bpm", src, (), default=110.0, lo=0, hi=400, lo_open=True)
    key_text = get_str(raw, "key", src, (), default="C major")
    try:
        key = parse_key(key_text)
    except ValueError:
        raise src.error(("key",), "is not a key name", key_text, ALLOWED_KEYS_TEXT) from None
    swing = get_number(raw, "swing", src, (), default=0.0, lo=0, hi=0.75)
    swing_unit = get_number(raw, "swing_unit", src, (), default=8, integer=True)
    if swing_unit not in (8, 16):
        raise src.error(("swing_unit",), "must be 8 or 16", swing_unit, "8 or 16")
    hum = expect_mapping(raw.get("humanize"), src, ("humanize",))
    check_keys(hum, ("timing_ms", "velocity"), src, ("humanize",))
    humanize_ms = get_number(hum, "timing_ms", src, ("humanize",), default=0.0, lo=0, hi=40)
    humanize_vel = get_number(hum, "velocity", src, ("humanize",), default=0, lo=0, hi=40, integer=True)
    parts = _parse_parts(raw, src)
    progressions = _parse_progressions(raw, src)
    grooves, fills = _parse_drums(raw, src)
    hook = get_bool(raw, "hook", src, (), default=False)
    vocals = expect_mapping(raw.get("vocals"), src, ("vocals",))
    mix = parse_mix(raw.get("mix"), src, ("mix",))
    for name in mix.parts:
        if name not in parts and name != "vocals":
            raise src.error(("mix", "parts", name), "mixes a part the preset does not have", name,
                            ", ".join(parts))
    return Style(description, tempo, key, swing, swing_unit, humanize_ms, humanize_vel, parts,
                 progressions, grooves, fills, hook, vocals, mix)


def _parse_parts(raw: dict, src: Source) -> dict:
    p = ("parts",)
    items = expect_mapping(raw.get("parts"), src, p)
    if not items:
        raise src.error(p, "is required", allowed="drums, bass, keys/pad/guitar, lead ...")
    parts = {}
    for name, body in items.items():
        pp = p + (name,)
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", str(name)) or name == "mix" or name == "vocals":
            raise src.error(pp, "is not a valid part name", name,
                            "lower-case letters, digits, - and _ (not 'mix' or 'vocals')")
        body = expect_mapping(body, src, pp)
        check_keys(body, ("role", "program", "pattern", "octave", "velocity", "min_energy"), src, pp)
        default_role = DEFAULT_ROLE.get(name.split("_")[0].split("-")[0], None)
        role = get_str(body, "role", src, pp, default=default_role, choices=ROLES)
        if role is None:
            raise src.error(pp + ("role",), "is required for this part name", allowed=", ".join(ROLES))
        program = get_number(body, "program", src, pp, default=0, lo=0, hi=127, integer=True)
        pattern = get_str(body, "pattern", src, pp, default=PATTERNS[role][0], choices=PATTERNS[role])
        octave = get_number(body, "octave", src, pp, default={"bass": 2, "melody": 4}.get(role, 4),
                            lo=0, hi=8, integer=True)
        velocity = get_number(body, "velocity", src, pp, default=90, lo=1, hi=127, integer=True)
        min_energy = get_number(body, "min_energy", src, pp, default=0.0, lo=0, hi=1)
        parts[name] = PartStyle(name, role, program, pattern, octave, velocity, min_energy)
    roles = [ps.role for ps in parts.values()]
    for needed in ("drums", "bass", "melody"):
        if roles.count(needed) != 1:
            raise src.error(p, f"needs exactly one part with role {needed}", roles,
                            "one drums, one bass, one melody (lead) part, plus chords/pad/arp parts")
    if not any(r in ("chords", "pad") for r in roles):
        raise src.error(p, "needs at least one chords or pad part (keys, guitar, pad...)", roles)
    return parts


def _parse_progressions(raw: dict, src: Source) -> dict:
    p = ("progressions",)
    items = expect_mapping(raw.get("progressions"), src, p)
    if "default" not in items:
        raise src.error(p + ("default",), "is required", allowed="a list of bars of roman numerals")
    out = {}
    for kind, bars in items.items():
        kp = p + (kind,)
        if kind != "default" and kind not in SECTION_KINDS:
            raise src.error(kp, "is not a section type", kind, "default, " + ", ".join(SECTION_KINDS))
        if not isinstance(bars, list) or not bars or len(bars) > 64:
            raise src.error(kp, "must be a list of 1..64 bars", bars, 'e.g. [i, VI, III, "VII v"]')
        parsed = []
        for i, bar in enumerate(bars):
            chords = str(bar).split()
            if not chords or len(chords) > 4:
                raise src.error(kp + (i,), "a bar holds 1..4 chords", bar, 'e.g. "IV V"')
            for c in chords:
                if not parse_chord_symbol(c):
                    raise src.error(kp + (i,), "is not a roman-numeral chord", c,
                                    "b/# + I..VII (upper case major, lower case minor) + optional "
                                    "°, +, 7, maj7, m7, sus2, sus4, add9, 6, 9 — e.g. i, bVII, V7, iv")
            parsed.append(tuple(chords))
        out[kind] = tuple(parsed)
    return out


def _parse_drums(raw: dict, src: Source) -> tuple[dict, bool]:
    p = ("drums",)
    d = expect_mapping(raw.get("drums"), src, p)
    check_keys(d, ("grooves", "fills"), src, p)
    fills = get_bool(d, "fills", src, p, default=True)
    g = expect_mapping(d.get("grooves"), src, p + ("grooves",))
    grooves = {}
    for level in ENERGY_LEVELS:
        lp = p + ("grooves", level)
        if level not in g:
            raise src.error(lp, "is required", allowed="a mapping of drum voice → step string")
        voices = expect_mapping(g[level], src, lp)
        check_keys(voices, DRUM_VOICES, src, lp)
        steps = {}
        for voice, pattern in voices.items():
            if not isinstance(pattern, str) or not pattern.replace(" ", "") or \
                    any(ch not in STEP_CHARS for ch in pattern.replace(" ", "")) or \
                    len(pattern.replace(" ", "")) > 64:
                raise src.error(lp + (voice,), "is not a step string", pattern,
                                "1..64 of X (accent) x (hit) o (ghost) . (rest), e.g. 'x...x...'")
            steps[voice] = pattern.replace(" ", "")
        grooves[level] = steps
    for level in ENERGY_LEVELS:
        if not grooves[level]:
            raise src.error(p + ("grooves", level), "needs at least one drum voice",
                            allowed=", ".join(DRUM_VOICES))
    return grooves, fills
