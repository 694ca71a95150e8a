"""Benchmark: Ainur's neural engine against diffusers' StableAudioPipeline, same device.

Both run the full Stable Audio Open architecture (models/stable-audio-open-1.0.json) with
random weights - speed does not depend on the weights - sharing the same DiT and VAE
modules, at the same steps, length, guidance and precision (the DiT and VAE in --dtype; our
T5 and timing conditioners run once per window in float32, diffusers' in --dtype).

Cases (seconds of audio per wall-clock second, wall time, peak GPU memory):
  window  one 47.55 s window, 100 steps, CFG 7
  song    a 3-minute song of 7 sections. Ours: generate_song (each section conditioned on
          its own prompt and seconds_start, windows continuing each other). Diffusers cannot
          continue a window, so it runs ceil(180 / 47.55) = 4 independent full windows - the
          least work that covers 3 minutes. Extra rows show our faster modes (fit_window:
          only the frames a window needs; fresh sections batched together).
Goal: ours <= 0.5x diffusers' wall time.

Run on a GPU:    .venv/bin/python bench/neural_bench.py --device cuda [--dtype bfloat16]
CPU smoke run:   .venv/bin/python bench/neural_bench.py --tiny --device cpu
(diffusers' pipeline needs the ``torchsde`` package for its scheduler.)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SONG_FRACTIONS = [0.0, 0.067, 0.244, 0.356, 0.533, 0.711, 0.867, 1.0]
SONG_PROMPTS = ["ambient intro pad", "warm piano and bass", "building drums",
                "bright rock chorus", "warm piano and bass", "bright rock chorus",
                "soft ambient outro"]
PROMPT = "lofi beat with warm piano"


def song_sections(song_s: float) -> list[tuple[float, float, str]]:
    cuts = [round(f * song_s, 3) for f in SONG_FRACTIONS]
    return [(a, b, p) for a, b, p in zip(cuts, cuts[1:], SONG_PROMPTS)]


class Timer:
    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device.type == "cuda"

    def __enter__(self):
        if self.cuda:
            self.torch.cuda.synchronize()
            self.torch.cuda.reset_peak_memory_stats()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            self.torch.cuda.synchronize()
            self.peak_gib = self.torch.cuda.max_memory_allocated() / 2**30
        else:
            self.peak_gib = None
        self.wall_s = time.perf_counter() - self.t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    ap.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16")
    ap.add_argument("--tiny", action="store_true", help="the unittest model (smoke run)")
    ap.add_argument("--steps", type=int, help="sampler steps (default 100; --tiny: 4)")
    ap.add_argument("--cfg", type=float, default=7.0)
    ap.add_argument("--song-s", type=float, help="song length (default 180; --tiny: 5)")
    ap.add_argument("--compile", action="store_true", help="torch.compile our DiT")
    ap.add_argument("--skip-diffusers", action="store_true")
    ap.add_argument("--skip-song", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    import diffusers
    import torch

    from ainur_cli.engines.neural.cards import load_card
    from ainur_cli.engines.neural.components import build_random
    from ainur_cli.engines.neural.loading import model_from_components

    card = load_card("unittest" if args.tiny else "stable-audio-open-1.0")
    steps = args.steps or (4 if args.tiny else 100)
    song_s = args.song_s or (5.0 if args.tiny else 180.0)
    t0 = time.perf_counter()
    components = build_random(card)
    model = model_from_components(card, components, device=args.device, dtype=args.dtype)
    build_s = time.perf_counter() - t0
    device, dtype = model.device, model.dtype
    if args.compile:
        model.compile()
    window_s = model.max_window_s
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name or 'cpu'}), dtype {str(dtype).replace('torch.', '')}, "
          f"torch {torch.__version__}, diffusers {diffusers.__version__}")
    params = sum(p.numel() for m in components.modules().values() for p in m.parameters())
    print(f"model: {card.name} random weights, {params / 1e6:.2f} M parameters, window "
          f"{window_s:.2f} s, built in {build_s:.1f} s; steps {steps}, cfg {args.cfg:g}")

    results = []

    def record(case, who, audio_s, timer, note=""):
        row = {"case": case, "engine": who, "audio_s": round(audio_s, 3),
               "wall_s": round(timer.wall_s, 3), "x_realtime": round(audio_s / timer.wall_s, 3),
               "peak_gpu_gib": None if timer.peak_gib is None else round(timer.peak_gib, 2),
               "note": note}
        results.append(row)
        mem = "" if row["peak_gpu_gib"] is None else f", peak GPU {row['peak_gpu_gib']:.2f} GiB"
        print(f"  {case:6} {who:28} {audio_s:7.2f} s audio in {timer.wall_s:8.2f} s "
              f"= {row['x_realtime']:7.3f} s/s{mem}  {note}")

    # warm-up (kernels, allocator, compile) outside the timings
    model.generate(PROMPT, seconds_total=min(2.0, window_s), steps=2, cfg_scale=args.cfg, seed=0)
    pipe = None
    if not args.skip_diffusers:
        from diffusers import CosineDPMSolverMultistepScheduler, StableAudioPipeline

        sched_cfg = {k: v for k, v in card.architecture["scheduler"].items()
                     if not k.startswith("_")}
        pipe = StableAudioPipeline(
            vae=components.vae, transformer=components.transformer,
            text_encoder=torch.nn.Module.to(copy.deepcopy(components.text_encoder), device, dtype),
            projection_model=torch.nn.Module.to(copy.deepcopy(components.projection), device,
                                                dtype),
            tokenizer=components.tokenizer,
            scheduler=CosineDPMSolverMultistepScheduler(**sched_cfg))
        pipe.set_progress_bar_config(disable=True)
        pipe(PROMPT, num_inference_steps=2, audio_end_in_s=min(2.0, window_s),
             guidance_scale=args.cfg, generator=torch.Generator().manual_seed(0))

    def run_diffusers(seconds, seed):
        return pipe(PROMPT, num_inference_steps=steps, audio_end_in_s=seconds,
                    guidance_scale=args.cfg, generator=torch.Generator().manual_seed(seed),
                    output_type="pt").audios

    print("results:")
    with Timer(torch, device) as t:
        audio = model.generate(PROMPT, seconds_total=window_s, steps=steps, cfg_scale=args.cfg,
                               seed=1)
    record("window", "ainur", audio.shape[1] / model.sample_rate, t)
    if pipe is not None:
        with Timer(torch, device) as t:
            out = run_diffusers(window_s, 1)
        record("window", "diffusers StableAudioPipeline", out.shape[-1] / model.sample_rate, t)

    if not args.skip_song:
        sections = song_sections(song_s)
        for label, kw in (("ainur", {}),
                          ("ainur fit_window", {"fit_window": True}),
                          ("ainur fresh+batched sections",
                           {"fit_window": True, "continue_across_sections": False})):
            with Timer(torch, device) as t:
                audio = model.generate_song(sections, song_length_s=song_s, steps=steps,
                                            cfg_scale=args.cfg, seed=2, **kw)
            record("song", label, audio.shape[1] / model.sample_rate, t,
                   f"{len(sections)} sections")
        if pipe is not None:
            n = math.ceil(song_s / window_s)
            with Timer(torch, device) as t:
                for k in range(n):
                    run_diffusers(window_s, 10 + k)
            record("song", "diffusers StableAudioPipeline", song_s, t,
                   f"{n} independent full windows")

    print("ratios (ours wall / diffusers wall; goal <= 0.5):")
    for case in ("window", "song"):
        ref = [r for r in results if r["case"] == case and r["engine"].startswith("diffusers")]
        for r in results:
            if ref and r["case"] == case and r["engine"].startswith("ainur"):
                print(f"  {case:6} {r['engine']:28} {r['wall_s'] / ref[0]['wall_s']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"device": str(device), "device_name": name,
                                         "dtype": str(dtype), "steps": steps,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
