"""Backing vocals that are not the lead's syllables: a harmony voice's notes sung on a vowel
(:func:`vowel_syllables`), with its own words (:func:`worded_notes`; composed answers in
the lead's rests: :func:`answer_rhythms`), or composed as chord pads (:func:`chord_pads`,
voiced by :func:`pad_voicing`), as :class:`HarmonyNote` s, the harmony's form in
:mod:`ainur_cli.vocals` (which reads the style and the composition and sings them).

On a vowel a note is a new syllable after a rest of more than :data:`LEGATO_GAP_BEATS`, on
the pitch of the note before (a repeated note is sung again) or where another voice takes
over; legato to another pitch it slurs on. Positions are song beats; the sung notes are
:class:`ainur_cli.voice.SungNote` s in song seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ainur_cli.compose.lyrics import parse_lyrics
from ainur_cli.compose.types import Note
from ainur_cli.timeline import Timeline

#: a rest of more than this (beats) between two harmony notes sung on a vowel starts a new
#: syllable; less is legato (a 32nd note: the gap a played-in legato line leaves)
LEGATO_GAP_BEATS = 1 / 8
#: a hum (``mm``) comes out about this much quieter than a sung vowel of the same voice and
#: notes (bench/backing_bench.py: -28.8 against -17.4 dBFS RMS for ``ooh``, dry): it is
#: raised by it, so that ``harmony_gain_db`` sets the same level whatever the harmony sings
HUM_GAIN_DB = 11.0
PAD_PHRASE_BARS = 4       # chord pads breathe at the end of every this many bars of a section
PAD_BREATH_BEATS = 0.5    # ... this long before the next phrase
PAD_REACH_SEMITONES = 9   # a pad voice's tones stay within this of the register's centre
PAD_START_SEMITONES = 4   # its first tone is the chord's nearest to this above (below) the centre
PAD_VELOCITY = 80
#: an echo or an answer starts on the first beat at least this long after its lead line ...
RESPONSE_GAP_BEATS = 0.5
RESPONSE_BREATH_BEATS = 0.25  # ... and ends at least this long before the next line starts
#: an answer sings a syllable per eighth note, else per sixteenth ...
ANSWER_STEPS_BEATS = (0.5, 0.25)
ANSWER_HOLD_BEATS = 0.5    # ... and holds its last syllable up to this long (beats; bench: WER)
#: costs of a pad voicing (:func:`pad_voicing`), in semitones of voice movement: a chord's
#: third not sung, its seventh not sung by two voices, a voice on the lead's pitch through
#: the whole chord (in proportion to the time it does), a semitone against the lead
PAD_MISSING_THIRD = 3.0
PAD_MISSING_SEVENTH = 1.5
PAD_UNISON = 16.0
PAD_SEMITONE_CLASH = 2.0


@dataclass(frozen=True)
class HarmonyNote:
    """A note a harmony voice sings: ``note`` (beats, at the harmony's pitch, with its lyric:
    the lead's syllable or the vowel; "" slurs on), ``sung`` (the same as the
    :class:`ainur_cli.voice.SungNote` the voice takes, seconds) and ``voice``: who sings it
    where the style names no ``harmony_voice`` (the lead of its line, or of its section)."""

    note: Note
    sung: Any
    voice: str
    gain_db: float = 0.0  #: raised by this much (a hum: :data:`HUM_GAIN_DB`)


def vowel_syllables(notes: list[tuple], vowel: str, timeline: Timeline) -> list[HarmonyNote]:
    """One harmony voice's notes sung on ``vowel`` (``ooh``; ``mm`` hums).

    :param notes: ``(start_beat, end_beat, pitch, velocity, voice, line index)`` in time
        order, one voice (no overlaps); the line index only groups the notes into phrases.
    :returns: a note per given note: a new syllable at the first note, after a rest of more
        than :data:`LEGATO_GAP_BEATS`, on the pitch of the note before (a repeated note is
        sung again) or where another voice sings; else it slurs on from the note before
        (lyric ``""``, the syllable's voice and line, the note before held up to it).
    """
    from ainur_cli.voice import SungNote

    out: list[list] = []  # [start, end, pitch, velocity, voice, index, new syllable]
    for a, b, p, v, voice, index in notes:
        a, b = float(a), float(b)
        prev = out[-1] if out else None
        if prev is None or a - prev[1] > LEGATO_GAP_BEATS or p == prev[2] or voice != prev[4]:
            out.append([a, b, p, v, voice, index, True])
        else:
            prev[1] = max(prev[1], a)
            out.append([a, b, p, v, prev[4], prev[5], False])
    result = []
    for k, (a, b, p, v, voice, index, new) in enumerate(out):
        start = float(timeline.beat_to_seconds(a))
        end_of_run = k + 1 == len(out) or out[k + 1][6]
        note = Note(a, b - a, p, v, vowel if new else "", (), -1)
        sung = SungNote(start, float(timeline.beat_to_seconds(b)) - start, p, vowel if new else "",
                        vowel, (), index, new, end_of_run)
        result.append(HarmonyNote(note, sung, voice, HUM_GAIN_DB if vowel == "mm" else 0.0))
    return result


def worded_notes(lines: list, voice_of: Callable[[int], str], timeline: Timeline,
                 first_index: int) -> list[HarmonyNote]:
    """A written harmony voice's lines with its own words (``[section index, text,
    [[start_beat, end_beat, pitch, velocity, continues], ...]]`` each) as HarmonyNotes: each
    syllable on its notes (a melisma where a note continues the one before), sung by
    ``voice_of(section index)``; the lines get the phrase indices ``first_index``,
    ``first_index + 1``, ... (after the lead's lines)."""
    from ainur_cli.compose.melody import lyric_texts
    from ainur_cli.voice import notes_for_line

    out = []
    for j, (section, text, notes) in enumerate(lines):
        line = parse_lyrics([text])[0]
        starts = [float(timeline.beat_to_seconds(a)) for a, *_ in notes]
        ends = [float(timeline.beat_to_seconds(b)) for _, b, *_ in notes]
        sung = notes_for_line(line, starts, [e - s for s, e in zip(starts, ends)],
                              [p for _, _, p, *_ in notes], first_index + j,
                              [c for *_, c in notes])
        syllables = iter(lyric_texts(line.words))
        voice = voice_of(section)
        for (a, b, p, v, continues), s in zip(notes, sung):
            note = Note(a, b - a, p, v, "" if continues else next(syllables), s.phones, -1)
            out.append(HarmonyNote(note, s, voice))
    return out


def chord_pads(sections: list, chords: list, intervals: tuple[str, ...],
               centre_of: Callable[[str, str], tuple[str, int, int]], timeline: Timeline,
               lead: list[tuple[float, float, int]] = ()) -> list[list[tuple]]:
    """Chord pads: per harmony voice (one per interval name of ``intervals``) its notes
    ``(start_beat, end_beat, pitch, velocity, voice, section index)`` through ``sections``
    (``[index, name, type, start_beat, end_beat]`` each): a note per chord of ``chords``
    (:class:`~ainur_cli.compose.types.ChordEvent`) sounding, cut at the section's edges, on
    a tone of that chord within :data:`PAD_REACH_SEMITONES` of the register's centre
    (``centre_of(section name, section type)`` → (the section's voice, that centre in
    written pitches, the semitones the singer adds to them)); the voices' tones are chosen
    together (:func:`pad_voicing`): near the tones before (the first: :data:`PAD_START_SEMITONES`
    above the centre for an ``-above`` interval, below for ``-below``), the chord's third
    (and seventh) sung, not in unison with the ``lead`` (``(start_beat, end_beat, sounding
    pitch)`` of each lead note), an ``-above`` voice over a ``-below`` one, never two on one
    tone. Each :data:`PAD_PHRASE_BARS` bars of the section end :data:`PAD_BREATH_BEATS`
    early (a breath). A tone the next chord keeps is held on (one note)."""
    voices: list[list[tuple]] = [[] for _ in intervals]
    ups = [1 if interval.endswith("above") else -1 for interval in intervals]
    chords = sorted(chords, key=lambda c: c.start_beat)
    for index, name, kind, a, b in sections:
        voice, centre, shift = centre_of(name, kind)
        first_bar = timeline.beat_to_bar(a)[0]
        cuts = {float(timeline.bar_to_beat(bar)) for bar in
                range(first_bar + PAD_PHRASE_BARS, timeline.beat_to_bar(b)[0] + 1, PAD_PHRASE_BARS)}
        cuts = sorted(c for c in cuts if a < c < b) + [b]
        previous: list[int | None] = [None] * len(voices)
        for phrase_start, phrase_end in zip([a, *cuts[:-1]], cuts):
            spans = [(max(c.start_beat, phrase_start), min(c.start_beat + c.duration_beats,
                                                           phrase_end), c)
                     for c in chords if c.start_beat < phrase_end
                     and c.start_beat + c.duration_beats > phrase_start]
            for n, (s, e, chord) in enumerate(spans):
                if n == len(spans) - 1 and e - s > 2 * PAD_BREATH_BEATS:
                    e -= PAD_BREATH_BEATS
                wants = [p if p is not None else centre + up * PAD_START_SEMITONES
                         for p, up in zip(previous, ups)]
                sounding = [(max(la, s), min(lb, e), lp - shift) for la, lb, lp in lead
                            if la < e and lb > s]
                pitches = pad_voicing(chord, wants, ups, centre, sounding, e - s)
                for k, pitch in enumerate(pitches):
                    if pitch is None:
                        continue
                    previous[k] = pitch
                    last = voices[k][-1] if voices[k] else None
                    if last and last[1] == s and last[2] == pitch:  # a common tone: held on
                        voices[k][-1] = (last[0], e, *last[2:])
                    else:
                        voices[k].append((s, e, pitch, PAD_VELOCITY, voice, index))
    return voices


def pad_voicing(chord: Any, wants: list[int], ups: list[int], centre: int,
                lead: list[tuple[float, float, int]], length_beats: float
                ) -> tuple[int | None, ...]:
    """The pad voices' tones for one chord span (:func:`chord_pads`): of the chord's tones
    within :data:`PAD_REACH_SEMITONES` of ``centre``, one per voice (None where none is
    left), together the cheapest in: a semitone per semitone moved from ``wants`` (each
    voice's tone before); :data:`PAD_MISSING_THIRD` without the chord's third (a triad on
    root and fifth is hollow), :data:`PAD_MISSING_SEVENTH` without its seventh when two
    voices sing (3rd and 7th: the guide tones); :data:`PAD_UNISON` times the share of the
    span each voice sings the lead's pitch (``lead``: ``(start_beat, end_beat, pitch)`` in
    the pads' written pitches, ``length_beats`` the span's length) and
    :data:`PAD_SEMITONE_CLASH` for a semitone against it; a voice of ``ups`` +1 (an
    ``-above`` interval) at or under one of -1 is not taken. Ties: the ``-above`` voices
    higher, the ``-below`` ones lower."""
    from itertools import product

    pcs, root = chord.pitch_classes, chord.root_pc
    third = next((pc for pc in pcs if (pc - root) % 12 in (3, 4)), None)
    seventh = next((pc for pc in pcs if (pc - root) % 12 in (10, 11)), None)
    tones = [p for p in range(centre - PAD_REACH_SEMITONES, centre + PAD_REACH_SEMITONES + 1)
             if p % 12 in pcs]
    best, best_key = tuple([None] * len(wants)), None
    for combo in product(tones, repeat=len(wants)):
        if len(set(combo)) < len(combo) or any(
                x <= y for x, ux in zip(combo, ups) for y, uy in zip(combo, ups) if ux > uy):
            continue
        cost = float(sum(abs(p - w) for p, w in zip(combo, wants)))
        held = {p % 12 for p in combo}
        cost += PAD_MISSING_THIRD * (third is not None and third not in held)
        cost += PAD_MISSING_SEVENTH * (len(combo) > 1 and seventh is not None
                                       and seventh not in held)
        for p in combo:
            for a, b, q in lead:
                share = (b - a) / length_beats
                cost += share * (PAD_UNISON * (p == q) + PAD_SEMITONE_CLASH * (abs(p - q) == 1))
        key = (round(cost, 9), tuple(-u * p for p, u in zip(combo, ups)))
        if best_key is None or key < best_key:
            best, best_key = combo, key
    if best_key is None and tones:  # fewer tones than voices: the first voices only
        return tuple(sorted(tones, key=lambda p: abs(p - wants[0]))[:1]) + \
            tuple([None] * (len(wants) - 1))
    return best


def rest_after(end_beat: float, next_beat: float) -> tuple[float, float]:
    """The rest after a lead line whose last note ends on ``end_beat``, the next line (or the
    song's end) starting on ``next_beat``, as an echo or an answer sings in it: (its first
    beat at least :data:`RESPONSE_GAP_BEATS` after the line, the last beat it may sound to:
    :data:`RESPONSE_BREATH_BEATS` before ``next_beat``)."""
    import math

    return float(math.ceil(end_beat + RESPONSE_GAP_BEATS - 1e-9)), next_beat - RESPONSE_BREATH_BEATS


def answer_rhythms(lines: list[tuple[int, str, float, float]], answers: dict[int, list[str]],
                   sections: list, song_end_beat: float, where: Callable[[float], str]
                   ) -> tuple[list[list], list[str]]:
    """Where the composed harmony answers the lead with a section's ``harmony_lyrics``:
    after each lead line of a section of ``answers`` (section index → its lines; line
    ``j`` of them after the section's ``j``-th lead line, cycling: one line answers every
    lead line), from the first beat at least :data:`RESPONSE_GAP_BEATS` after the line's last
    note ends, a syllable per eighth note (sixteenths where eighths do not fit), the last
    held up to :data:`ANSWER_HOLD_BEATS`, all ending :data:`RESPONSE_BREATH_BEATS` before the
    next line (or the song's end).

    :param lines: the lead's lines in time order: ``(line index, text, first note's start
        beat, last note's end beat)``; ``sections``: ``[index, name, type, start_beat,
        end_beat]`` each (a line is its first note's section's); ``where(beat)`` names a
        song beat in the warnings (its bar.beat pin, ``@5.3``).
    :returns: the answers ``[section index, line index, text, [[start_beat, end_beat], ...]]``
        (a span per syllable) and a warning for each answer that does not fit (not sung).
    """
    placed, warnings, count = [], [], {}
    for j, (line, words, first, end) in enumerate(lines):
        section = next((s for s in sections if s[3] <= first < s[4]), None)
        if section is None or section[0] not in answers:
            continue
        texts = answers[section[0]]
        text = texts[count.get(section[0], 0) % len(texts)]
        count[section[0]] = count.get(section[0], 0) + 1
        syllables = len(parse_lyrics([text])[0].syllables)
        start, last = rest_after(end, lines[j + 1][2] if j + 1 < len(lines) else song_end_beat)
        room = last - start
        step = next((x for x in ANSWER_STEPS_BEATS if syllables * x <= room + 1e-9), None)
        if not syllables or step is None:
            warnings.append(f"section {section[1]!r}: the harmony lyric {text!r} does not fit "
                            f"in the rest after the line {words!r} ({syllables} "
                            f"syllable{'' if syllables == 1 else 's'} in {max(room, 0.0):.2f} "
                            f"beats from {where(start)}, song bar.beat): not sung")
            continue
        onsets = [start + k * step for k in range(syllables)]
        ends = onsets[1:] + [onsets[-1] + min(ANSWER_HOLD_BEATS, start + room - onsets[-1])]
        placed.append([section[0], line, text, [[a, b] for a, b in zip(onsets, ends)]])
    return placed, warnings


def clear_of(notes: list[HarmonyNote], own: list[HarmonyNote]) -> list[HarmonyNote]:
    """``notes`` without the syllables (a note and its melisma notes) that sound while a note
    of ``own`` does (a lead syllable's harmony pitch held into a section where the voice
    sings its own words): one voice sings one note at a time."""
    spans = [(h.note.start_beat, h.note.start_beat + h.note.duration_beats) for h in own]
    syllables: list[list[HarmonyNote]] = []
    for h in notes:
        if h.note.lyric != "" or not syllables:
            syllables.append([h])
        else:
            syllables[-1].append(h)
    return [h for syllable in syllables
            if not any(h.note.start_beat < b and a < h.note.start_beat + h.note.duration_beats
                       for h in syllable for a, b in spans)
            for h in syllable]
