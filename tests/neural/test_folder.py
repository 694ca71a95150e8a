"""Save-then-load in the real diffusers folder layout, and bad folders."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

from ainur_cli.engines.neural import load_model  # noqa: E402
from ainur_cli.errors import ModelError  # noqa: E402

SAO_LAYOUT = {  # model_index.json of stabilityai/stable-audio-open-1.0
    "projection_model": ["stable_audio", "StableAudioProjectionModel"],
    "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"],
    "text_encoder": ["transformers", "T5EncoderModel"],
    "tokenizer": ["transformers", "T5TokenizerFast"],
    "transformer": ["diffusers", "StableAudioDiTModel"],
    "vae": ["diffusers", "AutoencoderOobleck"],
}


def test_saved_folder_has_the_diffusers_layout(tiny_folder):
    index = json.loads((tiny_folder / "model_index.json").read_text())
    assert index["_class_name"] == "StableAudioPipeline"
    assert {k: v for k, v in index.items() if not k.startswith("_")} == SAO_LAYOUT
    for part in ("transformer", "vae", "projection_model"):
        assert (tiny_folder / part / "diffusion_pytorch_model.safetensors").is_file()
        assert json.loads((tiny_folder / part / "config.json").read_text())["_class_name"]
    assert (tiny_folder / "text_encoder" / "model.safetensors").is_file()
    assert (tiny_folder / "tokenizer" / "tokenizer.json").is_file()
    sched = json.loads((tiny_folder / "scheduler" / "scheduler_config.json").read_text())
    assert sched["prediction_type"] == "v_prediction" and sched["sigma_max"] == 500


def test_save_then_load_round_trips_bit_for_bit(tiny, tiny_folder):
    loaded = load_model(str(tiny_folder), device="cpu")
    assert loaded.sample_rate == tiny.sample_rate and loaded.max_window_s == tiny.max_window_s
    a = tiny.generate("soft piano", seconds_total=2.0, steps=3, seed=5)
    b = loaded.generate("soft piano", seconds_total=2.0, steps=3, seed=5)
    assert np.array_equal(a, b)


def test_the_same_folder_loads_with_diffusers_own_classes(tiny_folder):
    from diffusers import AutoencoderOobleck, StableAudioDiTModel
    from transformers import AutoTokenizer, T5EncoderModel

    dit = StableAudioDiTModel.from_pretrained(tiny_folder / "transformer")
    vae = AutoencoderOobleck.from_pretrained(tiny_folder / "vae")
    t5 = T5EncoderModel.from_pretrained(tiny_folder / "text_encoder")
    tok = AutoTokenizer.from_pretrained(tiny_folder / "tokenizer")
    assert dit.config.sample_size == 256 and vae.config.sampling_rate == 16000
    assert tok.model_max_length == 16 and t5.config.d_model == 16


def test_incomplete_folder_says_which_files_are_missing(tiny_folder, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_folder, broken)
    (broken / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    shutil.rmtree(broken / "tokenizer")
    with pytest.raises(ModelError) as e:
        load_model(str(broken), device="cpu")
    msg = str(e.value)
    assert "vae/diffusion_pytorch_model.safetensors" in msg
    assert "tokenizer/tokenizer_config.json" in msg and str(broken) in msg


def test_named_model_without_weights_points_at_the_folder(tmp_path):
    with pytest.raises(ModelError) as e:
        load_model("stable-audio-open-1.0", models_dir=tmp_path, device="cpu")
    assert str(tmp_path / "stable-audio-open-1.0") in str(e.value)
    with pytest.raises(ModelError, match="unknown model"):
        load_model(str(tmp_path / "nope"), device="cpu")


def test_wrong_sample_rate_in_folder(tiny_folder, tmp_path):
    bad = tmp_path / "rate"
    shutil.copytree(tiny_folder, bad)
    cfg = json.loads((bad / "vae" / "config.json").read_text())
    cfg["sampling_rate"] = 22050
    (bad / "vae" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError) as e:
        load_model(str(bad), device="cpu")
    assert "sample rate" in str(e.value) and "22050" in str(e.value)


def test_corrupt_weights_are_a_model_error(tiny_folder, tmp_path):
    bad = tmp_path / "corrupt"
    shutil.copytree(tiny_folder, bad)
    (bad / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(ModelError, match="transformer"):
        load_model(str(bad), device="cpu")


def test_device_and_dtype_errors(tiny_folder):
    import torch

    with pytest.raises(ModelError, match="device"):
        load_model("unittest", device="tpu")
    with pytest.raises(ModelError, match="dtype"):
        load_model("unittest", device="cpu", dtype="float16")
    if not torch.cuda.is_available():
        from ainur_cli.errors import EngineError

        with pytest.raises(EngineError, match="CUDA"):
            load_model("unittest", device="cuda")
    with pytest.raises(ModelError, match="weights"):
        load_model("unittest", device="cpu", weights=tiny_folder)
