"""A style preset, validated: instruments, progressions, drum grooves, feel, hook and mix.

docs/presets.md is the field reference (types, ranges, defaults); this module implements it.
Every error is raised through the preset's :class:`~ainur_cli.source.Source`, so it names the
file (the preset, or the song spec for ``style:`` overrides), line, field, value and what is
allowed. Validation is pure Python: it does not import numpy or the composer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ainur_cli.compose.roman import (
    ALLOWED_CHORD_TEXT, MAX_BARS, ChordSlot, parse_bar, split_progression,
)
from ainur_cli.key import ALLOWED_KEYS_TEXT, Key, parse_key
from ainur_cli.mix.settings import SINGER_PREFIX, VOCALS_PART, MixSettings, parse_mix
from ainur_cli.source import (
    Source, check_keys, expect_mapping, get_bool, get_list, get_number, get_str,
)
from ainur_cli.spec import SECTION_KINDS

ROLES = ("drums", "bass", "chords", "pad", "arp", "melody")
PATTERNS: dict[str, tuple[str, ...]] = {
    "drums": ("groove",),
    "bass": ("root", "root_fifth", "walking", "eighths", "octave", "offbeat", "syncopated", "kick", "sub"),
    "chords": ("block", "pulse", "stabs", "offbeat", "broken", "arpeggio", "strum", "power", "comp"),
    "pad": ("sustain", "swell"),
    "arp": ("up", "down", "updown", "random"),
    "melody": ("lead",),
}
PATTERN_ALIASES = {"octave_pulse": "octave"}
#: Role of a part when the preset does not say (by part name).
DEFAULT_ROLE = {
    "drums": "drums", "bass": "bass", "lead": "melody", "keys": "chords", "piano": "chords",
    "guitar": "chords", "organ": "chords", "rhodes": "chords", "brass": "chords",
    "pad": "pad", "strings": "pad", "choir": "pad", "arp": "arp", "synth": "arp", "pluck": "arp",
}
ROLE_DEFAULTS = {  # role → (octave, velocity)
    "drums": (3, 100), "bass": (2, 96), "chords": (4, 80), "pad": (4, 64), "arp": (5, 72),
    "melody": (4, 96),
}
FIXED_ROLES = {"drums": "drums", "bass": "bass", "lead": "melody"}
HARMONY_PARTS = ("keys", "pad", "guitar")
RESERVED_NAMES = ("vocals", "mix", "song", "master")
MAX_PARTS = 15
DRUM_VOICES = {
    "kick": 36, "snare": 38, "rim": 37, "clap": 39, "hat": 42, "pedal_hat": 44, "open_hat": 46,
    "crash": 49, "ride": 51, "ride_bell": 53, "tambourine": 54, "cowbell": 56, "tom_low": 45,
    "tom_mid": 47, "tom_high": 50, "conga_high": 62, "conga": 63, "conga_low": 64,
    "timbale": 65, "shaker": 70, "claves": 75, "woodblock": 76, "triangle": 81,
}
ENERGY_LEVELS = ("low", "mid", "high")
STEP_CHARS = "Xxo."
MAX_STEPS = 64
HOOK_SECTIONS = ("intro", "instrumental", "solo", "drop", "post-chorus")
_METER = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")


@dataclass(frozen=True)
class PartStyle:
    """One part (= one stem) of a style.

    :param role: what it plays (see ROLES); :param program: GM program 0..127 (drums: kit 0).
    :param pattern: how it plays (see PATTERNS[role]); :param octave: MIDI octave of its
        register (4 = middle C's octave); :param velocity: base MIDI velocity 1..127.
    :param min_energy: plays only in sections with at least this energy (0..1).
    :param sections: section kinds it plays in (empty = all).
    :param rate: subdivision 8 or 16 for pulse/arpeggio/arp/octave patterns (0 = pattern default).
    :param hook: True for the part that plays the instrumental hook.
    """

    name: str
    role: str
    program: int
    pattern: str
    octave: int
    velocity: int
    min_energy: float = 0.0
    sections: tuple[str, ...] = ()
    rate: int = 0
    hook: bool = False

    @property
    def is_drums(self) -> bool:
        return self.role == "drums"

    def plays_in(self, section) -> bool:
        """Whether the part plays in a section (by its energy and kind)."""
        return section.energy >= self.min_energy - 1e-9 and (
            not self.sections or section.kind in self.sections)

    def describe(self) -> str:
        from ainur_cli.compose.gm import program_name

        return "GM drum kit" if self.is_drums else f"{program_name(self.program)} ({self.pattern})"


@dataclass(frozen=True)
class Humanize:
    """Random feel from the seed: onsets move up to ``timing_ms`` (0..40 ms), velocities up
    to ``velocity`` (0..40) either way."""

    timing_ms: float = 0.0
    velocity: int = 0


@dataclass(frozen=True)
class DrumStyle:
    """Drum grooves per energy level (low/mid/high) as step strings per voice.

    ``grooves[level][voice]`` is a tuple of bars, each a step string of ``X`` accent, ``x``
    hit, ``o`` ghost, ``.`` rest that spans one bar of ``meter``; ``meters[(n, d)]`` holds
    grooves written for other time signatures.
    """

    grooves: Mapping[str, Mapping[str, tuple[str, ...]]]
    meter: tuple[int, int] = (4, 4)
    meters: Mapping[tuple[int, int], Mapping[str, Mapping[str, tuple[str, ...]]]] = \
        field(default_factory=dict)
    fills: bool = True
    crash: bool = True


@dataclass(frozen=True)
class HookStyle:
    """An instrumental hook: ``part`` plays a ``bars``-bar motif (the chorus's opening
    melody, or one made from the seed) in lyric-less sections of the kinds ``sections``."""

    part: str = "lead"
    sections: tuple[str, ...] = HOOK_SECTIONS
    bars: int = 2


@dataclass(frozen=True)
class Style:
    """A validated preset (see docs/presets.md).

    ``tempo_bpm``, ``key`` and ``time_signature`` are the song's defaults when its spec gives
    none (``time_signature`` None = the preset does not care). ``parts`` keeps the preset's
    order (= stem order); ``progressions`` maps a section kind (or ``default``) to bars of
    :class:`~ainur_cli.compose.roman.ChordSlot`; ``vocals`` is passed to the singing voice
    unvalidated. Treat the mappings as read-only.
    """

    description: str
    tempo_bpm: float
    key: Key
    time_signature: tuple[int, int] | None
    swing: float
    swing_unit: int
    humanize: Humanize
    parts: Mapping[str, PartStyle]
    progressions: Mapping[str, tuple[tuple[ChordSlot, ...], ...]]
    drums: DrumStyle
    hook: HookStyle | None = None
    vocals: Mapping[str, Any] = field(default_factory=dict)
    mix: MixSettings = MixSettings()

    def progression(self, kind: str) -> tuple[tuple[ChordSlot, ...], ...]:
        """The progression for a section kind (``default`` when the preset has none)."""
        return self.progressions.get(kind) or self.progressions["default"]

    @property
    def lead(self) -> PartStyle:
        return self.parts["lead"]

    @property
    def swing_unit_beats(self) -> float:
        """The swung note in quarter-note beats: an eighth (0.5) or a sixteenth (0.25)."""
        return 0.5 if self.swing_unit == 8 else 0.25


TOP = ("description", "tempo_bpm", "key", "time_signature", "swing", "swing_unit", "humanize",
       "parts", "progressions", "drums", "hook", "vocals", "mix")


def parse_style(raw: dict, src: Source) -> Style:
    """Validate a preset mapping (already merged with the song's ``style:`` overrides)."""
    raw = expect_mapping(raw, src, ())
    check_keys(raw, TOP, src, ())
    description = get_str(raw, "description", src, (), max_len=300)
    tempo = get_number(raw, "tempo_bpm", src, (), default=110.0, lo=0, hi=400, lo_open=True)
    key_text = get_str(raw, "key", src, (), default="C major")
    try:
        key = parse_key(key_text)
    except ValueError:
        raise src.error(("key",), "is not a key name", key_text, ALLOWED_KEYS_TEXT) from None
    time_signature = None
    if raw.get("time_signature") is not None:
        text = raw["time_signature"]
        time_signature = parse_meter_text(text) if isinstance(text, str) else None
        if time_signature is None:
            raise src.error(("time_signature",), "is not a time signature", text,
                            'n/d in quotes with d one of 1, 2, 4, 8, 16, 32, e.g. "3/4"')
    swing = get_number(raw, "swing", src, (), default=0.0, lo=0, hi=0.75)
    swing_unit = get_number(raw, "swing_unit", src, (), default=8, integer=True)
    if swing_unit not in (8, 16):
        raise src.error(("swing_unit",), "must be 8 or 16", swing_unit,
                        "8 (eighths) or 16 (sixteenths)")
    hum = expect_mapping(raw.get("humanize"), src, ("humanize",))
    check_keys(hum, ("timing_ms", "velocity"), src, ("humanize",))
    humanize = Humanize(
        get_number(hum, "timing_ms", src, ("humanize",), default=0.0, lo=0, hi=40),
        get_number(hum, "velocity", src, ("humanize",), default=0, lo=0, hi=40, integer=True))
    parts = _parse_parts(raw, src)
    hook = _parse_hook(raw, src, parts)
    if hook is not None:
        parts[hook.part] = _with_hook(parts[hook.part])
    progressions = _parse_progressions(raw, src)
    drums = _parse_drums(raw, src)
    vocals = expect_mapping(raw.get("vocals"), src, ("vocals",))
    mix = parse_mix(raw.get("mix"), src, ("mix",))
    for name in mix.parts:
        if name.startswith(SINGER_PREFIX):
            _check_singer_strip(name, src)
        elif name not in parts and name != VOCALS_PART:
            raise src.error(("mix", "parts", name), "mixes a part the preset does not have", name,
                            ", ".join([*parts, VOCALS_PART, SINGER_PREFIX + "<voice>"]))
    return Style(description, tempo, key, time_signature, swing, swing_unit, humanize, parts,
                 progressions, drums, hook, dict(vocals), mix)


def _check_singer_strip(name: str, src: Source) -> None:
    """``mix.parts.vocals-<voice>`` must name one of the voices (loaded only when asked)."""
    from ainur_cli.voice.voices import VOICES

    if name[len(SINGER_PREFIX):] not in VOICES:
        raise src.error(("mix", "parts", name), "names no voice", name,
                        ", ".join(SINGER_PREFIX + v for v in VOICES) + " (a singer's strip)")


def _with_hook(part: PartStyle) -> PartStyle:
    return replace(part, hook=True)


def _parse_parts(raw: dict, src: Source) -> dict:
    p = ("parts",)
    items = expect_mapping(raw.get("parts"), src, p)
    if not items:
        raise src.error(p, "is required", allowed="drums, bass, keys/pad/guitar and lead")
    if len(items) > MAX_PARTS:
        raise src.error(p, "has too many parts", len(items), f"at most {MAX_PARTS} (MIDI channels)")
    parts: dict[str, PartStyle] = {}
    for name, body in items.items():
        pp = p + (name,)
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name) \
                or name in RESERVED_NAMES or name.startswith(SINGER_PREFIX):
            raise src.error(pp, "is not a valid part name", name,
                            "lower-case letters, digits, - and _, up to 32 characters, not "
                            + ", ".join(RESERVED_NAMES) + " or vocals-... (a singer's stem)")
        body = expect_mapping(body, src, pp)
        check_keys(body, ("role", "program", "pattern", "octave", "velocity", "min_energy",
                          "sections", "rate"), src, pp)
        parts[name] = _parse_part(name, body, src, pp)
    for name, role in FIXED_ROLES.items():
        if name not in parts:
            raise src.error(p, f"needs a part named '{name}'", list(parts),
                            "drums, bass, lead and at least one of keys, pad, guitar")
    if not any(n in parts for n in HARMONY_PARTS):
        raise src.error(p, "needs at least one of keys, pad, guitar", list(parts),
                        "drums, bass, lead and at least one of keys, pad, guitar")
    return parts


def _parse_part(name: str, body: dict, src: Source, pp: tuple) -> PartStyle:
    fixed = FIXED_ROLES.get(name)
    allowed_roles = (fixed,) if fixed else ("chords", "pad", "arp")
    default_role = fixed or DEFAULT_ROLE.get(re.split(r"[-_\d]", name)[0])
    role = get_str(body, "role", src, pp, default=default_role, choices=allowed_roles)
    if role is None:
        raise src.error(pp + ("role",), "is required for this part name", allowed=", ".join(allowed_roles))
    program = get_number(body, "program", src, pp, default=0, lo=0, hi=127, integer=True)
    pattern = body.get("pattern")
    if isinstance(pattern, str) and pattern.strip().lower() in PATTERN_ALIASES:
        body = {**body, "pattern": PATTERN_ALIASES[pattern.strip().lower()]}
    pattern = get_str(body, "pattern", src, pp, default=PATTERNS[role][0], choices=PATTERNS[role])
    octave_default, velocity_default = ROLE_DEFAULTS[role]
    octave = get_number(body, "octave", src, pp, default=octave_default, lo=1, hi=7, integer=True)
    velocity = get_number(body, "velocity", src, pp, default=velocity_default, lo=1, hi=127, integer=True)
    min_energy = get_number(body, "min_energy", src, pp, default=0.0, lo=0, hi=1)
    kinds = get_list(body, "sections", src, pp, default=[], max_len=len(SECTION_KINDS))
    for i, k in enumerate(kinds):
        if k not in SECTION_KINDS:
            raise src.error(pp + ("sections", i), "is not a section type", k, ", ".join(SECTION_KINDS))
    rate = get_number(body, "rate", src, pp, default=0, integer=True)
    if rate not in (0, 8, 16):
        raise src.error(pp + ("rate",), "must be 8 or 16", rate, "8 (eighths) or 16 (sixteenths)")
    return PartStyle(name, role, program, pattern, octave, velocity, min_energy, tuple(kinds), rate)


def _parse_hook(raw: dict, src: Source, parts: dict) -> HookStyle | None:
    p = ("hook",)
    value = raw.get("hook")
    if value is None or value is False:
        return None
    if value is True:
        return HookStyle()
    body = expect_mapping(value, src, p, "true, false, or a mapping {part, sections, bars}")
    check_keys(body, ("part", "sections", "bars"), src, p)
    candidates = [n for n, ps in parts.items() if ps.role in ("melody", "chords", "arp")]
    part = get_str(body, "part", src, p, default="lead", choices=candidates)
    kinds = get_list(body, "sections", src, p, default=list(HOOK_SECTIONS), min_len=1,
                     max_len=len(SECTION_KINDS))
    for i, k in enumerate(kinds):
        if k not in SECTION_KINDS:
            raise src.error(p + ("sections", i), "is not a section type", k, ", ".join(SECTION_KINDS))
    bars = get_number(body, "bars", src, p, default=2, integer=True)
    if bars not in (1, 2, 4):
        raise src.error(p + ("bars",), "must be 1, 2 or 4", bars, "1, 2 or 4 bars")
    return HookStyle(part, tuple(kinds), bars)


def _parse_progressions(raw: dict, src: Source) -> dict:
    p = ("progressions",)
    items = expect_mapping(raw.get("progressions"), src, p)
    if "default" not in items:
        raise src.error(p + ("default",), "is required", allowed="a list of bars of roman numerals")
    out = {}
    for kind, value in items.items():
        kp = p + (kind,)
        if kind != "default" and kind not in SECTION_KINDS:
            raise src.error(kp, "is not a section type", kind, "default, " + ", ".join(SECTION_KINDS))
        if not isinstance(value, (list, str)):
            raise src.error(kp, "must be a list of bars or a string with | between bars", value,
                            'e.g. [vi, IV, I, V] or "vi IV | I V"')
        bars = split_progression(value)
        if not 1 <= len(bars) <= MAX_BARS:
            raise src.error(kp, "must have 1..64 bars", len(bars), "1..64 bars")
        parsed = []
        for i, bar in enumerate(bars):
            path = kp + (i,) if isinstance(value, list) else kp
            where = "" if isinstance(value, list) else f"bar {i + 1}: "
            try:
                parsed.append(parse_bar(bar))
            except ValueError as e:
                allowed = ALLOWED_CHORD_TEXT + '; a bar: up to 8 chords, "." holds, "%" repeats'
                raise src.error(path, f"{where}is not a valid bar of chords ({e})", bar, allowed) from None
        out[kind] = tuple(parsed)
    return out


def parse_meter_text(text: Any) -> tuple[int, int] | None:
    """``"6/8"`` → ``(6, 8)``; None when not a time signature."""
    m = _METER.match(str(text))
    if not m:
        return None
    n, d = int(m[1]), int(m[2])
    if not 1 <= n <= 32 or d not in (1, 2, 4, 8, 16, 32):
        return None
    return n, d


def _parse_drums(raw: dict, src: Source) -> DrumStyle:
    p = ("drums",)
    d = expect_mapping(raw.get("drums"), src, p)
    check_keys(d, ("grooves", "meter", "meters", "fills", "crash"), src, p)
    fills = get_bool(d, "fills", src, p, default=True)
    crash = get_bool(d, "crash", src, p, default=True)
    meter_text = get_str(d, "meter", src, p, default="4/4")
    meter = parse_meter_text(meter_text)
    if meter is None:
        raise src.error(p + ("meter",), "is not a time signature", meter_text, "n/d, e.g. 4/4, 3/4, 6/8")
    grooves = _parse_levels(d.get("grooves"), src, p + ("grooves",))
    meters = {}
    extra = expect_mapping(d.get("meters"), src, p + ("meters",), "a mapping of time signature → grooves")
    for text, levels in extra.items():
        m = parse_meter_text(text)
        if m is None:
            raise src.error(p + ("meters", text), "is not a time signature", text, 'n/d in quotes, e.g. "6/8"')
        meters[m] = _parse_levels(levels, src, p + ("meters", text))
    return DrumStyle(grooves, meter, meters, fills, crash)


def _parse_levels(value: Any, src: Source, p: tuple) -> dict:
    g = expect_mapping(value, src, p)
    check_keys(g, ENERGY_LEVELS, src, p)
    out = {}
    for level in ENERGY_LEVELS:
        lp = p + (level,)
        if level not in g:
            raise src.error(lp, "is required", allowed="a mapping of drum voice → step string")
        voices = expect_mapping(g[level], src, lp)
        check_keys(voices, DRUM_VOICES, src, lp)
        if not voices:
            raise src.error(lp, "needs at least one drum voice", allowed=", ".join(DRUM_VOICES))
        out[level] = {voice: _parse_steps(pattern, src, lp + (voice,)) for voice, pattern in voices.items()}
    return out


def _parse_steps(pattern: Any, src: Source, path: tuple) -> tuple[str, ...]:
    allowed = ("1..64 steps per bar of X (accent) x (hit) o (ghost) . (rest); spaces ignored; "
               "| starts the next bar — e.g. 'x...x...x...x...'")
    if not isinstance(pattern, str):
        raise src.error(path, "is not a step string", pattern, allowed)
    bars = [b.replace(" ", "") for b in pattern.split("|")]
    for b in bars:
        bad = [c for c in b if c not in STEP_CHARS]
        if not b or len(b) > MAX_STEPS or bad:
            raise src.error(path, "is not a step string" + (f" (bad character {bad[0]!r})" if bad else ""),
                            pattern, allowed)
    return tuple(bars)
