"""The soundfont engine: notes start and stop on the exact samples the timeline gives (checked
against hand-computed positions by detecting onsets in the rendered audio), drums play from
bank 128, output shape/silence/fades, workers and determinism, soundfont resolution errors.

Two soundfonts are used: pretty-midi's TimGM6mb (the real default) and a tiny one built here
(one looped sine sample, no envelope), whose onsets and note-offs are sharp to the sample.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.engines.embedded import render as engine
from ainur_cli.engines.embedded.events import beats_to_samples
from ainur_cli.engines.embedded.render import render_part, render_parts
from ainur_cli.engines.embedded.soundfont import (FLUIDR3, describe_soundfont, resolve_soundfont,
                                                  soundfont_presets)
from ainur_cli.errors import EngineError
from ainur_cli.timeline import MeterChange, TempoChange, Timeline

SR = 48000


def issue_timeline(sr: int = SR) -> Timeline:
    """4 bars 4/4 at 120 bpm, then 2 bars 3/4 at 90 bpm: 12 s."""
    return Timeline([TempoChange(Fraction(0), Fraction(120)), TempoChange(Fraction(16), Fraction(90))],
                    [MeterChange(0, 4, 4), MeterChange(4, 3, 4)], 6, sr)


# -- a tiny SoundFont written byte by byte (SF2 2.01: RIFF sfbk / INFO / sdta / pdta) ------

def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def tiny_sf2(programs=((0, 0),), sample_rate: int = SR, freq_hz: float = 480.0) -> bytes:
    """One looped cosine sample (key 69 = ``freq_hz``), one instrument, one preset per
    ``(bank, program)``; no envelope, so a note sounds from its first sample."""
    period = sample_rate / freq_hz
    n = int(round(period * 100))
    wave = (np.cos(2 * np.pi * np.arange(n) / period) * 16000).astype("<i2")
    name = lambda s: s.encode().ljust(20, b"\0")  # noqa: E731
    phdr = b"".join(name(f"P{b}-{p}") + struct.pack("<HHHIII", p, b, i, 0, 0, 0)
                    for i, (b, p) in enumerate(programs))
    phdr += name("EOP") + struct.pack("<HHHIII", 0, 0, len(programs), 0, 0, 0)
    pbag = b"".join(struct.pack("<HH", i, 0) for i in range(len(programs) + 1))
    pgen = b"".join(struct.pack("<HH", 41, 0) for _ in programs) + b"\0" * 4  # instrument 0
    inst = name("sine") + struct.pack("<H", 0) + name("EOI") + struct.pack("<H", 1)
    ibag = struct.pack("<HH", 0, 0) + struct.pack("<HH", 2, 0)
    igen = struct.pack("<HH", 54, 1) + struct.pack("<HH", 53, 0) + b"\0" * 4  # loop, sample 0
    shdr = name("sine") + struct.pack("<IIIIIBbHH", 0, n, 0, n, sample_rate, 69, 0, 0, 1)
    shdr += name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0)
    body = (b"sfbk"
            + _list(b"INFO", _chunk(b"ifil", struct.pack("<HH", 2, 1)), _chunk(b"isng", b"EMU8000\0"),
                    _chunk(b"INAM", b"tiny\0\0"))
            + _list(b"sdta", _chunk(b"smpl", wave.tobytes() + b"\0" * 92))
            + _list(b"pdta", _chunk(b"phdr", phdr), _chunk(b"pbag", pbag), _chunk(b"pmod", b"\0" * 10),
                    _chunk(b"pgen", pgen), _chunk(b"inst", inst), _chunk(b"ibag", ibag),
                    _chunk(b"imod", b"\0" * 10), _chunk(b"igen", igen), _chunk(b"shdr", shdr)))
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sf") / "tiny.sf2"
    path.write_bytes(tiny_sf2(((0, 0), (0, 5))))
    return path


@pytest.fixture(scope="module")
def timgm() -> Path:
    return resolve_soundfont(None)


def onsets(audio: np.ndarray, threshold: float = 1e-3, min_gap: int = 2400) -> list[int]:
    """Samples where the signal jumps above ``threshold`` after at least ``min_gap`` samples
    below it (an energy-jump onset detector independent of the engine)."""
    loud = np.abs(audio).max(axis=0) > threshold
    idx = np.flatnonzero(loud)
    if not len(idx):
        return []
    starts = [int(idx[0])]
    starts += [int(b) for a, b in zip(idx[:-1], idx[1:]) if b - a > min_gap]
    return starts


# -- timing ----------------------------------------------------------------------------------

# Beats and their sample positions computed by hand for issue_timeline() at 48 kHz:
# 120 bpm = 24000 samples per beat up to beat 16 (= 8 s); 90 bpm = 32000 samples per beat after.
HAND = [(Fraction(1, 2), 12000), (Fraction(16), 384000), (Fraction(35, 2), 432000),
        (Fraction(19), 480000), (Fraction(61, 3), 384000 + 138667)]  # 4 1/3 beats * 32000 = 138666.67


def test_hand_positions_agree_with_timeline():
    tl = issue_timeline()
    assert [tl.beat_to_sample(b) for b, _ in HAND] == [s for _, s in HAND]


def test_onsets_land_on_the_exact_sample(tiny):
    tl = issue_timeline()
    notes = tuple(Note(float(b), 0.25, 69, 100) for b, _ in HAND)
    audio = render_part(Part("lead", 0, False, 0, notes), tl, tiny, total_samples=tl.total_samples)
    assert onsets(audio) == [s for _, s in HAND]


def test_note_off_lands_on_the_exact_sample(tiny):
    tl = issue_timeline()
    n = tl.total_samples
    short = render_part(Part("a", 0, False, 0, (Note(16.0, 1.0, 69),)), tl, tiny, total_samples=n)
    long = render_part(Part("a", 0, False, 0, (Note(16.0, 2.0, 69),)), tl, tiny, total_samples=n)
    off = 384000 + 32000  # beat 17 at 90 bpm
    differs = np.flatnonzero(np.any(short != long, axis=0))
    # Identical up to the note-off; the release starts at it and takes effect within one
    # 64-sample envelope block (TinySoundFont updates its envelopes per block).
    assert off <= differs[0] <= off + 64
    assert not np.any(short[:, off + 1000:])  # the fast release is over: exact silence


def test_timgm6mb_piano_is_sharp_and_attack_presets_wait_one_block(timgm):
    tl = issue_timeline()
    for program, beats, lo, hi in [(0, [0, 16, 19], 0, 2), (48, [0, 8, 16], 64, 66)]:
        notes = tuple(Note(float(b), 0.5, 60, 110) for b in beats)
        audio = render_part(Part("p", program, False, 0, notes), tl, timgm, total_samples=tl.total_samples)
        found = onsets(audio, threshold=1e-5, min_gap=9000)
        assert len(found) == len(beats)
        for b, at in zip(beats, found):
            assert lo <= at - tl.beat_to_sample(b) <= hi, (program, b, at)


def test_drums_play_from_bank_128(timgm):
    assert soundfont_presets(timgm)[(128, 0)] == "Standard"
    tl = issue_timeline()
    hits = [(0.0, 36), (2.0, 38), (4.0, 42), (17.0, 49)]  # kick, snare, closed hat, crash
    notes = tuple(Note(b, 0.25, k, 120) for b, k in hits)
    drums = render_part(Part("drums", 0, True, 9, notes), tl, timgm, total_samples=tl.total_samples)
    piano = render_part(Part("keys", 0, False, 0, notes), tl, timgm, total_samples=tl.total_samples)
    for beat, _ in hits:
        s = tl.beat_to_sample(beat)
        assert np.sqrt(np.mean(drums[:, s:s + 4800] ** 2)) > 0.01
        assert not np.any(drums[:, s - 10:s])  # silent right before each hit
    assert not np.allclose(drums, piano, atol=1e-3)


# -- output contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("total", [576000, 12345, 1, 0])
def test_shape_dtype_and_length(tiny, total):
    tl = issue_timeline()
    notes = (Note(0.0, 1.0, 69), Note(20.0, 1.0, 69))  # the second starts after sample 12345
    audio = render_part(Part("a", 0, False, 0, notes), tl, tiny, total_samples=total)
    assert audio.shape == (2, total) and audio.dtype == np.float32 and audio.flags.c_contiguous
    shared = engine.shared_array(total)
    assert render_part(Part("a", 0, False, 0, notes), tl, tiny, total_samples=total, out=shared) is shared
    assert np.array_equal(shared, audio)


def one_call_per_stretch(part: Part, tl: Timeline, soundfont: Path, total: int) -> np.ndarray:
    """Reference render: one TinySoundFont call per stretch between event samples, each into
    a buffer of its own (no pieces, no writing into the result), then the stretch's events."""
    import tinysoundfont._tinysoundfont as tsf

    from ainur_cli.engines.embedded.events import note_spans

    synth = tsf.SoundFont(str(soundfont))
    synth.set_output(tsf.OutputMode.StereoUnweaved, tl.sample_rate, 0.0)
    bank = 128 if part.is_drums else 0
    synth.channel_set_bank(part.channel, bank)
    synth.channel_set_preset_index(part.channel, synth.get_preset_index(bank, part.program))
    events = []
    for span in note_spans(part, lambda beats: beats_to_samples(tl, beats)):
        events += [(span.on, 1, span.key, span.velocity), (span.off, 0, span.key, 0)]
    out = np.zeros((2, total), dtype=np.float32)
    pos = 0
    for sample, is_on, key, velocity in sorted(e for e in events if e[0] < total) + [(total, 0, 0, 0)]:
        if sample > pos:
            block = np.zeros(2 * (sample - pos), dtype=np.float32)
            synth.render(block.view(np.uint8), False)
            out[0, pos:sample], out[1, pos:sample] = block[:sample - pos], block[sample - pos:]
            pos = sample
        if sample < total:
            if is_on:
                synth.channel_note_on(part.channel, key, velocity / 127.0)
            else:
                synth.channel_note_off(part.channel, key)
    return out


def test_pieces_and_in_place_calls_equal_one_call_per_stretch(timgm):
    """render_part splits long stretches into SCRATCH_FRAMES pieces and renders into the
    result's left row (the song's last pieces through a scratch buffer): bit-identical to one
    call per stretch, for song ends just after an event, a piece or two pieces later."""
    tl = issue_timeline()
    frames = engine.SCRATCH_FRAMES
    keys = Part("keys", 48, False, 0, (Note(0.0, 3.0, 60, 100), Note(0.5, 1.0, 64, 90),
                                      Note(4.0, 0.25, 67, 110)))  # strings: attack and release
    last = tl.beat_to_sample(4.25)  # the last event: the note-off
    fade = round(engine.END_FADE_S * SR)
    for total in (last + 1, last + 100, last + frames + 3, last + 2 * frames, last + 3 * frames + 5,
                  tl.total_samples):
        want = one_call_per_stretch(keys, tl, timgm, total)
        got = render_part(keys, tl, timgm, total_samples=total)
        assert np.array_equal(got[:, :total - fade], want[:, :total - fade]), total
        assert np.abs(want[:, last - 3 * frames:total - fade]).max() > 1e-3  # sounding to the end
        shared = render_part(keys, tl, timgm, total_samples=total, out=engine.shared_array(total))
        assert np.array_equal(shared, got)


def test_silence_where_no_notes_and_fade_at_song_end(timgm):
    tl = issue_timeline()
    notes = (Note(4.0, 1.0, 60, 100), Note(21.0, 4.0, 60, 100))  # the last one rings past the end
    audio = render_part(Part("keys", 0, False, 0, notes), tl, timgm, total_samples=tl.total_samples)
    first = tl.beat_to_sample(4)
    assert not np.any(audio[:, :first])
    assert np.any(audio[:, first:first + 100])
    gap = audio[:, tl.beat_to_sample(8):tl.beat_to_sample(21)]  # released long before beat 21
    assert not np.any(gap)
    assert np.all(audio[:, -1] == 0)  # cut at the song end without a click ...
    assert np.abs(audio[:, -481]).max() > 1e-3  # ... by a 10 ms fade of a note still sounding


def test_gain_db_scales_the_output(timgm):
    tl = issue_timeline()
    part = Part("bass", 33, False, 0, (Note(0.0, 2.0, 40, 100), Note(2.0, 2.0, 43, 90)))
    unity = render_part(part, tl, timgm, total_samples=SR * 3)
    half = render_part(part, tl, timgm, total_samples=SR * 3, gain_db=-6.0206)
    np.testing.assert_allclose(half, unity * 0.5, rtol=1e-3, atol=1e-7)


def test_overlapping_same_key_notes_are_cut_at_the_next_onset(tiny):
    tl = issue_timeline()
    overlapping = (Note(0.0, 3.0, 69), Note(2.0, 2.0, 69))
    cut = (Note(0.0, 2.0, 69), Note(2.0, 2.0, 69))
    a = render_part(Part("a", 0, False, 0, overlapping), tl, tiny, total_samples=SR * 3)
    b = render_part(Part("a", 0, False, 0, cut), tl, tiny, total_samples=SR * 3)
    assert np.array_equal(a, b)


def test_beats_to_samples_is_exact():
    rng = np.random.default_rng(5)
    for sr in (44100, 48000, 96000):
        tl = issue_timeline(sr)
        beats = list(rng.uniform(0, 22, 2000))
        # Fractions exactly on half samples (round half up) on both sides of the tempo change.
        beats += [Fraction(2 * k + 1, 2 * sr) * 2 for k in range(0, 200_000, 9973)]
        beats += [16 + Fraction(2 * k + 1, 2 * sr) * Fraction(3, 2) for k in range(0, 90_000, 7919)]
        assert beats_to_samples(tl, beats).tolist() == [tl.beat_to_sample(b) for b in beats]


def test_bad_notes_are_engine_errors(tiny):
    tl = issue_timeline()
    for note, field in [(Note(0.0, 1.0, 128), "pitch"), (Note(0.0, 1.0, 60, 0), "velocity"),
                        (Note(-1.0, 1.0, 60), "start_beat"), (Note(0.0, 0.0, 60), "duration_beats")]:
        with pytest.raises(EngineError, match=rf"parts\.a\.notes\[0\]\.{field}"):
            render_part(Part("a", 0, False, 0, (note,)), tl, tiny, total_samples=100)


# -- several parts ----------------------------------------------------------------------------

def band() -> Composition:
    return Composition((
        Part("drums", 0, True, 9,
             tuple(Note(b * 0.5, 0.25, (36, 42, 38, 42)[b % 4], 100) for b in range(40))),
        Part("bass", 33, False, 0, tuple(Note(float(b), 1.0, 40 + b % 5, 100) for b in range(20))),
        Part("keys", 4, False, 1,
             tuple(Note(float(b), 2.0, 60 + k, 80) for b in range(0, 20, 2) for k in (0, 4, 7))),
    ))


def test_workers_and_repeats_are_bit_identical(timgm):
    tl = issue_timeline()
    one = render_parts(band(), tl, timgm, total_samples=tl.total_samples, workers=1)
    again = render_parts(band(), tl, timgm, total_samples=tl.total_samples, workers=1)
    two = render_parts(band(), tl, timgm, total_samples=tl.total_samples, workers=2)
    assert list(one) == list(two) == ["drums", "bass", "keys"]
    for name in one:
        assert np.abs(one[name]).max() > 0.05
        assert np.array_equal(one[name], again[name]) and np.array_equal(one[name], two[name])
        assert two[name].flags.writeable and two[name].flags.c_contiguous


def test_workers_without_fork_return_the_same(timgm, monkeypatch):
    """The path used when other threads run (DAW bridge): forkserver/spawn, pickled stems."""
    import multiprocessing

    tl = issue_timeline()
    comp = Composition(band().parts[:2])
    one = render_parts(comp, tl, timgm, total_samples=SR * 4, workers=1)
    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    monkeypatch.setattr(engine, "_pool_context", lambda: multiprocessing.get_context(method))
    two = render_parts(comp, tl, timgm, total_samples=SR * 4, workers=2)
    for name in one:
        assert np.array_equal(one[name], two[name])


def test_render_parts_subset_and_unknown_name(timgm):
    tl = issue_timeline()
    out = render_parts(band(), tl, timgm, total_samples=SR, parts=["keys", "drums"])
    assert list(out) == ["drums", "keys"]
    with pytest.raises(EngineError, match="no such part.*allowed: drums, bass, keys"):
        render_parts(band(), tl, timgm, total_samples=SR, parts=["vocals"])


# -- soundfonts -------------------------------------------------------------------------------

def test_default_is_pretty_midis_timgm6mb_found_without_importing_it():
    code = ("import sys; from ainur_cli.engines.embedded.soundfont import resolve_soundfont; "
            "p = resolve_soundfont(None); assert 'pretty_midi' not in sys.modules; print(p)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    path = Path(out.stdout.strip())
    assert path.name == "TimGM6mb.sf2" and path.parent.name == "pretty_midi"
    info = describe_soundfont(path)
    assert info["size_bytes"] == path.stat().st_size
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_order_explicit_then_env_then_default(tiny, timgm, tmp_path, monkeypatch):
    other = tmp_path / "other.sf2"
    other.write_bytes(tiny.read_bytes())
    monkeypatch.setenv("AINUR_SOUNDFONT", str(tiny))
    assert resolve_soundfont(None) == tiny.resolve()
    assert resolve_soundfont(other) == other.resolve()
    assert resolve_soundfont("default") == timgm
    monkeypatch.setenv("AINUR_SOUNDFONT", "")
    assert resolve_soundfont("") == timgm


def test_fluidr3_alias():
    if FLUIDR3.is_file():
        assert resolve_soundfont("fluidr3") == FLUIDR3.resolve()
    else:
        with pytest.raises(EngineError, match="apt-get install fluid-soundfont-gm"):
            resolve_soundfont("FluidR3")


def test_bad_soundfonts(tmp_path, monkeypatch):
    not_sf = tmp_path / "x.sf2"
    not_sf.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk junk")
    with pytest.raises(EngineError, match=r"x\.sf2: soundfont: not a SoundFont file.*allowed: a readable"):
        resolve_soundfont(not_sf)
    with pytest.raises(EngineError, match="missing.sf2.*cannot read the soundfont"):
        resolve_soundfont(tmp_path / "missing.sf2")
    with pytest.raises(EngineError, match="cannot read the soundfont"):
        resolve_soundfont(tmp_path)  # a folder
    truncated = tmp_path / "cut.sf2"
    truncated.write_bytes(tiny_sf2()[:300])
    with pytest.raises(EngineError, match="truncated"):
        resolve_soundfont(truncated)
    monkeypatch.setenv("AINUR_SOUNDFONT", str(tmp_path / "nope.sf2"))
    with pytest.raises(EngineError, match="AINUR_SOUNDFONT"):
        resolve_soundfont(None)


def test_garbage_after_a_valid_header(tmp_path):
    body = b"sfbk" + b"\x00" * 200
    path = tmp_path / "garbage.sf2"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    sf2 = resolve_soundfont(path)  # the cheap header check passes ...
    with pytest.raises(EngineError, match="malformed SoundFont"):  # ... checking the parts does not
        render_part(Part("a", 0, False, 0, (Note(0.0, 1.0, 60),)), issue_timeline(), sf2, total_samples=10)


def test_missing_presets_are_named_before_rendering(tiny):
    tl = issue_timeline()
    assert soundfont_presets(tiny) == {(0, 0): "P0-0", (0, 5): "P0-5"}
    with pytest.raises(EngineError, match=r"no preset for program 7 \(Clavinet\).*"
                                          r"allowed: programs this soundfont has in bank 0: \[0, 5\]"):
        render_part(Part("keys", 7, False, 0, ()), tl, tiny, total_samples=10)
    comp = Composition((Part("keys", 5, False, 0, ()), Part("drums", 0, True, 9, ())))
    with pytest.raises(EngineError, match="no General MIDI drum kit"):
        render_parts(comp, tl, tiny, total_samples=10)
