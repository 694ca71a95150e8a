"""Sections sung by other voices (``vocals.section_voices``, a duet): which voice sings which
line (a section's name before its type), each voice in its own register on the rendered
stem (F0 measured), the rest of the vocal unchanged, harmony in the section's voice's
register, the manifest's ``sung_by``, and the field's validation (file, line, field, value)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ainur_cli.api import render_file, resolve_song
from ainur_cli.compose.song import compose_song
from ainur_cli.errors import SpecError
from ainur_cli.spec import parse_spec_text
from ainur_cli.vocals import (harmony_notes, line_voices, render_vocals, sung_notes_by_voice,
                              vocal_settings)
from ainur_cli.voice import sung_octave_shift
from ainur_cli.voice.voices import get_voice

SONG = """\
title: Duet Test
preset: pop
seed: 3
key: C major
tempo_bpm: 120
sections:
  - name: Verse 1
    bars: 4
    lyrics: |
      Headlights on the empty road
      Counting every mile we know
  - name: Chorus
    bars: 4
    lyrics: |
      Hold on, hold on to me
      We will never let it go
  - name: Verse 2
    bars: 4
    lyrics: |
      Somewhere in the middle of the night
  - name: Chorus 2
    bars: 4
    lyrics: |
      Hold on, hold on to me
style:
  vocals: {vocals}
"""
DUET = "{section_voices: {chorus: alto, Chorus 2: baritone}}"


def _song(vocals=DUET, text=SONG):
    plan = resolve_song(parse_spec_text(text.format(vocals=vocals), "song.yaml")).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    return plan, comp, vocal_settings(plan.style.vocals)


def _section_of_lines(comp) -> dict[int, str]:
    return {m["line_index"]: m["section_name"] for m in comp.metadata["lines"]}


def test_a_sections_name_wins_over_its_type_and_the_rest_sing_with_the_voice():
    plan, comp, settings = _song()
    assert settings["section_voices"] == (("chorus", ("alto",)), ("Chorus 2", ("baritone",)))
    sections = _section_of_lines(comp)
    sung = {sections[i]: v for (i, (v,)) in line_voices(comp, settings).items()}
    assert sung == {"Verse 1": "tenor", "Chorus": "alto", "Verse 2": "tenor",
                    "Chorus 2": "baritone"}
    # Keys compare without case or extra spaces; a type key covers every section of it.
    _, comp2, settings2 = _song("{voice: soprano, section_voices: {'  verse   2 ': baritone, "
                                "CHORUS: alto}}")
    sung2 = {_section_of_lines(comp2)[i]: v for i, (v,) in line_voices(comp2, settings2).items()}
    assert sung2 == {"Verse 1": "soprano", "Chorus": "alto", "Verse 2": "baritone",
                     "Chorus 2": "alto"}
    groups = sung_notes_by_voice(comp, plan.timeline, settings)
    assert list(groups) == ["tenor", "alto", "baritone"]  # in the order they first sing
    assert all(sections[n.line_index] == "Chorus" for n in groups["alto"])


@pytest.fixture(scope="module")
def rendered():
    plan, comp, duet = _song()
    _, _, solo = _song("{}")
    kw = dict(seed=3, total_samples=plan.total_samples)
    return (plan, comp, duet, render_vocals(comp, plan.timeline, solo, **kw),
            render_vocals(comp, plan.timeline, duet, **kw),
            render_vocals(comp, plan.timeline, duet, **kw))


def test_each_voice_sings_its_sections_in_its_own_register(rendered):
    import pyworld
    from scipy.signal import resample_poly

    plan, comp, settings, _, duet, again = rendered
    assert np.array_equal(duet, again)  # deterministic
    groups = sung_notes_by_voice(comp, plan.timeline, settings)
    shifts = {v: sung_octave_shift(g, v) for v, g in groups.items()}
    # The written melody sits where the men sing it an octave down and the alto as written:
    # without its own register the alto would sing the tenor's octave.
    assert shifts["tenor"] == shifts["baritone"] == -12 and shifts["alto"] == 0, shifts
    sr = 16000
    y = resample_poly(duet.mean(axis=0).astype(np.float64), sr, plan.sample_rate)
    f0, t = pyworld.harvest(y, sr, f0_floor=70.0, f0_ceil=700.0, frame_period=5.0)
    for voice, group in groups.items():
        errors = []
        for n in group:
            m = (t >= n.start_s + 0.05) & (t < n.end_s - 0.03) & (f0 > 0)
            if n.duration_s < 0.2 or m.sum() < 5:
                continue
            sung_hz = 440.0 * 2 ** ((n.midi_pitch + shifts[voice] - 69) / 12)
            errors.append(float(np.median(1200 * np.log2(f0[m] / sung_hz))))
        assert len(errors) >= 4, voice
        assert sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), (voice, errors)


def test_the_sections_before_another_voice_comes_in_are_unchanged(rendered):
    plan, _, _, solo, duet, _ = rendered
    chorus = plan.sections[1]
    lead_in = int(0.5 * plan.sample_rate)  # the alto's breath and first consonant
    a = chorus.start_sample - lead_in
    assert np.array_equal(solo[:, :a], duet[:, :a])
    b, e = chorus.start_sample, chorus.end_sample
    diff = duet[:, b:e].astype(np.float64) - solo[:, b:e]
    assert 10 * np.log10(np.mean(diff ** 2) / np.mean(solo[:, b:e].astype(np.float64) ** 2)) > -3


def test_harmony_is_sung_near_the_register_of_the_sections_voice():
    plan, comp, settings = _song("{harmony: third-above, harmony_sections: [chorus, verse], "
                                 "section_voices: {chorus: alto}}")
    (line,), shifts = harmony_notes(comp, plan.timeline, settings)
    assert shifts == {"tenor": -12, "alto": 0}
    sections = _section_of_lines(comp)
    seen = set()
    for h in line:
        voice = "alto" if sections[h.line_index].startswith("Chorus") else "tenor"
        centre = get_voice(voice).centre_midi - shifts[voice]   # in written pitches
        assert centre - 12 <= h.midi_pitch <= centre + 12, (voice, h)
        seen.add(voice)
    assert seen == {"tenor", "alto"}


def test_two_voices_sing_a_section_together_each_in_its_register():
    """``Chorus 2: [tenor, alto]``: both sing it, the tenor panned left and the alto right
    (each -3 dB), each in its own octave; unmixed from the two channels by the pan law, each
    voice's F0 follows its notes."""
    import pyworld
    from scipy.signal import resample_poly

    from ainur_cli.vocals import DUET_GAIN, DUET_PAN, sung_by

    plan, comp, settings = _song("{section_voices: {Chorus 2: [tenor, alto]}}")
    sections = _section_of_lines(comp)
    voices = {sections[i]: v for i, v in line_voices(comp, settings).items()}
    assert voices == {"Verse 1": ("tenor",), "Chorus": ("tenor",), "Verse 2": ("tenor",),
                      "Chorus 2": ("tenor", "alto")}
    assert sung_by(comp, settings)["Chorus 2"] == ["tenor", "alto"]
    groups = sung_notes_by_voice(comp, plan.timeline, settings)
    shifts = {v: sung_octave_shift(g, v) for v, g in groups.items()}
    assert shifts == {"tenor": -12, "alto": 0}
    y = render_vocals(comp, plan.timeline, settings, seed=3, total_samples=plan.total_samples)
    _, _, solo = _song("{}")
    alone = render_vocals(comp, plan.timeline, solo, seed=3, total_samples=plan.total_samples)
    chorus2 = plan.sections[3]
    a = chorus2.start_sample - int(0.5 * plan.sample_rate)
    assert np.array_equal(y[:, :a], alone[:, :a])  # the tenor alone until the duet comes in
    far = 1.0 - DUET_PAN   # the far side's gain
    left, right = (y[:, chorus2.start_sample:].astype(np.float64) / DUET_GAIN)
    tenor, alto = (left - far * right) / (1 - far ** 2), (right - far * left) / (1 - far ** 2)
    sr = 16000
    for voice, take in (("tenor", tenor), ("alto", alto)):
        x = resample_poly(take, sr, plan.sample_rate)
        f0, t = pyworld.harvest(x, sr, f0_floor=70.0, f0_ceil=700.0, frame_period=5.0)
        t = t + chorus2.start_s
        errors = []
        for n in groups[voice]:
            m = (t >= n.start_s + 0.05) & (t < n.end_s - 0.03) & (f0 > 0)
            if n.start_s < chorus2.start_s or n.duration_s < 0.2 or m.sum() < 5:
                continue
            sung_hz = 440.0 * 2 ** ((n.midi_pitch + shifts[voice] - 69) / 12)
            errors.append(float(np.median(1200 * np.log2(f0[m] / sung_hz))))
        assert len(errors) >= 3, voice
        assert sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), (voice, errors)


def test_a_voice_sings_a_phrase_with_another_as_it_sings_it_alone():
    """The tenor's last chorus, sung with the alto, is the tenor's own chorus of the
    one-voice song (the same phrases, rendered once: voice.shared_phrases), panned left
    and 3 dB down."""
    from ainur_cli.vocals import DUET_GAIN, DUET_PAN

    # The two choruses alike, at 104 bpm (their starts fall between samples).
    text = SONG.replace("tempo_bpm: 120", "tempo_bpm: 104").replace(
        "      Hold on, hold on to me\nstyle:",
        "      Hold on, hold on to me\n      We will never let it go\nstyle:")
    plan, comp, settings = _song("{section_voices: {Chorus 2: [tenor, alto]}}", text)
    _, _, solo = _song("{}", text)
    kw = dict(seed=3, total_samples=plan.total_samples)
    tenor = render_vocals(comp, plan.timeline, settings, singer="tenor", **kw)
    alone = render_vocals(comp, plan.timeline, solo, **kw)
    sides = DUET_GAIN * np.array([1.0, 1.0 - DUET_PAN])[:, np.newaxis]
    chorus2 = plan.sections[3]
    inside = np.zeros(plan.total_samples, dtype=bool)  # the notes (the breaths in the rests
    for n in sung_notes_by_voice(comp, plan.timeline, solo)["tenor"]:  # are drawn per call)
        if n.start_s >= chorus2.start_s:
            inside[int(n.start_s * plan.sample_rate):int(n.end_s * plan.sample_rate)] = True
    assert inside.sum() > 2 * plan.sample_rate and np.abs(alone[:, inside]).max() > 0.05
    np.testing.assert_allclose(tenor[:, inside], (sides * alone)[:, inside], rtol=0, atol=1e-6)


def test_a_null_drops_a_key_and_a_section_render_of_a_duet_keeps_both_voices():
    from daw_bridge.job_runner import section_spec

    _, comp, settings = _song("{section_voices: {chorus: alto, Chorus 2: null}}")
    assert settings["section_voices"] == (("chorus", ("alto",)),)
    sections = _section_of_lines(comp)
    assert {sections[i]: v for i, v in line_voices(comp, settings).items()}["Chorus 2"] == ("alto",)
    text = SONG.format(vocals="{section_voices: {chorus: [baritone, soprano], Verse 2: alto}}")
    spec = parse_spec_text(text, "song.yaml")
    plan = resolve_song(spec).plan
    sung = {}
    for sec in plan.sections:
        sub = vocal_settings(resolve_song(section_spec(spec, plan, sec, None)).plan.style.vocals)
        sung[sec.name] = (sub["voice"], sub["section_voices"])
    assert sung == {"Verse 1": ("tenor", ()), "Verse 2": ("alto", ()),
                    "Chorus": ("baritone", (("chorus", ("baritone", "soprano")),)),
                    "Chorus 2": ("baritone", (("Chorus 2", ("baritone", "soprano")),))}


def test_octaves_fix_where_a_voice_sings():
    """``octaves: {tenor: 0}``: the tenor sings the melody as written instead of an octave
    down (its F0 on its notes); ``auto`` leaves the choice to the register rule."""
    import pyworld
    from scipy.signal import resample_poly

    from ainur_cli.vocals import song_octaves

    plan, comp, auto = _song("{octaves: {tenor: auto}}")
    assert auto["octaves"] == () and song_octaves(comp, plan.timeline, auto) == {"tenor": -12}
    _, _, settings = _song("{octaves: {Default: 0}, section_voices: {Chorus 2: [tenor, alto]}}")
    assert settings["octaves"] == (("tenor", 0),)
    assert song_octaves(comp, plan.timeline, settings) == {"tenor": 0, "alto": 0}
    _, _, solo = _song("{octaves: {tenor: 0}}")
    y = render_vocals(comp, plan.timeline, solo, seed=3, total_samples=plan.total_samples)
    sr = 16000
    x = resample_poly(y.mean(axis=0).astype(np.float64), sr, plan.sample_rate)
    f0, t = pyworld.harvest(x, sr, f0_floor=70.0, f0_ceil=700.0, frame_period=5.0)
    errors = []
    for n in sung_notes_by_voice(comp, plan.timeline, solo)["tenor"]:
        m = (t >= n.start_s + 0.05) & (t < n.end_s - 0.03) & (f0 > 0)
        if n.duration_s >= 0.2 and m.sum() >= 5:
            written_hz = 440.0 * 2 ** ((n.midi_pitch - 69) / 12)
            errors.append(float(np.median(1200 * np.log2(f0[m] / written_hz))))
    assert len(errors) >= 8
    assert sum(abs(e) < 50 for e in errors) >= 0.8 * len(errors), errors


def test_each_singer_has_a_stem_and_the_stems_sum_to_the_mix(tmp_path):
    """A duet's render: ``stems/vocals.wav`` (the voice of the first line), one
    ``stems/vocals-<voice>.wav`` per other singer, silent before that singer comes in, and
    with the other parts they sum to the mastered mix; the manifest says who sang what. The
    tenor's and the baritone's own strips (panned left and right) go on their stems, the
    tenor's on ``vocals``; the alto, without one, sings in the centre."""
    import soundfile as sf

    spec = tmp_path / "song.yaml"
    spec.write_text(SONG.format(vocals=DUET) + "  mix:\n    parts:\n"
                    "      vocals-tenor: {pan: -0.8}\n      vocals-baritone: {pan: 0.8}\n")
    out = render_file(spec, out_dir=tmp_path / "out", workers=2,
                      overrides={"parts": "lead,vocals", "bit_depth": "32f"}).out_dir
    manifest = json.loads((out / "manifest.json").read_text())
    vocals = manifest["vocals"]
    assert vocals["section_voices"] == {"chorus": "alto", "Chorus 2": "baritone"}
    assert vocals["sung_by"] == {"Verse 1": "tenor", "Chorus": "alto", "Verse 2": "tenor",
                                 "Chorus 2": "baritone"}
    assert vocals["stems"] == {"vocals": "tenor", "vocals-alto": "alto",
                               "vocals-baritone": "baritone"}
    names = [f["part"] for f in manifest["files"]]
    assert names == ["mix", "lead", "vocals", "vocals-alto", "vocals-baritone"]
    stems = {n: sf.read(out / "stems" / f"{n}.wav", dtype="float64", always_2d=True)[0].T
             for n in names[1:]}
    mix = sf.read(out / "mix.wav", dtype="float64", always_2d=True)[0].T
    assert np.max(np.abs(sum(stems.values()) - mix)) < 1e-5
    sections = {s["name"]: s for s in manifest["sections"]}
    for stem, section in (("vocals-alto", "Chorus"), ("vocals-baritone", "Chorus 2")):
        comes_in = sections[section]["start_sample"] - int(0.5 * manifest["sample_rate"])
        before = np.abs(stems[stem][:, :comes_in]).max()       # nothing before the singer
        assert before < 1e-6, (stem, before)                     # (-120 dBFS: filter tails)
        assert np.abs(stems[stem][:, sections[section]["start_sample"]:]).max() > 0.01, stem
    left_over_right = {n: float(np.sqrt(np.mean(a[0] ** 2) / np.mean(a[1] ** 2)))
                       for n, a in stems.items() if n.startswith("vocals")}
    assert left_over_right["vocals"] > 2.5, left_over_right          # pan -0.8 (-11.3 dB right)
    assert left_over_right["vocals-baritone"] < 1 / 2.5, left_over_right
    assert 0.8 < left_over_right["vocals-alto"] < 1.25, left_over_right


@pytest.mark.parametrize("vocals, line, field, value, allowed", [
    ("{section_voices: {chorus: bass}}", 0, "vocals.section_voices.chorus", "'bass'",
     "default, tenor, soprano, baritone, alto"),
    ("{section_voices: {Verse 3: alto}}", 0, 'vocals.section_voices["Verse 3"]', "'Verse 3'",
     "Verse 1, Chorus, Verse 2, Chorus 2"),
    ("{section_voices: {Verse 1: alto, verse  1: tenor}}", 0,
     'vocals.section_voices["verse  1"]', "'verse  1'", "one key per section"),
    ("{section_voices: [alto]}", 0, "vocals.section_voices", "['alto']",
     "a mapping of section names or types to voices"),
    ("{section_voices: {chorus: [alto, alto]}}", 0, "vocals.section_voices.chorus",
     "['alto', 'alto']", "two different ones"),
    ("{section_voices: {chorus: [default, tenor]}}", 0, "vocals.section_voices.chorus",
     "['default', 'tenor']", "two different ones"),
    ("{section_voices: {chorus: [tenor, alto, soprano]}}", 0, "vocals.section_voices.chorus",
     "3", "1..2 items"),
    ("{section_voices: {chorus: [tenor, bass]}}", 0, "vocals.section_voices.chorus[1]",
     "'bass'", "default, tenor, soprano, baritone, alto"),
    ("{octaves: {bass: 1}}", 0, "vocals.octaves.bass", "'bass'",
     "default, tenor, soprano, baritone, alto"),
    ("{octaves: {tenor: 3}}", 0, "vocals.octaves.tenor", "3", ">= -2 and <= 2"),
    ("{octaves: {tenor: 0.5}}", 0, "vocals.octaves.tenor", "0.5", "an integer"),
    ("{octaves: {default: 0, tenor: -1}}", 0, "vocals.octaves.tenor", "'tenor'",
     "one key per voice"),
    ("{octaves: [tenor]}", 0, "vocals.octaves", "['tenor']", "a mapping of voices to octaves"),
])
def test_bad_section_voices_are_named_with_file_and_line(vocals, line, field, value, allowed):
    text = SONG.format(vocals=vocals)
    with pytest.raises(SpecError) as info:
        resolve_song(parse_spec_text(text, "song.yaml"))
    message = str(info.value)
    vocals_line = text.splitlines().index("  vocals: " + vocals) + 1
    assert message.startswith(f"song.yaml:{vocals_line + line}: {field}:"), message
    assert value in message and allowed in message, message
