"""Ardour 7 session files (``<snapshot>.ardour``, XML): read the song facts, add stems and markers.

What Ardour's OSC surface does not report lives here: the tempo map and meters
(``<TempoMap superclocks-per-second="282240000">`` with ``<Tempo npm enpm note-type type
sclock quarters bbt>`` and ``<Meter divisions-per-bar note-value sclock quarters bbt>``),
markers and the session range (``<Locations>``, ``<Location name start end flags>``), track
names (``<Routes>``), regions in playlists and, for a MIDI track, the notes its regions play
(each region's ``<Source>`` is a Standard MIDI File in ``interchange/<session>/midifiles/``,
which Ardour writes at 19200 ticks per quarter note; a region plays its source from ``start``
for its length, placed at its position): the producer's vocal melody
(:meth:`ArdourSession.track_notes`).

Units: Ardour 7 stores times as *superclock* ticks (``superclocks-per-second``, 282 240 000 by
default) written ``a<ticks>``, or as musical time ``b<ticks>`` (1920 ticks per quarter note);
lengths are ``<distance>@<position>``; ``quarters`` are ``beats:ticks``. Plain numbers are
samples (sessions older than 7.0). Everything read here is converted to session samples
(integers) and quarter-note beats (exact fractions).

Writing (:func:`add_markers`, :func:`add_stem_sources`) is done while the session is closed,
through a temporary file renamed onto the session file; Ardour itself then creates the tracks
and places the regions (``daw_bridge/scripts/ardour_import.lua``) and re-saves the file.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from ainur_cli.errors import BridgeError

from daw_bridge.facts import (
    Marker,
    MeterPoint,
    SessionFacts,
    TempoPoint,
    clean_meters,
    clean_tempo,
)
from daw_bridge.project_vocal import (Note, one_voice_beats, pick_vocal_track,
                                     song_from_project_file)

log = logging.getLogger(__name__)

SUPERCLOCK_PER_SECOND = 282_240_000   # Ardour 7's default (superclock_ticks_per_second)
TICKS_PER_BEAT = 1920                 # Temporal::ticks_per_beat
SUFFIX = ".ardour"


@dataclass(frozen=True)
class ArdourLocation:
    """A ``<Location>``: a marker (``start_sample == end_sample``), range or the session range."""

    name: str
    start_sample: int
    end_sample: int
    flags: tuple[str, ...]

    @property
    def is_mark(self) -> bool:
        """Every position marker (what OSC's ``/marker i`` counts), section or not."""
        return "IsMark" in self.flags

    @property
    def is_section_mark(self) -> bool:
        """A marker that can start a section (not a clip-launch cue or an xrun mark)."""
        return self.is_mark and not {"IsCueMarker", "IsXrun", "IsHidden"} & set(self.flags)

    @property
    def is_range(self) -> bool:
        """A named range (Ardour's range markers): a section with an end."""
        return "IsRangeMarker" in self.flags and not {"IsSessionRange", "IsHidden", "IsSkip",
                                                      "IsAutoLoop", "IsAutoPunch"} & set(self.flags)

    @property
    def is_session_range(self) -> bool:
        return "IsSessionRange" in self.flags


@dataclass(frozen=True)
class ArdourRegion:
    """A region on a track's playlist: session ``position_sample``, ``length_samples``."""

    name: str
    track: str
    position_sample: int
    length_samples: int
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class ArdourMidiRegion:
    """A region on a MIDI track's playlist, in quarter-note beats: it plays its ``source``
    (an SMF file) from ``start_beat`` for ``length_beats``, placed at ``position_beat``."""

    name: str
    track: str
    position_beat: Fraction
    start_beat: Fraction
    length_beats: Fraction
    source: Path | None
    muted: bool


@dataclass(frozen=True)
class ArdourSession:
    """What Ainur reads from one snapshot file. ``tempo`` points are quarter-note bpm;
    ``ramps`` lists the beats where a ramped tempo starts (approximated, see :meth:`facts`)."""

    path: Path
    name: str
    sample_rate: int
    superclock_rate: int
    tempo: tuple[TempoPoint, ...]
    ramps: tuple[tuple[Fraction, Fraction, Fraction], ...]   # (beat, start bpm, end bpm)
    meters: tuple[MeterPoint, ...]
    locations: tuple[ArdourLocation, ...]
    tracks: tuple[str, ...]
    regions: tuple[ArdourRegion, ...]
    sources: dict[str, str]                                    # id -> file path (origin or name)
    version: int
    midi_tracks: tuple[str, ...] = ()
    midi_regions: tuple[ArdourMidiRegion, ...] = ()
    DAW_WORDS: ClassVar[tuple[str, str]] = ("Ardour", "session")

    @property
    def markers(self) -> tuple[ArdourLocation, ...]:
        """Section markers by position (cue and xrun markers left out)."""
        return tuple(sorted((loc for loc in self.locations if loc.is_section_mark),
                            key=lambda loc: loc.start_sample))

    @property
    def ranges(self) -> tuple[ArdourLocation, ...]:
        return tuple(sorted((loc for loc in self.locations if loc.is_range),
                            key=lambda loc: loc.start_sample))

    @property
    def session_range(self) -> ArdourLocation | None:
        return next((loc for loc in self.locations if loc.is_session_range), None)

    def timeline(self) -> SessionFacts:
        """Facts with only the tempo map and meters (for sample ⇄ beat conversions)."""
        return SessionFacts("ardour", str(self.path), self.tempo, self.meters)

    def sample_to_beat(self, sample: int) -> Fraction:
        return self.timeline().seconds_to_beat(Fraction(int(sample), self.sample_rate))

    def vocal_track(self, name: str | None = None) -> str | None:
        """The MIDI track that holds the vocal melody (:func:`~daw_bridge.project_vocal.
        pick_vocal_track`): ``name``, else the first MIDI track named like a vocal.

        :raises BridgeError: ``name`` is not a MIDI track of the session.
        """
        return pick_vocal_track(self.midi_tracks, name, daw="the Ardour session",
                                file=self.path)

    def track_notes(self, track: str) -> list[tuple[Fraction, Fraction, int, int]]:
        """``(start_beat, end_beat, pitch, velocity)`` of the notes ``track``'s unmuted regions
        play, in session quarter-note beats, one voice (of notes starting together the
        highest; each ends where the next starts, as a MIDI clip in ``melody:``); drums on
        channel 10 left out. A note starting before a region's start is not played; one
        sounding past its end is cut there.

        :raises BridgeError: a region's MIDI file is missing or unreadable.
        """
        import mido

        from ainur_cli.melody_file import DRUM_CHANNEL, played_notes

        read: dict[Path, list] = {}  # a source file's notes (file beats), read once

        def source_notes(region: ArdourMidiRegion) -> list[tuple[Fraction, Fraction, int, int]]:
            if region.source is None:
                raise BridgeError(f"a MIDI region names no source file (region {region.name!r} "
                                  f"of track {track!r})", file=str(self.path),
                                  field=f"Region[{region.name}].source-0",
                                  allowed="the session as Ardour saved it")
            if region.source in read:  # copies of a region share their source
                return read[region.source]
            if not region.source.is_file():
                raise BridgeError(f"a MIDI region's file is missing (region {region.name!r} of "
                                  f"track {track!r} in {self.path})",
                                  file=str(region.source), field="source",
                                  allowed="the session folder as Ardour saved it "
                                          "(interchange/<session>/midifiles)")
            try:
                mid = mido.MidiFile(str(region.source), clip=True)
            except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
                raise BridgeError(f"cannot read a MIDI region's file ({type(e).__name__}: {e})",
                                  file=str(region.source), field=f"Region[{region.name}]") from None
            if mid.type == 2 or mid.ticks_per_beat <= 0:
                raise BridgeError("a MIDI region's file is a type 2 file or has SMPTE timing",
                                  file=str(region.source), field=f"Region[{region.name}]")
            tpb = mid.ticks_per_beat
            read[region.source] = [(Fraction(on, tpb), Fraction(off, tpb), pitch, vel)
                                   for (_, channel), played in played_notes(mid.tracks).items()
                                   if channel != DRUM_CHANNEL for on, off, pitch, vel in played]
            return read[region.source]

        notes: list[Note] = []
        for region in self.midi_regions:
            if region.track != track or region.muted or region.length_beats <= 0:
                continue
            end = region.start_beat + region.length_beats
            shift = region.position_beat - region.start_beat
            for a, b, pitch, vel in source_notes(region):
                if region.start_beat <= a < end:
                    notes.append((a + shift, min(b, end) + shift, pitch, vel))
        return one_voice_beats(notes)

    def facts(self, origin: str | None = None) -> SessionFacts:
        """The session as :class:`SessionFacts`: markers, tempo map, meters, length, tracks."""
        notes = [f"the tempo ramp from beat {float(b):g} ({float(a):g} to {float(z):g} bpm) is "
                 f"read as one tempo per beat" for b, a, z in self.ramps]
        markers = tuple(sorted(
            [Marker(self.sample_to_beat(m.start_sample), m.name) for m in self.markers]
            + [Marker(self.sample_to_beat(r.start_sample), r.name, self.sample_to_beat(r.end_sample))
               for r in self.ranges], key=lambda m: m.beat))
        rng = self.session_range
        length = self.sample_to_beat(rng.end_sample) if rng is not None else None
        return SessionFacts("ardour", origin or str(self.path), self.tempo, self.meters,
                            markers=markers, length_beats=length, track_names=self.tracks,
                            title=self.name, notes=tuple(notes))


def session_sample(seconds: Fraction | float, sample_rate: int) -> int:
    """The session sample at ``seconds``: ``round(seconds * sample_rate)``, halves up."""
    return math.floor(Fraction(seconds) * sample_rate + Fraction(1, 2))


# -- reading -------------------------------------------------------------------------------

def find_session_file(path: str | Path) -> Path:
    """The snapshot file for ``path``: a ``.ardour`` file, or a session folder (its
    ``instant.xml`` last-used snapshot, else the snapshot named like the folder, else its only
    ``.ardour`` file). :raises BridgeError: naming what was looked for."""
    p = Path(path).expanduser()
    if p.is_file():
        if p.suffix != SUFFIX:
            raise BridgeError("not an Ardour session file", file=str(p),
                              allowed="a <name>.ardour file or an Ardour session folder")
        return p
    if not p.is_dir():
        raise BridgeError("no such Ardour session", file=str(p),
                          allowed="a <name>.ardour file or an Ardour session folder")
    instant = p / "instant.xml"
    if instant.is_file():
        try:
            node = ET.parse(instant).getroot().find("LastUsedSnapshot")
        except (ET.ParseError, OSError):
            node = None
        if node is not None and (p / (node.get("name", "") + SUFFIX)).is_file():
            return p / (node.get("name", "") + SUFFIX)
    if (p / (p.name + SUFFIX)).is_file():
        return p / (p.name + SUFFIX)
    found = sorted(p.glob("*" + SUFFIX))
    if len(found) == 1:
        return found[0]
    raise BridgeError("cannot tell which snapshot of the Ardour session to use" if found
                      else "the folder holds no Ardour session file", file=str(p),
                      value=[f.name for f in found] if found else ...,
                      allowed="the path of one <name>.ardour file")


def _parse(path: Path) -> ET.ElementTree:
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as e:
        raise BridgeError(f"cannot read the Ardour session file: {e}", file=str(path)) from None
    if tree.getroot().tag != "Session":
        raise BridgeError("not an Ardour session file (no <Session> root)", file=str(path))
    return tree


class _Clock:
    """Converts Ardour time strings to session samples / beats."""

    def __init__(self, sample_rate: int, superclock_rate: int) -> None:
        self.sr, self.sc = sample_rate, superclock_rate

    @staticmethod
    def _read(text: str, where: str, file: Path) -> tuple[str, int]:
        """``(unit, value)`` of an Ardour time (the distance of ``<distance>@<position>``):
        ``a`` superclock ticks, ``b`` musical ticks, ``""`` samples."""
        text = (text or "").split("@", 1)[0].strip()
        unit = text[:1] if text[:1] in ("a", "b") else ""
        try:
            return unit, int(text[len(unit):])
        except ValueError:
            raise BridgeError("the Ardour session file has a time Ainur cannot read",
                              file=str(file), field=where, value=text,
                              allowed="a<superclock>, b<ticks> or samples") from None

    def samples(self, text: str, where: str, file: Path, tempo: SessionFacts) -> int:
        """Session samples of a time: ``a<superclock>`` exactly, ``b<ticks>`` through the
        tempo map (rounded half up)."""
        unit, value = self._read(text, where, file)
        if unit == "a":
            return int(Fraction(value * self.sr, self.sc))
        if unit == "b":
            beat = Fraction(value, TICKS_PER_BEAT)
            return math.floor(tempo.beat_to_seconds(beat) * self.sr + Fraction(1, 2))
        return value

    def beats(self, text: str, where: str, file: Path, tempo: SessionFacts,
              at: Fraction | None = None) -> Fraction:
        """Quarter-note beats of a position (``at`` None) or of a distance from the position
        ``at`` (beats): ``b<ticks>`` exactly, ``a<superclock>`` (or samples) through the
        tempo map."""
        unit, value = self._read(text, where, file)
        if unit == "b":
            return Fraction(value, TICKS_PER_BEAT)
        seconds = Fraction(value if unit == "a" else value * self.sc // self.sr, self.sc)
        if at is None:
            return tempo.seconds_to_beat(seconds)
        return tempo.seconds_to_beat(tempo.beat_to_seconds(at) + seconds) - at

    def superclock(self, sample: int) -> int:
        """``a<ticks>`` value of a session sample (exact for 44.1/48/88.2/96/192 kHz)."""
        return int(Fraction(int(sample) * self.sc, self.sr))


def _quarters(text: str | None, where: str, file: Path) -> Fraction:
    try:
        beats, _, ticks = (text or "0:0").partition(":")
        return Fraction(int(beats)) + Fraction(int(ticks or 0), TICKS_PER_BEAT)
    except ValueError:
        raise BridgeError("the Ardour tempo map has a position Ainur cannot read", file=str(file),
                          field=where, value=text, allowed="beats:ticks") from None


def _number(node: ET.Element, attr: str, file: Path, default: str | None = None) -> Fraction:
    text = node.get(attr, default)
    try:
        value = Fraction(text)
    except (TypeError, ValueError, ZeroDivisionError):
        raise BridgeError("the Ardour session file has a bad number", file=str(file),
                          field=f"{node.tag}.{attr}", value=text, allowed="a number") from None
    return value


def _tempo_map(root: ET.Element, file: Path):
    tm = root.find("TempoMap")
    points: list[TempoPoint] = []
    ramps: list[tuple[Fraction, Fraction, Fraction]] = []
    meters: list[MeterPoint] = []
    if tm is None:
        return (TempoPoint(Fraction(0), Fraction(120)),), (), (MeterPoint(Fraction(0), 4, 4),)
    raw = []
    for n, t in enumerate(tm.iter("Tempo")):
        where = f"TempoMap.Tempos[{n}]"
        note_type = _number(t, "note-type", file, "4")
        npm, enpm = _number(t, "npm", file), _number(t, "enpm", file, t.get("npm"))
        if npm <= 0 or note_type <= 0 or enpm <= 0:
            raise BridgeError("the Ardour tempo map has a tempo <= 0", file=str(file), field=where,
                              value=t.get("npm"), allowed="a tempo > 0")
        ramped = "Ramp" in t.get("type", "") and enpm != npm
        raw.append((_quarters(t.get("quarters"), where, file), npm * 4 / note_type,
                    enpm * 4 / note_type, ramped))
    raw.sort(key=lambda r: r[0])
    for i, (beat, bpm, end_bpm, ramped) in enumerate(raw):
        nxt = raw[i + 1][0] if i + 1 < len(raw) else None
        if ramped and nxt is not None and nxt > beat:
            ramps.append((beat, bpm, end_bpm))
            steps = math.ceil(nxt - beat)
            for k in range(steps):   # one tempo per beat, linear in beats (beat middles)
                middle = (Fraction(k) + Fraction(1, 2)) / steps
                points.append(TempoPoint(beat + k, bpm + (end_bpm - bpm) * middle))
        else:
            points.append(TempoPoint(beat, bpm))
    for n, m in enumerate(tm.iter("Meter")):
        where = f"TempoMap.Meters[{n}]"
        num, den = _number(m, "divisions-per-bar", file), _number(m, "note-value", file)
        if num.denominator != 1 or den.denominator != 1 or num < 1 or den < 1:
            raise BridgeError("the Ardour tempo map has a meter Ainur cannot use", file=str(file),
                              field=where, value=f"{m.get('divisions-per-bar')}/{m.get('note-value')}",
                              allowed="whole numbers, e.g. 4/4 or 7/8")
        meters.append(MeterPoint(_quarters(m.get("quarters"), where, file), int(num), int(den)))
    return clean_tempo(points), tuple(ramps), clean_meters(meters)


def read_session_file(path: str | Path) -> ArdourSession:
    """Parse a snapshot (or a session folder, see :func:`find_session_file`).

    :raises BridgeError: unreadable XML or values, naming the file and the field.
    """
    file = find_session_file(path)
    root = _parse(file).getroot()
    version_text = root.get("version", "")
    version = int(version_text) if version_text.isdigit() else 0
    if version < 7000:
        raise BridgeError("an Ardour session older than Ardour 7 (its tempo map is in another "
                          "format)", file=str(file), field="Session.version", value=version_text,
                          allowed="a session saved by Ardour 7 or 8 (open and save it there once)")
    sr = _number(root, "sample-rate", file, "0")
    if sr.denominator != 1 or sr <= 0:
        raise BridgeError("the Ardour session has no sample rate", file=str(file),
                          field="Session.sample-rate", value=root.get("sample-rate"),
                          allowed="a whole number of Hz")
    tm = root.find("TempoMap")
    scps = int(_number(tm, "superclocks-per-second", file, str(SUPERCLOCK_PER_SECOND))) \
        if tm is not None else SUPERCLOCK_PER_SECOND
    clock = _Clock(int(sr), scps)
    tempo, ramps, meters = _tempo_map(root, file)
    timeline = SessionFacts("ardour", str(file), tempo, meters)
    locations = []
    for n, loc in enumerate(root.iterfind("Locations/Location")):
        where = f"Locations[{n}]"
        start = clock.samples(loc.get("start", "a0"), where + ".start", file, timeline)
        end = clock.samples(loc.get("end", loc.get("start", "a0")), where + ".end", file, timeline)
        flags = tuple(f.strip() for f in loc.get("flags", "").split(",") if f.strip())
        locations.append(ArdourLocation(loc.get("name", ""), start, end, flags))
    routes, playlists, midi_playlists = {}, {}, {}
    for r in root.iterfind("Routes/Route"):
        flags = (r.find("PresentationInfo").get("flags", "") if r.find("PresentationInfo") is not None
                 else "")
        if "MasterOut" in flags or "MonitorOut" in flags:
            continue
        routes[r.get("id")] = r.get("name", "")
        if r.get("audio-playlist"):
            playlists[r.get("audio-playlist")] = r.get("name", "")
        if r.get("default-type") == "midi" and r.get("midi-playlist"):
            midi_playlists[r.get("midi-playlist")] = r.get("name", "")
    sources = {s.get("id", ""): (s.get("origin") if os.path.isabs(s.get("origin") or "")
                                 else s.get("name", ""))
               for s in root.iterfind("Sources/Source")}
    name = root.get("name", file.stem)
    regions, midi_regions = [], []
    for pl in root.iterfind("Playlists/Playlist"):
        track = playlists.get(pl.get("id")) or routes.get(pl.get("orig-track-id"), "")
        midi = midi_playlists.get(pl.get("id"))
        for n, reg in enumerate(pl.iterfind("Region")):
            where = f"Playlist[{pl.get('name')}].Region[{n}]"
            length = reg.get("length", "a0@a0")
            dist, _, pos = length.partition("@")
            pos = pos or reg.get("position", "0")
            position = clock.samples(pos, where + ".position", file, timeline)
            srcs = tuple(v for k, v in sorted(reg.attrib.items()) if k.startswith("source-"))
            regions.append(ArdourRegion(reg.get("name", ""), track, position,
                                        clock.samples(dist, where + ".length", file, timeline), srcs))
            if midi is None:
                continue
            # a MIDI region in beats, and the SMF file it plays
            at = clock.beats(pos, where + ".position", file, timeline)
            src = sources.get(reg.get("source-0", ""))
            path = None if not src else Path(src) if os.path.isabs(src) else \
                file.parent / "interchange" / name / "midifiles" / src
            midi_regions.append(ArdourMidiRegion(
                reg.get("name", ""), midi, at,
                clock.beats(reg.get("start", "b0"), where + ".start", file, timeline, at=at),
                clock.beats(dist, where + ".length", file, timeline, at=at), path,
                reg.get("muted") == "1"))
    return ArdourSession(file, name, int(sr), scps, tempo, ramps, meters,
                         tuple(locations), tuple(routes.values()), tuple(regions), sources, version,
                         tuple(midi_playlists.values()), tuple(midi_regions))


def spec_from_ardour(session: Path | str, *, spec_path: Path | str | None = None,
                     preset: str | None = None, lyrics_file: Path | str | None = None,
                     overrides=None, vocal_track: str | None = None,
                     harmony_track: str | None = None):
    """The song for ``ainur render --from-ardour``: a
    :class:`~daw_bridge.session_spec.SessionSong` from an Ardour session as last saved:
    tempo map, meters and sections (markers) from the session file, the vocal melody from its
    vocal MIDI track and a written harmony from its harmony MIDI track, the lyrics from
    ``lyrics_file``, else ``<snapshot>.lyrics.txt`` or ``lyrics.txt`` in the session folder;
    style, title, key, seed, output and per-section
    lyrics from the spec at ``spec_path`` (:func:`~daw_bridge.project_vocal.
    song_from_project_file`).

    :raises BridgeError: an unreadable session, or a vocal track it does not have.
    :raises SpecError: a session that cannot make a song, a bad spec or lyrics file.
    """
    return song_from_project_file(read_session_file(session), vocal_track=vocal_track,
                                  spec_path=spec_path, preset=preset, lyrics_file=lyrics_file,
                                  overrides=overrides, harmony_track=harmony_track)


# -- writing (session closed) ---------------------------------------------------------------

@dataclass(frozen=True)
class StemSource:
    """An audio file to embed (not copied): ``channels`` x ``frames`` at session
    ``position_sample``; ``name`` becomes the whole-file region's name."""

    path: Path
    name: str
    channels: int
    frames: int
    position_sample: int


class SessionEdit:
    """Edits of one closed snapshot file, written by :meth:`save` (temp file + rename).

    New objects take the ids after the session's ``id-counter`` (the last id Ardour handed
    out), and the counter is raised past them so that Ardour never hands them out again.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = find_session_file(path)
        self.tree = _parse(self.path)
        self.root = self.tree.getroot()
        tm = self.root.find("TempoMap")
        scps = int(tm.get("superclocks-per-second", SUPERCLOCK_PER_SECOND)) if tm is not None \
            else SUPERCLOCK_PER_SECOND
        self.clock = _Clock(int(self.root.get("sample-rate", "48000")), scps)
        try:
            self._counter = int(self.root.get("id-counter", "0"))
        except ValueError:
            raise BridgeError("the Ardour session has a bad id-counter", file=str(self.path),
                              field="Session.id-counter", value=self.root.get("id-counter")) from None

    def _id(self) -> str:
        self._counter += 1                                # Ardour: new id = ++counter
        self.root.set("id-counter", str(self._counter))
        return str(self._counter)

    def _child(self, tag: str) -> ET.Element:
        node = self.root.find(tag)
        if node is None:
            node = ET.SubElement(self.root, tag)
        return node

    def add_marker(self, name: str, sample: int) -> bool:
        """A marker ``name`` at ``sample``, unless one of that name is already there."""
        locs = self._child("Locations")
        pos = f"a{self.clock.superclock(sample)}"
        for loc in locs.iter("Location"):
            if loc.get("name") == name and "IsMark" in loc.get("flags", "") and loc.get("start") == pos:
                return False
        ET.SubElement(locs, "Location", {"id": self._id(), "name": name, "start": pos, "end": pos,
                                         "flags": "IsMark", "locked": "0", "timestamp": "0",
                                         "cue": "0"})
        return True

    def add_stem(self, stem: StemSource) -> str:
        """One external ``<Source>`` per channel and a whole-file ``<Region>`` over them;
        returns the region id (the import script puts a copy of it on a new track)."""
        sources, regions = self._child("Sources"), self._child("Regions")
        pos = f"a{self.clock.superclock(stem.position_sample)}"
        ids = []
        for ch in range(stem.channels):
            ids.append(self._id())
            ET.SubElement(sources, "Source", {
                "name": stem.path.name, "take-id": "", "type": "audio", "flags": "",
                "id": ids[-1], "natural-position": pos, "channel": str(ch),
                "origin": str(stem.path), "gain": "1"})
        region = self._id()
        attrs = {"name": stem.name, "whole-file": "1", "import": "1", "external": "1",
                 "start": "a0", "length": f"a{self.clock.superclock(stem.frames)}@a0",
                 "id": region, "type": "audio", "first-edit": "nothing",
                 "channels": str(stem.channels)}
        for ch, sid in enumerate(ids):
            attrs[f"source-{ch}"] = sid
            attrs[f"master-source-{ch}"] = sid
        ET.SubElement(regions, "Region", attrs)
        return region

    def save(self) -> None:
        """Write the edited file in place (a temporary file renamed onto it)."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.ainur-", dir=self.path.parent)
        os.close(fd)
        try:
            self.tree.write(tmp, encoding="UTF-8", xml_declaration=True)
            os.replace(tmp, self.path)
        except OSError as e:
            raise BridgeError(f"cannot write the Ardour session file: {e.strerror or e}",
                              file=str(self.path)) from None
        finally:
            Path(tmp).unlink(missing_ok=True)
