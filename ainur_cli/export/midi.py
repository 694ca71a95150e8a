"""Standard MIDI files of the composition: ``song.mid`` (all parts) and ``<part>.mid`` each.

Every file starts with a conductor track: the title, the whole tempo map (exact µs per
quarter), every time signature, the key signature and one ``marker`` per section. Lead parts
carry their lyrics as ``lyrics`` meta events (UTF-8) at their notes' onsets. 960 ticks per
quarter note; a position is ``round(beat * 960)``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Sequence

import mido

from ainur_cli.compose.types import Composition, Part
from ainur_cli.timeline import Timeline

PPQ = 960


def _tick(beat) -> int:
    return int(round(Fraction(beat) * PPQ)) if not isinstance(beat, float) else int(round(beat * PPQ))


def _delta_track(events: list[tuple[int, int, mido.Message]], name: str) -> mido.MidiTrack:
    """Absolute ``(tick, order, message)`` → a track with delta times and end_of_track."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def conductor_track(timeline: Timeline, *, title: str, markers: Sequence[tuple], key_signature: str | None) -> mido.MidiTrack:
    events = []
    for beat, _end, bpm in timeline.tempo_segments():
        tempo = int(round(Fraction(60_000_000) / Fraction(bpm)))
        events.append((_tick(beat), 1, mido.MetaMessage("set_tempo", tempo=tempo)))
    for m in timeline.meter_changes:
        if m.bar < timeline.total_bars:
            events.append((_tick(timeline.bar_to_beat(m.bar)), 0, mido.MetaMessage(
                "time_signature", numerator=m.numerator, denominator=m.denominator)))
    if key_signature:
        events.append((0, 2, mido.MetaMessage("key_signature", key=key_signature)))
    for beat, name in markers:
        events.append((_tick(beat), 3, mido.MetaMessage("marker", text=name)))
    events.append((_tick(timeline.total_beats), 9, mido.MetaMessage("text", text="end")))
    return _delta_track(events, title)


def part_track(part: Part) -> mido.MidiTrack:
    ch = part.channel
    events = [(0, 0, mido.Message("program_change", channel=ch, program=0 if part.is_drums else part.program))]
    for note in part.notes:
        on, off = _tick(note.start_beat), _tick(note.start_beat + note.duration_beats)
        off = max(off, on + 1)
        if note.lyric:
            events.append((on, 1, mido.MetaMessage("lyrics", text=note.lyric)))
        events.append((on, 2, mido.Message("note_on", channel=ch, note=note.pitch, velocity=note.velocity)))
        events.append((off, 0, mido.Message("note_off", channel=ch, note=note.pitch, velocity=0)))
    return _delta_track(events, part.name)


def write_midi_files(composition: Composition, timeline: Timeline, out_dir: Path, *, title: str,
                     markers: Sequence[tuple], key_signature: str | None) -> dict[str, Path]:
    """Write ``song.mid`` and ``<part>.mid`` into ``out_dir``; returns ``{name: path}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    conductor = conductor_track(timeline, title=title, markers=markers, key_signature=key_signature)
    tracks = {p.name: part_track(p) for p in composition.parts}
    files = {}
    song = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")
    song.tracks = [conductor, *tracks.values()]
    files["song"] = out_dir / "song.mid"
    song.save(str(files["song"]))
    for name, track in tracks.items():
        one = mido.MidiFile(type=1, ticks_per_beat=PPQ, charset="utf-8")
        one.tracks = [conductor, track]
        files[name] = out_dir / f"{name}.mid"
        one.save(str(files[name]))
    return files
