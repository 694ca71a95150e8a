"""scipy's compiled kernels, loaded without the Python packages around them.

``import scipy.signal`` runs ``scipy/signal/__init__.py``, which imports scipy.stats,
interpolate, optimize and spatial (~0.6 CPU-s); ``import scipy.fft`` pulls scipy.special and
the array-API layer (~0.2 CPU-s). The mixer needs two self-contained extension modules from
them (each needs numpy only): the ``sosfilt`` kernel and pocketfft. :func:`load_extension`
loads such a module from its file next to ``scipy.__file__`` with ``importlib``'s extension
loader and registers it in ``sys.modules`` under its real name, so a later import of the
package reuses that very module instead of loading it a second time.

scipy is not pinned (``scipy>=1.11``): these are private modules, so each user checks the
kernel against a known answer once and falls back to the public scipy function (imported
then, with a warning in the log) when the file is missing, fails to load or answers wrongly.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType


def load_extension(dotted_name: str) -> ModuleType | None:
    """The compiled module ``dotted_name`` (e.g. ``"scipy.signal._sosfilt"``) loaded from its
    file without importing the packages above it, or None when that is not possible."""
    parts = dotted_name.split(".")
    if parts[0] != "scipy" or len(parts) < 2:
        raise ValueError(f"not a scipy module: {dotted_name!r}")
    module = sys.modules.get(dotted_name)
    if module is not None:
        return module
    try:
        import scipy
    except ImportError:  # pragma: no cover - scipy is a dependency
        return None
    folder = os.path.join(os.path.dirname(scipy.__file__), *parts[1:-1])
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, parts[-1] + suffix)
        if os.path.isfile(path):
            break
    else:
        return None
    try:
        loader = importlib.machinery.ExtensionFileLoader(dotted_name, path)
        spec = importlib.util.spec_from_file_location(dotted_name, path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - any failure means: use the public function
        return None
    sys.modules[dotted_name] = module
    return module
