"""The producer's vocal melody in a DAW's project file, and the song made from that file.

Shared by the readers of project files that hold notes (an Ardour session,
:mod:`daw_bridge.ardour_session`; an Ableton Live Set, :mod:`daw_bridge.ableton_set`): which
MIDI track is the vocal (:func:`pick_vocal_track`) and which its written harmony
(:func:`pick_harmony_track`), their notes made one voice on a fine grid
(:func:`one_voice_beats`), the facts carrying them (:func:`with_vocal_notes`) and the song
for ``ainur render --from-ardour`` / ``--from-ableton`` (:func:`song_from_project`).
Notes are ``(start_beat, end_beat, pitch, velocity)``, session quarter-note beats as exact
fractions.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from ainur_cli.errors import BridgeError

from daw_bridge.facts import SessionFacts

log = logging.getLogger(__name__)

#: a MIDI track whose name says it holds the vocal melody
VOCAL_TRACK_NAME = re.compile(r"vocal|vox|voice|singer|sing\b|melody|topline", re.IGNORECASE)
#: a MIDI track whose name says it holds a written vocal harmony (not the lead's melody)
HARMONY_TRACK_NAME = re.compile(r"harmon|\bharm\b|\bbgvs?\b|\bbvs?\b|backing|\bbacks?\b|"
                                r"choir", re.IGNORECASE)
#: the grid vocal notes are kept on (ticks per quarter note; Ardour's SMF resolution)
FINE_TICKS = 19200

Note = tuple[Fraction, Fraction, int, int]


def pick_vocal_track(midi_tracks: Sequence[str], name: str | None, *, daw: str,
                     file: Path | str) -> str | None:
    """The MIDI track that holds the vocal melody: the one named ``name`` (any case), else
    the first whose name says vocal (:data:`VOCAL_TRACK_NAME`) and not harmony
    (:data:`HARMONY_TRACK_NAME`: ``Lead Vox`` before ``Backing Vox``), else the first whose
    name says vocal; None when there is none.

    :param daw: how messages name the project ("the Ardour session", "the Live Set").
    :raises BridgeError: ``name`` is not one of ``midi_tracks``.
    """
    if name:
        return _named(midi_tracks, name, daw=daw, file=file, field="vocal_track",
                      what="the vocal melody")
    vocal = [t for t in midi_tracks if VOCAL_TRACK_NAME.search(t)]
    return next((t for t in vocal if not HARMONY_TRACK_NAME.search(t)), vocal[0] if vocal else None)


def pick_harmony_track(midi_tracks: Sequence[str], name: str | None, lead: str | None, *,
                       daw: str, file: Path | str) -> str | None:
    """The MIDI track that holds a written harmony of the vocal: the one named ``name`` (any
    case), else the first other than the ``lead``'s whose name says harmony
    (:data:`HARMONY_TRACK_NAME`: ``Harmony``, ``BGV``, ``Backing Vox``, ``Choir``); None
    when there is none, or no lead to harmonise.

    :raises BridgeError: ``name`` is not one of ``midi_tracks``, or is the lead's track.
    """
    if name:
        found = _named(midi_tracks, name, daw=daw, file=file, field="harmony_track",
                       what="the written harmony")
        if lead is not None and found == lead:
            raise BridgeError("the harmony track is the vocal melody's track", file=str(file),
                              field="harmony_track", value=name,
                              allowed="another MIDI track: "
                                      + (", ".join(t for t in midi_tracks if t != lead) or "none"))
        return found if lead is not None else None
    if lead is None:
        return None
    return next((t for t in midi_tracks if t != lead and HARMONY_TRACK_NAME.search(t)), None)


def _named(midi_tracks: Sequence[str], name: str, *, daw: str, file: Path | str, field: str,
           what: str) -> str:
    """The track of ``midi_tracks`` named ``name`` (any case).

    :raises BridgeError: there is none (naming ``field`` and the tracks there are)."""
    found = next((t for t in midi_tracks if t.casefold() == name.casefold()), None)
    if found is None:
        raise BridgeError(f"{daw} has no MIDI track of that name", file=str(file),
                          field=field, value=name,
                          allowed=", ".join(midi_tracks) or f"none: add a MIDI track with {what}")
    return found


def fine_tick(beat: Fraction) -> int:
    """``beat`` on the :data:`FINE_TICKS` grid (rounded half up)."""
    return math.floor(beat * FINE_TICKS + Fraction(1, 2))


def one_voice_beats(notes: Iterable[Note]) -> list[Note]:
    """``notes`` on the :data:`FINE_TICKS` grid, made one voice: of notes starting within a
    128th note of each other the highest, each ending at the latest where the next starts
    (:func:`ainur_cli.melody_file.one_voice`)."""
    from ainur_cli.melody_file import one_voice

    ticks = [[fine_tick(a), fine_tick(b), pitch, vel] for a, b, pitch, vel in notes]
    return [(Fraction(on, FINE_TICKS), Fraction(off, FINE_TICKS), pitch, vel)
            for on, off, pitch, vel in one_voice(ticks, FINE_TICKS // 32)]


class VocalProject(Protocol):
    """A DAW project file that holds notes (:class:`~daw_bridge.ardour_session.ArdourSession`,
    :class:`~daw_bridge.ableton_set.LiveSet`). It may also have ``why_no_notes(track) -> str
    | None``, why a track plays nothing (a Live track's clips only in Session View)."""

    path: Path
    #: how messages name the DAW and its file: ``("Ardour", "session")``, ``("Live", "set")``
    DAW_WORDS: tuple[str, str]
    #: the names of its MIDI tracks, in the project's order
    midi_tracks: tuple[str, ...]

    def facts(self, origin: str | None = None) -> SessionFacts: ...

    def vocal_track(self, name: str | None = None) -> str | None: ...

    def track_notes(self, track: str) -> list[Note]: ...


def with_project_vocal(facts: SessionFacts, project: VocalProject, track: str | None = None, *,
                       live: bool = False, harmony_track: str | None = None) -> SessionFacts:
    """``facts`` with the project's file and the notes of its vocal MIDI track (``track``,
    else the first MIDI track named like a vocal) and of its harmony track (``harmony_track``,
    else the first other MIDI track named like a harmony, :func:`pick_harmony_track`) as last
    saved; ``live``: the DAW has the project open, so a note says that edits since the last
    save are not seen.

    :raises BridgeError: ``track`` or ``harmony_track`` is not a MIDI track of the project
        (or both name one), or its notes cannot be read.
    """
    daw, doc = project.DAW_WORDS
    name = project.vocal_track(track)
    source = f"the {daw} MIDI track '{name}'"
    notes = project.track_notes(name) if name is not None else []
    live_note = (f"the vocal melody is {source} as last saved in {project.path}: save the "
                 f"{doc} in {daw} to include later edits") if live else None
    why_none = getattr(project, "why_no_notes", None)
    facts = with_vocal_notes(facts, project.path, name, notes, source=source, live_note=live_note,
                             why_none=why_none(name) if why_none and name and not notes else None)
    harmony = pick_harmony_track(project.midi_tracks, harmony_track,
                                 name if facts.vocal_notes else None, daw=f"the {daw} {doc}",
                                 file=project.path)
    if harmony is None:
        if harmony_track:
            return replace(facts, notes=facts.notes + (
                f"the harmony track '{harmony_track}' is not sung: the {doc} has no vocal "
                f"melody (a MIDI track named like a vocal, or the vocal track option) to "
                f"harmonise",))
        return facts
    return with_harmony_notes(facts, f"the {daw} MIDI track '{harmony}'",
                              project.track_notes(harmony))


def with_harmony_notes(facts: SessionFacts, source: str, notes: Sequence[Note], *,
                       saved: bool = True) -> SessionFacts:
    """``facts`` with the written harmony ``notes`` (one voice, session beats) of the track
    messages call ``source``; a note instead where it has none (``saved``: the notes are a
    project file's, as last saved)."""
    if not notes:
        when = " (as last saved)" if saved else ""
        return replace(facts, notes=facts.notes + (f"{source} has no notes{when}: no written "
                                                   f"harmony",))
    log.info("%s: the written harmony from %s (%d notes)", facts.daw, source, len(notes))
    return replace(facts, harmony_notes=tuple(notes), harmony_source=source)


def song_from_project_file(project: VocalProject, *, vocal_track: str | None = None,
                           spec_path: Path | str | None = None, preset: str | None = None,
                           lyrics_file: Path | str | None = None, overrides=None,
                           harmony_track: str | None = None):
    """The song of a project file as last saved (``ainur render --from-ardour`` /
    ``--from-ableton``): its tempo map, meters and markers, its vocal and harmony MIDI
    tracks (:func:`with_project_vocal`), the lyrics and spec as in :func:`song_from_project`.

    :raises BridgeError: a vocal or harmony track the project does not have, or unreadable
        notes.
    :raises SpecError: a project that cannot make a song, a bad spec or lyrics file.
    """
    facts = with_project_vocal(project.facts(str(project.path)), project, vocal_track,
                               harmony_track=harmony_track)
    return song_from_project(facts, project.path, spec_path=spec_path, preset=preset,
                             lyrics_file=lyrics_file, overrides=overrides)


def with_vocal_notes(facts: SessionFacts, project_file: Path | str, track: str | None,
                     notes: Sequence[Note], *, source: str, live_note: str | None = None,
                     why_none: str | None = None) -> SessionFacts:
    """``facts`` with the project file (``project_file``, whose folder may hold the lyrics) and
    the vocal ``notes`` of ``track`` (None: the project has no vocal track, the melody is
    composed).

    :param source: the track as messages name it ("the Ardour MIDI track 'Vocal'").
    :param live_note: added to the facts' notes when the DAW has the project open (its
        unsaved edits are not in the file).
    :param why_none: why the track has no notes, where the project knows (said in the note).
    """
    facts = replace(facts, project_file=str(project_file))
    if track is None:
        return facts
    if not notes:
        why = f": {why_none}" if why_none else ""
        return replace(facts, notes=facts.notes + (f"{source} has no notes (as last saved){why}: "
                                                   f"the melody is composed",))
    log.info("%s: the vocal melody from %s (%d notes)", facts.daw, source, len(notes))
    if live_note:
        facts = replace(facts, notes=facts.notes + (live_note,))
    return replace(facts, vocal_notes=tuple(notes), vocal_source=source)


def song_from_project(facts: SessionFacts, project_file: Path, *,
                      spec_path: Path | str | None = None, preset: str | None = None,
                      lyrics_file: Path | str | None = None, overrides=None,
                      find_lyrics: bool = True):
    """The :class:`~daw_bridge.session_spec.SessionSong` of a project file's ``facts`` (a
    DAW-exported MIDI file's too, ``ainur render --from-midi``): the lyrics from
    ``lyrics_file``, else (with ``find_lyrics``) the lyrics file beside ``project_file``
    (``<project>.lyrics.txt`` or ``lyrics.txt``); style, title, key, seed, output and
    per-section lyrics from the spec at ``spec_path`` (which may leave out ``title`` and
    ``sections``); ``overrides`` (the CLI flags) win over both.

    :raises SpecError: a project that cannot make a song, a bad spec or lyrics file.
    """
    from ainur_cli.errors import SpecError
    from ainur_cli.source import load_yaml
    from daw_bridge.lyrics import find_lyrics_file
    from daw_bridge.session_spec import song_from_facts

    doc = load_yaml(spec_path, SpecError) if spec_path is not None else None
    if lyrics_file is None and find_lyrics:
        lyrics_file = find_lyrics_file(project_file)
        if lyrics_file is not None:
            log.info("%s: lyrics from %s", project_file, lyrics_file)
    return song_from_facts(facts, base_doc=doc, preset=preset,
                           lyrics_file=Path(lyrics_file) if lyrics_file else None,
                           origin_file=str(project_file), overrides=overrides)
