"""Benchmark: backing vocals on a vowel (``vocals.harmony_sings``), measured on the dry stem of
the voice that sings them.

For each vowel it renders a spec's written harmony track in its own rhythm, every note of it
on the vowel (the sections' ``harmony_lyrics`` left out; default:
examples/own-melody/backing.yaml, whose alto sings an "Oohs" track alone in its stem), and
a spec's chord pads (``harmony_rhythm: chords``; default bench/vocals_pads.yaml: two
voices), echoes (``harmony_rhythm: echo``; bench/vocals_echo.yaml: two voices) and answers
(sections' ``harmony_lyrics`` sung by a composed harmony in the lead's rests, with its third
above the lead in the choruses; examples/answers.yaml), each
harmony voice sung alone as its render sings it, and prints, over the sung
notes (each from its start to its end, the octave placement applied; clicks and the
outside peak: the worst voice's):

* pitch: Praat's autocorrelation F0 (parselmouth) against the written pitch, the median of
  the voiced frames' absolute errors (on held notes mostly the voice's vibrato, 22 cents at its peak)
  and the share within 50 cents (the issue's bar for the lead: <= 10 cents, >= 95 %); the
  median over the notes of each note's median error (its centre: what is in tune); the
  share of the notes' frames Praat calls voiced;
* level: the dry voice's RMS over the notes (dBFS; a hum as rendered, raised by HUM_GAIN_DB
  in the stem, is not here: ``mm`` reads about 11 dB under the vowels);
* clicks: second-difference spikes per second (vocals_bench's meter);
* held-vowel motion: cepstral envelope change in the middle of notes >= 0.4 s (dB per 10 ms;
  vocals_bench's meter: a frozen vowel reads near 0);
* silence: the peak outside the notes (more than 0.3 s before a note's start or after its
  end);
* speed: CPU seconds to sing the harmony singer alone (one process), and the RTF that makes
  of the song.

Then the chord pads' voicing (no audio; ``--voicing``, default examples/backing.yaml, set by
every shipped preset with its own key, tempo and meter, seeds ``--voicing-seeds``): the
share of the pads' sung time in unison with the lead (each in its octave placement; and
against lead notes of a beat or more), a semitone from it, the chords with a third whose
third a pad sings, the seventh chords whose seventh one sings (two voices), the chords the
pads sing on root and fifth only, and the pads' steps from chord to chord (mean, largest;
semitones).

Run:  .venv/bin/python bench/backing_bench.py [--spec SPEC] [--vowels ooh,ah,oh,mm] [--pads SPEC]
      [--echo SPEC] [--answers SPEC] [--voicing SPEC] [--voicing-seeds 1,2]
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
    """Peak |sample| of ``y`` away from the notes: more than 0.3 s before a note's start (a
    word's first consonants come before it) and after its end (its release)."""
    edges = [0.0] + [x for n in notes for x in (n.start_s - 0.3, n.end_s + 0.3)] + [len(y) / sr]
    peak = 0.0
    for a, b in zip(edges[::2], edges[1::2]):
        seg = y[int(a * sr):max(int(a * sr), int(b * sr))]
        if seg.size:
            peak = max(peak, float(np.max(np.abs(seg))))
    return peak


def measure(label: str, spec) -> None:
    """Sing each harmony voice of ``spec`` alone, as its render does (:func:`ainur_cli.voice.
    sing` with the voice's seed and octave placement), and print the row of them all (see
    the module docstring)."""
    from dataclasses import replace

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.seeds import seed_for
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.vocals import harmony_notes, vocal_settings
    from ainur_cli.voice import sing
    from ainur_cli.voice.voices import get_voice
    from vocals_bench import clicks_per_s, held_vowel_motion, pitch_errors

    plan = resolve_song(spec).plan
    comp = compose_plan(plan)
    settings = vocal_settings(plan.style.vocals)
    lines, shifts = harmony_notes(comp, plan.timeline, settings)
    singer = get_voice(settings["harmony_voice"] or settings["voice"]).name
    sr, song_s = plan.sample_rate, plan.total_samples / plan.sample_rate
    errors, centres, rows, cpu = [], [], [], 0.0
    for k, line in enumerate(lines):
        sung = [replace(n, midi_pitch=n.midi_pitch + shifts[singer]) for n in line]
        c = time.process_time()
        y = sing(line, sample_rate=sr, total_samples=plan.total_samples, voice=singer,
                 seed=seed_for(plan.spec.seed, "harmony", k), octave_shift=shifts[singer],
                 breaths=False, workers=1)[0]
        cpu += time.process_time() - c
        e, centre = pitch_errors(y, sr, sung)
        errors.append(e)
        centres += centre
        spans = np.concatenate([y[int(n.start_s * sr):int(n.end_s * sr)] for n in sung])
        rows.append((len(sung), sum(not n.is_melisma for n in sung), sum(n.duration_s for n in sung),
                     float(np.mean(spans ** 2)), clicks_per_s(y, sr),
                     held_vowel_motion(y, sr, sung), outside_peak(y, sr, sung)))
    errors = np.concatenate(errors)
    motion = [r[5] for r in rows if not np.isnan(r[5])]  # none: no note >= 0.4 s
    notes, syllables, seconds = (sum(r[i] for r in rows) for i in range(3))
    print(f"{label:12s} {notes:5d} {syllables:9d} "
          f"{np.median(np.abs(errors)):8.1f} {100 * np.mean(np.abs(errors) <= 50):8.1f} "
          f"{np.median(np.abs(centres)):6.1f} {100 * errors.size / (seconds / 0.005):8.1f} "
          f"{10 * np.log10(np.mean([r[3] for r in rows]) + 1e-24):8.1f} "
          f"{max(r[4] for r in rows):8.2f} {np.mean(motion) if motion else float('nan'):9.2f} "
          f"{max(r[6] for r in rows):8.1e} {cpu:6.2f} {song_s / cpu:6.0f}")


def answers_wer(path: str, presets: list[str], seeds: list[int]) -> None:
    """pocketsphinx's WER on the answers (sections' ``harmony_lyrics`` sung by the composed
    harmony in the lead's rests) of the spec at ``path`` set by each of ``presets`` (its own
    key, tempo and meter; ``[""]``: the spec's own) with each seed: the answers alone (the
    first harmony voice's answer phrases, sung dry as its render sings them), one clip per
    answer (0.4 s either side; vocals_bench's meter: a fresh decoder per clip, a -60 dBFS
    noise floor); and the same words spoken by espeak en-us (175 wpm), a clip each."""
    from collections import Counter
    from dataclasses import replace

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.seeds import seed_for
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.spec import load_spec
    from ainur_cli.vocals import harmony_notes, vocal_settings
    from ainur_cli.voice import sing
    from ainur_cli.voice.voices import get_voice
    from vocals_bench import edit_distance, recognise, ref_words, spoken_baseline, to16k

    edits = words = runs = 0
    texts: Counter = Counter()
    heard = []
    for preset in presets:
        for seed in seeds:
            spec = load_spec(path)
            if preset:
                spec = replace(spec, preset=preset, key=None, tempo_map=None, meters=None)
            plan = resolve_song(replace(spec, seed=seed)).plan
            comp = compose_plan(plan)
            settings = vocal_settings(plan.style.vocals)
            lines, shifts = harmony_notes(comp, plan.timeline, settings)
            answers = comp.metadata.get("harmony_answers", [])
            if not lines or not answers:
                continue
            runs += 1
            singer = get_voice(settings["harmony_voice"] or settings["voice"]).name
            sr, tl = plan.sample_rate, plan.timeline
            spans = [(float(tl.beat_to_seconds(x[0][0])), float(tl.beat_to_seconds(x[-1][1])))
                     for *_, x in answers]
            mine = [n for n in lines[0] if any(a - 1e-6 <= n.start_s < b for a, b in spans)]
            y = sing(mine, sample_rate=sr, total_samples=plan.total_samples, voice=singer,
                     seed=seed_for(plan.spec.seed, "harmony", 0), octave_shift=shifts[singer],
                     breaths=False, workers=1)[0]
            for (_, _, text, _), (a, b) in zip(answers, spans):
                ref = ref_words(text)
                hyp = recognise(to16k(y[int(max(a - 0.4, 0.0) * sr):int((b + 0.4) * sr)], sr))
                edits += edit_distance(ref, hyp)
                words += len(ref)
                texts[text] += 1
                if len(heard) < 12:
                    heard.append(f"{text!r} -> {' '.join(hyp)!r}")
    if not words:
        print("\nanswers: none")
        return
    spoken = sum(n * spoken_baseline("en-us", 175, [t])["wer"] * len(ref_words(t))
                 for t, n in texts.items()) / words
    print(f"\nanswers' WER (pocketsphinx; {path}, {runs} runs, {sum(texts.values())} answers, "
          f"{words} words): {edits / words:.3f}; the same words spoken by espeak en-us (175 "
          f"wpm), a clip each: {spoken:.3f}")
    for h in heard:
        print(f"  {h}")


def voicing(path: str, seeds: list[int]) -> None:
    """Print the chord pads' voicing figures (see the module docstring) of the spec at
    ``path`` set by each shipped preset (its own key, tempo and meter) with each seed."""
    from dataclasses import replace

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.presets import list_presets
    from ainur_cli.spec import load_spec
    from ainur_cli.vocals import harmony_notes, harmony_parts, line_voices, vocal_settings
    from ainur_cli.voice.voices import get_voice

    total = unison = unison_held = semitone = 0.0
    thirds, sevenths, hollow, padded, steps = [0, 0], [0, 0], 0, 0, []
    runs = 0
    for preset in sorted(list_presets()):
        for seed in seeds:
            spec = replace(load_spec(path), preset=preset, seed=seed, key=None, tempo_map=None,
                           meters=None)
            plan = resolve_song(spec).plan
            comp = compose_plan(plan)
            settings = vocal_settings(plan.style.vocals)
            parts = harmony_parts(comp, plan.timeline, settings)
            if not parts:
                continue
            runs += 1
            _, shifts = harmony_notes(comp, plan.timeline, settings)
            singer = get_voice(settings["harmony_voice"] or settings["voice"]).name
            voice_of = line_voices(comp, settings)
            main_voice = get_voice(settings["voice"]).name
            lead = [(n.start_beat, n.start_beat + n.duration_beats, n.pitch + shifts.get(v, 0))
                    for n in comp.part("lead").notes if n.lyric is not None
                    for v in voice_of.get(n.line_index, (main_voice,))]
            for part in parts:
                notes = [(n.start_beat, n.start_beat + n.duration_beats,
                          n.pitch + shifts[singer]) for n in part.notes]
                for a, b, p in notes:
                    total += b - a
                    for la, lb, q in lead:
                        overlap = min(b, lb) - max(a, la)
                        if overlap > 0 and p == q:
                            unison += overlap
                            unison_held += overlap * (lb - la >= 1)
                        elif overlap > 0 and abs(p - q) == 1:
                            semitone += overlap
                steps += [abs(y[2] - x[2]) for x, y in zip(notes, notes[1:]) if y[0] == x[1]]
            for c in comp.chords:
                a, b = c.start_beat, c.start_beat + c.duration_beats
                held = {n.pitch % 12 for part in parts for n in part.notes
                        if n.start_beat < b and a < n.start_beat + n.duration_beats}
                if not held:
                    continue
                padded += 1
                third = [pc for pc in c.pitch_classes if (pc - c.root_pc) % 12 in (3, 4)]
                seventh = [pc for pc in c.pitch_classes if (pc - c.root_pc) % 12 in (10, 11)]
                if third:
                    thirds[0] += third[0] in held
                    thirds[1] += 1
                if seventh and len(parts) > 1:
                    sevenths[0] += seventh[0] in held
                    sevenths[1] += 1
                hollow += held <= {c.root_pc, (c.root_pc + 7) % 12}
    print(f"\nchord pads' voicing: {path}, {runs} runs (every preset x seeds {seeds}), "
          f"{total:.0f} beats of pads")
    print(f"  unison with the lead {100 * unison / total:.2f} % of the pads' time (against "
          f"lead notes of a beat or more {100 * unison_held / total:.2f} %), a semitone from "
          f"it {100 * semitone / total:.2f} %")
    print(f"  chords with a third: its third sung {thirds[0]} / {thirds[1]} "
          f"({100 * thirds[0] / max(1, thirds[1]):.1f} %); seventh chords: their seventh "
          f"{sevenths[0]} / {sevenths[1]}; root and fifth only {hollow} of {padded} chords")
    print(f"  steps from chord to chord: mean {np.mean(steps):.2f}, largest {max(steps)} "
          f"semitones")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "examples" / "own-melody" / "backing.yaml"))
    ap.add_argument("--vowels", default="ooh,ah,oh,mm")
    ap.add_argument("--pads", default=str(ROOT / "bench" / "vocals_pads.yaml"),
                    help="a spec with chord pads (harmony_rhythm: chords); '' for none")
    ap.add_argument("--echo", default=str(ROOT / "bench" / "vocals_echo.yaml"),
                    help="a spec with echoes (harmony_rhythm: echo); '' for none")
    ap.add_argument("--answers", default=str(ROOT / "examples" / "answers.yaml"),
                    help="a spec with answers (sections' harmony_lyrics, composed harmony); "
                         "'' for none")
    ap.add_argument("--answer-presets", default="",
                    help="presets (comma-separated, or all) that set the answers' spec for "
                         "their WER (with --voicing-seeds); '' (default): the spec's own")
    ap.add_argument("--voicing", default=str(ROOT / "examples" / "backing.yaml"),
                    help="a spec with chord pads for the voicing figures; '' for none")
    ap.add_argument("--voicing-seeds", default="1,2")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from dataclasses import replace

    from ainur_cli.spec import load_spec

    print("each harmony voice alone (dry), Praat F0 against the written pitch")
    print(f"{'what':12s} {'notes':>5s} {'syllables':>9s} {'median ¢':>8s} {'<=50¢ %':>8s} "
          f"{'note ¢':>6s} {'voiced %':>8s} {'RMS dBFS':>8s} {'clicks/s':>8s} {'motion dB':>9s} "
          f"{'outside':>8s} {'CPU-s':>6s} {'RTF':>6s}")
    for vowel in filter(None, args.vowels.split(",")):
        spec = load_spec(args.spec)
        vocals = dict((spec.style or {}).get("vocals") or {})
        spec = replace(spec, style={**spec.style, "vocals": {**vocals, "harmony_sings": vowel}},
                       sections=tuple(replace(s, harmony_lyrics=()) for s in spec.sections))
        measure(f"{vowel} (track)", spec)
    if args.pads:
        measure("pads (ooh)", load_spec(args.pads))
    if args.echo:
        measure("echo (words)", load_spec(args.echo))
    if args.answers:
        measure("answers", load_spec(args.answers))
    if args.answers:
        from ainur_cli.presets import list_presets

        answers_wer(args.answers, sorted(list_presets()) if args.answer_presets == "all"
                    else args.answer_presets.split(","),
                    [int(x) for x in args.voicing_seeds.split(",")])
    if args.voicing:
        voicing(args.voicing, [int(x) for x in args.voicing_seeds.split(",")])


if __name__ == "__main__":
    main()
