"""Standard MIDI files of a composition: ``song.mid`` (every part) and ``<part>.mid`` each,
and ``vocals_harmony.mid`` for the sung harmony voices when the song has them.

Every file is type 1 at 960 ticks per quarter note and starts with a conductor track: the
song title as track name, the whole tempo map (``set_tempo``, µs per quarter rounded to the
nearest µs), every time signature, the key signature and one ``marker`` per section. Then
one track per part: its name, a ``program_change`` at tick 0 on its channel (drums too, on
channel 10 = index 9, where the program picks the kit: 0 = GM Standard), its notes, and for
sung parts a ``lyrics`` meta event (UTF-8) at each syllable's note-on, written as the MIDI
Association's RP-017 has it: a space after every word's last syllable (none after a syllable
the word goes on from: ``Walk`` ``ing `` ``home ``) and a carriage return after each lyric
line's last one (``night \\r``), which DAWs' lyric lanes and karaoke players read as words
and lines. The harmony voices
(given as parts: the lead's notes at the harmony's written pitches) come last in ``song.mid``
and together, after the same conductor track, in ``vocals_harmony.mid``.

Positions are exact: ``tick = floor(beat * 960 + 1/2)``. The notes are the same spans the
soundfont renderer plays (:func:`ainur_cli.engines.embedded.events.note_spans`): a note
lasts at least one tick and same-key overlaps are cut at the next note-on, so every reader
pairs note-ons and note-offs the same way. Within one tick: note-offs, then lyrics, then
note-ons; tempo, meter and key before markers. The bytes are written here (not by mido,
whose text encoding is a process-wide setting) and are identical for identical input.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from ainur_cli.compose.types import Composition, Part, running_text
from ainur_cli.engines.embedded.events import beats_to_ticks, check_part, note_spans
from ainur_cli.errors import ExportError
from ainur_cli.timeline import Timeline

PPQ = 960
MAX_TEMPO_US = 0xFFFFFF  # set_tempo holds 3 bytes: slowest tempo 60e6 / 0xFFFFFF = 3.58 bpm
NOTE_OFF_VELOCITY = 64
HARMONY_FILE = "vocals_harmony"  # the sung harmony voices' file (and key in the result)

_MAJOR_SF = {"Cb": -7, "Gb": -6, "Db": -5, "Ab": -4, "Eb": -3, "Bb": -2, "F": -1, "C": 0,
             "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7}
_MINOR_SF = {"Abm": -7, "Ebm": -6, "Bbm": -5, "Fm": -4, "Cm": -3, "Gm": -2, "Dm": -1,
             "Am": 0, "Em": 1, "Bm": 2, "F#m": 3, "C#m": 4, "G#m": 5, "D#m": 6, "A#m": 7}
KEY_NAMES = tuple(_MAJOR_SF) + tuple(_MINOR_SF)
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,63}")


def _vlq(n: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _meta(kind: int, data: bytes) -> bytes:
    return bytes((0xFF, kind)) + _vlq(len(data)) + data


def _text(kind: int, text: str) -> bytes:
    return _meta(kind, text.encode("utf-8"))


def _track(name: str, events: list[tuple[int, int, bytes]], end_tick: int) -> bytes:
    """A track chunk from ``(tick, order, event bytes)``: name first, end_of_track last."""
    body = bytearray(_vlq(0) + _text(0x03, name))
    now = 0
    for tick, _, data in sorted(events, key=lambda e: (e[0], e[1])):
        body += _vlq(tick - now) + data
        now = tick
    body += _vlq(max(0, end_tick - now)) + _meta(0x2F, b"")
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _file(tracks: list[bytes]) -> bytes:
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") \
        + len(tracks).to_bytes(2, "big") + PPQ.to_bytes(2, "big")
    return header + b"".join(tracks)


def tempo_us(tempo_bpm: Fraction | float) -> int:
    """µs per quarter note for a tempo, rounded half up; raises ExportError when it does not
    fit the 3-byte ``set_tempo`` field."""
    us = math.floor(Fraction(60_000_000) / Fraction(tempo_bpm) + Fraction(1, 2))
    if not 1 <= us <= MAX_TEMPO_US:
        raise ExportError("tempo cannot be written to a MIDI file", field="tempo_bpm",
                          value=float(tempo_bpm), allowed="3.58..400 bpm")
    return us


def conductor_events(timeline: Timeline, *, markers: Sequence[tuple[Fraction | float, str]],
                     key_signature: str | None) -> list[tuple[int, int, bytes]]:
    """Tempo map, time signatures, key signature and section markers as track events."""
    events: list[tuple[int, int, bytes]] = []
    for m in timeline.meter_changes:
        if m.bar < timeline.total_bars:
            tick = int(beats_to_ticks([timeline.bar_to_beat(m.bar)], PPQ)[0])
            clocks = 96 // m.denominator  # MIDI clocks per metronome click (one denominator note)
            data = bytes((m.numerator, m.denominator.bit_length() - 1, clocks, 8))
            events.append((tick, 0, _meta(0x58, data)))
    if key_signature is not None:
        if key_signature in _MAJOR_SF:
            sf, minor = _MAJOR_SF[key_signature], 0
        elif key_signature in _MINOR_SF:
            sf, minor = _MINOR_SF[key_signature], 1
        else:
            raise ExportError("unknown key signature for MIDI", field="key_signature",
                              value=key_signature, allowed=", ".join(KEY_NAMES))
        events.append((0, 1, _meta(0x59, bytes((sf & 0xFF, minor)))))
    for beat, _end, bpm in timeline.tempo_segments():
        tick = int(beats_to_ticks([beat], PPQ)[0])
        events.append((tick, 2, _meta(0x51, tempo_us(bpm).to_bytes(3, "big"))))
    for beat, name in markers:
        tick = int(beats_to_ticks([beat], PPQ)[0])
        events.append((tick, 3, _text(0x06, str(name))))
    return events


def part_events(part: Part) -> list[tuple[int, int, bytes]]:
    """Program change, notes and lyrics of one part as track events.

    :raises ExportError: a note or channel/program out of MIDI range.
    """
    check_part(part, ExportError)
    ch = part.channel
    events = [(0, 0, bytes((0xC0 | ch, part.program)))]  # drums: kit number (0 = Standard)
    line_ends = {}  # line index -> the index of its last note with a syllable
    for i, n in enumerate(part.notes):
        if n.lyric and n.line_index >= 0:
            line_ends[n.line_index] = i
    ends = set(line_ends.values())
    for span in note_spans(part, lambda beats: beats_to_ticks(beats, PPQ)):
        lyric = part.notes[span.index].lyric
        if lyric:
            events.append((span.on, 2, _text(0x05, rp017_lyric(lyric, span.index in ends))))
        events.append((span.on, 3, bytes((0x90 | ch, span.key, span.velocity))))
        events.append((span.off, 1, bytes((0x80 | ch, span.key, NOTE_OFF_VELOCITY))))
    return events


def rp017_lyric(lyric: str, line_end: bool) -> str:
    """A note's lyric (``"ly-"``: the word goes on; ``"love"``: its last syllable) as RP-017
    lyric text: ``"ly"``, ``"love "``, and ``"love \\r"`` at the end of a lyric line."""
    return running_text(lyric) + ("\r" if line_end else "")


def _end_tick(timeline: Timeline, *event_lists: list[tuple[int, int, bytes]]) -> int:
    last = max((e[0] for events in event_lists for e in events), default=0)
    return max(last, int(beats_to_ticks([timeline.total_beats], PPQ)[0]))


def write_midi_files(composition: Composition, timeline: Timeline, out_dir: Path, *, title: str,
                     markers: Sequence[tuple[Fraction | float, str]],
                     key_signature: str | None, harmony: Sequence[Part] = ()) -> dict[str, Path]:
    """Write ``song.mid``, one ``<part>.mid`` per part and, when there is ``harmony``,
    ``vocals_harmony.mid`` (one track per harmony voice) into ``out_dir`` (created).

    :param markers: ``(beat, section name)`` per section, beats in quarter notes.
    :param key_signature: mido-style name ('C', 'F#', 'Bb', 'Am', 'C#m', ...) or None.
    :param harmony: the sung harmony voices as parts (:func:`ainur_cli.vocals.harmony_parts`),
        written after the parts in ``song.mid`` and together in ``vocals_harmony.mid``.
    :returns: ``{"song": path, part name: path, ..., "vocals_harmony": path (with harmony)}``.
    :raises ExportError: a part name that is not a safe file name (or is "song" or
        "vocals_harmony"), a note or tempo MIDI cannot hold, an unknown key signature, an
        unwritable folder.
    """
    for part in composition.parts:
        if not _SAFE_NAME.fullmatch(part.name) or part.name.lower() in ("song", HARMONY_FILE):
            raise ExportError("part name cannot be a MIDI file name", field="parts",
                              value=part.name, allowed="letters, digits, '.', '_', '-', space "
                              f"(starting with a letter or digit, at most 64), not 'song' or "
                              f"'{HARMONY_FILE}'")
    conductor = conductor_events(timeline, markers=markers, key_signature=key_signature)
    parts = {p.name: part_events(p) for p in composition.parts}
    voices = [(p.name, part_events(p)) for p in harmony]
    end = _end_tick(timeline, conductor, *parts.values(), *(e for _, e in voices))
    conductor_track = _track(title, conductor, end)
    tracks = {name: _track(name, events, end) for name, events in parts.items()}
    voice_tracks = [_track(name, events, end) for name, events in voices]
    files = {"song": (out_dir / "song.mid", _file([conductor_track, *tracks.values(), *voice_tracks]))}
    for name, track in tracks.items():
        files[name] = (out_dir / f"{name}.mid", _file([conductor_track, track]))
    if voice_tracks:
        files[HARMONY_FILE] = (out_dir / f"{HARMONY_FILE}.mid", _file([conductor_track, *voice_tracks]))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, data in files.values():
            path.write_bytes(data)
    except OSError as e:
        raise ExportError(f"cannot write MIDI files: {e.strerror or e}", file=str(out_dir),
                          field="output.dir") from None
    return {name: path for name, (path, _) in files.items()}
