"""Deterministic random generators: one per purpose, derived from the song's seed.

``rng_for(seed, "part", "bass")`` always gives the same stream for the same arguments, in any
process (a SHA-256 of the arguments' ``repr``, never Python's salted ``hash``), so adding a
part or a section never changes the random choices of another.
"""

from __future__ import annotations

import hashlib

import numpy as np


def seed_for(seed: int, *tags: object) -> int:
    """A 64-bit integer seed for ``(seed, *tags)``."""
    digest = hashlib.sha256(repr((int(seed),) + tags).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, *tags: object) -> np.random.Generator:
    """A numpy Generator for ``(seed, *tags)``."""
    return np.random.default_rng(seed_for(seed, *tags))
