"""Mix settings: a preset's ``mix:`` block, validated into frozen dataclasses.

```yaml
mix:
  parts:                      # one entry per part; a part not listed gets PartMix()
    drums: {highpass_hz: 30, compressor: {threshold_db: -16, ratio: 3}, reverb_send: 0.08}
    lead:  {gain_db: -1, pan: 0.1, eq: [{type: peak, freq_hz: 3000, gain_db: 2, q: 1.0}],
            reverb_send: 0.25, delay_send: 0.15}
  reverb: {room_size: 0.55, damping: 0.45, width: 1.0, return_db: -4, predelay_ms: 20}
  delay:  {time_beats: 0.75, feedback: 0.3, return_db: -9, highcut_hz: 5000}
  master: {eq: [{type: high_shelf, freq_hz: 9000, gain_db: 1.5}],
           glue_threshold_db: -14, glue_ratio: 1.6, limiter_release_ms: 80}
```

Every field is optional and has a default; unknown keys are errors (a typo must not be
ignored); every error names the file, line, field, bad value and the allowed range.
:data:`MIX_FIELDS_DOC` is the field reference (Markdown) for ``docs/presets.md``.

This module imports only the standard library and :mod:`ainur_cli.source`, so validating a
preset never loads numpy or scipy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ainur_cli.source import Source, check_keys, expect_mapping, get_list, get_number, get_str

EQ_TYPES = ("peak", "low_shelf", "high_shelf")
MAX_EQ_BANDS = 8


@dataclass(frozen=True)
class EqBand:
    """One EQ band (a biquad; linear and time-invariant)."""

    type: str = "peak"          # peak | low_shelf | high_shelf
    freq_hz: float = 1000.0     # centre (peak) or corner (shelf) frequency, 20..20000 Hz
    gain_db: float = 0.0        # boost (+) or cut (−), −24..24 dB
    q: float = 0.707            # bandwidth (peak) or slope (shelf), 0.1..10


@dataclass(frozen=True)
class Compressor:
    """A part's compressor (per channel, feed-forward, hard knee; see mixer/dynamics)."""

    threshold_db: float = -18.0  # −60..0 dBFS
    ratio: float = 3.0           # 1..30 (1 = no compression)
    attack_ms: float = 10.0      # 0.1..500 ms
    release_ms: float = 120.0    # 1..5000 ms


@dataclass(frozen=True)
class DeEsser:
    """A part's split-band de-esser (stereo-linked; see :mod:`ainur_cli.mix.deesser`)."""

    freq_hz: float = 6000.0     # 2000..16000 Hz: the band above this is turned down
    threshold_db: float = -14.0  # −40..0 dB: that band's level relative to the whole signal
    ratio: float = 4.0          # 1..20
    range_db: float = 9.0       # 0..24 dB: the most the band is turned down
    attack_ms: float = 1.0      # 0.1..50 ms
    release_ms: float = 30.0    # 5..1000 ms


@dataclass(frozen=True)
class PartMix:
    """One part's channel strip, in signal order: filters → EQ → de-esser → compressor →
    width → fader → pan; sends are post-fader, pre-pan (mono), and each part's returns are
    added to its stem."""

    highpass_hz: float | None = None   # 12 dB/oct high-pass corner, 10..5000 Hz; None = off
    lowpass_hz: float | None = None    # 12 dB/oct low-pass corner, 200..22000 Hz; None = off
    eq: tuple[EqBand, ...] = ()        # up to 8 bands
    deesser: DeEsser | None = None     # after the EQ, before the compressor
    compressor: Compressor | None = None
    width: float = 1.0                 # stereo width (mid/side): 0 mono, 1 as is, 2 wide
    gain_db: float = 0.0               # fader, −60..24 dB
    pan: float = 0.0                   # −1 left … 0 centre … 1 right (constant power)
    reverb_send: float = 0.0           # 0..1, linear send level to the reverb bus
    delay_send: float = 0.0            # 0..1, linear send level to the delay bus


VOCALS_PART = "vocals"  # the singing voice's stem (see ainur_cli/vocals.py)
SINGER_PREFIX = VOCALS_PART + "-"  # ``vocals-<voice>``: one singer's strip (and a duet's stem)

# The singing voice's strip: rumble cut, a little less low-mid box, air, the de-esser, a
# vocal compressor, the style's reverb and a touch of its delay. A preset's
# ``mix.parts.vocals`` starts from it: the fields it gives replace these (see parse_mix).
DEFAULT_VOCAL_CHAIN = PartMix(
    highpass_hz=110.0,
    eq=(EqBand("peak", 300.0, -2.0, 1.0), EqBand("high_shelf", 8000.0, 2.0, 0.7)),
    deesser=DeEsser(),
    compressor=Compressor(threshold_db=-20.0, ratio=3.0, attack_ms=5.0, release_ms=120.0),
    reverb_send=0.22, delay_send=0.08, gain_db=2.0,
)


@dataclass(frozen=True)
class ReverbBus:
    """The reverb bus (a seeded stereo IR, FFT convolution, 100 % wet), run on each part's send."""

    room_size: float = 0.5     # 0..1
    damping: float = 0.5       # 0..1 (high-frequency absorption)
    width: float = 1.0         # 0..1 stereo width of the return
    return_db: float = -6.0    # −60..12 dB; 0 dB ≈ the return as loud (RMS) as its send
    predelay_ms: float = 15.0  # 0..250 ms
    highpass_hz: float = 150.0  # 20..2000 Hz, filters the send (keeps low end out of the tail)


@dataclass(frozen=True)
class DelayBus:
    """The echo bus (feedback delay, 100 % wet), tempo-synced, run on each part's send."""

    time_beats: float = 0.75    # 1/16..4 beats (quarter notes); 0.75 = dotted eighth
    feedback: float = 0.3       # 0..0.95
    return_db: float = -10.0    # −60..12 dB
    highcut_hz: float = 6000.0  # 500..20000 Hz low-pass on the send (darker repeats)


@dataclass(frozen=True)
class MasterSettings:
    """The master: linear EQ (applied to every stem) and the linked dynamics (one gain curve
    computed from the mix: glue compressor, loudness gain, true-peak limiter)."""

    eq: tuple[EqBand, ...] = ()
    glue_threshold_db: float = -14.0  # −40..0 dB, on the mix pre-scaled to the target loudness
    glue_ratio: float = 1.5           # 1..10 (1 = glue off)
    glue_attack_ms: float = 30.0      # 0.1..500 ms
    glue_release_ms: float = 250.0    # 5..5000 ms
    glue_knee_db: float = 6.0         # 0..24 dB soft knee
    limiter_release_ms: float = 80.0  # 5..1000 ms
    lookahead_ms: float = 3.0         # 0.5..20 ms (also the limiter's attack ramp)
    max_limiting_db: float = 12.0     # 0..30 dB: the most gain reduction the limiter may use


@dataclass(frozen=True)
class MixSettings:
    """All mix settings of a style: per-part strips, the two send busses, the master."""

    parts: dict[str, PartMix] = field(default_factory=dict)  # part name → strip (do not mutate)
    reverb: ReverbBus = ReverbBus()
    delay: DelayBus = DelayBus()
    master: MasterSettings = MasterSettings()

    def part(self, name: str) -> PartMix:
        """The strip of part ``name`` (defaults when the preset does not list it)."""
        return self.parts.get(name, PartMix())


# -- parsing ---------------------------------------------------------------------------------

def _eq(raw: dict, key: str, src: Source, path: tuple) -> tuple[EqBand, ...]:
    items = get_list(raw, key, src, path, default=[], max_len=MAX_EQ_BANDS)
    bands = []
    for i, item in enumerate(items):
        p = path + (key, i)
        b = expect_mapping(item, src, p, "a mapping {type, freq_hz, gain_db, q}")
        check_keys(b, ("type", "freq_hz", "gain_db", "q"), src, p)
        bands.append(EqBand(
            type=get_str(b, "type", src, p, default="peak", choices=EQ_TYPES),
            freq_hz=get_number(b, "freq_hz", src, p, lo=20, hi=20000),
            gain_db=get_number(b, "gain_db", src, p, default=0.0, lo=-24, hi=24),
            q=get_number(b, "q", src, p, default=0.707, lo=0.1, hi=10),
        ))
    return tuple(bands)


def _compressor(raw: Any, src: Source, path: tuple, d: Compressor = Compressor()
                ) -> Compressor | None:
    """``null`` → off; fields left out keep ``d``'s."""
    if raw is None:
        return None
    c = expect_mapping(raw, src, path, "a mapping {threshold_db, ratio, attack_ms, release_ms}")
    check_keys(c, ("threshold_db", "ratio", "attack_ms", "release_ms"), src, path)
    return Compressor(
        threshold_db=get_number(c, "threshold_db", src, path, default=d.threshold_db, lo=-60, hi=0),
        ratio=get_number(c, "ratio", src, path, default=d.ratio, lo=1, hi=30),
        attack_ms=get_number(c, "attack_ms", src, path, default=d.attack_ms, lo=0.1, hi=500),
        release_ms=get_number(c, "release_ms", src, path, default=d.release_ms, lo=1, hi=5000),
    )


def _deesser(raw: Any, src: Source, path: tuple, d: DeEsser = DeEsser()) -> DeEsser | None:
    """``null`` → off; fields left out keep ``d``'s."""
    if raw is None:
        return None
    c = expect_mapping(raw, src, path, "a mapping {freq_hz, threshold_db, ratio, range_db, "
                                       "attack_ms, release_ms}")
    check_keys(c, ("freq_hz", "threshold_db", "ratio", "range_db", "attack_ms", "release_ms"),
               src, path)

    def num(key: str, lo: float, hi: float) -> float:
        return get_number(c, key, src, path, default=getattr(d, key), lo=lo, hi=hi)

    return DeEsser(freq_hz=num("freq_hz", 2000, 16000), threshold_db=num("threshold_db", -40, 0),
                   ratio=num("ratio", 1, 20), range_db=num("range_db", 0, 24),
                   attack_ms=num("attack_ms", 0.1, 50), release_ms=num("release_ms", 5, 1000))


def _part(raw: Any, src: Source, path: tuple, base: PartMix = PartMix()) -> PartMix:
    """A strip: the fields ``raw`` gives over ``base`` (``null`` switches a filter, the
    de-esser or the compressor off; a partial ``deesser``/``compressor`` keeps ``base``'s
    other fields; ``eq`` is replaced as a whole)."""
    r = expect_mapping(raw, src, path)
    check_keys(r, ("gain_db", "pan", "width", "highpass_hz", "lowpass_hz", "eq", "deesser",
                   "compressor", "reverb_send", "delay_send"), src, path)

    def corner(key: str, lo: float, hi: float) -> float | None:
        if key in r and r[key] is None:
            return None
        return get_number(r, key, src, path, default=getattr(base, key), lo=lo, hi=hi)

    def num(key: str, lo: float, hi: float) -> float:
        return get_number(r, key, src, path, default=getattr(base, key), lo=lo, hi=hi)

    part = PartMix(
        highpass_hz=corner("highpass_hz", 10, 5000),
        lowpass_hz=corner("lowpass_hz", 200, 22000),
        eq=_eq(r, "eq", src, path) if "eq" in r else base.eq,
        deesser=_deesser(r["deesser"], src, path + ("deesser",), base.deesser or DeEsser())
        if "deesser" in r else base.deesser,
        compressor=_compressor(r["compressor"], src, path + ("compressor",),
                               base.compressor or Compressor())
        if "compressor" in r else base.compressor,
        width=num("width", 0, 2),
        gain_db=num("gain_db", -60, 24),
        pan=num("pan", -1, 1),
        reverb_send=num("reverb_send", 0, 1),
        delay_send=num("delay_send", 0, 1),
    )
    if part.highpass_hz is not None and part.lowpass_hz is not None \
            and part.highpass_hz >= part.lowpass_hz:
        raise src.error(path + ("lowpass_hz",), "must be above highpass_hz", part.lowpass_hz,
                        f"a number > {part.highpass_hz:g} (the part's highpass_hz)")
    return part


def _reverb(raw: Any, src: Source, path: tuple) -> ReverbBus:
    r = expect_mapping(raw, src, path)
    check_keys(r, ("room_size", "damping", "width", "return_db", "predelay_ms", "highpass_hz"),
               src, path)
    d = ReverbBus()
    return ReverbBus(
        room_size=get_number(r, "room_size", src, path, default=d.room_size, lo=0, hi=1),
        damping=get_number(r, "damping", src, path, default=d.damping, lo=0, hi=1),
        width=get_number(r, "width", src, path, default=d.width, lo=0, hi=1),
        return_db=get_number(r, "return_db", src, path, default=d.return_db, lo=-60, hi=12),
        predelay_ms=get_number(r, "predelay_ms", src, path, default=d.predelay_ms, lo=0, hi=250),
        highpass_hz=get_number(r, "highpass_hz", src, path, default=d.highpass_hz, lo=20, hi=2000),
    )


def _delay(raw: Any, src: Source, path: tuple) -> DelayBus:
    r = expect_mapping(raw, src, path)
    check_keys(r, ("time_beats", "feedback", "return_db", "highcut_hz"), src, path)
    d = DelayBus()
    return DelayBus(
        time_beats=get_number(r, "time_beats", src, path, default=d.time_beats, lo=0.0625, hi=4),
        feedback=get_number(r, "feedback", src, path, default=d.feedback, lo=0, hi=0.95),
        return_db=get_number(r, "return_db", src, path, default=d.return_db, lo=-60, hi=12),
        highcut_hz=get_number(r, "highcut_hz", src, path, default=d.highcut_hz, lo=500, hi=20000),
    )


def _master(raw: Any, src: Source, path: tuple) -> MasterSettings:
    r = expect_mapping(raw, src, path)
    check_keys(r, ("eq", "glue_threshold_db", "glue_ratio", "glue_attack_ms", "glue_release_ms",
                   "glue_knee_db", "limiter_release_ms", "lookahead_ms", "max_limiting_db"),
               src, path)
    d = MasterSettings()

    def num(key: str, lo: float, hi: float) -> float:
        return get_number(r, key, src, path, default=getattr(d, key), lo=lo, hi=hi)

    return MasterSettings(
        eq=_eq(r, "eq", src, path),
        glue_threshold_db=num("glue_threshold_db", -40, 0),
        glue_ratio=num("glue_ratio", 1, 10),
        glue_attack_ms=num("glue_attack_ms", 0.1, 500),
        glue_release_ms=num("glue_release_ms", 5, 5000),
        glue_knee_db=num("glue_knee_db", 0, 24),
        limiter_release_ms=num("limiter_release_ms", 5, 1000),
        lookahead_ms=num("lookahead_ms", 0.5, 20),
        max_limiting_db=num("max_limiting_db", 0, 30),
    )


def parse_mix(raw: dict | None, src: Source, path: tuple = ("mix",)) -> MixSettings:
    """Validate a preset's ``mix:`` block (``None`` → all defaults) into :class:`MixSettings`.

    :param raw: the parsed YAML value of ``mix:``.
    :param src: where it came from (file + line of every field), for error messages.
    :param path: the field path of ``raw`` in its document, e.g. ``("mix",)``.
    :raises AinurError: (``src.error_cls``) naming file, line, field, value and allowed range.
    """
    r = expect_mapping(raw, src, path)
    check_keys(r, ("parts", "reverb", "delay", "master"), src, path)
    parts_raw = expect_mapping(r.get("parts"), src, path + ("parts",),
                               "a mapping of part name → settings")
    # A singer's own strip (``vocals-<voice>``) starts from the vocals strip as given here.
    vocal_chain = DEFAULT_VOCAL_CHAIN
    if VOCALS_PART in parts_raw:
        vocal_chain = _part(parts_raw[VOCALS_PART], src, path + ("parts", VOCALS_PART),
                            DEFAULT_VOCAL_CHAIN)
    parts = {}
    for name, value in parts_raw.items():
        if not isinstance(name, str) or not name.strip():
            raise src.error(path + ("parts", name), "part names must be text", name,
                            "a part name of the preset, e.g. drums, bass, lead")
        if name == VOCALS_PART:
            parts[name] = vocal_chain
            continue
        base = vocal_chain if name.startswith(SINGER_PREFIX) else PartMix()
        parts[name] = _part(value, src, path + ("parts", name), base)
    return MixSettings(
        parts=parts,
        reverb=_reverb(r.get("reverb"), src, path + ("reverb",)),
        delay=_delay(r.get("delay"), src, path + ("delay",)),
        master=_master(r.get("master"), src, path + ("master",)),
    )


MIX_FIELDS_DOC = """\
### `mix:` — the mix and master of a preset

Every field is optional; unknown fields are errors. Numbers outside the stated range are
errors (nothing is clamped silently).

#### `mix.parts.<part>` — one channel strip per part

Signal order: filters → EQ → de-esser → compressor → width → fader → pan. Sends are taken after the
fader (before pan) and each part's reverb/delay returns are added to that part's own stem, so
the stems still sum to the mix.

`mix.parts.vocals` (the singing voice) starts from the default vocal chain: `highpass_hz:
110`, `eq: [{type: peak, freq_hz: 300, gain_db: -2, q: 1}, {type: high_shelf, freq_hz: 8000,
gain_db: 2, q: 0.7}]`, `deesser: {}` (the defaults below), `compressor: {threshold_db: -20,
ratio: 3, attack_ms: 5, release_ms: 120}`, `reverb_send: 0.22`, `delay_send: 0.08`, `gain_db:
2`. The fields a preset (or a song's `style:`) gives replace the chain's: `{reverb_send: 0.4}`
changes only the reverb, `compressor: {ratio: 4}` only the ratio, `deesser: null`,
`compressor: null` or `highpass_hz: null` switch those off, `eq: []` removes the EQ. Other
parts start from the defaults in the table.

`mix.parts.vocals-<voice>` (`vocals-tenor`, `vocals-soprano`, `vocals-baritone`,
`vocals-alto`) is one singer's own strip, for songs where several voices sing
(`vocals.section_voices`, `vocals.harmony_voice`): it starts from `mix.parts.vocals` as
given, and its fields replace that strip's, e.g. `vocals-alto: {pan: -0.25, gain_db: 1}`. It
goes on the stem that voice sings into, `vocals` included when that voice sings first; a
singer without one gets `mix.parts.vocals`. A voice that does not sing in the song leaves its
strip unused.

| field | default | allowed | meaning |
|---|---|---|---|
| `highpass_hz` | off | 10–5000 Hz or `null` | 12 dB/octave high-pass corner |
| `lowpass_hz` | off | 200–22000 Hz or `null`, above `highpass_hz` | 12 dB/octave low-pass corner |
| `eq` | `[]` | up to 8 bands | list of `{type, freq_hz, gain_db, q}` (below) |
| `deesser` | off | mapping or `null` | `{freq_hz, threshold_db, ratio, range_db, attack_ms, release_ms}` (below) |
| `compressor` | off | mapping or `null` | `{threshold_db, ratio, attack_ms, release_ms}` (below) |
| `width` | 1.0 | 0–2 | stereo width (mid/side): 0 mono, 1 unchanged, 2 extra wide |
| `gain_db` | 0 | −60–24 dB | fader |
| `pan` | 0 | −1 (left) – 1 (right) | constant-power pan; centre is unity gain |
| `reverb_send` | 0 | 0–1 | send level to the reverb bus (linear) |
| `delay_send` | 0 | 0–1 | send level to the delay bus (linear) |

EQ band (`eq: [...]`, also used by `mix.master.eq`):

| field | default | allowed | meaning |
|---|---|---|---|
| `type` | `peak` | `peak`, `low_shelf`, `high_shelf` | filter shape |
| `freq_hz` | required | 20–20000 Hz | centre (peak) or corner (shelf) frequency |
| `gain_db` | 0 | −24–24 dB | boost or cut |
| `q` | 0.707 | 0.1–10 | bandwidth (peak) / slope (shelf) |

Compressor (`compressor: {...}`, per channel, feed-forward):

| field | default | allowed | meaning |
|---|---|---|---|
| `threshold_db` | −18 | −60–0 dBFS | level above which gain is reduced |
| `ratio` | 3 | 1–30 | input dB over threshold per output dB |
| `attack_ms` | 10 | 0.1–500 ms | how fast reduction starts |
| `release_ms` | 120 | 1–5000 ms | how fast it recovers |

De-esser (`deesser: {...}`, stereo-linked, split-band: only the band above `freq_hz` is
turned down, only while it is loud against the rest of the signal — an "s", not a bright
vowel; see `ainur_cli/mix/deesser.py`):

| field | default | allowed | meaning |
|---|---|---|---|
| `freq_hz` | 6000 | 2000–16000 Hz | corner of the sibilant band (the split: a 2nd-order high-pass run forward and backward, 24 dB/octave, zero phase) |
| `threshold_db` | −14 | −40–0 dB | that band's level relative to the whole signal above which it is turned down (an "s" reads about 0 dB, a vowel −20 to −35 dB) |
| `ratio` | 4 | 1–20 | dB over the threshold per dB left |
| `range_db` | 9 | 0–24 dB | the most the band is turned down |
| `attack_ms` | 1 | 0.1–50 ms | how fast the cut comes in (it is also looked ahead 6 ms) |
| `release_ms` | 30 | 5–1000 ms | how fast it goes |

#### `mix.reverb` — the reverb bus (run on each part's send, 100 % wet)

| field | default | allowed | meaning |
|---|---|---|---|
| `room_size` | 0.5 | 0–1 | decay length |
| `damping` | 0.5 | 0–1 | high-frequency absorption |
| `width` | 1.0 | 0–1 | stereo width of the return |
| `return_db` | −6 | −60–12 dB | return level; 0 dB ≈ return as loud (RMS) as its send |
| `predelay_ms` | 15 | 0–250 ms | gap before the reverb starts |
| `highpass_hz` | 150 | 20–2000 Hz | high-pass on the send (keeps the low end dry) |

#### `mix.delay` — the echo bus (tempo-synced, run on each part's send, 100 % wet)

| field | default | allowed | meaning |
|---|---|---|---|
| `time_beats` | 0.75 | 0.0625–4 beats | echo time in quarter notes (0.75 = dotted eighth), at the song's first tempo |
| `feedback` | 0.3 | 0–0.95 | level of each repeat relative to the previous one |
| `return_db` | −10 | −60–12 dB | return level |
| `highcut_hz` | 6000 | 500–20000 Hz | low-pass on the send (darker echoes) |

#### `mix.master` — linked mastering

The EQ is applied to every stem identically. The dynamics (glue compressor, loudness gain,
true-peak limiter) are computed once, from the mix, as one gain curve that multiplies every
stem, so the exported stems sum to the exported mix. Loudness target and true-peak ceiling
come from the song's `output.target_lufs` / `output.true_peak_dbtp`.

| field | default | allowed | meaning |
|---|---|---|---|
| `eq` | `[]` | up to 8 bands | linear EQ bands (see above) |
| `glue_threshold_db` | −14 | −40–0 dB | glue threshold, on the mix's 10 ms RMS after scaling the mix to the target loudness |
| `glue_ratio` | 1.5 | 1–10 | glue ratio (1 = off) |
| `glue_attack_ms` | 30 | 0.1–500 ms | glue attack |
| `glue_release_ms` | 250 | 5–5000 ms | glue release |
| `glue_knee_db` | 6 | 0–24 dB | soft-knee width |
| `limiter_release_ms` | 80 | 5–1000 ms | true-peak limiter release (time constant) |
| `lookahead_ms` | 3 | 0.5–20 ms | limiter look-ahead (its attack ramp) |
| `max_limiting_db` | 12 | 0–30 dB | most gain reduction the limiter may apply; if the target needs more, the mix stays quieter and a warning says how loud it got |
"""
