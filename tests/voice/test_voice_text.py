"""Phonemes, syllables and note assignment on real lyric lines (no audio)."""

from __future__ import annotations

import pytest

from ainur_cli.compose.lyrics import parse_line
from ainur_cli.errors import VoiceError
from ainur_cli.voice import SungNote, notes_for_line
from ainur_cli.voice.phonemes import from_arpabet, split_syllable, word_syllables
from ainur_cli.voice.score import check_notes, phrases, sung_syllables


def test_dictionary_words_split_into_onset_nucleus_coda():
    (syl,) = word_syllables("strengths")
    assert syl.onset == ("s", "t", "r") and syl.nucleus == "E" and syl.coda[-1] == "s"
    hello = word_syllables("hello")
    assert [s.nucleus for s in hello] == ["@", "oU"]
    assert [s.stress for s in hello] == [0, 1]
    assert [s.nucleus for s in word_syllables("beautiful")] == ["u:", "@", "@"]


def test_words_cmudict_lacks_go_through_espeak():
    bjork = word_syllables("Björk")
    assert len(bjork) == 1 and bjork[0].nucleus == "3:"
    assert len(word_syllables("Saoirse")) == 2
    assert len(word_syllables("21")) == 3  # twen-ty-one, read by espeak


def test_arpabet_maps_to_espeak_units():
    assert from_arpabet(("HH", "AH0", "L", "OW1")) == ("h", "@", "l", "oU")
    s = split_syllable(("S", "T", "AA", "P"))
    assert s.onset == () or s.nucleus  # sanity: split works on mnemonics below
    s = split_syllable(from_arpabet(("S", "T", "AA", "P")))
    assert (s.onset, s.nucleus, s.coda) == (("s", "t"), "A:", ("p",))
    assert split_syllable(("h", "m")).nucleus == "m"  # "hmm": the sonorant carries it


def _timings(n, step=0.5):
    return [1.0 + step * i for i in range(n)], [step * 0.9] * n, [60 + i % 5 for i in range(n)]


def test_one_note_per_syllable_on_a_real_line():
    line = parse_line("Twenty-one nights in Björk's café")
    n = len(line.syllables)
    notes = notes_for_line(line, *_timings(n), line_index=3)
    assert [x.word for x in notes if x.is_word_start] == ["Twenty", "one", "nights", "in", "Björk's", "café"]
    sylls = sung_syllables(notes)
    assert len(sylls) == n
    assert [s.phones.nucleus for s in sylls] == ["E", "i:", "V", "aI", "I", "3:", "@", "eI"]
    assert sylls[5].phones.coda == ("k", "s")  # espeak's reading of the possessive
    assert notes[-1].is_line_end and all(x.line_index == 3 for x in notes)


def test_more_notes_than_syllables_make_melismas():
    line = parse_line("hold me closer")
    notes = notes_for_line(line, *_timings(6))
    assert sum(x.is_melisma for x in notes) == 2
    sylls = sung_syllables(notes)
    assert len(sylls) == 4 and sum(len(s.notes) for s in sylls) == 6


def test_fewer_notes_than_syllables_fold_into_the_last_note():
    line = parse_line("take my hand and never let me go")
    notes = notes_for_line(line, *_timings(4))
    sylls = sung_syllables(notes)
    assert len(sylls) == 4
    last = sylls[-1].phones
    assert last.nucleus in ("V", "@") and last.coda[-1] == "oU"  # "and never let me go" on one note


def test_phrases_break_at_rests_and_line_changes():
    a = notes_for_line(parse_line("one two"), [1.0, 1.5], [0.45, 0.45], [60, 62], 0)
    b = notes_for_line(parse_line("three four"), [2.0, 3.5], [0.45, 0.45], [60, 62], 1)
    groups = phrases(sung_syllables(a + b))
    assert [len(g) for g in groups] == [2, 1, 1]


@pytest.mark.parametrize("bad, field", [
    (SungNote(1.0, 0.001, 60, "la", "la"), "duration_s"),
    (SungNote(1.0, 0.5, 120, "la", "la"), "midi_pitch"),
    (SungNote(-1.0, 0.5, 60, "la", "la"), "start_s"),
    (SungNote(1.0, 0.5, 60, "🎵", "🎵"), "syllable"),
])
def test_unsingable_notes_name_line_and_field(bad, field):
    with pytest.raises(VoiceError) as err:
        check_notes([bad])
    assert err.value.field == field and "lyric line 1" in str(err.value)


def test_overlapping_and_unordered_notes_are_rejected():
    with pytest.raises(VoiceError, match="overlaps"):
        check_notes([SungNote(1.0, 1.0, 60, "la", "la"), SungNote(1.2, 0.5, 62, "la", "la")])
    with pytest.raises(VoiceError, match="time order"):
        check_notes([SungNote(2.0, 0.5, 60, "la", "la"), SungNote(1.0, 0.5, 62, "la", "la")])
    with pytest.raises(VoiceError, match="never sung"):
        check_notes([SungNote(1.0, 0.5, 60, "", "la")])
