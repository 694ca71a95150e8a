"""The render pipeline: composition → engines → mix/master → export, into a staged folder.

Called through :func:`ainur_cli.api.render_song`; it imports the numeric stack, so the CLI
imports it only when a render starts.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ainur_cli import __version__
from ainur_cli.api import Cancelled, RenderResult, ResolvedSong, manifest_json
from ainur_cli.compose import compose_song
from ainur_cli.engines.embedded.render import render_parts
from ainur_cli.engines.embedded.soundfont import describe_soundfont, resolve_soundfont
from ainur_cli.export.audio import write_audio
from ainur_cli.export.midi import write_midi_files
from ainur_cli.mix.loudness import integrated_lufs, true_peak_dbtp
from ainur_cli.mix.master import linked_master
from ainur_cli.mix.mixer import mix_stems
from ainur_cli.outdir import MANIFEST, choose_target, staged_output
from ainur_cli.vocals import VOCALS, render_vocals, vocal_settings, wants_vocals, with_vocal_chain

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
    composition = compose_song(key=spec.key, seed=spec.seed, style=plan.style,
                               timeline=plan.timeline, sections=plan.sections, spec_file=spec.file)
    timings["compose"] = time.perf_counter() - t0
    voice = vocal_settings(plan.style.vocals)
    sing = wants_vocals(voice, composition) and (not out.parts or VOCALS in out.parts)
    wanted = list(out.parts) if out.parts else [p.name for p in composition.parts]
    if sing and VOCALS not in wanted:
        wanted.append(VOCALS)
    if not sing and VOCALS in wanted:
        wanted.remove(VOCALS)

    t = time.perf_counter()
    stage("render", 0.15)
    total = plan.total_samples
    instrument_parts = [p for p in wanted if p != "vocals"]
    stems = render_parts(composition, plan.timeline, sf_path, total_samples=total,
                         parts=instrument_parts, workers=workers)
    timings["render"] = time.perf_counter() - t
    if sing:
        t = time.perf_counter()
        stage("vocals", 0.35)
        stems[VOCALS] = render_vocals(composition, plan.timeline, voice, seed=spec.seed,
                                      total_samples=total)
        timings["vocals"] = time.perf_counter() - t

    if spec.restyle is not None:
        t = time.perf_counter()
        stage("restyle", 0.4)
        stems = _restyle(spec, stems, plan.sample_rate)
        timings["restyle"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("mix", 0.5)
    tempo_bpm = float(plan.timeline.tempo_changes[0].tempo_bpm)
    mix_settings = with_vocal_chain(plan.style.mix)
    # The master EQ is linear: folded into every strip (exactly the same stems, one pass less).
    processed = mix_stems(stems, mix_settings, plan.sample_rate, tempo_bpm, consume=True,
                          inplace=True, post_eq=mix_settings.master.eq)
    del stems
    timings["mix"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("master", 0.65)
    mastered = linked_master(processed, plan.sample_rate, target_lufs=out.target_lufs,
                             true_peak_dbtp=out.true_peak_dbtp,
                             settings=replace(mix_settings.master, eq=()), inplace=True)
    del processed
    timings["master"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("export", 0.8)
    with staged_output(final) as tmp:
        ext = _ext(out.format)
        (tmp / "stems").mkdir()
        jobs = [("mix", tmp / f"mix{ext}", mastered.mix, spec.title)]
        jobs += [(name, tmp / "stems" / f"{name}{ext}", mastered.stems[name], f"{spec.title} - {name}")
                 for name in wanted if name in mastered.stems]

        def export_one(job) -> dict:
            name, path, audio, description = job
            write_audio(path, audio, plan.sample_rate, bit_depth=out.bit_depth, fmt=out.format,
                        time_reference_samples=0, description=description)
            measured = (mastered.integrated_lufs, mastered.true_peak_dbtp) if name == "mix" else None
            return _file_entry(path, tmp, name, audio, plan.sample_rate, out, measured)

        # Writing and metering release the GIL (libsndfile, scipy filters): two threads.
        with ThreadPoolExecutor(max_workers=2) as pool:
            files = list(pool.map(export_one, jobs))
        stage("export", 0.9)
        markers = [(s.start_beat, s.name) for s in plan.sections]
        midi = write_midi_files(composition, plan.timeline, tmp / "midi", title=spec.title,
                                markers=markers, key_signature=spec.key.midi_key_signature)
        manifest = _manifest(resolved, files, midi, tmp, sf_path, composition, mastered)
        (tmp / MANIFEST).write_text(manifest_json(manifest), encoding="utf-8")
        stage("export", 1.0)
    timings["export"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    log.info("rendered %s in %.2f s", final, timings["total"])
    return RenderResult(final, manifest, timings)


def _restyle(spec, stems: dict, sample_rate: int) -> dict:
    """Neural audio-to-audio over the stems named in ``restyle.prompts`` (same lengths)."""
    from ainur_cli.engines.neural import load_model, restyle_stems

    r = spec.restyle
    prompts = dict(r.prompts)
    for name in prompts:
        if name not in stems:
            raise spec.source.error(("restyle", "prompts", name), "names a part that is not rendered",
                                    name, ", ".join(stems))
    model = load_model(r.model, models_dir=r.models_dir, device=r.device)
    return restyle_stems(model, stems, sample_rate, prompts, strength=r.strength, seed=spec.seed,
                         steps=r.steps, cfg_scale=r.cfg_scale, negative_prompt=r.negative_prompt)


def _file_entry(path: Path, root: Path, part: str, audio: np.ndarray, sample_rate: int, out,
                measured: tuple[float, float] | None = None) -> dict:
    """Manifest entry; ``measured`` = (LUFS, dBTP) already known (the master measured the mix).
    Stems' true peaks use a 3 dB screen (exact unless an inter-sample peak rises > 3 dB)."""
    lufs, tp = measured or (integrated_lufs(audio, sample_rate),
                            true_peak_dbtp(audio, sample_rate, screen_db=3.0))
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


def _manifest(resolved: ResolvedSong, files, midi, root: Path, sf_path: Path, composition, mastered) -> dict:
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
        "files": files,
        "midi": {name: p.relative_to(root).as_posix() for name, p in midi.items()},
        "warnings": list(composition.metadata.get("warnings", [])),
    }
