"""The render stack imports without scipy.signal / scipy.fft and what they drag in (~0.8 CPU-s
per process): only their two compiled kernels are loaded."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("scipy.signal", "scipy.stats", "scipy.interpolate", "scipy.optimize", "scipy.spatial",
         "scipy.fft", "scipy.special", "pyloudnorm")
KERNELS = ("scipy.signal._sosfilt", "scipy.fft._pocketfft.pypocketfft")
ROOT = Path(__file__).resolve().parents[1]


def _run(code: str):
    """Run ``code`` in a fresh interpreter (this checkout first on the path); the JSON it
    prints last."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(name: str) -> bool:
    if name in KERNELS:  # loaded on their own (ainur_cli.dsp.scipy_kernels)
        return False
    return any(name == h or name.startswith(h + ".") for h in HEAVY)


@pytest.mark.parametrize("module", ["ainur_cli.render", "ainur_cli.batch.preload"])
def test_render_stack_does_not_import_scipy_signal(module):
    got = _run(f"import sys, json, {module}\n"
               "from ainur_cli.dsp import biquads\n"
               "from ainur_cli.mix import reverb\n"
               "print(json.dumps([biquads._USE_KERNEL, reverb._USE_POCKETFFT, sorted(sys.modules)]))")
    sosfilt_in_use, pocketfft_in_use, loaded = got
    assert sosfilt_in_use, "sosfilt's compiled kernel was not loaded on its own"
    assert pocketfft_in_use, "pocketfft was not loaded on its own"
    assert set(KERNELS) <= set(loaded)
    assert [m for m in loaded if _heavy(m)] == []


def test_later_scipy_imports_reuse_the_kernel_modules():
    assert _run("import json\n"
                "from ainur_cli.dsp import biquads\n"
                "from ainur_cli.mix import reverb\n"
                "import scipy.signal, scipy.signal._signaltools as st, scipy.fft\n"
                "import scipy.fft._pocketfft.basic as fft_basic\n"
                "print(json.dumps(st._sosfilt is biquads._kernel\n"
                "                 and fft_basic.pfft is reverb._POCKETFFT))")


def test_load_extension_misses_cleanly():
    from ainur_cli.dsp.scipy_kernels import load_extension

    assert load_extension("scipy.signal._no_such_kernel") is None
    with pytest.raises(ValueError):
        load_extension("numpy.fft._pocketfft_umath")
