"""A real, headless Ardour for the tests: a session made by Ardour in a temp folder, loaded by
``ardour7-lua`` (Ardour's luasession, "None (Dummy)" audio backend) with the OSC surface on a
free UDP port, and torn down whatever happens.

* :func:`create_session` runs Ardour's Lua to create the session, set its tempo map and add a
  track; Ardour prints the samples it computes for given beats (an independent check of
  Ainur's tempo-map reading).
* :func:`enable_osc` switches the session's "Open Sound Control (OSC)" protocol on (as
  ticking it in Preferences > Control Surfaces does), with Ardour's default settings.
* :class:`HeadlessArdour` starts ``daw_bridge/scripts/ardour_host.lua`` on the session with a
  private config folder (``XDG_CONFIG_HOME``) whose ``config`` sets ``osc-port`` and whose
  empty ``osc_url`` file Ardour fills with the URL it really bound.

When Ardour is missing or cannot start, :class:`ArdourUnavailable` carries the reason and
Ardour's own output; the tests turn it into a loud skip (or a failure when
``AINUR_REQUIRE_ARDOUR=1``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

LUA_NAMES = ("ardour7-lua", "ardour8-lua")
HOST_SCRIPT = Path(__file__).resolve().parents[2] / "daw_bridge" / "scripts" / "ardour_host.lua"
OSC_PROTOCOL = "Open Sound Control (OSC)"


class ArdourUnavailable(Exception):
    """Ardour is not installed or would not start; the message says why, with its output."""


def lua_command() -> str:
    for name in LUA_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ArdourUnavailable(f"none of {', '.join(LUA_NAMES)} is on PATH (Debian package "
                            "'ardour'; scripts/install-system-deps.sh installs it)")


def private_env(root: Path) -> dict[str, str]:
    """Environment with Ardour's user config, cache and data in ``root``."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        path = root / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    return env


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


CREATE_LUA = """
local dir, name, rate = arg[1], arg[2], tonumber(arg[3])
if not create_session(dir, name, rate) then print("AINUR-FAILED create_session") quit() return end
local tm = Temporal.TempoMap.fetch_writable()
{tempo}
Temporal.TempoMap.update(tm)
Session:new_audio_track(1, 2, nil, 1, "{track}", ARDOUR.PresentationInfo.max_order,
                        ARDOUR.TrackMode.Normal, true)
Session:save_state("", false, false, false, false, false)
local map = Temporal.TempoMap.read()
for _, b in ipairs({{{beats}}}) do
  print("AINUR-BEAT " .. b .. " " .. map:sample_at_beats(Temporal.Beats(b, 0)))
end
close_session()
print("AINUR-CREATED")
quit()
"""


def create_session(root: Path, name: str, *, sample_rate: int, tempo: list[tuple[int, float]],
                   meters: list[tuple[int, int, int]], track: str, beats: list[int],
                   env: dict[str, str], timeout_s: float = 60) -> tuple[Path, dict[int, int]]:
    """Let Ardour create ``root/name`` with ``tempo`` ``(beat, bpm)`` and ``meters``
    ``(beat, num, den)`` and one mono track; returns the session file and Ardour's own
    ``{beat: sample}`` for ``beats``."""
    lines = []
    for beat, bpm in tempo:
        lines.append(f"tm:set_tempo(Temporal.Tempo({bpm}, {bpm}, 4), "
                     f"Temporal.timepos_t.from_ticks(Temporal.ticks_per_beat * {beat}))")
    for beat, num, den in meters:
        lines.append(f"tm:set_meter(Temporal.Meter({num}, {den}), "
                     f"Temporal.timepos_t.from_ticks(Temporal.ticks_per_beat * {beat}))")
    script = root / "create_session.lua"
    script.write_text(CREATE_LUA.format(tempo="\n".join(lines), track=track,
                                        beats=", ".join(map(str, beats))), encoding="utf-8")
    run = _run([lua_command(), str(script), str(root / name), name, str(sample_rate)], env,
               timeout_s)
    if "AINUR-CREATED" not in run.stdout:
        raise ArdourUnavailable("Ardour could not create a session:\n" + _output(run))
    samples = {int(b): int(s) for b, s in re.findall(r"^AINUR-BEAT (\d+) (\d+)$", run.stdout, re.M)}
    return root / name / f"{name}.ardour", samples


def enable_osc(session_file: Path) -> None:
    """Turn the session's OSC surface on with Ardour's default settings (port mode "Manual":
    replies go to port 8000 until a surface asks for its own port)."""
    tree = ET.parse(session_file)
    node = next((p for p in tree.getroot().iterfind("ControlProtocols/Protocol")
                 if p.get("name") == OSC_PROTOCOL), None)
    if node is None:
        raise ArdourUnavailable(f"the session Ardour wrote has no {OSC_PROTOCOL!r} protocol "
                                f"(is libardour_osc.so installed?): {session_file}")
    node.attrib.update({"active": "1", "debugmode": "0", "address-only": "1",
                        "remote-port": "8000", "banksize": "0", "striptypes": "31",
                        "feedback": "0", "gainmode": "0", "send-page-size": "0",
                        "plug-page-size": "0"})
    tree.write(session_file, encoding="UTF-8", xml_declaration=True)


def _run(cmd: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise ArdourUnavailable(f"{cmd[0]} did not finish within {timeout_s:g} s:\n"
                                f"{e.stdout or ''}{e.stderr or ''}") from None


def _output(run: subprocess.CompletedProcess) -> str:
    return f"exit {run.returncode}\nstdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}"


class HeadlessArdour:
    """``ardour_host.lua`` keeping ``session_file`` open with OSC on :attr:`port`."""

    def __init__(self, session_file: Path, root: Path, env: dict[str, str]) -> None:
        self.session_file, self.root, self.env = session_file, root, env
        self.config = Path(env["XDG_CONFIG_HOME"]) / "ardour7"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.start_s = 0.0

    def start(self, timeout_s: float = 45) -> "HeadlessArdour":
        t0 = time.monotonic()
        self.config.mkdir(parents=True, exist_ok=True)
        (self.config / "config").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Ardour>\n  <Config>\n'
            f'    <Option name="osc-port" value="{free_udp_port()}"/>\n  </Config>\n</Ardour>\n',
            encoding="utf-8")
        url_file = self.config / "osc_url"
        url_file.write_text("", encoding="utf-8")
        self.stop_file = self.root / "ardour.stop"
        self.stop_file.unlink(missing_ok=True)
        self.log = self.root / "ardour.log"
        with open(self.log, "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [lua_command(), str(HOST_SCRIPT), str(self.session_file.parent),
                 self.session_file.stem, str(self.stop_file), str(os.getpid())],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            while True:
                text = self.output()
                if "AINUR-READY" in text:
                    break
                if "AINUR-FAILED" in text or self.proc.poll() is not None:
                    raise ArdourUnavailable("headless Ardour did not load the session:\n" + text)
                if time.monotonic() - t0 > timeout_s:
                    raise ArdourUnavailable(f"headless Ardour was not ready after {timeout_s:g} s:\n"
                                            + text)
                time.sleep(0.05)
            while not re.search(r":(\d+)/", url_file.read_text(encoding="utf-8")):
                if time.monotonic() - t0 > timeout_s:
                    raise ArdourUnavailable("Ardour's OSC surface did not start (osc_url empty):\n"
                                            + self.output())
                time.sleep(0.05)
            self.port = int(re.search(r":(\d+)/", url_file.read_text(encoding="utf-8")).group(1))
        except BaseException:
            self.kill()
            raise
        self.start_s = time.monotonic() - t0
        return self

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, save: bool = True, timeout_s: float = 20) -> None:
        """Ask the host to (save and) close the session and quit; kill it if it hangs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.stop_file.write_text("save" if save else "close", encoding="utf-8")
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        if save and "AINUR-CLOSED" not in self.output():
            raise AssertionError("headless Ardour did not close the session cleanly:\n"
                                 + self.output())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def start_marked_session(root: Path, name: str, *, sample_rate: int,
                         tempo: list[tuple[int, float]], meters: list[tuple[int, int, int]],
                         track: str, markers: list[tuple[str, int]]) -> HeadlessArdour:
    """Create a session with Ardour, add ``markers`` ``(name, beat)`` at the samples Ardour
    computes for those beats, enable OSC and open it headless. The host's ``samples`` maps
    each beat to Ardour's sample.

    :raises ArdourUnavailable: when Ardour cannot create or load the session.
    """
    from daw_bridge.ardour_session import SessionEdit

    env = private_env(root)
    file, samples = create_session(root, name, sample_rate=sample_rate, tempo=tempo,
                                   meters=meters, track=track, beats=[b for _, b in markers],
                                   env=env)
    edit = SessionEdit(file)
    for marker, beat in markers:
        if not edit.add_marker(marker, samples[beat]):
            raise AssertionError(f"marker {marker!r} was not added to {file}")
    edit.save()
    enable_osc(file)
    host = HeadlessArdour(file, root, env)
    try:
        host.start()
    except BaseException:
        host.kill()
        raise
    host.samples = samples
    return host


MIDI_LUA = """
local dir, name, track_name = arg[1], arg[2], arg[3]
if not load_session(dir, name) then print("AINUR-FAILED load_session") quit() return end
local midi = ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1)
local tracks = Session:new_midi_track(midi, midi, true, ARDOUR.PluginInfo(), nil, nil, 1,
                                      track_name, ARDOUR.PresentationInfo.max_order,
                                      ARDOUR.TrackMode.Normal, true, false)
local track = tracks:front()
for _, job in ipairs({{{jobs}}}) do
  local whole = ARDOUR.RegionFactory.region_by_id(PBD.ID(job[1]))
  if whole:isnil() then print("AINUR-FAILED region " .. job[1]) quit() return end
  local region = ARDOUR.RegionFactory.clone_region(whole, true, false)
  local pos = Temporal.timepos_t.from_ticks(Temporal.ticks_per_beat * job[2])
  track:playlist():add_region(region, pos, 1, false)
  if job[3] then  -- the playlist holds its own copy: mute that one
    for r in track:playlist():region_list():iter() do
      if r:position():str() == pos:str() then r:set_muted(true) end
    end
  end
end
for r in track:playlist():region_list():iter() do
  print("AINUR-REGION " .. r:position():str() .. " " .. r:length():str() .. " "
        .. tostring(r:muted()))
end
Session:save_state("", false, false, false, false, false)
close_session()
print("AINUR-SAVED")
quit()
"""


def add_midi_track(session_file: Path, track: str, regions, env: dict[str, str],
                   timeout_s: float = 60) -> list[str]:
    """Have Ardour add a MIDI track ``track`` to the closed session with one region per
    ``(position beat, notes, muted)``: ``notes`` ``(start beat, length beats, pitch,
    velocity)`` from the region's start. Each region's notes are written as a 1920-PPQ SMF
    and declared in the session file as a whole-file source; Ardour loads it, puts a copy on
    the track at the position (writing its own SMF of the copy) and saves. Returns Ardour's
    ``AINUR-REGION position length muted`` lines.

    :raises ArdourUnavailable: when Ardour fails.
    """
    import mido

    tree = ET.parse(session_file)
    root = tree.getroot()
    folder = session_file.parent / "interchange" / root.get("name") / "midifiles"
    folder.mkdir(parents=True, exist_ok=True)
    counter = int(root.get("id-counter"))
    jobs = []
    for k, (position, notes, muted) in enumerate(regions):
        mid = mido.MidiFile(type=0, ticks_per_beat=1920)
        events = []
        for start, length, pitch, velocity in notes:
            events.append((round(start * 1920), 1, mido.Message("note_on", note=pitch, velocity=velocity)))
            events.append((round((start + length) * 1920), 0, mido.Message("note_off", note=pitch)))
        trk, now = mido.MidiTrack(), 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            trk.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(trk)
        end = max(start + length for start, length, _, _ in notes)
        mid.save(folder / f"{track}-input-{k}.mid")
        source, region = str(counter + 1), str(counter + 2)
        counter += 2
        ET.SubElement(root.find("Sources"), "Source", {
            "name": f"{track}-input-{k}.mid", "type": "midi", "flags": "", "id": source,
            "origin": ""})
        regions_node = root.find("Regions")
        if regions_node is None:
            regions_node = ET.SubElement(root, "Regions")
        ET.SubElement(regions_node, "Region", {
            "name": f"{track}-input-{k}", "whole-file": "1", "start": "b0",
            "length": f"b{round(end * 1920)}@b0", "id": region, "type": "midi",
            "first-edit": "nothing", "source-0": source, "master-source-0": source})
        jobs.append(f"{{'{region}', {position}, {'true' if muted else 'false'}}}")
    root.set("id-counter", str(counter))
    tree.write(session_file, encoding="UTF-8", xml_declaration=True)
    script = session_file.parent.parent / "add_midi_track.lua"
    script.write_text(MIDI_LUA.format(jobs=", ".join(jobs)), encoding="utf-8")
    run = _run([lua_command(), str(script), str(session_file.parent), session_file.stem, track],
               env, timeout_s)
    if "AINUR-SAVED" not in run.stdout:
        raise ArdourUnavailable("Ardour could not add the MIDI track:\n" + _output(run))
    return re.findall(r"^AINUR-REGION (.*)$", run.stdout, re.M)
