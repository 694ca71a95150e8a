"""Finding and describing the General MIDI soundfont.

Order of choice (first one given wins):

1. an explicit argument (``--soundfont``, the spec's ``output.soundfont``): a path to a
   ``.sf2``/``.sf3`` file, or an alias: ``fluidr3`` (Debian/Ubuntu ``fluid-soundfont-gm``,
   MIT, 148 MB) or ``default``;
2. the environment variable ``AINUR_SOUNDFONT`` (same forms);
3. the default: ``TimGM6mb.sf2`` (6 MB, GPL-2) shipped inside the ``pretty-midi`` wheel. It
   is located with :func:`importlib.util.find_spec` without importing pretty_midi, so the
   default is the same file, byte for byte, on every machine that installed the same
   pretty-midi version.

Nothing here imports the synthesiser: resolving and describing a soundfont is cheap and can
run while a spec is validated, before anything is rendered.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from ainur_cli.errors import EngineError

ENV_VAR = "AINUR_SOUNDFONT"
DEFAULT_NAME = "TimGM6mb.sf2"
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
ALLOWED = (f"a readable .sf2/.sf3 file, 'fluidr3' ({FLUIDR3}; Debian/Ubuntu: "
           "apt-get install fluid-soundfont-gm), or 'default'/nothing for the bundled TimGM6mb")


def default_soundfont() -> Path:
    """pretty-midi's bundled ``TimGM6mb.sf2``, found without importing pretty_midi.

    :raises EngineError: pretty-midi is not installed or its wheel lacks the file.
    """
    try:
        spec = importlib.util.find_spec("pretty_midi")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in locations:
        path = Path(folder) / DEFAULT_NAME
        if path.is_file():
            return path
    raise EngineError("the default soundfont is missing: the pretty-midi package (which ships "
                      f"{DEFAULT_NAME}) is not installed", field="soundfont",
                      value=DEFAULT_NAME, allowed="pip install pretty-midi, or " + ALLOWED)


def _alias(choice: str) -> Path | None:
    """The path an alias stands for, or None when ``choice`` is not an alias."""
    name = choice.strip().lower()
    if name in ("fluidr3", "fluidr3_gm", "fluidr3-gm"):
        return FLUIDR3
    if name in ("default", "timgm6mb"):
        return default_soundfont()
    return None


def resolve_soundfont(explicit: str | Path | None = None) -> Path:
    """The soundfont to render with, as an absolute path, checked before any rendering.

    :param explicit: a path or an alias (``fluidr3``, ``default``); None or "" means "not
        given" (then ``AINUR_SOUNDFONT``, then the bundled TimGM6mb).
    :raises EngineError: the file is missing or unreadable, is not a RIFF ``sfbk`` (SoundFont)
        file, or is truncated; the message names the path, where the choice came from and
        what is allowed.
    """
    if explicit is not None and str(explicit).strip():
        choice, source = str(explicit), "soundfont"
    elif os.environ.get(ENV_VAR, "").strip():
        choice, source = os.environ[ENV_VAR], ENV_VAR
    else:
        return _checked(default_soundfont(), "soundfont (default)", DEFAULT_NAME)
    path = _alias(choice)
    if path is None:
        path = Path(choice).expanduser()
    return _checked(path, source, choice)


def _checked(path: Path, source: str, choice: str) -> Path:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        hint = ""
        if path == FLUIDR3 and not path.exists():
            hint = " (install it with: apt-get install fluid-soundfont-gm)"
        raise EngineError(f"cannot read the soundfont: {e.strerror or e}{hint}", file=str(path),
                          field=source, value=choice, allowed=ALLOWED) from None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise EngineError("not a SoundFont file (no RIFF 'sfbk' header)", file=str(path),
                          field=source, value=choice, allowed=ALLOWED)
    declared = int.from_bytes(head[4:8], "little") + 8
    if size < declared:
        raise EngineError(f"the SoundFont file is truncated ({size} of {declared} bytes)",
                          file=str(path), field=source, value=choice, allowed=ALLOWED)
    return path.resolve()


def soundfont_presets(path: str | Path) -> dict[tuple[int, int], str]:
    """Every preset of a soundfont, read from its ``phdr`` chunk without loading samples.

    :returns: ``{(bank, program): preset name}``; GM drum kits are bank 128.
    :raises EngineError: the file is unreadable or its preset headers are malformed.
    """
    path = Path(path)
    try:
        st = path.stat()
        return dict(_presets(str(path.resolve()), st.st_size, st.st_mtime_ns))
    except OSError as e:
        raise EngineError(f"cannot read the soundfont: {e.strerror or e}", file=str(path),
                          field="soundfont", allowed=ALLOWED) from None


@lru_cache(maxsize=16)
def _presets(path: str, size: int, mtime_ns: int) -> tuple[tuple[tuple[int, int], str], ...]:
    def bad(why: str) -> EngineError:
        return EngineError(f"malformed SoundFont: {why}", file=path, field="soundfont",
                           allowed=ALLOWED)

    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise bad("no RIFF 'sfbk' header")
        end = min(size, int.from_bytes(head[4:8], "little") + 8)
        pos = 12
        while pos + 12 <= end:
            f.seek(pos)
            chunk = f.read(12)
            cid, csize = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if cid == b"LIST" and chunk[8:12] == b"pdta":
                pdta = f.read(max(0, csize - 4))
                break
            pos += 8 + csize + (csize & 1)
        else:
            raise bad("no 'pdta' list")
    pos = 0
    while pos + 8 <= len(pdta):
        cid, csize = pdta[pos:pos + 4], int.from_bytes(pdta[pos + 4:pos + 8], "little")
        if cid == b"phdr":
            body = pdta[pos + 8:pos + 8 + csize]
            out = []
            for k in range(0, len(body) // 38 - 1):  # the last record is the terminal "EOP"
                rec = body[k * 38:(k + 1) * 38]
                name = rec[:20].split(b"\0", 1)[0].decode("latin-1").strip()
                program = int.from_bytes(rec[20:22], "little")
                bank = int.from_bytes(rec[22:24], "little")
                out.append(((bank, program), name))
            return tuple(out)
        pos += 8 + csize + (csize & 1)
    raise bad("no 'phdr' chunk")


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe_soundfont(path: str | Path) -> dict:
    """What the manifest records about a soundfont.

    :returns: ``{"name": file name, "size_bytes": int, "sha256": hex digest}``; the hash is
        cached per (path, size, mtime) in this process, so describing the same file again
        costs nothing (FluidR3 takes about half a second to hash).
    :raises EngineError: the file cannot be read.
    """
    path = Path(path)
    try:
        st = path.stat()
        digest = _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)
    except OSError as e:
        raise EngineError(f"cannot read the soundfont: {e.strerror or e}", file=str(path),
                          field="soundfont", allowed=ALLOWED) from None
    return {"name": path.name, "size_bytes": st.st_size, "sha256": digest}
