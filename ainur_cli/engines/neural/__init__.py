"""Neural engine: timing-conditioned latent diffusion and audio-to-audio (optional, torch).

Public surface (NumPy in and out, audio ``(channels, samples)`` float32)::

    model = load_model("stable-audio-open-1.0", models_dir=..., device="auto")
    audio = model.generate("warm lofi piano", seconds_total=20.0, seed=1)
    song = model.generate_song([(0, 30, "intro ..."), (30, 95, "verse ...")],
                               song_length_s=95.0, seed=1)
    out = model.transfer(audio, 48000, prompt="jazz trio", strength=0.4, seed=1)
    stems = restyle_stems(model, stems, 48000, {"keys": "rhodes"}, strength=0.4, seed=1,
                          steps=50, cfg_scale=7.0)

Importing this package does not import torch: :func:`load_model` checks that the ``neural``
extra is installed (else :class:`~ainur_cli.errors.MissingDependencyError` with the install
command) and only then loads the torch modules. The ``unittest`` model card builds a tiny
random-weight model offline for tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainur_cli.engines.neural.cards import (ModelCard, list_cards, load_card,
                                            resolve_models_dir)
from ainur_cli.engines.neural.deps import INSTALL_HINT, require_neural
from ainur_cli.engines.neural.restyle import restyle_stems

if TYPE_CHECKING:
    from ainur_cli.engines.neural.model import NeuralModel

__all__ = ["load_model", "NeuralModel", "restyle_stems", "list_cards", "load_card",
           "ModelCard", "resolve_models_dir", "INSTALL_HINT"]


def load_model(name_or_path: str | Path, *, models_dir: str | Path | None = None,
               device: str = "auto", dtype: str = "auto",
               weights: str | Path | None = None) -> "NeuralModel":
    """Load a neural model; see :func:`ainur_cli.engines.neural.loading.load_model`."""
    require_neural()
    from ainur_cli.engines.neural.loading import load_model as _load

    return _load(name_or_path, models_dir=models_dir, device=device, dtype=dtype,
                 weights=weights)


def __getattr__(name: str) -> Any:
    if name == "NeuralModel":
        require_neural()
        from ainur_cli.engines.neural.model import NeuralModel

        return NeuralModel
    raise AttributeError(name)
