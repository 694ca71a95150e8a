"""``load_model``: resolve a name/path, pick device and precision, build the model."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ainur_cli.engines.neural.cards import ModelCard, check_folder, resolve_model
from ainur_cli.engines.neural.components import build_random, load_components
from ainur_cli.engines.neural.model import NeuralModel
from ainur_cli.errors import EngineError, ModelError

log = logging.getLogger(__name__)
DEVICES = "auto, cpu, cuda, cuda:N"
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(device: str) -> torch.device:
    """``auto`` is the first CUDA GPU when there is one, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        if not torch.cuda.is_available():
            raise EngineError("no CUDA GPU is available to this torch", field="device",
                              value=device, allowed="auto or cpu")
        try:
            return torch.device(device)
        except RuntimeError:
            pass
    raise ModelError("unknown device", field="device", value=device, allowed=DEVICES)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on GPUs that have it, else float16 on GPU; float32 on the CPU."""
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in DTYPES:
        raise ModelError("unknown precision", field="dtype", value=dtype,
                         allowed="auto, " + ", ".join(DTYPES))
    if device.type == "cpu" and dtype == "float16":
        raise ModelError("float16 is not supported on the CPU", field="dtype", value=dtype,
                         allowed="float32 or bfloat16 on the CPU")
    return DTYPES[dtype]


def load_model(name_or_path: str | Path, *, models_dir: str | Path | None = None,
               device: str = "auto", dtype: str = "auto", weights: str | Path | None = None,
               ) -> NeuralModel:
    """Load a model by card name (``stable-audio-open-1.0``, ``unittest``) or folder path.

    :param models_dir: folder holding ``NAME/`` weight folders (default: ``$AINUR_MODELS_DIR``,
        else ``~/.local/share/ainur/models``).
    :param weights: a weights folder to use for the named card instead of ``models_dir/NAME``.
    :raises ModelError: unknown name, missing/incomplete folder (names the missing files),
        VAE sample rate differing from the card, unreadable weights.
    """
    card, folder = resolve_model(name_or_path, models_dir)
    if weights is not None:
        if not card.needs_weights:
            raise ModelError("this model is built from its card and takes no weights folder",
                             field="weights", value=str(weights))
        folder = Path(weights).expanduser()
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    if card.needs_weights:
        check_folder(folder, card)
        components = load_components(folder, card, dtype=dt)
    else:
        components = build_random(card)
    model = NeuralModel(card, components, device=dev, dtype=dt)
    log.info("loaded %r", model)
    return model


def model_from_components(card: ModelCard, components, *, device: str = "auto",
                          dtype: str = "auto") -> NeuralModel:
    """Wrap already-built components (benchmarks, tests) in a :class:`NeuralModel`."""
    dev = resolve_device(device)
    return NeuralModel(card, components, device=dev, dtype=resolve_dtype(dtype, dev))
