"""Benchmark: how well the accompaniment fits a DAW session's own vocal melody.

For each MIDI file whose lyric events sit on notes (``ainur render --from-midi``) and each
preset, it prints, over the sung notes' duration: the share on a tone of the chord sounding
under them, and the share a semitone from one of its tones (a rub), with the preset's
chords as they are (``preset``) and with the chords fitted to the melody (``fitted``, what
Ainur plays: :mod:`ainur_cli.compose.fit_chords`). The key is the one the render uses.

Run:  .venv/bin/python bench/session_melody_bench.py [--presets pop,rock] [MIDI ...]
(default: the three MIDI fixtures with vocal notes in tests/data/midi).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [ROOT / "tests" / "data" / "midi" / name for name in
            ("csvmidi_vocal_melody.mid", "csvmidi_pinned_lyrics.mid", "lilypond_session.mid",
              "csvmidi_twinkle.mid")]
PRESETS = "pop,rock,ballad,jazz-waltz,synthwave,trap"


def shares(melody, chords) -> tuple[float, float]:
    """(chord-tone share, rub share) of the melody's duration over ``chords``."""
    total = tone = rub = 0.0
    for a, b, pitch in melody:
        for c in chords:
            x, y = max(a, c.start_beat), min(b, c.start_beat + c.duration_beats)
            if y <= x:
                continue
            pc = pitch % 12
            total += y - x
            if pc in c.pitch_classes:
                tone += y - x
            elif any((pc - t) % 12 in (1, 11) for t in c.pitch_classes):
                rub += y - x
    return tone / total, rub / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("midi", nargs="*", type=Path, default=FIXTURES)
    ap.add_argument("--presets", default=PRESETS)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from ainur_cli.api import resolve_song
    from ainur_cli.compose.fit_chords import fit_chords
    from ainur_cli.compose.harmony import song_chords
    from ainur_cli.compose.meter import Bars
    from ainur_cli.compose.song import session_melody
    from daw_bridge.midi_import import spec_from_midi

    print(f"{'file':28s} {'preset':12s} {'key':10s} {'notes':>5s}  chord tones preset -> fitted"
          f"   rubs preset -> fitted")
    rows = []
    for path in args.midi:
        for preset in args.presets.split(","):
            plan = resolve_song(spec_from_midi(path, preset=preset, find_lyrics=False).spec).plan
            melody = session_melody(plan.sections)
            if not melody:
                print(f"{path.name:28s} {preset:12s} (no vocal notes)")
                continue
            bars = Bars(plan.timeline)
            before = song_chords(plan.style, plan.spec.key, bars, plan.sections)
            after = fit_chords(before, melody, plan.style, plan.spec.key, plan.sections, bars)
            (t0, r0), (t1, r1) = shares(melody, before), shares(melody, after)
            rows.append((t0, r0, t1, r1))
            print(f"{path.name:28s} {preset:12s} {plan.spec.key.name:10s} {len(melody):5d}  "
                  f"{t0:6.2f} -> {t1:4.2f}              {r0:5.2f} -> {r1:4.2f}")
    if rows:
        mean = [sum(r[k] for r in rows) / len(rows) for k in range(4)]
        print(f"{'mean of ' + str(len(rows)) + ' runs':52s}   {mean[0]:6.2f} -> {mean[2]:4.2f}"
              f"              {mean[1]:5.2f} -> {mean[3]:4.2f}")


if __name__ == "__main__":
    main()
