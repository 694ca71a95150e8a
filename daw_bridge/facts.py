"""What Ainur reads from a DAW session: tempo map, meters, markers, lyrics, length, tracks.

Every adapter (Ableton, REAPER, Ardour, a DAW-exported MIDI file) produces one
:class:`SessionFacts`. Positions are kept in **beats** (quarter notes from the session start,
as in MIDI and in Ableton's song time) as exact fractions; seconds are derived through the
tempo map, so nothing drifts however long the session is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

from ainur_cli.spec_lyrics import ToplineNote

Number = Union[int, float, Fraction]

#: Positions closer than this to a bar line are treated as on it (DAWs send floats).
ON_GRID_BEATS = Fraction(1, 1000)


def as_fraction(x: Number, max_denominator: int = 1 << 20) -> Fraction:
    """An exact fraction for ``x``; floats from a DAW are read as the nearest simple fraction."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    return Fraction(x).limit_denominator(max_denominator)


@dataclass(frozen=True)
class TempoPoint:
    """``tempo_bpm`` (quarter notes per minute) from ``beat`` on."""

    beat: Fraction
    tempo_bpm: Fraction


@dataclass(frozen=True)
class MeterPoint:
    """Time signature ``numerator/denominator`` from ``beat`` on (normally a bar line)."""

    beat: Fraction
    numerator: int
    denominator: int

    @property
    def bar_beats(self) -> Fraction:
        return Fraction(self.numerator * 4, self.denominator)


@dataclass(frozen=True)
class Marker:
    """A named position (locator, cue point, marker); ``end_beat`` is set for regions."""

    beat: Fraction
    name: str
    end_beat: Fraction | None = None


@dataclass(frozen=True)
class LyricEvent:
    """One lyric event (a syllable, word or line) at ``beat``.

    ``notes``: where the session has the vocal melody (a MIDI file whose lyric events sit on
    notes), the notes this syllable is sung on: the note at its beat, then the notes without
    a lyric event of their own that continue it (a melisma); empty otherwise. Their
    ``start_beat`` and ``end_beat`` are session beats (exact fractions), as ``beat`` is.
    """

    beat: Fraction
    text: str
    notes: tuple[ToplineNote, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class SessionFacts:
    """A DAW session as Ainur sees it.

    :param daw: ``ableton``, ``reaper``, ``ardour`` or ``midi``.
    :param origin: where the facts came from (a file path or ``udp://host:port``).
    :param tempo: tempo points, the first at beat 0, increasing beats.
    :param meters: meter points, the first at beat 0, increasing beats.
    :param markers: markers/locators/regions sorted by beat.
    :param lyrics: timed lyric events sorted by beat.
    :param length_beats: session length in beats when the DAW reports one.
    :param notes: what the adapter could not read exactly (shown to the user).
    :param tempo_known: False when the session gave no tempo and ``tempo`` is a default
        (a MIDI file without ``set_tempo``: 120 bpm by the MIDI standard).
    :param meter_known: False when the session gave no time signature (4/4 assumed).
    :param resolution_beats: the session's time grid (1/PPQ for a MIDI file); positions this
        close to a bar line count as on it. None: :data:`ON_GRID_BEATS`.
    """

    daw: str
    origin: str
    tempo: tuple[TempoPoint, ...]
    meters: tuple[MeterPoint, ...]
    markers: tuple[Marker, ...] = ()
    lyrics: tuple[LyricEvent, ...] = ()
    length_beats: Fraction | None = None
    track_names: tuple[str, ...] = ()
    title: str | None = None
    key: str | None = None
    smpte_offset_s: float | None = None
    notes: tuple[str, ...] = ()
    tempo_known: bool = True
    meter_known: bool = True
    resolution_beats: Fraction | None = None
    #: the session's own vocal melody, ``(start_beat, end_beat, pitch, velocity)`` in session
    #: beats (a project file's vocal MIDI track: an Ardour session's or a Live Set's, see
    #: :func:`daw_bridge.project_vocal.with_project_vocal`)
    vocal_notes: tuple[tuple[Fraction, Fraction, int, int], ...] = ()
    #: where ``vocal_notes`` come from, for messages ("the Live MIDI track 'Vocal'")
    vocal_source: str | None = None
    #: a written harmony of that melody (a project file's harmony MIDI track), as
    #: ``vocal_notes`` holds notes, and where it comes from
    harmony_notes: tuple[tuple[Fraction, Fraction, int, int], ...] = ()
    harmony_source: str | None = None
    #: the DAW's project file when known: a lyrics file beside it gives the sections' lyrics
    project_file: str | None = None
    #: a MIDI file's lyric events on other tracks than the sung one's (a backing part's own
    #: words): ``(1-based track, event)``, the events without notes, sorted by beat
    other_lyrics: tuple[tuple[int, LyricEvent], ...] = ()
    _starts_s: tuple = field(default=(), init=False, repr=False, compare=False)
    _tempo_beats: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tempo or self.tempo[0].beat != 0:
            raise ValueError("the tempo map must start at beat 0")
        if not self.meters or self.meters[0].beat != 0:
            raise ValueError("the meter map must start at beat 0")
        starts = [Fraction(0)]
        for a, b in zip(self.tempo, self.tempo[1:]):
            starts.append(starts[-1] + (b.beat - a.beat) * 60 / a.tempo_bpm)
        object.__setattr__(self, "_starts_s", tuple(starts))
        object.__setattr__(self, "_tempo_beats", tuple(t.beat for t in self.tempo))

    @property
    def grid_tolerance_beats(self) -> Fraction:
        """How far from a bar line a position may be and still count as on it."""
        return max(ON_GRID_BEATS, self.resolution_beats or Fraction(0))

    def tempo_points_between(self, start_beat: Number, end_beat: Number) -> tuple[TempoPoint, ...]:
        """Tempo points strictly inside ``(start_beat, end_beat)``."""
        lo = bisect.bisect_right(self._tempo_beats, as_fraction(start_beat))
        hi = bisect.bisect_left(self._tempo_beats, as_fraction(end_beat))
        return self.tempo[lo:hi]

    # -- conversions ----------------------------------------------------------------------
    def tempo_at(self, beat: Number) -> Fraction:
        i = max(bisect.bisect_right(self._tempo_beats, as_fraction(beat)) - 1, 0)
        return self.tempo[i].tempo_bpm

    def beat_to_seconds(self, beat: Number) -> Fraction:
        """Exact session seconds at ``beat``."""
        beat = as_fraction(beat)
        i = max(bisect.bisect_right(self._tempo_beats, beat) - 1, 0)
        t = self.tempo[i]
        return self._starts_s[i] + (beat - t.beat) * 60 / t.tempo_bpm

    def seconds_to_beat(self, seconds: Number) -> Fraction:
        """Inverse of :meth:`beat_to_seconds`."""
        seconds = as_fraction(seconds)
        i = max(bisect.bisect_right(self._starts_s, seconds) - 1, 0)
        t = self.tempo[i]
        return t.beat + (seconds - self._starts_s[i]) * t.tempo_bpm / 60


def constant_facts(daw: str, origin: str, tempo_bpm: Number, numerator: int = 4,
                   denominator: int = 4, **kwargs) -> SessionFacts:
    """Facts for a session with one tempo and one meter (what Live and OSC-only REAPER give)."""
    return SessionFacts(daw, origin, (TempoPoint(Fraction(0), as_fraction(tempo_bpm)),),
                        (MeterPoint(Fraction(0), int(numerator), int(denominator)),), **kwargs)


def clean_tempo(points: list[TempoPoint]) -> tuple[TempoPoint, ...]:
    """Sorted, one point per beat (the last wins), repeated tempos dropped, first at beat 0
    (120 bpm, the MIDI default, when nothing is given there)."""
    by_beat: dict[Fraction, Fraction] = {}
    for p in sorted(points, key=lambda p: p.beat):
        by_beat[p.beat] = p.tempo_bpm
    if Fraction(0) not in by_beat:
        first = min(by_beat) if by_beat else None
        by_beat[Fraction(0)] = by_beat[first] if first is not None and first <= 0 else Fraction(120)
    out: list[TempoPoint] = []
    for beat in sorted(b for b in by_beat if b >= 0):
        if out and out[-1].tempo_bpm == by_beat[beat]:
            continue
        out.append(TempoPoint(beat, by_beat[beat]))
    return tuple(out)


def clean_meters(points: list[MeterPoint]) -> tuple[MeterPoint, ...]:
    """Sorted, one per beat (the last wins), repeats dropped, 4/4 at beat 0 when none is."""
    by_beat: dict[Fraction, tuple[int, int]] = {}
    for p in sorted(points, key=lambda p: p.beat):
        by_beat[p.beat] = (p.numerator, p.denominator)
    if Fraction(0) not in by_beat:
        by_beat[Fraction(0)] = (4, 4)
    out: list[MeterPoint] = []
    for beat in sorted(b for b in by_beat if b >= 0):
        num, den = by_beat[beat]
        if out and (out[-1].numerator, out[-1].denominator) == (num, den):
            continue
        out.append(MeterPoint(beat, num, den))
    return tuple(out)
