"""Validation of the user-facing numbers of the neural engine (no torch).

Every check raises :class:`ModelError` naming the field, the bad value and what is allowed;
nothing is clamped silently.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from ainur_cli.errors import ModelError

MAX_STEPS = 1000
MAX_CFG = 50.0
MAX_SEED = 2**63 - 1


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def check_strength(strength: Any) -> float:
    """Audio-to-audio strength: 0 = keep the input, 1 = ignore it."""
    if not _number(strength) or not 0.0 <= strength <= 1.0:
        raise ModelError("strength out of range", field="strength", value=strength,
                         allowed="a number from 0 (keep the input) to 1 (ignore it)")
    return float(strength)


def check_common(*, steps: Any, cfg_scale: Any, negative_prompt: Any, seed: Any) -> None:
    """Sampler steps, guidance scale, negative prompt and seed."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ModelError("steps out of range", field="steps", value=steps,
                         allowed=f"an integer 1..{MAX_STEPS}")
    if not _number(cfg_scale) or not 0.0 <= cfg_scale <= MAX_CFG:
        raise ModelError("cfg_scale out of range", field="cfg_scale", value=cfg_scale,
                         allowed=f"a number 0..{MAX_CFG:g} (1 = no guidance)")
    if negative_prompt is not None and not isinstance(negative_prompt, str):
        raise ModelError("negative prompt must be text", field="negative_prompt",
                         value=negative_prompt, allowed="a string, or none")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ModelError("seed out of range", field="seed", value=seed,
                         allowed=f"an integer 0..{MAX_SEED}")


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed for one window or stem, stable across runs and Python versions."""
    text = repr((int(seed),) + tuple(keys)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1
