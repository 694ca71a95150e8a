"""Session facts from a Standard MIDI File exported by a DAW (``ainur render --from-midi``).

Reads type 0 and type 1 files (any number of tracks, running status, any PPQ):

* the tempo map: every ``set_tempo``, at any tick (also mid-bar, also ramps written as many
  events); none at all means 120 bpm (the MIDI default) and a warning;
* time signatures (``time_signature``; none means 4/4);
* markers: ``marker`` and ``cue_marker`` events; a file with neither may carry its markers as
  ``text`` events (some DAWs do): then text events whose name is a section name ("Verse 2",
  "Chorus", "End"...) are markers, other text (comments, tool names) is ignored;
* lyrics: ``lyrics`` events (UTF-8, Latin-1 when a text is not valid UTF-8); a karaoke file
  (``@KMIDI KARAOKE FILE``) without lyric events has its lyrics in text events: ``@`` headers
  are skipped and the words track's lyrics start at its first ``/`` or ``\\`` line mark;
* the vocal melody: when the lyric events sit on notes (a vocal track with its lyrics, as
  Cubase, Logic, MuseScore, Vocaloid and Synthesizer V write it), the notes of the track and
  channel whose note-ons meet the most lyric events (at least half of them; of equals, the
  one with the fewest notes without a lyric, then the lyrics' own track): each event gets
  its note, a note without an event continues the syllable before it (a melisma) when it
  starts within an eighth of a beat of that syllable's last note's end (legato; a note after
  a rest is not sung), and so does a note whose lyric is only a melisma mark (``-``, ``+``,
  ``~``, ``_``). The melody is made one voice: of notes starting together the highest is
  sung, and a note is cut where the next one starts;
* the first key signature, the song title (the first track's name), the SMPTE offset, and
  the file's length (the last end-of-track).

Conductor events that an exporter writes a few ticks after the start (abc2midi writes them
at tick 1) count as at beat 0 when nothing else comes before them. Positions are exact:
``Fraction(tick, ticks_per_beat)``. SMPTE time division and type 2 files are refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from ainur_cli.errors import SpecError
from ainur_cli.melody_file import DRUM_CHANNEL, one_voice, played_notes
from ainur_cli.spec import MIN_SPEC_BPM
from ainur_cli.spec_lyrics import ToplineNote
from ainur_cli.timeline import ALLOWED_DENOMINATORS, MAX_TEMPO_BPM

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


MAX_MIDI_BYTES = 64 * 1024 * 1024
_GENERIC_TITLES = {"", "tempo track", "conductor", "track 1", "untitled", "master track",
                   "midi 01", "sequence", "tempo", "markers"}
_KAR_SIGNATURE = "@kmidi karaoke file"
_FPS = {24: 24.0, 25: 25.0, 29: 29.97, 30: 30.0}
#: Line marks of lyric events (.kar new line / paragraph, line ends), and with a space, what
#: is left around a syllable's letters.
_LINE_MARKS = "/\\\r\n"
_MARKS = " " + _LINE_MARKS
#: A lyric event with only one of these continues the previous syllable on its note.
MELISMA_MARKS = frozenset("-+~_")
#: The share of lyric events that must sit on a track's notes for them to be the vocal melody.
VOCAL_NOTES_SHARE = 0.5


def _text(value: str) -> str:
    """mido decodes meta text as Latin-1 (byte-exact); re-read the bytes as UTF-8 if valid."""
    return decode_text(value.encode("latin-1", errors="replace")).replace("\x00", "")


def _key_name(mido_key: str) -> str | None:
    """mido ``'F#m'`` / ``'Bb'`` → spec ``'F# minor'`` / ``'Bb major'``."""
    if not mido_key:
        return None
    if mido_key.endswith("m"):
        return f"{mido_key[:-1]} minor"
    return f"{mido_key} major"


@dataclass
class _Text:
    track: int
    tick: int
    text: str


def _load(path: Path) -> Any:
    """The parsed ``mido.MidiFile``; every failure is a SpecError naming the file."""
    import mido

    name = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise SpecError("is a folder, not a MIDI file", file=name,
                            allowed="a .mid file exported by a DAW (type 0 or 1)")
    except FileNotFoundError:
        raise SpecError("MIDI file not found", file=name) from None
    except OSError as e:
        raise SpecError(f"cannot read the MIDI file: {e.strerror or e}", file=name) from None
    if size > MAX_MIDI_BYTES:
        raise SpecError("the MIDI file is too large", file=name, value=f"{size} bytes",
                        allowed=f"at most {MAX_MIDI_BYTES // (1024 * 1024)} MiB")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SpecError(f"cannot read the MIDI file: {e.strerror or e}", file=name) from None
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":  # RIFF MIDI (.rmi): the SMF is its data chunk
        at = data.find(b"data", 12)
        if at > 0:
            data = data[at + 8:at + 8 + int.from_bytes(data[at + 4:at + 8], "little")]
    if data[:4] != b"MThd":
        raise SpecError("not a Standard MIDI File (it does not start with 'MThd')", file=name,
                        value=data[:4], allowed="a .mid file exported by a DAW (type 0 or 1)")
    if len(data) >= 14:
        fmt = int.from_bytes(data[8:10], "big")
        division = int.from_bytes(data[12:14], "big")
        if division & 0x8000:
            fps = 256 - (division >> 8)
            raise SpecError("SMPTE time division is not supported", file=name,
                            value=f"{fps} fps x {division & 0xFF} ticks per frame",
                            allowed="ticks per quarter note (export with a PPQ time base, "
                                    "e.g. 480 or 960)")
        if fmt == 2:
            raise SpecError("type 2 MIDI files (independent patterns) are not supported",
                            file=name, value=2, allowed="type 0 or type 1")
        if division == 0:
            raise SpecError("the MIDI file's time division is 0", file=name, value=0,
                            allowed="ticks per quarter note, 1..32767")
    try:
        return mido.MidiFile(file=io.BytesIO(data), charset="latin1", clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise SpecError(f"not a readable Standard MIDI File ({type(e).__name__}: {e})", file=name,
                        allowed="a .mid file exported by a DAW (type 0 or 1)") from None


def read_midi_facts(path: Path | str) -> SessionFacts:
    """Parse ``path`` into :class:`SessionFacts` (positions exact: tick / ticks-per-beat).

    :raises SpecError: missing, unreadable or malformed file, SMPTE time division, type 2
        files, tempos or time signatures out of range (naming the file, track, tick, value).
    """
    path = Path(path)
    name = str(path)
    mid = _load(path)
    ppq = mid.ticks_per_beat
    tempo: list[tuple[int, Fraction]] = []
    meters: list[tuple[int, int, int]] = []
    markers: list[tuple[int, str]] = []
    lyrics: list[tuple[int, int, str]] = []  # (track, tick, text)
    texts: list[_Text] = []
    title = key = None
    smpte = None
    end_tick = 0
    first_content: int | None = None  # first note, marker or lyric: what the music starts with
    notes: list[str] = []
    note_tracks: set[int] = set()

    def content(tick: int) -> None:
        nonlocal first_content
        first_content = tick if first_content is None else min(first_content, tick)

    for ti, track in enumerate(mid.tracks):
        tick = 0
        seen_channel = False  # a channel message came before (the track's name is then no title)
        for msg in track:
            tick += msg.time
            if not msg.is_meta:
                if msg.type == "note_on" and msg.velocity > 0:
                    content(tick)
                    note_tracks.add(ti)
                seen_channel = True
                continue
            t = msg.type
            where = f"track {ti + 1} tick {tick}"  # 1-based, as midicsv and DAWs count
            if t == "set_tempo":
                if msg.tempo <= 0:
                    raise SpecError("a tempo in the MIDI file is zero", file=name,
                                    field=f"{where} set_tempo", value=msg.tempo,
                                    allowed="microseconds per quarter note > 0")
                bpm = Fraction(60_000_000, msg.tempo)
                if not MIN_SPEC_BPM <= bpm <= MAX_TEMPO_BPM:
                    raise SpecError("a tempo in the MIDI file is out of range", file=name,
                                    field=f"{where} set_tempo", value=f"{float(bpm):.3f} bpm",
                                    allowed=f"{MIN_SPEC_BPM:g}..{MAX_TEMPO_BPM:g} bpm")
                tempo.append((tick, bpm))
            elif t == "time_signature":
                if not 1 <= msg.numerator <= 32 or msg.denominator not in ALLOWED_DENOMINATORS:
                    raise SpecError("a time signature in the MIDI file is not supported",
                                    file=name, field=f"{where} time_signature",
                                    value=f"{msg.numerator}/{msg.denominator}",
                                    allowed="N/D with N 1..32 and D one of 1, 2, 4, 8, 16, 32")
                meters.append((tick, msg.numerator, msg.denominator))
            elif t in ("marker", "cue_marker"):
                markers.append((tick, _text(msg.text).strip()))
                content(tick)
            elif t == "lyrics":
                lyrics.append((ti, tick, _text(msg.text)))
                content(tick)
            elif t == "text":
                texts.append(_Text(ti, tick, _text(msg.text)))
            elif t == "track_name" and title is None and ti == 0 and not seen_channel:
                candidate = _text(msg.name).strip()
                if candidate.lower() not in _GENERIC_TITLES:
                    title = candidate
            elif t == "key_signature" and key is None and tick < ppq:
                key = _key_name(msg.key)
            elif t == "smpte_offset" and smpte is None:
                fps = _FPS.get(msg.frame_rate, 30.0)
                smpte = (msg.hours * 3600 + msg.minutes * 60 + msg.seconds
                         + (msg.frames + msg.sub_frames / 100) / fps)
        end_tick = max(end_tick, tick)

    # Conductor events written just after the start (abc2midi: tick 1) belong to beat 0.
    start_limit = min(first_content if first_content is not None else ppq, ppq - 1)
    for events in (tempo, meters):
        if events and all(e[0] > 0 for e in events):
            first = min(events, key=lambda e: e[0])
            if first[0] <= start_limit:
                events[events.index(first)] = (0,) + tuple(first[1:])

    is_kar = any(x.text.strip().lower().startswith(_KAR_SIGNATURE) for x in texts)
    lyric_pairs, sung_on, _ = lyrics_on_notes(lyrics, played_notes(mid.tracks), ppq, notes, name)
    if not lyric_pairs and is_kar:
        lyric_pairs = _karaoke_lyrics(texts)
        if lyric_pairs:
            notes.append("lyrics read from the karaoke (.kar) text events")
    if not markers and not is_kar:
        markers = _text_markers(texts, note_tracks)
        if markers:
            notes.append(f"no marker events: {len(markers)} text events that name sections "
                         f"are used as markers")
    if not tempo:
        notes.append("the MIDI file has no tempo (set_tempo) event: 120 bpm, the MIDI default")
    if smpte:
        notes.append(f"the file has an SMPTE offset of {smpte:.3f} s; positions are counted "
                     f"from the file's start (beat 0)")

    def beat(tick: int) -> Fraction:
        return Fraction(tick, ppq)

    seen: set[tuple[int, str]] = set()
    unique_markers = []
    for tick, text in sorted(markers, key=lambda m: m[0]):
        if (tick, text.lower()) not in seen:  # a DAW may write a marker and a cue point
            seen.add((tick, text.lower()))
            unique_markers.append(Marker(beat(tick), text))
    lyric_events = sorted(
        (LyricEvent(beat(tick), text, tuple(ToplineNote(beat(a), beat(b), p, v)
                                            for a, b, p, v in sung_on.get(k, ())))
         for k, (tick, text) in enumerate(lyric_pairs)),
        key=lambda e: e.beat)
    lead = lead_lyric_track(t for t, _, _ in lyrics)
    others = sorted(((ti + 1, LyricEvent(beat(tick), text)) for ti, tick, text in lyrics
                     if ti != lead), key=lambda x: (x[1].beat, x[0]))
    return SessionFacts(
        daw="midi", origin=name,
        tempo=clean_tempo([TempoPoint(beat(t), bpm) for t, bpm in tempo]),
        meters=clean_meters([MeterPoint(beat(t), n, d) for t, n, d in meters]),
        markers=tuple(unique_markers), lyrics=tuple(lyric_events),
        length_beats=beat(end_tick) if end_tick else None,
        title=title or path.stem, key=key, smpte_offset_s=smpte, notes=tuple(notes),
        tempo_known=bool(tempo), meter_known=bool(meters), resolution_beats=Fraction(1, ppq),
        other_lyrics=tuple(others),
    )


def lyrics_on_notes(lyrics: list[tuple[int, int, str]], played: dict[tuple[int, int], list[list[int]]],
                    ppq: int, notes: list[str], name: str
                    ) -> tuple[list[tuple[int, str]], dict[int, list[tuple[int, int, int, int]]],
                               int | None]:
    """The lead vocal's lyric events and the notes each is sung on (module docstring).

    :param lyrics: ``(track, tick, text)`` of every lyric event; only the track with the most
        of them is sung (a note in ``notes`` names the others).
    :param played: ``(track, channel) -> [[on tick, off tick, pitch, velocity], ...]``.
    :param ppq: ticks per quarter note of both.
    :param name: the session, for errors.
    :returns: ``[(tick, text)]`` of the lead's events, ``{index into them: [(on, off,
        pitch, velocity)]}`` (empty where no track's notes meet the events) and the track
        (index into ``played``'s) whose notes those are (None where none).
    :raises SpecError: a sung note out of any voice's range.
    """
    pairs, track = _lead_lyrics(lyrics, notes)
    if not pairs:
        return pairs, {}, None
    return (pairs, *_vocal_notes(pairs, track, played, ppq, notes, name))


def count_near(times: Sequence, onsets: Sequence, tol) -> int:
    """How many of ``times`` lie within ``tol`` of one of ``onsets`` (ticks or beats)."""
    import bisect

    onsets = sorted(onsets)
    count = 0
    for t in times:
        i = bisect.bisect_left(onsets, t - tol)
        count += i < len(onsets) and onsets[i] <= t + tol
    return count


def lyric_track_on(onsets: Sequence[Fraction], lyrics: Sequence[tuple[int, LyricEvent]]
                   ) -> int | None:
    """The track of ``lyrics`` (``(track, event)``, beats) whose events sit on the note
    ``onsets`` (beats): at least :data:`VOCAL_NOTES_SHARE` of its worded events within 1/32
    beat of one (as the lead's lyrics find its notes); of several, the one with the most.
    None when no track does."""
    by_track: dict[int, list[Fraction]] = {}
    for track, e in lyrics:
        if e.text.strip(_MARKS):
            by_track.setdefault(track, []).append(e.beat)
    best, best_hits = None, 0
    for track, beats in sorted(by_track.items()):
        hits = count_near(beats, onsets, Fraction(1, 32))
        if hits >= VOCAL_NOTES_SHARE * len(beats) and hits > best_hits:
            best, best_hits = track, hits
    return best


def lead_lyric_track(tracks: Iterable[int]) -> int | None:
    """The lead vocal's track among the tracks of the lyric events (one per event): the one
    with the most events (of as many, the first); None without events."""
    counts = Counter(tracks)
    return max(counts, key=lambda t: (counts[t], -t)) if counts else None


def _lead_lyrics(lyrics: list[tuple[int, int, str]],
                 notes: list[str]) -> tuple[list[tuple[int, str]], int | None]:
    """The lyric events of one track and that track (None without lyrics): the one with the
    most of them (the lead vocal) when several tracks carry lyrics (harmony or backing parts
    would interleave with it)."""
    by_track: dict[int, list[tuple[int, str]]] = {}
    for track, tick, text in lyrics:
        by_track.setdefault(track, []).append((tick, text))
    if not by_track:
        return [], None
    lead = lead_lyric_track(t for t, _, _ in lyrics)
    if len(by_track) > 1:
        others = sorted(t + 1 for t in by_track if t != lead)
        notes.append(f"{len(by_track)} tracks carry lyrics: track {lead + 1} "
                     f"({len(by_track[lead])} events) is the lead's, track(s) "
                     f"{', '.join(map(str, others))} not (a harmony track's own words with "
                     f"--harmony-track)")
    return by_track[lead], lead


def _vocal_notes(pairs: list[tuple[int, str]], lyric_track: int | None,
                 played: dict[tuple[int, int], list[list[int]]], ppq: int,
                 notes: list[str], name: str
                 ) -> tuple[dict[int, list[tuple[int, int, int, int]]], int | None]:
    """The notes each lyric event (index into ``pairs``) is sung on, as ``(on tick, off tick,
    pitch, velocity)``: see the module docstring, and the track they are on. ``({}, None)``
    when no track's notes meet at least :data:`VOCAL_NOTES_SHARE` of the events. A
    melisma-mark event (``-``) gives its note to the syllable before it and keeps only its
    line marks as text (``pairs`` is changed).

    :raises SpecError: a note of the melody that no voice can sing (naming file ``name``,
        track, tick and pitch)."""
    import bisect

    tol = max(1, ppq // 32)  # a lyric this close to a note-on is that note's (1/32 beat)
    worded = [(k, t) for k, (t, text) in enumerate(pairs) if text.strip(_MARKS)]
    if not worded or not played:
        return {}, None
    ticks = [t for _, t in worded]

    def hits(group: list[list[int]]) -> int:
        return count_near(ticks, [n[0] for n in group], tol)

    # most lyrics on its notes; then most of its notes with a lyric (a piano that plays on
    # every syllable too has many notes without one); then the lyrics' own track
    ranked = [(h, h / len(g), key[0] == lyric_track, -key[0], -key[1], key)
              for key, g in played.items() if key[1] != DRUM_CHANNEL
              for h in (hits(g),)]
    if not ranked:
        return {}, None
    best = max(ranked)
    if best[0] < max(1, VOCAL_NOTES_SHARE * len(ticks)):
        return {}, None
    track, channel = best[-1]
    melody = one_voice(played[(track, channel)], tol)
    onsets = [n[0] for n in melody]
    # melody note -> the event that sings it: the nearest pairs first, each note and each
    # event at most once (an event on the note's tick wins over one a tick before it)
    near = []
    for k, (t, text) in enumerate(pairs):
        if text.strip(_MARKS):
            i = bisect.bisect_left(onsets, t - tol)
            while i < len(melody) and onsets[i] <= t + tol:
                near.append((abs(onsets[i] - t), k, i))
                i += 1
    owner: dict[int, int] = {}
    placed: set[int] = set()
    for _, k, j in sorted(near):
        if j not in owner and k not in placed:
            owner[j] = k
            placed.add(k)
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    current: int | None = None
    unsung = 0
    for j, (on, off, pitch, vel) in enumerate(melody):
        k = owner.get(j)
        mark = k is not None and pairs[k][1].strip(_MARKS) in MELISMA_MARKS
        if k is not None and not mark:
            current = k
        elif current is not None and (mark or on - out[current][-1][1] <= ppq // 8):
            if mark:  # the event keeps its line marks only
                text = pairs[k][1]
                pairs[k] = (pairs[k][0], "".join(c for c in text if c in _LINE_MARKS))
        else:
            unsung += 1
            current = None
            continue
        out.setdefault(current, []).append((on, off, pitch, vel))
    if unsung:
        notes.append(f"{unsung} note(s) of the vocal melody (track {track + 1}, channel "
                     f"{channel + 1}) have no lyric and follow a rest: they are not sung")
    from ainur_cli.voice.score import MAX_MIDI, MIN_MIDI

    for on, _, pitch, _ in sorted(n for sung in out.values() for n in sung):
        if not MIN_MIDI <= pitch <= MAX_MIDI:
            raise SpecError("a sung note of the vocal melody is out of any voice's range",
                            file=name, field=f"track {track + 1} tick {on} note_on",
                            value=f"MIDI {pitch}", allowed=f"MIDI {MIN_MIDI}..{MAX_MIDI} (E1..C7)")
    return out, track


def _karaoke_lyrics(texts: list[_Text]) -> list[tuple[int, str]]:
    """The lyric text events of a .kar file: the words track's non-``@`` texts, from its first
    ``/`` or ``\\`` line mark on (what comes before is a track label or a comment)."""
    by_track: dict[int, list[_Text]] = {}
    for x in texts:
        if not x.text.startswith("@"):
            by_track.setdefault(x.track, []).append(x)
    if not by_track:
        return []
    words = max(by_track.values(), key=len)
    marked = [i for i, x in enumerate(words) if x.text[:1] in "/\\"]
    if marked:
        words = words[marked[0]:]
    return [(x.tick, x.text) for x in words]


def _text_markers(texts: list[_Text], note_tracks: set[int]) -> list[tuple[int, str]]:
    """Text events used as markers: those whose text names a section type or the song end,
    in tracks without notes (a conductor or marker track). In a track with notes (a type 0
    file) only when every text event after the start names a section, since lyrics written
    as text events contain words like "Drop" or "Fine"."""
    from daw_bridge.session_spec import is_end_marker, section_type

    def is_section(name: str) -> bool:
        return bool(name) and len(name) <= 100 and (section_type(name) != "section"
                                                    or is_end_marker(name))

    out = []
    for track in sorted({x.track for x in texts}):
        own = [x for x in texts if x.track == track]
        if track in note_tracks and not all(is_section(x.text.strip()) for x in own if x.tick > 0):
            continue
        out.extend((x.tick, x.text.strip()) for x in own if is_section(x.text.strip()))
    return out


def spec_from_midi(
    midi_path: Path | str,
    *,
    spec_path: Path | str | None = None,
    preset: str | None = None,
    lyrics_file: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    find_lyrics: bool = True,
    vocal_track: int | None = None,
    harmony_track: int | None = None,
):
    """The song for ``ainur render --from-midi``: a :class:`~daw_bridge.session_spec.SessionSong`.

    Tempo map, meters, sections and timed lyrics come from the MIDI file; style, title, key,
    seed, output and per-section lyrics/energy/type from the spec at ``spec_path`` (a
    song.yaml that may leave out ``title`` and ``sections``); ``overrides`` are the CLI flags
    (keys of :data:`ainur_cli.spec.OVERRIDE_FLAGS`) and win over both. ``lyrics_file``, else
    (with ``find_lyrics``) a lyrics file beside the MIDI file, wins over the other lyrics.
    ``vocal_track`` (1-based, ``--vocal-track``): the sections' lyrics are sung on that track's
    notes, as a spec's ``melody:`` clip (:mod:`ainur_cli.melody_file`) placed where the track
    has them in the session; lines that sit on their own notes already keep them.
    ``harmony_track`` (1-based, ``--harmony-track``): a written harmony, sung with the lead's
    words on that track's pitches (``melody.harmony_track`` of a spec), whether the lead's
    notes are the lyric events' or ``vocal_track``'s; where another track's lyric events sit
    on its notes (a backing part's own words), they are its ``harmony_lyrics`` in each
    section the spec gives none (:func:`_harmony_lyrics`).

    :raises SpecError: on an unreadable file or a session that cannot make a song.
    """
    from daw_bridge.project_vocal import song_from_project

    facts = read_midi_facts(midi_path)
    song = song_from_project(facts, Path(midi_path), spec_path=spec_path,
                             preset=preset, lyrics_file=lyrics_file, overrides=overrides,
                             find_lyrics=find_lyrics)
    if vocal_track is None and harmony_track is None:
        return song
    from dataclasses import replace

    from daw_bridge.session_spec import session_track_melody

    # without --vocal-track the lead is the lines' own notes (the lyric events'): no notes
    fields: dict[str, Any] = ({"track": int(vocal_track)} if vocal_track is not None
                              else {"notes": ()})
    if harmony_track is not None:
        fields["harmony_tracks"] = (int(harmony_track),)
    origin = "--vocal-track" if harmony_track is None else (
        "--harmony-track" if vocal_track is None else "--vocal-track/--harmony-track")
    song = replace(song, spec=session_track_melody(song.spec, song.start_beat, origin,
                                                   str(Path(midi_path).resolve()), **fields))
    return song if harmony_track is None else _harmony_lyrics(song, facts, Path(midi_path),
                                                              int(harmony_track))


def _harmony_lyrics(song, facts: SessionFacts, path: Path, track: int):
    """``song`` with the lyric events of another track than the lead's that sit on the
    harmony ``track``'s notes as its sections' ``harmony_lyrics``
    (:func:`daw_bridge.session_spec.with_harmony_words`); unchanged when the track does not
    exist (:func:`ainur_cli.melody_file.with_melody` refuses it)."""
    from daw_bridge.session_spec import with_harmony_words

    if not facts.other_lyrics:
        return song
    mid = _load(path)
    if track > len(mid.tracks):
        return song
    onsets = [Fraction(n[0], mid.ticks_per_beat) for (t, ch), group in
              played_notes(mid.tracks).items() if t == track - 1 and ch != DRUM_CHANNEL
              for n in group]
    return with_harmony_words(song, facts.other_lyrics, onsets, f"the harmony track {track}")
