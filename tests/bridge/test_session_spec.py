"""Session facts → song spec: bars under meter changes, markers → sections, tempo, the spec's part.

Facts are built here as a DAW adapter would build them; every expected position is worked
out from the facts' own beat/seconds maths (exact fractions), and the resulting spec is run
through Ainur's real planner (``resolve_song``) to check where its sections land.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from ainur_cli.api import resolve_song
from ainur_cli.errors import SpecError
from ainur_cli.source import parse_yaml_text
from daw_bridge.facts import LyricEvent, Marker, MeterPoint, SessionFacts, TempoPoint
from daw_bridge.session_spec import is_end_marker, section_type, song_from_facts

F = Fraction


def facts(markers=(), tempo=((0, 120),), meters=((0, 4, 4),), lyrics=(), length=None, **kw):
    return SessionFacts(
        "midi", "session.mid",
        tuple(TempoPoint(F(b), F(t)) for b, t in tempo),
        tuple(MeterPoint(F(b), n, d) for b, n, d in meters),
        tuple(Marker(F(b), n) for b, n in markers),
        tuple(LyricEvent(F(b), t) for b, t in lyrics),
        F(length) if length is not None else None, **kw)


def doc(text: str, name: str = "style.yaml"):
    return parse_yaml_text(text, name)


@pytest.mark.parametrize("name, kind", [
    ("Verse 2", "verse"), ("CHORUS", "chorus"), ("pre-chorus", "pre-chorus"),
    ("Pre Chorus", "pre-chorus"), ("Bridge", "bridge"), ("Intro", "intro"), ("Outro", "outro"),
    ("Drop", "drop"), ("01 - Intro", "intro"), ("2. Verse", "verse"), ("[Bridge]", "bridge"),
    ("Breakdown", "breakdown"), ("Interlude", "instrumental"), ("Hook", "chorus"),
    ("Verse2", "verse"), ("Guitar idea", "section"), ("Take 3", "section"),
])
def test_marker_names_to_section_types(name, kind):
    assert section_type(name) == kind


def test_end_marker_names():
    assert all(is_end_marker(n) for n in ("End", "END", "Song End", "fine", " the end "))
    assert not any(is_end_marker(n) for n in ("Ending", "Outro", "Endless Verse"))


def test_markers_become_sections_with_names_types_and_an_end():
    f = facts([(0, "Intro"), (8, "Verse 1"), (24, "CHORUS"), (40, "my idea"), (48, "End"),
               (56, "Coda after the end")], length=80)
    song = song_from_facts(f, preset="pop")
    got = [(s.name, s.kind, s.bars) for s in song.spec.sections]
    assert got == [("Intro", "intro", 2), ("Verse 1", "verse", 4), ("CHORUS", "chorus", 4),
                   ("my idea", "section", 2)]
    assert song.end_beat == 48
    assert any("after the 'End' marker are ignored" in n for n in song.notes)


def test_exact_bars_and_seconds_under_meter_and_tempo_changes():
    # 2 bars 4/4 @ 120, then 7/8 from beat 8 with 90 bpm at beat 11.5 (= bar 4), 3/4 at 15.
    f = facts([(0, "Intro"), (F(23, 2), "Verse"), (15, "Chorus"), (21, "End")],
              tempo=((0, 120), (F(23, 2), 90)), meters=((0, 4, 4), (8, 7, 8), (15, 3, 4)))
    song = song_from_facts(f, preset="pop")
    spec = song.spec
    assert [(s.name, s.bars) for s in spec.sections] == [("Intro", 3), ("Verse", 1), ("Chorus", 2)]
    assert spec.meters == ((1, 4, 4), (3, 7, 8), (5, 3, 4))
    plan = resolve_song(spec).plan
    for s, beat in zip(plan.sections, (0, F(23, 2), 15)):
        assert s.start_beat == beat
        assert plan.timeline.beat_to_seconds(s.start_beat) == f.beat_to_seconds(beat)
    assert plan.timeline.total_beats == 21


def test_marker_off_the_bar_line_moves_to_the_nearest_bar_with_a_warning():
    f = facts([(0, "Intro"), (F(17, 2), "Verse"), (14, "Chorus"), (24, "End")])
    song = song_from_facts(f, preset="pop")
    assert [(s.name, s.bars) for s in song.spec.sections] == [("Intro", 2), ("Verse", 1),
                                                               ("Chorus", 3)]
    msgs = " | ".join(song.notes)
    assert "marker 'Verse' at bar 3 beat 1.5 is not on a bar line: moved to bar 3" in msgs
    # 14 is half-way (bar 4 beat 3): the earlier bar line wins.
    assert "marker 'Chorus' at bar 4 beat 3 is not on a bar line: moved to bar 4" in msgs


def test_beat_in_bar_is_counted_in_the_meters_note_value():
    f = facts([(0, "Intro"), (8, "Verse"), (12, "End")], meters=((0, 6, 8),))
    song = song_from_facts(f, preset="pop")
    # 6/8 bars are 3 quarter beats: beat 8 is bar 3 (from beat 6) at its 5th eighth
    assert any("at bar 3 beat 5 is not on a bar line: moved to bar 4" in n for n in song.notes)


def test_meter_change_off_the_bar_line_makes_a_short_bar():
    f = facts([(0, "A section"), (10, "End")], meters=((0, 4, 4), (6, 3, 4)))
    song = song_from_facts(f, preset="pop")
    assert song.spec.meters == ((1, 4, 4), (2, 2, 4), (3, 3, 4))
    assert song.spec.sections[0].bars == 3
    assert any("bar 2 becomes a 2/4 bar" in n for n in song.notes)


def test_mid_bar_tempo_change_keeps_bar_lines_exact_and_says_how_far_inner_beats_drift():
    f = facts([(0, "Verse"), (8, "Chorus"), (16, "End")], tempo=((0, 120), (6, 60)))
    song = song_from_facts(f, preset="pop")
    plan = resolve_song(song.spec).plan
    assert plan.timeline.beat_to_seconds(8) == f.beat_to_seconds(8) == 5
    assert plan.timeline.beat_to_seconds(16) == f.beat_to_seconds(16)
    assert song.spec.tempo_map == ((1, 120.0), (2, 80.0), (3, 60.0))
    # beat 6 is at 3.0 s in the session and at 2 + 2 * 60/80 = 3.5 s in the averaged bar
    assert any("drift inside a bar is 500.0 ms (song bar 2)" in n for n in song.notes)


def test_a_tempo_ramp_gives_one_note_and_exact_bar_lines():
    ramp = [(0, 120)] + [(8 + i, 120 - 2 * (i + 1)) for i in range(16)]
    f = facts([(0, "Intro"), (8, "Build"), (24, "Drop"), (32, "End")], tempo=ramp)
    song = song_from_facts(f, preset="pop")
    plan = resolve_song(song.spec).plan
    for beat in (8, 12, 16, 20, 24, 28, 32):
        assert abs(plan.timeline.beat_to_seconds(beat) - f.beat_to_seconds(beat)) < F(1, 10**9)
    ramp_notes = [n for n in song.notes if "tempo changes inside" in n]
    assert len(ramp_notes) == 1 and "4 bar(s)" in ramp_notes[0]


def test_song_starts_at_the_first_marker():
    f = facts([(8, "Intro"), (16, "Verse"), (24, "End")], tempo=((0, 60), (8, 120)))
    song = song_from_facts(f, preset="pop")
    assert (song.start_beat, song.start_bar, song.start_s) == (8, 3, 8)
    assert [s.bars for s in song.spec.sections] == [2, 2]
    assert song.spec.tempo_map == ((1, 120.0),)
    assert any("bar 3 of the session (8.000 s)" in n for n in song.notes)


def test_song_end_from_length_rounded_up_and_without_any_end():
    f = facts([(0, "Intro"), (8, "Verse")], length=F(41, 2))
    assert [s.bars for s in song_from_facts(f, preset="pop").spec.sections] == [2, 4]
    g = facts([(0, "Intro"), (8, "Verse")])
    song = song_from_facts(g, preset="pop")
    assert [s.bars for s in song.spec.sections] == [2, 8]
    assert any("does not say where 'Verse' ends" in n for n in song.notes)


def test_no_markers_gives_one_section_or_the_specs_sections():
    f = facts([], length=40)
    song = song_from_facts(f, preset="pop")
    assert [(s.name, s.kind, s.bars) for s in song.spec.sections] == [("Song", "section", 10)]
    assert any("no markers" in n for n in song.notes)
    raw = doc("preset: rock\nsections:\n  - {name: Verse, bars: 4}\n  - {name: Chorus, bars: 2}\n")
    song = song_from_facts(f, base_doc=raw)
    assert [(s.name, s.bars) for s in song.spec.sections] == [("Verse", 4), ("Chorus", 2)]
    with pytest.raises(SpecError, match="no markers and no length") as e:
        song_from_facts(facts([]), preset="pop")
    assert "session.mid" in str(e.value)


def test_style_is_required():
    with pytest.raises(SpecError, match="a style is needed"):
        song_from_facts(facts([(0, "Intro"), (8, "End")]))
    with pytest.raises(SpecError, match="a style is needed") as e:
        song_from_facts(facts([(0, "Intro"), (8, "End")]), base_doc=doc("seed: 3\n"))
    assert "style.yaml" in str(e.value)


def test_the_spec_completes_and_overrides():
    raw = doc("""\
preset: rock
seed: 9
style: {swing: 0.1}
sections:
  - name: chorus
    energy: 0.9
    type: drop
    lyrics: |
      From the spec
""")
    f = facts([(0, "Verse"), (8, "Chorus"), (16, "End")], key="D minor", title="Session title")
    song = song_from_facts(f, base_doc=raw, overrides={"seed": 4})
    spec = song.spec
    assert (spec.preset, spec.seed, spec.title, spec.key.name) == ("rock", 4, "Session title",
                                                                 "D minor")
    assert dict(spec.style) == {"swing": 0.1}
    chorus = spec.sections[1]
    assert (chorus.kind, chorus.energy, chorus.bars, chorus.lyrics) == ("drop", 0.9, 2,
                                                                      ("From the spec",))
    assert song.lyric_sources == ("", "spec")
    assert not any("name no marker" in n for n in song.info)
    raw3 = doc("preset: pop\nsections:\n  - {name: Solo, bars: 2}\n")
    assert any("'Solo' name no marker" in n for n in song_from_facts(f, base_doc=raw3).info)
    raw2 = doc("title: My Song\npreset: pop\nkey: A minor\n")
    spec2 = song_from_facts(f, base_doc=raw2).spec
    assert (spec2.title, spec2.key.name) == ("My Song", "A minor")


def test_spec_sections_without_bars_need_markers():
    raw = doc("preset: pop\nsections:\n  - name: Verse\n    lyrics: la la\n")
    with pytest.raises(SpecError, match="the session has no markers") as e:
        song_from_facts(facts([], length=16), base_doc=raw)
    assert str(e.value).startswith("style.yaml:3: sections[0].bars: is required")


def test_errors_in_the_spec_name_its_file_and_line():
    raw = doc("preset: pop\nseed: -1\n")
    with pytest.raises(SpecError) as e:
        song_from_facts(facts([(0, "Intro"), (8, "End")]), base_doc=raw)
    assert str(e.value).startswith("style.yaml:2: seed:")


def test_without_session_tempo_the_specs_tempo_is_used_else_120():
    f = facts([(0, "Intro"), (8, "End")], tempo_known=False)
    song = song_from_facts(f, base_doc=doc("preset: pop\ntempo_bpm: 87\n"))
    assert song.spec.tempo_map == ((1, 87.0),)
    assert any("spec's tempo" in n for n in song.info)
    song = song_from_facts(f, preset="pop")
    assert song.spec.tempo_map == ((1, 120.0),)


def test_without_session_meter_the_specs_meter_is_used():
    f = facts([(0, "Intro"), (6, "Verse"), (12, "End")], meter_known=False)
    song = song_from_facts(f, base_doc=doc("preset: pop\ntime_signature: '3/4'\n"))
    assert song.spec.meters == ((1, 3, 4),)
    assert [s.bars for s in song.spec.sections] == [2, 2]
    g = facts([(0, "Intro"), (6, "Verse"), (10, "End")], meter_known=False)
    raw = doc("preset: pop\nsections: [{name: Intro, bars: 2}, {name: Verse, bars: 2}]\n"
              "time_signature: [{bar: 1, signature: '3/4'}, {bar: 3, signature: '2/4'}]\n")
    song = song_from_facts(g, base_doc=raw)  # 2 bars of 3/4 (beats 0-6), then 2/4 bars
    assert [(s.name, s.bars) for s in song.spec.sections] == [("Intro", 2), ("Verse", 2)]
    assert song.spec.meters == ((1, 3, 4), (3, 2, 4))


def test_lyrics_precedence_file_then_spec_then_daw(tmp_path):
    lyr = [(0, "Count-"), (1, "in\n"), (4, "Wal-"), (5, "king"), (6, "home\n"), (7, "to-"),
           (F(15, 2), "night"), (8, "Daw chorus"), (16, "Daw bridge"), (21, "after the end")]
    f = facts([(4, "Verse"), (8, "Chorus"), (16, "Bridge"), (20, "End")], lyrics=lyr)
    lyrics_file = tmp_path / "session.lyrics.txt"
    lyrics_file.write_text("# comment\n[bridge]\nFrom the file\n", encoding="utf-8")
    raw = doc("preset: pop\nsections:\n  - {name: Chorus, bars: 1, lyrics: From the spec}\n")
    song = song_from_facts(f, base_doc=raw, lyrics_file=lyrics_file)
    assert [s.lyrics for s in song.spec.sections] == [("Walking home", "tonight"),
                                                      ("From the spec",), ("From the file",)]
    assert song.lyric_sources == ("daw", "spec", "file")
    # DAW lines keep their timing, counted from the song start (the Verse marker at beat 4)
    assert [(i, ln.beat, ln.text) for i, ln in song.lyric_lines] == [(0, 0, "Walking home"),
                                                                     (0, 3, "tonight")]
    assert any("3 lyric event(s) outside the song" in n for n in song.notes)
    assert sum("lyrics are used instead of the session's" in n for n in song.info) == 2


def test_lyrics_file_header_must_name_a_section(tmp_path):
    p = tmp_path / "lyrics.txt"
    p.write_text("[Verse]\nok\n[Hook]\nno such section\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        song_from_facts(facts([(0, "Verse"), (8, "End")]), preset="pop", lyrics_file=p)
    assert f"{p}:3:" in str(e.value) and "'Hook'" in str(e.value) and "[Verse]" in str(e.value)


def test_duplicate_markers_on_one_bar():
    f = facts([(0, "Intro"), (8, "Verse"), (8, "Verse"), (F(33, 4), "Chorus"), (16, "End")])
    song = song_from_facts(f, preset="pop")
    assert [(s.name, s.bars) for s in song.spec.sections] == [("Intro", 2), ("Chorus", 2)]
    assert any("'Verse' and 'Chorus' fall on the same bar 3" in n for n in song.notes)


def test_too_many_markers_and_too_long_sections_are_clear_errors():
    many = facts([(4 * i, f"Part {i}") for i in range(130)] + [(520, "End")])
    with pytest.raises(SpecError, match="too many markers") as e:
        song_from_facts(many, preset="pop")
    assert "at most 128" in str(e.value) and "session.mid" in str(e.value)
    long = facts([(0, "Intro"), (4 * 300, "End")])
    with pytest.raises(SpecError, match="longer than a section may be") as e:
        song_from_facts(long, preset="pop")
    assert "300 bars" in str(e.value)


def test_same_facts_same_spec():
    f = facts([(0, "Intro"), (8, "Verse"), (16, "End")], tempo=((0, 100), (9, 130)),
              lyrics=[(8, "one"), (9, "two")])
    a = song_from_facts(f, preset="pop")
    b = song_from_facts(f, preset="pop")
    assert a.spec == b.spec and a.notes == b.notes


# -- pinned lyric timing --------------------------------------------------------------------

def _compose(spec):
    from ainur_cli.compose import compose_song

    plan = resolve_song(spec).plan
    return compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections, spec_file=None)


def test_daw_lyric_words_are_pinned_where_the_session_has_them():
    """A count-in bar (the song starts at the Verse marker, beat 4), then 4/4 → 3/4 at beat 12:
    each word is pinned at its first event, counted in song bars; the melody sings it there."""
    lyr = [(F(9, 2), "Walk-"), (5, "ing"), (F(17, 3), "home\n"),  # song bar 1 beat 1+1/2...
           (12, "un-"), (13, "der"), (F(27, 2), "the"), (15, "stars\n")]  # 3/4 bars from beat 12
    f = facts([(4, "Verse"), (12, "Chorus"), (18, "End")], meters=((0, 4, 4), (12, 3, 4)),
              lyrics=lyr)
    song = song_from_facts(f, preset="pop")
    verse, chorus = song.spec.sections
    assert verse.lyrics == ("Walking home",) and chorus.lyrics == ("under the stars",)
    # song bar 1 = session beats 4..8, bar 2 = 8..12, bar 3 = 12..15 (3/4), bar 4 = 15..18
    assert verse.lyrics[0].pinned == "@1.1+1/2 Walking @1.2+2/3 home"
    assert chorus.lyrics[0].pinned == "@3.1 under @3.2+1/2 the @4.1 stars"
    assert [(i, ln.beat, ln.words) for i, ln in song.lyric_lines] == [
        (0, F(1, 2), ((F(1, 2), "Walking"), (F(5, 3), "home"))),
        (1, 8, ((8, "under"), (F(19, 2), "the"), (11, "stars")))]
    sung = {n.lyric: n.start_beat for n in _compose(song.spec).part("lead").notes if n.lyric}
    for word, beat in (("Wal-", F(9, 2)), ("home", F(17, 3)), ("un-", 12), ("the", F(27, 2)),
                       ("stars", 15)):
        assert sung[word] == pytest.approx(float(beat - 4), abs=1e-9)  # song beats


def test_spec_lyric_pins_count_the_sessions_song_bars():
    f = facts([(4, "Intro"), (12, "Verse"), (20, "End")])  # the song starts at session bar 2
    raw = doc("preset: pop\nsections:\n  - name: Verse\n    lyrics: |\n      @3.3 Hello there\n")
    song = song_from_facts(f, base_doc=raw)  # Verse = song bars 3-4, its bars from the markers
    assert song.spec.sections[1].lyrics == ("@3.3 Hello there",)
    notes = [n for n in _compose(song.spec).part("lead").notes if n.lyric]
    assert notes[0].lyric == "Hel-" and notes[0].start_beat == 8 + 2
    with pytest.raises(SpecError) as e:
        song_from_facts(f, base_doc=doc("preset: pop\nsections:\n  - name: Verse\n    lyrics: |\n"
                                        "      @1.3 Hello there\n"))
    assert "the pin @1.3 is outside section 'Verse'" in str(e.value) and "bars 3..4" in str(e.value)


def test_daw_words_too_close_to_sing_keep_the_lines_start_with_a_warning():
    lyr = [(0, "Extraordinary"), (F(1, 4), "yes"), (F(1, 2), "indeed\n")]
    song = song_from_facts(facts([(0, "Verse"), (8, "End")], lyrics=lyr), preset="pop")
    comp = _compose(song.spec)
    notes = [n for n in comp.part("lead").notes if n.lyric]
    assert notes[0].lyric == "Ex-" and notes[0].start_beat == 0
    from ainur_cli.compose.lyrics import parse_line

    words = parse_line(song.spec.sections[0].lyrics[0]).words
    assert [n.lyric.rstrip("-") for n in notes] == [sy.text for w in words for sy in w.syllables]
    assert any("do not fit the session's word positions" in w and "@1.1" in w
               for w in comp.metadata["warnings"])
