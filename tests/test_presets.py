"""Presets: every shipped preset is valid; bad fields are located in the right file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.errors import PresetError, SpecError
from ainur_cli.presets import find_preset, list_presets, load_preset
from ainur_cli.spec import parse_spec_text

SPEC = """\
title: Style Test
preset: {preset}
tempo_bpm: 100
sections:
  - name: Verse
    bars: 2
{extra}"""


def test_at_least_six_distinct_presets():
    presets = list_presets()
    assert len(presets) >= 6
    styles = [load_preset(n).style for n in presets]
    programs = {tuple(p.program for p in s.parts.values()) for s in styles}
    assert len(programs) == len(styles)  # instrumentation differs
    for s in styles:
        assert s.description and "default" in s.progressions
        assert {"drums", "bass", "melody"} <= {p.role for p in s.parts.values()}


def _bad_preset(tmp_path: Path, old: str, new: str) -> PresetError:
    text = find_preset("pop").read_text().replace(old, new, 1)
    assert text != find_preset("pop").read_text()
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(PresetError) as e:
        load_preset("broken", extra_dirs=[tmp_path])
    e.value.expected_line = next(i for i, l in enumerate(text.splitlines(), 1) if new in l)
    return e.value


@pytest.mark.parametrize("old,new,field", [
    ("program: 34", "program: 300", "parts.bass.program"),
    ("pattern: root_fifth", "pattern: polka", "parts.bass.pattern"),
    ("[I, V, vi, IV]", "[I, V, xi, IV]", "progressions.default[2]"),
    ('kick: "x.......x.......", hat', 'kick: "x..q....x.......", hat', "drums.grooves.low.kick"),
    ("room_size: 0.55", "room_size: 5.5", "mix.reverb.room_size"),
    ("swing: 0.0", "swing: 0.9", "swing"),
    ("ratio: 4,", "ratio: 0.5,", "mix.parts.bass.compressor.ratio"),
])
def test_bad_preset_fields(tmp_path, old, new, field):
    e = _bad_preset(tmp_path, old, new)
    assert e.field == field
    assert e.file.endswith("broken.yaml") and e.line == e.expected_line
    assert e.allowed


def test_style_override_merges_and_errors_point_at_the_spec():
    spec = parse_spec_text(SPEC.format(preset="pop", extra="style:\n  swing: 0.25\n"), "song.yaml")
    assert resolve_song(spec).plan.style.swing == 0.25
    spec = parse_spec_text(SPEC.format(preset="pop", extra="style:\n  swing: 2\n"), "song.yaml")
    with pytest.raises(SpecError) as e:  # the bad value is in the song spec, so it says so
        resolve_song(spec)
    assert e.value.file == "song.yaml" and e.value.line == 8 and e.value.field == "swing"


def test_unknown_preset_lists_known_ones():
    spec = parse_spec_text(SPEC.format(preset="nope", extra=""), "song.yaml")
    with pytest.raises(SpecError) as e:
        resolve_song(spec)
    assert e.value.line == 2 and "pop" in e.value.allowed and "rock" in e.value.allowed


def test_parts_must_exist_in_preset():
    spec = parse_spec_text(SPEC.format(preset="pop", extra="output:\n  parts: [drums, kazoo]\n"), "s.yaml")
    with pytest.raises(SpecError, match="names a part"):
        resolve_song(spec)
