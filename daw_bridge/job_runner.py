"""What one ``ainur serve`` job does: build the spec, render (``api.render_song`` in the
render process, :mod:`daw_bridge.render_process`), place through the DAW adapter.

Every path a job reads or writes is inside the served root: request paths were confined by
the server (:func:`daw_bridge.paths.confine`), a spec's ``output.dir`` and ``melody`` file
are checked here, and
renders never replace a finished render (a new ``-takeN`` folder is written instead).

A **section render** (``/ainur/render_section``) renders just that section's bars, with the
tempo and meter in force there, as a song of its own, and is placed at the section's first
sample of the full song: the manifest gets a ``song_position`` block (start sample and beat,
the full song's tempo map and meters) and every WAV file's Broadcast-WAV time reference is
set to that sample before the folder is renamed into place. Placing uses the full song's map
as the session before the section, so project files show the song's bars and tempo there.
The section's bar lines are the full song's bar lines shifted by that
sample whenever the section starts on a whole sample (any tempo whose beat lasts a whole
number of samples, e.g. 60/90/120/150 bpm at 44.1 or 48 kHz); otherwise a bar line can land
one sample off (the sub-render rounds from its own start), which the manifest records.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

from ainur_cli.errors import BridgeError, ExportError

from daw_bridge.adapter import DawAdapter, PlaceResult
from daw_bridge.facts import MeterPoint, SessionFacts, TempoPoint, as_fraction
from daw_bridge.jobs import Job, JobResult, Progress
from daw_bridge.paths import inside
from daw_bridge.placement import MANIFEST, load_manifest, placement_from_manifest
from daw_bridge.render_process import RenderProcess

log = logging.getLogger(__name__)

SONG_POSITION = "song_position"  # manifest block of a section render


class JobRunner:
    """Runs jobs for a server: ``root`` confines outputs; ``adapter`` is the DAW (or NoDaw).

    :param default_preset: preset for session renders whose request names none.
    :param workers: processes for soundfont rendering (same audio for any value).
    """

    def __init__(self, root: Path, adapter: DawAdapter, *, presets_dirs: Sequence[Path] = (),
                 default_preset: str = "pop", workers: int = 1,
                 renderer: RenderProcess | None = None) -> None:
        self.root = Path(root).resolve()
        self.adapter = adapter
        self.presets_dirs = tuple(presets_dirs)
        self.default_preset = default_preset
        self.workers = int(workers)
        self.renderer = renderer or RenderProcess()

    def start(self) -> None:
        """Start the render process (it loads the render stack while requests arrive)."""
        self.renderer.start()

    def close(self) -> None:
        self.renderer.close()

    def __call__(self, job: Job, progress: Progress) -> JobResult:
        """Run ``job``; raises AinurError (``api.Cancelled`` included) on failure."""
        a = job.args
        if job.kind == "place":
            render_dir = Path(a["render"])
            manifest = load_manifest(render_dir)
            beat, sample, song = _song_position(manifest)
            progress("place", 0.0)
            return JobResult(render_dir, self.place(render_dir, manifest, beat, 0, song), sample)
        if job.kind == "render":
            progress("spec", 0.0)
            spec = self._load(a["spec"], a.get("preset"), a.get("seed"))
            result = self._render(spec, self._target(spec), job, progress)
            progress("place", 1.0)
            return JobResult(result.out_dir, self.place(result.out_dir, result.manifest, 0, 0))
        if job.kind == "session":
            return self._session(job, progress)
        if job.kind == "section":
            return self._section(job, progress)
        raise BridgeError("unknown job kind", value=job.kind,
                          allowed="render, session, section, place")

    # -- building specs -------------------------------------------------------------------
    def _load(self, path: Path, preset: str | None, seed: int | None):
        from ainur_cli.spec import load_spec

        spec = load_spec(path, {"preset": preset or None, "seed": seed})
        if spec.melody is not None and not inside(self.root, spec.melody.resolved(spec.file)):
            raise BridgeError("the spec's melody file is outside the served folder",
                              file=spec.file, field="melody", value=spec.melody.path,
                              allowed=f"a MIDI file inside {self.root}")
        return spec

    def _target(self, spec) -> Path:
        """The spec's output folder (``output.dir`` relative to the spec file, else
        ``<root>/renders/<spec file name>``); it must lie inside the root."""
        from ainur_cli.api import default_out_dir

        d = default_out_dir(spec)
        d = d if d.is_absolute() else self.root / d
        if not inside(self.root, d):
            raise BridgeError("the spec's output.dir is outside the served folder",
                              file=spec.file, field="output.dir", value=spec.output.dir,
                              allowed=f"a folder inside {self.root}")
        return d.resolve()

    def _render(self, spec, target: Path, job: Job, progress: Progress, *, new_take: bool = True):
        """``api.render_song`` in the render process (see daw_bridge.render_process)."""
        return self.renderer.render(spec, target, progress, job.cancelled, new_take=new_take,
                                    presets_dirs=self.presets_dirs, workers=self.workers)

    def _session(self, job: Job, progress: Progress) -> JobResult:
        from ainur_cli.api import Cancelled, slug
        from daw_bridge.session_spec import song_from_facts

        a = job.args
        progress("session", 0.0)
        facts = self.adapter.read_session()
        if job.cancelled():
            raise Cancelled("render cancelled; nothing was written", field="render")
        lyrics_file = None
        if facts.project_file:  # <project>.lyrics.txt or lyrics.txt beside the DAW's project
            from daw_bridge.lyrics import find_lyrics_file

            lyrics_file = find_lyrics_file(facts.project_file)
        song = song_from_facts(facts, preset=a.get("preset") or self.default_preset,
                               title=a.get("title") or facts.title, lyrics_file=lyrics_file)
        spec = song.spec
        if a.get("seed") is not None:
            spec = dataclasses.replace(spec, seed=int(a["seed"]))
        for note in song.notes:
            log.info("session: %s", note)
        target = self.root / "renders" / slug(spec.title)
        result = self._render(spec, target, job, progress)
        progress("place", 1.0)
        return JobResult(result.out_dir, self.place(result.out_dir, result.manifest,
                                                    song.start_beat, song.start_s, facts))

    # -- one section again ----------------------------------------------------------------
    def _section(self, job: Job, progress: Progress) -> JobResult:
        from ainur_cli.api import manifest_json, resolve_song, slug
        from ainur_cli.outdir import choose_target

        a = job.args
        progress("spec", 0.0)
        spec = self._load(a["spec"], None, None)
        plan = resolve_song(spec, presets_dirs=self.presets_dirs).plan
        sec = find_section(plan, a["section"], spec.file)
        sub = section_spec(spec, plan, sec, a.get("seed"))
        full_target = self._target(spec)
        target = full_target.parent / f"{full_target.name}-{slug(sec.name)}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.stage-", dir=target.parent))
        except OSError as e:
            raise ExportError(f"cannot write the output folder: {e.strerror or e}",
                              file=str(target.parent)) from None
        try:
            result = self._render(sub, staging / "render", job, progress, new_take=False)
            manifest = dict(result.manifest)
            span = sec.end_sample - sec.start_sample
            song = song_facts(plan)
            manifest[SONG_POSITION] = {
                "song_title": spec.title, "section": sec.name, "section_index": sec.index + 1,
                "start_sample": sec.start_sample, "end_sample": sec.end_sample,
                "start_beat": float(sec.start_beat), "song_duration_samples": plan.total_samples,
                "aligned": int(manifest["duration_samples"]) == span,
                "song_tempo_map": [{"beat": float(t.beat), "tempo_bpm": float(t.tempo_bpm)}
                                   for t in song.tempo],
                "song_time_signatures": [{"beat": float(m.beat), "numerator": m.numerator,
                                          "denominator": m.denominator} for m in song.meters],
            }
            if not manifest[SONG_POSITION]["aligned"]:
                log.warning("section %r: the render is %d samples, the section spans %d in the "
                            "full song (it does not start on a whole sample)", sec.name,
                            manifest["duration_samples"], span)
            for f in manifest["files"]:
                if f.get("format") == "wav":
                    set_time_reference(result.out_dir / f["path"], sec.start_sample)
            (result.out_dir / MANIFEST).write_text(manifest_json(manifest), encoding="utf-8")
            final = choose_target(target, force=False, new_take=True)
            os.rename(result.out_dir, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        progress("place", 1.0)
        # The full song's map is the "session" before the section: bars and tempo there are
        # the song's, and the section starts at its exact second (its first sample).
        return JobResult(final, self.place(final, manifest, sec.start_beat, None, song),
                         sec.start_sample)

    # -- placing --------------------------------------------------------------------------
    def place(self, render_dir: Path, manifest: dict, start_beat: Any, start_s: Any,
              session: Any = None) -> PlaceResult:
        """Put a render's stems back through the adapter with the song starting at session
        beat ``start_beat`` (exact fractions): converted through ``session`` (the DAW's
        SessionFacts) when given, else at session second ``start_s``."""
        if session is not None:
            p = placement_from_manifest(manifest, render_dir, session=session,
                                        session_start_beat=Fraction(start_beat))
        else:
            p = placement_from_manifest(manifest, render_dir,
                                        session_start_beat=Fraction(start_beat),
                                        session_start_s=Fraction(start_s))
        for stem in p.stems:
            if not inside(self.root, stem.path):
                raise BridgeError("a stem of the render is outside the served folder",
                                  field="files", value=str(stem.path))
        return self.adapter.place(p)


def find_section(plan, which: str | int, spec_file: str | None):
    """The plan's section named ``which`` (case-insensitive) or at 1-based index ``which``."""
    names = ", ".join(f"{i + 1}={s.name}" for i, s in enumerate(plan.sections))
    by_number = isinstance(which, str) and which.strip().isdigit() and not any(
        s.name.strip() == which.strip() for s in plan.sections)
    if isinstance(which, int) or by_number:
        n = int(which)
        if 1 <= n <= len(plan.sections):
            return plan.sections[n - 1]
        raise BridgeError("the song has no section at that position", file=spec_file,
                          field="section", value=n, allowed=f"1..{len(plan.sections)} ({names})")
    want = str(which).strip().lower()
    for s in plan.sections:
        if s.name.strip().lower() == want:
            return s
    raise BridgeError("the song has no section of that name", file=spec_file, field="section",
                      value=which, allowed=names)


def section_spec(spec, plan, sec, seed: int | None):
    """Just ``sec``'s bars as a song: the tempo and meter in force at its first bar, the
    changes inside it, the song's key, seed (or ``seed``) and output settings."""
    full = plan.spec
    bar0 = sec.start_bar + 1                 # 1-based first bar of the section
    last = bar0 + sec.bars                   # first bar after it
    tempo = [(1, bpm) for b, bpm in full.tempo_map if b <= bar0][-1:] + [
        (b - bar0 + 1, bpm) for b, bpm in full.tempo_map if bar0 < b < last]
    meters = [(1, n, d) for b, n, d in (full.meters or ((1, 4, 4),)) if b <= bar0][-1:] + [
        (b - bar0 + 1, n, d) for b, n, d in (full.meters or ()) if bar0 < b < last]
    section = spec.sections[sec.index]
    melody = spec.melody
    style = _section_style(spec.style, plan, sec)
    if melody is not None:  # the clip keeps its place in the full song
        start = plan.timeline.bar_to_beat(melody.bar - 1) - sec.start_beat
        melody = dataclasses.replace(melody, start_beat=start)
    return dataclasses.replace(spec, sections=(section,), tempo_map=tuple(tempo),
                               meters=tuple(meters), key=full.key, melody=melody, style=style,
                               seed=spec.seed if seed is None else int(seed),
                               title=f"{spec.title} - {section.name}"[:200])


def _section_style(style, plan, sec):
    """The song's ``style`` for a render of ``sec`` alone, sung as the whole song sings it:
    each voice in the whole song's octave placement (``vocals.octaves``; the section's own
    notes could place it an octave away), and with a duet's ``section_voices`` the voices
    that sing ``sec`` as its voice, or its two voices as its only ``section_voices`` entry
    (every other key dropped: a null value drops a preset's too)."""
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.vocals import (section_key, song_octaves, vocal_settings, voices_for_section,
                                  wants_vocals)

    settings = vocal_settings(plan.style.vocals)
    composition = compose_plan(plan)
    if not wants_vocals(settings, composition):
        return style
    vocals = dict((style or {}).get("vocals") or {})
    vocals["octaves"] = {voice: shift // 12 for voice, shift in
                         song_octaves(composition, plan.timeline, settings).items()}
    if settings["section_voices"]:
        voices = voices_for_section(settings, sec.name, sec.kind)
        keys = {key: None for key, _ in settings["section_voices"]}
        if len(voices) > 1:
            own = next((k for k in keys if section_key(k) == section_key(sec.name)), sec.name)
            keys[own] = list(voices)
        vocals.update(voice=voices[0], section_voices=keys)
    return {**(style or {}), "vocals": vocals}


def song_facts(plan) -> SessionFacts:
    """The full song's tempo map and meters as session facts (song beats from 0)."""
    tl = plan.timeline
    return SessionFacts("song", plan.spec.file or "<song>",
                        tuple(TempoPoint(t.beat, t.tempo_bpm) for t in tl.tempo_changes),
                        tuple(MeterPoint(tl.bar_to_beat(m.bar), m.numerator, m.denominator)
                              for m in tl.meter_changes))


def _song_position(manifest: dict) -> tuple[Fraction, int, SessionFacts | None]:
    """``(start beat, start sample, the full song's map)`` of a section render (from its
    ``song_position`` block); ``(0, 0, None)`` for a whole song."""
    pos = manifest.get(SONG_POSITION)
    if pos is None:
        return Fraction(0), 0, None
    try:
        song = SessionFacts(
            "song", str(pos.get("song_title", "")),
            tuple(TempoPoint(as_fraction(t["beat"]), as_fraction(t["tempo_bpm"]))
                  for t in pos["song_tempo_map"]),
            tuple(MeterPoint(as_fraction(m["beat"]), int(m["numerator"]), int(m["denominator"]))
                  for m in pos["song_time_signatures"]))
        return as_fraction(pos["start_beat"]), int(pos["start_sample"]), song
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BridgeError(f"manifest.json has a bad {SONG_POSITION} block",
                          field=SONG_POSITION, value=pos,
                          allowed="the block a section render writes") from None


def set_time_reference(path: Path, samples: int) -> None:
    """Set the Broadcast-WAV ``TimeReference`` (samples since the session start) of a WAV or
    RF64 file in place; the bext chunk must exist (Ainur writes one into every WAV)."""
    with open(path, "r+b") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise ExportError("not a WAV file", file=str(path))
        pos = 12
        while True:
            f.seek(pos)
            ck = f.read(8)
            if len(ck) < 8 or ck[:4] == b"data":
                raise ExportError("no bext chunk before the audio data", file=str(path))
            size = int.from_bytes(ck[4:8], "little")
            if ck[:4] == b"bext":
                # description 256, originator 32, reference 32, date 10, time 8 bytes
                f.seek(pos + 8 + 338)
                f.write(int(samples).to_bytes(8, "little"))
                return
            pos += 8 + size + (size & 1)
