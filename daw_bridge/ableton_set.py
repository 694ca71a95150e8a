"""Ableton Live Sets (``.als``) as last saved: the tempo map, meters, locators and the vocal
MIDI track that AbletonOSC cannot report.

AbletonOSC gives the current tempo and time signature only; Live exports no tempo map to
MIDI. The Live Set file has all of it. It is gzip-compressed XML (``<Ableton
MajorVersion="5" MinorVersion="12.0_12043" Creator="Ableton Live 12...">``, one
``<LiveSet>``); positions are in beats (quarter notes) from the song start, as Live's
arrangement shows them. Read here (Live 9 to 12; Live 8 and older are refused):

* **tempo**: the main track's (``MasterTrack``, Live 12 ``MainTrack``) mixer ``<Tempo>``:
  ``Manual`` and its automation (``FloatEvent Time Value``): in the track's
  ``AutomationEnvelopes`` whose ``PointeeId`` is the tempo's ``AutomationTarget Id``
  (Live 10+), or in the tempo's own ``ArrangerAutomation`` (Live 9). Live keeps an event
  at ``Time="-63072000"`` (before the song) that repeats ``Manual`` where no automation is
  drawn, and holds the first point's value where it is. Between two events the tempo moves
  in a straight line; Live plays a ramp as one tempo per sixteenth note, the tempo where the
  sixteenth starts (measured by dawtool's author: 60 -> 120 bpm over four beats takes
  2.836 s in Live, against 2.773 s for the exact line), and so does Ainur's tempo map.
* **time signature**: the mixer's ``<TimeSignature>`` (``Manual`` and its ``EnumEvent``
  automation, Live's signature changes) as ``(numerator - 1) + 99 * log2(denominator)``:
  201 is 4/4, 200 3/4, 302 6/8.
* **locators**: ``<Locators><Locators><Locator>`` with ``Time`` and ``Name``, the song's
  sections as with the other DAWs.
* **tracks**: ``<Tracks>``' MIDI, audio and group tracks by their shown name
  (``Name/EffectiveName``); each MIDI track's arrangement clips
  (``DeviceChain/MainSequencer/ClipTimeable/ArrangerAutomation/Events/MidiClip``) with their
  notes (``KeyTrack``: ``MidiKey`` and ``MidiNoteEvent Time Duration Velocity IsEnabled``,
  clip beats). A clip at ``Time`` plays for ``CurrentEnd - CurrentStart`` beats from its
  content's ``LoopStart + StartRelative``; a looped clip (``LoopOn``) goes back to
  ``LoopStart`` at ``LoopEnd``. Deactivated clips (``Disabled``) and notes (``IsEnabled``
  false) are not played. Session View clips are not in the arrangement and are not read.

Everything is read as exact fractions of the decimal text Live writes.
"""

from __future__ import annotations

import gzip
import logging
import math
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from ainur_cli.errors import BridgeError

from daw_bridge.facts import MeterPoint, SessionFacts, TempoPoint, clean_meters, clean_tempo
from daw_bridge.project_vocal import (Note, one_voice_beats, pick_vocal_track,
                                     song_from_project_file, with_project_vocal)
from daw_bridge.session_spec import markers_from_names

log = logging.getLogger(__name__)

SUFFIX = ".als"
#: the time of the automation event that holds a parameter's value before the song
BEFORE_SONG = Fraction(-63072000)
#: Live plays a tempo ramp as one tempo per sixteenth note (see the module's docstring)
TEMPO_STEP_BEATS = Fraction(1, 4)
#: Live's tempo range (bpm)
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 20, 999
OLDEST_LIVE = 9
#: a looped clip playing its loop more often than this is refused
MAX_LOOP_PASSES = 100_000
#: no time or value in a set is larger (Live's "before the song" time is -63072000)
MAX_NUMBER = 1e9
#: the longest tempo automation read (beats: 10 minutes at 999 bpm)
MAX_AUTOMATION_BEATS = 10_000
READ_WHAT = "a Live Set (.als) saved by Ableton Live 9 to 12"
#: Live over OSC (32-bit floats) and the set file agree when this close
SAME_TEMPO_BPM, SAME_BEAT = Fraction(1, 1000), Fraction(1, 960)


@dataclass(frozen=True)
class LiveClip:
    """An arrangement MIDI clip: on ``track`` from ``start_beat`` for ``length_beats``, playing
    its content from ``offset_beat``; ``loop``: ``(loop_start, loop_end)`` content beats when
    it loops; ``notes``: ``(time, duration, pitch, velocity)`` in content beats, enabled ones
    only."""

    track: str
    start_beat: Fraction
    length_beats: Fraction
    offset_beat: Fraction
    loop: tuple[Fraction, Fraction] | None
    disabled: bool
    notes: tuple[tuple[Fraction, Fraction, int, int], ...]

    def played(self) -> list[Note]:
        """``(start_beat, end_beat, pitch, velocity)`` in song beats of the notes the clip plays:
        those starting inside each pass of its content, cut at the pass's and the clip's end."""
        end = self.start_beat + self.length_beats
        passes: list[tuple[Fraction, Fraction, Fraction]] = []   # (content from, to, song at)
        if self.loop is None:
            passes.append((self.offset_beat, self.offset_beat + self.length_beats,
                           self.start_beat))
        else:
            lo, hi = self.loop
            at, first = self.start_beat, self.offset_beat
            if self.length_beats / (hi - lo) > MAX_LOOP_PASSES:
                raise BridgeError(f"a Live clip on track {self.track!r} loops more than "
                                  f"{MAX_LOOP_PASSES} times", field="MidiClip.Loop",
                                  value=f"{float(hi - lo):g} beats for "
                                        f"{float(self.length_beats):g}",
                                  allowed=f"a loop played at most {MAX_LOOP_PASSES} times")
            while at < end:
                passes.append((first, hi, at))
                at += hi - first
                first = lo
        out: list[Note] = []
        for c_from, c_to, at in passes:
            for time, dur, pitch, vel in self.notes:
                if c_from <= time < c_to:
                    on = at + time - c_from
                    if on < end:
                        out.append((on, min(at + min(time + dur, c_to) - c_from, end), pitch, vel))
        return out


@dataclass(frozen=True)
class LiveSet:
    """What Ainur reads from a Live Set file (see the module's docstring).

    :param ramps: ``(beat, from_bpm, to_bpm)`` of each tempo ramp (read as sixteenths).
    :param clips: the MIDI tracks' arrangement clips.
    """

    path: Path
    creator: str
    tempo: tuple[TempoPoint, ...]
    ramps: tuple[tuple[Fraction, Fraction, Fraction], ...]
    meters: tuple[MeterPoint, ...]
    locators: tuple[tuple[str, Fraction], ...]
    tracks: tuple[str, ...]
    midi_tracks: tuple[str, ...]
    clips: tuple[LiveClip, ...]
    length_beats: Fraction | None
    #: the tempo automation has curved segments (Live 11+), read as straight lines
    curved_tempo: bool = False
    #: MIDI track -> its Session View clips with notes (not in the arrangement, not read)
    session_clips: dict[str, int] = field(default_factory=dict)
    DAW_WORDS: ClassVar[tuple[str, str]] = ("Live", "set")

    def facts(self, origin: str | None = None) -> SessionFacts:
        """The set as :class:`SessionFacts`: tempo map, meters, locators, length, tracks."""
        notes = [f"the tempo ramp from beat {float(b):g} ({float(a):g} to {float(z):g} bpm) is "
                 f"read as Live plays it, one tempo per sixteenth note" for b, a, z in self.ramps]
        if self.curved_tempo:
            notes.append("the tempo automation has curved segments: they are read as straight "
                         "lines between their points (add points where the curve matters)")
        return SessionFacts("ableton", origin or str(self.path), self.tempo, self.meters,
                            markers=markers_from_names(self.locators),
                            length_beats=self.length_beats, track_names=self.tracks,
                            title=self.path.stem, notes=tuple(notes),
                            resolution_beats=Fraction(1, 960))

    def vocal_track(self, name: str | None = None) -> str | None:
        """The MIDI track with the vocal melody (:func:`~daw_bridge.project_vocal.
        pick_vocal_track`): ``name``, else the first MIDI track named like a vocal.

        :raises BridgeError: ``name`` is not a MIDI track of the set.
        """
        return pick_vocal_track(self.midi_tracks, name, daw="the Live Set", file=self.path)

    def why_no_notes(self, track: str) -> str | None:
        """Why ``track`` plays no notes, where the set says: its clips are in Session View."""
        n = self.session_clips.get(track, 0)
        return (f"its {n} Session View clip{'s' if n > 1 else ''} with notes {'are' if n > 1 else 'is'} "
                f"not in the arrangement (record or drag {'them' if n > 1 else 'it'} into the "
                f"arrangement: Ainur sings the arrangement)") if n else None

    def track_notes(self, track: str) -> list[Note]:
        """The notes ``track``'s active arrangement clips play, in song beats, one voice (of
        notes starting together the highest; each ends where the next starts)."""
        return one_voice_beats(n for clip in self.clips
                               if clip.track == track and not clip.disabled
                               for n in clip.played())


def with_saved_set(live: SessionFacts, saved: LiveSet, track: str | None = None,
                   harmony_track: str | None = None) -> SessionFacts:
    """Live's OSC ``live`` facts (one tempo, one meter, cue points, track names) merged with
    the set file Live has open, as last saved: the tempo map and meters where the set
    automates them (OSC cannot read automation; else Live's current values, which include
    unsaved changes), Live's own locators, and the vocal and harmony MIDI tracks' notes (with
    a note to save the set for later edits). Where Live and the file disagree a note says so.

    :raises BridgeError: ``track`` or ``harmony_track`` is not a MIDI track of the set.
    """
    from dataclasses import replace

    from daw_bridge.ableton import ONE_TEMPO_NOTE

    notes = [n for n in live.notes if n != ONE_TEMPO_NOTE]
    tempo, meters = live.tempo, live.meters
    file_facts = saved.facts()
    if len(saved.tempo) > 1:
        tempo = saved.tempo
        notes += [n for n in file_facts.notes if "tempo ramp" in n]
        notes.append(f"the tempo map is the saved set's tempo automation ({saved.path}); save "
                     f"the set in Live to include later changes")
    elif abs(saved.tempo[0].tempo_bpm - live.tempo[0].tempo_bpm) < SAME_TEMPO_BPM:
        tempo = saved.tempo      # the file's exact decimal, not OSC's 32-bit float
    else:
        notes.append(f"Live plays {float(live.tempo[0].tempo_bpm):g} bpm, the saved set "
                     f"{float(saved.tempo[0].tempo_bpm):g} bpm: Live's tempo is used (save the "
                     f"set so that its vocal track matches)")
    if len(saved.meters) > 1:
        meters = saved.meters
    elif (saved.meters[0].numerator, saved.meters[0].denominator) != \
            (live.meters[0].numerator, live.meters[0].denominator):
        notes.append(f"Live's time signature is {live.meters[0].numerator}/"
                     f"{live.meters[0].denominator}, the saved set's {saved.meters[0].numerator}/"
                     f"{saved.meters[0].denominator}: Live's is used")
    if len(live.markers) != len(file_facts.markers) or any(
            a.name != b.name or abs(a.beat - b.beat) > SAME_BEAT
            for a, b in zip(live.markers, file_facts.markers)):
        notes.append(f"Live's locators are not the saved set's ({saved.path}): Live's are used; "
                     f"save the set if the vocal track changed too")
    merged = replace(live, tempo=tempo, meters=meters, notes=tuple(notes),
                     title=live.title or saved.path.stem)
    return with_project_vocal(merged, saved, track, live=True, harmony_track=harmony_track)


def spec_from_ableton(live_set: Path | str, *, spec_path: Path | str | None = None,
                      preset: str | None = None, lyrics_file: Path | str | None = None,
                      overrides=None, vocal_track: str | None = None,
                      harmony_track: str | None = None):
    """The song for ``ainur render --from-ableton``: a
    :class:`~daw_bridge.session_spec.SessionSong` from a Live Set as last saved: its tempo
    map, meters and locators (the sections), the vocal melody from its vocal MIDI track and
    a written harmony from its harmony MIDI track, the lyrics from ``lyrics_file`` or the
    lyrics file beside the set (:func:`~daw_bridge.project_vocal.song_from_project`).

    :raises BridgeError: an unreadable set, or a vocal track it does not have.
    :raises SpecError: a set that cannot make a song, a bad spec or lyrics file.
    """
    return song_from_project_file(read_live_set(live_set), vocal_track=vocal_track,
                                  spec_path=spec_path, preset=preset, lyrics_file=lyrics_file,
                                  overrides=overrides, harmony_track=harmony_track)


# -- reading --------------------------------------------------------------------------------

def read_live_set(path: Path | str) -> LiveSet:
    """Read a Live Set file (gzip-compressed or plain XML), or the one set in a Live project
    folder.

    :raises BridgeError: the file is missing, not a Live Set, saved by Live 8 or older, or
        holds a value Ainur cannot use (named with its element and value).
    """
    path = find_live_set(path)
    root = _parse(path)
    creator = root.get("Creator") or "Ableton Live"
    minor = root.get("MinorVersion") or ""
    try:
        major_live = int(minor.split(".")[0])
    except ValueError:
        major_live = 0
    if major_live < OLDEST_LIVE:
        raise BridgeError(f"the Live Set was saved by {creator}: Ainur reads sets of Live "
                          f"{OLDEST_LIVE} to 12", file=str(path), field="Ableton.MinorVersion",
                          value=minor, allowed="open the set in a newer Live and save it")
    live = root.find("LiveSet")
    if live is None:
        raise BridgeError("the file has no LiveSet element", file=str(path), field="LiveSet",
                          allowed=READ_WHAT)
    main = live.find("MainTrack")
    if main is None:
        main = live.find("MasterTrack")
    mixer = main.find("DeviceChain/Mixer") if main is not None else None
    if mixer is None:
        raise BridgeError("the Live Set has no main track mixer (its tempo)", file=str(path),
                          field="LiveSet.MainTrack.DeviceChain.Mixer", allowed=READ_WHAT)
    tempo, ramps, curved = _tempo_map(main, mixer, path)
    meters = _meters(main, mixer, path)
    locators = []
    for n, loc in enumerate(live.findall("Locators/Locators/Locator")):
        where = f"LiveSet.Locators[{n}]"
        locators.append((_value(loc, "Name", where, path, str) or f"Locator {n + 1}",
                         _value(loc, "Time", where, path)))
    tracks, midi_tracks, clips, ends = [], [], [], []
    session_clips: dict[str, int] = {}
    for n, tr in enumerate(live.findall("Tracks/*")):
        if tr.tag not in ("MidiTrack", "AudioTrack", "GroupTrack"):
            continue
        where = f"LiveSet.Tracks[{n}]"
        name = _value(tr, "Name/EffectiveName", where, path, str) or f"{n + 1}-{tr.tag}"
        tracks.append(name)
        for kind in ("ClipTimeable", "Sample"):
            for clip in tr.findall(f"DeviceChain/MainSequencer/{kind}/ArrangerAutomation/Events/*"):
                c_where = f"{where}({name!r}).{clip.tag}@{clip.get('Time')}"
                start = _value(clip, "CurrentStart", c_where, path)
                length = _value(clip, "CurrentEnd", c_where, path) - start
                at = (_number(clip.get("Time"), c_where + ".Time", path)
                      if clip.get("Time") is not None else start)
                ends.append(at + length)
                if tr.tag == "MidiTrack" and clip.tag == "MidiClip":
                    clips.append(_clip(clip, name, at, length, c_where, path))
        if tr.tag == "MidiTrack":
            midi_tracks.append(name)
            slots = tr.findall("DeviceChain/MainSequencer/ClipSlotList/ClipSlot/ClipSlot/Value/"
                               "MidiClip")
            used = sum(1 for c in slots if c.find("Notes/KeyTracks/KeyTrack/Notes/MidiNoteEvent")
                       is not None)
            if used:
                session_clips[name] = used
    return LiveSet(path, creator, tempo, ramps, meters, tuple(locators), tuple(tracks),
                   tuple(midi_tracks), tuple(clips), max(ends) if ends else None,
                   curved, session_clips)


def find_live_set(path: Path | str) -> Path:
    """``path`` itself, or the one Live Set in the Live project folder ``path`` (its
    ``Backup`` folder is not looked in).

    :raises BridgeError: a folder with no set, or with several (they are listed).
    """
    path = Path(path)
    if not path.is_dir():
        return path
    sets = sorted(p for p in path.glob(f"*{SUFFIX}") if p.is_file())
    if len(sets) != 1:
        raise BridgeError("the folder holds " + ("no Live Set" if not sets else "several Live Sets"),
                          file=str(path), field="path",
                          allowed=", ".join(p.name for p in sets) if sets else READ_WHAT)
    return sets[0]


def _parse(path: Path) -> ET.Element:
    if not path.is_file():
        raise BridgeError("the Live Set file does not exist", file=str(path), field="path",
                          allowed=READ_WHAT)
    raw = path.read_bytes()
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as e:
        raise BridgeError(f"the Live Set is a damaged gzip file ({e})", file=str(path),
                          field="gzip", allowed=READ_WHAT) from None
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise BridgeError(f"the Live Set is not readable XML ({e})", file=str(path),
                          field="xml", allowed=READ_WHAT) from None
    if root.tag != "Ableton":
        raise BridgeError("the file is not an Ableton Live Set", file=str(path),
                          field="root element", value=root.tag, allowed=READ_WHAT)
    return root


def _number(text: str | None, where: str, path: Path) -> Fraction:
    try:
        value = Fraction(text.strip())
        if abs(value) > MAX_NUMBER:
            raise ValueError(text)
    except (AttributeError, ValueError, ZeroDivisionError):
        raise BridgeError("the Live Set has a number Ainur cannot read", file=str(path),
                          field=where, value=text,
                          allowed=f"a decimal number within +-{MAX_NUMBER:g}") from None
    return value


def _value(node: ET.Element, child: str, where: str, path: Path, kind=Fraction):
    """The ``Value`` attribute of ``node``'s ``child`` (a number, or text with ``kind=str``)."""
    found = node.find(child)
    field = f"{where}.{child.replace('/', '.')}"
    if found is None or found.get("Value") is None:
        raise BridgeError("the Live Set lacks a value Ainur needs", file=str(path), field=field,
                          allowed=READ_WHAT)
    text = found.get("Value")
    return text.strip() if kind is str else _number(text, field, path)


def _automation(main: ET.Element, param: ET.Element, tag: str) -> list[ET.Element]:
    """``param``'s arrangement automation events: Live 10+ keep them in the main track's
    envelopes (by the parameter's ``AutomationTarget Id``), Live 9 inside the parameter."""
    events = list(param.findall(f"ArrangerAutomation/Events/{tag}"))
    target = param.find("AutomationTarget")
    if target is not None and target.get("Id") is not None:
        for env in main.findall("AutomationEnvelopes/Envelopes/AutomationEnvelope"):
            pointee = env.find("EnvelopeTarget/PointeeId")
            if pointee is not None and pointee.get("Value") == target.get("Id"):
                events += env.findall(f"Automation/Events/{tag}")
    return events


def _tempo_map(main: ET.Element, mixer: ET.Element, path: Path):
    """``(tempo points, ramps, curved)``: the tempo map as Live plays it (module docstring),
    each ramp ``(beat, from_bpm, to_bpm)``, and whether a ramp has curve handles."""
    param = mixer.find("Tempo")
    where = "MainTrack.Mixer.Tempo"
    if param is None:
        raise BridgeError("the Live Set has no tempo", file=str(path), field=where,
                          allowed=READ_WHAT)
    manual = _value(param, "Manual", where, path)
    points: list[tuple[Fraction, Fraction]] = []
    events = _automation(main, param, "FloatEvent")
    for n, ev in enumerate(events):
        e_where = f"{where}.automation[{n}]"
        points.append((_number(ev.get("Time"), e_where + ".Time", path),
                       _number(ev.get("Value"), e_where + ".Value", path)))
    points.sort(key=lambda p: p[0])   # stable: of two events at one time the later wins
    for beat, bpm in [(Fraction(0), manual)] + points:   # (the placeholder holds Manual)
        if not MIN_TEMPO_BPM <= bpm <= MAX_TEMPO_BPM:
            raise BridgeError("the Live Set has a tempo outside Live's range", file=str(path),
                              field=where, value=f"{float(bpm):g} bpm at beat {float(beat):g}",
                              allowed=f"{MIN_TEMPO_BPM}..{MAX_TEMPO_BPM} bpm")
    if all(t <= BEFORE_SONG for t, _ in points):   # Live's placeholder: no automation drawn
        return (TempoPoint(Fraction(0), manual),), (), False
    last = max(t for t, _ in points)
    if last > MAX_AUTOMATION_BEATS:
        raise BridgeError("the Live Set's tempo automation runs past what a song can be",
                          file=str(path), field=where + ".automation",
                          value=f"a point at beat {float(last):g}",
                          allowed=f"points before beat {MAX_AUTOMATION_BEATS}")
    if points[0][0] > 0:     # before the first event: its value (Live adds one before the song)
        points.insert(0, (BEFORE_SONG, points[0][1]))
    tempo: list[TempoPoint] = []
    ramps: list[tuple[Fraction, Fraction, Fraction]] = []
    for (t0, v0), (t1, v1) in zip(points, points[1:] + [(None, None)]):
        if t1 is not None and t1 <= 0:
            continue
        first = max(Fraction(0), _ceil_step(t0))
        if t1 is None or v0 == v1 or t1 == t0 or t0 <= BEFORE_SONG:
            tempo.append(TempoPoint(first, v0))   # (the value before the song holds)
            continue
        ramps.append((max(t0, Fraction(0)), v0, v1))
        step = first
        while step < t1:            # the tempo where each sixteenth starts
            tempo.append(TempoPoint(step, v0 + (v1 - v0) * (step - t0) / (t1 - t0)))
            step += TEMPO_STEP_BEATS
    curved = bool(ramps) and any(ev.get("CurveControl1X") is not None for ev in events)
    return clean_tempo(tempo), tuple(ramps), curved


def _ceil_step(beat: Fraction) -> Fraction:
    return math.ceil(beat / TEMPO_STEP_BEATS) * TEMPO_STEP_BEATS


def time_signature(value: Fraction, where: str, path: Path) -> tuple[int, int]:
    """Live's time-signature number as ``(numerator, denominator)``: 201 is 4/4."""
    code = int(value) if value.denominator == 1 else -1
    numerator, power = code % 99 + 1, code // 99
    if code < 0 or power > 4:
        raise BridgeError("the Live Set has a time signature Ainur cannot read", file=str(path),
                          field=where, value=str(value),
                          allowed="(numerator - 1) + 99 * log2(denominator): numerator 1..99, "
                                  "denominator 1, 2, 4, 8 or 16 (201 is 4/4)")
    return numerator, 2 ** power


def _meters(main: ET.Element, mixer: ET.Element, path: Path) -> tuple[MeterPoint, ...]:
    param = mixer.find("TimeSignature")
    where = "MainTrack.Mixer.TimeSignature"
    if param is None:
        return (MeterPoint(Fraction(0), 4, 4),)
    changes = [(Fraction(0), _value(param, "Manual", where, path))]
    for n, ev in enumerate(_automation(main, param, "EnumEvent")):
        e_where = f"{where}.automation[{n}]"
        time = _number(ev.get("Time"), e_where + ".Time", path)
        if time > BEFORE_SONG:   # (Live's placeholder before the song repeats Manual)
            changes.append((max(Fraction(0), time),
                            _number(ev.get("Value"), e_where + ".Value", path)))
    return clean_meters([MeterPoint(beat, *time_signature(v, where, path))
                         for beat, v in sorted(changes, key=lambda c: c[0])])


def _clip(clip: ET.Element, track: str, at: Fraction, length: Fraction, where: str,
          path: Path) -> LiveClip:
    """The arrangement MIDI clip ``clip`` of ``track``, at song beat ``at`` for ``length``."""
    loop_start = _value(clip, "Loop/LoopStart", where, path)
    loop_end = _value(clip, "Loop/LoopEnd", where, path)
    offset = loop_start + _value(clip, "Loop/StartRelative", where, path)
    looped = _flag(clip, "Loop/LoopOn") and loop_end > loop_start and offset < loop_end
    notes = []
    for key_track in clip.findall("Notes/KeyTracks/KeyTrack"):
        pitch = _value(key_track, "MidiKey", where + ".KeyTrack", path)
        if pitch.denominator != 1 or not 0 <= pitch <= 127:
            raise BridgeError("a Live clip has a note outside MIDI's range", file=str(path),
                              field=where + ".KeyTrack.MidiKey", value=str(pitch),
                              allowed="0..127")
        for ev in key_track.findall("Notes/MidiNoteEvent"):
            if (ev.get("IsEnabled") or "true").strip().lower() == "false":
                continue
            e_where = f"{where}.MidiNoteEvent@{ev.get('Time')}"
            time = _number(ev.get("Time"), e_where + ".Time", path)
            dur = _number(ev.get("Duration"), e_where + ".Duration", path)
            vel = _number(ev.get("Velocity") or "100", e_where + ".Velocity", path)
            if dur > 0:
                notes.append((time, dur, int(pitch), min(127, max(1, round(vel)))))
    return LiveClip(track, at, length, offset, (loop_start, loop_end) if looped else None,
                    _flag(clip, "Disabled"), tuple(sorted(notes)))


def _flag(node: ET.Element, child: str) -> bool:
    found = node.find(child)
    return found is not None and (found.get("Value") or "").strip().lower() == "true"
