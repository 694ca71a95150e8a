"""Planning a batch: seed and preset lists, predictable folder names, resume decisions.
No audio is rendered here."""

from __future__ import annotations

import json

import pytest

from ainur_cli import __version__
from ainur_cli.batch import parse_presets, parse_seeds, plan_jobs
from ainur_cli.batch.jobs import finished_manifest, is_up_to_date
from ainur_cli.batch.runner import plan_tasks
from ainur_cli.errors import PresetError, SpecError
from ainur_cli.presets import list_presets
from tests.batch.conftest import write_tiny_song


def test_seed_lists():
    assert parse_seeds("1,2,3") == [1, 2, 3]
    assert parse_seeds("1-8") == list(range(1, 9))
    assert parse_seeds(" 4-6, 1 ,5") == [1, 4, 5, 6]
    assert parse_seeds(None) is None and parse_seeds("") is None
    for bad in ("a", "3-1", "1-", "1;2", "-4"):
        with pytest.raises(SpecError) as e:
            parse_seeds(bad)
        assert "--seeds" in str(e.value)


def test_preset_lists():
    known = list(list_presets())
    assert parse_presets("all") == known and len(known) >= 2
    assert parse_presets("house, pop,house") == ["house", "pop"]
    with pytest.raises(PresetError) as e:
        parse_presets("pop,no-such-style")
    assert "no-such-style" in str(e.value) and "house" in str(e.value)


def test_cross_product_and_folder_names(tmp_path):
    a = write_tiny_song(tmp_path, "Song A", seed=3)
    b = write_tiny_song(tmp_path, "song-b", preset="house", seed=7)
    jobs = plan_jobs([a, b], tmp_path / "out", presets=["pop", "rock"], seeds=[1, 2])
    assert [j.name for j in jobs] == [
        "song-a/pop/seed-1", "song-a/pop/seed-2", "song-a/rock/seed-1", "song-a/rock/seed-2",
        "song-b/pop/seed-1", "song-b/pop/seed-2", "song-b/rock/seed-1", "song-b/rock/seed-2"]
    for j in jobs:
        assert j.out_dir == (tmp_path / "out" / j.name).resolve()
        assert j.error is None and len(j.spec_hash) == 64
    assert len({j.spec_hash for j in jobs}) == len(jobs)   # every job renders something else
    # Without --presets/--seeds each spec's own values are used.
    own = plan_jobs([a, b], tmp_path / "out")
    assert [j.name for j in own] == ["song-a/pop/seed-3", "song-b/house/seed-7"]


def test_a_bad_spec_becomes_failed_jobs_only(tmp_path):
    good = write_tiny_song(tmp_path, "good")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\npreset: pop\ntempo_bpm: 900\nsections:\n  - {name: A, bars: 1}\n")
    missing = tmp_path / "missing.yaml"
    jobs = plan_jobs([good, bad, missing], tmp_path / "out", seeds=[1])
    by_song = {j.song.name: j for j in jobs}
    assert by_song["good.yaml"].error is None
    assert "bad.yaml:3" in by_song["bad.yaml"].error and "tempo_bpm" in by_song["bad.yaml"].error
    assert "missing.yaml" in by_song["missing.yaml"].error


def test_two_songs_may_not_share_a_folder(tmp_path):
    (tmp_path / "x").mkdir()
    a = write_tiny_song(tmp_path, "same")
    b = write_tiny_song(tmp_path / "x", "same")
    with pytest.raises(SpecError) as e:
        plan_jobs([a, b], tmp_path / "out")
    assert "same" in str(e.value)


def test_resume_decision_needs_same_hash_version_and_files(tmp_path):
    song = write_tiny_song(tmp_path, "resume")
    (job,) = plan_jobs([song], tmp_path / "out")
    d = job.out_dir
    d.mkdir(parents=True)
    (d / "mix.wav").write_bytes(b"RIFF")
    manifest = {"spec_hash": job.spec_hash, "ainur_version": __version__,
                "files": [{"path": "mix.wav", "part": "mix", "integrated_lufs": -14.0}]}
    (d / "manifest.json").write_text(json.dumps(manifest))
    assert is_up_to_date(job, finished_manifest(d))
    tasks, known = plan_tasks([job], force=False, report=False)
    assert not tasks and known[job.name].status == "skipped"
    assert known[job.name].integrated_lufs == -14.0
    tasks, known = plan_tasks([job], force=True, report=False)
    assert len(tasks) == 1 and tasks[0].force and not known
    # Another spec hash, another version, or a missing file: not up to date.
    for change in ({"spec_hash": "0" * 64}, {"ainur_version": "0.0.0-other"}):
        (d / "manifest.json").write_text(json.dumps({**manifest, **change}))
        assert not is_up_to_date(job, finished_manifest(d))
    (d / "manifest.json").write_text(json.dumps(manifest))
    (d / "mix.wav").unlink()
    assert finished_manifest(d) is None
