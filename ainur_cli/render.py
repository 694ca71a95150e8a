"""The render pipeline: composition → engines → mix/master → export, into a staged folder.

Called through :func:`ainur_cli.api.render_song`; it imports the numeric stack, so the CLI
imports it only when a render starts.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ainur_cli import __version__
from ainur_cli.api import Cancelled, RenderResult, ResolvedSong, manifest_json
from ainur_cli.compose.song import compose_plan
from ainur_cli.engines.embedded.soundfont import describe_soundfont, resolve_soundfont
from ainur_cli.export.audio import write_audio
from ainur_cli.export.midi import write_midi_files
from ainur_cli.mix.loudness import integrated_lufs, true_peak_dbtp
from ainur_cli.mix.master import linked_master
from ainur_cli.mix.mixer import mix_stems
from ainur_cli.outdir import MANIFEST, choose_target, staged_output
from ainur_cli.engines.embedded.render import fork_is_safe, load_soundfont, render_part, shared_array
from ainur_cli.mix.mixer import process_stem, stem_cost
from ainur_cli.mix.reverb import prepare_reverb
from ainur_cli.mix.dynamics import block_size_for
from ainur_cli.mix.settings import SINGER_PREFIX, MixSettings
from ainur_cli.mix.stems import MixSum
from ainur_cli.timeline import Timeline
from ainur_cli.vocals import (VOCALS, harmony_names, harmony_parts, render_vocals, sung_by,
                              vocal_settings, vocal_stems, voices_as_written, wants_vocals,
                              with_vocal_chain)

log = logging.getLogger(__name__)


def _ext(fmt: str) -> str:
    return ".flac" if fmt == "flac" else ".wav"


def run_pipeline(
    resolved: ResolvedSong,
    target: Path,
    *,
    force: bool,
    new_take: bool,
    soundfont: str | Path | None,
    workers: int,
    progress: Callable[[str, float], None] | None,
    cancel: Callable[[], bool] | None,
) -> RenderResult:
    plan = resolved.plan
    spec = plan.spec
    out = spec.output
    timings: dict[str, float] = {}
    # ``workers`` is the number of cores the render may use: processes for the stems, and
    # two threads (else one) for the master and export passes. A batch worker passes 1.
    threads = 1 if workers <= 1 else 2
    sf_choice = soundfont or out.soundfont
    if not soundfont and out.soundfont and spec.file and not spec.file.startswith("<"):
        # A relative output.soundfont is relative to the spec file (aliases stay as they are).
        candidate = Path(spec.file).resolve().parent / Path(out.soundfont).expanduser()
        if candidate.exists():
            sf_choice = candidate
    sf_path = resolve_soundfont(sf_choice)
    final = choose_target(target, force=force, new_take=new_take)

    def stage(name: str, fraction: float) -> None:
        if cancel is not None and cancel():
            raise Cancelled("render cancelled; nothing was written", field="render")
        if progress is not None:
            progress(name, fraction)

    t0 = time.perf_counter()
    stage("compose", 0.0)
    composition = compose_plan(plan)
    timings["compose"] = time.perf_counter() - t0
    voice = vocal_settings(plan.style.vocals)
    sing = wants_vocals(voice, composition) and (not out.parts or VOCALS in out.parts)
    wanted = list(out.parts) if out.parts else [p.name for p in composition.parts]
    if sing and VOCALS not in wanted:
        wanted.append(VOCALS)
    if not sing and VOCALS in wanted:
        wanted.remove(VOCALS)
    if not wanted:
        # Only the vocals were asked for and nothing is sung: no stem, no mix to master.
        others = ", ".join(p.name for p in composition.parts)
        raise spec.source.error(("output", "parts"),
                                "asks for the vocals alone, but no section has lyrics to sing",
                                list(out.parts or ()),
                                f"lyrics in a section, or other parts: {others}")
    # A duet's voices each have their own stem (vocals, vocals-<voice>), where "vocals" stood.
    singers = vocal_stems(composition, voice) if sing else {}
    if len(singers) > 1:
        at = wanted.index(VOCALS)
        wanted[at:at + 1] = list(singers)

    t = time.perf_counter()
    stage("render", 0.15)
    tempo_bpm = float(plan.timeline.tempo_changes[0].tempo_bpm)
    mix_settings = with_vocal_chain(plan.style.mix, singers)
    batch = StemBatch(composition=composition, timeline=plan.timeline, soundfont=str(sf_path),
                      voice=voice, seed=spec.seed, total_samples=plan.total_samples,
                      mix=mix_settings, tempo_bpm=tempo_bpm, singers=singers)
    summed = MixSum((2, plan.total_samples), block_size_for(plan.sample_rate))
    if spec.restyle is None:
        # Every stem is rendered and mixed in one job (vocals alongside the instruments);
        # this process sums the finished stems meanwhile, in job order.
        processed, cpu = produce_stems(batch, wanted, workers=workers,
                                       on_ready=lambda name, audio: summed.add(audio))
    else:
        # The neural restyle works on the dry stems: render all, restyle, then mix.
        processed, cpu = produce_stems(batch, wanted, workers=workers, mix=False)
        timings["render"] = time.perf_counter() - t
        t = time.perf_counter()
        stage("restyle", 0.4)
        processed = _restyle(spec, processed, plan.sample_rate)
        timings["restyle"] = time.perf_counter() - t
        t = time.perf_counter()
        c = time.process_time()
        # The master EQ is linear: folded into every strip (the same stems, one pass less).
        processed = mix_stems(processed, mix_settings, plan.sample_rate, tempo_bpm,
                              consume=True, inplace=True, post_eq=mix_settings.master.eq,
                              workers=threads)
        for audio in processed.values():
            summed.add(audio)
        cpu["mix"] = time.process_time() - c
    timings["stems"] = time.perf_counter() - t
    timings.update({f"cpu_{k}": v for k, v in cpu.items()})

    t = time.perf_counter()
    c = time.process_time()
    stage("master", 0.65)
    mastered = linked_master(processed, plan.sample_rate, target_lufs=out.target_lufs,
                             true_peak_dbtp=out.true_peak_dbtp,
                             settings=replace(mix_settings.master, eq=()), inplace=True,
                             premixed=summed, workers=threads)
    del summed
    del processed
    timings["master"] = time.perf_counter() - t
    timings["cpu_master"] = time.process_time() - c

    t = time.perf_counter()
    c = time.process_time()
    stage("export", 0.8)
    with staged_output(final) as tmp:
        ext = _ext(out.format)
        (tmp / "stems").mkdir()
        jobs = [("mix", tmp / f"mix{ext}", mastered.mix, spec.title)]
        jobs += [(name, tmp / "stems" / f"{name}{ext}", mastered.stems[name], f"{spec.title} - {name}")
                 for name in wanted if name in mastered.stems]

        # Writing and metering release the GIL (libsndfile, scipy filters): two threads
        # unless the render was given one core. Each file's writing, loudness and true peak
        # are tasks of their own, the longest kinds first, so both threads finish together
        # (eight whole-file jobs on two threads left one idle for most of a job). The mix is
        # only written: the master measured it.
        sr = plan.sample_rate
        with ThreadPoolExecutor(max_workers=threads) as pool:
            loudness = {name: pool.submit(integrated_lufs, audio, sr) for name, _, audio, _ in jobs[1:]}
            writes = [pool.submit(write_audio, path, audio, sr, bit_depth=out.bit_depth,
                                  fmt=out.format, time_reference_samples=0, description=description)
                      for _, path, audio, description in jobs]
            peaks = {name: pool.submit(true_peak_dbtp, audio, sr) for name, _, audio, _ in jobs[1:]}
            for written in writes:
                written.result()
            measured = {name: (loudness[name].result(), peaks[name].result()) for name in loudness}
        measured["mix"] = (mastered.integrated_lufs, mastered.true_peak_dbtp)
        files = [_file_entry(path, tmp, name, audio, sr, out, measured[name])
                 for name, path, audio, _ in jobs]
        stage("export", 0.9)
        markers = [(s.start_beat, s.name) for s in plan.sections]
        harmony = harmony_parts(composition, plan.timeline, voice) if sing else ()
        midi = write_midi_files(composition, plan.timeline, tmp / "midi", title=spec.title,
                                markers=markers, key_signature=spec.key.midi_key_signature,
                                harmony=harmony)
        manifest = _manifest(resolved, files, midi, tmp, sf_path, composition, mastered,
                             {**voice, "enabled": sing}, singers)
        (tmp / MANIFEST).write_text(manifest_json(manifest), encoding="utf-8")
        stage("export", 1.0)
    timings["export"] = time.perf_counter() - t
    timings["cpu_export"] = time.process_time() - c
    timings["total"] = time.perf_counter() - t0
    log.info("rendered %s in %.2f s", final, timings["total"])
    return RenderResult(final, manifest, timings)



# -- stems: render + strip, every stem one job, in worker processes ---------------------------

@dataclass(frozen=True, eq=False)
class StemBatch:
    """What every stem job needs (picklable; forked workers inherit it instead)."""

    composition: object
    timeline: Timeline
    soundfont: str
    voice: dict
    seed: int
    total_samples: int
    mix: MixSettings
    tempo_bpm: float
    #: processes the vocals' phrases may use (None: the voice's choice); see produce_stems
    voice_workers: int | None = None
    #: vocal stem name → the voice it holds (:func:`ainur_cli.vocals.vocal_stems`); a stem
    #: named ``vocals`` that is not listed holds every voice
    singers: dict = field(default_factory=dict)

    def is_vocal(self, name: str) -> bool:
        """Whether stem ``name`` is sung (``vocals`` or a singer's stem), not played."""
        return name == VOCALS or name in self.singers


def _cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def make_stem(batch: StemBatch, name: str, out: np.ndarray | None = None, *,
              mix: bool = True) -> tuple[np.ndarray, dict[str, float]]:
    """Render stem ``name`` (an instrument part or the vocals) and, if ``mix``, run its strip
    (with the master EQ folded in) in place.

    :param out: optional C-contiguous (2, total_samples) float32 array to render into.
    :returns: ((2, total_samples) float32 — ``out`` when given, {stage: CPU seconds}).
    """
    c0 = _cpu_s()
    vocal = batch.is_vocal(name)
    if vocal:
        singer = batch.singers.get(name) if len(batch.singers) > 1 else None
        audio = render_vocals(batch.composition, batch.timeline, batch.voice, seed=batch.seed,
                              total_samples=batch.total_samples, workers=batch.voice_workers,
                              singer=singer)
        if out is not None:
            out[...] = audio
            audio = out
    else:
        audio = render_part(batch.composition.part(name), batch.timeline, batch.soundfont,
                            total_samples=batch.total_samples, out=out)
    c1 = _cpu_s()
    cpu = {"vocals" if vocal else "render": c1 - c0}
    if mix:
        process_stem(audio, batch.mix.part(name), batch.mix, batch.timeline.sample_rate,
                     batch.tempo_bpm, post_eq=batch.mix.master.eq, inplace=True)
        cpu["mix"] = _cpu_s() - c1
    return audio, cpu


# Batches that forked workers inherit: {token: (batch, {name: shared output array}, mix)}.
_FORKED: dict[int, tuple] = {}


def _forked_job(token: int, name: str) -> dict[str, float]:
    batch, outputs, mix = _FORKED[token]
    return make_stem(batch, name, outputs[name], mix=mix)[1]


def _pickled_job(batch: StemBatch, name: str, mix: bool) -> tuple[np.ndarray, dict[str, float]]:
    return make_stem(batch, name, mix=mix)


def produce_stems(batch: StemBatch, names: list[str], *, workers: int = 2, mix: bool = True,
                  on_ready: Callable[[str, np.ndarray], None] | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every stem of ``names``, rendered and (if ``mix``) through its strip.

    The stems are jobs in :func:`job_order`, the costliest first (the vocals, then the strips
    with reverb/compression). With ``workers > 1`` the jobs run in a process pool: on Linux
    the workers are forked and write straight into shared memory; elsewhere, or while other
    threads run, the stems come back pickled. The result does not depend on ``workers``.

    :param on_ready: called in this process as ``on_ready(name, stem)`` for every stem in
        job order, each as soon as it and all jobs before it are done (while later ones may
        still be rendering). Job order is also the order the pool finishes them in, roughly,
        so the last stem's call follows the last job closely (in ``names`` order a stem
        that finished early but stood after a late one waited for it).

    :returns: ({name: (2, total_samples) float32} in ``names`` order, {stage: CPU seconds
        summed over the jobs}).
    """
    cpu: dict[str, float] = {}

    def add(c: dict[str, float]) -> None:
        for k, v in c.items():
            cpu[k] = cpu.get(k, 0.0) + v

    cores = max(1, int(workers))
    workers = min(cores, len(names))
    if workers > 1 and multiprocessing.current_process().daemon:
        cores = workers = 1
    # The vocals' phrases get the cores the pool leaves: none when the stems run as parallel
    # jobs (the other job keeps the second core busy; a pool inside the vocals job only made
    # three processes share two cores), all of them when the stems run here one by one.
    batch = replace(batch, voice_workers=1 if workers > 1 else cores)
    if mix:
        prepare_reverb(batch.mix.reverb, batch.timeline.sample_rate, batch.total_samples)
    def ready(name: str, audio: np.ndarray) -> None:
        if on_ready is not None:
            on_ready(name, audio)

    order = job_order(batch, names)
    if workers == 1 or batch.total_samples == 0:
        stems = {}
        for name in order:
            stems[name], c = make_stem(batch, name, mix=mix)
            add(c)
            ready(name, stems[name])
        return {k: stems[k] for k in names}, cpu
    if fork_is_safe():
        load_soundfont(batch.soundfont)  # parsed once here; the children share its pages
        token = id(batch)
        outputs = {k: shared_array(batch.total_samples) for k in names}
        _FORKED[token] = (batch, outputs, mix)
        try:
            with ProcessPoolExecutor(max_workers=workers,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                futures = {k: pool.submit(_forked_job, token, k) for k in order}
                for k in order:
                    add(futures[k].result())
                    ready(k, outputs[k])
        finally:
            del _FORKED[token]
        return outputs, cpu
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The fork server imports the render stack once; its workers inherit it (no numpy /
        # scipy import per worker). No effect if the server already runs.
        context.set_forkserver_preload([__name__])
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {k: pool.submit(_pickled_job, batch, k, mix) for k in order}
        stems = {}
        for k in order:
            stems[k], c = futures[k].result()
            add(c)
            ready(k, stems[k])
    return {k: stems[k] for k in names}, cpu


def job_order(batch: StemBatch, names: list[str]) -> list[str]:
    """``names`` in the order their jobs start: the vocals (the longest job), then the
    strips by :func:`stem_cost`, costliest first (ties keep ``names`` order)."""
    return sorted(names, key=lambda k: (not batch.is_vocal(k), -stem_cost(batch.mix.part(k))))


def _restyle(spec, stems: dict, sample_rate: int) -> dict:
    """Neural audio-to-audio over the stems named in ``restyle.prompts`` (same lengths)."""
    from ainur_cli.engines.neural import load_model, restyle_stems

    r = spec.restyle
    prompts = dict(r.prompts)
    if VOCALS in prompts:  # a duet: the vocals' prompt restyles every singer's stem
        prompts.update({name: prompts[VOCALS] for name in stems
                        if name.startswith(SINGER_PREFIX) and name not in prompts})
    for name in prompts:
        if name not in stems:
            raise spec.source.error(("restyle", "prompts", name), "names a part that is not rendered",
                                    name, ", ".join(stems))
    model = load_model(r.model, models_dir=r.models_dir, device=r.device)
    return restyle_stems(model, stems, sample_rate, prompts, strength=r.strength, seed=spec.seed,
                         steps=r.steps, cfg_scale=r.cfg_scale, negative_prompt=r.negative_prompt)


def _file_entry(path: Path, root: Path, part: str, audio: np.ndarray, sample_rate: int, out,
                measured: tuple[float, float]) -> dict:
    """Manifest entry; ``measured`` = the file's (LUFS, dBTP): stems' true peaks are exact at
    4x (the meter proves which blocks it may skip), the mix's are the master's 8x figure."""
    lufs, tp = measured
    return {
        "path": path.relative_to(root).as_posix(),
        "part": part,
        "start_sample": 0,
        "duration_samples": int(audio.shape[1]),
        "duration_s": round(audio.shape[1] / sample_rate, 6),
        "sample_rate": sample_rate,
        "channels": int(audio.shape[0]),
        "bit_depth": out.bit_depth,
        "format": out.format,
        "integrated_lufs": _rounded(lufs),
        "true_peak_dbtp": _rounded(tp),
    }


def _rounded(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def _manifest(resolved: ResolvedSong, files, midi, root: Path, sf_path: Path, composition, mastered,
              voice: dict, singers: dict[str, str]) -> dict:
    """The manifest; ``voice`` is the resolved :func:`vocal_settings` with ``enabled`` = sung,
    ``singers`` its :func:`vocal_stems` (empty when nothing is sung)."""
    plan = resolved.plan
    spec = plan.spec
    tl = plan.timeline
    return {
        "ainur_version": __version__,
        "title": spec.title,
        "preset": spec.preset,
        "seed": spec.seed,
        "spec_hash": resolved.spec_hash,
        "key": spec.key.name,
        "sample_rate": plan.sample_rate,
        "duration_samples": plan.total_samples,
        "duration_s": round(float(tl.total_seconds), 6),
        "target_lufs": spec.output.target_lufs,
        "true_peak_ceiling_dbtp": spec.output.true_peak_dbtp,
        "master": {
            "loudness_gain_db": _rounded(mastered.loudness_gain_db),
            "max_gain_reduction_db": _rounded(mastered.max_gain_reduction_db),
        },
        "tempo_map": [{"beat": float(b), "bar": int(tl.beat_to_bar(b)[0]) + 1, "tempo_bpm": float(t)}
                      for b, _, t in tl.tempo_segments()],
        "time_signatures": [{"bar": m.bar + 1, "numerator": m.numerator,
                             "denominator": m.denominator} for m in tl.meter_changes],
        "sections": [{"name": s.name, "kind": s.kind, "start_bar": s.start_bar + 1,
                      "bars": s.bars, "start_beat": float(s.start_beat),
                      "start_sample": s.start_sample, "end_sample": s.end_sample,
                      "start_s": round(s.start_s, 6), "end_s": round(s.end_s, 6),
                      "energy": s.energy} for s in plan.sections],
        "soundfont": describe_soundfont(sf_path),
        "vocals": {"enabled": bool(voice["enabled"]), "voice": voice["voice"],
                   "double": voice["double"],
                   "harmony": list(harmony_names(composition, voice)),
                   "harmony_sections": list(voice["harmony_sections"]),
                   "harmony_gain_db": float(voice["harmony_gain_db"]),
                   "harmony_voice": voice["harmony_voice"],
                   "harmony_sings": voices_as_written(voice["harmony_sings"]),
                   "harmony_rhythm": voice["harmony_rhythm"],
                   "line_end_beats": float(voice["line_end_beats"]),
                   "section_end_beats": float(voice["section_end_beats"]),
                   "section_voices": {k: voices_as_written(v) for k, v in voice["section_voices"]},
                   "octaves": {k: v // 12 for k, v in voice["octaves"]},
                   "sung_by": sung_by(composition, voice) if voice["enabled"] else {},
                   "stems": dict(singers)},
        "files": files,
        "midi": {name: p.relative_to(root).as_posix() for name, p in midi.items()},
        "warnings": list(composition.metadata.get("warnings", [])),
    }
