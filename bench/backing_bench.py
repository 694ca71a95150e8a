"""Benchmark: backing vocals on a vowel (``vocals.harmony_sings``), measured on the dry stem of
the voice that sings them.

For each vowel it renders a spec's written harmony track in its own rhythm, every note of it
on the vowel (the sections' ``harmony_lyrics`` left out; default:
examples/own-melody/backing.yaml, whose alto sings an "Oohs" track alone in its stem) and
prints, over the sung notes (each from its start to its end, the octave placement applied):

* pitch: Praat's autocorrelation F0 (parselmouth) against the written pitch, the median of
  the voiced frames' absolute errors (on held notes mostly the voice's vibrato, 22 cents at its peak)
  and the share within 50 cents (the issue's bar for the lead: <= 10 cents, >= 95 %); the
  median over the notes of each note's median error (its centre: what is in tune); the
  share of the notes' frames Praat calls voiced;
* level: the stem's RMS over the notes (dBFS);
* clicks: second-difference spikes per second (vocals_bench's meter);
* held-vowel motion: cepstral envelope change in the middle of notes >= 0.4 s (dB per 10 ms;
  vocals_bench's meter: a frozen vowel reads near 0);
* silence: the peak outside the notes (from 0.3 s after a note's end to its next start);
* speed: CPU seconds to sing the harmony voice alone (one process), and the RTF that makes
  of the song.

Run:  .venv/bin/python bench/backing_bench.py [--spec SPEC] [--vowels ooh,ah,oh,mm]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def outside_peak(y: np.ndarray, sr: int, notes: list) -> float:
    """Peak |sample| of ``y`` away from the notes: before the first, between a note's end
    plus 0.3 s (the release and reverb-free tail) and the next note's start, after the last."""
    edges = [0.0] + [x for n in notes for x in (n.start_s, n.end_s + 0.3)] + [len(y) / sr]
    peak = 0.0
    for a, b in zip(edges[::2], edges[1::2]):
        seg = y[int(a * sr):max(int(a * sr), int(b * sr))]
        if seg.size:
            peak = max(peak, float(np.max(np.abs(seg))))
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "examples" / "own-melody" / "backing.yaml"))
    ap.add_argument("--vowels", default="ooh,ah,oh,mm")
    ap.add_argument("--seed", type=int, default=None, help="default: the spec's")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from dataclasses import replace

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.spec import load_spec
    from ainur_cli.vocals import harmony_notes, render_vocals, vocal_settings
    from ainur_cli.voice.voices import get_voice
    from vocals_bench import clicks_per_s, held_vowel_motion, pitch_errors

    print(f"{Path(args.spec).name}: the harmony voice alone (dry), Praat F0 against the "
          "written pitch")
    print(f"{'vowel':6s} {'notes':>5s} {'syllables':>9s} {'median ¢':>8s} {'<=50¢ %':>8s} "
          f"{'note ¢':>6s} "
          f"{'voiced %':>8s} {'RMS dBFS':>8s} {'clicks/s':>8s} {'motion dB':>9s} "
          f"{'outside':>8s} {'CPU-s':>6s} {'RTF':>6s}")
    for vowel in args.vowels.split(","):
        spec = load_spec(args.spec)
        vocals = dict((spec.style or {}).get("vocals") or {})
        spec = replace(spec, style={**spec.style, "vocals": {**vocals, "harmony_sings": vowel}},
                       sections=tuple(replace(s, harmony_lyrics=()) for s in spec.sections))
        plan = resolve_song(spec).plan
        comp = compose_plan(plan)
        settings = vocal_settings(plan.style.vocals)
        (line, *_), shifts = harmony_notes(comp, plan.timeline, settings)
        singer = get_voice(settings["harmony_voice"] or settings["voice"]).name
        sung = [replace(n, midi_pitch=n.midi_pitch + shifts[singer]) for n in line]
        seed = plan.spec.seed if args.seed is None else args.seed
        c = time.process_time()
        y = render_vocals(comp, plan.timeline, settings, seed=seed,
                          total_samples=plan.total_samples, workers=1, singer=singer)[0]
        cpu = time.process_time() - c
        sr = plan.sample_rate
        errors, centres = pitch_errors(y, sr, sung)
        frames = sum(n.duration_s for n in sung) / 0.005
        spans = np.concatenate([y[int(n.start_s * sr):int(n.end_s * sr)] for n in sung])
        song_s = plan.total_samples / sr
        print(f"{vowel:6s} {len(sung):5d} {sum(not n.is_melisma for n in sung):9d} "
              f"{np.median(np.abs(errors)):8.1f} {100 * np.mean(np.abs(errors) <= 50):8.1f} "
              f"{np.median(np.abs(centres)):6.1f} "
              f"{100 * errors.size / frames:8.1f} "
              f"{20 * np.log10(np.sqrt(np.mean(spans ** 2)) + 1e-12):8.1f} "
              f"{clicks_per_s(y, sr):8.2f} {held_vowel_motion(y, sr, sung):9.2f} "
              f"{outside_peak(y, sr, sung):8.1e} {cpu:6.2f} {song_s / cpu:6.0f}")


if __name__ == "__main__":
    main()
