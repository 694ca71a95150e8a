"""The render stack imports without scipy.signal and what it drags in (~0.6 s per process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("scipy.signal", "scipy.stats", "scipy.interpolate", "scipy.optimize", "scipy.spatial",
         "pyloudnorm")
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
    if name == "scipy.signal._sosfilt":  # the kernel, loaded on its own (ainur_cli.mix.biquads)
        return False
    return any(name == h or name.startswith(h + ".") for h in HEAVY)


@pytest.mark.parametrize("module", ["ainur_cli.render", "ainur_cli.batch.preload"])
def test_render_stack_does_not_import_scipy_signal(module):
    got = _run(f"import sys, json, {module}\n"
               "from ainur_cli.mix import biquads\n"
               "print(json.dumps([biquads._USE_KERNEL, sorted(sys.modules)]))")
    kernel_in_use, loaded = got
    assert kernel_in_use, "sosfilt's compiled kernel was not loaded on its own"
    assert "scipy.signal._sosfilt" in loaded
    assert [m for m in loaded if _heavy(m)] == []


def test_a_later_scipy_signal_import_reuses_the_kernel_module():
    assert _run("import json\n"
                "from ainur_cli.mix import biquads\n"
                "import scipy.signal, scipy.signal._signaltools as st\n"
                "print(json.dumps(st._sosfilt is biquads._kernel))")
