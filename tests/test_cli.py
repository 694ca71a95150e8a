"""The command line: exit codes, messages without tracebacks, refusal to overwrite, --json,
start-up without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ainur_cli.cli import main
from tests.conftest import SHORT_SONG, write_song

runner = CliRunner()


def run(*args: str):
    return runner.invoke(main, list(args), catch_exceptions=False)


def assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text
    assert "error:" in text
    for n in needles:
        assert n in text, text


def test_help_does_not_load_torch():
    code = ("import sys; from ainur_cli.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "assert 'torch' not in sys.modules, 'ainur --help imported torch'\n"
            "assert 'numpy' not in sys.modules, 'ainur --help imported numpy'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_python_m_and_version():
    out = subprocess.run([sys.executable, "-m", "ainur_cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert "ainur" in out.stdout and "0." in out.stdout


def test_render_json_then_refuse_then_force_then_take(tmp_path: Path):
    spec = write_song(tmp_path)
    out = tmp_path / "out"
    first = run("render", str(spec), "--out", str(out), "--json", "--parts", "drums,bass,lead")
    assert first.exit_code == 0, first.output
    manifest = json.loads(first.stdout)
    assert manifest["title"] == "Short Test" and (out / "manifest.json").is_file()
    before = (out / "mix.wav").read_bytes()

    again = run("render", str(spec), "--out", str(out), "--seed", "5")
    assert_clean_error(again, "already there", "--force")
    assert (out / "mix.wav").read_bytes() == before  # nothing lost

    forced = run("-q", "render", str(spec), "--out", str(out), "--seed", "5", "--force",
                 "--parts", "drums,bass,lead")
    assert forced.exit_code == 0, forced.output
    assert (out / "mix.wav").read_bytes() != before
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5

    take = run("-q", "render", str(spec), "--out", str(out), "--new-take", "--parts", "drums")
    assert take.exit_code == 0
    assert (tmp_path / "out-take2" / "manifest.json").is_file()
    # No temporary folders are left behind.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_refuses_foreign_non_empty_folder(tmp_path: Path):
    spec = write_song(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert_clean_error(run("render", str(spec), "--out", str(out), "--force"), "not an Ainur render")
    assert (out / "keep.txt").read_text() == "precious"


def test_unwritable_output(tmp_path: Path):
    spec = write_song(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(run("render", str(spec), "--out", str(blocker / "sub")), "cannot write")


@pytest.mark.parametrize("change,needles", [
    (("preset: pop", "preset: polka-x"), ["unknown preset", "polka-x", "pop"]),
    (("bpm: 120", "bpm: 500"), ["tempo_map[0].bpm", "500"]),
    (('signature: "4/4"', 'signature: "7/5"'), ["time_signature[0].signature", "7/5"]),
    (("bars: 2", "bars: 0"), ["sections[0].bars"]),
    (("key: E minor", "key: E flat-ish"), ["key", "tonic"]),
    (("    lyrics: |\n      Walking", "    lyrics: [\n      Walking"), ["YAML syntax error"]),
])
def test_bad_spec_exit_2(tmp_path: Path, change, needles):
    spec = tmp_path / "bad.yaml"
    spec.write_text(SHORT_SONG.format(preset="pop", bit_depth="24").replace(*change, 1))
    result = run("render", str(spec), "--out", str(tmp_path / "o"))
    assert_clean_error(result, str(spec), *needles)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("change,line,needles", [
    (("Sing it loud tonight", "Sing it loud tonight\n      !!! ???"), 22,
     ["section 'Chorus', lyric line 2 has nothing singable", "'!!! ???'"]),
    (("Walking home in the rain", " ".join(["la"] * 40)), 17,
     ["section 'Verse 1', lyric line 1 has 40 syllables", "at most"]),
    (("Sing it loud tonight", "\n      ".join(["oh"] * 9)), 20,
     ["section 'Chorus' has 9 lyric lines but only 6 beats"]),
])
def test_unsingable_lyrics_name_their_file_line(tmp_path: Path, change, line, needles):
    """Lyrics the composer cannot sing are refused (exit 2, nothing written) with the spec
    file's line of the lyric line (of the lyrics field when the whole section is at fault)."""
    spec = tmp_path / "bad.yaml"
    spec.write_text(SHORT_SONG.format(preset="pop", bit_depth="24").replace(*change, 1))
    result = run("render", str(spec), "--out", str(tmp_path / "o"))
    assert_clean_error(result, f"{spec}:{line}: sections[", *needles)
    assert not (tmp_path / "o").exists()


def test_non_utf8_and_missing(tmp_path: Path):
    spec = tmp_path / "latin.yaml"
    spec.write_bytes(SHORT_SONG.format(preset="pop", bit_depth="24").replace("rain", "r\xe4in").encode("latin-1"))
    assert_clean_error(run("render", str(spec)), "not UTF-8")
    assert_clean_error(run("render", str(tmp_path / "nope.yaml")), "file not found")


def test_bad_flag_values(tmp_path: Path):
    spec = write_song(tmp_path)
    assert_clean_error(run("render", str(spec), "--key", "X major"), "--key")
    assert_clean_error(run("render", str(spec), "--parts", "drums,kazoo"), "kazoo")
    assert run("render", str(spec), "--sample-rate", "1234").exit_code == 2  # click's own check


def test_vocals_alone_without_lyrics_is_refused_naming_the_field(tmp_path: Path):
    # Found by fuzzing: the render had no stem to make and failed inside its process pool.
    spec = tmp_path / "instrumental.yaml"
    text = SHORT_SONG.format(preset="pop", bit_depth="24")
    text = text.replace("    lyrics: |\n      Walking home in the rain\n", "")
    text = text.replace("    lyrics: |\n      Sing it loud tonight\n", "    lyrics: ['', '  ']\n")
    spec.write_text(text + "  parts: [vocals]\n", encoding="utf-8")
    out = tmp_path / "out"
    lines = text.splitlines()
    assert_clean_error(run("render", str(spec), "--out", str(out)),
                       f"instrumental.yaml:{len(lines) + 1}: output.parts:", "no section has lyrics",
                       "other parts: drums")
    assert_clean_error(run("render", str(spec), "--out", str(out), "--parts", "vocals"),
                       "(overridden by --parts)", "no section has lyrics")
    assert not out.exists() and list(tmp_path.iterdir()) == [spec]
    plain = run("-q", "render", str(spec), "--out", str(out), "--parts", "drums")
    assert plain.exit_code == 0, plain.output
    assert (out / "stems" / "drums.wav").is_file() and not (out / "stems" / "vocals.wav").exists()


def test_symbols_and_other_scripts_in_lyrics_are_sung(tmp_path: Path):
    # Found by fuzzing: "①" reached the voice as a word espeak-ng says nothing for, and the
    # render failed there ("word: lyric line 1, note 1") without naming file or section.
    spec = tmp_path / "song.yaml"
    text = SHORT_SONG.format(preset="pop", bit_depth="24").replace(
        "Walking home in the rain", "① ｆｕｌｌ moon, 10,000 miles").replace(
        "Sing it loud tonight", "사랑해 tonight")
    spec.write_text(text + "  parts: [vocals]\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run("render", str(spec), "--out", str(out), "--json")
    assert done.exit_code == 0, done.output
    manifest = json.loads(done.stdout)
    assert manifest["warnings"] == [
        "section 'Chorus', lyric line 1: '사랑해' is sung as 'salanghae' (the voice sings "
        "English; write it in Latin letters to choose how)"]
    import mido

    lead = next(t for t in mido.MidiFile(out / "midi" / "song.mid").tracks if t.name == "lead")
    sung = "".join(m.text for m in lead if m.type == "lyrics").replace("\r", "/").strip("/ ")
    assert sung == "one full moon ten thousand miles /salanghae tonight"
    import numpy as np
    import soundfile

    vocal, rate = soundfile.read(out / "stems" / "vocals.wav")
    verse = vocal[4 * rate:6 * rate]  # bar 3 at 120 bpm: "one full moon ten ..."
    assert np.sqrt(np.mean(verse ** 2)) > 0.01


def test_presets_list_and_show():
    listed = run("presets", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    names = {r["name"] for r in rows}
    assert {"pop", "rock", "lofi-hiphop", "house", "acoustic-folk", "ballad"} <= names
    assert all(r["description"] and r["parts"] for r in rows)
    shown = run("presets", "show", "rock")
    assert shown.exit_code == 0 and "parts" in shown.stdout
    assert_clean_error(run("presets", "show", "nope"), "unknown preset")


def test_user_presets_dir(tmp_path: Path):
    from ainur_cli.presets import find_preset

    user = tmp_path / "mine"
    user.mkdir()
    (user / "my-pop.yaml").write_text(find_preset("pop").read_text().replace(
        "description:", "description: My own pop -", 1))
    listed = run("presets", "list", "--json", "--presets-dir", str(user))
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["my-pop"]["description"].startswith("My own pop -")
