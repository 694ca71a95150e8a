"""The render queue of ``ainur serve``: FIFO on one worker thread, cancellable queued or
running, bounded, and stopping cleanly; plus the section-render helpers of the job runner.

The queue is driven with a job function that blocks on real events (so the tests decide
when a "render" ends); the renders themselves are exercised end to end in test_serve*.py.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

from ainur_cli.api import Cancelled
from ainur_cli.errors import BridgeError, SpecError
from daw_bridge.jobs import JobQueue, JobResult


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def _add(self, *e):
        with self.changed:
            self.events.append(e)
            self.changed.notify_all()

    def started(self, job):
        self._add("started", job.id)

    def progress(self, job, stage, fraction):
        self._add("progress", job.id, stage)

    def done(self, job, result):
        self._add("done", job.id)

    def failed(self, job, error):
        self._add("failed", job.id, str(error))

    def cancelled(self, job):
        self._add("cancelled", job.id)

    def wait_for(self, event, timeout_s=5.0):
        with self.changed:
            ok = self.changed.wait_for(lambda: event in self.events, timeout_s)
        assert ok, f"{event} did not happen; events: {self.events}"


class GatedWork:
    """A job function that reports a stage, then waits until released or cancelled (polling
    ``cancelled`` like api.render_song does between stages)."""

    def __init__(self):
        self.release = {}
        self.order = []

    def __call__(self, job, progress):
        self.order.append(job.id)
        gate = self.release.setdefault(job.id, threading.Event())
        progress("render", 0.5)
        while not gate.wait(0.01):
            if job.cancelled():
                raise Cancelled("render cancelled; nothing was written", field="render")
        if job.args.get("fail"):
            raise SpecError("bad spec", field="sections", value=0)
        if job.args.get("bug"):
            raise RuntimeError("a bug")
        return JobResult(job.args.get("dir", "x"), None)

    def let_finish(self, job_id):
        self.release.setdefault(job_id, threading.Event()).set()


@pytest.fixture
def queue():
    rec, work = Recorder(), GatedWork()
    q = JobQueue(work, rec, max_queued=3)
    q.start()
    yield q, rec, work
    assert q.stop(5.0)


def test_jobs_run_one_at_a_time_in_arrival_order(queue):
    q, rec, work = queue
    jobs = [q.submit("render", {}, ("127.0.0.1", 1)) for _ in range(3)]
    rec.wait_for(("started", jobs[0].id))
    running, waiting = q.snapshot()
    assert running is jobs[0] and waiting == jobs[1:]
    for j in jobs:
        work.let_finish(j.id)
        rec.wait_for(("done", j.id))
    assert work.order == [j.id for j in jobs]
    starts = [e for e in rec.events if e[0] in ("started", "done")]
    assert starts == [(k, j.id) for j in jobs for k in ("started", "done")]
    assert [j.state for j in jobs] == ["done"] * 3


def test_cancel_queued_at_once_and_running_at_its_next_poll(queue):
    q, rec, work = queue
    a = q.submit("render", {}, ("127.0.0.1", 1))
    b = q.submit("render", {}, ("127.0.0.1", 1))
    rec.wait_for(("started", a.id))
    assert q.cancel(b.id) == [b]
    assert ("cancelled", b.id) in rec.events and b.state == "cancelled"
    assert q.cancel() == [a]          # no id: the running job
    rec.wait_for(("cancelled", a.id))
    assert a.state == "cancelled" and ("done", a.id) not in rec.events
    assert b.id not in work.order      # never ran
    assert q.cancel(999) == []
    assert q.snapshot() == (None, [])


def test_failures_are_reported_and_the_worker_goes_on(queue):
    q, rec, work = queue
    bad = q.submit("render", {"fail": True}, ("127.0.0.1", 1))
    bug = q.submit("render", {"bug": True}, ("127.0.0.1", 1))
    good = q.submit("render", {}, ("127.0.0.1", 1))
    for j in (bad, bug, good):
        work.let_finish(j.id)
    rec.wait_for(("done", good.id))
    failed = [e for e in rec.events if e[0] == "failed"]
    assert failed[0][1] == bad.id and "sections: bad spec" in failed[0][2]
    assert failed[1][1] == bug.id and "a bug" in failed[1][2]


def test_the_queue_is_bounded_and_refuses_unknown_kinds(queue):
    q, rec, work = queue
    first = q.submit("render", {}, ("127.0.0.1", 1))
    rec.wait_for(("started", first.id))
    for _ in range(3):
        q.submit("render", {}, ("127.0.0.1", 1))
    with pytest.raises(BridgeError, match="queue is full"):
        q.submit("render", {}, ("127.0.0.1", 1))
    with pytest.raises(BridgeError, match="unknown job kind"):
        q.submit("format-disk", {}, ("127.0.0.1", 1))


def test_stop_cancels_everything_and_refuses_new_jobs():
    rec, work = Recorder(), GatedWork()
    q = JobQueue(work, rec)
    q.start()
    a = q.submit("render", {}, ("127.0.0.1", 1))
    b = q.submit("render", {}, ("127.0.0.1", 1))
    rec.wait_for(("started", a.id))
    t0 = time.monotonic()
    assert q.stop(5.0)
    assert time.monotonic() - t0 < 2.0
    assert {("cancelled", a.id), ("cancelled", b.id)} <= set(rec.events)
    with pytest.raises(BridgeError, match="shutting down"):
        q.submit("render", {}, ("127.0.0.1", 1))


# -- section helpers of the runner ------------------------------------------------------

def _plan(text):
    from ainur_cli.api import resolve_song
    from ainur_cli.spec import parse_spec_text

    spec = parse_spec_text(text, "song.yaml")
    return spec, resolve_song(spec).plan


def test_section_spec_keeps_the_tempo_and_meter_in_force_and_the_bar_grid():
    from daw_bridge.job_runner import find_section, section_spec
    from tests.bridge.conftest import TINY_SONG

    spec, plan = _plan(TINY_SONG)
    for which, name in [("chorus", "Chorus"), (2, "Verse 1"), ("3", "Chorus")]:
        assert find_section(plan, which, "song.yaml").name == name
    with pytest.raises(BridgeError, match="no section of that name.*1=Intro, 2=Verse 1, 3=Chorus"):
        find_section(plan, "Bridge", "song.yaml")
    with pytest.raises(BridgeError, match="no section at that position"):
        find_section(plan, 4, "song.yaml")
    from ainur_cli.api import resolve_song

    for sec in plan.sections:
        sub = section_spec(spec, plan, sec, None)
        sub_plan = resolve_song(sub).plan
        tl, full = sub_plan.timeline, plan.timeline
        assert sub_plan.total_samples == sec.end_sample - sec.start_sample
        for k in range(sec.bars + 1):  # every bar line of the section, sample for sample
            assert tl.bar_to_sample(k) + sec.start_sample == full.bar_to_sample(sec.start_bar + k)
        assert sub.seed == spec.seed and sub.key == plan.spec.key
    assert section_spec(spec, plan, plan.sections[2], 99).seed == 99


def test_a_section_render_is_sung_by_the_voice_that_sings_it_in_the_song():
    """``vocals.section_voices`` names sections of the whole song: a section rendered alone
    keeps its singer (and a key naming another section is no error there)."""
    from ainur_cli.api import resolve_song
    from ainur_cli.vocals import vocal_settings
    from daw_bridge.job_runner import section_spec

    text = """title: Duet
preset: pop
sections:
  - {name: Verse 1, bars: 2, lyrics: "Walking down the street"}
  - {name: Chorus, bars: 2, lyrics: "Hold on to me"}
  - {name: Verse 2, bars: 2, lyrics: "Somewhere in the night"}
style:
  vocals: {voice: baritone, section_voices: {Verse 2: soprano, chorus: alto}}
"""
    spec, plan = _plan(text)
    sung = {}
    for sec in plan.sections:
        sub = resolve_song(section_spec(spec, plan, sec, None)).plan
        settings = vocal_settings(sub.style.vocals)
        assert settings["section_voices"] == ()
        sung[sec.name] = settings["voice"]
    assert sung == {"Verse 1": "baritone", "Chorus": "alto", "Verse 2": "soprano"}
    solo = text.replace(", section_voices: {Verse 2: soprano, chorus: alto}", "")
    spec, plan = _plan(solo)
    # One voice: the style is the song's, with the whole song's octave placement.
    assert section_spec(spec, plan, plan.sections[1], None).style == {
        "vocals": {"voice": "baritone", "octaves": {"baritone": -1}}}


def test_a_section_render_sings_in_the_octave_the_whole_song_sings_it():
    """The alto sings the benchmark lines as written in the trap preset (seed 1), but the
    chorus alone sits high enough for an octave down: a section render sings it where the
    song does (before, 137 of 864 section renders over the presets, voices and two songs
    were sung an octave away from the song)."""
    import dataclasses
    from pathlib import Path

    from ainur_cli.api import resolve_song
    from ainur_cli.compose import compose_song
    from ainur_cli.spec import load_spec
    from ainur_cli.vocals import song_octaves, vocal_settings
    from daw_bridge.job_runner import section_spec

    def octaves(plan, settings):
        comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                            timeline=plan.timeline, sections=plan.sections)
        return song_octaves(comp, plan.timeline, settings)

    spec = load_spec(Path(__file__).parents[2] / "bench" / "vocals_song.yaml")
    spec = dataclasses.replace(spec, seed=1, preset="trap", tempo_map=None, meters=None,
                               key=None, style={"vocals": {"voice": "alto"}})
    plan = resolve_song(spec).plan
    assert octaves(plan, vocal_settings(plan.style.vocals)) == {"alto": 0}
    chorus = next(s for s in plan.sections if s.name == "Chorus")
    sub = resolve_song(section_spec(spec, plan, chorus, None)).plan
    own = vocal_settings({"voice": "alto"})       # the chorus placed on its own notes
    assert octaves(sub, own) == {"alto": -12}
    assert octaves(sub, vocal_settings(sub.style.vocals)) == {"alto": 0}


def test_set_time_reference_rewrites_the_bext_field(tmp_path):
    from ainur_cli.export.audio import read_bext, write_audio
    from daw_bridge.job_runner import set_time_reference

    path = tmp_path / "x.wav"
    audio = (np.sin(np.arange(4410) / 10.0)[None, :] * 0.3).astype(np.float32).repeat(2, 0)
    write_audio(path, audio, 44100, bit_depth="24", time_reference_samples=0, description="d")
    before = path.read_bytes()
    set_time_reference(path, 352800 + (1 << 33))
    assert read_bext(path)["time_reference"] == 352800 + (1 << 33)
    after = path.read_bytes()
    assert len(after) == len(before) and sum(a != b for a, b in zip(before, after)) <= 8
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe (ffmpeg) is NOT installed: the independent bext reader is missing; "
                    "`bash scripts/install-system-deps.sh` installs it")
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=time_reference",
                          "-of", "default=nw=1:nk=1", str(path)], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert int(out) == 352800 + (1 << 33)


def test_a_section_off_the_sample_grid_is_at_most_one_sample_off():
    """At 103 bpm a beat is 25689.3 samples: the section starts at its exact full-song sample,
    and its bar lines (rounded from its own start) are within one sample of the full song's."""
    from ainur_cli.api import resolve_song
    from daw_bridge.job_runner import section_spec

    text = """title: Odd
preset: pop
tempo_bpm: 103
sections: [{name: Intro, bars: 3}, {name: Verse, bars: 5}, {name: Chorus, bars: 2}]
output: {sample_rate: 44100}
"""
    spec, plan = _plan(text)
    offsets = set()
    for sec in plan.sections[1:]:
        sub_tl = resolve_song(section_spec(spec, plan, sec, None)).plan.timeline
        for k in range(sec.bars + 1):
            d = sub_tl.bar_to_sample(k) + sec.start_sample - plan.timeline.bar_to_sample(sec.start_bar + k)
            offsets.add(d)
    assert offsets <= {-1, 0, 1} and offsets != {0}


def test_the_announcement_comes_before_the_job_can_start(queue):
    q, rec, work = queue

    def announce(j):
        time.sleep(0.05)  # a worker that could already see the job would start meanwhile
        rec._add("announced", j.id)

    job = q.submit("render", {}, ("127.0.0.1", 1), announce=announce)
    rec.wait_for(("started", job.id))
    assert rec.events.index(("announced", job.id)) < rec.events.index(("started", job.id))
    work.let_finish(job.id)
