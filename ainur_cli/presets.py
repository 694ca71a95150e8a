"""Finding and loading style presets (``presets/*.yaml``, name = file stem).

Search order: folders given explicitly (``--presets-dir``), then ``AINUR_PRESETS_DIR``
(``os.pathsep``-separated), then the presets shipped with Ainur. A user preset with the same
name as a shipped one wins. The song spec's ``style:`` block is merged over the preset; errors
in the merged style point at whichever file the bad value came from.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ainur_cli.errors import PresetError, SpecError
from ainur_cli.source import Source, deep_merge, load_yaml

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_presets_dir() -> Path:
    """The presets that come with Ainur (source checkout, or installed data files)."""
    for candidate in (_PACKAGE_DIR.parent / "presets",
                      Path(sys.prefix) / "share" / "ainur" / "presets"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE_DIR.parent / "presets"


def preset_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Folders searched for presets, first match wins."""
    dirs = [Path(d) for d in extra]
    env = os.environ.get("AINUR_PRESETS_DIR")
    if env:
        dirs += [Path(d) for d in env.split(os.pathsep) if d]
    dirs.append(shipped_presets_dir())
    return dirs


def list_presets(extra: Iterable[str | Path] = ()) -> dict[str, Path]:
    """``name → file`` for every preset found (first folder wins for a name)."""
    found: dict[str, Path] = {}
    for d in preset_dirs(extra):
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.yaml")):
            found.setdefault(f.stem, f)
    return dict(sorted(found.items()))


def find_preset(name: str, extra: Iterable[str | Path] = (), *, src: Source | None = None,
                path: tuple = ("preset",)) -> Path:
    """The file of preset ``name``; an error listing the known names when there is none."""
    presets = list_presets(extra)
    if name in presets:
        return presets[name]
    allowed = ", ".join(presets) or "(no presets found)"
    if src is not None:
        raise src.error(path, "unknown preset", name, allowed, cls=SpecError)
    raise PresetError("unknown preset", field="preset", value=name, allowed=allowed)


class MergedSource(Source):
    """Line lookup for a preset with the spec's ``style:`` overrides on top."""

    def __init__(self, base: Source, over: Source, over_paths: set):
        super().__init__(base.file, base.lines, base.error_cls, base.origins)
        self.base, self.over, self.over_paths = base, over, over_paths

    def _pick(self, path: tuple) -> Source:
        path = tuple(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.over_paths:
                return self.over
        if path not in self.base.lines and any(p[:len(path)] == path for p in self.over_paths):
            return self.over  # a mapping only the overrides have (``harmony: {a: 1}``)
        return self.base

    def line_of(self, path):
        return self._pick(path).line_of(path)

    def error(self, path, message, value=..., allowed=None, cls=None):
        return self._pick(path).error(path, message, value, allowed, cls)

    def sub(self, prefix):
        return MergedSource(self.base.sub(prefix), self.over.sub(prefix),
                            {p[len(prefix):] for p in self.over_paths if p[:len(prefix)] == tuple(prefix)})


def _leaf_paths(data: Any, prefix: tuple = ()) -> set:
    if isinstance(data, dict) and data:
        out = set()
        for k, v in data.items():
            out |= _leaf_paths(v, prefix + (k,))
        return out
    return {prefix}


@dataclass(frozen=True)
class LoadedPreset:
    """A preset's merged raw data (for hashing), its file, and the validated style."""

    name: str
    file: Path
    raw: dict
    style: Any  # ainur_cli.style.Style
    #: where each merged field came from (the preset file or the spec's ``style:``)
    source: Source | None = field(default=None, compare=False, repr=False)


def load_preset(name: str, overrides: dict | None = None, overrides_src: Source | None = None,
                extra_dirs: Sequence[str | Path] = (), name_src: Source | None = None) -> LoadedPreset:
    """Load preset ``name``, merge ``overrides`` (the spec's ``style:``) and validate."""
    from ainur_cli.style import parse_style

    file = find_preset(name, extra_dirs, src=name_src)
    raw, src = load_yaml(file, PresetError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise src.error((), "a preset must be a mapping of fields", type(raw).__name__,
                        "description, parts, progressions, drums, mix...")
    if overrides:
        over_src = overrides_src.sub(("style",)) if overrides_src else Source("<style>")
        raw = deep_merge(raw, overrides)
        src = MergedSource(src, over_src, _leaf_paths(overrides))
    return LoadedPreset(name, file, raw, parse_style(raw, src), src)
