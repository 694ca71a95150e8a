"""From DAW session facts to a validated ``SongSpec``: bars, sections, tempo map, lyrics.

Rules (documented in docs/daw.md):

* **Bars** are counted through the meter map from beat 0. A meter change that is not on a
  bar line cuts the running bar short; the short bar becomes its own bar with a meter of the
  same length (e.g. 2 beats of 4/4 → a 2/4 bar), so every later bar line stays exact.
* **Sections** run from one marker to the next. A marker that is not on a bar line is moved
  to the nearest bar line (the earlier one on a tie) and a note says so. The song starts at
  the first marker (what lies before it — count-in, pre-roll — is not rendered; the stems
  are placed at that marker) and ends at a marker named ``End`` (also ``Song End``, ``Fine``),
  else at the session length rounded up to a bar line, else after the last section's bars
  in the base spec, else 8 bars after the last marker. REAPER regions give explicit ends.
  Without markers the base spec's sections are used from beat 0.
* **Tempo**: ``SongSpec.tempo_map`` holds one tempo per bar. A bar whose tempo changes inside
  it gets the tempo that gives the bar its exact length in seconds, so every bar line (and
  every section and stem boundary) lands exactly where the DAW has it; a note gives the
  largest drift inside such a bar in milliseconds.
* **Lyrics**: a lyrics file (``[Section name]`` headers) wins over DAW lyric events, which win
  over the base spec's lyrics for a section of the same name.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

from ainur_cli.errors import SpecError
from ainur_cli.source import Source
from ainur_cli.spec import MAX_SECTION_BARS, SongSpec, parse_spec, section_kind
from ainur_cli.timeline import ALLOWED_DENOMINATORS

from daw_bridge.facts import ON_GRID_BEATS, Marker, SessionFacts
from daw_bridge.lyrics import assign_lyrics

log = logging.getLogger(__name__)

END_MARKER_NAMES = ("end", "song end", "end of song", "fine", "stop")
DEFAULT_LAST_SECTION_BARS = 8


@dataclass(frozen=True)
class Bar:
    """One bar of the session: ``start_beat``, its meter and its length in beats."""

    index: int
    start_beat: Fraction
    numerator: int
    denominator: int

    @property
    def beats(self) -> Fraction:
        return Fraction(self.numerator * 4, self.denominator)

    @property
    def end_beat(self) -> Fraction:
        return self.start_beat + self.beats


@dataclass(frozen=True)
class SessionSong:
    """A spec built from a session, where it starts in the session, and what was adjusted."""

    spec: SongSpec
    start_beat: Fraction
    end_beat: Fraction
    start_s: Fraction
    notes: tuple[str, ...]


def _short_meter(length: Fraction) -> tuple[int, int] | None:
    """A meter n/d whose bar lasts ``length`` beats, if one with an allowed d exists."""
    for den in ALLOWED_DENOMINATORS:
        num = length * den / 4
        if num.denominator == 1 and 1 <= num <= 32:
            return int(num), den
    return None


def bar_grid(facts: SessionFacts, end_beat: Fraction, notes: list[str]) -> list[Bar]:
    """Every bar from beat 0 until ``end_beat`` is covered (the last bar may end after it)."""
    bars: list[Bar] = []
    meters = list(facts.meters)
    mi = 0
    beat = Fraction(0)
    while beat < end_beat or not bars:
        while mi + 1 < len(meters) and meters[mi + 1].beat <= beat + ON_GRID_BEATS:
            mi += 1
        m = meters[mi]
        length = m.bar_beats
        nxt = meters[mi + 1].beat if mi + 1 < len(meters) else None
        num, den = m.numerator, m.denominator
        if nxt is not None and beat < nxt < beat + length - ON_GRID_BEATS:
            short = _short_meter(nxt - beat)
            if short is not None:
                num, den = short
                length = nxt - beat
                notes.append(f"the meter change to {meters[mi + 1].numerator}/"
                             f"{meters[mi + 1].denominator} at beat {float(nxt):g} is not on a bar "
                             f"line: bar {len(bars) + 1} becomes a {num}/{den} bar")
            else:
                notes.append(f"the meter change at beat {float(nxt):g} is not on a bar line and "
                             f"no meter fits the short bar; it starts at the next bar line")
        bars.append(Bar(len(bars), beat, num, den))
        beat += length
        if len(bars) > 100_000:
            raise SpecError("the session is too long", field="length", value=float(end_beat),
                            allowed="at most 20 minutes of music")
    return bars


def _nearest_bar(bars: Sequence[Bar], beat: Fraction) -> int:
    """Index of the bar line nearest to ``beat`` (the earlier one on a tie); may be len(bars)."""
    best, best_d = 0, None
    for i in range(len(bars) + 1):
        line = bars[i].start_beat if i < len(bars) else bars[-1].end_beat
        d = abs(line - beat)
        if best_d is None or d < best_d:
            best, best_d = i, d
        if line > beat:
            break
    return best


def _bbt(bars: Sequence[Bar], beat: Fraction) -> str:
    """``bar.beat`` (1-based, in quarter notes) for messages."""
    for b in bars:
        if b.start_beat <= beat < b.end_beat:
            return f"{b.index + 1}.{float(beat - b.start_beat + 1):g}"
    return f"beat {float(beat):g}"


def _is_end(name: str) -> bool:
    return name.strip().lower() in END_MARKER_NAMES


def song_from_facts(
    facts: SessionFacts,
    *,
    base: SongSpec | None = None,
    preset: str | None = None,
    title: str | None = None,
    lyrics_file: Path | None = None,
    origin_file: str | None = None,
) -> SessionSong:
    """Build a validated spec from ``facts``; style, key, seed and output come from ``base``
    (a parsed song.yaml) and/or ``preset``.

    :raises SpecError: when the session cannot make a song (no sections, too long, bad tempo),
        naming ``origin_file`` (or the DAW) and what is allowed.
    """
    notes: list[str] = list(facts.notes)
    origin = origin_file or facts.origin
    markers = sorted(facts.markers, key=lambda m: m.beat)
    section_markers = [m for m in markers if not _is_end(m.name)]
    end_markers = [m for m in markers if _is_end(m.name)]
    if base is None and preset is None:
        raise SpecError("a style is needed: give a preset or a song.yaml with one", file=origin,
                        field="preset", allowed="--preset NAME or a base spec")

    # Where the song starts and ends, in beats.
    if section_markers:
        start = section_markers[0].beat
    else:
        start = Fraction(0)
    end: Fraction | None = None
    ends_after = [m.beat for m in end_markers if m.beat > start]
    region_ends = [m.end_beat for m in section_markers if m.end_beat is not None]
    if ends_after:
        end = min(ends_after)
    elif region_ends:
        end = max(region_ends)
    elif facts.length_beats is not None and facts.length_beats > (section_markers[-1].beat
                                                                  if section_markers else 0):
        end = facts.length_beats
    horizon = max([end or 0, start] + [m.beat for m in markers]) + 64 * 8
    bars = bar_grid(facts, horizon, notes)

    # Marker → bar index (snapped).
    def snap(beat: Fraction, what: str) -> int:
        i = _nearest_bar(bars, beat)
        line = bars[i].start_beat if i < len(bars) else bars[-1].end_beat
        if abs(line - beat) > ON_GRID_BEATS:
            notes.append(f"{what} at {_bbt(bars, beat)} is not on a bar line: moved to bar {i + 1}")
        return i

    boundaries: list[tuple[int, str, int | None]] = []  # (start bar, name, explicit end bar)
    if section_markers:
        for n, m in enumerate(section_markers):
            name = m.name.strip() or f"Section {n + 1}"
            b = snap(m.beat, f"marker {name!r}")
            e = snap(m.end_beat, f"the end of region {name!r}") if m.end_beat is not None else None
            if boundaries and boundaries[-1][0] == b:
                notes.append(f"markers {boundaries[-1][1]!r} and {name!r} fall on the same bar "
                             f"{b + 1}: {boundaries[-1][1]!r} is dropped")
                boundaries.pop()
            boundaries.append((b, name, e))
    start_bar = boundaries[0][0] if boundaries else 0
    if end is not None:
        end_bar = snap(end, "the song end") if ends_after else _ceil_bar(bars, end)
    else:
        end_bar = None

    base_sections = {s.name.lower(): s for s in (base.sections if base else ())}
    sections_raw: list[dict[str, Any]] = []
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
                prior = base_sections.get(name.lower())
                stop = b + (prior.bars if prior else DEFAULT_LAST_SECTION_BARS)
                notes.append(f"the session does not say where {name!r} ends: it lasts "
                             f"{stop - b} bars (add an 'End' marker to choose)")
            sections_raw.append({"name": name[:100], "bars": stop - b})
    elif base is not None:
        for s in base.sections:
            sections_raw.append({"name": s.name, "bars": s.bars, "type": s.kind})
        notes.append("the session has no markers: the sections of the base spec are used")
    else:
        raise SpecError("the session has no markers and no base spec gives sections",
                        file=origin, field="markers",
                        allowed="markers named like 'Intro', 'Verse 1', 'Chorus' (and 'End'), "
                                "or a song.yaml with sections")
    for s in sections_raw:
        if s["bars"] > MAX_SECTION_BARS:
            raise SpecError(f"section {s['name']!r} is longer than a section may be", file=origin,
                            field="markers", value=f"{s['bars']} bars",
                            allowed=f"at most {MAX_SECTION_BARS} bars between two markers")
    total_bars = sum(s["bars"] for s in sections_raw)
    while len(bars) < start_bar + total_bars:
        bars.extend(bar_grid(facts, bars[-1].end_beat + 4 * (start_bar + total_bars - len(bars)),
                             [])[len(bars):])
    song_bars = bars[start_bar:start_bar + total_bars]

    # Lyrics: base spec by name, then DAW events, then the lyrics file.
    for s in sections_raw:
        prior = base_sections.get(s["name"].lower())
        if prior is not None and prior.lyrics:
            s["lyrics"] = "\n".join(prior.lyrics)
    spans = _section_spans(sections_raw, song_bars)
    if facts.lyrics:
        song_lyrics = [e for e in facts.lyrics if spans[0][0] <= e.beat < spans[-1][1]]
        for s, lines in zip(sections_raw, assign_lyrics(song_lyrics, spans)):
            if lines:
                s["lyrics"] = "\n".join(lines)
        dropped = len(facts.lyrics) - len(song_lyrics)
        if dropped:
            notes.append(f"{dropped} lyric events outside the song (before the first marker or "
                         f"after the end) are ignored")
    if lyrics_file is not None:
        from daw_bridge.lyrics import read_lyrics_file

        blocks = read_lyrics_file(lyrics_file, [s["name"] for s in sections_raw])
        for s in sections_raw:
            if s["name"].lower() in blocks:
                s["lyrics"] = "\n".join(blocks[s["name"].lower()])

    raw = _base_raw(base, preset, title or facts.title, facts.key)
    raw["tempo_map"] = _tempo_map(facts, song_bars, notes)
    raw["time_signature"] = _meters(song_bars)
    raw["sections"] = sections_raw
    for n in notes:
        log.info("%s: %s", origin, n)
    spec = parse_spec(raw, Source(file=origin))
    start_beat = song_bars[0].start_beat
    return SessionSong(spec, start_beat, song_bars[-1].end_beat, facts.beat_to_seconds(start_beat),
                       tuple(notes))


def _ceil_bar(bars: Sequence[Bar], beat: Fraction) -> int:
    """The first bar line at or after ``beat`` (within the on-grid tolerance)."""
    for b in bars:
        if b.start_beat >= beat - ON_GRID_BEATS:
            return b.index
    return len(bars)


def _section_spans(sections: list[dict], bars: Sequence[Bar]) -> list[tuple[Fraction, Fraction]]:
    spans, i = [], 0
    for s in sections:
        spans.append((bars[i].start_beat, bars[i + s["bars"] - 1].end_beat))
        i += s["bars"]
    return spans


def _tempo_map(facts: SessionFacts, bars: Sequence[Bar], notes: list[str]) -> list[dict]:
    """One tempo per bar (1-based bars of the song); bars with inner changes are averaged."""
    out: list[dict] = []
    for n, b in enumerate(bars):
        t0, t1 = facts.beat_to_seconds(b.start_beat), facts.beat_to_seconds(b.end_beat)
        bpm = b.beats * 60 / (t1 - t0)
        inner = [t for t in facts.tempo if b.start_beat < t.beat < b.end_beat]
        if inner:
            drift = max(abs(facts.beat_to_seconds(t.beat) - (t0 + (t.beat - b.start_beat) * 60 / bpm))
                        for t in inner)
            notes.append(f"bar {n + 1} has {len(inner)} tempo change(s) inside it (first at beat "
                         f"{float(inner[0].beat):g}); it plays at {float(bpm):.4f} bpm so its bar "
                         f"lines stay exact (largest drift inside it: {float(drift) * 1000:.1f} ms)")
        value = float(bpm)
        if not out or out[-1]["bpm"] != value:
            out.append({"bar": n + 1, "bpm": value})
    return out


def _meters(bars: Sequence[Bar]) -> list[dict]:
    out: list[dict] = []
    for n, b in enumerate(bars):
        sig = f"{b.numerator}/{b.denominator}"
        if not out or out[-1]["signature"] != sig:
            out.append({"bar": n + 1, "signature": sig})
    return out


def _base_raw(base: SongSpec | None, preset: str | None, title: str | None,
              key: str | None) -> dict:
    """The style half of a raw spec: title, preset, seed, key, style, output."""
    raw: dict[str, Any] = {}
    if base is not None:
        raw["title"] = base.title
        raw["preset"] = base.preset
        raw["seed"] = base.seed
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
        raw["output"] = out
    if preset:
        raw["preset"] = preset
    if title and (base is None or not base.title):
        raw["title"] = title[:200]
    raw.setdefault("title", "Untitled session")
    if key and "key" not in raw:
        raw["key"] = key
    return raw


def markers_from_names(pairs: Sequence[tuple[str, float]]) -> tuple[Marker, ...]:
    """``[(name, beat), ...]`` → sorted markers (used by the OSC adapters)."""
    from daw_bridge.facts import as_fraction

    return tuple(sorted((Marker(as_fraction(b), str(n)) for n, b in pairs), key=lambda m: m.beat))


def kind_of(name: str) -> str:
    """Section kind of a marker name (the spec layer's rule)."""
    return section_kind(name)

