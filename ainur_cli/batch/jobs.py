"""Batch jobs: the cross product songs x presets x seeds, each with a predictable folder.

A job's folder is ``<out>/<song-slug>/<preset>/seed-<n>/`` (the slug of the song file's stem).
Planning reads and resolves every spec (pure maths, no audio) so that each job carries the
``spec_hash`` of exactly what it would render; a spec that does not load or resolve becomes a
job that is already failed, and the other jobs still run.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ainur_cli import __version__
from ainur_cli.errors import AinurError, PresetError, SpecError

if TYPE_CHECKING:
    from ainur_cli.spec import SongSpec

log = logging.getLogger(__name__)

MAX_SEEDS = 10_000
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class BatchJob:
    """One render of a batch.

    name:            ``<song-slug>/<preset>/seed-<n>``, also the folder below the batch root
    song:            absolute path of the song.yaml
    out_dir:         absolute folder the render lands in
    preset, seed:    what the job renders (None when the spec could not be read)
    preset_override: the --presets value given to the spec (None: the spec's own preset)
    seed_override:   the --seeds value given to the spec (None: the spec's own seed)
    spec_hash:       hash of the resolved spec (None when planning failed)
    error:           why planning failed (the job then never runs)
    """

    name: str
    song: Path
    out_dir: Path
    preset: str | None
    seed: int | None
    preset_override: str | None = None
    seed_override: int | None = None
    spec_hash: str | None = None
    error: str | None = None

    def overrides(self) -> dict:
        """The CLI-style overrides for :func:`load_song`."""
        return {"preset": self.preset_override, "seed": self.seed_override}


@dataclass(frozen=True)
class JobTask:
    """What a worker needs to run one job (plain data, so it pickles to any executor)."""

    job: BatchJob
    force: bool = False                       # replace a finished render in out_dir
    presets_dirs: tuple[str, ...] = ()
    report: bool = False                      # also write the HTML report


def parse_seeds(text: str | None) -> list[int] | None:
    """``"1,2,3"``, ``"1-8"`` or ``"1-4,10"`` → sorted unique seeds; None/empty → None."""
    if text is None or not text.strip():
        return None
    seeds: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise SpecError("is not a seed list", field="--seeds", value=text,
                            allowed="integers and ranges like 1,2,3 or 1-8 or 1-4,10")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo or hi > MAX_SEED:
            raise SpecError("is not a valid seed range", field="--seeds", value=part,
                            allowed=f"lo-hi with 0 <= lo <= hi <= {MAX_SEED}")
        if hi - lo + 1 + len(seeds) > MAX_SEEDS:
            raise SpecError("asks for too many seeds", field="--seeds", value=text,
                            allowed=f"at most {MAX_SEEDS} seeds")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def parse_presets(text: str | None, presets_dirs: Sequence[str | Path] = ()) -> list[str] | None:
    """``"pop,rock"`` or ``"all"`` → preset names (checked to exist); None/empty → None."""
    from ainur_cli.presets import list_presets

    if text is None or not text.strip():
        return None
    known = list_presets(presets_dirs)
    if text.strip() == "all":
        if not known:
            raise PresetError("no presets found", field="--presets", value=text,
                              allowed="a --presets-dir holding *.yaml presets")
        return list(known)
    names: list[str] = []
    for name in (p.strip() for p in text.split(",")):
        if not name:
            continue
        if name not in known:
            raise PresetError("unknown preset", field="--presets", value=name,
                              allowed=", ".join(known) or "(no presets found)")
        if name not in names:
            names.append(name)
    if not names:
        raise PresetError("names no preset", field="--presets", value=text,
                          allowed="comma-separated preset names, or all")
    return names


#: the DAW projects ``ainur batch`` takes besides song specs, by suffix (read as ``ainur render
#: --from-ableton`` / ``--from-ardour`` / ``--from-midi`` read them)
PROJECT_SUFFIXES = {".als": "Ableton Live Set", ".ardour": "Ardour session",
                    ".mid": "DAW-exported MIDI file", ".midi": "DAW-exported MIDI file"}


def load_song(song: Path, overrides: dict) -> tuple[SongSpec, tuple[str, ...]]:
    """The spec of ``song`` with ``overrides`` (preset, seed), and what the reader noted: a
    song spec (YAML), or the song of a DAW project by its suffix (:data:`PROJECT_SUFFIXES`):
    its tempo map, sections, vocal melody and the lyrics file beside it, as ``ainur render
    --from-ableton`` / ``--from-ardour`` / ``--from-midi`` read them (a project gives no
    style: ``--presets`` does).

    :raises AinurError: the file cannot make a song (the message names it).
    """
    from ainur_cli import api

    suffix = song.suffix.lower()
    if suffix not in PROJECT_SUFFIXES:
        return api.load_spec(song, overrides), ()
    if suffix == ".als":
        from daw_bridge.ableton_set import spec_from_ableton as read
    elif suffix == ".ardour":
        from daw_bridge.ardour_session import spec_from_ardour as read
    else:
        from daw_bridge.midi_import import spec_from_midi as read
    session = read(song, overrides=overrides)
    return session.spec, tuple(session.notes)


def song_slugs(songs: Sequence[Path]) -> dict[Path, str]:
    """Folder name per song (slug of the file stem); two songs may not share one."""
    from ainur_cli.api import slug

    seen: dict[str, Path] = {}
    out: dict[Path, str] = {}
    for song in songs:
        s = slug(song.stem)
        if s in seen and seen[s] != song:
            raise SpecError("two songs would share one batch folder", file=str(song),
                            value=s, allowed=f"song files with distinct names (also: {seen[s]})")
        seen[s] = song
        out[song] = s
    return out


def plan_jobs(songs: Sequence[str | Path], out_root: str | Path, *,
              presets: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
              presets_dirs: Sequence[str | Path] = ()) -> list[BatchJob]:
    """Every (song, preset, seed) job in a stable order: songs as given, presets, seeds.

    ``presets``/``seeds`` None means the spec's own value. A spec that fails to load or resolve
    gives jobs carrying its error (one per preset x seed, or one if those come from the spec).
    """
    from ainur_cli import api

    root = Path(out_root).resolve()
    paths = [Path(s).resolve() for s in songs]
    slugs = song_slugs(list(dict.fromkeys(paths)))
    jobs: list[BatchJob] = []
    seen: set[str] = set()
    said: set[tuple[Path, str]] = set()   # a project's notes are shown once, not per job
    for song in paths:
        for preset in (presets or [None]):
            for seed in (seeds or [None]):
                job = _plan_one(api, song, slugs[song], root, preset, seed, presets_dirs, said)
                if job.name not in seen:
                    seen.add(job.name)
                    jobs.append(job)
    return jobs


def _plan_one(api, song: Path, song_slug: str, root: Path, preset: str | None, seed: int | None,
              presets_dirs: Sequence[str | Path], said: set[tuple[Path, str]]) -> BatchJob:
    spec = None
    try:
        spec, notes = load_song(song, {"preset": preset, "seed": seed})
        for note in notes:
            if (song, note) not in said:
                said.add((song, note))
                log.warning("%s: %s", song, note)
        resolved = api.resolve_song(spec, presets_dirs=presets_dirs)
        r = resolved.spec
        name = job_name(song_slug, r.preset, r.seed)
        return BatchJob(name, song, root / name, r.preset, r.seed, preset, seed,
                        spec_hash=resolved.spec_hash)
    except AinurError as e:
        raw = _raw_fields(song) if spec is None else {"preset": spec.preset, "seed": spec.seed}
        p = preset or raw.get("preset")
        s = seed if seed is not None else raw.get("seed")
        name = job_name(song_slug, p or "unknown-preset", "unknown" if s is None else s)
        return BatchJob(name, song, root / name, p, s, preset, seed, error=e.format())


def _raw_fields(song: Path) -> dict:
    """``preset`` and ``seed`` read leniently from a spec that failed validation, so that its
    failed job still gets the folder name it would have had (seed defaults to 0)."""
    import yaml

    try:
        raw = yaml.safe_load(song.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict = {}
    if isinstance(raw.get("preset"), str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", raw["preset"]):
        out["preset"] = raw["preset"]
    seed = raw.get("seed", 0)
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED:
        out["seed"] = seed
    return out


def job_name(song_slug: str, preset: str, seed: int | str) -> str:
    return f"{song_slug}/{preset}/seed-{seed}"


def finished_manifest(out_dir: Path) -> dict | None:
    """The manifest of a finished render in ``out_dir`` whose files are all there, else None."""
    path = out_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    for f in manifest.get("files", []):
        if not (out_dir / str(f.get("path", ""))).is_file():
            return None
    return manifest


def is_up_to_date(job: BatchJob, manifest: dict | None) -> bool:
    """A finished render of the same resolved spec by the same Ainur version."""
    return (manifest is not None and job.spec_hash is not None
            and manifest.get("spec_hash") == job.spec_hash
            and manifest.get("ainur_version") == __version__)


def mix_figures(manifest: dict | None) -> dict:
    """``integrated_lufs`` and ``true_peak_dbtp`` of the mix from a manifest (None if absent)."""
    for f in (manifest or {}).get("files", []):
        if f.get("part") == "mix":
            return {"integrated_lufs": f.get("integrated_lufs"),
                    "true_peak_dbtp": f.get("true_peak_dbtp")}
    return {"integrated_lufs": None, "true_peak_dbtp": None}
