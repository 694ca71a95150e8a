"""The melody composer: every lyric syllable gets one note that fits the chord and the key.

Per section with lyrics:

1. **Phrasing** — each line gets a slot of whole bars (a line per bar, per 2 or per 4 bars,
   as the bars divide; beat groups when there are more lines than bars). When a line would
   need sixteenths in an equal share while others have room, bars are shared out by
   syllable count instead. Each slot ends with half a beat of breath.
2. **Rhythm** — :func:`ainur_cli.compose.rhythm.place_syllables` on an eighth-note grid,
   at a conversational pace (about :data:`~ainur_cli.compose.rhythm.SUNG_SYLLABLE_S` a
   syllable at the section's tempo, never faster than the grid; one-syllable function words
   count as unstressed, :data:`UNSTRESSED_WORDS`) with the line's last note held (at most
   the style's ``vocals.line_end_beats``, a section's last line ``vocals.section_end_beats``)
   and a rest before the next line;
   a line that does not fit is sung in sixteenths (a warning in ``metadata['warnings']``),
   then without the breath; if it still does not fit, a :class:`SpecError` names the
   section and line. Lyrics are never dropped.
3. **Pitch** — a Viterbi path over the singer's range: chord tones on strong beats and
   stressed syllables, scale steps between, small intervals and repeated notes (a sung line
   recites on one pitch about a quarter of the time:
   :data:`~ainur_cli.compose.pitch.SUNG_REPEAT_COST`), a contour (arch, rise, fall or
   wave) per line, each line ending on a chord tone and each section's last line on the
   chord's root. Choruses sit a few semitones higher than verses.
4. **Repeats** — a line sung again with the same text, slot and chords gets the same rhythm
   and pitches; with the same rhythm but transposed chords it is transposed; lines with the
   same stress pattern share their rhythm (parallel phrases).

**Pins** (``@BAR.BEAT+FRACTION`` before a line's or a word's first syllable, see
:func:`ainur_cli.spec_lyrics.pin_segments`): a pinned line's slot starts at its pin, the unpinned
lines after it share the room up to the next pinned line as in step 1, and the rhythm keeps
every pinned syllable exactly on its pin (off-grid pins join the grid; swing is undone for
them, so they land on the pin after :func:`ainur_cli.compose.feel.apply_feel`). A section
without pins is composed exactly as without this feature.

**The producer's own melody** (a DAW-exported MIDI file whose lyric events sit on notes, see
:mod:`daw_bridge.midi_import`, or the spec's ``melody:`` clip, :mod:`ainur_cli.melody_file`):
such a line (:attr:`LyricLine.topline`) is sung on the given notes, at their beats, lengths,
pitches and velocities, untouched by swing (a note shorter than the voice's shortest joins
the syllable's note before it): each
word's syllables go on its lyric events' notes when the DAW split the word as the dictionary
does (``Wal-`` ``king``), else one note each from the word's first, the last syllable holding
the rest (a melisma); a word with fewer notes than syllables shares out its last note. A line
whose words do not match its notes is composed from its pins instead, with a warning.

The singer's range follows ``parts.lead.octave``: octave 4 → A3..E5, octave 3 → A2..E4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from ainur_cli.compose.context import Context, velocity
from ainur_cli.compose.lyrics import LyricLine, parse_lyrics, respellings, syllabify_word, words_of
from ainur_cli.compose.meter import EPS, swing_time
from ainur_cli.compose.pitch import SUNG_REPEAT_COST, choose_pitches, clashes, nearest_allowed
from ainur_cli.compose.rhythm import (SUNG_SYLLABLE_S, durations, line_end_holds,
                                      place_syllables, slot_grid, with_points)
from ainur_cli.compose.seeds import rng_for
from ainur_cli.compose.types import Note
from ainur_cli.errors import SpecError
from ainur_cli.spec_lyrics import PIN_SYNTAX, LyricPin, ToplineNote

BREATH_BEATS = 0.5
# One-syllable function words: unstressed in speech, so set on weak positions (pickups,
# off-beats) and the content words on the strong beats. The dictionary stresses them all.
UNSTRESSED_WORDS = frozenset("""
a an the and but or nor so as at by for from in into of on onto to with
i me my we us our you your he him his she her it its they them their
is am are was were be been do does did has have had can will would could should shall
that this than then if when
i'm i'll i've i'd you're you'll we're we'll they're it's that's
""".split())
STEPS = (0.5, 0.25)
#: A session note shared out among a word's syllables gives each at least this long (s).
MIN_SHARED_NOTE_S = 0.06
KIND_LIFT = {"chorus": 4, "post-chorus": 3, "pre-chorus": 2, "bridge": 3, "drop": 4, "outro": 0}


@dataclass
class Melody:
    """The sung melody: notes, warnings, one metadata entry per line, and the opening bars
    of the first chorus as ``(offset, length, pitch)`` (for the instrumental hook)."""

    notes: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    chorus_motif: list[tuple[float, float, int]] = field(default_factory=list)
    #: indices into ``notes`` of the session's own notes (sung where they are: no swing)
    exact: set[int] = field(default_factory=set)


def singer_range(octave: int) -> tuple[int, int]:
    """MIDI range of the lead: from the A below ``octave``'s C up 19 semitones."""
    low = 12 * (octave + 1) - 3
    return low, low + 19


class MelodyComposer:
    """Composes the lead melody of a whole song (see the module docstring).

    :param spec_file: named in errors about lyrics that cannot be sung.
    :param lyric_lines: (section index, lyric line number from 1) → line of ``spec_file``
        where that lyric line is written; (section index, 0) → the line of its ``lyrics``
        field (:func:`ainur_cli.spec_lyrics.lyric_file_lines`). Errors name that line.
    """

    def __init__(self, ctx: Context, spec_file: str | None = None,
                 lyric_lines: Mapping[tuple[int, int], int] | None = None) -> None:
        self.ctx = ctx
        self.spec_file = spec_file
        self.lyric_lines = dict(lyric_lines or {})
        # How long a line's last note is held at most (beats): the style's vocal phrasing;
        # a section's last line may hold longer (a cadence) than the lines before it.
        self.line_end_beats, self.section_end_beats = line_end_holds(ctx.style.vocals)
        self.low, self.high = singer_range(ctx.style.lead.octave)
        self.scale = frozenset(ctx.key.scale_pcs)
        self._rhythms: dict = {}
        self._pitches: dict = {}
        self._by_text: dict = {}

    def compose(self) -> Melody:
        out = Melody()
        line_index = 0
        for s in self.ctx.sections:
            if not s.lyrics:
                continue
            try:
                lines = parse_lyrics(s.lyrics)
            except ValueError as e:  # a bad pin (the spec refuses them; sections built in code)
                raise SpecError(f"section '{s.name}': the lyric pin {e.args[1]}",
                                file=self.spec_file, field=f"sections[{s.index}].lyrics",
                                value=e.args[0], allowed=PIN_SYNTAX) from None
            for j, line in enumerate(lines):
                if not line.syllables:
                    raise self._line_error(
                        s, j, f"section '{s.name}', lyric line {j + 1} has nothing singable (no "
                        f"letters or numbers)", line.text, "words, letters or numbers")
                for written, sung in respellings(line.text):
                    out.warnings.append(
                        f"section '{s.name}', lyric line {j + 1}: {written!r} is sung as {sung!r} "
                        "(the voice sings English; write it in Latin letters to choose how)"
                        if sung else f"section '{s.name}', lyric line {j + 1}: {written!r} is "
                        "not sung (nothing in it the voice can say)")
            if any(ln.pins for ln in lines):
                slots, forced = self._pinned_slots(s, lines)
            else:
                slots, forced = self._slots(s, lines), [{} for _ in lines]
            for j, (line, (a, b)) in enumerate(zip(lines, slots)):
                notes, meta = self._sing(s, j, line, a, b, line_index, final=j == len(lines) - 1,
                                         forced=forced[j])
                if meta.get("topline"):
                    out.exact.update(range(len(out.notes), len(out.notes) + len(notes)))
                out.notes += notes
                out.lines.append(meta)
                if meta.get("warning"):
                    out.warnings.append(meta["warning"])
                line_index += 1
            if s.kind == "chorus" and not out.chorus_motif:
                start = float(s.start_beat)
                out.chorus_motif = [(n.start_beat - start, n.duration_beats, n.pitch)
                                    for n in out.notes if n.start_beat >= start - EPS]
        self._one_voice(out)
        return out

    def _one_voice(self, out: Melody) -> None:
        """A given note held past its section into a composed line ends where that line's
        first note starts (one voice sings one note at a time).

        :raises SpecError: a composed line that starts together with a given note (two
            lyric events on one note of the session).
        """
        order = sorted(range(len(out.notes)), key=lambda i: out.notes[i].start_beat)
        dropped: set[int] = set()
        for a, b in zip(order, order[1:]):
            first, then = out.notes[a], out.notes[b]
            if not (a in out.exact or b in out.exact) or \
                    first.start_beat + first.duration_beats <= then.start_beat + EPS:
                continue
            cut = then.start_beat - first.start_beat
            if cut < EPS or self._seconds(first.start_beat, then.start_beat) < _min_note_s():
                if first.lyric == "" and a in out.exact:
                    dropped.add(a)  # a melisma note with no room left: the syllable ends before
                    continue
                meta = out.lines[max(first.line_index, then.line_index)]
                s = self.ctx.sections[meta["section"]]
                raise self._line_error(
                    s, meta["line"], f"section '{s.name}', lyric line {meta['line'] + 1} starts "
                    f"({self._where(then.start_beat)}) on a note the session gives another "
                    f"line's syllable", meta["text"],
                    "one lyric event per note of the vocal melody")
            out.notes[a] = replace(first, duration_beats=cut)
        # a given melisma note after a later line has begun (a melisma mark over another
        # line's syllable) is not sung: each line's notes come before the next line's
        later_start: dict[int, float] = {}
        for n in out.notes:
            later_start[n.line_index] = min(later_start.get(n.line_index, n.start_beat), n.start_beat)
        for i in out.exact:
            n = out.notes[i]
            nxt = [t for li, t in later_start.items() if li > n.line_index]
            if n.lyric == "" and nxt and n.start_beat >= min(nxt) - EPS:
                dropped.add(i)
        if dropped:
            keep = [i for i in range(len(out.notes)) if i not in dropped]
            out.exact = {k for k, i in enumerate(keep) if i in out.exact}
            out.notes = [out.notes[i] for i in keep]

    # -- phrasing -------------------------------------------------------------------------
    def _slots(self, s, lines: tuple[LyricLine, ...]) -> list[tuple[float, float]]:
        """A ``(start, end)`` slot per line: whole bars when there are enough, else beat groups;
        shared equally, or by syllable count when that makes fewer lines crowded."""
        bars = self.ctx.section_bars(s)
        count = len(lines)
        groups = [(b.start + o, b.start + o + g) for b in bars for o, g in b.groups]
        if count > len(groups):
            raise SpecError(
                f"section '{s.name}' has {count} lyric lines but only {len(groups)} beats to sing them in",
                file=self.spec_file, line=self.lyric_lines.get((s.index, 0)),
                field=f"sections[{s.index}].lyrics", value=count,
                allowed=f"at most {len(groups)} lines here; add bars or split the section")
        return self._share(lines, [(b.start, b.end) for b in bars], groups)

    def _pin_beat(self, s, j: int, pin: LyricPin) -> float:
        """The song beat of a pin of line ``j`` of section ``s`` (checked against its meter)."""
        first, last = s.start_bar + 1, s.start_bar + s.bars
        if not first <= pin.bar <= last:
            raise self._line_error(s, j, f"section '{s.name}', lyric line {j + 1}: the pin "
                                   f"{pin.text()} is outside the section", pin.text(),
                                   f"bars {first}..{last} (song bars, counted from 1)")
        bar = self.ctx.bars[pin.bar - 1]
        if pin.beat > bar.numerator:
            raise self._line_error(s, j, f"section '{s.name}', lyric line {j + 1}: the pin "
                                   f"{pin.text()} names beat {pin.beat} of a "
                                   f"{bar.numerator}/{bar.denominator} bar", pin.text(),
                                   f"beats 1..{bar.numerator}")
        return bar.start + float((pin.beat - 1 + pin.offset) * Fraction(4, bar.denominator))

    def _pinned_slots(self, s, lines: tuple[LyricLine, ...]) -> tuple[list, list[dict]]:
        """Slots when lines or words are pinned: a pinned line's slot starts at its pin; the
        unpinned lines after it (or before the first pin) share the room up to the next
        pinned line (or the section's end) as :meth:`_slots` shares a section. Also returns,
        per line, ``{syllable index: beat}`` of its pinned syllables."""
        beats = [[(k, self._pin_beat(s, j, p)) for k, p in ln.pins] for j, ln in enumerate(lines)]
        for j, pins in enumerate(beats):
            for (_, x), (_, y) in zip(pins, pins[1:]):
                if y <= x + EPS:  # the spec refuses these; sections built in code may not
                    raise self._pin_error(s, j, lines[j], "its pins are not in increasing order",
                                          "pins in song order")
        starts = [pins[0][1] if pins and pins[0][0] == 0 else None for pins in beats]
        heads = [j for j in range(len(lines)) if j == 0 or starts[j] is not None]
        bars = self.ctx.section_bars(s)
        section_start, section_end = float(s.start_beat), float(s.end_beat)
        slots: list[tuple[float, float]] = []
        for h, head in enumerate(heads):
            group = lines[head: heads[h + 1] if h + 1 < len(heads) else len(lines)]
            a = starts[head] if starts[head] is not None else section_start
            b = starts[heads[h + 1]] if h + 1 < len(heads) else section_end
            if b <= a + EPS or self._seconds(a, b) < _min_note_s():
                raise self._pin_error(s, head, lines[head], "the next pin leaves it no room",
                                      "move the next line's pin later or drop it")
            if len(group) == 1:
                slots.append((a, b))
                continue
            units = [(max(x.start, a), min(x.end, b)) for x in bars if x.end > a + EPS and x.start < b - EPS]
            groups = [(max(x.start + o, a), min(x.start + o + g, b)) for x in bars for o, g in x.groups
                      if x.start + o + g > a + EPS and x.start + o < b - EPS]
            if len(group) > len(groups):
                raise self._pin_error(s, head, lines[head], f"it and the {len(group) - 1} unpinned "
                                      f"line(s) after it have only {len(groups)} beats before the "
                                      f"next pin", "pin the lines after it, or move the next pin later")
            slots += self._share(group, units if len(group) <= len(units) else [], groups)
        forced: list[dict] = []
        for j, (pins, (a, b)) in enumerate(zip(beats, slots)):
            first = [sum(len(w.syllables) for w in lines[j].words[:k]) for k, _ in pins]
            out = {}
            for i, (k, x) in zip(first, pins):
                if not a - EPS <= x < b - EPS:
                    raise self._pin_error(s, j, lines[j], f"the pin {lines[j].pins[len(out)][1].text()} "
                                          f"is outside the line's place (beats {a:g}..{b:g})",
                                          "pin the line's first word too, or move the pin")
                out[i] = x
            forced.append(out)
        return slots, forced

    def _line_error(self, s, j: int, message: str, value, allowed: str) -> SpecError:
        """An error about lyric line ``j`` (0-based) of section ``s``, located at that line of
        the spec file when it is known."""
        return SpecError(message, file=self.spec_file, line=self.lyric_lines.get((s.index, j + 1)),
                         field=f"sections[{s.index}].lyrics", value=value, allowed=allowed)

    def _pin_error(self, s, j: int, line: LyricLine, why: str, allowed: str) -> SpecError:
        pins = " ".join(p.text() for _, p in line.pins) or "(none)"
        return self._line_error(s, j, f"section '{s.name}', lyric line {j + 1} (pins {pins}): {why}",
                                line.text, allowed)

    def _share(self, lines, bar_units: list, groups: list) -> list[tuple[float, float]]:
        """Share whole bars (when there are enough) or beat groups among ``lines``."""
        count = len(lines)
        syllables = [len(ln.syllables) for ln in lines]
        options = []
        for units in (bar_units if count <= len(bar_units) else [], groups):
            if not units:
                continue
            equal = [len(units) // count + (1 if j < len(units) % count else 0) for j in range(count)]
            options.append((self._fit_score(units, equal, syllables), len(options), units, equal))
            share = _proportional(len(units), syllables)
            options.append((self._fit_score(units, share, syllables), len(options), units, share))
        _, _, units, sizes = min(options, key=lambda o: (o[0], o[1]))
        out, k = [], 0
        for size in sizes:
            out.append((units[k][0], units[k + size - 1][1]))
            k += size
        return out

    def _fit_score(self, units, sizes, syllables) -> tuple[int, int]:
        """(lines that cannot be sung, lines that need sixteenths) with these slot sizes."""
        k, impossible, crowded = 0, 0, 0
        for size, n in zip(sizes, syllables):
            a, b = units[k][0], units[k + size - 1][1]
            eighths = slot_grid(self.ctx.bars, a, b, STEPS[0]).positions
            if n > int(np.count_nonzero(eighths < b - _breath(b - a) - EPS)):
                crowded += 1
                if n > len(slot_grid(self.ctx.bars, a, b, STEPS[1]).positions):
                    impossible += 1
            k += size
        return impossible, crowded

    # -- one line -------------------------------------------------------------------------
    def _sing(self, s, j: int, line: LyricLine, a: float, b: float, line_index: int,
              final: bool, forced: dict | None = None) -> tuple[list[Note], dict]:
        syl = line.syllables
        n = len(syl)
        warning = None
        onsets = None
        topline_warning = None
        if line.topline:
            sung, why, harmony = self._topline_notes(s, j, line, line_index)
            if sung is not None:
                return sung, {**self._line_meta(s, j, line, line_index, a, b, 0.0, False),
                              "topline": True, "pins": [p.text() for _, p in line.pins],
                              **({"harmony": harmony} if harmony else {})}
            topline_warning = (f"section '{s.name}', lyric line {j + 1}: {why}; the line is "
                               f"sung from its lyric positions on a composed melody")
        for step, breath in ((STEPS[0], _breath(b - a)), (STEPS[1], _breath(b - a)), (STEPS[1], 0.0)):
            grid = slot_grid(self.ctx.bars, a, b, step)
            span_end = b - breath
            if forced:
                grid = with_points(grid, list(forced.values()))
                onsets = self._forced_rhythm(line, grid, a, span_end, forced)
                if onsets is not None:
                    break
            elif n <= int(np.count_nonzero(grid.positions < span_end - EPS)):
                break
        else:
            most = int(np.count_nonzero(grid.positions < b - EPS))
            if forced and line.soft_pins and line.line_pin is not None and len(forced) > 1:
                notes, meta = self._sing(s, j, line, a, b, line_index, final, {0: forced[0]})
                meta["warning"] = (f"section '{s.name}', lyric line {j + 1}: its {n} syllables do "
                                   f"not fit the session's word positions; only the line's start "
                                   f"({line.line_pin.text()}) is kept")
                return notes, meta
            if forced:
                raise self._pin_error(
                    s, j, line, f"its {n} syllables do not fit between its pins and the end of "
                    f"its place (beats {a:g}..{b:g}) even in sixteenth notes",
                    f"at most {most} syllables there: move the next pin later, this pin earlier, "
                    f"spread the pins, or shorten the line")
            raise self._line_error(
                s, j, f"section '{s.name}', lyric line {j + 1} has {n} syllables: too many to sing "
                f"in its {b - a:g} beats even in sixteenth notes", line.text,
                f"at most {most} syllables for this line here; add bars to the section or move "
                f"words to another line")
        if step < STEPS[0]:
            warning = (f"section '{s.name}', lyric line {j + 1} ({n} syllables in {b - a:g} beats) is "
                       f"sung in sixteenth notes{'' if breath else ' without a breath'}; add bars or "
                       f"shorten the line to sing it comfortably")
        if onsets is None:
            onsets = self._rhythm(line, grid, a, span_end)
        hold = self.section_end_beats if final else self.line_end_beats
        lengths = durations(onsets, span_end, step, hold)
        if forced and self._shortest_swung_s(onsets, lengths) < _min_note_s():
            if line.soft_pins and line.line_pin is not None and len(forced) > 1:
                notes, meta = self._sing(s, j, line, a, b, line_index, final, {0: forced[0]})
                meta["warning"] = (f"section '{s.name}', lyric line {j + 1}: the session's word "
                                   f"positions leave a syllable too short to sing; only the "
                                   f"line's start ({line.line_pin.text()}) is kept")
                return notes, meta
            raise self._pin_error(s, j, line, f"its pins leave a syllable shorter than "
                                  f"{_min_note_s() * 1000:.0f} ms", "spread the pins")
        pitches = self._pitches_for(s, line, onsets, grid, a, final)
        ctx = self.ctx
        notes: list[Note] = []
        rng = rng_for(ctx.seed, "melisma", line.text.lower(), round(b - a, 4))
        texts = lyric_texts(line.words)
        for k, (t, d, p, sy) in enumerate(zip(onsets, lengths, pitches, syl)):
            vel = velocity(ctx.style.lead.velocity, s.energy, 1.0 if sy.stress == 1 else 0.88)
            if k == n - 1 and d >= 2.0 - EPS and rng.random() < 0.6:
                first = max(1.0, (d / 2) // 0.5 * 0.5)
                second = self._melisma_pitch(p, ctx.chords.at(t + first).pitch_classes)
                notes.append(Note(t, first, p, vel, texts[k], sy.phones, line_index))
                notes.append(Note(t + first, d - first, second, max(1, vel - 8), "", (), line_index))
            else:
                notes.append(Note(t, d, p, vel, texts[k], sy.phones, line_index))
        meta = self._line_meta(s, j, line, line_index, a, b, step, warning is not None)
        if forced:
            meta["pins"] = [p.text() for _, p in line.pins]
            meta["pinned_beats"] = sorted(forced.values())
        warning = "; ".join(w for w in (topline_warning, warning) if w)
        if warning:
            meta["warning"] = warning
        return notes, meta

    @staticmethod
    def _line_meta(s, j: int, line: LyricLine, line_index: int, a: float, b: float,
                   step: float, compressed: bool) -> dict:
        return {"section": s.index, "section_name": s.name, "section_kind": s.kind, "line": j,
                "line_index": line_index, "text": line.text, "syllables": len(line.syllables),
                "start_beat": a, "end_beat": b, "grid_beats": step, "compressed": compressed}

    def _topline_notes(self, s, j: int, line: LyricLine,
                       line_index: int) -> tuple[list[Note] | None, str, list]:
        """The line on the session's notes (see the module docstring) and its written harmony
        (``[start_beat, pitch or None per harmony voice]`` of each of those notes the
        harmony sings, :attr:`~ainur_cli.spec_lyrics.ToplineNote.harmony`), or ``(None, why,
        [])`` when its words and notes do not pair.

        :raises SpecError: a word whose notes are too short to share among its syllables, a
            syllable whose notes together are shorter than the voice's shortest note.
        """
        counts = [sum(len(syllabify_word(w).syllables) for w in words_of(tw.text))
                  for tw in line.topline]
        syl = line.syllables
        if sum(counts) != len(syl):
            return None, "its words do not pair with the session's lyric events", []
        notes: list[Note] = []
        harmony: list[list] = []
        texts = lyric_texts(line.words)
        k = 0
        for tw, m in zip(line.topline, counts):
            mine, lyrics, k = syl[k:k + m], texts[k:k + m], k + m
            if not m:
                continue  # nothing singable (a symbol): its notes are not sung
            flat = list(tw.notes)
            if not flat:
                return None, f"the word {tw.text!r} has no note in the session's vocal melody", []
            events = [g for g in tw.events if g]
            if len(events) == m:  # the DAW split the word as the dictionary does
                groups = [list(g) for g in events]
            elif len(flat) >= m:
                groups = [[x] for x in flat[:m - 1]] + [flat[m - 1:]]
            else:
                groups = [[x] for x in flat[:-1]] + self._shared(s, j, tw, flat[-1], m - len(flat) + 1)
            for sy, lyric, group in zip(mine, lyrics, groups):
                # a melisma is legato: a note holds until the syllable's next one starts; a
                # note too short to sing joins the one before it (the first, the one after)
                spans: list[list] = []
                for i, x in enumerate(group):
                    end = group[i + 1].start_beat if i + 1 < len(group) else x.end_beat
                    if spans and (self._seconds(*spans[-1][:2]) < _min_note_s()
                                  or self._seconds(x.start_beat, end) < _min_note_s()):
                        spans[-1][1] = end
                    else:
                        spans.append([x.start_beat, end, x])
                a, b, _ = spans[0]
                if self._seconds(a, b) < _min_note_s():
                    raise self._line_error(
                        s, j, f"section '{s.name}', lyric line {j + 1}: the syllable {sy.text!r} of "
                        f"{tw.text!r} ({self._where(a)}) has a note too short to sing", tw.text,
                        f"notes of at least {_min_note_s() * 1000:.0f} ms")
                for i, (a, b, x) in enumerate(spans):
                    notes.append(Note(a, b - a, x.pitch, x.velocity, lyric if i == 0 else "",
                                      sy.phones if i == 0 else (), line_index))
                    if any(p is not None for p in x.harmony):
                        harmony.append([float(a), *x.harmony])
        return notes, "", harmony

    def _seconds(self, start_beat: float, end_beat: float) -> float:
        """How long ``start_beat``..``end_beat`` lasts at the tempo at its start (s)."""
        return (end_beat - start_beat) * 60.0 / self.ctx.bars.tempo_at(start_beat)

    def _where(self, beat: float) -> str:
        """``song bar N, beat B`` of a song beat (1-based, the bar's meter unit)."""
        bar = self.ctx.bars.at(beat)
        return f"song bar {bar.index + 1}, beat {(beat - bar.start) * bar.denominator / 4 + 1:g}"

    def _shared(self, s, j: int, word, note, parts: int) -> list[list]:
        """``note`` cut into ``parts`` equal notes (one per syllable left in ``word``)."""
        step = (note.end_beat - note.start_beat) / parts
        if self._seconds(note.start_beat, note.start_beat + step) < MIN_SHARED_NOTE_S:
            raise self._line_error(
                s, j, f"section '{s.name}', lyric line {j + 1}: the word {word.text!r} "
                f"({self._where(note.start_beat)}) has {len(word.notes) + parts - 1} syllables but "
                f"only {len(word.notes)} note(s) in the session's vocal melody, too short to share "
                f"among them", word.text,
                f"a note per syllable, or notes of at least {MIN_SHARED_NOTE_S * 1000:.0f} ms "
                f"per syllable")
        return [[ToplineNote(note.start_beat + i * step, note.start_beat + (i + 1) * step,
                             note.pitch, note.velocity, note.harmony)] for i in range(parts)]

    def _forced_rhythm(self, line: LyricLine, grid, a: float, span_end: float,
                       forced: dict) -> list[float] | None:
        """Onsets with the pinned syllables exactly on their beats, or None when they do not
        fit on this grid."""
        stresses, emphasis, word_final = self._stress_pattern(line)
        at = {i: int(np.argmin(np.abs(grid.positions - x))) for i, x in forced.items()}
        pace = self._syllable_beats(a)
        key = (tuple(stresses), tuple(emphasis), tuple(word_final), grid.key(a),
               round(span_end - a, 4), tuple(sorted(at.items())), pace)
        if key not in self._rhythms:
            rng = rng_for(self.ctx.seed, "rhythm", key[:3], round(span_end - a, 4), grid.step)
            try:
                idx = place_syllables(key[0], key[1], key[2], grid, span_end, rng, forced=at,
                                      syllable_beats=pace)
            except ValueError:
                return None
            self._rhythms[key] = [float(grid.positions[i]) - a for i in idx]
        onsets = [a + o for o in self._rhythms[key]]
        for i, x in forced.items():
            onsets[i] = self._unswung(x)  # exactly the pin (not a + offset, which may round)
            if (i > 0 and onsets[i] <= onsets[i - 1] + EPS) or \
                    (i + 1 < len(onsets) and onsets[i] >= onsets[i + 1] - EPS):
                onsets[i] = x  # a neighbour swings past it: keep the order, swing it too
        return onsets

    def _swung(self, beat: float) -> float:
        """Where the style's swing (:func:`ainur_cli.compose.feel.apply_feel`) moves ``beat``."""
        return swing_time(beat, self.ctx.bars.at(beat), self.ctx.style.swing,
                          self.ctx.style.swing_unit_beats)

    def _shortest_swung_s(self, onsets: list[float], lengths: list[float]) -> float:
        """The shortest of a line's notes (seconds) as sung after swing: a pinned syllable
        stays on its pin while the grid notes before it swing later, which can squeeze them
        (each note ends by the next one's start). Swing warps a note's end only inside its
        own bar, as :func:`~ainur_cli.compose.feel.apply_feel` does."""
        starts = [self._swung(t) for t in onsets]
        out = math.inf
        for k, (t, d) in enumerate(zip(onsets, lengths)):
            end = self._swung(t + d) if self.ctx.bars.at(t + d - 1e-9) is self.ctx.bars.at(t) else t + d
            if k + 1 < len(starts):
                end = min(end, starts[k + 1])
            out = min(out, self._seconds(starts[k], end))
        return out

    def _unswung(self, beat: float) -> float:
        """The position that the style's swing (applied to the melody after composing, see
        :func:`ainur_cli.compose.feel.apply_feel`) moves onto ``beat``: pinned syllables land
        exactly on their pins, swung or not."""
        swing = self.ctx.style.swing
        bar = self.ctx.bars.at(beat)
        if swing <= 0 or bar.compound:
            return beat
        unit = self.ctx.style.swing_unit_beats
        pair = 2 * unit
        k = math.floor((beat - bar.start) / pair + EPS)
        if (k + 1) * pair > bar.length + EPS:
            return beat
        y = beat - bar.start - k * pair
        x = y / (1 + swing) if y <= unit * (1 + swing) else unit + (y - unit * (1 + swing)) / (1 - swing)
        out = bar.start + k * pair + x
        return out if abs(swing_time(out, bar, swing, unit) - beat) < 1e-9 else beat

    @staticmethod
    def _stress_pattern(line: LyricLine) -> tuple[list, list, list]:
        """Per syllable: stress (function words unstressed, as spoken), emphasis, word end."""
        stresses, emphasis, word_final = [], [], []
        for w in line.words:
            poly = len(w.syllables) > 1
            weak = not poly and w.text.lower() in UNSTRESSED_WORDS
            for k, sy in enumerate(w.syllables):
                stresses.append(0 if weak else sy.stress)
                emphasis.append(1.0 if poly else 0.55)
                word_final.append(k == len(w.syllables) - 1)
        return stresses, emphasis, word_final

    def _melisma_pitch(self, pitch: int, chord_pcs) -> int:
        """The second note of a held syllable: a step down in the key (or a chord tone)."""
        for p in (pitch - 1, pitch - 2, pitch + 1, pitch + 2):
            if self.low <= p <= self.high and p % 12 in self.scale \
                    and not clashes(p % 12, chord_pcs, self.scale):
                return p
        return nearest_allowed(pitch - 3, chord_pcs, self.scale, self.low, self.high, prefer_chord=True)

    def _syllable_beats(self, beat: float) -> float:
        """The longest typical sung syllable (beats) at ``beat``'s tempo. The same in every
        section: 1.25x longer in choruses read 0.98 against 0.93 on the example song
        (``bench/vocals_bench.py --song``), and the choruses' rhythm already differs."""
        return round(SUNG_SYLLABLE_S * self.ctx.bars.tempo_at(beat) / 60.0, 4)

    def _rhythm(self, line: LyricLine, grid, a: float, span_end: float) -> list[float]:
        stresses, emphasis, word_final = self._stress_pattern(line)
        pace = self._syllable_beats(a)
        key = (tuple(stresses), tuple(emphasis), tuple(word_final), grid.key(a), round(span_end - a, 4),
               pace)
        if key not in self._rhythms:
            rng = rng_for(self.ctx.seed, "rhythm", key[:3], round(span_end - a, 4), grid.step)
            idx = place_syllables(key[0], key[1], key[2], grid, span_end, rng, syllable_beats=pace)
            self._rhythms[key] = [float(grid.positions[i]) - a for i in idx]
        return [a + o for o in self._rhythms[key]]

    def _pitches_for(self, s, line: LyricLine, onsets: list[float], grid, a: float, final: bool) -> list[int]:
        ctx = self.ctx
        chords = [ctx.chords.at(t) for t in onsets]
        weight_at = dict(zip(np.round(grid.positions, 6).tolist(), grid.weights.tolist()))
        weights = [weight_at.get(round(t, 6), 0.0) for t in onsets]
        syl = line.syllables
        strong = [w >= 2 or (sy.stress == 1 and w >= 1) for w, sy in zip(weights, syl)]
        center = self.low + 7 + KIND_LIFT.get(s.kind, 0)
        rel = tuple(round(t - a, 4) for t in onsets)
        context = tuple((c.pitch_classes, c.root_pc) for c in chords)
        text = " ".join(line.text.lower().split())
        key = (text, rel, tuple(strong), context, center, final)
        if key in self._pitches:
            return self._pitches[key]
        shape_key = (text, rel, tuple(strong), center, final)
        earlier = self._by_text.get(shape_key)
        if earlier is not None:
            moved = self._transpose(earlier, context)
            if moved is not None:
                self._pitches[key] = moved
                return moved
        rng = rng_for(ctx.seed, "pitch", text, center)
        pitches = choose_pitches(
            strong=strong, chords=[(c.pitch_classes, c.root_pc) for c in chords], scale=self.scale,
            low=self.low, high=self.high, center=center, final=final, tonic_pc=ctx.key.tonic_pc, rng=rng,
            repeat_cost=SUNG_REPEAT_COST)
        self._pitches[key] = pitches
        self._by_text.setdefault(shape_key, (context, pitches))
        return pitches

    def _transpose(self, earlier, context) -> list[int] | None:
        """The earlier pitches moved by the interval that maps its chords onto ``context``."""
        old_context, pitches = earlier
        shift = (context[0][1] - old_context[0][1]) % 12
        for (old_pcs, old_root), (pcs, root) in zip(old_context, context):
            if (old_root + shift) % 12 != root or tuple((p + shift) % 12 for p in old_pcs) != pcs:
                return None
        for octave in (shift, shift - 12):
            moved = [p + octave for p in pitches]
            if min(moved) >= self.low and max(moved) <= self.high and all(
                    p % 12 in self.scale or p % 12 in pcs for p, (pcs, _) in zip(moved, context)):
                return moved
        return None


def _min_note_s() -> float:
    """The voice's shortest note (s): no syllable is composed shorter."""
    from ainur_cli.voice.score import MIN_NOTE_S

    return MIN_NOTE_S


def lyric_texts(words) -> list[str]:
    """Each syllable's lyric as a note carries it (:attr:`Note.lyric`): its text, with ``-``
    when the word goes on (``Walk-`` ``ing``)."""
    return [sy.text + ("" if k == len(w.syllables) - 1 else "-")
            for w in words for k, sy in enumerate(w.syllables)]


def _breath(slot_beats: float) -> float:
    return BREATH_BEATS if slot_beats >= 2 - EPS else 0.0


def _proportional(units: int, syllables: list[int]) -> list[int]:
    """``units`` shared by syllable count, each line at least one (largest remainder)."""
    count = len(syllables)
    spare = units - count
    total = sum(syllables)
    raw = [spare * n / total for n in syllables]
    sizes = [1 + int(r) for r in raw]
    order = sorted(range(count), key=lambda j: raw[j] - int(raw[j]), reverse=True)
    for j in order[: units - sum(sizes)]:
        sizes[j] += 1
    return sizes
