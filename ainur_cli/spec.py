"""The song spec: what a producer writes in ``song.yaml``, validated into a frozen ``SongSpec``.

Every problem is a :class:`~ainur_cli.errors.SpecError` naming file, line, field, value and
what is allowed. Validation happens completely before anything is rendered.

Field reference (also in README.md):

=================  ========================================================================
``title``          text (required)
``preset``         style preset name (file stem in ``presets/`` or a ``--presets-dir``)
``seed``           integer 0..4294967295 (default 0); same spec + seed → identical files
``key``            e.g. ``A minor``, ``F# major``, ``Bb dorian`` (default: the preset's)
``tempo_bpm``      quarter notes per minute, 4..400 (or use ``tempo_map``)
``tempo_map``      list of ``{bar: N, bpm: X}``; 1-based bars; the first entry is bar 1
``time_signature`` ``"4/4"`` or a list of ``{bar: N, signature: "3/4"}`` (first at bar 1)
``sections``       list of ``{name, bars, lyrics?, energy?, type?}`` in song order; a lyric
                   line or word may be pinned: ``@5.3 Walking @6.1+1/2 home`` (song bar,
                   beat in the meter's unit, fraction of a beat), or ``{at: "5.3", text: ...}``
``style``          overrides merged over the preset (same fields as a preset)
``output``         ``{dir, sample_rate, bit_depth, format, target_lufs, true_peak_dbtp,
                   parts, soundfont}``
``restyle``        optional neural audio-to-audio pass over the stems (``ainur[neural]``):
                   ``{model, models_dir, strength, steps, cfg_scale, negative_prompt, device,
                   prompts: {part: prompt}}``
``melody``         optional vocal melody from a MIDI file (a DAW's exported clip), sung with
                   the sections' lyrics: ``FILE`` or ``{file, bar, track, harmony_track}``
                   (``bar``: the song bar where the file's beat 0 falls, default 1;
                   ``track``: 1-based, by default the track with the most notes;
                   ``harmony_track``: one or two tracks of written harmony, sung with the
                   lead's words); see :mod:`ainur_cli.melody_file`
=================  ========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from ainur_cli.errors import SpecError
from ainur_cli.key import ALLOWED_KEYS_TEXT, Key, parse_key
from ainur_cli.spec_lyrics import check_pin_beats, parse_lyrics_field
from ainur_cli.source import (
    Source,
    check_keys,
    expect_mapping,
    get_list,
    get_number,
    get_str,
    load_yaml,
    parse_yaml_text,
)
from ainur_cli.timeline import ALLOWED_DENOMINATORS, MAX_TEMPO_BPM

MAX_SONG_S = 20 * 60
MIN_SPEC_BPM = 4  # a MIDI tempo (µs per quarter, 3 bytes) cannot be slower than 3.58 bpm
MAX_SECTIONS = 128
MAX_SECTION_BARS = 256
MAX_SEED = 2**32 - 1
SAMPLE_RATES = (44100, 48000, 96000)
BIT_DEPTHS = ("16", "24", "32f")
FORMATS = ("wav", "flac")

SECTION_KINDS = (
    "intro", "verse", "pre-chorus", "chorus", "post-chorus", "bridge", "breakdown", "build",
    "drop", "solo", "instrumental", "outro", "section",
)
DEFAULT_ENERGY = {
    "intro": 0.3, "verse": 0.5, "pre-chorus": 0.65, "chorus": 0.85, "post-chorus": 0.7,
    "bridge": 0.55, "breakdown": 0.3, "build": 0.7, "drop": 0.95, "solo": 0.75,
    "instrumental": 0.6, "outro": 0.35, "section": 0.5,
}
_KIND_WORDS = [
    (r"pre[\s_-]*chorus|prechorus|pre", "pre-chorus"),
    (r"post[\s_-]*chorus|postchorus", "post-chorus"),
    (r"chorus|refrain|hook", "chorus"),
    (r"verse|strophe", "verse"),
    (r"intro|opening", "intro"),
    (r"outro|ending|coda|end", "outro"),
    (r"bridge|middle[\s_-]*8", "bridge"),
    (r"breakdown|break", "breakdown"),
    (r"build[\s_-]*up|build|riser", "build"),
    (r"drop", "drop"),
    (r"solo", "solo"),
    (r"instrumental|interlude|inst", "instrumental"),
]


def section_kind(name: str) -> str:
    """Section type from a section or marker name: "Verse 2" → verse, "PRE-CHORUS" → pre-chorus.

    Unknown names give ``"section"`` (styled with the preset's default progression).
    """
    low = name.strip().lower()
    for pattern, kind in _KIND_WORDS:
        if re.match(rf"^\s*(?:{pattern})\b", low) or re.match(rf"^\s*(?:{pattern})\d", low):
            return kind
    return "section"


@dataclass(frozen=True)
class SectionSpec:
    """One section as written: ``name``, ``kind``, ``bars`` >= 1, ``energy`` 0..1, lyric lines
    (pins such as ``@5.3`` stay in a line's text; a line from a DAW session is a
    :class:`ainur_cli.spec_lyrics.LyricText` that carries its pins beside its words) and
    ``harmony_lyrics``: the backing singers' own words in the section (lines, sung on the
    written harmony track's notes in it: :mod:`ainur_cli.melody_file`; without one, by the
    composed harmony in the lead's rests: :func:`ainur_cli.vocals.answer_notes`)."""

    name: str
    kind: str
    bars: int
    energy: float
    lyrics: tuple[str, ...] = ()
    harmony_lyrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputSpec:
    """Where and how the render is written."""

    dir: str | None = None
    sample_rate: int = 48000
    bit_depth: str = "24"
    format: str = "wav"
    target_lufs: float = -14.0
    true_peak_dbtp: float = -1.0
    parts: tuple[str, ...] | None = None
    soundfont: str | None = None


@dataclass(frozen=True)
class RestyleSpec:
    """Neural audio-to-audio over the rendered stems, one prompt per part (issue: neural)."""

    model: str
    prompts: tuple[tuple[str, str], ...]
    strength: float = 0.4
    steps: int = 50
    cfg_scale: float = 7.0
    negative_prompt: str | None = None
    models_dir: str | None = None
    device: str = "auto"


@dataclass(frozen=True)
class MelodySpec:
    """A vocal melody from a MIDI file: ``path`` (as written, relative to the spec file),
    ``bar`` (1-based song bar where the file's beat 0 falls), ``track`` (1-based, or None:
    the track with the most notes), ``harmony_tracks`` (1-based tracks of the same file whose
    notes harmony voices sing with the lead's words; empty: none)."""

    path: str
    bar: int = 1
    track: int | None = None
    harmony_tracks: tuple[int, ...] = ()
    #: the song beat of the file's beat 0 when not ``bar``'s start (a section rendered alone
    #: as a song of its own: the clip may start before it); not a spec field
    start_beat: Fraction | None = None
    #: True once :func:`ainur_cli.melody_file.with_melody` has put the lyrics on its notes
    applied: bool = field(default=False, compare=False)
    #: the notes themselves, ``(start_beat, end_beat, pitch, velocity)`` in the file's beats,
    #: when they come from a DAW project (an Ardour or Live MIDI track) rather than a file:
    #: ``path`` then only names where they came from; not a spec field
    notes: tuple | None = field(default=None, compare=False)
    #: written harmony from a DAW project rather than the file's ``harmony_tracks``: per
    #: voice ``(where it came from, its notes as ``notes`` holds them)``; not a spec field
    harmony_notes: tuple = field(default=(), compare=False)
    #: the written harmony in its own rhythm (the style sings it on a vowel), set by
    #: :func:`ainur_cli.melody_file.with_melody`: per voice its notes ``(start_beat,
    #: end_beat, pitch, velocity)`` in song beats (floats; none for a voice that sings the
    #: lead's words), empty when no voice does; not a spec field
    harmony_voices: tuple = field(default=(), compare=False)
    #: the sections' ``harmony_lyrics`` on the written harmony's notes, set by
    #: :func:`ainur_cli.melody_file.with_melody`: per voice its lines ``(section index, text,
    #: ((start_beat, end_beat, pitch, velocity, continues), ...))``, empty when none; not a
    #: spec field
    harmony_lines: tuple = field(default=(), compare=False)

    @property
    def written_harmony(self) -> bool:
        """Whether it has a written harmony (``harmony_tracks`` or a DAW project's harmony
        track): the sections' ``harmony_lyrics`` are then its words, else the composed
        harmony's answers."""
        return bool(self.harmony_tracks or self.harmony_notes)

    def resolved(self, spec_file: str | None) -> Path:
        """The file's path, relative to the spec file's folder when not absolute."""
        p = Path(self.path).expanduser()
        if not p.is_absolute() and spec_file and not spec_file.startswith("<"):
            p = Path(spec_file).resolve().parent / p
        return p


@dataclass(frozen=True)
class SongSpec:
    """A validated song spec. ``tempo_map``: ``(1-based bar, bpm)``; ``meters``:
    ``(1-based bar, numerator, denominator)``, None when the spec gives none (the preset's
    meter, else 4/4, is used: see :func:`with_defaults`); ``style`` is the raw override mapping that is
    merged over the preset (validated by the preset loader)."""

    title: str
    preset: str
    seed: int
    key: Key | None
    tempo_map: tuple[tuple[int, float], ...] | None
    meters: tuple[tuple[int, int, int], ...] | None
    sections: tuple[SectionSpec, ...]
    output: OutputSpec
    style: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    restyle: "RestyleSpec | None" = None
    melody: MelodySpec | None = None
    source: Source = field(default_factory=Source, compare=False, hash=False, repr=False)

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def file(self) -> str | None:
        return self.source.file


TOP_KEYS = ("title", "preset", "seed", "key", "tempo_bpm", "tempo_map", "time_signature",
            "sections", "style", "output", "restyle", "melody")
MELODY_KEYS = ("file", "bar", "track", "harmony_track")
MAX_HARMONY_TRACKS = 2  # written harmony voices (as the style's composed harmony)
RESTYLE_KEYS = ("model", "models_dir", "strength", "steps", "cfg_scale", "negative_prompt",
                "device", "prompts")
SECTION_KEYS = ("name", "bars", "lyrics", "energy", "type", "harmony_lyrics")
OUTPUT_KEYS = ("dir", "sample_rate", "bit_depth", "format", "target_lufs", "true_peak_dbtp",
               "parts", "soundfont")

# CLI flag → spec path; flags override the file (``apply_overrides``).
OVERRIDE_FLAGS = {
    "preset": ("preset",), "seed": ("seed",), "key": ("key",), "tempo_bpm": ("tempo_bpm",),
    "out": ("output", "dir"), "sample_rate": ("output", "sample_rate"),
    "bit_depth": ("output", "bit_depth"), "format": ("output", "format"),
    "target_lufs": ("output", "target_lufs"), "true_peak_dbtp": ("output", "true_peak_dbtp"),
    "parts": ("output", "parts"), "soundfont": ("output", "soundfont"),
}


def load_spec(path: Path | str, overrides: Mapping[str, Any] | None = None) -> SongSpec:
    """Read ``song.yaml`` and validate it, with CLI ``overrides`` (keys of OVERRIDE_FLAGS)."""
    raw, src = load_yaml(path, SpecError)
    return parse_spec(raw, src, overrides)


def parse_spec_text(text: str, file: str = "<text>", overrides: Mapping[str, Any] | None = None) -> SongSpec:
    """Validate a spec given as YAML text (used by tests and the DAW bridge)."""
    raw, src = parse_yaml_text(text, file, SpecError)
    return parse_spec(raw, src, overrides)


def apply_overrides(raw: dict, src: Source, overrides: Mapping[str, Any] | None) -> dict:
    """Put CLI values into the raw document; errors on them name the flag, not the file."""
    if not overrides:
        return raw
    raw = dict(raw)
    for name, value in overrides.items():
        if value is None:
            continue
        path = OVERRIDE_FLAGS[name]
        if path == ("tempo_bpm",):
            raw.pop("tempo_map", None)
        target = raw
        for part in path[:-1]:
            target[part] = dict(target.get(part) or {})
            target = target[part]
        target[path[-1]] = value
        src.origins[path] = "--" + name.replace("_", "-")
    return raw


def parse_spec(raw: Any, src: Source, overrides: Mapping[str, Any] | None = None) -> SongSpec:
    """Validate a raw spec document (see module docstring for the fields)."""
    if raw is None:
        raise src.error((), "the spec is empty", allowed="a YAML mapping with title, preset, "
                        "tempo_bpm, sections...")
    if not isinstance(raw, dict):
        raise src.error((), "the spec must be a mapping of fields", type(raw).__name__,
                        "title, preset, tempo_bpm, sections...")
    raw = apply_overrides(raw, src, overrides)
    check_keys(raw, TOP_KEYS, src, ())
    title = get_str(raw, "title", src, (), max_len=200)
    if raw.get("preset") is None:
        raise src.error(("preset",), "is required",
                        allowed="a style preset name such as pop, rock or lofi-hiphop (`ainur presets` lists them)")
    preset = get_str(raw, "preset", src, (), max_len=100)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", preset):
        raise src.error(("preset",), "is not a preset name", preset,
                        "a name like 'pop' or 'lofi-hiphop' (letters, digits, - _ .)")
    seed = get_number(raw, "seed", src, (), default=0, lo=0, hi=MAX_SEED, integer=True)
    key = None
    if raw.get("key") is not None:
        key_text = get_str(raw, "key", src, (), max_len=40)
        try:
            key = parse_key(key_text)
        except ValueError:
            raise src.error(("key",), "is not a key name", key_text, ALLOWED_KEYS_TEXT) from None
    sections = _parse_sections(raw, src)
    total_bars = sum(s.bars for s in sections)
    tempo_map = _parse_tempo(raw, src, total_bars)
    meters = _parse_meters(raw, src, total_bars)
    output = _parse_output(raw, src)
    style = expect_mapping(raw.get("style"), src, ("style",))
    restyle = _parse_restyle(raw, src)
    melody = _parse_melody(raw, src, total_bars)
    spec = SongSpec(title, preset, seed, key, tempo_map, meters, tuple(sections), output,
                    style, restyle, melody, src)
    if tempo_map is not None:
        check_length(spec, src)
    check_pin_beats(spec, src)
    return spec


def _parse_sections(raw: dict, src: Source) -> list[SectionSpec]:
    items = get_list(raw, "sections", src, (), min_len=1, max_len=MAX_SECTIONS)
    out = []
    start_bar = 0
    for i, item in enumerate(items):
        path = ("sections", i)
        if not isinstance(item, dict):
            raise src.error(path, "each section must be a mapping", item,
                            "{name: Verse 1, bars: 8, lyrics: ...}")
        check_keys(item, SECTION_KEYS, src, path)
        name = get_str(item, "name", src, path, max_len=100)
        bars = get_number(item, "bars", src, path, lo=1, hi=MAX_SECTION_BARS, integer=True)
        if item.get("type") is not None:
            kind = get_str(item, "type", src, path, choices=SECTION_KINDS)
        else:
            kind = section_kind(name)
        energy = get_number(item, "energy", src, path, default=DEFAULT_ENERGY[kind], lo=0, hi=1)
        lyrics: tuple[str, ...] = ()
        if item.get("lyrics") is not None:
            lyrics = parse_lyrics_field(item["lyrics"], src, path + ("lyrics",), name, start_bar,
                                        bars)
        backing = _harmony_lyrics(item.get("harmony_lyrics"), src, path + ("harmony_lyrics",))
        out.append(SectionSpec(name, kind, bars, energy, lyrics, backing))
        start_bar += bars
    return out


_PIN_TOKEN = re.compile(r"(?<!\S)@\d")
_BACKING_MARKS = re.compile(r"[()\[\]]")


def _harmony_lyrics(value: Any, src: Source, path: tuple) -> tuple[str, ...]:
    """A section's ``harmony_lyrics``: a block (one line per line) or a list of lines → the
    non-empty lines, without the parentheses and brackets backing vocals are written in
    (``(hold on) (hold on)``). A pin is refused: the harmony track's notes place the words."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = [(ln, path) for ln in value.splitlines()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [(ln, path + (k,)) for k, v in enumerate(value) for ln in v.splitlines()]
    else:
        raise src.error(path, "must be text (one line per line)", value,
                        "a YAML block (harmony_lyrics: |) or a list of lines")
    out = []
    for line, at in items:
        line = " ".join(_BACKING_MARKS.sub(" ", line).split())
        if not line:
            continue
        if _PIN_TOKEN.search(line):
            raise src.error(at, "cannot pin a harmony lyric: the harmony track's notes (or "
                            "the lead's rests) place its words", line,
                            "lines without @bar.beat pins")
        out.append(line)
    return tuple(out)


def _bar_field(item: dict, src: Source, path: tuple, total_bars: int) -> int:
    return get_number(item, "bar", src, path, lo=1, hi=max(total_bars, 1), integer=True)


def _parse_tempo(raw: dict, src: Source, total_bars: int) -> tuple[tuple[int, float], ...] | None:
    has_bpm = raw.get("tempo_bpm") is not None
    has_map = raw.get("tempo_map") is not None
    if has_bpm and has_map:
        raise src.error(("tempo_map",), "give either tempo_bpm or tempo_map, not both",
                        allowed="tempo_bpm: 120, or tempo_map: [{bar: 1, bpm: 120}, ...]")
    if has_bpm:
        bpm = get_number(raw, "tempo_bpm", src, (), lo=MIN_SPEC_BPM, hi=MAX_TEMPO_BPM)
        return ((1, bpm),)
    if not has_map:
        return None  # the preset's default tempo is used
    items = get_list(raw, "tempo_map", src, (), min_len=1, max_len=10_000)
    out: list[tuple[int, float]] = []
    for i, item in enumerate(items):
        path = ("tempo_map", i)
        if not isinstance(item, dict):
            raise src.error(path, "each tempo change must be a mapping", item, "{bar: 9, bpm: 96}")
        check_keys(item, ("bar", "bpm"), src, path)
        bar = _bar_field(item, src, path, total_bars)
        bpm = get_number(item, "bpm", src, path, lo=MIN_SPEC_BPM, hi=MAX_TEMPO_BPM)
        if i == 0 and bar != 1:
            raise src.error(path + ("bar",), "the first tempo must be at bar 1", bar, "1")
        if out and bar <= out[-1][0]:
            raise src.error(path + ("bar",), "tempo changes must be in increasing bar order", bar,
                            f"a bar after {out[-1][0]}")
        out.append((bar, bpm))
    return tuple(out)


_SIG_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_SIG_ALLOWED = "N/D with N 1..32 and D one of 1, 2, 4, 8, 16, 32 (e.g. 4/4, 3/4, 6/8, 7/8)"


def _parse_sig(value: Any, src: Source, path: tuple) -> tuple[int, int]:
    m = _SIG_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise src.error(path, "is not a time signature", value, _SIG_ALLOWED)
    num, den = int(m.group(1)), int(m.group(2))
    if not 1 <= num <= 32 or den not in ALLOWED_DENOMINATORS:
        raise src.error(path, "is not a valid time signature", value, _SIG_ALLOWED)
    return num, den


def _parse_meters(raw: dict, src: Source, total_bars: int) -> tuple[tuple[int, int, int], ...] | None:
    value = raw.get("time_signature")
    if value is None:
        return None
    if not isinstance(value, list):
        num, den = _parse_sig(value, src, ("time_signature",))
        return ((1, num, den),)
    if not value:
        raise src.error(("time_signature",), "must not be empty", value, _SIG_ALLOWED)
    out: list[tuple[int, int, int]] = []
    for i, item in enumerate(value):
        path = ("time_signature", i)
        if not isinstance(item, dict):
            raise src.error(path, "each change must be a mapping", item,
                            "{bar: 9, signature: '3/4'}")
        check_keys(item, ("bar", "signature"), src, path)
        bar = _bar_field(item, src, path, total_bars)
        if "signature" not in item:
            raise src.error(path + ("signature",), "is required", allowed=_SIG_ALLOWED)
        num, den = _parse_sig(item["signature"], src, path + ("signature",))
        if i == 0 and bar != 1:
            raise src.error(path + ("bar",), "the first time signature must be at bar 1", bar, "1")
        if out and bar <= out[-1][0]:
            raise src.error(path + ("bar",), "changes must be in increasing bar order", bar,
                            f"a bar after {out[-1][0]}")
        out.append((bar, num, den))
    return tuple(out)


def _parse_output(raw: dict, src: Source) -> OutputSpec:
    out = expect_mapping(raw.get("output"), src, ("output",))
    p = ("output",)
    check_keys(out, OUTPUT_KEYS, src, p)
    d = OutputSpec()
    directory = get_str(out, "dir", src, p, default=None, max_len=4096)
    sample_rate = get_number(out, "sample_rate", src, p, default=d.sample_rate, integer=True)
    if sample_rate not in SAMPLE_RATES:
        raise src.error(p + ("sample_rate",), "is not a supported sample rate", sample_rate,
                        ", ".join(map(str, SAMPLE_RATES)))
    bit_depth = str(out.get("bit_depth", d.bit_depth)).strip().lower()
    bit_depth = {"32": "32f", "32float": "32f", "float": "32f"}.get(bit_depth, bit_depth)
    if bit_depth not in BIT_DEPTHS or isinstance(out.get("bit_depth"), bool):
        raise src.error(p + ("bit_depth",), "is not a supported bit depth", out.get("bit_depth"),
                        "16, 24 or 32f (32-bit float)")
    fmt = get_str(out, "format", src, p, default=d.format, choices=FORMATS)
    target = get_number(out, "target_lufs", src, p, default=d.target_lufs, lo=-40, hi=-5)
    ceiling = get_number(out, "true_peak_dbtp", src, p, default=d.true_peak_dbtp, lo=-12, hi=0)
    parts = None
    if out.get("parts") is not None:
        value = out["parts"]
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str) and re.fullmatch(r"[a-z][a-z0-9_-]*", v) for v in value):
            raise src.error(p + ("parts",), "must be a list of part names", out["parts"],
                            "e.g. [drums, bass, keys, lead]")
        parts = tuple(dict.fromkeys(value))
    soundfont = get_str(out, "soundfont", src, p, default=None, max_len=4096)
    return OutputSpec(directory, sample_rate, bit_depth, fmt, target, ceiling, parts, soundfont)


def _parse_restyle(raw: dict, src: Source) -> RestyleSpec | None:
    if raw.get("restyle") is None:
        return None
    p = ("restyle",)
    r = expect_mapping(raw["restyle"], src, p)
    check_keys(r, RESTYLE_KEYS, src, p)
    prompts = expect_mapping(r.get("prompts"), src, p + ("prompts",))
    if not prompts:
        raise src.error(p + ("prompts",), "is required", allowed="{part: prompt}, e.g. {drums: 'live funk kit'}")
    pairs = tuple((str(k), get_str(prompts, k, src, p + ("prompts",), max_len=500)) for k in prompts)
    return RestyleSpec(
        model=get_str(r, "model", src, p, default="stable-audio-open-1.0", max_len=4096),
        prompts=pairs,
        strength=get_number(r, "strength", src, p, default=0.4, lo=0, hi=1),
        steps=get_number(r, "steps", src, p, default=50, lo=1, hi=1000, integer=True),
        cfg_scale=get_number(r, "cfg_scale", src, p, default=7.0, lo=0, hi=30),
        negative_prompt=get_str(r, "negative_prompt", src, p, default=None, max_len=500),
        models_dir=get_str(r, "models_dir", src, p, default=None, max_len=4096),
        device=get_str(r, "device", src, p, default="auto", choices=("auto", "cpu", "cuda")),
    )


def _parse_melody(raw: dict, src: Source, total_bars: int) -> MelodySpec | None:
    value = raw.get("melody")
    if value is None:
        return None
    p = ("melody",)
    allowed = "the path of a MIDI file (.mid), relative to this spec's folder"
    if isinstance(value, str):
        path, field_path, bar, track = get_str(raw, "melody", src, (), max_len=4096), p, 1, None
        harmony: tuple[int, ...] = ()
    else:
        value = expect_mapping(value, src, p)
        check_keys(value, MELODY_KEYS, src, p)
        field_path = p + ("file",)
        if value.get("file") is None:
            raise src.error(field_path, "is required", allowed=allowed)
        path = get_str(value, "file", src, p, max_len=4096)
        bar = get_number(value, "bar", src, p, default=1, lo=1, hi=max(1, total_bars), integer=True)
        track = get_number(value, "track", src, p, default=None, lo=1, hi=65535, integer=True)
        harmony = _harmony_tracks(value, src, None if track is None else int(track))
    if not path.strip():
        raise src.error(field_path, "is empty", allowed=allowed)
    return MelodySpec(path, int(bar), None if track is None else int(track), harmony)


def _harmony_tracks(value: dict, src: Source, track: int | None) -> tuple[int, ...]:
    """``melody.harmony_track``: a track number or a list of up to :data:`MAX_HARMONY_TRACKS`
    (1-based, distinct, not the melody's ``track``) → a tuple (absent: ``()``)."""
    p = ("melody", "harmony_track")
    raw = value.get("harmony_track")
    if raw is None:
        return ()
    allowed = (f"a track number 1..65535 of the melody file, or a list of up to "
               f"{MAX_HARMONY_TRACKS}, other than the melody's track")
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_HARMONY_TRACKS:
        raise src.error(p, f"names {len(items)} tracks", raw, allowed)
    tracks = []
    for k, item in enumerate(items):
        at = p + (k,) if isinstance(raw, list) else p
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 65535:
            raise src.error(at, "is not a track number", item, allowed)
        if item == track or item in tracks:
            raise src.error(at, "names the melody's track" if item == track
                            else "names a track twice", item, allowed)
        tracks.append(item)
    return tuple(tracks)


def check_length(spec: SongSpec, src: Source | None = None) -> None:
    """Refuse songs longer than MAX_SONG_S (needs the resolved tempo map)."""
    from ainur_cli.plan import build_timeline  # plan imports spec; keep the cycle lazy

    seconds = float(build_timeline(spec, spec.output.sample_rate).total_seconds)
    if seconds > MAX_SONG_S:
        src = src or spec.source
        raise src.error(("sections",), "the song is longer than the supported maximum",
                        f"{seconds:.0f} s", f"at most {MAX_SONG_S} s ({MAX_SONG_S // 60} minutes)")


def with_defaults(spec: SongSpec, tempo_bpm: float | None = None,
                  time_signature: tuple[int, int] | None = None) -> SongSpec:
    """The spec with the preset's tempo and meter where it gave none (else 120 bpm, 4/4)."""
    if spec.tempo_map is None:
        spec = replace(spec, tempo_map=((1, float(tempo_bpm or 120.0)),))
    if spec.meters is None:
        num, den = time_signature or (4, 4)
        spec = replace(spec, meters=((1, num, den),))
    return spec


def bpm_fraction(bpm: float) -> Fraction:
    """Tempo as an exact fraction (decimal reading: 93.5 → 187/2)."""
    return Fraction(str(bpm)) if isinstance(bpm, float) else Fraction(bpm)
