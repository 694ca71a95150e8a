"""From DAW session facts to a validated ``SongSpec``: bars, sections, tempo map, lyrics.

Rules (README "From a DAW-exported MIDI file"):

* **Bars** are counted through the meter map from beat 0 (session bar 1). A meter change
  that is not on a bar line cuts the running bar short; the short bar becomes its own bar
  with a meter of the same length (2 beats of 4/4 → a 2/4 bar), so later bar lines stay exact.
* **Sections** run from one marker to the next; the marker's name gives the section's name
  and type (:func:`section_type`). A marker that is not on a bar line moves to the nearest
  bar line (the earlier one on a tie), with a warning naming the marker and its bar/beat.
  The song starts at the first marker (a count-in before it is not rendered; the stems
  belong at that marker) and ends at a marker named ``End`` (also ``Song End``, ``Fine``),
  else at a region's end, else at the session length rounded up to a bar line, else after
  the spec's bars for the last section, else 8 bars after the last marker.
  Without markers the spec's sections are used from bar 1; without those, one section
  ``Song`` covers the whole session.
* **Tempo**: ``SongSpec.tempo_map`` holds tempos at bar starts. A bar whose tempo changes
  inside it (a mid-bar change, a ramp) plays at the tempo that gives the bar its exact length
  in seconds, so every bar line (every section and stem boundary) lands exactly where the DAW
  has it; a warning gives the largest drift of an inner beat (from 1 ms on).
* **Lyrics**, per section, from the first source that has lines for it: the lyrics file
  (``[Section name]`` headers), the spec's ``lyrics:`` of the section with the same name, the
  DAW's timed lyric events inside the section, each word pinned to its event's position
  (``@BAR.BEAT+FRACTION``, song bars), so the melody sings it there; where the events carry
  the session's vocal notes, a line keeps them (:attr:`LyricText.topline
  <ainur_cli.spec_lyrics.LyricText>`) and the melody composer sings those notes.
* **The spec** supplies style (preset, ``style:``), title, key, seed, output and restyle, and
  per section (by name) energy, type, lyrics and ``harmony_lyrics``; its tempo and time signature are used only
  when the session has none. CLI flags win over everything. Without a key from the spec or
  the session, the key is left to :func:`ainur_cli.api.resolve_song`, which estimates it
  from the session's vocal notes when the lines carry them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence

from ainur_cli.errors import SpecError
from ainur_cli.source import Source
from ainur_cli.spec_lyrics import LyricText, ToplineNote, ToplineWord
from ainur_cli.spec import (
    MAX_SECTION_BARS,
    MAX_SECTIONS,
    SongSpec,
    bpm_fraction,
    parse_spec,
    section_kind,
)

from daw_bridge.facts import LyricEvent, Marker, MeterPoint, SessionFacts
from daw_bridge.session_bars import (
    Bar,
    bar_beat_text,
    bar_grid,
    ceil_bar,
    grow_bars,
    line_of,
    meters_per_bar,
    nearest_bar,
    section_spans,
    tempo_map_per_bar,
)
from daw_bridge.lyrics import TimedLine, assign_lyrics, normalize_name, pinned_line

log = logging.getLogger(__name__)

END_MARKER_NAMES = ("end", "song end", "end of song", "the end", "fine", "stop")
DEFAULT_LAST_SECTION_BARS = 8
_NUMBERING = re.compile(r"^\s*(?:[#(\[]?\s*\d+\s*[).:\]-]?\s*[-–:]?\s*)+(?=[^\W\d_])")


def section_type(name: str) -> str:
    """Section type of a marker name: "Verse 2" → verse, "CHORUS" → chorus, "pre-chorus",
    "01 - Intro" → intro, "[Bridge]" → bridge; unknown names → ``section``."""
    text = _NUMBERING.sub("", name).strip().strip("[]()").strip()
    return section_kind(text or name)


def is_end_marker(name: str) -> bool:
    """Whether a marker named ``name`` ends the song ("End", "SONG END", "Fine")."""
    return normalize_name(name).strip(" .!") in END_MARKER_NAMES


@dataclass(frozen=True)
class SessionSong:
    """A spec built from a session and where it sits in the session.

    :param start_beat: / ``end_beat``: session beats where the song starts and ends.
    :param start_s: session seconds of the song start (where the stems belong).
    :param start_bar: 1-based session bar of the song start.
    :param notes: warnings for the user (what was adjusted or assumed).
    :param info: what the user may like to know (sources used), not a problem.
    :param lyric_lines: ``(section index, line)`` for the DAW lyric lines that were used, with
        their (and their words') beats counted from the song start; the spec's lyrics hold
        the same lines with lyric pins (``@5.3 Walking @5.4 home``) at those positions.
    :param lyric_sources: per section: ``file``, ``spec``, ``daw`` or ``""`` (none).
    :param lyrics_file: the lyrics file that was read, if any.
    """

    spec: SongSpec
    start_beat: Fraction
    end_beat: Fraction
    start_s: Fraction
    notes: tuple[str, ...]
    start_bar: int = 1
    info: tuple[str, ...] = ()
    lyric_lines: tuple[tuple[int, TimedLine], ...] = ()
    lyric_sources: tuple[str, ...] = ()
    lyrics_file: str | None = None


def _base_doc_spec(raw: dict, src: Source, preset: str | None,
                   overrides: Mapping[str, Any] | None) -> tuple[SongSpec, list[int]]:
    """Validate the spec's own fields; it may leave out ``title``, ``sections`` and the
    sections' ``bars`` (the session's markers give them). Returns the spec and the indices of
    the sections that give no ``bars``."""
    trial = dict(raw)
    trial.setdefault("title", "session")
    if preset:
        trial["preset"] = preset
    no_bars: list[int] = []
    if isinstance(trial.get("sections"), list):
        sections = []
        for i, sec in enumerate(trial["sections"]):
            if isinstance(sec, dict) and sec.get("bars") is None:
                sec = {**sec, "bars": 1}
                no_bars.append(i)
            if isinstance(sec, dict) and sec.get("lyrics") is not None:
                # lyric pins count the session's song bars: checked once the markers give them
                sec = {**sec, "lyrics": _without_pins(sec["lyrics"])}
            sections.append(sec)
        trial["sections"] = sections
    if not trial.get("sections"):
        trial["sections"] = [{"name": "Song", "bars": 1}]
        for k in ("tempo_map", "time_signature"):  # bar numbers need the real sections
            if isinstance(trial.get(k), list):
                trial.pop(k)
    spec = parse_spec(trial, src, {k: v for k, v in (overrides or {}).items()
                                   if k not in ("tempo_bpm",)})
    return spec, no_bars


_PIN_TOKEN = re.compile(r"(?<!\S)@\d\S*\s*")


def _without_pins(value: Any) -> Any:
    """A raw ``lyrics:`` value with its lyric pins taken out (malformed values unchanged)."""
    if isinstance(value, str):
        return "\n".join(_PIN_TOKEN.sub("", ln) for ln in value.split("\n"))
    if isinstance(value, list):
        return [_without_pins(v) if isinstance(v, str) else
                ({"text": _without_pins(v["text"])} if isinstance(v, dict) and set(v) <= {"at", "text"}
                 and isinstance(v.get("text"), str) else v) for v in value]
    return value


def _raw_lyrics(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``{normalized section name: raw lyrics value}`` of a raw spec's sections (pins kept)."""
    out: dict[str, Any] = {}
    for sec in raw.get("sections") or ():
        if isinstance(sec, dict) and isinstance(sec.get("name"), str) and sec.get("lyrics"):
            out.setdefault(normalize_name(sec["name"]), sec["lyrics"])
    return out


def song_from_facts(
    facts: SessionFacts,
    *,
    base: SongSpec | None = None,
    base_doc: tuple[Any, Source] | None = None,
    preset: str | None = None,
    title: str | None = None,
    lyrics_file: Path | None = None,
    origin_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SessionSong:
    """Build a validated spec from ``facts`` (see the module docstring for the rules).

    :param base: a parsed song.yaml supplying style, title, key, seed, output and sections.
    :param base_doc: ``(raw document, Source)`` of a song.yaml that may leave out ``title``
        and ``sections`` (what ``--from-midi`` reads); errors in it name its lines.
    :param preset: style preset, over the spec's; ``overrides``: CLI flags, over everything.
    :param lyrics_file: a ``[Section]`` lyrics file; its lines win for the sections it names.
    :raises SpecError: when the session cannot make a song (no style, too many sections,
        too long), naming ``origin_file`` (or the DAW) and what is allowed.
    """
    notes: list[str] = list(facts.notes)
    info: list[str] = []
    spec_lyrics: dict[str, Any] = {}  # the spec's lyrics as written (pins kept), by section
    origin = origin_file or facts.origin
    overrides = dict(overrides or {})
    preset = overrides.get("preset") or preset
    # -- the spec's half: a raw document + a validated view of it ------------------------
    if base_doc is not None:
        raw_doc, src = base_doc
        if raw_doc is None:
            raw_doc = {}
        if not isinstance(raw_doc, dict):
            raise src.error((), "the spec must be a mapping of fields", type(raw_doc).__name__,
                            "preset, style, key, seed, output, sections...")
        if not (preset or raw_doc.get("preset")):
            raise src.error(("preset",), "a style is needed: the spec names no preset",
                            allowed="preset: NAME in the spec, or --preset NAME")
        raw = dict(raw_doc)
        has_sections = bool(raw.get("sections"))
        base, no_bars = _base_doc_spec(raw, src, preset, overrides)
        spec_lyrics = _raw_lyrics(raw)
    elif base is not None:
        raw, src, has_sections, no_bars = _base_raw(base), Source(file=origin), True, []
    else:
        if not preset:
            raise SpecError("a style is needed: give a preset or a song.yaml with one",
                            file=origin, field="preset", allowed="--preset NAME or a spec file")
        raw, src, has_sections, no_bars = {}, Source(file=origin), False, []
    if preset:
        raw["preset"] = preset

    # -- tempo and meter when the session has none ------------------------------------------
    spec_tempo = None
    if not facts.tempo_known and base is not None and (base_doc is None or raw.get("tempo_bpm")
                                                       is not None or raw.get("tempo_map")):
        if base.tempo_map is not None:
            spec_tempo = base.tempo_map
            notes = [n for n in notes if "no tempo" not in n]
            info.append("the MIDI file has no tempo: the spec's tempo is used")
    if not facts.meter_known and base is not None and base.meters is not None:
        points, beat, prev = [], Fraction(0), None
        for bar, num, den in base.meters:  # spec bars count from the session's bar 1
            if prev is not None:
                beat += (bar - prev[0]) * Fraction(prev[1] * 4, prev[2])
            points.append(MeterPoint(beat, num, den))
            prev = (bar, num, den)
        facts = replace(facts, meters=tuple(points), meter_known=True)
        info.append("the session has no time signature: the spec's is used, counted from bar 1")

    # -- where the song starts and ends -----------------------------------------------------
    markers = sorted(facts.markers, key=lambda m: m.beat)
    section_markers = [m for m in markers if not is_end_marker(m.name)]
    start = section_markers[0].beat if section_markers else Fraction(0)
    ends_after = [m.beat for m in markers if is_end_marker(m.name) and m.beat > start]
    end_marker = min(ends_after) if ends_after else None
    if end_marker is not None:
        late = [m for m in section_markers if m.beat >= end_marker]
        if late:
            notes.append(f"{len(late)} marker(s) after the 'End' marker are ignored: "
                         + ", ".join(repr(m.name) for m in late[:5]))
            section_markers = [m for m in section_markers if m.beat < end_marker]
    horizon = max([end_marker or 0, start, facts.length_beats or 0]
                  + [m.beat for m in markers]) + 8
    bars = bar_grid(facts, horizon, notes)
    tol = facts.grid_tolerance_beats

    def snap(beat: Fraction, what: str) -> int:
        i = nearest_bar(bars, beat)
        if abs(line_of(bars, i) - beat) > tol:
            notes.append(f"{what} at {bar_beat_text(bars, beat)} is not on a bar line: "
                         f"moved to bar {i + 1}")
        return i

    boundaries: list[tuple[int, str, int | None]] = []  # (start bar, name, explicit end bar)
    for n, m in enumerate(section_markers):
        name = re.sub(r"\s+", " ", m.name).strip()[:100] or f"Section {n + 1}"
        b = snap(m.beat, f"marker {name!r}")
        e = snap(m.end_beat, f"the end of region {name!r}") if m.end_beat is not None else None
        if boundaries and boundaries[-1][0] == b:
            if normalize_name(boundaries[-1][1]) != normalize_name(name):
                notes.append(f"markers {boundaries[-1][1]!r} and {name!r} fall on the same bar "
                             f"{b + 1}: {boundaries[-1][1]!r} is dropped")
            boundaries.pop()
        boundaries.append((b, name, e))
    end_bar: int | None = None
    region_ends = [e for _, _, e in boundaries if e is not None]
    if end_marker is not None:
        end_bar = snap(end_marker, "the 'End' marker")
    elif region_ends:
        end_bar = max(region_ends)
    elif facts.length_beats is not None and facts.length_beats > start:
        end_bar = ceil_bar(bars, facts.length_beats, tol)

    # -- sections -----------------------------------------------------------------------------
    base_sections = {normalize_name(s.name): s for s in (base.sections if base and has_sections
                                                        else ())}
    sections_raw: list[dict[str, Any]] = []
    start_bar = boundaries[0][0] if boundaries else 0
    if boundaries:
        for i, (b, name, e) in enumerate(boundaries):
            if i + 1 < len(boundaries):
                stop = boundaries[i + 1][0]
                if e is not None and e < stop:
                    notes.append(f"region {name!r} ends before the next one starts; the gap "
                                 f"until bar {stop + 1} is added to {name!r}")
            elif e is not None and e > b:
                stop = e
            elif end_bar is not None and end_bar > b:
                stop = end_bar
            else:
                prior = base_sections.get(normalize_name(name))
                stop = b + (prior.bars if prior else DEFAULT_LAST_SECTION_BARS)
                notes.append(f"the session does not say where {name!r} ends: it lasts "
                             f"{stop - b} bars (add an 'End' marker to choose)")
            sections_raw.append(_section_raw(name, stop - b, base_sections))
    elif has_sections and base is not None:
        if no_bars:
            raise src.error(("sections", no_bars[0], "bars"), "is required: the session has no "
                            "markers that could give the section's length",
                            allowed="an integer >= 1 and <= 256, or markers in the session")
        for s in base.sections:
            sections_raw.append({**_section_raw(s.name, s.bars, base_sections), "type": s.kind,
                                 "energy": s.energy})
        notes.append("the session has no markers: the spec's sections are used from bar 1")
    else:
        if end_bar is None or end_bar < 1:
            raise SpecError("the session has no markers and no length", file=origin,
                            field="markers", allowed="markers named like 'Intro', 'Verse 1', "
                            "'Chorus' (and 'End'), or a spec with sections")
        sections_raw.append({"name": "Song", "bars": end_bar, "type": "section"})
        notes.append(f"the session has no markers: the song is one section of {end_bar} bars "
                     f"(add markers named like 'Verse 1', 'Chorus' for sections)")
    _check_sections(sections_raw, origin)
    if boundaries and base_sections:
        used = {normalize_name(s["name"]) for s in sections_raw}
        unused = [s.name for k, s in base_sections.items() if k not in used]
        if unused:
            info.append("the spec's sections " + ", ".join(repr(n) for n in unused)
                        + " name no marker of the session and are not used")
    total_bars = sum(s["bars"] for s in sections_raw)
    grow_bars(facts, bars, start_bar + total_bars)
    song_bars = bars[start_bar:start_bar + total_bars]
    if start_bar > 0:
        notes.append(f"the song starts at the first marker, bar {start_bar + 1} of the session "
                     f"({float(facts.beat_to_seconds(song_bars[0].start_beat)):.3f} s): place "
                     f"the stems there (bars before it are not rendered)")

    # -- lyrics ---------------------------------------------------------------------------
    song_start = song_bars[0].start_beat
    sources, timed = _lyrics_into(sections_raw, section_spans(sections_raw, song_bars), facts,
                                  base_sections, spec_lyrics, lyrics_file, song_bars, notes,
                                  info)

    # -- tempo, meters, the rest of the spec ---------------------------------------------
    for k in ("tempo_bpm", "tempo_map", "time_signature", "sections"):
        raw.pop(k, None)
    if spec_tempo is not None:
        raw["tempo_map"] = [{"bar": b, "bpm": bpm} for b, bpm in spec_tempo if b <= total_bars]
        start_s = song_start * 60 / bpm_fraction(spec_tempo[0][1])
    else:
        raw["tempo_map"] = tempo_map_per_bar(facts, song_bars, notes)
        start_s = facts.beat_to_seconds(song_start)
    raw["time_signature"] = meters_per_bar(song_bars)
    raw["sections"] = sections_raw
    if not raw.get("title"):
        raw["title"] = (title or facts.title or "Untitled session")[:200]
    if raw.get("key") is None and facts.key:
        raw["key"] = facts.key
    if base_doc is not None:  # errors in what the session gave name the session
        for path in (("tempo_map",), ("time_signature",), ("sections",)):
            src.origins.setdefault(path, origin)
    for n in notes:
        log.debug("%s: %s", origin, n)
    spec = parse_spec(raw, src, overrides)  # checks the DAW lines' pins too
    spec = _with_timed_lines(spec, timed, song_bars)
    harmony = ((facts.harmony_source or "the session's harmony track", facts.harmony_notes),
               ) if facts.harmony_notes else ()
    if (facts.vocal_notes or harmony) and spec.melody is None:
        # without vocal notes the lead sings the lyric events' own notes (REAPER's)
        source = facts.vocal_source or (harmony[0][0] if not facts.vocal_notes
                                        else "the session's vocal track")
        spec = session_track_melody(spec, song_start, source, source, notes=facts.vocal_notes,
                                    harmony_notes=harmony)
        if facts.vocal_notes:
            info.append(f"the vocal sings the notes of {source} ({len(facts.vocal_notes)} "
                        f"notes)")
        if harmony:
            info.append(f"a harmony voice sings the lead's words on the notes of "
                        f"{harmony[0][0]} ({len(facts.harmony_notes)} notes)")
    song = SessionSong(spec, song_start, song_bars[-1].end_beat, start_s, tuple(notes),
                       start_bar + 1, tuple(info), tuple(timed), tuple(sources),
                       str(lyrics_file) if lyrics_file is not None else None)
    if harmony and facts.other_lyrics:  # the harmony track's own words (REAPER's lyrics)
        song = with_harmony_words(song, facts.other_lyrics,
                                  [a for a, *_ in facts.harmony_notes], harmony[0][0])
    return song


def with_harmony_words(song: SessionSong, other_lyrics: Sequence[tuple[int, LyricEvent]],
                       onsets: Sequence[Fraction], what: str) -> SessionSong:
    """``song`` with a backing part's own words (``other_lyrics``: ``(track, event)`` lyric
    events of other tracks than the lead's, session beats) as the ``harmony_lyrics`` of the
    sections the spec gives none: the events of the track that sits on the harmony's note
    ``onsets`` (session beats; :func:`daw_bridge.midi_import.lyric_track_on`), made into
    lines as the lead's events are (:func:`daw_bridge.lyrics.assign_lyrics`); ``what`` names
    the harmony in the info note. Unchanged without such a track."""
    from ainur_cli.plan import build_timeline, place_sections
    from daw_bridge.midi_import import lyric_track_on

    best = lyric_track_on(onsets, other_lyrics)
    if best is None:
        return song
    spec = song.spec
    spans = [(song.start_beat + p.start_beat, song.start_beat + p.end_beat)
             for p in place_sections(spec, build_timeline(spec, spec.output.sample_rate))]
    lines = assign_lyrics(sorted((e for t, e in other_lyrics if t == best), key=lambda e: e.beat),
                          spans)
    sections = [s if s.harmony_lyrics or not mine else
                replace(s, harmony_lyrics=tuple(ln.text for ln in mine))
                for s, mine in zip(spec.sections, lines)]
    given = [s.name for s, new in zip(spec.sections, sections) if new is not s]
    if not given:
        return song
    return replace(song, spec=replace(spec, sections=tuple(sections)), info=(
        *song.info, f"the lyric events of track {best} sit on {what}'s notes: they are its "
                    f"words in " + ", ".join(repr(n) for n in given)))


def session_track_melody(spec: SongSpec, song_start: Fraction, origin: str, path: str,
                         **fields: Any) -> SongSpec:
    """``spec`` singing its sections' lyrics on a session track's notes: a melody clip
    (:class:`~ainur_cli.spec.MelodySpec` ``path`` and ``fields``, read by
    :func:`ainur_cli.melody_file.with_melody`) whose beat 0 is the session's, ``song_start``
    beats before the song; errors about it name ``origin``."""
    from ainur_cli.spec import MelodySpec

    spec.source.origins[("melody",)] = origin
    return replace(spec, melody=MelodySpec(path, start_beat=-song_start, **fields))


def _lyrics_into(sections_raw: list[dict], spans: list[tuple[Fraction, Fraction]],
                 facts: SessionFacts, base_sections: Mapping[str, Any],
                 spec_lyrics: Mapping[str, Any], lyrics_file: Path | None,
                 song_bars: Sequence[Bar], notes: list[str], info: list[str],
                 ) -> tuple[list[str], list[tuple[int, TimedLine]]]:
    """Put each section's lyrics into ``sections_raw`` (lyrics file > spec > DAW events; the
    DAW's lines pinned where the session has them, see :func:`daw_bridge.lyrics.pinned_line`);
    returns the source per section and the DAW lines used, timed from the song start."""
    song_start = song_bars[0].start_beat
    file_blocks: dict[str, list[str]] = {}
    if lyrics_file is not None:
        from daw_bridge.lyrics import read_lyrics_file

        file_blocks = read_lyrics_file(lyrics_file, [s["name"] for s in sections_raw])
    song_events = [e for e in facts.lyrics if spans[0][0] <= e.beat < spans[-1][1]]
    dropped = len(facts.lyrics) - len(song_events)
    if dropped:
        notes.append(f"{dropped} lyric event(s) outside the song (before the first marker or "
                     f"after the end) are ignored")
    daw_lines = assign_lyrics(song_events, spans) if song_events else [[] for _ in spans]
    sources: list[str] = []
    timed: list[tuple[int, TimedLine]] = []
    for i, s in enumerate(sections_raw):
        key = normalize_name(s["name"])
        prior = base_sections.get(key)
        if file_blocks.get(key):
            s["lyrics"], src_name = "\n".join(file_blocks[key]), "file"
        elif prior is not None and prior.lyrics:
            s["lyrics"] = spec_lyrics.get(key, "\n".join(prior.lyrics))
            src_name = "spec"
        elif daw_lines[i]:
            s["lyrics"] = "\n".join(pinned_line(ln, song_bars) for ln in daw_lines[i])
            src_name = "daw"
            timed.extend((i, ln.shifted(-song_start)) for ln in daw_lines[i])
        else:
            src_name = ""
        sources.append(src_name)
        if daw_lines[i] and src_name in ("file", "spec"):
            info.append(f"section {s['name']!r}: the {src_name}'s lyrics are used instead of "
                        f"the session's lyric events")
    return sources, timed


def _with_timed_lines(spec: SongSpec, timed: Sequence[tuple[int, TimedLine]],
                      song_bars: Sequence[Bar]) -> SongSpec:
    """The spec with each DAW lyric line as a :class:`~ainur_cli.spec_lyrics.LyricText`: its words
    as the line's text, its pins (from the session's positions) carried beside them."""
    if not timed:
        return spec
    start = song_bars[0].start_beat
    by_section: dict[int, list[TimedLine]] = {}
    for i, ln in timed:
        by_section.setdefault(i, []).append(ln)
    sections = list(spec.sections)
    for i, lines in by_section.items():
        if len(lines) == len(sections[i].lyrics):
            sections[i] = replace(sections[i], lyrics=tuple(
                LyricText(ln.text, pinned_line(ln.shifted(start), song_bars), _topline(ln))
                for ln in lines))
    return replace(spec, sections=tuple(sections))


def _topline(line: TimedLine) -> tuple[ToplineWord, ...]:
    """The line's words with the session's vocal notes (beats from the song start, as
    ``line``'s), or ``()`` when no word has notes."""
    if not any(n for word in line.word_notes for n in word):
        return ()
    return tuple(
        ToplineWord(text, tuple(tuple(ToplineNote(float(n.start_beat), float(n.end_beat), n.pitch,
                                                  n.velocity) for n in group) for group in groups))
        for (_, text), groups in zip(line.words, line.word_notes))


def _section_raw(name: str, bars: int, base_sections: Mapping[str, Any]) -> dict[str, Any]:
    """A raw section; type, energy and harmony lyrics from the spec's section of the same
    name, if any."""
    out: dict[str, Any] = {"name": name, "bars": bars, "type": section_type(name)}
    prior = base_sections.get(normalize_name(name))
    if prior is not None:
        out["type"] = prior.kind
        out["energy"] = prior.energy
        if prior.harmony_lyrics:
            out["harmony_lyrics"] = list(prior.harmony_lyrics)
    return out


def _check_sections(sections: list[dict], origin: str) -> None:
    if len(sections) > MAX_SECTIONS:
        raise SpecError("the session has too many markers", file=origin, field="markers",
                        value=len(sections), allowed=f"at most {MAX_SECTIONS} sections")
    for s in sections:
        if s["bars"] > MAX_SECTION_BARS:
            raise SpecError(f"section {s['name']!r} is longer than a section may be", file=origin,
                            field="markers", value=f"{s['bars']} bars",
                            allowed=f"at most {MAX_SECTION_BARS} bars between two markers")


def _base_raw(base: SongSpec) -> dict:
    """The style half of a raw spec from a parsed one: title, preset, seed, key, style, output."""
    raw: dict[str, Any] = {"title": base.title, "preset": base.preset, "seed": base.seed}
    if base.key is not None:
        raw["key"] = base.key.name
    if base.style:
        raw["style"] = dict(base.style)
    out = {k: v for k, v in asdict(base.output).items() if v is not None}
    if "parts" in out:
        out["parts"] = list(out["parts"])
    if base.output.dir and base.file and not base.file.startswith("<"):
        d = Path(base.output.dir).expanduser()
        out["dir"] = str(d if d.is_absolute() else Path(base.file).resolve().parent / d)
    if base.output.soundfont and base.file and not base.file.startswith("<"):
        sf = Path(base.output.soundfont).expanduser()
        if not sf.is_absolute() and sf.suffix:
            out["soundfont"] = str(Path(base.file).resolve().parent / sf)
    raw["output"] = out
    if base.restyle is not None:
        r = asdict(base.restyle)
        r["prompts"] = dict(base.restyle.prompts)
        raw["restyle"] = {k: v for k, v in r.items() if v is not None}
    return raw


def markers_from_names(pairs: Sequence[tuple[str, float]]) -> tuple[Marker, ...]:
    """``[(name, beat), ...]`` → sorted markers (used by the OSC adapters)."""
    from daw_bridge.facts import as_fraction

    return tuple(sorted((Marker(as_fraction(b), str(n)) for n, b in pairs), key=lambda m: m.beat))


def kind_of(name: str) -> str:
    """Section kind of a marker name (kept for the adapters; see :func:`section_type`)."""
    return section_type(name)


__all__ = ["Bar", "SessionSong", "bar_grid", "is_end_marker", "kind_of",
           "markers_from_names", "section_type", "song_from_facts"]
