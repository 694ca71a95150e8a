"""Benchmark: mix + linked master + meters + export of a 3-minute, 7-stem song at 48 kHz.

Prints the wall (and CPU) time of each stage separately — mix_stems, linked_master, the
loudness / true-peak meters on the mix, write_audio of all files — then the figures of the
result: integrated loudness (ours, pyloudnorm, ffmpeg), true peak (4x, 8x, ffmpeg) and how well
the exported stems null against the exported mix.

Run:  .venv/bin/python bench/master_bench.py [--seconds 180] [--rate 48000] [--repeat 3]
                                              [--bit-depth 24] [--target -14] [--ceiling -1]
Stages are timed ``--repeat`` times (min and median shown): the machine is shared.
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.signal as ss
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainur_cli.errors import PresetError  # noqa: E402
from ainur_cli.export.audio import write_audio  # noqa: E402
from ainur_cli.mix.loudness import integrated_lufs, true_peak_dbtp  # noqa: E402
from ainur_cli.mix.master import linked_master  # noqa: E402
from ainur_cli.mix.mixer import mix_stems  # noqa: E402
from ainur_cli.mix.settings import parse_mix  # noqa: E402
from ainur_cli.source import parse_yaml_text  # noqa: E402

TEMPO_BPM = 120.0
MIX = """\
mix:
  parts:
    drums: {highpass_hz: 30, compressor: {threshold_db: -16, ratio: 3, attack_ms: 8, release_ms: 120}, reverb_send: 0.08}
    bass: {gain_db: -1, highpass_hz: 35, lowpass_hz: 4000, compressor: {threshold_db: -20, ratio: 4}}
    keys: {gain_db: -3, pan: -0.3, highpass_hz: 120, eq: [{type: high_shelf, freq_hz: 6000, gain_db: 2}], reverb_send: 0.2}
    pad: {gain_db: -6, pan: 0.2, highpass_hz: 200, reverb_send: 0.35, width: 1.4}
    lead: {gain_db: -1, highpass_hz: 180, eq: [{type: peak, freq_hz: 3000, gain_db: 2, q: 1.2}], reverb_send: 0.25, delay_send: 0.2}
    guitar: {pan: 0.35, highpass_hz: 90, compressor: {threshold_db: -18, ratio: 2.5}, reverb_send: 0.12}
    strings: {gain_db: -4, pan: -0.2, highpass_hz: 150, width: 1.2, reverb_send: 0.3}
  reverb: {room_size: 0.55, damping: 0.45, width: 1.0, return_db: -4, predelay_ms: 20}
  delay: {time_beats: 0.75, feedback: 0.3, return_db: -9, highcut_hz: 5000}
  master:
    eq: [{type: low_shelf, freq_hz: 90, gain_db: 1.0}, {type: high_shelf, freq_hz: 9000, gain_db: 1.5}]
    glue_threshold_db: -14
    glue_ratio: 1.6
"""


def song(duration_s: float, sample_rate: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Seven stereo stems (2, n) float32 of a 120 bpm song (intro without lead)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    beat = 60.0 / TEMPO_BPM

    def hits(times, decay_s):
        env = np.zeros(n)
        length = int(6 * decay_s * sample_rate)
        shape = np.exp(-np.arange(length) / (decay_s * sample_rate))
        for start in (np.asarray(times) * sample_rate).astype(int):
            m = min(length, n - start)
            if m > 0:
                env[start: start + m] += shape[:m]
        return env

    beats = np.arange(0, duration_s, beat)
    kick_env = hits(beats[::2], 0.09)
    kick = np.sin(2 * np.pi * 52 * t + 14 * kick_env) * kick_env
    snare = rng.standard_normal(n) * hits(beats[1::2], 0.07) * 0.5
    hat_noise = ss.sosfilt(ss.butter(4, [7000, 15000], "bandpass", fs=sample_rate, output="sos"),
                           rng.standard_normal(n))
    hats = hat_noise * hits(np.arange(0, duration_s, beat / 2), 0.02) * 0.8
    drums = 0.9 * kick + snare + hats
    roots = np.array([55.0, 43.65, 49.0, 41.2])[(t // (4 * beat)).astype(int) % 4]
    phase = 2 * np.pi * np.cumsum(roots) / sample_rate
    bass = sum(np.sin(k * phase) / k for k in range(1, 7)) * 0.3 * np.clip(hits(beats, 0.25) + 0.3, 0, 1)
    chord = np.array([1.0, 1.26, 1.5])
    keys = sum(np.sin(4 * c * phase) + 0.3 * np.sin(8 * c * phase) for c in chord) * 0.1 * hits(beats, 0.4)
    pad = np.stack([sum(np.sin(2 * c * d * phase) for c in chord) * 0.05 for d in (1.003, 0.997)])
    pad *= 0.6 + 0.4 * np.sin(2 * np.pi * t / 6) ** 2
    steps = np.array([1, 1.12, 1.26, 1.5, 1.68, 2.0])[(t // (beat / 2)).astype(int) % 6]
    lead_phase = 2 * np.pi * np.cumsum(8 * roots * steps * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))) / sample_rate
    lead = (np.sin(lead_phase) + 0.4 * np.sin(2 * lead_phase)) * 0.2 * np.clip(
        hits(np.arange(16 * beat, duration_s, beat / 2), 0.25), 0, 1)
    guitar = sum(np.sign(np.sin(2 * c * phase)) for c in chord) * 0.04 * hits(np.arange(beat / 4, duration_s, beat), 0.15)
    guitar = ss.sosfilt(ss.butter(2, 5000, fs=sample_rate, output="sos"), guitar)
    strings = np.stack([sum(np.sin(6 * c * d * phase) for c in chord) * 0.03 for d in (1.002, 0.998)])
    stems = {"drums": np.stack([drums, 0.95 * drums + 0.05 * hats]), "bass": np.stack([bass, bass]),
             "keys": np.stack([keys, 0.8 * keys]), "pad": pad, "lead": np.stack([lead, lead]),
             "guitar": np.stack([0.7 * guitar, guitar]), "strings": strings}
    return {k: v.astype(np.float32) for k, v in stems.items()}


def timed(fn, repeat: int):
    """(result of the last run, [wall s], [cpu s])."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return result, walls, cpus


def show(name: str, walls: list, cpus: list, audio_s: float) -> None:
    print(f"  {name:<34} wall min {min(walls):6.3f} s  median {statistics.median(walls):6.3f} s"
          f"  cpu min {min(cpus):6.3f} s   ({audio_s / min(walls):6.1f}x real time)")


def ffmpeg_figures(path: Path) -> str:
    if shutil.which("ffmpeg") is None:
        return "ffmpeg not installed"
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-filter_complex",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    tail = err[err.rfind("Summary:"):]
    i = re.search(r"\bI:\s+(\S+) LUFS", tail)
    p = re.search(r"\bPeak:\s+(\S+) dBFS", tail)
    return f"I {i.group(1) if i else '?'} LUFS, true peak {p.group(1) if p else '?'} dBTP"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bit-depth", default="24", choices=["16", "24", "32f"])
    ap.add_argument("--target", type=float, default=-14.0)
    ap.add_argument("--ceiling", type=float, default=-1.0)
    args = ap.parse_args()
    sr, secs = args.rate, args.seconds
    data, src = parse_yaml_text(MIX, "bench-mix.yaml", PresetError)
    settings = parse_mix(data["mix"], src, ("mix",))

    t = time.perf_counter()
    stems = song(secs, sr)
    print(f"{len(stems)} stems x {secs:.0f} s at {sr} Hz, stereo float32 "
          f"({sum(a.nbytes for a in stems.values()) / 2**20:.0f} MiB); synthesis {time.perf_counter() - t:.1f} s")
    print(f"stage timings over {args.repeat} runs:")

    processed, w, c = timed(lambda: mix_stems(stems, settings, sr, TEMPO_BPM), args.repeat)
    show("mix_stems (7 strips, 6 reverb, 1 delay)", w, c, secs)

    def master():
        return linked_master({k: v.copy() for k, v in processed.items()}, sr,
                             target_lufs=args.target, true_peak_dbtp=args.ceiling,
                             settings=settings.master, inplace=True)

    # (the copy inside is part of the measured time: about 0.05 s)
    result, w, c = timed(master, args.repeat)
    show("linked_master (EQ, glue, limiter)", w, c, secs)

    lufs, w, c = timed(lambda: integrated_lufs(result.mix, sr), args.repeat)
    show("integrated_lufs(mix)", w, c, secs)
    tp4, w, c = timed(lambda: true_peak_dbtp(result.mix, sr), args.repeat)
    show("true_peak_dbtp(mix), 4x, exact", w, c, secs)
    _, w, c = timed(lambda: [true_peak_dbtp(s, sr) for s in result.stems.values()], 1)
    show("true_peak_dbtp(7 stems), 4x, exact", w, c, secs)

    with tempfile.TemporaryDirectory(prefix="ainur-bench-") as tmp:
        out = Path(tmp)

        def export():
            write_audio(out / "mix.wav", result.mix, sr, bit_depth=args.bit_depth,
                        description="bench mix")
            for name, stem in result.stems.items():
                write_audio(out / f"{name}.wav", stem, sr, bit_depth=args.bit_depth,
                            time_reference_samples=0, description=f"bench {name}")

        _, w, c = timed(export, args.repeat)
        show(f"write_audio x {len(stems) + 1} ({args.bit_depth}-bit WAV)", w, c, secs)
        mix_back, _ = sf.read(out / "mix.wav", dtype="float64")
        total = sum(sf.read(out / f"{k}.wav", dtype="float64")[0] for k in result.stems)
        res_db = 10 * math.log10(np.mean((total - mix_back) ** 2) / np.mean(mix_back ** 2))
        ff = ffmpeg_figures(out / "mix.wav")

    import pyloudnorm

    print("result:")
    print(f"  target {args.target:g} LUFS, ceiling {args.ceiling:g} dBTP")
    print(f"  integrated loudness  ours {lufs:.3f} LUFS | pyloudnorm "
          f"{pyloudnorm.Meter(sr).integrated_loudness(mix_back):.3f} LUFS (exported file)")
    print(f"  true peak            4x {tp4:.3f} dBTP | 8x {true_peak_dbtp(result.mix, sr, 8):.3f} dBTP"
          f" | master's own report {result.true_peak_dbtp:.3f} dBTP")
    print(f"  ffmpeg ebur128       {ff}")
    print(f"  loudness gain {result.loudness_gain_db:+.2f} dB, glue max {result.glue_max_reduction_db:.2f} dB,"
          f" limiter max {result.limiter_max_reduction_db:.2f} dB, warnings: {list(result.warnings) or 'none'}")
    print(f"  stems vs mix after {args.bit_depth}-bit export: residual {res_db:.1f} dB re mix")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
