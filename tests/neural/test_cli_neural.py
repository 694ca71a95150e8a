"""``ainur models list|verify`` and ``ainur transfer`` through click, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from ainur_cli.cli import AinurGroup
from ainur_cli.cli_neural import models_group, transfer_command
from ainur_cli.engines.neural.cards import load_card
from tests.neural.conftest import sine

ROOT = Path(__file__).resolve().parents[2]


@click.group(cls=AinurGroup)
def cli() -> None:
    """The main CLI's error handling, with the neural commands registered as the lead will."""


cli.add_command(models_group)
cli.add_command(transfer_command)


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_importing_the_cli_module_does_not_import_torch():
    proc = run_python("import sys, ainur_cli.cli_neural, ainur_cli.engines.neural\n"
                      "assert 'torch' not in sys.modules, 'torch imported'\n"
                      "assert 'diffusers' not in sys.modules, 'diffusers imported'")
    assert proc.returncode == 0, proc.stderr


def test_without_torch_the_commands_say_what_to_install(tmp_path):
    wav = tmp_path / "in.wav"
    sf.write(wav, sine(0.2, 16000).T, 16000)
    code = f"""
import sys
sys.modules['torch'] = None  # as if the neural extra were not installed
import click
from click.testing import CliRunner
from ainur_cli.cli import AinurGroup
from ainur_cli.cli_neural import models_group, transfer_command
from ainur_cli.errors import MissingDependencyError
@click.group(cls=AinurGroup)
def cli(): pass
cli.add_command(models_group); cli.add_command(transfer_command)
r = CliRunner().invoke(cli, ['transfer', {str(wav)!r}, '--prompt', 'x', '--out',
                             {str(tmp_path / 'o.wav')!r}, '--model', 'unittest'])
print('TRANSFER', r.exit_code, r.output)
r = CliRunner().invoke(cli, ['models', 'list'])
print('LIST', r.exit_code, r.output)
from ainur_cli.engines.neural import load_model
try:
    load_model('unittest')
except MissingDependencyError as e:
    print('LOAD', e)
"""
    proc = run_python(code)
    out = proc.stdout.replace("\n", " ")
    assert "TRANSFER 2" in out and "pip install 'ainur[neural]'" in out, proc.stdout
    assert "torch==2.13.0" in out and "missing: torch" in out
    assert "LIST 0" in out and "neural extra not installed" in out
    assert "LOAD" in out and "pip install 'ainur[neural]'" in out
    assert not (tmp_path / "o.wav").exists()


def _fake_sao_folder(root: Path, drop: int = 0) -> Path:
    card = load_card("stable-audio-open-1.0")
    folder = root / card.name
    for spec in card.files[: len(card.files) - drop]:
        path = folder / spec.candidates()[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    (folder / "vae" / "config.json").write_text(json.dumps(card.architecture["vae"]))
    return folder


def test_models_list_shows_cards_and_weight_status(tmp_path):
    r = CliRunner().invoke(cli, ["models", "list", "--json", "--models-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    rows = {m["name"]: m for m in json.loads(r.output)["models"]}
    assert rows["stable-audio-open-1.0"]["status"] == "absent"
    assert rows["unittest"]["status"] == "built-in"
    _fake_sao_folder(tmp_path, drop=2)
    r = CliRunner().invoke(cli, ["models", "list", "--json"], env={"AINUR_MODELS_DIR": str(tmp_path)})
    row = {m["name"]: m for m in json.loads(r.output)["models"]}["stable-audio-open-1.0"]
    assert row["status"] == "incomplete"
    assert row["missing"] == ["tokenizer/tokenizer_config.json",
                              "tokenizer/tokenizer.json or tokenizer/spiece.model"]
    r = CliRunner().invoke(cli, ["models", "list", "--models-dir", str(tmp_path)])
    assert r.exit_code == 0 and "incomplete" in r.output and "stable-audio-open-1.0" in r.output


def test_models_verify(tmp_path):
    folder = _fake_sao_folder(tmp_path)
    r = CliRunner().invoke(cli, ["models", "verify", "stable-audio-open-1.0", "--models-dir",
                                 str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "skipped (no sha256 in card)" in r.output and "all expected files present" in r.output
    cfg = json.loads((folder / "vae" / "config.json").read_text()) | {"sampling_rate": 48000}
    (folder / "vae" / "config.json").write_text(json.dumps(cfg))
    r = CliRunner().invoke(cli, ["models", "verify", "stable-audio-open-1.0", "--models-dir",
                                 str(tmp_path)])
    assert r.exit_code == 2 and "wrong sample rate" in r.output and "48000" in r.output
    r = CliRunner().invoke(cli, ["models", "verify", "stable-audio-open-1.0", "--models-dir",
                                 str(tmp_path / "empty")])
    assert r.exit_code == 2 and "not found" in r.output


def test_transfer_writes_the_input_length_and_rate(tmp_path):
    pytest.importorskip("torch")
    src = tmp_path / "in.wav"
    audio = sine(0.6, 22050, channels=1)
    sf.write(src, audio.T, 22050, subtype="PCM_16")
    out = tmp_path / "sub" / "out.wav"
    args = ["transfer", str(src), "--prompt", "jazz trio", "--strength", "0.4", "--out",
            str(out), "--model", "unittest", "--seed", "3", "--steps", "2", "--device", "cpu"]
    r = CliRunner().invoke(cli, args + ["--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["sample_rate"] == 22050 and summary["channels"] == 1
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels) == (audio.shape[1], 22050, 1)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    first = sf.read(out)[0]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2 and "exists" in r.output
    r = CliRunner().invoke(cli, args + ["--force"])
    assert r.exit_code == 0 and np.array_equal(sf.read(out)[0], first)  # same seed, same file
    r = CliRunner().invoke(cli, args[:-1] + ["cpu", "--strength", "1.5", "--force"])
    assert r.exit_code == 2 and "strength" in r.output
    r = CliRunner().invoke(cli, ["transfer", str(src), "--prompt", "x", "--out",
                                 str(tmp_path / "o.mp3"), "--model", "unittest"])
    assert r.exit_code == 2 and ".wav or .flac" in r.output
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    r = CliRunner().invoke(cli, ["transfer", str(tmp_path / "junk.wav"), "--prompt", "x",
                                 "--out", str(tmp_path / "o.wav"), "--model", "unittest"])
    assert r.exit_code == 2 and "cannot read audio" in r.output
