"""Output folders that appear complete or not at all.

A render is written into a hidden temporary folder beside its target and renamed into place
when everything is written. A finished render (a folder holding ``manifest.json``) is never
replaced silently: the caller must ask for ``force`` (replace) or ``new_take`` (write
``<name>-take2``, ``-take3``...). A non-empty folder that is not a render is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ainur_cli.errors import ExportError

MANIFEST = "manifest.json"


def is_finished_render(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def choose_target(target: Path, *, force: bool, new_take: bool) -> Path:
    """Where the render will land, refusing to overwrite anything unasked."""
    if not target.exists():
        return target
    if not target.is_dir():
        raise ExportError("output path exists and is not a folder", file=str(target),
                          allowed="a new or empty folder path")
    if not any(target.iterdir()):
        return target
    if new_take:
        n = 2
        while (target.parent / f"{target.name}-take{n}").exists():
            n += 1
        return target.parent / f"{target.name}-take{n}"
    if is_finished_render(target):
        if force:
            return target
        raise ExportError("a finished render is already there", file=str(target),
                          allowed="--force to replace it, --new-take for a new take folder, "
                          "or --out for another folder")
    raise ExportError("output folder is not empty and is not an Ainur render", file=str(target),
                      allowed="an empty or new folder (Ainur never overwrites other files)")


@contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` atomically
    (as far as the file system allows); on any error it is removed and ``target`` is untouched."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as e:
        raise ExportError(f"cannot write the output folder: {e.strerror or e}", file=str(parent),
                          allowed="a folder you can write to (--out DIR)") from None
    try:
        yield tmp
        # mkdtemp makes 0700 folders; a finished render is readable like any folder the user
        # creates (shared outputs, e.g. a Dask cluster's).
        umask = os.umask(0)
        os.umask(umask)
        for d in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
            os.chmod(d, 0o777 & ~umask)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rename(target, old / "render")
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
