"""The ``vocals`` stem: the lead melody's lyric notes sung by the offline voice.

A preset (or the spec's ``style:``) may hold a ``vocals:`` block:

```yaml
vocals:
  enabled: true     # default: true when the song has lyrics
  voice: tenor      # ainur_cli.voice.available_voices(): default, tenor, baritone, alto, soprano
  double: false     # two double-tracked takes panned left/right
  harmony: none     # or third-above, third-below, fifth-above/-below, sixth-above/-below,
                    # or a list of two of them (a second and a third voice)
  harmony_sections: [chorus]   # section types where the harmony sings
  harmony_gain_db: -6          # each harmony voice, relative to the lead
  harmony_voice: alto          # who sings the harmony (default: each section's lead voice)
  harmony_sings: words         # or ooh, ah, oh, mm: backing vocals on a vowel (or hummed);
                               # a list of two: each harmony voice's ([words, ooh])
  harmony_rhythm: lead         # or chords: a composed harmony holds the chords' tones (pads);
                               # or echo: it answers each line with the line's last word
  line_end_beats: 2.5          # the longest a lyric line's last note is held (beats)
  section_end_beats: 2.5       # the same for a section's last line (default: line_end_beats)
  section_voices: {Verse 2: alto, Chorus 2: [tenor, alto]}   # who sings which section
```

``section_voices`` gives sections other voices than ``voice`` (a duet): a key is a section
type (every section of that type) or a section's name (that section; it wins over its type's
key), case and spacing aside; a value is a voice, two that sing the section together (each
:data:`DUET_GAIN`, panned :data:`DUET_PAN` left and right), or null (drops the key). Each
voice sings in its own register (its octave placement is chosen over every note it sings),
and a section's first voice sings its harmony lines.

Each singer has a stem (:func:`vocal_stems`): ``vocals`` for the voice of the first sung line,
``vocals-<voice>`` for every other one; one voice gives the ``vocals`` stem alone.

Harmony lines (:mod:`ainur_cli.compose.vocal_harmony`) sing the lead's words and rhythm at
a diatonic interval, fitted to the chord track, with the lead's octave placement; they are
part of the ``vocals`` stem (one voice in the centre, two panned left and right). A written
harmony (the melody clip's ``harmony_track``, a DAW project's harmony track: the pitch it
sounds at each given melody note, see :mod:`ainur_cli.melody_file`) replaces those intervals
and is sung wherever it was written (:func:`harmony_names`).

``harmony_sings`` other than ``words`` sings the harmony on a vowel (``ooh``, ``ah``, ``oh``)
or hummed (``mm``), as backing vocals do (:func:`ainur_cli.vocal_backing.vowel_syllables`): a
written harmony then in its own rhythm, every note of it wherever it sounds (not only with
the lead's syllables); a composed one on the lead's rhythm. A list gives each harmony voice
its own (the first ``harmony_track``'s or interval's first; a voice past its end sings its
last). A section's ``harmony_lyrics`` are sung by a written harmony on its own notes there
(:func:`ainur_cli.vocal_backing.worded_notes`).

``harmony_rhythm: chords`` (a vowel only) makes a composed harmony backing pads instead
(:func:`ainur_cli.vocal_backing.chord_pads`): through each of the ``harmony_sections``
(lyrics or not) each harmony voice holds a tone of the chord sounding, the voices' tones
chosen together (near their last, the chord's third and seventh sung, off the lead's
pitch: :func:`ainur_cli.vocal_backing.pad_voicing`), a breath every few bars. ``harmony_rhythm: echo`` makes it
answer each lead line of the ``harmony_sections`` with the line's last word, in the rest
after it (:func:`_echoes`). Without a written harmony, a section's ``harmony_lyrics`` are
sung by the composed harmony (``lead`` or ``echo`` rhythm) as answers in the lead's rests
(:func:`answer_notes`; placed by :func:`ainur_cli.vocal_backing.answer_rhythms`).

The vocal chain (EQ, de-esser, compression, reverb, delay) is
:data:`ainur_cli.mix.settings.DEFAULT_VOCAL_CHAIN` with the fields of the preset's
``mix.parts.vocals`` (if any) over it; a singer's stem takes ``mix.parts.vocals-<voice>``
(that chain with the singer's own fields over it) where the style gives one. The stems are
mastered with the others (linked).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from ainur_cli.compose.lyrics import parse_lyrics
from ainur_cli.compose.rhythm import line_end_holds
from ainur_cli.compose.types import Composition, Note, Part, running_text
from ainur_cli.compose.vocal_harmony import INTERVALS
from ainur_cli.mix.settings import DEFAULT_VOCAL_CHAIN, SINGER_PREFIX, VOCALS_PART, MixSettings
from ainur_cli.source import (Source, check_keys, expect_mapping, get_bool, get_number, get_str,
                              get_str_list)
from ainur_cli.spec import SECTION_KINDS, section_kind
from ainur_cli.timeline import Timeline
from ainur_cli.vocal_backing import (HarmonyNote, chord_pads, clear_of, rest_after,
                                     vowel_syllables, worded_notes)

VOCALS = VOCALS_PART
HARMONY_CHOICES = ("none", *INTERVALS)
#: ``harmony_sings``: the lead's words, or a vowel (or a hum) every harmony syllable sings
HARMONY_SINGS = ("words", "ooh", "ah", "oh", "mm")
WORDS = HARMONY_SINGS[0]
HARMONY_RHYTHMS = ("lead", "chords", "echo")
MAX_HARMONY_VOICES = 2
HARMONY_RANGE_SEMITONES = 12   # a harmony voice stays within this of the voice's register centre
HARMONY_PAN = 0.35             # two harmony voices: this far left and right (0 centre, 1 hard)
MAX_SECTION_VOICES = 2         # voices that may sing one section together
MAX_OCTAVES = 2                # vocals.octaves: at most this many octaves from the melody as written
DUET_PAN = 0.3                 # two voices singing together: the first this far left, the second right
DUET_GAIN = 0.5 ** 0.5         # each of them -3 dB: the section about as loud as one voice alone


def vocal_settings(raw: Mapping[str, Any], src: Source | None = None) -> dict:
    """Validate a style's ``vocals:`` block → ``{enabled, voice, double, harmony (tuple of
    interval names, empty for none), harmony_sections (tuple of section types),
    harmony_gain_db, harmony_voice (None: each section's lead), harmony_sings (a tuple of
    one or two of :data:`HARMONY_SINGS`: see :func:`sings`), harmony_rhythm (one of
    :data:`HARMONY_RHYTHMS`), line_end_beats,
    section_end_beats, section_voices (``(key as written, (voice, ...))`` pairs), octaves
    (``(voice name, semitones)`` pairs: fixed octave placements)}``
    (``line_end_beats``: the longest a
    lyric line's last note is held, in beats; ``section_end_beats``: the same for a section's
    last line; their defaults are :func:`~ainur_cli.compose.rhythm.line_end_holds`', which the
    melody composer reads too)."""
    from ainur_cli.voice import available_voices

    src = src or Source("<preset>")
    raw = dict(raw or {})
    p = ("vocals",)
    check_keys(raw, ("enabled", "voice", "double", "harmony", "harmony_sections",
                     "harmony_gain_db", "harmony_voice", "harmony_sings", "harmony_rhythm",
                     "line_end_beats", "section_end_beats", "section_voices", "octaves"), src, p)
    for key in ("line_end_beats", "section_end_beats"):  # checked here, defaults below
        get_number(raw, key, src, p, default=None, lo=0.25, hi=8)
    line_end, section_end = line_end_holds(raw)
    sung = _harmony_sings(raw, src)
    rhythm = get_str(raw, "harmony_rhythm", src, p, default="lead", choices=HARMONY_RHYTHMS)
    if rhythm == "chords" and WORDS in sung:  # (an echo may sing words or a vowel)
        raise src.error(p + ("harmony_rhythm",), "holds the chords' tones, which have no words: "
                        "it needs harmony_sings on a vowel", rhythm,
                        "harmony_sings: ooh, ah, oh or mm with it (or harmony_rhythm: lead)")
    kinds = get_str_list(raw, "harmony_sections", src, p, default=["chorus"],
                         choices=SECTION_KINDS, min_len=1, max_len=len(SECTION_KINDS))
    return {
        "enabled": get_bool(raw, "enabled", src, p, default=None),
        "voice": get_str(raw, "voice", src, p, default="default",
                         choices=tuple(available_voices())),
        "double": get_bool(raw, "double", src, p, default=False),
        "harmony": _harmony(raw, src),
        "harmony_sections": tuple(dict.fromkeys(kinds)),
        "harmony_gain_db": get_number(raw, "harmony_gain_db", src, p, default=-6.0, lo=-40, hi=6),
        "harmony_voice": get_str(raw, "harmony_voice", src, p, default=None,
                                 choices=tuple(available_voices())),
        "harmony_sings": sung,
        "harmony_rhythm": rhythm,
        "line_end_beats": line_end,
        "section_end_beats": section_end,
        "section_voices": _section_voices(raw, src),
        "octaves": _octaves(raw, src),
    }


def _harmony_sings(raw: dict, src: Source) -> tuple[str, ...]:
    """``harmony_sings:`` as one of :data:`HARMONY_SINGS` or a list of up to two (one per
    harmony voice) → a tuple."""
    if isinstance(raw.get("harmony_sings"), list):
        return tuple(get_str_list(raw, "harmony_sings", src, ("vocals",), choices=HARMONY_SINGS,
                                  min_len=1, max_len=MAX_HARMONY_VOICES))
    return (get_str(raw, "harmony_sings", src, ("vocals",), default=WORDS, choices=HARMONY_SINGS),)


def sings(settings: dict, voice: int) -> str:
    """What harmony voice ``voice`` (0-based) sings: the lead's words (:data:`WORDS`) or a
    vowel; its ``harmony_sings`` entry, the last one past the list's end."""
    given = settings["harmony_sings"]
    return given[min(voice, len(given) - 1)]


def own_rhythm_voices(settings: dict) -> tuple[bool, ...]:
    """Per written harmony voice (up to :data:`MAX_HARMONY_VOICES`): True where it is sung on
    a vowel, in its own rhythm (:func:`sings`)."""
    return tuple(sings(settings, k) != WORDS for k in range(MAX_HARMONY_VOICES))


def section_key(name: object) -> str:
    """How a ``section_voices`` key and a section's name are compared: case and runs of
    spaces aside (``"Verse  2"`` = ``"verse 2"``)."""
    return " ".join(str(name).split()).lower()


def _section_voices(raw: dict, src: Source) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``section_voices:`` → ``((key as written, (voice, ...)), ...)``: each key a section
    type or a section name (checked against the song by :func:`check_section_voices`), each
    value a voice or a list of two that sing the section together; a null value drops the
    key (a song's way to undo a preset's)."""
    from ainur_cli.voice import available_voices
    from ainur_cli.voice.voices import get_voice

    p = ("vocals", "section_voices")
    given = expect_mapping(raw.get("section_voices"), src, p,
                           "a mapping of section names or types to voices")
    choices = tuple(available_voices())
    out: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    for key in given:
        text = str(key).strip()
        if isinstance(key, bool) or not text or len(text) > 200:
            raise src.error(p + (key,), "must be a section name or type", key,
                            "a section type (" + ", ".join(SECTION_KINDS) + ") or a section's name")
        norm = section_key(text)
        if norm in seen:
            raise src.error(p + (key,), "names the same section as another key", key,
                            f"one key per section (this one repeats {seen[norm]!r})")
        seen[norm] = text
        if given[key] is None:
            continue
        if isinstance(given[key], list):
            names = get_str_list(given, key, src, p, choices=choices, min_len=1,
                                 max_len=MAX_SECTION_VOICES)
            if len({get_voice(n).name for n in names}) < len(names):
                raise src.error(p + (key,), "names the same voice twice", given[key],
                                "one voice, or two different ones that sing together")
        else:
            names = [get_str(given, key, src, p, choices=choices)]
        out.append((text, tuple(names)))
    return tuple(out)


def _octaves(raw: dict, src: Source) -> tuple[tuple[str, int], ...]:
    """``octaves:`` (voice → octaves from the melody as written, -2..2, or ``auto``) →
    ``((voice name, semitones), ...)`` for the voices given a fixed placement."""
    from ainur_cli.voice import available_voices
    from ainur_cli.voice.voices import get_voice

    p = ("vocals", "octaves")
    given = expect_mapping(raw.get("octaves"), src, p, "a mapping of voices to octaves")
    choices = tuple(available_voices())
    out: dict[str, int] = {}
    for key in given:
        if str(key).strip().lower() not in choices:
            raise src.error(p + (key,), "is not a known voice", key, "one of " + ", ".join(choices))
        name = get_voice(str(key).strip().lower()).name
        if name in out:
            raise src.error(p + (key,), "names the same voice twice", key,
                            f"one key per voice ('default' is {name})")
        if isinstance(given[key], str) and given[key].strip().lower() == "auto":
            continue
        out[name] = 12 * get_number(given, key, src, p, lo=-MAX_OCTAVES, hi=MAX_OCTAVES,
                                    integer=True)
    return tuple(out.items())


def check_section_voices(settings: dict, section_names: list[str], src: Source) -> None:
    """Every ``section_voices`` key must be a section type or the name of one of the song's
    sections (a typo must not leave a section with the wrong singer).

    :raises AinurError: (``src``'s error class) naming the key and what is allowed."""
    names = {section_key(n) for n in section_names}
    for key, _ in settings["section_voices"]:
        norm = section_key(key)
        if norm not in SECTION_KINDS and norm not in names:
            raise src.error(("vocals", "section_voices", key), "names no section of the song", key,
                            "a section type (" + ", ".join(SECTION_KINDS) + ") or one of the "
                            "song's sections: " + ", ".join(dict.fromkeys(section_names)))


def voices_for_section(settings: dict, name: str, kind: str | None = None) -> tuple[str, ...]:
    """The names of the voices (``"default"`` resolved; one, or two that sing together) that
    sing the section called ``name`` of type ``kind`` (default: the type its name gives): its
    ``section_voices`` entry by name, else by type, else ``settings["voice"]``."""
    from ainur_cli.voice.voices import get_voice

    by_key = {section_key(k): v for k, v in settings["section_voices"]}
    norm = section_key(name)
    kind = kind or section_kind(norm)
    entry = by_key.get(norm) if norm not in SECTION_KINDS else None
    return tuple(get_voice(v).name for v in entry or by_key.get(kind) or (settings["voice"],))


def line_voices(composition: Composition, settings: dict) -> dict[int, tuple[str, ...]]:
    """Lyric line index → the names of the voices that sing it (:func:`voices_for_section`
    of its section; the first is the line's lead, who also sings its harmony)."""
    return {m["line_index"]: voices_for_section(settings, m.get("section_name", ""),
                                                m.get("section_kind"))
            for m in composition.metadata.get("lines", [])}


def sung_by(composition: Composition, settings: dict) -> dict[str, str | list[str]]:
    """Section name → the voice that sings its lyric lines, or the list of two that sing
    them together (sections with lyrics only)."""
    voice_of = line_voices(composition, settings)
    return {m["section_name"]: voices_as_written(voice_of[m["line_index"]])
            for m in composition.metadata.get("lines", []) if "section_name" in m}


def voices_as_written(voices: tuple[str, ...]) -> str | list[str]:
    """One voice (or ``harmony_sings`` value) as its name, two as a list (how
    ``section_voices`` and ``harmony_sings`` take them)."""
    return voices[0] if len(voices) == 1 else list(voices)


def _line_kinds(composition: Composition) -> dict[int, str]:
    """Lyric line index → the type of its section."""
    return {m["line_index"]: m.get("section_kind") or section_kind(m.get("section_name", ""))
            for m in composition.metadata.get("lines", [])}


def _written_harmony(composition: Composition) -> dict[int, dict[float, tuple]]:
    """Lyric line index → {start beat of a lead note: the pitch each written harmony voice
    sings with it, None where it rests} (the melody file's or DAW track's harmony,
    :attr:`ainur_cli.spec.MelodySpec.harmony_tracks`); empty without one."""
    return {m["line_index"]: {round(float(h[0]), 6): tuple(h[1:]) for h in m["harmony"]}
            for m in composition.metadata.get("lines", []) if m.get("harmony")}


def _written_tracks(composition: Composition) -> list[list]:
    """A written harmony's voices sung in their own rhythm (``harmony_sings`` a vowel): per
    written voice its notes ``[start_beat, end_beat, pitch, velocity, section index]``
    (:func:`ainur_cli.compose.song.compose_song`'s ``harmony_voices``; none for a voice that
    sings the lead's words); empty without one."""
    return composition.metadata.get("harmony_voices", [])


def _written_lines(composition: Composition) -> list[list]:
    """The sections' ``harmony_lyrics`` as the written harmony voices sing them: per voice
    its lines ``[section index, text, [[start_beat, end_beat, pitch, velocity, continues],
    ...]]`` (:func:`ainur_cli.compose.song.compose_song`'s ``harmony_lines``); empty
    without any."""
    return composition.metadata.get("harmony_lines", [])


def _written_count(composition: Composition) -> int:
    """How many written harmony voices the composition holds (with the lead's syllables, in
    their own rhythm, or with their own words)."""
    written = _written_harmony(composition)
    return max(len(_written_tracks(composition)), len(_written_lines(composition)),
               max((len(p) for at in written.values() for p in at.values()), default=0))


def _harmonised_lines(composition: Composition, settings: dict,
                      written: dict[int, dict[float, tuple]]) -> set[int]:
    """Lyric line indices the harmony sings in: those a written harmony (``written``,
    :func:`_written_harmony`) sounds in; without one, with the style's intervals, the lines
    of the ``harmony_sections``."""
    if written:
        return set(written)
    if not settings["harmony"]:
        return set()
    return {index for index, kind in _line_kinds(composition).items()
            if kind in settings["harmony_sections"]}


def harmony_names(composition: Composition, settings: dict) -> tuple[str, ...]:
    """The song's harmony voices: ``written`` (``written 1``, ``written 2``) where the melody
    comes with written harmony, which replaces the style's composed intervals; else the
    style's ``harmony`` interval names (empty: no harmony)."""
    count = _written_count(composition)
    if count:
        return ("written",) if count == 1 else tuple(f"written {k + 1}" for k in range(count))
    return tuple(settings["harmony"])


def _written_pitched(lines: list, written: dict[int, dict[float, tuple]], count: int
                     ) -> list[list[tuple[Note, Any, int]]]:
    """Per written harmony voice ``(lead Note, its SungNote, written pitch)``: a syllable is
    sung where the voice has a pitch at its first note; its melisma notes follow the
    voice's pitch at them (the one before where it has none)."""
    voices: list[list] = [[] for _ in range(count)]
    for index, notes, sung in lines:
        at = written.get(index)
        if not at:
            continue
        for k in range(count):
            sings, pitch = False, None
            for n, s in zip(notes, sung):
                given = at.get(round(float(n.start_beat), 6), ())
                mine = given[k] if k < len(given) else None
                if n.lyric != "":  # a syllable's first note
                    sings, pitch = mine is not None, mine
                elif mine is not None:
                    pitch = mine
                if sings:
                    voices[k].append((n, s, pitch))
    return voices


def _pad_sections(composition: Composition, settings: dict) -> list[list]:
    """The sections chord pads sing in (``harmony_rhythm: chords`` with composed harmony and
    no written one): ``[index, name, type, start_beat, end_beat]`` of each of the
    ``harmony_sections``; empty otherwise."""
    if settings["harmony_rhythm"] != "chords" or not settings["harmony"] or \
            _written_count(composition):
        return []
    return [s for s in composition.metadata.get("sections", [])
            if s[2] in settings["harmony_sections"]]


def _section_lead(composition: Composition, settings: dict, index: int) -> str:
    """The voice that leads the composition's section ``index`` (:func:`voices_for_section`
    of its name and type, ``metadata["sections"]``)."""
    _, name, kind, *_ = composition.metadata["sections"][index]
    return voices_for_section(settings, name, kind)[0]


def _written_vowels(composition: Composition, track: list, vowel: str, settings: dict,
                    timeline: Timeline) -> list[HarmonyNote]:
    """A written harmony voice's own notes (one voice of :func:`_written_tracks`) on
    ``vowel``, each note sung by its section's lead voice (:func:`_section_lead`)."""
    return vowel_syllables([(a, b, p, v, _section_lead(composition, settings, index), index)
                            for a, b, p, v, index in track], vowel, timeline)


def _placed_groups(notes: list, voice_of: dict, default: str) -> dict[tuple[str, int], list]:
    """SungNotes by ``(voice, place)``: place 0 where the voice sings the note's line alone,
    1 or 2 where it is the first or second of two that sing it together; in the order they
    first sing, each group in the notes' order."""
    groups: dict[tuple[str, int], list] = {}
    for n in notes:
        voices = voice_of.get(n.line_index, (default,))
        for k, voice in enumerate(voices):
            groups.setdefault((voice, 0 if len(voices) == 1 else k + 1), []).append(n)
    return groups


def _by_voice(notes: list, voice_of: dict, default: str) -> dict[str, list]:
    """SungNotes grouped by the voices that sing them (a note two sing together is in both
    groups), in the order the voices first sing; each group in the notes' order."""
    groups: dict[str, list] = {}
    for n in notes:
        for voice in voice_of.get(n.line_index, (default,)):
            groups.setdefault(voice, []).append(n)
    return groups


def _harmony(raw: dict, src: Source) -> tuple[str, ...]:
    """``harmony:`` as one interval name or a list of up to two → a tuple (none → ())."""
    p = ("vocals", "harmony")
    value = raw.get("harmony")
    if value is None:
        return ()
    if isinstance(value, list):
        names = get_str_list(raw, "harmony", src, p[:1], choices=HARMONY_CHOICES, min_len=1,
                             max_len=MAX_HARMONY_VOICES)
    else:
        names = [get_str(raw, "harmony", src, p[:1], choices=HARMONY_CHOICES)]
    if names == ["none"]:
        return ()
    for i, name in enumerate(names):
        at = p + (i,) if isinstance(value, list) else p
        if name == "none":
            raise src.error(at, "'none' cannot be combined with harmony voices", name,
                            "none alone, or up to two of " + ", ".join(INTERVALS))
        if name in names[:i]:
            raise src.error(at, "names the same harmony twice", name,
                            "two different intervals, e.g. [third-above, sixth-below]")
    return tuple(names)


def wants_vocals(settings: dict, composition: Composition, lead: str = "lead") -> bool:
    """Vocals are sung when enabled (default: when the lead carries lyrics)."""
    if settings["enabled"] is False:
        return False
    try:
        return any(n.lyric for n in composition.part(lead).notes)
    except KeyError:
        return False


def _lead_lines(composition: Composition, timeline: Timeline, lead: str
                ) -> list[tuple[int, list[Note], list]]:
    """``(line index, the lead's lyric notes, their SungNotes)`` per lyric line, in order."""
    from ainur_cli.voice import notes_for_line

    lines = {m["line_index"]: m["text"] for m in composition.metadata.get("lines", [])}
    by_line: dict[int, list] = {}
    for n in composition.part(lead).notes:
        if n.lyric is not None and n.line_index >= 0:
            by_line.setdefault(n.line_index, []).append(n)
    out = []
    for index in sorted(by_line):
        notes = by_line[index]
        line = parse_lyrics([lines.get(index) or _words_of_notes(notes)])[0]
        starts = [float(timeline.beat_to_seconds(n.start_beat)) for n in notes]
        ends = [float(timeline.beat_to_seconds(n.start_beat + n.duration_beats)) for n in notes]
        out.append((index, notes, notes_for_line(line, starts, [e - s for s, e in zip(starts, ends)],
                                                 [n.pitch for n in notes], index,
                                                 [n.lyric == "" for n in notes])))
    return out


def _words_of_notes(notes) -> str:
    """A line's text from its notes' lyrics (``"Walk-"`` ``"ing"`` → ``"Walking"``)."""
    return "".join(running_text(n.lyric) for n in notes if n.lyric).strip()


def sung_notes(composition: Composition, timeline: Timeline, lead: str = "lead") -> list:
    """The lead's lyric notes as :class:`ainur_cli.voice.SungNote`, line by line."""
    return [s for _, _, sung in _lead_lines(composition, timeline, lead) for s in sung]


def sung_notes_by_voice(composition: Composition, timeline: Timeline, settings: dict,
                        lead: str = "lead", lines: list | None = None) -> dict[str, list]:
    """The lead's lyric notes as SungNotes grouped by the voice that sings them
    (:func:`line_voices`; voice names resolved, in the order the voices first sing; each
    group in song order). ``lines``: the lead's :func:`_lead_lines` when the caller has them."""
    from ainur_cli.voice.voices import get_voice

    if lines is None:
        lines = _lead_lines(composition, timeline, lead)
    notes = [s for _, _, sung in lines for s in sung]
    return _by_voice(notes, line_voices(composition, settings), get_voice(settings["voice"]).name)


def voice_shifts(composition: Composition, settings: dict, lines: list,
                 timeline: Timeline) -> dict[str, int]:
    """Each singing voice's octave placement in semitones (one per voice for the whole
    song): ``settings["octaves"]`` where given, else :func:`ainur_cli.voice.sung_octave_shift`
    over the lead notes it sings, and for a voice that sings harmony but no lead line (the
    ``harmony_voice``, or a section's voice singing only a written harmony's vowels) over
    the harmony notes it sings. ``lines`` are the lead's :func:`_lead_lines`."""
    from ainur_cli.voice import sung_octave_shift
    from ainur_cli.voice.voices import get_voice

    fixed = dict(settings["octaves"])
    default = get_voice(settings["voice"]).name
    notes = [s for _, _, sung in lines for s in sung]
    shifts = {voice: fixed[voice] if voice in fixed else sung_octave_shift(group, voice)
              for voice, group in _by_voice(notes, line_voices(composition, settings),
                                            default).items()}
    if not harmony_names(composition, settings):
        return shifts
    singer = settings["harmony_voice"]
    singer = None if singer is None else get_voice(singer).name
    if singer in shifts or (singer is None and not _written_tracks(composition)
                            and not _written_lines(composition)
                            and not _pad_sections(composition, settings)):
        return shifts  # the harmony is sung by voices that sing the lead
    groups: dict[str, list] = {}
    for line in _harmony_pitched(composition, settings, lines, shifts, timeline):
        for h in line:
            groups.setdefault(singer or h.voice, []).append(h.sung)
    for voice, group in groups.items():
        if voice not in shifts:
            shifts[voice] = fixed.get(voice, sung_octave_shift(group, voice))
    return shifts


def harmony_notes(composition: Composition, timeline: Timeline, settings: dict,
                  lead: str = "lead", lines: list | None = None
                  ) -> tuple[list[list], dict[str, int]]:
    """The harmony voices of :func:`harmony_names` as SungNotes (the lead's notes in the
    ``harmony_sections``, re-pitched by :func:`ainur_cli.compose.vocal_harmony.harmony_pitches`
    in the song's key and chords; or the lead's notes at a written harmony's pitches, where
    it sounds; on a vowel, :func:`vowel_syllables`) and the octave shift of each singing
    voice, which the harmony it sings is sung with.

    :param lines: the lead's lines (:func:`_lead_lines`) when the caller has them already.
    :returns: (one list of SungNotes per harmony voice, {voice name: semitones it adds to the
        notes it sings}; ``([], {})`` without harmony).
    """
    voices, shifts = _harmony_lines(composition, timeline, settings, lead, lines)
    return [[h.sung for h in line] for line in voices], shifts


def harmony_parts(composition: Composition, timeline: Timeline, settings: dict,
                  lead: str = "lead") -> tuple[Part, ...]:
    """The harmony voices as parts for the MIDI export, one per voice named
    ``"harmony <interval>"`` (``"harmony written"``): the lead's own notes (beats, lengths,
    velocities, lyrics) at the harmony's pitches, or a vowel's notes (:func:`vowel_syllables`:
    a written harmony's own), on the lead's program and the lowest MIDI channels no part
    uses (the lead's channel when none is free). ``()`` without harmony.

    The pitches are the ones :func:`harmony_notes` sings (before the octave shift).
    """
    voices, _ = _harmony_lines(composition, timeline, settings, lead)
    if not any(voices):
        return ()
    part = composition.part(lead)
    used = {p.channel for p in composition.parts} | {9}
    free = [c for c in range(16) if c not in used] + [part.channel] * len(voices)
    return tuple(
        Part(f"harmony {interval}", part.program, False, free[k], tuple(h.note for h in line))
        for k, (interval, line) in enumerate(zip(harmony_names(composition, settings), voices)))


def _harmony_lines(composition: Composition, timeline: Timeline, settings: dict, lead: str,
                   lines: list | None = None) -> tuple[list[list[HarmonyNote]], dict[str, int]]:
    """The :func:`_harmony_pitched` notes of every harmony voice and each singing voice's
    octave shift (:func:`voice_shifts`; ``([], {})`` without harmony); ``lines`` are the
    lead's :func:`_lead_lines` (computed here when None)."""
    if not harmony_names(composition, settings):
        return [], {}
    if lines is None:
        lines = _lead_lines(composition, timeline, lead)
    shifts = voice_shifts(composition, settings, lines, timeline)
    return _harmony_pitched(composition, settings, lines, shifts, timeline), shifts


def _echoes(composition: Composition, settings: dict, lines: list, shifts: dict[str, int],
            timeline: Timeline, skip: set[int] = frozenset()) -> list[list[HarmonyNote]]:
    """``harmony_rhythm: echo``: per harmony voice (one per ``harmony`` interval) the last
    word of each lead line of the ``harmony_sections`` sung again in the rest after the line:
    its notes' rhythm and lengths, moved to start on the first beat of the rest after the
    line (:func:`ainur_cli.vocal_backing.rest_after`), at the voice's interval from the
    lead's pitches in the chords sounding *then* (as a composed harmony line, near the
    register of the line's voice), on the word (or ``harmony_sings``' vowel). A line whose
    echo would not end within that rest has none, and so has a line of ``skip`` (a section that answers with its own
    words: :func:`answer_notes`). Each echo is a phrase of its own."""
    from ainur_cli.voice import notes_for_line

    harmonised = _harmonised_lines(composition, settings, {})
    harmonise = _harmoniser(composition, settings, shifts)
    song_end = float(timeline.total_beats)
    firsts = [float(notes[0].start_beat) for _, notes, _ in lines]
    index = 1 + max((i for i, *_ in lines), default=-1)  # phrase indices after the lead's
    voices: list[list] = [[] for _ in settings["harmony"]]
    for j, (line, notes, sung) in enumerate(lines):
        if line not in harmonised or line in skip:
            continue
        w = max(i for i, s in enumerate(sung) if s.is_word_start and not s.is_melisma)
        word, end = notes[w:], float(notes[-1].start_beat + notes[-1].duration_beats)
        start, last = rest_after(end, firsts[j + 1] if j + 1 < len(lines) else song_end)
        shift = start - float(word[0].start_beat)
        if end + shift > last + 1e-9:
            continue
        starts = [float(timeline.beat_to_seconds(n.start_beat + shift)) for n in word]
        ends = [float(timeline.beat_to_seconds(n.start_beat + n.duration_beats + shift))
                for n in word]
        voice, chosen = harmonise(line, [n.pitch for n in word],
                                  [n.start_beat + shift for n in word])
        for k, pitches in enumerate(chosen):
            vowel = sings(settings, k)
            if vowel != WORDS:
                voices[k] += vowel_syllables(
                    [(n.start_beat + shift, n.start_beat + n.duration_beats + shift, p,
                      n.velocity, voice, index) for n, p in zip(word, pitches)], vowel,
                    timeline)
                continue
            again = notes_for_line(parse_lyrics([sung[w].word])[0], starts,
                                   [b - a for a, b in zip(starts, ends)], pitches, index,
                                   [n.lyric == "" for n in word])
            voices[k] += [HarmonyNote(replace(n, start_beat=n.start_beat + shift, pitch=p,
                                              line_index=-1), s, voice)
                          for n, s, p in zip(word, again, pitches)]
        index += 1
    return voices


def answers_sung(settings: dict) -> bool:
    """Whether the composed harmony sings the sections' ``harmony_lyrics`` as answers in the
    lead's rests (where no written harmony sings them): it has voices (``harmony``) and
    they are not chord pads (which hold through the rests)."""
    return bool(settings["harmony"]) and settings["harmony_rhythm"] != "chords"


def answer_notes(composition: Composition, settings: dict, lines: list, shifts: dict[str, int],
                 timeline: Timeline) -> tuple[list[list], set[int]]:
    """The composed harmony's answers (``metadata["harmony_answers"]``, placed in the lead's
    rests by :func:`ainur_cli.vocal_backing.answer_rhythms`) pitched: the tune is the lead
    line's last syllables' pitches (as many as the answer has syllables; the line's first
    repeated before them where it has fewer), each harmony voice at its interval from them
    in the chords sounding then (near the register of the line's voice), at the velocity of
    the line's last note.

    :returns: per harmony voice its answers as :func:`ainur_cli.vocal_backing.worded_notes`
        takes them (``[section index, text, [[start_beat, end_beat, pitch, velocity,
        False], ...]]``), and the indices of the lead lines in sections that answer (sung
        or not: no echo there)."""
    voices: list[list] = [[] for _ in settings["harmony"]]
    answers = composition.metadata.get("harmony_answers", [])
    if not answers or not answers_sung(settings):
        return voices, set()
    answering = {i for i, *_ in answers}
    sections = composition.metadata.get("sections", [])
    covered = {line for line, notes, _ in lines
               if any(s[0] in answering and s[3] <= notes[0].start_beat < s[4] for s in sections)}
    harmonise = _harmoniser(composition, settings, shifts)
    notes_of = {line: notes for line, notes, _ in lines}
    for section, line, text, spans in answers:
        notes = notes_of[line]
        tune = [n.pitch for n in notes if n.lyric]
        tune = ([tune[0]] * len(spans) + tune)[-len(spans):]
        _, chosen = harmonise(line, tune, [a for a, _ in spans])
        for k, pitches in enumerate(chosen):
            voices[k].append([section, text, [[a, b, p, notes[-1].velocity, False]
                                              for (a, b), p in zip(spans, pitches)]])
    return voices, covered


def _harmoniser(composition: Composition, settings: dict, shifts: dict[str, int]):
    """``harmonise(line index, lead pitches, beats)`` → (the voice that leads the line, per
    ``harmony`` interval its pitches against the lead's in the chords sounding at those
    beats and the song's key, near that voice's register: :func:`_interval_pitches`): a
    composed harmony line, an echo or an answer of the line, as its lead voice sings it
    (given the lead voices' octave ``shifts``)."""
    from ainur_cli.compose.harmony import ChordTrack
    from ainur_cli.key import parse_key
    from ainur_cli.voice.voices import get_voice

    voice_of = line_voices(composition, settings)
    main = get_voice(settings["voice"]).name
    scale = parse_key(composition.metadata.get("key", "C major")).scale_pcs
    track = ChordTrack(composition.chords) if composition.chords else None

    def harmonise(line: int, pitches: list[int], beats: list) -> tuple[str, list[list[int]]]:
        voice = voice_of.get(line, (main,))[0]  # the line's lead sings its harmony
        chords = [track.at(b).pitch_classes if track else () for b in beats]
        return voice, _interval_pitches(settings, pitches, chords, scale,
                                        get_voice(voice).centre_midi - shifts[voice])

    return harmonise


def _interval_pitches(settings: dict, lead: list[int], chords: list, scale: tuple,
                      centre: int) -> list[list[int]]:
    """Per ``harmony`` interval its pitches against the ``lead``'s (one per note; ``chords``:
    the pitch classes sounding at each, ``scale``: the key's) within
    :data:`HARMONY_RANGE_SEMITONES` of ``centre`` (the register centre of the voice that
    leads, in written pitches), never doubling an interval chosen before it
    (:func:`ainur_cli.compose.vocal_harmony.harmony_pitches`)."""
    from ainur_cli.compose.vocal_harmony import harmony_pitches

    chosen: list[list[int]] = []
    for interval in settings["harmony"]:
        chosen.append(harmony_pitches(lead, chords, scale, interval,
                                      centre - HARMONY_RANGE_SEMITONES,
                                      centre + HARMONY_RANGE_SEMITONES, chosen))
    return chosen


def _harmony_pitched(composition: Composition, settings: dict, lines: list,
                     shifts: dict[str, int], timeline: Timeline) -> list[list[HarmonyNote]]:
    """Per harmony voice the notes it sings: a written harmony's own notes on a vowel
    (:func:`_written_vowels`); or the lead's notes where a written harmony sounds with them,
    at its pitches; or the lead's notes in the ``harmony_sections`` at the style's
    intervals, near the register of the voice that leads the line (given the lead voices'
    ``shifts``); on a vowel where ``harmony_sings`` names one. Each note's voice is the
    lead of its line (of its section: a written harmony's own notes)."""
    from ainur_cli.voice.voices import get_voice

    voice_of = line_voices(composition, settings)
    main = get_voice(settings["voice"]).name
    written = _written_harmony(composition)
    tracks, worded = _written_tracks(composition), _written_lines(composition)
    pad_sections = _pad_sections(composition, settings)
    if pad_sections:
        def centre_of(name: str, kind: str) -> tuple[str, int, int]:
            voice = voices_for_section(settings, name, kind)[0]
            singer = get_voice(settings["harmony_voice"] or voice).name
            shift = shifts.get(singer, 0)
            return voice, get_voice(singer).centre_midi - shift, shift

        sounding = [(n.start_beat, n.start_beat + n.duration_beats, n.pitch + shifts.get(v, 0))
                    for index, notes, _ in lines for n in notes
                    for v in voice_of.get(index, (main,))]
        pads = chord_pads(pad_sections, list(composition.chords),
                          settings["harmony"], centre_of, timeline, sounding)
        return [vowel_syllables(notes, sings(settings, k), timeline)
                for k, notes in enumerate(pads)]
    answers, covered = answer_notes(composition, settings, lines, shifts, timeline)
    first = 1 + max((i for i, *_ in lines), default=-1)  # own words: phrase indices after the lead's
    if written or tracks or worded:
        voices = _written_pitched(lines, written, _written_count(composition))
    elif settings["harmony_rhythm"] == "echo":
        echoes = _echoes(composition, settings, lines, shifts, timeline, covered)
        first = 1 + max((h.sung.line_index for line in echoes for h in line), default=first - 1)
        return _with_answers(echoes, answers, composition, settings, timeline, first)
    else:
        voices = [[] for _ in settings["harmony"]]
        harmonised = _harmonised_lines(composition, settings, written)
        harmonise = _harmoniser(composition, settings, shifts)
        for index, notes, sung in lines:
            if index not in harmonised:
                continue
            _, chosen = harmonise(index, [n.pitch for n in notes], [n.start_beat for n in notes])
            for k, pitches in enumerate(chosen):
                voices[k] += list(zip(notes, sung, pitches))
    out = []
    for k, line in enumerate(voices):
        vowel = sings(settings, k)
        if k < len(tracks) and tracks[k]:  # a written voice in its own rhythm
            notes = _written_vowels(composition, tracks[k], vowel, settings, timeline)
        elif vowel != WORDS:
            notes = vowel_syllables([(n.start_beat, n.start_beat + n.duration_beats, p,
                                      n.velocity, voice_of.get(n.line_index, (main,))[0],
                                      n.line_index) for n, _, p in line], vowel, timeline)
        else:
            notes = [HarmonyNote(replace(n, pitch=p), replace(s, midi_pitch=p),
                                 voice_of.get(n.line_index, (main,))[0]) for n, s, p in line]
        if k < len(worded) and worded[k]:  # the sections' harmony lyrics, on its own notes
            own = worded_notes(worded[k], lambda index: _section_lead(
                composition, settings, index), timeline, first)
            notes = sorted(clear_of(notes, own) + own, key=lambda h: h.note.start_beat)
            first += len(worded[k])
        out.append(notes)
    return _with_answers(out, answers, composition, settings, timeline, first)


def _with_answers(voices: list[list[HarmonyNote]], answers: list[list], composition: Composition,
                  settings: dict, timeline: Timeline, first: int) -> list[list[HarmonyNote]]:
    """Each harmony voice's notes with its answers (:func:`answer_notes`) sung in among them,
    each answer a phrase of its own (indices from ``first`` on), by its section's lead
    voice (or ``harmony_voice``)."""
    out = []
    for k, notes in enumerate(voices):
        mine = answers[k] if k < len(answers) else []
        if mine:
            notes = sorted(notes + worded_notes(mine, lambda index: _section_lead(
                composition, settings, index), timeline, first), key=lambda h: h.note.start_beat)
            first += len(mine)
        out.append(notes)
    return out


def song_octaves(composition: Composition, timeline: Timeline, settings: dict,
                 lead: str = "lead") -> dict[str, int]:
    """Every singing voice's octave placement in the song, in semitones
    (:func:`voice_shifts`): what a render of one section passes on as ``vocals.octaves`` so
    that it is sung where the whole song sings it."""
    return voice_shifts(composition, settings, _lead_lines(composition, timeline, lead), timeline)


def vocal_stems(composition: Composition, settings: dict, lead: str = "lead") -> dict[str, str]:
    """Stem name → the voice whose singing it holds: ``vocals`` for the voice that sings the
    first lyric line, ``vocals-<voice>`` for every other voice that sings (a lead line, the
    harmony as ``harmony_voice``, or a written harmony's vowels as a section's voice), in the
    order they first sing (harmony singers after the leads). One voice: ``{"vocals": its
    name}``. Each voice's harmony lines and doubles are in its own stem."""
    from ainur_cli.voice.voices import get_voice

    default = get_voice(settings["voice"]).name
    voice_of = line_voices(composition, settings)
    try:
        indices = sorted({n.line_index for n in composition.part(lead).notes
                          if n.lyric is not None and n.line_index >= 0})
    except KeyError:
        indices = []
    singers = list(dict.fromkeys(v for i in indices for v in voice_of.get(i, (default,))))
    # notes of the harmony's own (a written harmony's vowels and words, chord pads):
    # (start beat, section index)
    own = [(n[0], n[4]) for track in _written_tracks(composition) for n in track] + \
        [(notes[0][0], index) for voice in _written_lines(composition)
         for index, _, notes in voice] + \
        [(a, index) for index, _, _, a, _ in _pad_sections(composition, settings)]
    if answers_sung(settings):  # answers in the lead's rests
        own += [(spans[0][0], index) for index, _, _, spans in
                composition.metadata.get("harmony_answers", [])]
    if settings["harmony_voice"] is not None and (own or _harmonised_lines(
            composition, settings, _written_harmony(composition)) & set(indices)):
        singers.append(get_voice(settings["harmony_voice"]).name)
    elif own:  # each section's lead sings them
        singers += [_section_lead(composition, settings, index) for _, index in sorted(own)]
    singers = list(dict.fromkeys(singers)) or [default]
    return {VOCALS if k == 0 else SINGER_PREFIX + voice: voice for k, voice in enumerate(singers)}


def render_vocals(composition: Composition, timeline: Timeline, settings: dict, *, seed: int,
                  total_samples: int, workers: int | None = None,
                  singer: str | None = None) -> np.ndarray:
    """The dry vocal stem, (2, total_samples) float32 at ``timeline.sample_rate``: the lead
    (each section by its voice, see :func:`line_voices`; two voices that sing a section
    together each :data:`DUET_GAIN`, the first :data:`DUET_PAN` left, the second right) and,
    in the harmony sections, its harmony voices (``harmony_gain_db`` below it, sung by the
    section's first voice, or by ``harmony_voice`` in that voice's own register). Each voice
    sings the lead in one octave placement, chosen over every lead note it sings
    (:func:`voice_shifts`).

    :param workers: processes for the phrases (see :func:`ainur_cli.voice.sing`; None: the
        voice's choice). The result does not depend on it.
    :param singer: only this voice's singing (its lead lines, doubles and harmony lines: one
        stem of :func:`vocal_stems`); None: every voice. The voices' stems sum to the whole."""
    from ainur_cli.voice import shared_phrases

    with shared_phrases():  # a duet's voice alone and with another: shared phrases once
        return _render_vocals(composition, timeline, settings, seed=seed,
                              total_samples=total_samples, workers=workers, singer=singer)


def _render_vocals(composition: Composition, timeline: Timeline, settings: dict, *, seed: int,
                   total_samples: int, workers: int | None, singer: str | None) -> np.ndarray:
    from ainur_cli.compose.seeds import seed_for
    from ainur_cli.voice import sing
    from ainur_cli.voice.voices import get_voice

    lines = _lead_lines(composition, timeline, "lead")  # syllabified once for lead and harmony
    voice_of = line_voices(composition, settings)
    default = get_voice(settings["voice"]).name
    shifts = voice_shifts(composition, settings, lines, timeline)
    notes = [s for _, _, sung in lines for s in sung]
    out = None
    for (voice, place), group in _placed_groups(notes, voice_of, default).items() or [
            ((default, 0), [])]:
        if singer is not None and voice != singer:
            continue
        y = sing(group, sample_rate=timeline.sample_rate, total_samples=total_samples,
                 voice=voice, seed=seed, double=settings["double"], workers=workers,
                 octave_shift=shifts.get(voice, 0))
        if place:
            y *= (DUET_GAIN * _sides((-DUET_PAN, DUET_PAN)[place - 1]))[:, np.newaxis]
        out = y if out is None else out + y
    voices = _harmony_pitched(composition, settings, lines, shifts, timeline)
    gain = 10.0 ** (settings["harmony_gain_db"] / 20.0)
    # Another singer (harmony_voice) sings every harmony line, in its own octave placement
    # (one for the whole song, so two lines keep their interval; see voice_shifts).
    other = settings["harmony_voice"] and get_voice(settings["harmony_voice"]).name
    for k, line in enumerate(voices):
        sides = _sides(0.0 if len(voices) == 1 else (-HARMONY_PAN, HARMONY_PAN)[k])
        groups: dict[tuple[str, float], list] = {}  # by singer, and a hum's gain apart
        for h in line:
            groups.setdefault((other or h.voice, h.gain_db), []).append(h.sung)
        for (voice, gain_db), group in groups.items():
            if singer is not None and voice != singer:
                continue
            y = sing(group, sample_rate=timeline.sample_rate, total_samples=total_samples,
                     voice=voice, seed=seed_for(seed, "harmony", k), octave_shift=shifts[voice],
                     breaths=False, workers=workers)
            if gain_db:
                y *= np.float32(10.0 ** (gain_db / 20.0))
            y = (gain * sides)[:, np.newaxis].astype(np.float32) * y
            if out is None:
                out = y
            else:
                out += y
    return out if out is not None else np.zeros((2, total_samples), dtype=np.float32)


def _sides(pan: float) -> np.ndarray:
    """Left and right gains (float32) of a voice panned ``pan`` (−1 left … 1 right): the far
    side is turned down, the near side kept."""
    return np.array([1.0 - max(0.0, pan), 1.0 + min(0.0, pan)], dtype=np.float32)


def with_vocal_chain(mix: MixSettings, singers: Mapping[str, str] | None = None) -> MixSettings:
    """The preset's mix settings with a vocal chain on the ``vocals`` stem and on every stem
    of ``singers`` (stem name → the voice singing in it, :func:`vocal_stems`): that voice's
    own strip ``mix.parts.vocals-<voice>`` where the style gives one, else
    ``mix.parts.vocals`` (parsed over :data:`DEFAULT_VOCAL_CHAIN`), else that default chain.
    The singers' strips are then keyed by stem, and those of voices that do not sing dropped."""
    from dataclasses import replace

    chain = mix.parts.get(VOCALS, DEFAULT_VOCAL_CHAIN)
    parts = {name: strip for name, strip in mix.parts.items() if not name.startswith(SINGER_PREFIX)}
    parts[VOCALS] = chain
    for stem, voice in (singers or {}).items():
        parts[stem] = mix.parts.get(SINGER_PREFIX + voice, chain)
    return replace(mix, parts=parts)
