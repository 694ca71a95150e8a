"""A song spec can restyle rendered stems with the neural engine (tiny random `unittest`
model): prompted stems change, the others stay, and the stems still sum to the mix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from ainur_cli import api
from ainur_cli.errors import AinurError
from tests.conftest import SHORT_SONG

pytest.importorskip("torch")
pytest.importorskip("diffusers")

RESTYLE = """restyle:
  model: unittest
  strength: 0.5
  steps: 2
  cfg_scale: 3
  device: cpu
  prompts:
    keys: warm rhodes piano
"""


def _song(tmp_path, extra=""):
    p = tmp_path / "s.yaml"
    p.write_text(SHORT_SONG.format(preset="pop", bit_depth="32f").replace("output:", extra + "output:"))
    return p


def _read(p):
    return sf.read(str(p), dtype="float64", always_2d=True)[0].T


def test_restyle_changes_only_prompted_stems(tmp_path):
    plain = api.render_file(_song(tmp_path), out_dir=tmp_path / "plain",
                            overrides={"parts": "drums,bass,keys,lead"})
    styled = api.render_file(_song(tmp_path, RESTYLE), out_dir=tmp_path / "styled",
                             overrides={"parts": "drums,bass,keys,lead"})
    assert styled.manifest["spec_hash"] != plain.manifest["spec_hash"]
    a, b = _read(plain.out_dir / "stems/keys.wav"), _read(styled.out_dir / "stems/keys.wav")
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-4)
    mix = _read(styled.out_dir / "mix.wav")
    total = sum(_read(styled.out_dir / f"stems/{n}.wav") for n in ("drums", "bass", "keys", "lead"))
    assert np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix ** 2)) < 1e-3


def test_restyle_prompt_for_missing_part(tmp_path):
    with pytest.raises(AinurError, match="not rendered"):
        api.render_file(_song(tmp_path, RESTYLE.replace("keys:", "kazoo:")), out_dir=tmp_path / "x",
                        overrides={"parts": "drums,bass,keys,lead"})
    assert not (tmp_path / "x").exists()
