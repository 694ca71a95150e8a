"""Render jobs of ``ainur serve``: build the spec, keep every path inside the root, render,
put the stems back.

A job is created on the receiving thread (cheap: it only records the request) and run on
the render worker thread, so a slow spec, a slow DAW or a long render never blocks packet
handling. Everything a job reads or writes is confined to the served root folder.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ainur_cli.errors import AinurError, BridgeError

from daw_bridge.adapter import DawAdapter, PlaceResult
from daw_bridge.paths import confine, inside
from daw_bridge.placement import load_manifest, placement_from_manifest

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Cancel = Callable[[], bool]
#: ``render_fn(spec, out_dir, progress, cancel) -> RenderResult`` (api.render_song by default).
RenderFn = Callable[[Any, Path, Progress, Cancel], Any]

JOB_KINDS = ("spec", "midi", "daw", "section", "place")


@dataclass
class Job:
    """One request: ``kind`` (see :data:`JOB_KINDS`) and its string arguments."""

    id: int
    kind: str
    args: dict[str, Any]
    sender: tuple[str, int]
    cancel_event: threading.Event = field(default_factory=threading.Event)
    stage: str = "queued"
    fraction: float = 0.0

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


@dataclass(frozen=True)
class JobResult:
    out_dir: Path
    place: PlaceResult | None


def default_render(presets_dirs: tuple = ()) -> RenderFn:
    """Render through the public API, into a new take folder when the target exists."""

    def render(spec, out_dir: Path, progress: Progress, cancel: Cancel):
        from ainur_cli import api

        return api.render_song(spec, out_dir=out_dir, new_take=True, presets_dirs=presets_dirs,
                               progress=progress, cancel=cancel)

    return render


class JobRunner:
    """Runs jobs for a server: ``root`` confines paths; ``adapter`` is the DAW (or NoDaw)."""

    def __init__(self, root: Path, adapter: DawAdapter, render_fn: RenderFn,
                 presets_dirs: tuple = ()) -> None:
        self.root = Path(root).resolve()
        self.adapter = adapter
        self.render_fn = render_fn
        self.presets_dirs = presets_dirs

    # -- spec building --------------------------------------------------------------------
    def _load_spec(self, text: str):
        from ainur_cli.spec import load_spec

        return load_spec(confine(self.root, text, what="spec path"))

    def _with_preset(self, spec, preset: str | None):
        if not preset:
            return spec
        return dataclasses.replace(spec, preset=preset)

    def build(self, job: Job) -> tuple[Any, float, float]:
        """``(spec, session start beat, session start seconds)`` for a render job."""
        a = job.args
        if job.kind == "spec":
            return self._with_preset(self._load_spec(a["spec"]), a.get("preset")), 0.0, 0.0
        if job.kind == "midi":
            from daw_bridge.midi_import import read_midi_facts
            from daw_bridge.session_spec import song_from_facts

            midi = confine(self.root, a["midi"], what="MIDI path")
            base = self._load_spec(a["spec"]) if a.get("spec") else None
            song = song_from_facts(read_midi_facts(midi), base=base, preset=a.get("preset"),
                                   origin_file=str(midi))
            return song.spec, float(song.start_beat), float(song.start_s)
        if job.kind == "daw":
            from daw_bridge.session_spec import song_from_facts

            base = self._load_spec(a["spec"]) if a.get("spec") else None
            facts = self.adapter.read_session()
            song = song_from_facts(facts, base=base, preset=a.get("preset"))
            return song.spec, float(song.start_beat), float(song.start_s)
        if job.kind == "section":
            return self._section_spec(self._load_spec(a["spec"]), a["section"], a.get("seed"))
        raise BridgeError("unknown job kind", value=job.kind, allowed=", ".join(JOB_KINDS))

    def _section_spec(self, spec, name: str, seed: int | None):
        """One section of a song on its own, with the tempo and meter in force there."""
        from ainur_cli.api import resolve_song

        plan = resolve_song(spec, presets_dirs=self.presets_dirs).plan
        match = [s for s in plan.sections if s.name.lower() == name.strip().lower()]
        if not match:
            raise BridgeError("the song has no section of that name", field="section", value=name,
                              allowed=", ".join(s.name for s in plan.sections))
        sec = match[0]
        full = plan.spec
        bar0 = sec.start_bar + 1
        tempo = [(1, bpm) for b, bpm in full.tempo_map if b <= bar0][-1:] + [
            (b - bar0 + 1, bpm) for b, bpm in full.tempo_map if bar0 < b < bar0 + sec.bars]
        meters = [(1, n, d) for b, n, d in full.meters if b <= bar0][-1:] + [
            (b - bar0 + 1, n, d) for b, n, d in full.meters if bar0 < b < bar0 + sec.bars]
        section = spec.sections[sec.index]
        sub = dataclasses.replace(spec, sections=(section,), tempo_map=tuple(tempo),
                                  meters=tuple(meters), key=full.key,
                                  seed=spec.seed if seed is None else int(seed),
                                  title=f"{spec.title} - {section.name}")
        return sub, float(sec.start_beat), float(sec.start_s)

    # -- output ---------------------------------------------------------------------------
    def out_dir(self, spec, job: Job) -> Path:
        """The render folder: the spec's ``output.dir`` when it is inside the root, else
        ``<root>/renders/<name>``."""
        from ainur_cli.api import default_out_dir, slug

        if spec.output.dir:
            d = default_out_dir(spec)
            d = d if d.is_absolute() else self.root / d
            if not inside(self.root, d):
                raise BridgeError("the spec's output.dir is outside the served folder",
                                  file=spec.file, field="output.dir", value=spec.output.dir,
                                  allowed=f"a folder inside {self.root}")
            return d.resolve()
        suffix = "" if job.kind != "section" else ""
        return self.root / "renders" / (slug(spec.title) + suffix)

    def _check_soundfont(self, spec) -> None:
        sf = spec.output.soundfont
        if sf and sf.lower() != "fluidr3":
            confine(self.root, sf, what="output.soundfont")

    # -- running --------------------------------------------------------------------------
    def run(self, job: Job, progress: Progress) -> JobResult:
        """Build, render and place; raises AinurError (Cancelled included) on failure."""
        if job.kind == "place":
            render_dir = confine(self.root, job.args["render"], what="render folder")
            return JobResult(render_dir, self.place(render_dir, 0.0, 0.0))
        progress("spec", 0.0)
        spec, start_beat, start_s = self.build(job)
        self._check_soundfont(spec)
        target = self.out_dir(spec, job)
        result = self.render_fn(spec, target, progress, job.cancelled)
        out_dir = Path(result.out_dir)
        if job.cancelled():
            from ainur_cli.api import Cancelled

            raise Cancelled("render cancelled", field="render")
        progress("place", 1.0)
        return JobResult(out_dir, self.place(out_dir, start_beat, start_s, result.manifest))

    def place(self, render_dir: Path, start_beat: float, start_s: float,
              manifest: dict | None = None) -> PlaceResult:
        manifest = manifest if manifest is not None else load_manifest(render_dir)
        p = placement_from_manifest(manifest, render_dir, session_start_beat=start_beat,
                                    session_start_s=start_s)
        for stem in p.stems:
            if not inside(self.root, stem.path):
                raise BridgeError("a stem of the render is outside the served folder",
                                  field="files", value=str(stem.path))
        return self.adapter.place(p)


def describe_error(e: BaseException) -> str:
    """One line for ``/ainur/error``."""
    if isinstance(e, AinurError):
        return e.format()
    return f"internal error ({type(e).__name__}): {e}"
