"""Finding the General MIDI soundfont.

Order: an explicit path (``--soundfont``, the spec's ``output.soundfont``) or the alias
``fluidr3`` → ``AINUR_SOUNDFONT`` → TimGM6mb.sf2 shipped inside the ``pretty-midi`` package
(found without importing pretty_midi), so the default is the same file on every machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from ainur_cli.errors import EngineError

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
ALIASES = {"fluidr3": FLUIDR3, "fluidr3_gm": FLUIDR3}
ALLOWED = ("a readable .sf2/.sf3 file, 'fluidr3' (Debian: apt-get install fluid-soundfont-gm), "
           "or nothing for the bundled TimGM6mb")


def default_soundfont() -> Path:
    """pretty-midi's TimGM6mb.sf2 (6 MB, GPL-2)."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("the default soundfont is missing: the pretty-midi package is not installed",
                          allowed="pip install pretty-midi, or --soundfont PATH")
    return Path(list(spec.submodule_search_locations)[0]) / "TimGM6mb.sf2"


def resolve_soundfont(explicit: str | Path | None = None) -> Path:
    """The soundfont to use, checked to exist and to look like a RIFF sfbk file."""
    source = "--soundfont/output.soundfont"
    choice = explicit
    if not choice and os.environ.get("AINUR_SOUNDFONT"):
        choice, source = os.environ["AINUR_SOUNDFONT"], "AINUR_SOUNDFONT"
    if not choice:
        path, source = default_soundfont(), "default soundfont"
    else:
        path = ALIASES.get(str(choice).lower(), Path(str(choice)).expanduser())
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise EngineError(f"cannot read the soundfont ({e.strerror})", file=str(path),
                          field=source, value=str(choice or path), allowed=ALLOWED) from None
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise EngineError("not a SoundFont file", file=str(path), field=source,
                          value=str(choice or path), allowed=ALLOWED)
    return Path(path).resolve()


@lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe_soundfont(path: Path) -> dict:
    """Name, size and sha256 (for the manifest)."""
    st = path.stat()
    return {"name": path.name, "bytes": st.st_size, "sha256": _sha256(str(path), st.st_size, st.st_mtime_ns)}
