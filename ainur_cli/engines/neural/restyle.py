"""Restyle the embedded engine's stems one by one with per-stem prompts.

Each stem goes through :meth:`NeuralModel.transfer` on its own, so the result is still stems:
same names, same lengths and sample rate, still tempo-locked (audio-to-audio keeps timing),
ready for the linked master. Stems without a prompt pass through untouched.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping

import numpy as np

from ainur_cli.engines.neural.audio import check_audio, check_sample_rate
from ainur_cli.engines.neural.options import check_strength, derive_seed
from ainur_cli.errors import SpecError

log = logging.getLogger(__name__)


def restyle_stems(model, stems: Mapping[str, np.ndarray], sample_rate: int,
                  prompts: Mapping[str, str], *, strength: float, seed: int, steps: int,
                  cfg_scale: float, negative_prompt: str | None = None,
                  progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """Restyle every stem that has a prompt; return all stems in the input's order.

    :param stems: name -> (channels, samples) float32 at ``sample_rate`` Hz.
    :param prompts: name -> prompt; a missing or empty prompt leaves that stem unchanged.
    :param seed: each stem uses its own seed derived from ``(seed, name)``, so adding or
        removing another stem's prompt does not change this stem's result.
    """
    check_sample_rate(sample_rate)
    check_strength(strength)
    unknown = sorted(set(prompts) - set(stems))
    if unknown:
        raise SpecError("prompt for a stem that does not exist",
                         field=f"prompts.{unknown[0]}", value=unknown[0],
                         allowed=", ".join(stems) or "no stems")
    todo = [name for name in stems if prompts.get(name)]
    out: dict[str, np.ndarray] = {}
    for name, audio in stems.items():
        audio = check_audio(audio, field=f"stems.{name}")
        if name not in todo:
            out[name] = audio
            continue
        i = todo.index(name)

        def part(fraction: float, i: int = i) -> None:
            if progress is not None:
                progress((i + fraction) / len(todo))

        log.info("restyling stem %s: %r (strength %.2f)", name, prompts[name], strength)
        out[name] = model.transfer(audio, sample_rate, prompt=prompts[name], strength=strength,
                                   steps=steps, cfg_scale=cfg_scale,
                                   negative_prompt=negative_prompt,
                                   seed=derive_seed(seed, "stem", name), progress=part)
    return out
