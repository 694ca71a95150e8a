"""The melody composer: one note per syllable, phrasing, key/chord fit, stress, repeats,
crowded and impossible lines."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest

from ainur_cli.compose import compose_song
from ainur_cli.compose.harmony import ChordTrack
from ainur_cli.compose.lyrics import parse_lyrics
from ainur_cli.compose.melody import singer_range
from ainur_cli.compose.meter import Bars, grid_weights
from ainur_cli.errors import SpecError
from ainur_cli.key import parse_key
from ainur_cli.presets import load_preset
from ainur_cli.timeline import MeterChange, TempoChange, Timeline

VERSE = """Headlights on the empty road
Counting every mile we know
Radio is playing low
Take me where the rivers go"""
CHORUS = """We are running through the midnight
Chasing down a silver light
Never looking back tonight
We are golden, we are bright"""


@dataclass(frozen=True)
class Sec:
    index: int
    name: str
    kind: str
    start_bar: int
    bars: int
    start_beat: Fraction
    end_beat: Fraction
    energy: float
    lyrics: tuple[str, ...]


def build(layout, meter=(4, 4), tempos=((0, 100),)):
    total = sum(b for _, _, b, _ in layout)
    mc = [MeterChange(0, *meter)]
    probe = Timeline([TempoChange(Fraction(0), Fraction(120))], mc, total, 44100)
    tl = Timeline([TempoChange(probe.bar_to_beat(b), Fraction(t)) for b, t in tempos], mc, total, 44100)
    out, bar = [], 0
    for i, (name, kind, bars, text) in enumerate(layout):
        lines = tuple(ln.strip() for ln in text.splitlines() if ln.strip())
        out.append(Sec(i, name, kind, bar, bars, tl.bar_to_beat(bar), tl.bar_to_beat(bar + bars), 0.6, lines))
        bar += bars
    return tl, out


SONG = [("Intro", "intro", 2, ""), ("Verse 1", "verse", 8, VERSE), ("Chorus", "chorus", 8, CHORUS),
        ("Verse 2", "verse", 8, VERSE.replace("Headlights", "Streetlights")),
        ("Chorus 2", "chorus", 8, CHORUS), ("Outro", "outro", 2, "")]


def run(layout=SONG, preset="pop", seed=5, key="A minor", **kw):
    tl, sections = build(layout, **kw)
    style = load_preset(preset).style
    comp = compose_song(key=parse_key(key), seed=seed, style=style, timeline=tl, sections=sections,
                        spec_file="song.yaml")
    return tl, sections, style, comp


def section_notes(comp, s):
    return [n for n in comp.part("lead").notes if s.start_beat <= n.start_beat < s.end_beat]


def test_every_syllable_gets_exactly_one_note():
    _, sections, _, comp = run()
    lead = comp.part("lead").notes
    index = 0
    for s in sections:
        notes = section_notes(comp, s)
        lines = parse_lyrics(s.lyrics)
        if not lines:
            assert not notes  # pop has no hook: sections without lyrics have no melody
            continue
        for line in lines:
            mine = [n for n in notes if n.line_index == index]
            sung = [n for n in mine if n.lyric != ""]
            # a syllable the word goes on from carries "-" ("Head-" "lights")
            assert [n.lyric for n in sung] == [sy.text + ("" if k == len(w.syllables) - 1 else "-")
                                               for w in line.words for k, sy in enumerate(w.syllables)]
            assert [n.phones for n in sung] == [sy.phones for sy in line.syllables]
            assert mine[0].lyric != ""  # a melisma ("") only continues a syllable
            index += 1
        for n in notes:
            assert n.start_beat + n.duration_beats <= float(s.end_beat) + 1e-9
    assert all(n.lyric is not None for n in lead)
    starts = [n.start_beat for n in lead]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # one voice, no overlaps
    for a, b in zip(lead, lead[1:]):
        assert a.start_beat + a.duration_beats <= b.start_beat + 1e-9


def test_lines_are_phrased_to_bars_with_a_breath():
    tl, sections, _, comp = run()
    verse = sections[1]  # 4 lines in 8 bars: a line every 2 bars
    for k in range(4):
        slot_start = float(tl.bar_to_beat(verse.start_bar + 2 * k))
        notes = [n for n in comp.part("lead").notes if n.line_index == k]
        assert slot_start <= notes[0].start_beat < slot_start + 2
        end = notes[-1].start_beat + notes[-1].duration_beats
        assert end <= slot_start + 8 - 0.5 + 1e-9  # half a beat to breathe
    meta = comp.metadata["lines"]
    expected = [float(tl.bar_to_beat(verse.start_bar + 2 * k)) for k in range(4)]
    assert [m["start_beat"] for m in meta[:4]] == expected
    assert all(m["grid_beats"] == 0.5 and not m["compressed"] for m in meta)


def test_pitches_fit_key_chords_and_range():
    tl, sections, style, comp = run()
    key = parse_key("A minor")
    scale = set(key.scale_pcs)
    chords = ChordTrack(comp.chords)
    low, high = singer_range(style.lead.octave)
    bars = Bars(tl)
    lead = comp.part("lead").notes
    for n in lead:
        assert low <= n.pitch <= high
        assert n.pitch % 12 in scale | set(chords.at(n.start_beat).pitch_classes)
        bar = bars.at(n.start_beat)
        if abs(n.start_beat - bar.start) < 1e-9 and n.lyric:  # downbeats are chord tones
            assert n.pitch % 12 in chords.at(n.start_beat).pitch_classes
    for a, b in zip(lead, lead[1:]):
        if a.line_index == b.line_index:
            assert abs(a.pitch - b.pitch) <= 12


def test_low_voice_range():
    _, _, style, comp = run(preset="jazz-waltz")  # lead octave 3: a low voice
    assert style.lead.octave == 3
    pitches = [n.pitch for n in comp.part("lead").notes if n.lyric is not None]
    assert 45 <= min(pitches) and max(pitches) <= 64  # A2..E4


def test_stressed_syllables_fall_on_stronger_beats():
    tl, sections, _, comp = run()
    bars = Bars(tl)
    stressed, unstressed = [], []
    index = 0
    for s in sections:
        for line in parse_lyrics(s.lyrics):
            notes = [n for n in comp.part("lead").notes if n.line_index == index and n.lyric]
            for word in line.words:
                for sy in word.syllables:
                    n = notes.pop(0)
                    bar = bars.at(n.start_beat)
                    offsets, weights = grid_weights(bar.numerator, bar.denominator, 0.25)
                    weight = float(weights[int(round((n.start_beat - bar.start) / 0.25))])
                    if len(word.syllables) > 1:
                        (stressed if sy.stress == 1 else unstressed).append(weight)
            index += 1
    assert sum(stressed) / len(stressed) > sum(unstressed) / len(unstressed) + 0.5


def test_repeated_chorus_is_sung_the_same():
    _, sections, _, comp = run()

    def shape(s):
        return [(round(n.start_beat - float(s.start_beat), 6), n.duration_beats, n.pitch, n.lyric)
                for n in section_notes(comp, s)]

    assert shape(sections[2]) and shape(sections[2]) == shape(sections[4])
    assert shape(sections[1]) != shape(sections[3])  # different words, different melody


def test_same_words_over_transposed_chords_are_transposed():
    tl, sections = build([("A", "verse", 4, "Hold me close tonight\nNever let me go"),
                          ("B", "section", 4, "Hold me close tonight\nNever let me go"),
                          ("End", "outro", 1, "")])
    style = load_preset("pop", {"progressions": {"verse": ["I", "IV"], "default": ["V", "I"]}}).style
    comp = compose_song(key=parse_key("C major"), seed=2, style=style, timeline=tl, sections=sections)
    a, b = (section_notes(comp, s) for s in sections[:2])
    assert [(n.start_beat - float(sections[0].start_beat), n.lyric) for n in a] == \
        [(n.start_beat - float(sections[1].start_beat), n.lyric) for n in b]
    shifts = {(y.pitch - x.pitch) for x, y in zip(a, b)}
    assert len(shifts) == 1 and shifts.pop() % 12 == 7  # I→V, IV→I: up a fifth (or down a fourth)


def test_crowded_line_is_sung_faster_with_a_warning():
    long_line = "Every single minute of the evening I was waiting for the telephone"
    _, sections, _, comp = run([("Verse", "verse", 2, long_line + "\nShort one"), ("End", "outro", 1, "")])
    warnings = comp.metadata["warnings"]
    assert len(warnings) == 1 and "'Verse'" in warnings[0] and "line 1" in warnings[0]
    sung = [n for n in comp.part("lead").notes if n.lyric]
    assert len(sung) == sum(len(ln.syllables) for ln in parse_lyrics([long_line, "Short one"]))
    assert comp.metadata["lines"][0]["compressed"] and comp.metadata["lines"][0]["grid_beats"] == 0.25
    assert all(n.start_beat + n.duration_beats <= float(sections[0].end_beat) + 1e-9 for n in sung)


def test_uneven_lines_share_bars_by_syllables():
    text = "Oh\nEvery single minute of the evening I was waiting by the telephone for you"
    _, sections, _, comp = run([("Verse", "verse", 4, text), ("End", "outro", 1, "")])
    assert comp.metadata["warnings"] == []  # the long line got 3 of the 4 bars
    assert comp.metadata["lines"][1]["start_beat"] == 4.0


def test_line_end_beats_clips_only_the_last_note_of_each_line():
    """A style's ``vocals.line_end_beats`` caps how long each line's last note is held; the
    rhythm, the pitches and every other note stay as they were. ``section_end_beats`` does
    the same for each section's last line."""
    from dataclasses import replace

    tl, sections, style, _ = run()
    held = compose_song(key=parse_key("A minor"), seed=5, timeline=tl, sections=sections,
                        style=replace(style, vocals={}))  # every line end held (the default)
    clipped = compose_song(key=parse_key("A minor"), seed=5, timeline=tl, sections=sections,
                           style=replace(style, vocals={"line_end_beats": 0.5}))

    def by_line(comp):
        lines: dict[int, list] = {}
        for n in comp.part("lead").notes:
            if n.lyric:  # a melisma's second note has no syllable
                lines.setdefault(n.line_index, []).append(n)
        return lines

    a, b = by_line(held), by_line(clipped)
    assert a.keys() == b.keys() and len(a) == 16
    for k in a:
        assert [(n.start_beat, n.pitch, n.lyric) for n in a[k]] == [(n.start_beat, n.pitch, n.lyric) for n in b[k]]
        assert [n.duration_beats for n in a[k][:-1]] == [n.duration_beats for n in b[k][:-1]]
        assert b[k][-1].duration_beats <= 0.5 + 1e-9
    line_end = {}  # by default: the last syllable's start to the end of its (melisma) notes
    for n in held.part("lead").notes:
        line_end[n.line_index] = max(line_end.get(n.line_index, 0.0), n.start_beat + n.duration_beats)
    assert sum(line_end[k] - a[k][-1].start_beat > 1.0 for k in a) >= 12
    assert not any(n.lyric == "" for n in clipped.part("lead").notes)  # no line-end melismas
    # ``section_end_beats``: a section's last line keeps its held end (a cadence), the lines
    # before it are clipped.
    cadence = compose_song(key=parse_key("A minor"), seed=5, timeline=tl, sections=sections,
                           style=replace(style, vocals={"line_end_beats": 0.5, "section_end_beats": 2.5}))
    finals = {m["line_index"] for m in cadence.metadata["lines"]
              if m["line"] == max(x["line"] for x in cadence.metadata["lines"] if x["section"] == m["section"])}
    assert len(finals) == 4
    for k, notes in by_line(cadence).items():
        want = a[k] if k in finals else b[k]
        assert [(n.start_beat, n.duration_beats, n.pitch) for n in notes] == \
            [(n.start_beat, n.duration_beats, n.pitch) for n in want]


def test_null_line_end_fields_take_their_defaults():
    """``line_end_beats: null`` (and ``section_end_beats: null``) mean the default, in the
    validated settings and in the composer alike."""
    from dataclasses import replace

    from ainur_cli.vocals import vocal_settings

    nulls = {"line_end_beats": None, "section_end_beats": None}
    settings = vocal_settings(nulls)
    assert (settings["line_end_beats"], settings["section_end_beats"]) == (2.5, 2.5)
    assert vocal_settings({"line_end_beats": 1.0})["section_end_beats"] == 1.0
    tl, sections, style, _ = run()
    a, b = (compose_song(key=parse_key("A minor"), seed=5, timeline=tl, sections=sections,
                         style=replace(style, vocals=v)) for v in ({}, nulls))
    assert a.part("lead").notes == b.part("lead").notes


def test_more_lines_than_bars():
    text = "\n".join(["la la la"] * 6)
    _, sections, _, comp = run([("Chorus", "chorus", 2, text), ("End", "outro", 1, "")])
    sung = [n for n in comp.part("lead").notes if n.lyric]
    assert len(sung) == 18
    assert len({m["start_beat"] for m in comp.metadata["lines"]}) == 6


def test_impossible_line_is_an_error_naming_section_and_line():
    words = " ".join(["la"] * 40)
    with pytest.raises(SpecError) as e:
        run([("Verse 1", "verse", 1, "Hello there\n" + words), ("End", "outro", 1, "")])
    err = e.value
    assert "Verse 1" in err.message and "line 2" in err.message and "40 syllables" in err.message
    assert err.file == "song.yaml" and err.field == "sections[0].lyrics" and err.allowed
    with pytest.raises(SpecError, match="nothing singable"):
        run([("Verse 1", "verse", 2, "Hello\n!!! ???"), ("End", "outro", 1, "")])
    with pytest.raises(SpecError, match="lyric lines"):
        run([("Verse 1", "verse", 1, "\n".join(["oh"] * 9)), ("End", "outro", 1, "")])


@pytest.mark.parametrize("meter", [(3, 4), (6, 8), (7, 8)])
def test_odd_meters_and_tempo_changes(meter):
    tl, sections, _, comp = run(SONG[:3] + [("End", "outro", 1, "")], meter=meter,
                                tempos=((0, 120), (6, 84)))
    sung = [n for n in comp.part("lead").notes if n.lyric]
    assert len(sung) == sum(len(ln.syllables) for s in sections for ln in parse_lyrics(s.lyrics))
    for s in sections:
        for n in section_notes(comp, s):
            assert n.start_beat + n.duration_beats <= float(s.end_beat) + 1e-9


def test_hook_quotes_the_chorus():
    _, sections, _, comp = run(preset="rock")
    start = float(sections[2].start_beat)
    chorus = [(round(n.start_beat - start, 6), n.duration_beats) for n in section_notes(comp, sections[2])]
    intro = [(round(n.start_beat, 6), n.duration_beats) for n in section_notes(comp, sections[0])]
    assert intro and intro == chorus[: len(intro)]


def test_a_line_ending_off_the_grid_does_not_run_into_the_next():
    # 15/16 at 40 BPM, four lines in two bars: the line "fire" ends its slot a sixteenth
    # after its last eighth-grid onset; its last note used to last a whole eighth and
    # overlap the next line's first note (found by hypothesis in test_compose).
    from tests.test_compose import compose

    layout = [("S0", "intro", 2, 0.0, "love love\nlove love love love love love love\nfire\n"
               "love love love love"), ("S1", "intro", 1, 0.0, "")]
    _, _, comp = compose("acoustic-folk", seed=0, layout=layout, key="C major",
                         meters=[(0, 15, 16)], tempos=[(0, 40)])
    lead = comp.part("lead").notes
    assert len(lead) == 15
    assert all(a.start_beat + a.duration_beats <= b.start_beat + 1e-9 for a, b in zip(lead, lead[1:]))
    assert all(n.duration_beats > 0 for n in lead)


@pytest.mark.parametrize("tempo_bpm", [70, 100])
def test_lines_are_sung_at_a_conversational_pace_whatever_the_tempo(tempo_bpm):
    """A 7-syllable line in a 2-bar slot: syllables about an eighth at 100 bpm, not a beat each
    (before: 0.55-0.58 s a syllable at 100 bpm and 0.79-0.82 s at 70, a hymn's pace); the line's
    last note is held at most 2.5 beats, then a rest until the next line."""
    from ainur_cli.compose.rhythm import LINE_END_HOLD_BEATS, SUNG_SYLLABLE_S

    tl, sections, _, comp = run(tempos=((0, tempo_bpm),))
    beat_s = 60.0 / tempo_bpm
    lines: dict[int, list] = {}
    for n in comp.part("lead").notes:
        if n.lyric:
            lines.setdefault(n.line_index, []).append(n)
    verse = sections[1]
    inner = [n.duration_beats * beat_s for ns in lines.values() for n in ns[:-1]
             if verse.start_beat <= ns[0].start_beat < verse.end_beat]
    assert len(inner) > 20
    eighth_s = 0.5 * beat_s
    # the median: a stressed syllable may still be held up to 2 beats (0.30 s at 100 bpm and
    # 0.43 s at 70 now, against 0.60 and 0.86 s)
    assert sorted(inner)[len(inner) // 2] <= max(SUNG_SYLLABLE_S, eighth_s) * 1.1
    assert all(ns[-1].duration_beats <= LINE_END_HOLD_BEATS + 1e-9 for ns in lines.values())


def test_the_pace_caps_the_target_but_never_below_the_grid():
    from ainur_cli.compose.rhythm import place_syllables, slot_grid
    import numpy as np

    tl, _ = build([("A", "verse", 2, "x")])
    grid = slot_grid(Bars(tl), 0.0, 8.0, 0.5)
    stresses, emphasis, final = (1, 0, 1, 0, 1, 0, 1), (1.0,) * 7, (False, True) * 3 + (True,)

    def spread(pace):
        onsets = grid.positions[place_syllables(stresses, emphasis, final, grid, 7.5,
                                                np.random.default_rng(3), syllable_beats=pace)]
        return float(onsets[-1] - onsets[0])

    assert spread(None) >= 5.0            # the room alone: a syllable a beat or so
    assert spread(0.55) <= 4.0            # conversational: mostly eighths
    assert spread(0.1) == spread(0.5)     # a pace faster than the grid sings on the grid


def test_function_words_go_on_weaker_beats_than_content_words():
    """One-syllable words: "the", "we", "are", "on"... (unstressed in speech) land on weaker
    metric positions than "road", "mile", "night"... (the dictionary stresses all of them)."""
    from ainur_cli.compose.melody import UNSTRESSED_WORDS

    weights: dict[bool, list[float]] = {True: [], False: []}
    for seed in (1, 5, 9):
        tl, sections, _, comp = run(seed=seed)
        bars = Bars(tl)
        index = 0
        for s in sections:
            for line in parse_lyrics(s.lyrics):
                notes = [n for n in comp.part("lead").notes if n.line_index == index and n.lyric]
                for word in line.words:
                    n = notes[0]
                    notes = notes[len(word.syllables):]
                    if len(word.syllables) == 1:
                        bar = bars.at(n.start_beat)
                        _, w = grid_weights(bar.numerator, bar.denominator, 0.25)
                        weights[word.text.lower() in UNSTRESSED_WORDS].append(
                            float(w[int(round((n.start_beat - bar.start) / 0.25))]))
                index += 1
    function, content = (sum(v) / len(v) for v in (weights[True], weights[False]))
    assert len(weights[True]) > 30 and len(weights[False]) > 15
    # 1.27 against 2.75 (0..4: sixteenth .. downbeat); 1.86 against 2.44 when the
    # dictionary's stress on function words was kept
    assert function + 1.0 < content, (function, content)


def test_sung_lines_recite_on_repeated_notes_as_vocal_melodies_do():
    """Vocal lines hold one pitch over several syllables about a quarter of the time (a
    hook's instrument melody moves more); steps stay the commonest move, leaps rare."""
    steps, lines = [], []
    for seed in (1, 5, 9):
        _, _, _, comp = run(seed=seed)
        by_line: dict[int, list[int]] = {}
        for n in comp.part("lead").notes:
            if n.lyric:  # sung syllables; a melisma's second note is not a new syllable
                by_line.setdefault(n.line_index, []).append(n.pitch)
        for pitches in by_line.values():
            steps += [abs(b - a) for a, b in zip(pitches, pitches[1:])]
            lines.append(pitches)
    share = {k: sum(1 for s in steps if lo <= s <= hi) / len(steps)
             for k, (lo, hi) in {"repeat": (0, 0), "step": (1, 2), "third": (3, 4), "leap": (6, 12)}.items()}
    assert 0.12 <= share["repeat"] <= 0.4, share
    assert share["step"] >= 0.35 and share["step"] > share["repeat"], share
    assert share["leap"] <= 0.05, share
    assert all(len(set(p)) >= 2 for p in lines if len(p) >= 5)  # no line is one pitch throughout


def test_words_in_other_scripts_are_sung_in_latin_letters_with_a_warning():
    _, _, _, comp = run([("Verse", "verse", 4, "Hold me close tonight\n사랑해 my love ꜣ"),
                         ("End", "outro", 1, "")])
    warnings = comp.metadata["warnings"]
    assert warnings == [
        "section 'Verse', lyric line 2: '사랑해' is sung as 'salanghae' (the voice sings "
        "English; write it in Latin letters to choose how)",
        "section 'Verse', lyric line 2: 'ꜣ' is not sung (nothing in it the voice can say)"]
    sung = [n.lyric for n in comp.part("lead").notes if n.lyric]
    assert sung[-5:] == ["sa-", "lang-", "hae", "my", "love"]
    _, _, _, plain = run([("Verse", "verse", 4, "Hold me close tonight\n10,000 ｆｕｌｌ miles"),
                          ("End", "outro", 1, "")])
    assert plain.metadata["warnings"] == []
    assert [n.lyric for n in plain.part("lead").notes if n.lyric][-5:] == ["ten", "thou-", "sand", "full", "miles"]
