"""What the voice analyses: espeak reading a phrase's words (the tenor) or its phoneme string."""

from __future__ import annotations

import dataclasses

import numpy as np

from ainur_cli.compose.lyrics import parse_line
from ainur_cli.voice import notes_for_line
from ainur_cli.voice.analysis import analyse_phrase
from ainur_cli.voice.phonemes import is_vowel
from ainur_cli.voice.render import analyse_group, phoneme_text, phrase_reading
from ainur_cli.voice.score import phrases, sung_syllables
from ainur_cli.voice.voices import get_voice

TENOR = get_voice("tenor")
PHONEMES_TENOR = dataclasses.replace(TENOR, read_text=False)


def _phrase(text: str) -> list:
    line = parse_line(text)
    n = len(line.syllables)
    notes = notes_for_line(line, [1.0 + 0.5 * i for i in range(n)], [0.45] * n, [60] * n)
    (group,) = phrases(sung_syllables(notes))
    return group


def _vowel_lengths_s(frames, group) -> list[float]:
    """Source length of each syllable's vowel."""
    _, wanted = phoneme_text(group)
    rows = [i for i, ph in enumerate(wanted) if is_vowel(ph)]
    return [float(frames.phone_s[i, 1] - frames.phone_s[i, 0]) for i in rows]


def test_the_tenor_analyses_espeaks_reading_of_the_words():
    group = _phrase("I walked along the river in the rain")
    assert phrase_reading(group) == "I walked along the river in the rain"
    text, string = analyse_group(group, TENOR), analyse_group(group, PHONEMES_TENOR)
    assert text.from_text and not string.from_text
    read, spelled = _vowel_lengths_s(text, group), _vowel_lengths_s(string, group)
    assert len(read) == len(group) == 10 and min(read) > 0.02  # every syllable has its own vowel
    # Read as a sentence, espeak reduces the article (D@2); the dictionary's string gives
    # every one-syllable word a stress, so "the" comes out as long as a content word.
    the = [k for k, s in enumerate(group) if s.notes[0].word == "the"]
    assert all(read[k] < 0.75 * spelled[k] for k in the), (read, spelled)
    assert read[-1] > 0.1  # "rain" keeps a full vowel


def test_a_word_espeak_says_with_other_syllables_goes_in_as_phonemes():
    # espeak reads "every" in two syllables (E v r i); the notes have cmudict's three, so
    # that word is read from its phoneme string inside the sentence and keeps three vowels.
    group = _phrase("and every light was shining on my face")
    reading = phrase_reading(group)
    assert reading.startswith("and [[") and reading.endswith("]] light was shining on my face")
    frames = analyse_group(group, TENOR)
    assert frames.from_text
    vowels = _vowel_lengths_s(frames, group)
    assert len(vowels) == 11 and min(vowels[1:4]) > 0.03, vowels   # E, 3:, i: of "every"


def test_a_reading_whose_vowels_do_not_pair_is_spoken_from_its_phonemes():
    # Given the plain words, espeak says two vowels for the notes' three: the phrase is
    # analysed from its phoneme string, exactly as a voice that never reads text does.
    group = _phrase("and every light")
    text, wanted = phoneme_text(group)
    args = (text, wanted, TENOR.espeak_voice, TENOR.espeak_pitch, TENOR.rate_wpm)
    fallback, spelled = analyse_phrase(*args, "and every light"), analyse_phrase(*args)
    assert not fallback.from_text and not spelled.from_text
    np.testing.assert_array_equal(fallback.phone_s, spelled.phone_s)
    np.testing.assert_array_equal(fallback.sp, spelled.sp)
    assert analyse_phrase(*args, phrase_reading(group)).from_text


def test_a_phrase_that_starts_inside_a_word_is_not_read_as_text():
    line = parse_line("running free")
    notes = notes_for_line(line, [1.0, 2.0, 2.5], [0.45] * 3, [60] * 3)  # a rest after "run-"
    first, second = phrases(sung_syllables(notes))
    assert phrase_reading(first) == "[[r'V]]"   # "run-" alone: its phonemes, not the word
    assert phrase_reading(second) == ""   # "-ning free": the words would say a syllable too many
    assert not analyse_group(second, TENOR).from_text
