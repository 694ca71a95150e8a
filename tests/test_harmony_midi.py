"""The sung harmony voices in the MIDI export and the manifest, through the real render
pipeline, read back with plain mido: ``midi/vocals_harmony.mid`` holds the same conductor
track as the lead's file and one track per harmony voice, a note at the tick of every lead
note in the harmony sections at the pitch :func:`ainur_cli.vocals.harmony_notes` sings, with
the lead's lyrics; ``song.mid`` ends with the same tracks; a song without harmony has no such
file; the manifest names the file and the resolved vocal settings; same spec → same bytes."""

from __future__ import annotations

import mido
import pytest

from ainur_cli import api
from ainur_cli.compose.song import compose_song
from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.errors import ExportError
from ainur_cli.export.midi import PPQ, write_midi_files
from ainur_cli.spec import load_spec
from ainur_cli.timeline import Timeline
from ainur_cli.vocals import harmony_notes, harmony_parts, vocal_settings
from tests.conftest import SHORT_SONG

VOICES = ("third-above", "sixth-below")
# SHORT_SONG ends inside ``output:``: only the lead and the vocals are rendered (the MIDI
# files hold every part all the same); the harmony sings in the chorus (the default).
HARMONY_SONG = SHORT_SONG.format(preset="pop", bit_depth="24") + (
    "  parts: [lead, vocals]\n"
    "style:\n"
    "  vocals: {harmony: [third-above, sixth-below], harmony_gain_db: -4.5}\n")


@pytest.fixture(scope="module")
def harmony_render(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("harmony")
    spec_path = tmp / "harmony.yaml"
    spec_path.write_text(HARMONY_SONG, encoding="utf-8")
    return spec_path, api.render_file(spec_path, out_dir=tmp / "out")


def _absolute(track) -> list[tuple[int, object]]:
    now, out = 0, []
    for msg in track:
        now += msg.time
        out.append((now, msg))
    return out


def _midi(path) -> mido.MidiFile:
    return mido.MidiFile(str(path), charset="utf-8")


def _ons(events) -> list[tuple[int, int]]:
    return [(t, m.note) for t, m in events if m.type == "note_on" and m.velocity > 0]


def _lyrics(events, lo: int = 0, hi: int = 1 << 30) -> list[tuple[int, str]]:
    return [(t, m.text) for t, m in events if m.type == "lyrics" and lo <= t < hi]


def _chorus_ticks(manifest) -> tuple[int, int]:
    chorus = next(s for s in manifest["sections"] if s["kind"] == "chorus")
    beats_per_bar = {4: 4, 3: 3}  # the song's meters are 4/4 then 3/4 (quarter-note beats)
    meter = [m for m in manifest["time_signatures"] if m["bar"] <= chorus["start_bar"]][-1]
    end_beat = chorus["start_beat"] + chorus["bars"] * beats_per_bar[meter["numerator"]]
    return round(chorus["start_beat"] * PPQ), round(end_beat * PPQ)


def test_harmony_file_tracks_and_conductor(harmony_render):
    _, result = harmony_render
    midi_dir = result.out_dir / "midi"
    harmony, lead = _midi(midi_dir / "vocals_harmony.mid"), _midi(midi_dir / "lead.mid")
    assert harmony.type == 1 and harmony.ticks_per_beat == PPQ
    assert [t.name for t in harmony.tracks] == ["Short Test", *(f"harmony {v}" for v in VOICES)]
    # The same conductor track: tempo map, meters, key, markers, end at the same tick.
    assert list(harmony.tracks[0]) == list(lead.tracks[0])
    conductor = _absolute(harmony.tracks[0])
    assert [(t, m.tempo) for t, m in conductor if m.type == "set_tempo"] == [(0, 500000), (12 * PPQ, 666667)]
    assert [m.text for _, m in conductor if m.type == "marker"] == ["Intro", "Verse 1", "Chorus"]
    # song.mid: every part, then the same harmony tracks.
    song = _midi(midi_dir / "song.mid")
    assert [t.name for t in song.tracks][-3:] == ["lead", *(f"harmony {v}" for v in VOICES)]
    assert [list(t) for t in song.tracks[-2:]] == [list(t) for t in harmony.tracks[1:]]
    assert list(song.tracks[0]) == list(lead.tracks[0])
    # Own channels (no other track plays on them), the lead's program.
    programs = {t.name: [(m.channel, m.program) for m in t if m.type == "program_change"]
                for t in song.tracks[1:]}
    (lead_ch, lead_prog), = programs["lead"]
    others = {ch for name, pc in programs.items() if not name.startswith("harmony") for ch, _ in pc}
    chans = [programs[f"harmony {v}"][0] for v in VOICES]
    assert all(prog == lead_prog and ch not in others | {9} for ch, prog in chans)
    assert len({ch for ch, _ in chans}) == 2
    for track in harmony.tracks[1:]:
        channels = {m.channel for m in track if m.type in ("note_on", "note_off")}
        assert channels == {programs[track.name][0][0]}


def test_one_harmony_note_per_chorus_lead_note_at_the_sung_pitch(harmony_render):
    spec_path, result = harmony_render
    midi_dir = result.out_dir / "midi"
    lo, hi = _chorus_ticks(result.manifest)
    lead = _absolute(_midi(midi_dir / "lead.mid").tracks[1])
    lead_ons = [(t, k) for t, k in _ons(lead) if lo <= t < hi]
    assert len(lead_ons) >= 4
    assert any(t < lo for t, _ in _ons(lead))  # the verse is sung too, by the lead alone
    # What the voice sings, from the same spec, by the function the vocals stem uses.
    plan = api.resolve_song(load_spec(spec_path)).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections, spec_file=plan.spec.file)
    sung, _ = harmony_notes(comp, plan.timeline, vocal_settings(plan.style.vocals))
    assert len(sung) == len(VOICES)
    tracks = _midi(midi_dir / "vocals_harmony.mid").tracks[1:]
    for track, line in zip(tracks, sung):
        events = _absolute(track)
        ons = _ons(events)
        # One note at every chorus lead note's tick, none elsewhere ...
        assert [t for t, _ in ons] == [t for t, _ in lead_ons]
        # ... at the pitch the voice sings (written pitch, before the octave shift), which is
        # never the lead's pitch class ...
        assert [k for _, k in ons] == [h.midi_pitch for h in line]
        assert all(k % 12 != lead_k % 12 for (_, k), (_, lead_k) in zip(ons, lead_ons))
        # ... sung at the time that tick means on the timeline.
        for (tick, _), h in zip(ons, line):
            assert float(plan.timeline.beat_to_seconds(tick / PPQ)) == pytest.approx(h.start_s, abs=1e-3)
        # The lead's words in the chorus, at the same ticks.
        assert _lyrics(events) == _lyrics(lead, lo, hi) and _lyrics(events)
    # The two voices never share a key at a note.
    a, b = (_ons(_absolute(t)) for t in tracks)
    assert all(x != y for (_, x), (_, y) in zip(a, b))


def test_manifest_lists_the_file_and_the_vocal_settings(harmony_render):
    _, result = harmony_render
    m = result.manifest
    assert m["midi"]["vocals_harmony"] == "midi/vocals_harmony.mid"
    assert (result.out_dir / m["midi"]["vocals_harmony"]).is_file()
    assert list(m["midi"])[-1] == "vocals_harmony" and list(m["midi"])[0] == "song"
    assert m["vocals"] == {"enabled": True, "voice": "default", "double": False,
                           "harmony": list(VOICES), "harmony_sections": ["chorus"],
                           "harmony_gain_db": -4.5, "harmony_voice": None, "harmony_sings": "words",
                           "harmony_rhythm": "lead",
                           "line_end_beats": 0.5,
                           "section_end_beats": 2.5,  # pop's phrasing, merged with the song's
                           "section_voices": {}, "sung_by": {"Verse 1": "tenor", "Chorus": "tenor"},
                           "octaves": {}, "stems": {"vocals": "tenor"}}
    keys = list(m)
    assert keys.index("soundfont") + 1 == keys.index("vocals") == keys.index("files") - 1


def test_no_harmony_no_file(short_render):
    _, result = short_render
    m = result.manifest
    assert "vocals_harmony" not in m["midi"]
    assert not (result.out_dir / "midi" / "vocals_harmony.mid").exists()
    assert m["vocals"]["harmony"] == [] and m["vocals"]["enabled"] is True
    song = _midi(result.out_dir / "midi" / "song.mid")
    assert not any(t.name.startswith("harmony") for t in song.tracks)


def test_same_spec_same_harmony_bytes(tmp_path, harmony_render):
    spec_path, first = harmony_render
    again = api.render_file(spec_path, out_dir=tmp_path / "again")
    for name in ("vocals_harmony.mid", "song.mid"):
        assert (first.out_dir / "midi" / name).read_bytes() == (again.out_dir / "midi" / name).read_bytes()
    assert first.manifest == again.manifest


def test_harmony_parts_keep_the_lead_notes_but_the_pitch(harmony_render):
    spec_path, _ = harmony_render
    plan = api.resolve_song(load_spec(spec_path)).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    settings = vocal_settings(plan.style.vocals)
    parts = harmony_parts(comp, plan.timeline, settings)
    sung, _ = harmony_notes(comp, plan.timeline, settings)
    lead = {n.start_beat: n for n in comp.part("lead").notes}
    for part, line in zip(parts, sung):
        assert [n.pitch for n in part.notes] == [h.midi_pitch for h in line]
        for n in part.notes:
            m = lead[n.start_beat]
            assert (n.duration_beats, n.velocity, n.lyric, n.line_index) == \
                (m.duration_beats, m.velocity, m.lyric, m.line_index)
    assert harmony_parts(comp, plan.timeline, {**settings, "harmony": ()}) == ()


def test_written_harmony_and_its_name_check(tmp_path):
    tl = Timeline.constant(120, 4, 4, 2, 48000)
    lead = Part("lead", 73, False, 1, (Note(0.5, 1.0, 64, 90, "la", line_index=0),
                                       Note(1.5, 0.5, 67, 80, "", line_index=0)))
    voice = Part("harmony third-above", 73, False, 2,
                 tuple(Note(n.start_beat, n.duration_beats, n.pitch + 3, n.velocity, n.lyric,
                            line_index=0) for n in lead.notes))
    paths = write_midi_files(Composition((lead,)), tl, tmp_path, title="t", markers=[(0, "A")],
                             key_signature=None, harmony=(voice,))
    assert sorted(paths) == ["lead", "song", "vocals_harmony"]
    track = _absolute(_midi(paths["vocals_harmony"]).tracks[1])
    # RP-017: a space ends the word, a carriage return the lyric line
    assert _ons(track) == [(480, 67), (1440, 70)] and _lyrics(track) == [(480, "la \r")]
    assert [m.channel for _, m in track if m.type == "note_on"] == [2, 2]
    assert sorted(write_midi_files(Composition((lead,)), tl, tmp_path / "plain", title="t",
                                   markers=[], key_signature=None)) == ["lead", "song"]
    with pytest.raises(ExportError, match="part name cannot be a MIDI file name.*vocals_harmony"):
        write_midi_files(Composition((Part("vocals_harmony", 0, False, 0, ()),)), tl, tmp_path,
                         title="t", markers=[], key_signature=None)
