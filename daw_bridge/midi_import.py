"""Session facts from a Standard MIDI File exported by a DAW (``ainur render --from-midi``).

Reads type 0 and type 1 files (any number of tracks, running status, any PPQ): the tempo
map (``set_tempo`` at any tick), time signatures, ``marker`` and ``cue_marker`` events as
section markers, ``lyrics`` events as timed lyrics (UTF-8, Latin-1 when not valid UTF-8; the
``text`` events of .kar karaoke files too), the first key signature, the song title (first
track name) and the SMPTE offset. Cubase, Pro Tools, Logic and REAPER export tempo maps;
Ableton exports clips only (its files carry one tempo and no markers).
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

from ainur_cli.errors import SpecError
from ainur_cli.spec import SongSpec
from ainur_cli.timeline import ALLOWED_DENOMINATORS, MAX_TEMPO_BPM, MIN_TEMPO_BPM

from daw_bridge.facts import (
    LyricEvent,
    Marker,
    MeterPoint,
    SessionFacts,
    TempoPoint,
    clean_meters,
    clean_tempo,
)
from daw_bridge.lyrics import decode_text

log = logging.getLogger(__name__)

MAX_MIDI_BYTES = 64 * 1024 * 1024
_GENERIC_TITLES = {"", "tempo track", "conductor", "track 1", "untitled", "master track",
                   "midi 01", "sequence"}
_KAR_SIGNATURE = "@kmidi karaoke file"


def _text(value: str) -> str:
    """mido decodes meta text as Latin-1 (byte-exact); re-read the bytes as UTF-8 if valid."""
    return decode_text(value.encode("latin-1", errors="replace"))


def _key_name(mido_key: str) -> str | None:
    """mido ``'F#m'`` / ``'Bb'`` → spec ``'F# minor'`` / ``'Bb major'``."""
    if not mido_key:
        return None
    if mido_key.endswith("m"):
        return f"{mido_key[:-1]} minor"
    return f"{mido_key} major"


def read_midi_facts(path: Path | str) -> SessionFacts:
    """Parse ``path`` into :class:`SessionFacts` (positions exact: tick / ticks-per-beat).

    :raises SpecError: unreadable or malformed file, SMPTE time division, type 2 files,
        tempos or meters out of range (naming the file, tick and value).
    """
    import mido

    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise SpecError(f"cannot read the MIDI file: {e.strerror or e}", file=name) from None
    if size > MAX_MIDI_BYTES:
        raise SpecError("the MIDI file is too large", file=name, value=f"{size} bytes",
                        allowed=f"at most {MAX_MIDI_BYTES // (1024 * 1024)} MiB")
    try:
        mid = mido.MidiFile(name, charset="latin1", clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise SpecError(f"not a readable Standard MIDI File ({type(e).__name__}: {e})", file=name,
                        allowed="a .mid file exported by a DAW (type 0 or 1)") from None
    ppq = mid.ticks_per_beat
    if not isinstance(ppq, int) or ppq <= 0 or ppq >= 0x8000:
        raise SpecError("SMPTE time division is not supported", file=name, value=ppq,
                        allowed="a file with pulses per quarter note (export with PPQ/ticks)")
    if mid.type == 2:
        raise SpecError("type 2 MIDI files (independent patterns) are not supported", file=name,
                        value=2, allowed="type 0 or type 1")

    tempo: list[TempoPoint] = []
    meters: list[MeterPoint] = []
    markers: list[Marker] = []
    lyrics: list[LyricEvent] = []
    kar_text: list[LyricEvent] = []
    is_kar = False
    title = None
    key = None
    smpte = None
    end_tick = 0
    notes: list[str] = []
    for ti, track in enumerate(mid.tracks):
        tick = 0
        for msg in track:
            tick += msg.time
            if not msg.is_meta:
                continue
            beat = Fraction(tick, ppq)
            t = msg.type
            if t == "set_tempo":
                bpm = Fraction(60_000_000, msg.tempo) if msg.tempo > 0 else Fraction(0)
                if not MIN_TEMPO_BPM <= bpm <= MAX_TEMPO_BPM:
                    raise SpecError("a tempo in the MIDI file is out of range", file=name,
                                    field=f"track {ti} tick {tick} set_tempo",
                                    value=f"{float(bpm):.3f} bpm",
                                    allowed=f"{MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g} bpm")
                tempo.append(TempoPoint(beat, bpm))
            elif t == "time_signature":
                if msg.numerator < 1 or msg.numerator > 32 or msg.denominator not in ALLOWED_DENOMINATORS:
                    raise SpecError("a time signature in the MIDI file is not supported", file=name,
                                    field=f"track {ti} tick {tick} time_signature",
                                    value=f"{msg.numerator}/{msg.denominator}",
                                    allowed="N/D with N 1..32 and D one of 1, 2, 4, 8, 16, 32")
                meters.append(MeterPoint(beat, msg.numerator, msg.denominator))
            elif t in ("marker", "cue_marker"):
                markers.append(Marker(beat, _text(msg.text).strip()))
            elif t == "lyrics":
                lyrics.append(LyricEvent(beat, _text(msg.text)))
            elif t == "text":
                text = _text(msg.text)
                if text.strip().lower().startswith(_KAR_SIGNATURE):
                    is_kar = True
                elif not text.startswith("@"):
                    kar_text.append(LyricEvent(beat, text))
            elif t == "track_name" and title is None and ti == 0 and tick == 0:
                candidate = _text(msg.name).strip()
                if candidate.lower() not in _GENERIC_TITLES:
                    title = candidate
            elif t == "key_signature" and key is None and tick == 0:
                key = _key_name(msg.key)
            elif t == "smpte_offset" and smpte is None:
                fps = {24: 24.0, 25: 25.0, 29: 29.97, 30: 30.0}.get(msg.frame_rate, 30.0)
                smpte = (msg.hours * 3600 + msg.minutes * 60 + msg.seconds
                         + (msg.frames + msg.sub_frames / 100) / fps)
        end_tick = max(end_tick, tick)
    if not lyrics and is_kar and kar_text:
        lyrics = kar_text
        notes.append("lyrics read from the karaoke (.kar) text events")
    if smpte:
        notes.append(f"the file has an SMPTE offset of {smpte:.3f} s; positions are counted "
                     f"from the file's start (beat 0)")
    lyrics.sort(key=lambda e: e.beat)
    markers.sort(key=lambda m: m.beat)
    return SessionFacts(
        daw="midi", origin=name, tempo=clean_tempo(tempo), meters=clean_meters(meters),
        markers=tuple(markers), lyrics=tuple(lyrics),
        length_beats=Fraction(end_tick, ppq) if end_tick else None,
        title=title or path.stem, key=key, smpte_offset_s=smpte, notes=tuple(notes),
    )


def spec_from_midi(
    midi_path: Path | str,
    *,
    base: SongSpec | None = None,
    preset: str | None = None,
    lyrics_file: Path | str | None = None,
) -> SongSpec:
    """The spec for ``ainur render --from-midi``: tempo map, meters, sections and lyrics from
    the MIDI file; title, preset, key, seed, style and output from ``base`` (a parsed
    song.yaml), with ``preset`` overriding its preset. The file's key signature is used when
    the base spec gives no key.

    :raises SpecError: on an unreadable file or a session that cannot make a song.
    """
    from daw_bridge.session_spec import song_from_facts

    facts = read_midi_facts(midi_path)
    song = song_from_facts(facts, base=base, preset=preset,
                           lyrics_file=Path(lyrics_file) if lyrics_file else None,
                           origin_file=str(midi_path))
    for note in song.notes:
        log.warning("%s: %s", midi_path, note)
    return song.spec
