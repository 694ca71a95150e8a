"""Preset schema: every shipped preset parses; bad fields give PresetError with file, line,
field and what is allowed; roman numerals and bars mean what docs/presets.md says."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from ainur_cli.compose.harmony import chord_event, home_tonic
from ainur_cli.compose.roman import parse_bar, parse_chord
from ainur_cli.errors import PresetError, SpecError
from ainur_cli.key import parse_key
from ainur_cli.presets import list_presets, load_preset, shipped_presets_dir
from ainur_cli.source import parse_yaml_text
from ainur_cli.style import PATTERNS, parse_style

DOCS = Path(__file__).resolve().parent.parent / "docs" / "presets.md"

BASE = """\
description: Test style
tempo_bpm: 100
key: A minor
swing: 0.1
swing_unit: 16
humanize: {timing_ms: 5, velocity: 5}
parts:
  drums: {program: 0}
  bass: {program: 33, pattern: root_fifth}
  keys: {program: 4, pattern: strum, rate: 8}
  lead: {program: 73, octave: 4}
hook: {part: lead, sections: [intro], bars: 2}
progressions:
  default: [i, bVI, bIII, bVII]
  chorus: "bVI bVII | i"
drums:
  meter: "4/4"
  grooves:
    low: {kick: "x.......x......."}
    mid: {kick: "x.......x.......", snare: "....x.......x..."}
    high: {kick: "x...x...x...x...", snare: "....X.......X..."}
mix:
  parts:
    bass: {gain_db: -2}
"""


def parse(text: str, file: str = "test.yaml"):
    raw, src = parse_yaml_text(text, file, PresetError)
    return parse_style(raw, src)


def test_shipped_presets_parse_and_differ():
    presets = list_presets()
    assert len(presets) >= 12
    for name in ("pop", "rock", "lofi-hiphop", "house", "acoustic-folk", "ballad", "funk",
                 "synthwave", "reggae", "jazz-waltz", "trap", "cinematic"):
        assert name in presets
    styles = {n: load_preset(n).style for n in presets}
    seen = set()
    for name, s in styles.items():
        assert s.description
        assert "default" in s.progressions
        assert {"drums", "bass", "lead"} <= set(s.parts)
        assert {"keys", "pad", "guitar"} & set(s.parts)
        assert s.parts["drums"].is_drums and s.parts["lead"].role == "melody"
        for level in ("low", "mid", "high"):
            assert s.drums.grooves[level]
        signature = (tuple((p.program, p.pattern) for p in s.parts.values()), s.tempo_bpm)
        assert signature not in seen, name
        seen.add(signature)
    assert styles["jazz-waltz"].time_signature == (3, 4)
    assert styles["lofi-hiphop"].swing > 0


def test_grooves_get_busier_with_energy():
    """Each shipped preset's grooves have at least as many hits at higher energy."""
    for name in list_presets():
        grooves = load_preset(name).style.drums.grooves

        def hits(level):
            return sum(sum(c != "." for c in bar) / len(voice) for voice in grooves[level].values()
                       for bar in voice)

        assert hits("low") <= hits("mid") <= hits("high"), name
        assert hits("low") < hits("high"), name


def test_docs_example_parses_and_mentions_every_pattern():
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("## A complete example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    style = parse(example, "docs/presets.md")
    assert style.hook.part == "guitar" and style.parts["bass"].pattern == "eighths"
    from ainur_cli.mix.settings import MIX_FIELDS_DOC

    assert MIX_FIELDS_DOC.strip() in text  # the mix field reference is pasted in, current
    for role, names in PATTERNS.items():
        for pattern in names:
            assert f"`{pattern}`" in text, (role, pattern)


def test_base_parses_with_defaults():
    s = parse(BASE)
    assert s.parts["bass"].octave == 2 and s.parts["keys"].octave == 4
    assert s.parts["lead"].hook and not s.parts["keys"].hook
    assert s.parts["keys"].role == "chords" and s.parts["keys"].rate == 8
    assert len(s.progression("chorus")) == 2 and len(s.progression("verse")) == 4
    assert s.drums.fills and s.drums.crash and s.drums.meter == (4, 4)
    assert s.humanize.timing_ms == 5 and s.swing_unit == 16
    assert s.mix.part("bass").gain_db == -2


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("old,new,field", [
    ("program: 33", "program: 200", "parts.bass.program"),
    ("pattern: root_fifth", "pattern: polka", "parts.bass.pattern"),
    ("pattern: root_fifth", "patern: root_fifth", "parts.bass.patern"),
    ("rate: 8", "rate: 12", "parts.keys.rate"),
    ("octave: 4}", "octave: 9}", "parts.lead.octave"),
    ("[i, bVI, bIII, bVII]", "[i, bVI, xi, bVII]", "progressions.default[2]"),
    ("[i, bVI, bIII, bVII]", "[i, bVI, I/9, bVII]", "progressions.default[2]"),
    ("[i, bVI, bIII, bVII]", "[i, bVI, I/7, bVII]", "progressions.default[2]"),
    ("[i, bVI, bIII, bVII]", "[i, bVI, Isus4/3, bVII]", "progressions.default[2]"),
    ('"bVI bVII | i"', '"bVI bVII | q"', "progressions.chorus"),
    ("chorus: ", "chorrus: ", "progressions.chorrus"),
    ('kick: "x.......x......."}', 'kick: "x..q....x......."}', "drums.grooves.low.kick"),
    ('low: {kick:', 'low: {kik:', "drums.grooves.low.kik"),
    ('meter: "4/4"', 'meter: "7/5"', "drums.meter"),
    ("swing: 0.1", "swing: 0.9", "swing"),
    ("swing_unit: 16", "swing_unit: 12", "swing_unit"),
    ("timing_ms: 5", "timing_ms: 50", "humanize.timing_ms"),
    ("key: A minor", "key: H minor", "key"),
    ("part: lead,", "part: drums,", "hook.part"),
    ("bars: 2}", "bars: 3}", "hook.bars"),
    ("sections: [intro]", "sections: [intr0]", "hook.sections[0]"),
    ("bass: {gain_db: -2}", "bas: {gain_db: -2}", "mix.parts.bas"),
    ("bass: {gain_db: -2}", "bass: {gain_db: 99}", "mix.parts.bass.gain_db"),
    ("tempo_bpm: 100", "tempo_bpm: 0", "tempo_bpm"),
])
def test_bad_fields_name_file_line_field_and_allowed(old, new, field):
    text = BASE.replace(old, new, 1)
    assert text != BASE
    with pytest.raises(PresetError) as e:
        parse(text, "bad.yaml")
    err = e.value
    assert err.field == field
    assert err.file == "bad.yaml"
    assert err.line == _line_of(text, new.strip())
    assert err.allowed
    assert "bad.yaml:" in str(err) and field in str(err)


@pytest.mark.parametrize("old,new,message", [
    ("  lead: {program: 73, octave: 4}\n", "", "needs a part named 'lead'"),
    ("  keys: {program: 4, pattern: strum, rate: 8}\n", "", "at least one of keys, pad, guitar"),
    ("  keys: {program", "  Keys: {program", "not a valid part name"),
    ("  keys: {program", "  vocals: {program", "not a valid part name"),
    ("  keys: {program", "  vocals-alto: {program", "not a valid part name"),
    ("  keys: {program", "  wobble: {program", "required for this part name"),
    ("    high: {kick", "    hi: {kick", "unknown field"),
    ("  default: [i, bVI, bIII, bVII]\n", "", "is required"),
])
def test_structural_errors(old, new, message):
    text = BASE.replace(old, new, 1)
    assert text != BASE
    with pytest.raises(PresetError, match=re.escape(message)) as e:
        parse(text, "bad.yaml")
    assert e.value.line is not None


def test_overrides_in_a_song_spec_name_the_spec():
    _, over_src = parse_yaml_text("style:\n  parts:\n    bass: {pattern: polka}\n", "song.yaml")
    with pytest.raises(SpecError) as e:
        load_preset("pop", {"parts": {"bass": {"pattern": "polka"}}}, over_src)
    assert (e.value.file, e.value.line, e.value.field) == ("song.yaml", 3, "parts.bass.pattern")


def test_roman_numerals_in_keys():
    c = parse_key("C major")

    def sym(text, key=c):
        return chord_event(parse_chord(text), key.tonic_pc, key, 0.0, 1.0).symbol

    assert [sym(t) for t in ("I", "ii", "iii", "IV", "V", "vi", "vii°")] == \
        ["C", "Dm", "Em", "F", "G", "Am", "Bdim"]
    assert sym("V7") == "G7" and sym("ii7") == "Dm7" and sym("IVmaj7") == "Fmaj7"
    assert sym("vii°7") == "Bdim7" and sym("viiø") == "Bm7b5" and sym("I+") == "Caug"
    assert sym("bVII") == "Bb" and sym("iv") == "Fm" and sym("bIII") == "Eb"
    assert sym("V7/V") == "D7" and sym("V7/vi") == "E7" and sym("vii°/V") == "F#dim"
    assert sym("I/3") == "C/E" and sym("V/5") == "G/D" and sym("V7/7") == "G7/F"
    assert sym("Isus4") == "Csus4" and sym("I5") == "C5" and sym("ii9") == "Dm9"
    assert parse_chord("V7").pitch_classes(0) == (7, 11, 2, 5)
    assert parse_chord("ii9").pitch_classes(0) == (2, 5, 9, 0, 4)
    assert parse_chord("Iadd9").pitch_classes(0) == (0, 4, 7, 2)
    assert parse_chord("I/3").bass_pc(0) == 4 and parse_chord("I").bass_pc(0) is None
    a_minor = parse_key("A minor")
    assert [sym(t, a_minor) for t in ("i", "bVI", "bIII", "bVII", "V7")] == ["Am", "F", "C", "G", "E7"]
    for bad in ("", "X", "I/9", "Isus4/3", "I7/7/3", "v°5", "i/5/5", "I/VIII"):
        with pytest.raises(ValueError):
            parse_chord(bad)


def test_bars_share_and_hold():
    bar = parse_bar("I . . V")
    assert [s.fraction for s in bar] == [Fraction(3, 4), Fraction(1, 4)]
    assert [s.chord.text for s in bar] == ["I", "V"]
    assert parse_bar("%")[0].chord is None
    hold = parse_bar(". IV")
    assert hold[0].chord is None and hold[1].chord.text == "IV"
    with pytest.raises(ValueError):
        parse_bar("I I I I I I I I I")


def test_mode_mapping_uses_the_relative_key():
    major_style, minor_style = parse_key("C major"), parse_key("A minor")
    assert home_tonic(major_style, parse_key("E major")) == 4
    assert home_tonic(major_style, parse_key("A minor")) == 0    # C: relative major
    assert home_tonic(minor_style, parse_key("C major")) == 9    # A: relative minor
    assert home_tonic(minor_style, parse_key("D dorian")) == 2


def test_shipped_files_are_documented():
    text = DOCS.read_text(encoding="utf-8")
    for f in shipped_presets_dir().glob("*.yaml"):
        assert f"`{f.stem}`" in text, f.stem
