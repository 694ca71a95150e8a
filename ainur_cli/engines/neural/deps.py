"""Is the optional neural stack installed? Checked without importing it.

The neural engine needs torch (pinned), diffusers, transformers and safetensors. This module
only asks importlib whether they can be found, so ``ainur --help``, ``ainur models list`` and
the embedded engine never load torch.
"""

from __future__ import annotations

import importlib.util

from ainur_cli.errors import MissingDependencyError

#: The one install line users are told (the ``neural`` extra pins torch==2.13.0).
INSTALL_HINT = "pip install 'ainur[neural]'"
TORCH_PIN = "torch==2.13.0"
NEURAL_PACKAGES = ("torch", "diffusers", "transformers", "safetensors")


def missing_neural_packages() -> list[str]:
    """Names of the neural packages that cannot be imported (empty when all are there)."""
    return [name for name in NEURAL_PACKAGES if importlib.util.find_spec(name) is None]


def require_neural(feature: str = "the neural engine") -> None:
    """Raise :class:`MissingDependencyError` naming the install command if a package is absent."""
    missing = missing_neural_packages()
    if missing:
        raise MissingDependencyError(
            f"{feature} needs torch, diffusers, transformers and safetensors "
            f"(missing: {', '.join(missing)}); install them with: {INSTALL_HINT} "
            f"(it pins {TORCH_PIN})")
