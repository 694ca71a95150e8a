"""``compose_song``: every part of a style over the placed sections, deterministic by seed."""

from __future__ import annotations

from typing import Mapping, Sequence

from ainur_cli.compose.bass import bass_notes
from ainur_cli.compose.context import Context, pitch_in_octave, velocity
from ainur_cli.compose.drums import drum_notes
from ainur_cli.compose.feel import apply_feel
from ainur_cli.compose.fit_chords import fit_chords
from ainur_cli.compose.harmony import ChordTrack, chord_tones, home_tonic, song_chords, voicing
from ainur_cli.compose.hook import hook_notes, hook_sections
from ainur_cli.compose.keys import chord_notes, register_center
from ainur_cli.compose.melody import MelodyComposer
from ainur_cli.compose.meter import EPS, Bars
from ainur_cli.compose.pads import arp_notes, pad_notes
from ainur_cli.compose.seeds import rng_for
from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.key import Key
from ainur_cli.style import PartStyle, Style
from ainur_cli.timeline import Timeline

_COMPOSERS = {"bass": bass_notes, "chords": chord_notes, "pad": pad_notes, "arp": arp_notes}


def _check_sections(sections: Sequence, timeline: Timeline) -> None:
    bar = 0
    for s in sections:
        if s.start_bar != bar or s.bars < 1:
            raise ValueError(f"sections must be consecutive from bar 0 (section {s.index} starts at "
                             f"bar {s.start_bar}, expected {bar})")
        bar += s.bars
    if bar != timeline.total_bars:
        raise ValueError(f"sections cover {bar} bars, the timeline {timeline.total_bars}")


def _final_hit(part: PartStyle, ctx: Context) -> list[Note]:
    """The last bar: one held chord (bass: its bass note) if the part plays the last section."""
    last = ctx.sections[-1]
    if not part.plays_in(last):
        return []
    bar = ctx.final_bar
    chord = ctx.chords.at(bar.start)
    vel = velocity(part.velocity, last.energy)
    if part.role == "bass":
        return [Note(bar.start, bar.length, pitch_in_octave(chord.bass, part.octave, -5), vel)]
    v = voicing(chord_tones(chord, 4), None, register_center(part))
    return [Note(bar.start, bar.length, p, vel) for p in v]


def session_melody(sections: Sequence) -> list[tuple[float, float, int]]:
    """``(start_beat, end_beat, midi_pitch)`` of the notes given to the lyric lines (a DAW
    session's vocal notes or the spec's ``melody:`` file, :attr:`ainur_cli.spec_lyrics.LyricText.topline`);
    empty when the melody composer writes the whole melody."""
    return [(n.start_beat, n.end_beat, n.pitch) for s in sections for line in (s.lyrics or ())
            for word in getattr(line, "topline", ()) for n in word.notes]


def compose_song(*, key: Key, seed: int, style: Style, timeline: Timeline, sections: Sequence,
                 spec_file: str | None = None,
                 lyric_lines: Mapping[tuple[int, int], int] | None = None,
                 harmony_voices: Sequence = (), harmony_lines: Sequence = (),
                 harmony_answers: Sequence = ()) -> Composition:
    """Compose every part of ``style`` over ``sections`` (consecutive, covering the timeline).

    :param sections: placed sections (``SectionPlan``-like: index, name, kind, start_bar, bars,
        start_beat, end_beat, energy, lyrics).
    :param spec_file: named in errors about lyrics that cannot be sung.
    :param lyric_lines: where each lyric line is written in ``spec_file``
        (:class:`~ainur_cli.compose.melody.MelodyComposer`), so that those errors name the line.
    :param harmony_voices: a written harmony sung in its own rhythm
        (:attr:`ainur_cli.spec.MelodySpec.harmony_voices`: per voice ``(start_beat,
        end_beat, pitch, velocity)`` notes), kept in ``metadata["harmony_voices"]`` with
        each note's section index appended.
    :param harmony_lines: the written harmony's own words
        (:attr:`ainur_cli.spec.MelodySpec.harmony_lines`: per voice ``(section index, text,
        notes)`` lines), kept in ``metadata["harmony_lines"]`` as ``[section index, text,
        [[start_beat, end_beat, pitch, velocity, continues], ...]]`` per line.
    :param harmony_answers: the sections' ``harmony_lyrics`` that the composed harmony sings
        (``(section index, lines)`` each): answers in the lead's rests, placed by
        :func:`ainur_cli.vocal_backing.answer_rhythms` into ``metadata["harmony_answers"]``
        (those that do not fit: a warning in ``metadata["warnings"]``), pitched by
        :func:`ainur_cli.vocals.answer_notes`.
    :returns: parts in the style's order (drums on channel 9), chords, and ``metadata`` with
        ``warnings`` (lines sung in sixteenths...), ``lines`` (one entry per lyric line: section,
        text, syllables, start/end beat, grid), ``hook_sections``, ``key`` (its name) and
        ``sections`` (``[index, name, type, start_beat, end_beat]`` each).
    :raises SpecError: a lyric line with nothing singable, or too long for its section.
    """
    sections = tuple(sections)
    _check_sections(sections, timeline)
    seed = int(seed)
    bars = Bars(timeline)
    chords = song_chords(style, key, bars, sections)
    given = session_melody(sections)
    if given:  # the producer's own vocal notes: the chords under them fit them
        chords = fit_chords(chords, given, style, key, sections, bars)
    chords = ChordTrack(chords)
    ctx = Context(style, key, seed, bars, sections, chords, hook_sections(style, sections))
    melody = MelodyComposer(ctx, spec_file, lyric_lines).compose()
    parts: list[Part] = []
    channel = 0
    end = bars.end
    for name, ps in style.parts.items():
        rng = rng_for(seed, "part", name)
        exact: list[Note] = []  # the session's own notes: where they are, no feel
        if ps.role == "drums":
            notes = drum_notes(style, ps, bars, sections, rng)
        elif ps.role == "melody":
            notes = [n for i, n in enumerate(melody.notes) if i not in melody.exact]
            exact = [n for i, n in enumerate(melody.notes) if i in melody.exact]
        else:
            notes = _COMPOSERS[ps.role](ps, ctx, rng) + _final_hit(ps, ctx)
        if ps.hook:
            notes += hook_notes(ps, ctx, melody)
        notes = apply_feel(notes, style, bars, None if ps.role == "melody" else rng_for(seed, "humanize", name))
        notes += exact
        kept = []
        for n in notes:
            if n.start_beat < end - EPS:
                if n.start_beat + n.duration_beats > end:
                    n = Note(n.start_beat, end - n.start_beat, n.pitch, n.velocity, n.lyric, n.phones,
                             n.line_index)
                kept.append(n)
        kept.sort(key=lambda n: (n.start_beat, n.pitch))
        if ps.is_drums:
            ch = 9
        else:
            ch = channel
            channel += 2 if channel == 8 else 1
        parts.append(Part(name, 0 if ps.is_drums else ps.program, ps.is_drums, ch, tuple(kept)))
    metadata = {
        "warnings": list(melody.warnings),
        "lines": melody.lines,
        "hook_sections": [s.name for s in sections if s.index in ctx.hook_sections],
        "home_tonic_pc": home_tonic(style.key, key),
        "key": key.name,
        "seed": seed,
        "sections": [[s.index, s.name, s.kind, float(s.start_beat), float(s.end_beat)]
                     for s in sections],
    }
    if any(harmony_voices):
        metadata["harmony_voices"] = [[[float(a), float(b), int(p), int(v), _section_of(sections, a)]
                                       for a, b, p, v in voice] for voice in harmony_voices]
    if any(harmony_lines):
        metadata["harmony_lines"] = [
            [[i, text, [[float(a), float(b), int(p), int(v), bool(c)] for a, b, p, v, c in notes]]
             for i, text, notes in voice] for voice in harmony_lines]
    if harmony_answers:
        placed, warnings = _placed_answers(parts, style, melody.lines, metadata["sections"],
                                           timeline, harmony_answers, float(end))
        metadata["warnings"] += warnings
        metadata["harmony_answers"] = placed
    return Composition(tuple(parts), chords.chords, metadata)


def _placed_answers(parts: list, style: Style, lines_meta: list, sections: list,
                    timeline: Timeline, answers: Sequence, song_end_beat: float
                    ) -> tuple[list, list[str]]:
    """The sections' ``answers`` (``(section index, lines)``) placed in the rests of the lead
    part's (the style's melody role's) final notes, by
    :func:`ainur_cli.vocal_backing.answer_rhythms`; warnings name a bar.beat pin."""
    from fractions import Fraction

    from ainur_cli.spec_lyrics import LyricPin
    from ainur_cli.vocal_backing import answer_rhythms

    lead = next((p for p, ps in zip(parts, style.parts.values()) if ps.role == "melody"), None)
    by_line: dict[int, list] = {}
    for n in lead.notes if lead else ():
        if n.lyric is not None and n.line_index >= 0:
            by_line.setdefault(n.line_index, []).append(n)
    texts = {m["line_index"]: m["text"] for m in lines_meta}
    lines = [(i, texts.get(i, ""), float(by_line[i][0].start_beat),
              float(by_line[i][-1].start_beat + by_line[i][-1].duration_beats))
             for i in sorted(by_line, key=lambda i: by_line[i][0].start_beat)]

    def where(beat: float) -> str:
        bar, into = timeline.beat_to_bar(Fraction(beat).limit_denominator(960))
        return LyricPin.in_bar(bar + 1, into, timeline.meter_at_bar(bar).denominator).text()

    return answer_rhythms(lines, {i: list(t) for i, t in answers}, sections, song_end_beat,
                          where)


def compose_plan(plan) -> Composition:
    """:func:`compose_song` of a :class:`ainur_cli.plan.RenderPlan`: its spec's key and seed
    (the key resolved), its style, timeline and sections, the spec file's lyric lines for
    errors and its melody's written harmony in its own rhythm and words (if any), else its
    sections' harmony lyrics as the composed harmony's answers."""
    from ainur_cli.spec_lyrics import lyric_file_lines
    from ainur_cli.vocals import answers_sung, vocal_settings

    spec = plan.spec
    answers = () if spec.melody and spec.melody.written_harmony or not answers_sung(
        vocal_settings(plan.style.vocals)) else tuple(
        (i, s.harmony_lyrics) for i, s in enumerate(spec.sections) if s.harmony_lyrics)
    return compose_song(key=spec.key, seed=spec.seed, style=plan.style, timeline=plan.timeline,
                        sections=plan.sections, spec_file=spec.file,
                        lyric_lines=lyric_file_lines(spec.source),
                        harmony_voices=spec.melody.harmony_voices if spec.melody else (),
                        harmony_lines=spec.melody.harmony_lines if spec.melody else (),
                        harmony_answers=answers)



def _section_of(sections: Sequence, beat: float) -> int:
    """The index of the section ``beat`` falls in (the last at the song's end)."""
    return next((s for s in sections if beat < s.end_beat - EPS), sections[-1]).index
