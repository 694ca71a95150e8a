"""`ainur batch` end to end with real renders: all jobs done and summarised, re-runs skip
finished work, one bad spec or one killed worker fails only its own job."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf

from ainur_cli.batch import LocalExecutor, plan_jobs, run_batch
from ainur_cli.batch.events import JobStarted
from tests.batch.conftest import read_batch, run_cli, write_tiny_song

NAMES = ["first-light/pop/seed-4", "first-light/house/seed-4",
         "night-drive/pop/seed-9", "night-drive/house/seed-9"]


def check_render(folder: Path, spec_hash: str | None = None) -> dict:
    """A finished render: manifest present, every listed file complete (frame count)."""
    m = json.loads((folder / "manifest.json").read_text())
    if spec_hash is not None:
        assert m["spec_hash"] == spec_hash
    for f in m["files"]:
        info = sf.info(str(folder / f["path"]))
        assert info.frames == f["duration_samples"] == m["duration_samples"]
        assert info.samplerate == 44100
    return m


def test_batch_all_done_with_summary(local_batch):
    out, proc = local_batch
    assert proc.returncode == 0, proc.stderr[-3000:]
    batch = proc.batch
    assert batch["counts"] == {"done": 4, "skipped": 0, "failed": 0, "cancelled": 0, "pending": 0}
    assert sorted(j["name"] for j in batch["jobs"]) == sorted(NAMES)
    meter = pyloudnorm.Meter(44100)
    for job in batch["jobs"]:
        folder = out / job["out_dir"]
        assert folder == out / job["name"] and job["status"] == "done" and job["error"] is None
        m = check_render(folder, job["spec_hash"])
        preset, seed = job["name"].split("/")[1:]
        assert m["preset"] == job["preset"] == preset and f"seed-{m['seed']}" == seed
        # The LUFS in the record is the mix's, and an independent meter agrees with it.
        mix, _ = sf.read(str(folder / "mix.wav"), dtype="float64")
        assert abs(meter.integrated_loudness(mix) - job["integrated_lufs"]) < 0.2
        assert job["time_s"] > 0 and (folder / job["report"]).is_file()
        # The summary table has one row per job: name, status, time and LUFS.
        row = next(line for line in proc.stdout.splitlines() if f" {job['name']} " in line)
        assert "done" in row and f"{job['integrated_lufs']:.1f}" in row and " s " in row
    assert "4 done in" in proc.stdout and "jobs/minute" in proc.stdout
    assert (out / "index.html").is_file()
    # Different presets really render different music.
    a = sf.read(str(out / NAMES[0] / "mix.wav"))[0]
    b = sf.read(str(out / NAMES[1] / "mix.wav"))[0]
    assert a.shape != b.shape or not np.allclose(a, b)


def test_rerun_skips_finished_jobs(local_batch, batch_songs, presets_dir):
    out, first = local_batch
    assert first.returncode == 0
    before = {n: (out / n / "manifest.json").stat() for n in NAMES}
    proc = run_cli("batch", *map(str, batch_songs), "--presets", "pop,house", "-j", "2",
                   "--out", str(out), "--report", "--presets-dir", str(presets_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    batch = read_batch(out)
    assert batch["counts"]["skipped"] == 4 and batch["counts"]["done"] == 0
    assert all(j["integrated_lufs"] is not None for j in batch["jobs"])
    for n in NAMES:   # nothing was rewritten
        after = (out / n / "manifest.json").stat()
        assert (after.st_ino, after.st_mtime_ns) == (before[n].st_ino, before[n].st_mtime_ns)



def test_force_renders_again_with_the_same_bytes(local_batch, batch_songs, presets_dir, tmp_path):
    out, first = local_batch
    assert first.returncode == 0
    copy = tmp_path / "out"           # a copy, so the session's batch stays as it was
    shutil.copytree(out / NAMES[0], copy / NAMES[0])
    before = (copy / NAMES[0] / "manifest.json").stat()
    mix_before = (copy / NAMES[0] / "mix.wav").read_bytes()
    args = ("batch", str(batch_songs[0]), "--presets", "pop", "-j", "1", "--out", str(copy),
            "--presets-dir", str(presets_dir))
    proc = run_cli(*args)
    assert proc.returncode == 0 and read_batch(copy)["counts"]["skipped"] == 1
    proc = run_cli(*args, "--force")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert read_batch(copy)["counts"]["done"] == 1
    assert (copy / NAMES[0] / "manifest.json").stat().st_mtime_ns != before.st_mtime_ns
    assert (copy / NAMES[0] / "mix.wav").read_bytes() == mix_before


def test_bad_spec_fails_alone_with_exit_code_2(tmp_path, presets_dir):
    good = write_tiny_song(tmp_path, "fine", bars=(1,))
    bad = tmp_path / "broken.yaml"
    bad.write_text("title: Broken\npreset: pop\nseed: 1\ntempo_bpm: 900\n"
                   "sections:\n  - {name: A, bars: 1}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("batch", str(bad), str(good), "-j", "1", "--out", str(out),
                   "--presets-dir", str(presets_dir))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    batch = read_batch(out)
    status = {j["name"]: j for j in batch["jobs"]}
    assert status["fine/pop/seed-1"]["status"] == "done"
    broken = status["broken/pop/seed-1"]
    assert broken["status"] == "failed" and "broken.yaml:4" in broken["error"]
    assert "tempo_bpm" in broken["error"] and "Traceback" not in proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "broken/pop/seed-1" in line)
    assert "failed" in row and "tempo_bpm" in proc.stdout
    check_render(out / "fine/pop/seed-1")
    assert not (out / "broken/pop/seed-1").exists()


def test_killed_worker_fails_only_its_job(tmp_path):
    victim = write_tiny_song(tmp_path, "victim", bars=(2, 2))
    others = [write_tiny_song(tmp_path, f"other-{i}", seed=i, bars=(1,)) for i in (1, 2)]
    jobs = plan_jobs([victim, *others], tmp_path / "out")
    killed = []

    def on_event(event):
        if isinstance(event, JobStarted) and event.name.startswith("victim/") and not killed:
            os.kill(event.pid, signal.SIGKILL)   # a real crash of the process holding the job
            killed.append(event.pid)

    result = run_batch(jobs, LocalExecutor(workers=2), tmp_path / "out", on_event=on_event)
    assert killed
    by_name = {j.name: result.outcomes[j.name] for j in jobs}
    assert by_name["victim/pop/seed-1"].status == "failed"
    assert "killed by SIGKILL" in by_name["victim/pop/seed-1"].error
    for name in ("other-1/pop/seed-1", "other-2/pop/seed-2"):
        assert by_name[name].status == "done", by_name[name]
        check_render(tmp_path / "out" / name)
    assert not result.ok and result.counts()["failed"] == 1
    assert not (tmp_path / "out" / "victim/pop/seed-1" / "manifest.json").exists()
    assert read_batch(tmp_path / "out")["counts"] == result.counts()


def test_daw_projects_are_batched_like_songs(tmp_path):
    """A Live Set and a DAW-exported MIDI file in one batch with --presets: each renders per
    preset with its own vocal melody (the Live Set's lyrics on its vocal track's notes, read
    back from song.mid); a re-run skips them (same spec hash); without --presets a project
    is one failed job saying a style is needed, and the other song still renders."""
    from daw_bridge.lyrics import events_to_timed_lines
    from daw_bridge.midi_import import read_midi_facts
    from tests.bridge.test_ableton_set import EXPECTED, write_vocal_set

    live_set = write_vocal_set(tmp_path)
    twinkle = Path(__file__).resolve().parents[1] / "data" / "midi" / "csvmidi_twinkle.mid"
    out = tmp_path / "out"
    proc = run_cli("batch", str(live_set), str(twinkle), "--presets", "pop,rock", "--seeds", "3",
                   "-j", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(j["name"] for j in read_batch(out)["jobs"])
    assert names == ["csvmidi-twinkle/pop/seed-3", "csvmidi-twinkle/rock/seed-3",
                     "demo/pop/seed-3", "demo/rock/seed-3"]
    for preset in ("pop", "rock"):
        m = json.loads((out / "demo" / preset / "seed-3" / "manifest.json").read_text())
        assert m["preset"] == preset and [s["name"] for s in m["sections"]] == ["Verse", "Chorus"]
        back = read_midi_facts(out / "demo" / preset / "seed-3" / "midi" / "song.mid")
        assert [ln.text for ln in events_to_timed_lines(back.lyrics)][0] == \
            "City lights are calling"
        assert [(n.start_beat + 8, n.end_beat + 8, n.pitch) for e in back.lyrics
                for n in e.notes] == EXPECTED
    assert proc.stderr.count("the song starts at the first marker") == 1   # said once
    again = run_cli("batch", str(live_set), str(twinkle), "--presets", "pop,rock", "--seeds",
                    "3", "-j", "2", "--out", str(out))
    assert again.returncode == 0
    assert {j["status"] for j in read_batch(out)["jobs"]} == {"skipped"}

    song = write_tiny_song(tmp_path, "plain", bars=(1,))
    out2 = tmp_path / "out2"
    proc = run_cli("batch", str(live_set), str(song), "-j", "1", "--out", str(out2))
    assert proc.returncode == 2
    status = {j["name"]: j for j in read_batch(out2)["jobs"]}
    assert status["plain/pop/seed-1"]["status"] == "done"
    failed = [j for j in status.values() if j["status"] == "failed"]
    assert len(failed) == 1 and "a style is needed" in failed[0]["error"]
    assert "Traceback" not in proc.stderr
