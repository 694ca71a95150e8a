"""The adapter interface: the registry, NoDaw, and the render folder the DAW tests place.

``write_render`` writes a real render folder (WAV stems + ``manifest.json`` in the format
``ainur render`` writes) small enough for fast tests; the simulators' tests import it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ainur_cli.errors import BridgeError
from daw_bridge.adapter import DAWS, DawAdapter, Health, NoDaw, PlaceResult, make_adapter
from daw_bridge.placement import load_manifest, placement_from_manifest

STEMS = (("drums", 0.0), ("bass", 0.5), ("vocals", 2.0))


def write_render(root: Path, *, tempo_bpm: float = 120.0, stems=STEMS, duration_s: float = 4.0,
                 sample_rate: int = 22050, numerator: int = 4, denominator: int = 4,
                 sections=(("Intro", 0.0), ("Verse 1", 4.0))) -> Path:
    """A render folder: one quiet sine WAV per ``(part, start_s)`` and a mix.

    Files are ``(channels=2, samples)`` float32 written as 16-bit PCM; ``start_sample`` is the
    stem's song position. Sections are ``(name, start_beat)`` through ``tempo_bpm``.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "stems").mkdir(exist_ok=True)
    files = []
    total = int(duration_s * sample_rate)
    for i, (part, start_s) in enumerate([*stems, ("mix", 0.0)]):
        start = int(round(start_s * sample_rate))
        n = total - start
        t = np.arange(n) / sample_rate
        audio = (0.1 * np.sin(2 * np.pi * (220 + 110 * i) * t)).astype(np.float32)
        rel = f"stems/{part}.wav" if part != "mix" else "mix.wav"
        soundfile.write(root / rel, np.stack([audio, audio]).T, sample_rate, subtype="PCM_16")
        files.append({"path": rel, "part": part, "start_sample": start, "duration_samples": n,
                      "sample_rate": sample_rate, "channels": 2})
    manifest = {
        "title": "Bridge Test", "sample_rate": sample_rate, "duration_samples": total,
        "tempo_map": [{"beat": 0.0, "bar": 1, "tempo_bpm": tempo_bpm}],
        "time_signatures": [{"bar": 1, "numerator": numerator, "denominator": denominator}],
        "sections": [{"name": name, "start_beat": beat,
                      "start_sample": int(round(beat * 60 / tempo_bpm * sample_rate))}
                     for name, beat in sections],
        "files": files,
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def load_placement(render: Path, start_beat: float = 0.0, start_s: float = 0.0):
    return placement_from_manifest(load_manifest(render), render, session_start_beat=start_beat,
                                   session_start_s=start_s)


def test_registry_knows_every_daw_and_refuses_others():
    assert set(DAWS) == {"ableton", "reaper", "ardour", "none"}
    assert isinstance(make_adapter("none"), NoDaw)
    a = make_adapter("ableton", reply_port=0)
    try:
        assert isinstance(a, DawAdapter) and a.name == "ableton"
    finally:
        a.close()
    r = make_adapter("REAPER", web_port=1)
    assert r.name == "reaper"
    with pytest.raises(BridgeError) as e:
        make_adapter("cubase")
    assert "cubase" in e.value.format() and "ableton" in e.value.format()


def test_no_daw_places_project_files(tmp_path):
    render = write_render(tmp_path / "r")
    p = load_placement(render)
    assert [s.part for s in p.stems] == ["drums", "bass", "vocals"]  # the mix is not a stem
    nd = NoDaw()
    assert nd.health() == Health(True, nd.health().message) and nd.health().ok
    with pytest.raises(BridgeError) as e:
        nd.read_session()
    assert "--daw" in e.value.format()
    result = nd.place(p)
    assert isinstance(result, PlaceResult) and not result.placed
    assert result.method == "project-files"
    assert sorted(Path(f).suffix for f in result.files) == [".RPP", ".dawproject"]
    assert all(Path(f).stat().st_size > 0 for f in result.files)


def test_connection_options_match_the_adapters():
    import inspect

    from daw_bridge.ableton import AbletonAdapter
    from daw_bridge.adapter import OPTIONS
    from daw_bridge.reaper import ReaperAdapter

    for daw, cls in (("ableton", AbletonAdapter), ("reaper", ReaperAdapter)):
        params = inspect.signature(cls.__init__).parameters
        for o in OPTIONS[daw]:
            assert o.flag.startswith("--") and o.help
            assert params[o.keyword].default == o.default, (daw, o.flag)


def test_replies_are_awaited_where_the_daw_sends_them():
    from daw_bridge.adapter import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("192.168.1.20") and not is_loopback("studio-mac.local")
