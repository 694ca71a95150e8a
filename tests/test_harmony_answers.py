"""The composed harmony answering the lead with a section's own ``harmony_lyrics`` (no
written harmony track): each answer in the rest after a lead line of its section, a
syllable per eighth (or sixteenth) note from the first beat half a beat after the line, at
the harmony's interval from the line's last pitches. Checked against the composition's
own lead notes and chords, and sung (pyworld harvest) on the rendered alto stem."""

from __future__ import annotations

import math
from pathlib import Path

from ainur_cli.compose.lyrics import parse_lyrics
from ainur_cli.compose.melody import lyric_texts
from ainur_cli.vocal_backing import (ANSWER_HOLD_BEATS, RESPONSE_BREATH_BEATS,
                                     RESPONSE_GAP_BEATS)
from ainur_cli.vocals import harmony_parts, vocal_settings, vocal_stems
from tests.conftest import midi_lyrics, rendered
from tests.test_backing_vowels import _compose
from tests.test_composed_backing import SONG as PAD_SONG
from tests.test_composed_backing import _alto_in_tune, _lead_lines

# test_composed_backing's song, its verse and chorus with harmony lyrics
SONG = PAD_SONG.replace("""      Counting every mile we know
""", """      Counting every mile we know
    harmony_lyrics: |
      (on the road)
""").replace("""      Never looking back tonight
""", """      Never looking back tonight
    harmony_lyrics: |
      (running)
      (hold on)
""")
LEAD = "{harmony: third-above, harmony_voice: alto}"


def _spec(tmp_path: Path, vocals: str = LEAD, song: str = SONG) -> Path:
    path = tmp_path / "song.yaml"
    path.write_text(song.format(vocals=vocals))
    return path


def _syllables(text: str) -> list[str]:
    return lyric_texts(parse_lyrics([text])[0].words)


def test_each_lead_line_is_answered_in_its_rest_with_the_sections_words(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    settings = vocal_settings(plan.style.vocals)
    (part,) = harmony_parts(comp, plan.timeline, settings)
    lines = _lead_lines(comp)
    # the verse's one line answers both of its lead lines; the chorus' two lines one each
    texts = ["on the road", "on the road", "running", "hold on"]
    end_of_song = float(plan.timeline.total_beats)
    for j, (line, text) in enumerate(zip(lines, texts)):
        end = line[-1].start_beat + line[-1].duration_beats
        limit = lines[j + 1][0].start_beat if j + 1 < len(lines) else end_of_song
        answer = [n for n in part.notes if end <= n.start_beat < limit]
        assert [n.lyric for n in answer] == _syllables(text), (j, answer)
        start = math.ceil(end + RESPONSE_GAP_BEATS)
        step = 0.5 if len(answer) * 0.5 <= limit - RESPONSE_BREATH_BEATS - start else 0.25
        assert [n.start_beat for n in answer] == [start + k * step for k in range(len(answer))]
        last = answer[-1]
        assert last.start_beat + last.duration_beats == \
            min(last.start_beat + ANSWER_HOLD_BEATS, limit - RESPONSE_BREATH_BEATS)
        tune = [n.pitch for n in line if n.lyric][-len(answer):]
        for n, lead in zip(answer, tune):  # a third above the line's last pitches
            assert 3 <= n.pitch - lead <= 4 or n.pitch - lead in (2, 5), (n, lead)
    # by hand, the verse: line 1 ends on beat 5.5 -> beat 6, eighths (line 2 starts on beat
    # 8); line 2 ends on 15.5 -> 16, 0.75 beats left: sixteenths
    assert [(n.start_beat, n.duration_beats, n.lyric) for n in part.notes[:6]] == [
        (6.0, 0.5, "on"), (6.5, 0.5, "the"), (7.0, 0.5, "road"),
        (16.0, 0.25, "on"), (16.25, 0.25, "the"), (16.5, 0.25, "road")]
    # the chorus' composed harmony still sings along with the lead (its lines' syllables)
    assert [n.lyric for n in part.notes if n.start_beat in (17.0, 28.0)] == ["We", "Ne-"]
    # the answers (the notes not on a lead note's start) sound while the lead rests
    lead = [(n.start_beat, n.start_beat + n.duration_beats) for line in lines for n in line]
    answers = [n for n in part.notes if n.start_beat not in {a for a, _ in lead}]
    assert len(answers) == 3 + 3 + 2 + 2
    for n in answers:
        assert not any(a < n.start_beat + n.duration_beats and n.start_beat < b for a, b in lead)
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}


def test_echoes_give_way_to_a_sections_answers(tmp_path):
    vocals = ("{harmony: third-above, harmony_rhythm: echo, harmony_voice: alto, "
              "harmony_sections: [verse, chorus]}")
    song = SONG.replace("    harmony_lyrics: |\n      (on the road)\n", "")
    plan, comp = _compose(_spec(tmp_path, vocals, song))
    (part,) = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    lyrics = [n.lyric for n in part.notes]
    # the verse echoes its lines' last words (line 2's "know", held 2.5 beats, would not end
    # before the chorus: no echo), the chorus answers with its own
    assert lyrics == ["road", "run-", "ning", "hold", "on"], lyrics


def test_an_answer_too_long_for_its_rest_is_a_warning(tmp_path):
    song = SONG.replace("(on the road)", "(on the road that takes us home again tonight)")
    plan, comp = _compose(_spec(tmp_path, song=song))
    (part,) = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    # in the composition's warnings (the manifest's, printed by the CLI), once per line
    assert [w for w in comp.metadata["warnings"] if "harmony lyric" in w] == [
        "section 'Verse': the harmony lyric 'on the road that takes us home again tonight' "
        "does not fit in the rest after the line 'Headlights on the empty road' (11 "
        "syllables in 1.75 beats from @2.3, song bar.beat): not sung",
        "section 'Verse': the harmony lyric 'on the road that takes us home again tonight' "
        "does not fit in the rest after the line 'Counting every mile we know' (11 "
        "syllables in 0.75 beats from @5.1, song bar.beat): not sung"]
    assert [n.lyric for n in part.notes if n.start_beat < 16.75] == []


def test_the_rendered_answers_are_sung_in_tune(tmp_path):
    plan, comp = _compose(_spec(tmp_path))
    alto = _alto_in_tune(plan, comp)
    sr, tl = plan.sample_rate, plan.timeline
    a, b = (int(float(tl.beat_to_seconds(x)) * sr) for x in (6.0, 7.75))
    assert abs(alto[:, a:b]).max() > 0.01  # the verse's first answer sounds


def test_a_daw_render_answers_with_the_specs_harmony_lyrics(tmp_path):
    """``--from-midi`` csvmidi_vocal_melody.mid (markers Verse and Chorus, lyric events, no
    harmony track) with a spec whose Verse and Chorus give "(shine)" and whose style has a
    composed third above: the answers are in the harmony MIDI after the lines with a rest
    after them, and the manifest warns about the line that runs into the next."""
    import json

    spec = tmp_path / "song.yaml"
    spec.write_text("title: t\npreset: pop\nsections:\n  - name: Verse\n    harmony_lyrics: "
                    "(shine)\n  - name: Chorus\n    harmony_lyrics: (shine)\nstyle:\n  vocals: "
                    "{harmony: third-above}\n")
    clip = Path(__file__).resolve().parent / "data" / "midi" / "csvmidi_vocal_melody.mid"
    out = rendered(tmp_path, "--from-midi", clip, spec, "--parts", "lead,vocals")
    events = midi_lyrics(out / "midi" / "vocals_harmony.mid")
    # the chorus' harmony sings along with its lead line (beats 8-11.5) between the answers
    assert [e for e in events if e[1] == "shine"] == [(7.0, "shine"), (15.0, "shine")]
    assert events[1:-1] == [(8.0, "Sing"), (9.0, "it"), (9.5, "loud"), (11.0, "to"),
                            (11.5, "night")]
    warnings = json.loads((out / "manifest.json").read_text())["warnings"]
    assert ("section 'Verse': the harmony lyric 'shine' does not fit in the rest after the "
            "line 'Holding on' (1 syllable in 0.00 beats from @2.2, song bar.beat): not sung"
            in warnings)


def test_the_example_answers_every_line_of_its_choruses_and_second_verse():
    """examples/answers.yaml: each of the 12 lead lines of its two choruses and second verse
    is answered (the chorus' four answers in order, twice; the verse's two, cycling), by
    the alto's stem, with no warning."""
    example = Path(__file__).resolve().parent.parent / "examples" / "answers.yaml"
    plan, comp = _compose(example)
    answers = comp.metadata["harmony_answers"]
    names = [comp.metadata["sections"][i][1] for i, *_ in answers]
    assert names == ["Chorus"] * 4 + ["Verse 2"] * 4 + ["Chorus 2"] * 4
    chorus = ["midnight", "silver light", "never look back", "golden"]
    verse = ["in the rain", "call my name"]
    assert [text for _, _, text, _ in answers] == chorus + verse * 2 + chorus
    assert not [w for w in comp.metadata["warnings"] if "harmony lyric" in w]
    settings = vocal_settings(plan.style.vocals)
    assert vocal_stems(comp, settings) == {"vocals": "tenor", "vocals-alto": "alto"}
