"""Render reports: the measured curves against independent meters (pyloudnorm, ffmpeg), the
page on a synthetic render, and real batch pages loaded in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from matplotlib.image import imread

from ainur_cli.report import report_folder, write_report
from ainur_cli.report.analysis import envelope, momentary_lufs, short_term_curve, spectrogram_db
from tests.batch.chromium import load_page
from tests.batch.conftest import read_batch, run_cli

SR = 44100


def _sine(freq_hz: float, amp: float, seconds: float, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.tile((amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32), (channels, 1))


def test_curves_against_independent_meters():
    quiet = np.zeros((2, 2 * SR), dtype=np.float32)
    tone = _sine(997.0, 0.25, 4.0)
    audio = np.concatenate([quiet, tone], axis=1)
    t, lufs = momentary_lufs(audio, SR)
    expected = pyloudnorm.Meter(SR).integrated_loudness(tone.T.astype(np.float64))
    inside = t >= 2.0 + 0.4 + 1e-9       # windows wholly inside the tone
    assert np.all(np.abs(lufs[inside] - expected) < 0.1)
    assert np.all(lufs[t <= 2.0] == -70.0)
    # Spectrogram: a bin-centred sine of amplitude 0.5 peaks at its frequency at −6 dBFS.
    f0 = 43 * SR / 2048
    ts, f_hz, db = spectrogram_db(_sine(f0, 0.5, 1.0), SR)
    peak = np.argmax(db.mean(axis=1))
    assert f_hz[peak] == pytest.approx(f0) and db[peak].mean() == pytest.approx(-6.02, abs=0.3)
    # Envelope: silent, then ±0.25.
    tc, lo, hi = envelope(audio, SR, columns=60)
    assert np.all(hi[tc < 1.9] == 0) and np.allclose(hi[tc > 2.1], 0.25, atol=0.01)
    assert np.allclose(lo[tc > 2.1], -0.25, atol=0.01)


def test_short_term_curve_matches_ffmpeg(tmp_path):
    rng = np.random.default_rng(5)
    noise = rng.standard_normal((2, 9 * SR)).astype(np.float32)
    gain = np.where(np.arange(9 * SR) < 4 * SR, 0.02, 0.2).astype(np.float32)
    audio = noise * gain
    path = tmp_path / "steps.wav"
    sf.write(str(path), audio.T, SR, subtype="FLOAT")
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-filter_complex",
                           "ebur128", "-f", "null", "-"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("ffmpeg's ebur128 filter is not available")
    theirs = {round(float(m.group(1)), 1): float(m.group(2)) for m in
              re.finditer(r"t:\s*([\d.]+)\s+TARGET:.*?S:\s*(-?[\d.]+|-inf)", proc.stderr)
              if m.group(2) != "-inf"}
    t, lufs = short_term_curve(audio, SR)
    compared = 0
    for ti, li in zip(np.round(t, 1), lufs):
        if ti in theirs and ti >= 3.0:
            assert abs(li - theirs[ti]) < 0.3, (ti, li, theirs[ti])
            compared += 1
    assert compared >= 50   # the whole curve, including the step at 4 s, lines up in time


def _synthetic_render(folder: Path) -> dict:
    """A render folder written by hand (audio + manifest), to test the page by itself."""
    folder.mkdir()
    (folder / "stems").mkdir()
    parts = {"drums": _sine(110.0, 0.3, 6.0), "keys": _sine(440.0, 0.1, 6.0)}
    parts["keys"][:, : 2 * SR] = 0.0
    mix = parts["drums"] + parts["keys"]
    files = []
    for part, audio, rel in [("mix", mix, "mix.wav")] + [(k, v, f"stems/{k}.wav") for k, v in parts.items()]:
        sf.write(str(folder / rel), audio.T, SR, subtype="PCM_24")
        files.append({"path": rel, "part": part, "duration_samples": audio.shape[1], "duration_s": 6.0,
                      "integrated_lufs": round(pyloudnorm.Meter(SR).integrated_loudness(audio.T.astype(float)), 2),
                      "true_peak_dbtp": -3.0, "format": "wav", "bit_depth": "24"})
    manifest = {"title": "Synthetic <Song> & Co", "preset": "pop", "seed": 3, "key": "A minor",
                "sample_rate": SR, "duration_s": 6.0, "duration_samples": 6 * SR, "target_lufs": -14.0,
                "true_peak_ceiling_dbtp": -1.0, "spec_hash": "ab" * 32, "ainur_version": "test",
                "tempo_map": [{"beat": 0.0, "bar": 1, "tempo_bpm": 120.0}],
                "time_signatures": [{"bar": 1, "numerator": 4, "denominator": 4}],
                "sections": [{"name": "Intro", "kind": "intro", "start_bar": 1, "bars": 1, "start_s": 0.0,
                              "end_s": 2.0, "energy": 0.3},
                             {"name": "Chorus", "kind": "chorus", "start_bar": 2, "bars": 2, "start_s": 2.0,
                              "end_s": 6.0, "energy": 0.9}],
                "files": files, "warnings": ["a <warning>"]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_page_on_a_synthetic_render(tmp_path):
    folder = tmp_path / "render"
    manifest = _synthetic_render(folder)
    page = write_report(folder)
    assert page == folder / "report.html"
    text = page.read_text(encoding="utf-8")
    embedded = [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]
    written = {p.name: p.read_bytes() for p in (folder / "report").glob("*.png")}
    assert set(written) == {"overview.png", "sections.png", "loudness.png", "stems.png", "thumb.png"}
    assert len(embedded) == 4 and all(png in written.values() for png in embedded)
    assert imread(str(folder / "report" / "overview.png")).shape[:2] == (520, 1100)
    assert imread(str(folder / "report" / "thumb.png")).shape[:2] == (70, 320)
    assert "Synthetic &lt;Song&gt; &amp; Co" in text and "a &lt;warning&gt;" in text   # escaped
    assert "Chorus" in text and f"{manifest['files'][0]['integrated_lufs']:.1f} LUFS" in text
    assert 'href="stems/keys.wav"' in text and "http" not in text.replace("http-equiv", "")


def test_chromium_check_catches_a_broken_page(tmp_path):
    """The check below is only worth something if it sees errors: feed it a broken page."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="data:image/png;base64,AAAA">'
                   "<script>console.error('deliberate'); notDefined();</script></body></html>")
    loaded = load_page(bad, tmp_path, height=300)
    assert any("deliberate" in c for c in loaded.console)
    assert any("notDefined" in c for c in loaded.console)


def _looks_drawn(png: Path, size: tuple[int, int]) -> None:
    img = imread(str(png))
    assert img.shape[:2] == (size[1], size[0])
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200   # figures and text, not a blank page


def test_real_batch_pages_in_chromium(local_batch, tmp_path):
    out, proc = local_batch
    assert proc.returncode == 0
    job = read_batch(out)["jobs"][0]
    page = out / job["out_dir"] / "report.html"
    loaded = load_page(page, tmp_path, height=2600)
    assert loaded.console == []
    assert 'data-images-ok="yes"' in loaded.dom and 'data-images="4"' in loaded.dom
    assert job["name"].split("/")[0].replace("-", " ").title() in loaded.dom
    _looks_drawn(loaded.screenshot, (1280, 2600))
    index = load_page(out / "index.html", tmp_path, height=900)
    assert index.console == []
    assert 'data-images-ok="yes"' in index.dom and 'data-images="4"' in index.dom
    for j in read_batch(out)["jobs"]:
        assert f'href="{j["out_dir"]}/report.html"' in index.dom
    _looks_drawn(index.screenshot, (1280, 900))
    print("screenshots:", loaded.screenshot, index.screenshot)


def test_report_command(local_batch, tmp_path):
    out, _ = local_batch
    job_dir = out / read_batch(out)["jobs"][1]["out_dir"]
    (job_dir / "report.html").unlink()
    proc = run_cli("report", str(job_dir))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (job_dir / "report.html").is_file() and str(job_dir / "report.html") in proc.stdout
    (tmp_path / "empty").mkdir()
    proc = run_cli("report", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "no finished render" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_folder_of_renders(local_batch, tmp_path):
    """A folder of renders without batch.json gets a page per render and an index."""
    out, _ = local_batch
    import shutil

    copy = tmp_path / "renders"
    shutil.copytree(out / "night-drive", copy / "night-drive")
    pages = report_folder(copy)
    assert [p.name for p in pages] == ["report.html", "report.html", "index.html"]
    text = pages[-1].read_text(encoding="utf-8")
    assert text.count('class="thumb"') == 2 and "pop/seed-9/report.html" in text
