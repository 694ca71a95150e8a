"""A vocal melody from a MIDI file (the spec's ``melody:``): the notes a DAW's exported clip
holds, sung with the sections' lyrics.

``read_melody`` reads the notes of one track (``melody.track``, 1-based; by default the track
and channel with the most notes, never the GM drum channel 10) of a type 0 or 1 Standard MIDI
File at any PPQ, as one voice (:func:`one_voice`: of notes starting together the highest is
sung, a note is cut where the next starts). Positions are the file's beats (quarter notes),
exact, from its start; its tempo and meter are ignored: the song's rule, and the file's beat
0 falls on the spec's ``melody.bar``. Lyric events in the file are ignored: the words are the
sections' ``lyrics``. A DAW project's vocal track (an Ardour session's or a Live Set's MIDI
track, read by :mod:`daw_bridge.project_vocal`) comes as the notes themselves
(``melody.notes``, no file) and is sung by the same rules.

``with_melody`` puts each section's lyric lines on the notes that start inside the section:

* when the notes are as many as the section's syllables, one syllable per note, in order;
* otherwise the notes are split into as many phrases as the section has lines, at the
  longest rests, and each line is sung on its phrase: a syllable per note, a phrase's extra
  notes held by its last syllables (melismas, spread from the end, as a singer does with a
  line's last word);
* a section where a line has more syllables than its phrase has notes, or with fewer notes
  than lines, is sung on a composed melody, with a warning naming the line.

Each line becomes a :class:`~ainur_cli.spec_lyrics.LyricText` pinned at its first note and
carrying its notes (``topline``): the melody composer sings those notes (see
:mod:`ainur_cli.compose.melody`) and the chords under them are fitted to them
(:mod:`ainur_cli.compose.fit_chords`). A section without lyrics sings none of the notes in it
(a warning counts them), nor are notes shorter than the voice's shortest note (30 ms: grace
notes), and lines with pins in a section that has notes lose their pins.

A **written harmony** (``melody.harmony_track``: one or two other tracks of the file, or a
DAW project's harmony MIDI track, :attr:`ainur_cli.spec.MelodySpec.harmony_notes`) is sung
with the lead's words and rhythm: each given melody note carries the pitch each harmony track
sounds at its start (:func:`sounding_at`; :attr:`ainur_cli.spec_lyrics.ToplineNote.harmony`,
None where the track rests), which :mod:`ainur_cli.vocals` sings in place of the style's
composed intervals. Harmony notes at which no given melody note starts are not sung (a
warning counts them). Sung on a vowel (``vocals.harmony_sings: ooh``, ``own_rhythm``), a
harmony voice keeps its own notes instead (:attr:`ainur_cli.spec.MelodySpec.harmony_voices`).

A section's ``harmony_lyrics`` are sung by every written harmony voice on its own notes in
the section (:func:`_harmony_words`, by the lead's rules; those notes then sing nothing
else): call and response, a counter-melody with words
(:attr:`ainur_cli.spec.MelodySpec.harmony_lines`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ainur_cli.errors import SpecError

if TYPE_CHECKING:
    from ainur_cli.spec import SongSpec
    from ainur_cli.timeline import Timeline

log = logging.getLogger(__name__)

MAX_MELODY_BYTES = 16 * 1024 * 1024
DRUM_CHANNEL = 9

Notes = list  # [[on tick, off tick, pitch, velocity], ...]


def played_notes(tracks) -> dict[tuple[int, int], Notes]:
    """``(track index, channel) -> [[on tick, off tick, pitch, velocity], ...]`` of every note
    of a ``mido`` file's ``tracks``: each note-off (or zero-velocity note-on) ends the oldest
    sounding note of its channel and key; notes never released end with their track."""
    played: dict[tuple[int, int], Notes] = {}
    for ti, trk in enumerate(tracks):
        tick, sounding = 0, {}
        for msg in trk:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                note = [tick, -1, msg.note, msg.velocity]
                played.setdefault((ti, msg.channel), []).append(note)
                sounding.setdefault((msg.channel, msg.note), []).append(note)
            elif msg.type in ("note_on", "note_off") and sounding.get((msg.channel, msg.note)):
                sounding[(msg.channel, msg.note)].pop(0)[1] = tick
        for waiting in sounding.values():
            for note in waiting:
                note[1] = tick
    return played


def one_voice(notes: Sequence[Sequence[int]], tol: int) -> list[list[int]]:
    """``[on, off, pitch, velocity]`` notes made monophonic: of notes starting within ``tol``
    ticks of the first of them (a chord, or a flam) the highest is kept (the longest of equal
    pitches), and each note ends at the latest where the next one starts (at least one tick
    long)."""
    groups: list[list[Sequence[int]]] = []
    for note in sorted(notes, key=lambda n: (n[0], -n[2])):
        if groups and note[0] - groups[-1][0][0] <= tol:
            groups[-1].append(note)
        else:
            groups.append([note])
    out: list[list[int]] = []
    for group in groups:
        on, off, pitch, vel = max(group, key=lambda n: (n[2], n[1] - n[0]))
        if out:
            out[-1][1] = min(out[-1][1], on)
        out.append([on, max(off, on + 1), pitch, vel])
    return out


def read_melody(path: Path, track: int | None, error: Callable[..., SpecError],
                exclude: Sequence[int] = ()) -> list[tuple[Fraction, Fraction, int, int]]:
    """``(start_beat, end_beat, pitch, velocity)`` of the melody in ``path`` (file beats).

    :param error: ``error(message, value, allowed)`` builds the error at the spec's ``melody``
        field (:meth:`ainur_cli.source.Source.error`).
    :param exclude: 1-based tracks the choice of a ``track`` None leaves out (the harmony's).
    :raises SpecError: a missing or unreadable file, a track that does not exist or has no
        notes, a file without notes.
    """
    import mido

    def refuse(message: str, value=None, allowed: str | None = None) -> SpecError:
        return error(message, value if value is not None else str(path), allowed)

    try:
        if path.is_dir():
            raise refuse("the melody file is a folder", allowed="a MIDI file (.mid)")
        size = path.stat().st_size
    except FileNotFoundError:
        raise refuse("the melody file does not exist", allowed="a MIDI file (.mid), relative to "
                     "the spec's folder") from None
    except OSError as e:
        raise refuse(f"cannot read the melody file: {e.strerror or e}") from None
    if size > MAX_MELODY_BYTES:
        raise refuse("the melody file is too large", f"{size} bytes",
                     f"at most {MAX_MELODY_BYTES // (1024 * 1024)} MiB")
    try:
        mid = mido.MidiFile(str(path), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise refuse(f"the melody file is not a readable Standard MIDI File ({type(e).__name__}: "
                     f"{e})", allowed="a .mid file exported by a DAW (type 0 or 1)") from None
    if mid.type == 2 or mid.ticks_per_beat <= 0:
        raise refuse("the melody file is a type 2 file or has SMPTE time division",
                     allowed="a type 0 or 1 file with ticks per quarter note")
    groups = {k: v for k, v in played_notes(mid.tracks).items()
              if k[1] != DRUM_CHANNEL and (track is not None or k[0] + 1 not in exclude)}
    if track is not None:
        if track > len(mid.tracks):
            raise refuse("the melody file has no such track", track,
                         f"a track 1..{len(mid.tracks)}")
        chosen = [n for (t, _), v in groups.items() if t == track - 1 for n in v]
        if not chosen:
            raise refuse(f"track {track} of the melody file has no notes (drums on channel 10 do "
                         f"not count)", track, "a track with the melody's notes")
    else:
        if not groups:
            raise refuse("the melody file has no notes (drums on channel 10 do not count)",
                         allowed="a MIDI clip of the vocal melody")
        chosen = max(groups.items(), key=lambda kv: (len(kv[1]), -kv[0][0], -kv[0][1]))[1]
    ppq = mid.ticks_per_beat
    return [(Fraction(on, ppq), Fraction(off, ppq), pitch, vel)
            for on, off, pitch, vel in one_voice(chosen, max(1, ppq // 32))]


def with_melody(spec: "SongSpec", timeline: "Timeline",
                own_rhythm: Sequence[bool] = ()) -> "SongSpec":
    """``spec`` with each section's lyric lines on the melody file's notes (module docstring);
    the spec unchanged without ``melody``. ``timeline``: the spec's (tempo resolved).

    :param own_rhythm: per written harmony voice, True where the style sings it on a vowel,
        in its own rhythm (:func:`ainur_cli.vocals.own_rhythm_voices`): its notes go to
        :attr:`~ainur_cli.spec.MelodySpec.harmony_voices` (those inside the song and long
        enough to sing) instead of onto the lead's notes."""
    from ainur_cli.compose.lyrics import parse_line
    from ainur_cli.plan import place_sections
    from ainur_cli.spec_lyrics import LyricPin, LyricText, ToplineNote, ToplineWord
    from ainur_cli.voice.score import MAX_MIDI, MIN_MIDI, melisma_counts

    if spec.melody is None or spec.melody.applied:
        return spec
    src = spec.source
    field_path = ("melody", "file") if ("melody", "file") in src.lines else ("melody",)

    def error(message: str, value=..., allowed: str | None = None) -> SpecError:
        return src.error(field_path, message, value, allowed)

    offset = spec.melody.start_beat
    if offset is None:
        offset = timeline.bar_to_beat(spec.melody.bar - 1)
    given = spec.melody.notes
    # what the messages call it: the melody file, or where a DAW session's notes came from
    what = "the melody file" if given is None else spec.melody.path
    label = spec.melody.path if given is None else "session"  # what the warnings start with
    if given is None:
        given = read_melody(spec.melody.resolved(src.file), spec.melody.track, error,
                            exclude=spec.melody.harmony_tracks)
    notes = [(a + offset, b + offset, p, v) for a, b, p, v in given]
    end = timeline.total_beats
    sung = [n for n in notes if n[0] >= end or n[0] < 0 or _lasts(timeline, n[0], n[1])]
    _warn_unsung(label, what, sum(1 for a, *_ in notes if a >= end), len(notes) - len(sung))
    notes = sung

    def pin(beat: Fraction) -> str:
        bar, into = timeline.beat_to_bar(beat)
        return LyricPin.in_bar(bar + 1, into, timeline.meter_at_bar(bar).denominator).text()

    for a, _, p, _ in notes:
        if not MIN_MIDI <= p <= MAX_MIDI and 0 <= a < end:
            raise error(f"the note of {what} at {pin(a)} (song bar.beat) is out of any "
                        f"voice's range", f"MIDI {p}", f"MIDI {MIN_MIDI}..{MAX_MIDI} (E1..C7)")

    sections = list(spec.sections)
    spans = [(p.start_beat, p.end_beat) for p in place_sections(spec, timeline)]
    for i, (s, (start, stop)) in enumerate(zip(spec.sections, spans)):
        mine = [n for n in notes if start <= n[0] < stop]
        if s.lyrics and all(getattr(ln, "topline", ()) for ln in s.lyrics):
            continue  # a DAW session's lines on their own notes already
        if not mine:
            if s.lyrics and notes:
                log.warning("section %r: %s has no notes in it; its lyrics are sung "
                            "on a composed melody", s.name, what)
            continue
        if not s.lyrics:
            log.warning("section %r has no lyrics: %d note(s) of %s in it are not "
                        "sung", s.name, len(mine), what)
            continue
        lines = [parse_line(ln) for ln in s.lyrics]
        counts = [len(ln.syllables) for ln in lines]
        phrases = _line_phrases(lines, mine, s.name, what)
        if phrases is None:
            continue
        out = []
        for j, (ln, phrase, c) in enumerate(zip(lines, phrases, counts)):
            if c == 0:
                out.append(s.lyrics[j])
                continue
            groups, k = [], 0
            for n in melisma_counts(c, len(phrase)):
                groups.append(tuple(ToplineNote(float(x[0]), float(x[1]), x[2], x[3])
                                    for x in phrase[k:k + n]))
                k += n
            words, k = [], 0
            for w in ln.words:
                m = len(w.syllables)
                words.append(ToplineWord(w.text, tuple(groups[k:k + m])))
                k += m
            out.append(LyricText(ln.text, f"{pin(phrase[0][0])} {ln.text}", tuple(words)))
        if any(ln.pins for ln in lines):
            log.warning("section %r: its lyric pins are ignored: the notes of %s place "
                        "its lines", s.name, what)
        sections[i] = replace(s, lyrics=tuple(out))
    voices = _harmony_voices(spec, offset, pin)
    voices, worded = _harmony_words(spec.sections, spans, voices, timeline)
    own = [k < len(own_rhythm) and own_rhythm[k] for k in range(len(voices))]
    if not all(own):  # the voices that sing the lead's words (the others hold no notes there)
        sections = _with_harmony(sections, [(what, [] if mine else notes) for (what, notes), mine
                                            in zip(voices, own)], label)
    sung = tuple(_singable(notes, what, label, timeline) if mine else ()
                 for (what, notes), mine in zip(voices, own)) if any(own) else ()
    return replace(spec, sections=tuple(sections),
                   melody=replace(spec.melody, applied=True, harmony_voices=sung,
                                  harmony_lines=worded if any(worded) else ()))


def _line_phrases(lines: list, notes: list, section: str, what: str, kind: str = "lyric",
                  instead: tuple[str, str] = ("its lyrics are sung on a composed melody",
                                              "the section's lyrics are sung on a composed "
                                              "melody")) -> list[list] | None:
    """Each of the parsed lyric ``lines`` of ``section`` on its run of ``notes`` (in order):
    a syllable per note when they are as many, else the notes split into a phrase per line
    at the longest rests (a phrase's extra notes are melismas). None when they do not fit
    (fewer notes than lines, or a line with more syllables than its phrase has notes): a
    warning names the section (and line: ``kind`` line N) and says what happens ``instead``
    (of the whole section, of the section for a line)."""
    counts = [len(ln.syllables) for ln in lines]
    if sum(counts) == len(notes):
        phrases, k = [], 0
        for c in counts:
            phrases.append(notes[k:k + c])
            k += c
        return phrases
    if len(notes) < len(lines):
        log.warning("section %r: %d %s lines but only %d note(s) of %s: %s",
                    section, len(lines), kind, len(notes), what, instead[0])
        return None
    phrases = _phrases(notes, len(lines))
    short = [(j, c, len(ph)) for j, (ph, c) in enumerate(zip(phrases, counts)) if len(ph) < c]
    if short:
        j, c, k = short[0]
        log.warning("section %r, %s line %d: %d syllables but %d note(s) in its phrase of %s: %s",
                    section, kind, j + 1, c, k, what, instead[1])
        return None
    return phrases


def _harmony_words(sections: Sequence, spans: Sequence, voices: list, timeline: "Timeline"
                   ) -> tuple[list, tuple]:
    """The sections' ``harmony_lyrics`` on the written harmony ``voices``' own notes in them
    (each voice sings them on its notes, by the lead's rules: :func:`_line_phrases`);
    ``spans``: each section's ``(start_beat, end_beat)``.

    :returns: the voices without the notes that sing those words, and per voice its worded
        lines ``(section index, line text, ((start_beat, end_beat, pitch, velocity,
        continues), ...))`` (``continues``: a melisma note of the syllable before); a
        warning names a section whose harmony lyrics find no notes or do not fit them (its
        notes are then sung as the rest of the track)."""
    from ainur_cli.compose.lyrics import parse_line
    from ainur_cli.voice.score import MIN_NOTE_S, melisma_counts

    end = float(timeline.total_beats)
    if not any(s.harmony_lyrics for s in sections):
        return voices, tuple(() for _ in voices)
    if not voices:  # the composed harmony's answers (ainur_cli.api warns where there are none)
        return voices, ()
    out_voices, worded = [], []
    for what, notes in voices:
        lines, used = [], set()
        for i, (s, (start, stop)) in enumerate(zip(sections, spans)):
            if not s.harmony_lyrics:
                continue
            inside = [n for n in notes if start <= n[0] < stop]
            mine = [(a, min(b, end), p, v) for a, b, p, v in inside if _lasts(timeline, a, b)]
            if not mine:
                log.warning("section %r: %s has no notes in it: its harmony_lyrics are not "
                            "sung", s.name, what)
                continue
            parsed = [parse_line(t) for t in s.harmony_lyrics]
            phrases = _line_phrases(parsed, mine, s.name, what, "harmony lyric",
                                    ("its harmony lyrics are not sung, its notes are sung as "
                                     "the rest of the track",) * 2)
            if phrases is None:
                continue
            used.update(id(n) for n in inside)
            if len(mine) < len(inside):
                log.warning("section %r: %d note(s) of %s are shorter than %d ms (grace notes): "
                            "not sung", s.name, len(inside) - len(mine), what,
                            round(MIN_NOTE_S * 1000))
            for text, ln, phrase in zip(s.harmony_lyrics, parsed, phrases):
                if not ln.syllables:
                    log.warning("section %r: the harmony lyric %r has nothing to sing: not "
                                "sung", s.name, text)
                    continue
                sung, k = [], 0
                for count in melisma_counts(len(ln.syllables), len(phrase)):
                    sung += [(*n, m > 0) for m, n in enumerate(phrase[k:k + count])]
                    k += count
                lines.append((i, text, tuple(sung)))
        out_voices.append((what, [n for n in notes if id(n) not in used]))
        worded.append(tuple(lines))
    return out_voices, tuple(worded)


def _lasts(timeline: "Timeline", start_beat, end_beat) -> bool:
    """Whether a note from ``start_beat`` to ``end_beat`` (song beats; cut at the song's end)
    lasts the voice's shortest note (:data:`ainur_cli.voice.score.MIN_NOTE_S`) or more."""
    from ainur_cli.voice.score import MIN_NOTE_S

    end = min(end_beat, timeline.total_beats)
    return timeline.beat_to_seconds(end) - timeline.beat_to_seconds(start_beat) >= MIN_NOTE_S


def _singable(notes: list, what: str, label: str, timeline: "Timeline") -> tuple:
    """A written harmony voice's notes (song beats) that are sung in their own rhythm: those
    starting inside the song (ended at its end) and lasting the voice's shortest note or
    more; a warning counts those after the song's end and the short ones (a section
    rendered alone leaves the notes before it silently, as the lead's)."""
    end = float(timeline.total_beats)
    kept = [(a, min(b, end), p, v) for a, b, p, v in notes if 0 <= a < end]
    sung = tuple(n for n in kept if _lasts(timeline, n[0], n[1]))
    _warn_unsung(label, what, sum(1 for a, *_ in notes if a >= end), len(kept) - len(sung))
    return sung


def _warn_unsung(label: str, what: str, late: int, short: int) -> None:
    """Warn (``label``: what the warnings start with) about the ``late`` notes of ``what``
    that start after the song's end and the ``short`` ones (grace notes), not sung."""
    from ainur_cli.voice.score import MIN_NOTE_S

    if late:
        log.warning("%s: %d note(s) of %s start after the song's end: not sung", label, late, what)
    if short:
        log.warning("%s: %d note(s) of %s are shorter than %d ms (grace notes): not sung",
                    label, short, what, round(MIN_NOTE_S * 1000))


def _harmony_voices(spec: "SongSpec", offset: Fraction, pin: Callable[[Fraction], str]
                    ) -> list[tuple[str, list[tuple[float, float, int, int]]]]:
    """The written harmony voices of ``spec.melody`` (its file's ``harmony_tracks``, or a DAW
    project's ``harmony_notes``): ``(what messages call it, [(start_beat, end_beat, pitch,
    velocity)] in song beats)`` per voice, one voice each (:func:`one_voice`).

    :raises SpecError: a track the file does not have or without notes, a note no voice
        can sing (naming the track and where the note is)."""
    from ainur_cli.voice.score import MAX_MIDI, MIN_MIDI

    src, melody = spec.source, spec.melody
    # a DAW project's track is named by the ``melody`` origin, a file's by its field
    at = ("melody",) if melody.harmony_notes else ("melody", "harmony_track")

    def error(message: str, value=..., allowed: str | None = None) -> SpecError:
        return src.error(at, message, value, allowed)

    voices = []
    given = list(melody.harmony_notes) or [
        (f"the harmony track {track} of {melody.path}",
         read_melody(melody.resolved(src.file), track, error))
        for track in melody.harmony_tracks]
    for what, notes in given:
        song = [(a + offset, b + offset, p, v) for a, b, p, v in notes]
        for a, _, p, _ in song:
            if not MIN_MIDI <= p <= MAX_MIDI and a >= 0:
                raise error(f"the note of {what} at {pin(a)} (song bar.beat) is out of any "
                            f"voice's range", f"MIDI {p}", f"MIDI {MIN_MIDI}..{MAX_MIDI} (E1..C7)")
        voices.append((what, [(float(a), float(b), p, v) for a, b, p, v in song]))
    return voices


#: a written harmony note counts as sounding at a lead note that starts up to this many beats
#: before it (a harmony entering a 64th note late, as played in)
HARMONY_LATE_BEATS = 1 / 16


def sounding_at(starts: Sequence[float], notes: Sequence[tuple],
                beat: float) -> int | None:
    """The index of the note of ``notes`` (``(start_beat, end_beat, pitch, ...)``, one voice,
    in order; ``starts`` their start beats) sounding at ``beat``: one that starts up to :data:`HARMONY_LATE_BEATS` after it counts,
    one that ends that close after it does not; None when none does."""
    from bisect import bisect_right

    k = bisect_right(starts, beat + HARMONY_LATE_BEATS) - 1
    return k if k >= 0 and notes[k][1] > beat + HARMONY_LATE_BEATS else None


def _with_harmony(sections: list, voices: list, label: str) -> list:
    """``sections`` with each given melody note (:attr:`~ainur_cli.spec_lyrics.LyricText.
    topline`) carrying the pitch each harmony voice sounds at its start
    (:attr:`~ainur_cli.spec_lyrics.ToplineNote.harmony`); a warning counts the harmony
    notes no syllable of the lead starts on (not sung: the harmony sings the lead's words
    and rhythm)."""
    from ainur_cli.spec_lyrics import LyricText, ToplineWord

    used: list[set[int]] = [set() for _ in voices]
    starts = [[n[0] for n in notes] for _, notes in voices]

    def pitches(beat: float) -> tuple[int | None, ...]:
        out = []
        for k, (_, notes) in enumerate(voices):
            i = sounding_at(starts[k], notes, beat)
            if i is not None:
                used[k].add(i)
            out.append(None if i is None else notes[i][2])
        return tuple(out)

    out = []
    for s in sections:
        lines = []
        for ln in s.lyrics or ():
            if getattr(ln, "topline", ()):
                ln = LyricText(str(ln), ln.pinned, tuple(
                    ToplineWord(w.text, tuple(tuple(replace(n, harmony=pitches(float(n.start_beat)))
                                                    for n in group) for group in w.events))
                    for w in ln.topline))
            lines.append(ln)
        out.append(replace(s, lyrics=tuple(lines)) if s.lyrics else s)
    for k, (what, notes) in enumerate(voices):
        if len(used[k]) < len(notes):
            log.warning("%s: %d of %d note(s) of %s are not sung: the harmony sings the "
                        "lead's syllables, and none of the melody's own notes starts at them",
                        label, len(notes) - len(used[k]), len(notes), what)
    return out


def _phrases(notes: list, count: int) -> list[list]:
    """``notes`` split into ``count`` runs at the ``count - 1`` longest rests (the later rest
    first when two are as long)."""
    gaps = sorted(range(1, len(notes)), key=lambda k: (notes[k][0] - notes[k - 1][1], k),
                  reverse=True)[:count - 1]
    cuts = [0, *sorted(gaps), len(notes)]
    return [notes[x:y] for x, y in zip(cuts, cuts[1:])]
