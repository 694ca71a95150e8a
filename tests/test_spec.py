"""Song spec validation: every bad case gives one SpecError naming file, line, field, value."""

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ainur_cli.errors import AinurError, SpecError
from ainur_cli.plan import build_timeline, place_sections
from ainur_cli.spec import load_spec, parse_spec_text, section_kind

GOOD = """\
title: Test Song
preset: pop
seed: 3
key: A minor
tempo_bpm: 120
time_signature: "4/4"
sections:
  - name: Verse 1
    bars: 4
    lyrics: |
      Hello there my friend
      Where the roads all end
  - name: Chorus
    bars: 2
output:
  sample_rate: 48000
  bit_depth: 24
"""


def test_good_spec_parses():
    spec = parse_spec_text(GOOD, "song.yaml")
    assert spec.title == "Test Song" and spec.seed == 3
    assert spec.key.tonic_pc == 9 and spec.key.mode == "minor"
    assert spec.sections[0].lyrics == ("Hello there my friend", "Where the roads all end")
    assert spec.sections[0].kind == "verse" and spec.sections[1].kind == "chorus"
    assert spec.output.bit_depth == "24" and spec.total_bars == 6


def test_tempo_map_and_meter_changes_place_sections_exactly():
    text = GOOD.replace("tempo_bpm: 120\n", "tempo_map:\n  - {bar: 1, bpm: 120}\n  - {bar: 5, bpm: 90}\n")
    text = text.replace('time_signature: "4/4"\n',
                        'time_signature:\n  - {bar: 1, signature: "4/4"}\n  - {bar: 5, signature: "3/4"}\n')
    spec = parse_spec_text(text, "song.yaml")
    tl = build_timeline(spec, 48000)
    sections = place_sections(spec, tl)
    assert (sections[0].start_sample, sections[0].end_sample) == (0, 384000)
    assert (sections[1].start_sample, sections[1].end_sample) == (384000, 576000)
    assert sections[1].start_beat == 16 and sections[1].end_beat == 22


def err(text, **kw) -> SpecError:
    with pytest.raises(SpecError) as e:
        parse_spec_text(text, "song.yaml", **kw)
    return e.value


def line_of(text, needle):
    return next(i for i, l in enumerate(text.splitlines(), 1) if needle in l)


@pytest.mark.parametrize("old,new,field,allowed", [
    ("tempo_bpm: 120", "tempo_bpm: 0", "tempo_bpm", ">= 4"),
    ("tempo_bpm: 120", "tempo_bpm: 401", "tempo_bpm", "<= 400"),
    ("tempo_bpm: 120", "tempo_bpm: -5", "tempo_bpm", ">= 4"),
    ("tempo_bpm: 120", "tempo_bpm: fast", "tempo_bpm", "number"),
    ('time_signature: "4/4"', 'time_signature: "0/0"', "time_signature", "N/D"),
    ('time_signature: "4/4"', 'time_signature: "7/5"', "time_signature", "N/D"),
    ("    bars: 4", "    bars: 0", "sections[0].bars", "integer >= 1"),
    ("    bars: 4", "    bars: 2.5", "sections[0].bars", "integer"),
    ("key: A minor", "key: H minor", "key", "tonic A-G"),
    ("key: A minor", "key: C blues", "key", "mode"),
    ("  sample_rate: 48000", "  sample_rate: 22050", "output.sample_rate", "44100"),
    ("  bit_depth: 24", "  bit_depth: 8", "output.bit_depth", "16, 24 or 32f"),
    ("seed: 3", "seed: -1", "seed", ">= 0"),
    ("seed: 3", "seed: 4294967296", "seed", "<= 4294967295"),   # in full, not 4.29497e+09
    ("title: Test Song", "titel: Test Song", "titel", "title"),
    ("preset: pop", "preset: ../../etc", "preset", "name"),
])
def test_bad_fields_named_with_line(old, new, field, allowed):
    text = GOOD.replace(old, new)
    e = err(text)
    assert e.file == "song.yaml"
    assert e.field == field
    assert e.line == line_of(text, new.strip().split(":")[0] if not new.startswith(" ") else new.strip())
    assert allowed in e.allowed
    msg = e.format()
    assert msg.startswith(f"song.yaml:{e.line}: {field}:")


def test_song_longer_than_maximum():
    text = GOOD.replace("    bars: 2\n", "    bars: 256\n").replace("tempo_bpm: 120", "tempo_bpm: 20")
    e = err(text)
    assert "longer than the supported maximum" in e.message and "1200" in e.allowed


def test_missing_required_and_empty():
    assert err("").message == "the spec is empty"
    e = err(GOOD.replace("title: Test Song\n", ""))
    assert e.field == "title" and "required" in e.message
    e = err("\n".join(ln for ln in GOOD.splitlines() if not ln.startswith("preset:")) + "\n")
    assert e.field == "preset" and "required" in e.message and "ainur presets" in e.allowed
    assert err("- just\n- a list\n").message.startswith("the spec must be a mapping")


def test_yaml_syntax_error_has_line():
    e = err(GOOD.replace("  - name: Chorus", "  - name: [Chorus"))
    assert "YAML syntax error" in e.message and e.line is not None


def test_duplicate_key():
    e = err(GOOD + "seed: 4\n")
    assert e.message == "duplicate key" and e.line == line_of(GOOD + "seed: 4\n", "seed: 4")


def test_non_utf8_file(tmp_path: Path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes(GOOD.replace("Hello", "H\xe9llo").encode("latin-1"))
    with pytest.raises(SpecError) as e:
        load_spec(p)
    assert "not UTF-8" in e.value.message and e.value.line == line_of(GOOD, "Hello")


def test_missing_file(tmp_path: Path):
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_cli_overrides_win_and_are_named():
    spec = parse_spec_text(GOOD, "song.yaml", overrides={"seed": 9, "tempo_bpm": 90.0})
    assert spec.seed == 9 and spec.tempo_map == ((1, 90.0),)
    e = err(GOOD, overrides={"key": "Q major"})
    assert "--key" in e.file and e.field == "key"


def test_tempo_map_order_and_start():
    text = GOOD.replace("tempo_bpm: 120\n", "tempo_map:\n  - {bar: 2, bpm: 120}\n")
    assert "bar 1" in err(text).message
    text = GOOD.replace("tempo_bpm: 120\n", "tempo_map:\n  - {bar: 1, bpm: 120}\n  - {bar: 1, bpm: 90}\n")
    assert "increasing" in err(text).message
    text = GOOD.replace("tempo_bpm: 120\n", "tempo_map:\n  - {bar: 1, bpm: 120}\n  - {bar: 99, bpm: 90}\n")
    assert err(text).field == "tempo_map[1].bar"


@pytest.mark.parametrize("name,kind", [
    ("Verse 2", "verse"), ("CHORUS", "chorus"), ("pre-chorus", "pre-chorus"),
    ("Pre Chorus 2", "pre-chorus"), ("Bridge", "bridge"), ("Intro", "intro"), ("Outro", "outro"),
    ("Chorus2", "chorus"), ("Breakdown", "breakdown"), ("Drop 1", "drop"), ("Interlude", "instrumental"),
    ("Something else", "section"), ("Endless", "section"),
])
def test_section_kind(name, kind):
    assert section_kind(name) == kind


# -- property: malformed specs never escape as anything but a clean AinurError ---------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), c, max_size=4)),
                      max_leaves=12)
base = yaml.safe_load(GOOD)
field_names = st.sampled_from(sorted(set(base) | {"tempo_map", "style", "bogus"}))


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzzed_specs_fail_cleanly(data):
    doc = dict(base)
    for _ in range(data.draw(st.integers(1, 3))):
        doc[data.draw(field_names)] = data.draw(values)
    if data.draw(st.booleans()):
        secs = doc.get("sections")
        sec = dict(secs[0]) if isinstance(secs, list) and secs and isinstance(secs[0], dict) else {}
        sec[data.draw(st.sampled_from(["name", "bars", "lyrics", "energy", "type", "x"]))] = data.draw(values)
        doc["sections"] = [sec]
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        parse_spec_text(text, "fuzz.yaml")
    except AinurError as e:
        msg = e.format()
        assert msg.startswith("fuzz.yaml") and "\n" not in msg.strip()


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200))
def test_fuzzed_text_fails_cleanly(text):
    try:
        parse_spec_text(text, "fuzz.yaml")
    except AinurError as e:
        assert e.format().startswith("fuzz.yaml")


def test_lyric_sheet_repeat_marks_and_headers():
    from ainur_cli.spec_lyrics import lyric_file_lines

    text = GOOD.replace("      Hello there my friend\n",
                        "      Hello there my friend (x2)\n      Oh oh [x3]\n      Let go 2x\n")
    spec = parse_spec_text(text, "song.yaml")
    assert spec.sections[0].lyrics == (
        "Hello there my friend", "Hello there my friend", "Oh oh", "Oh oh", "Oh oh",
        "Let go 2x", "Where the roads all end")   # "2x" without brackets: words, not a mark
    lines = lyric_file_lines(spec.source)
    first = line_of(text, "Hello there")
    assert [lines[(0, k)] for k in range(1, 8)] == [first] * 2 + [first + 1] * 3 + [first + 2, first + 3]
    # the lines it cannot take name themselves
    for line, needle in [("[Chorus]", "section header"), ("(Repeat chorus)", "direction"),
                         ("*Guitar solo*", "direction"), ("(x2)", "repeat mark on its own"),
                         ("Hello (x17)", "too many or too few"), ("Hello (x0)", "too many or too few"),
                         ("Hello (x999)", "too many or too few"),
                         ("@2 Hello there (x2)", "pinned and repeated")]:
        bad = GOOD.replace("      Where the roads all end\n", f"      {line}\n")
        e = err(bad)
        assert needle in e.message and e.line == line_of(bad, line), (line, e.format())
        assert e.field == "sections[0].lyrics" and "lyric line 2" in e.message
    # a mark too long to be one is words (sung digit by digit), not a crash in int()
    long = parse_spec_text(GOOD.replace("Where the roads all end", "Hello (x" + "9" * 5000 + ")"),
                           "s.yaml")
    assert long.sections[0].lyrics[1].startswith("Hello (x999")
    # sung words in parentheses are lyrics (a backing line, an ad-lib)
    ooh = parse_spec_text(GOOD.replace("Where the roads all end", "(Ooh, in the night)"), "s.yaml")
    assert ooh.sections[0].lyrics[1] == "(Ooh, in the night)"


@pytest.mark.parametrize("example", sorted((Path(__file__).parents[1] / "examples").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_example_song_validates(example):
    """The example specs (README points producers at them) load and resolve completely."""
    from ainur_cli.api import resolve_song

    plan = resolve_song(load_spec(example)).plan
    assert plan.total_samples > 0 and any(s.lyrics for s in plan.spec.sections)
