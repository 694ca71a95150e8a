"""A protocol-faithful REAPER simulator: its web interface (HTTP) and OSC surface on loopback.

Written from REAPER's documentation, not its code:

* **Web interface** (``reaper_www_root/main.js`` reference): ``GET /_/CMD;CMD;…`` runs the
  commands in order and answers lines of TAB-separated tokens: ``TRANSPORT``, ``BEATPOS``
  (``playstate, position_seconds, full_beat_position, measure_cnt, beats_in_measure,
  ts_numerator, ts_denominator``), ``NTRACK``, ``TRACK[/i|/a-b]``, ``MARKER`` / ``REGION``
  (between ``MARKER_LIST``/``MARKER_LIST_END`` and ``REGION_LIST``/``REGION_LIST_END``),
  ``LYRICS/i`` (``trackindex, beat, lyric, beat, lyric…``), ``GET/EXTSTATE/s/k`` →
  ``EXTSTATE s k value``, ``SET/EXTSTATE[PERSIST]/s/k/v`` (URL-encoded, no answer), numeric
  and ``_…`` command IDs (run the action, no answer), ``GET/<command>`` → ``CMDSTATE``.
  Strings escape newline, TAB and backslash as ``\\n``, ``\\t``, ``\\\\``. Unknown commands
  answer nothing. Beat positions (BEATPOS, LYRICS) are *full beats* counted in the time
  signature's denominator (REAPER's ``TimeMap2_timeToBeats``).
* **OSC** (``Default.ReaperOSC``): REAPER listens on its local port and sends feedback to the
  configured device IP/port (not to the sender). ``/device/marker/count i`` and
  ``/device/region/count i`` set how many markers/regions the device wants; ``/action i``
  or ``/action/<id>`` runs an action, 41743 ("Control surface: Refresh all surfaces")
  makes REAPER send its state: ``/tempo/raw f``, ``/tempo/str``, ``/time f``, ``/time/str``,
  ``/beat/str``, ``/marker/<k>/name|number/str|time``, ``/region/<k>/name|number/str|time|
  length``, ``/track/<k>/name``. ``/tempo/raw f`` sets the tempo.
* **The Ainur ReaScript** (``daw_bridge/scripts/ainur_import.lua``): a registered command ID.
  With ``importer="lua"`` the real script runs under Lua 5.4 against the ReaScript API
  simulator ``reaper_api_sim.lua`` (set up from this project and read back into it); with
  ``importer="python"`` the action reads ExtState ``ainur/job`` and applies the job file to
  this project model as the Lua header specifies (``import``: one new track per ``TRACK`` line with an item at its
  position, project markers per ``MARKER``; ``export``: the ``AINUR_SESSION 1`` file, with
  the ``NOTE`` records of the tracks' MIDI items), and
  acknowledges in ExtState ``ainur/ack`` as ``ID<TAB>ok|error<TAB>text``. The action runs a
  little after the request (``action_delay_s``), as deferred work does in REAPER.

Only square (stepped) tempo changes are modelled; time-signature changes sit on bar lines.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

REFRESH_ALL_SURFACES = 41743
FEEDBACK_BUNDLE = 32
HERE = Path(__file__).resolve().parent
LUA_API_SIM = HERE / "reaper_api_sim.lua"
LUA_IMPORTER = HERE.parents[1] / "daw_bridge" / "scripts" / "ainur_import.lua"
LUA = shutil.which("lua5.4") or shutil.which("lua")


def lua_missing() -> str | None:
    """Why the real Lua importer cannot run here, or None."""
    if LUA is None:
        return "lua5.4 is not installed (Debian package lua5.4; scripts/install-system-deps.sh)"
    if not LUA_API_SIM.is_file():
        return f"{LUA_API_SIM} (the ReaScript API simulator) is missing"
    return None


def lua_value(v) -> str:
    """A Lua literal for JSON-like data."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return '"' + "".join(c if c.isascii() and c.isprintable() and c not in '"\\'
                             else "".join(f"\\{b:03d}" for b in c.encode("utf-8"))
                             for c in v) + '"'
    if isinstance(v, dict):
        return "{" + ", ".join(f"[{lua_value(k)}] = {lua_value(x)}" for k, x in v.items()) + "}"
    return "{" + ", ".join(lua_value(x) for x in v) + "}"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def num(x: float) -> str:
    return f"{float(x):.12g}"


@dataclass
class TempoMarker:
    """A tempo/time-signature marker at ``time_s``; ``num``/``den`` 0 = no meter change."""

    time_s: float
    bpm: float
    num: int = 0
    den: int = 0


@dataclass
class ProjectMarker:
    id: int
    name: str
    pos_s: float
    is_region: bool = False
    end_s: float = 0.0
    color: int = 0


@dataclass
class Item:
    position_s: float
    length_s: float
    path: str


@dataclass
class MidiNote:
    """A note of a MIDI item, in quarter notes from the item's start (960 PPQ in the Lua API
    simulator)."""

    start_qn: Fraction
    end_qn: Fraction
    pitch: int
    velocity: int = 96
    channel: int = 0
    muted: bool = False


@dataclass
class MidiItem:
    """A MIDI item: its position and length in seconds; ``loop_qn``: the source length in
    quarter notes when the item loops its source (``B_LOOPSRC``), else None."""

    position_s: float
    length_s: float
    notes: list[MidiNote]
    mute: bool = False
    loop_qn: Fraction | None = None


@dataclass
class RTrack:
    name: str
    items: list[Item] = field(default_factory=list)
    lyrics: list[tuple[Fraction, str]] = field(default_factory=list)  # (quarter notes, text)
    mute: bool = False
    midi: list[MidiItem] = field(default_factory=list)


@dataclass
class ReaperProject:
    tempo: list[TempoMarker] = field(default_factory=lambda: [TempoMarker(0.0, 120.0, 4, 4)])
    markers: list[ProjectMarker] = field(default_factory=list)
    tracks: list[RTrack] = field(default_factory=list)
    cursor_s: float = 0.0
    play_state: int = 0
    undo_points: list[str] = field(default_factory=list)

    # -- the time map (square tempo) ------------------------------------------------------
    def _segments(self) -> list[tuple[Fraction, Fraction, Fraction, int, int]]:
        """``(start_s, start_qn, bpm, num, den)`` per tempo marker, exact."""
        out, qn, num_, den_ = [], Fraction(0), 4, 4
        pts = sorted(self.tempo, key=lambda m: m.time_s)
        for i, m in enumerate(pts):
            t = Fraction(m.time_s)
            if i:
                prev = out[-1]
                qn = prev[1] + (t - prev[0]) * prev[2] / 60
            if m.num > 0:
                num_, den_ = m.num, m.den
            out.append((t, qn, Fraction(m.bpm), num_, den_))
        return out

    def time_to_qn(self, t: float) -> Fraction:
        t = Fraction(t)
        seg = [s for s in self._segments() if s[0] <= t][-1]
        return seg[1] + (t - seg[0]) * seg[2] / 60

    def qn_to_time(self, qn: Fraction) -> Fraction:
        seg = [s for s in self._segments() if s[1] <= qn][-1]
        return seg[0] + (qn - seg[1]) * 60 / seg[2]

    def tempo_at(self, t: float) -> float:
        return float([s for s in self._segments() if s[0] <= Fraction(t)][-1][2])

    def timesig_at(self, t: float) -> tuple[int, int]:
        seg = [s for s in self._segments() if s[0] <= Fraction(t)][-1]
        return seg[3], seg[4]

    def beats_at(self, t: float) -> tuple[Fraction, int, Fraction]:
        """``(full beats, 0-based measure, beats in measure)``; beats in denominator units."""
        qn = self.time_to_qn(t)
        segs = self._segments()
        full, measure, bar_qn = Fraction(0), 0, Fraction(0)
        meter_starts = [(s[1], s[3], s[4]) for i, s in enumerate(segs)
                        if i == 0 or (s[3], s[4]) != (segs[i - 1][3], segs[i - 1][4])]
        for i, (q0, n, d) in enumerate(meter_starts):
            q1 = meter_starts[i + 1][0] if i + 1 < len(meter_starts) else None
            end = qn if q1 is None or qn < q1 else q1
            span = end - q0
            bar = Fraction(4 * n, d)
            full += span * d / 4
            bars = int(span // bar)
            measure += bars
            bar_qn = q0 + bars * bar
            if q1 is None or qn < q1:
                return full, measure, (qn - bar_qn) * d / 4
        return full, measure, Fraction(0)

    def qn_to_full_beats(self, qn: Fraction) -> Fraction:
        return self.beats_at(float(self.qn_to_time(qn)))[0]

    @property
    def length_s(self) -> float:
        ends = [i.position_s + i.length_s for t in self.tracks for i in t.items]
        ends += [m.end_s if m.is_region else m.pos_s for m in self.markers]
        return max(ends, default=0.0)

    def sorted_markers(self, region: bool) -> list[ProjectMarker]:
        return sorted((m for m in self.markers if m.is_region == region), key=lambda m: m.pos_s)

    def add_marker(self, pos_s: float, name: str, region: bool = False, end_s: float = 0.0
                   ) -> ProjectMarker:
        ids = [m.id for m in self.markers if m.is_region == region]
        m = ProjectMarker(max(ids, default=0) + 1, name, pos_s, region, end_s)
        self.markers.append(m)
        return m


class ReaperSim:
    """REAPER's web interface on ``http://127.0.0.1:<web_port>`` and OSC on
    ``udp://127.0.0.1:<osc_port>``, feedback to ``feedback_port`` (set by the test)."""

    def __init__(self, project: ReaperProject | None = None, *, feedback_port: int | None = None,
                 osc: bool = True, action_delay_s: float = 0.15, web_auth: str | None = None,
                 http_garbage: bool = False, garbage_feedback: bool = False,
                 hang_http: bool = False, importer: str = "python") -> None:
        if importer not in ("python", "lua"):
            raise ValueError("importer is 'python' or 'lua'")
        self.importer = importer
        self.project = project or ReaperProject()
        self.ext_state: dict[tuple[str, str], str] = {}
        self.actions: dict[str, Callable[[], None]] = {}
        self.actions_run: list[str] = []
        self.lua_errors: list[str] = []
        self.requests: list[str] = []
        self.action_delay_s = action_delay_s
        self.web_auth = web_auth
        self.http_garbage, self.garbage_feedback, self.hang_http = (
            http_garbage, garbage_feedback, hang_http)
        self.feedback_port = feedback_port
        self.marker_count = 0   # DEVICE_MARKER_COUNT 0 in Default.ReaperOSC
        self.region_count = 0
        self.track_count = 8
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.http.daemon_threads = True
        self.web_port = self.http.server_address[1]
        self.osc_sock = None
        self.osc_port = None
        if osc:
            self.osc_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.osc_sock.bind(("127.0.0.1", 0))
            self.osc_sock.settimeout(0.05)
            self.osc_port = self.osc_sock.getsockname()[1]

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "ReaperSim":
        t = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05},
                             name="reaper-sim-http", daemon=True)
        t.start()
        self._threads.append(t)
        if self.osc_sock is not None:
            t = threading.Thread(target=self._osc_loop, name="reaper-sim-osc", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.http.shutdown()
        self.http.server_close()
        for t in self._threads:
            t.join(2.0)
        if self.osc_sock is not None:
            self.osc_sock.close()

    def __enter__(self) -> "ReaperSim":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the web interface ----------------------------------------------------------------
    def _handler_class(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if sim.hang_http:
                    sim._stop.wait(10.0)
                    return
                if sim.web_auth is not None:
                    import base64

                    want = "Basic " + base64.b64encode(sim.web_auth.encode()).decode()
                    if self.headers.get("Authorization") != want:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="REAPER"')
                        self.end_headers()
                        return
                if not self.path.startswith("/_/"):
                    self.send_error(404)
                    return
                if sim.http_garbage:
                    body = b"BEATPOS\tx\ty\nMARKER\t\nEXTSTATE\nNTRACK\tlots\n\xff\xfe\x00garbage\n"
                else:
                    body = sim.web_request(self.path[3:]).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def web_request(self, raw: str) -> str:
        """Run ``CMD;CMD…`` and return the answer text."""
        out: list[str] = []
        for cmd in raw.split(";"):
            if cmd:
                self.requests.append(cmd)
                with self.lock:
                    out.extend(self._command(cmd))
        return "".join(line + "\n" for line in out)

    def _command(self, cmd: str) -> list[str]:
        p = self.project
        u = urllib.parse.unquote
        if cmd == "TRANSPORT":
            full, measure, in_bar = p.beats_at(p.cursor_s)
            return [f"TRANSPORT\t{p.play_state}\t{num(p.cursor_s)}\t0\t{num(p.cursor_s)}\t"
                    f"{measure + 1}.{int(in_bar) + 1}.00"]
        if cmd == "BEATPOS":
            full, measure, in_bar = p.beats_at(p.cursor_s)
            n, d = p.timesig_at(p.cursor_s)
            return [f"BEATPOS\t{p.play_state}\t{num(p.cursor_s)}\t{num(full)}\t{measure}\t"
                    f"{num(in_bar)}\t{n}\t{d}"]
        if cmd == "NTRACK":
            return [f"NTRACK\t{len(p.tracks)}"]
        if cmd == "TRACK" or cmd.startswith("TRACK/"):
            lo, hi = 0, len(p.tracks)
            if "/" in cmd:
                rng = cmd.split("/", 1)[1]
                a, _, b = rng.partition("-")
                lo, hi = int(a), int(b or a)
            lines = []
            for i in range(lo, hi + 1):
                if i > len(p.tracks):
                    break
                name = "MASTER" if i == 0 else escape(p.tracks[i - 1].name)
                lines.append(f"TRACK\t{i}\t{name}\t512\t1.000000\t0.000000\t-1500\t-1500\t"
                             f"1.000000\t0\t0\t0\t1\t0")
            return lines
        if cmd == "MARKER":
            return (["MARKER_LIST"]
                    + [f"MARKER\t{escape(m.name)}\t{m.id}\t{num(m.pos_s)}\t{m.color}"
                       for m in p.sorted_markers(False)] + ["MARKER_LIST_END"])
        if cmd == "REGION":
            return (["REGION_LIST"]
                    + [f"REGION\t{escape(m.name)}\t{m.id}\t{num(m.pos_s)}\t{num(m.end_s)}\t"
                       f"{m.color}" for m in p.sorted_markers(True)] + ["REGION_LIST_END"])
        if cmd.startswith("LYRICS/"):
            i = int(cmd.split("/")[1])
            if not 1 <= i <= len(p.tracks):
                return []
            toks = [f"{num(p.qn_to_full_beats(qn))}\t{escape(text)}"
                    for qn, text in sorted(p.tracks[i - 1].lyrics)]
            return ["\t".join([f"LYRICS\t{i}", *toks])]
        if cmd.startswith("GET/EXTSTATE/"):
            parts = cmd.split("/")
            if len(parts) < 4:
                return []
            s, k = u(parts[2]), u(parts[3])
            return [f"EXTSTATE\t{escape(s)}\t{escape(k)}\t{escape(self.ext_state.get((s, k), ''))}"]
        if cmd.startswith("SET/EXTSTATE/") or cmd.startswith("SET/EXTSTATEPERSIST/"):
            parts = cmd.split("/", 4)
            if len(parts) == 5:
                self.ext_state[(u(parts[2]), u(parts[3]))] = u(parts[4])
            return []
        if cmd.startswith("GET/"):
            cid = cmd[4:]
            state = -1
            return [f"CMDSTATE\t{cid}\t{state}"]
        if cmd.isdigit() or cmd.startswith("_"):
            self.run_action(cmd)
            return []
        return []

    # -- actions --------------------------------------------------------------------------
    def register_script(self, command_id: str = "_RSainur0123456789abcdef") -> str:
        """Register the Ainur importer (as the Action List does on "Load ReaScript")."""
        self.actions[command_id] = (self._ainur_script if self.importer == "python"
                                    else self._ainur_script_lua)
        return command_id

    def run_action(self, cid: str) -> None:
        self.actions_run.append(cid)
        fn = self.actions.get(cid)
        if cid == str(REFRESH_ALL_SURFACES):
            fn = self.send_feedback
        if fn is None:
            return

        def later() -> None:
            if not self._stop.wait(self.action_delay_s):
                with self.lock:
                    fn()

        t = threading.Thread(target=later, daemon=True)
        t.start()
        self._threads.append(t)

    def _ack(self, job_id: str, status: str, text: str) -> None:
        self.ext_state[("ainur", "ack")] = f"{job_id}\t{status}\t{text}"

    def _ainur_script(self) -> None:
        """What ``ainur_import.lua`` does, applied to this project model."""
        path = self.ext_state.get(("ainur", "job"), "")
        if not path:
            self._ack("", "error", "no job: ExtState ainur/job is empty (run this action "
                                   "through Ainur)")
            return
        try:
            with open(path, encoding="utf-8") as f:
                lines = [ln.rstrip("\r\n") for ln in f]
        except OSError:
            self._ack("", "error", "cannot open the job file " + path)
            return
        if not lines:
            self._ack("", "error", "the job file is empty")
            return
        if lines[0].split("\t")[:2] != ["AINUR_JOB", "1"]:
            self._ack("", "error", "not an Ainur job file")
            return
        job: dict = {"markers": [], "tracks": []}
        for ln in lines[1:]:
            t = ln.split("\t")
            if t[0] in ("ID", "ACTION", "UNDO", "OUT"):
                job[t[0].lower()] = t[1] if len(t) > 1 else ""
            elif t[0] == "MARKER":
                job["markers"].append((_tonumber(t[1:2]), t[2] if len(t) > 2 else ""))
            elif t[0] == "TRACK":
                job["tracks"].append((_tonumber(t[1:2]), t[2] if len(t) > 2 else "",
                                      t[3] if len(t) > 3 else "", _tonumber(t[4:5]),
                                      t[5:6] == ["1"]))
        if job.get("action") == "import":
            ok, text = self._import(job)
        elif job.get("action") == "export":
            ok, text = self._export(job)
        else:
            ok, text = False, f"unknown ACTION {job.get('action')}"
        self._ack(job.get("id", ""), "ok" if ok else "error", text)

    def _import(self, job: dict) -> tuple[bool, str]:
        import soundfile

        for pos, _, path, _, _ in job["tracks"]:
            if pos is None or not path:
                return False, "a TRACK line has no position or path"
            if not os.path.isfile(path):
                return False, "audio file not found: " + path
        p = self.project
        for pos, name, path, length, mute in job["tracks"]:
            info = soundfile.info(path)
            length = length if length is not None else info.frames / info.samplerate
            p.tracks.append(RTrack(name, [Item(pos, length, path)], mute=mute))
        for pos, name in job["markers"]:
            if pos is not None:
                p.add_marker(pos, name)
        p.undo_points.append(job.get("undo") or "Ainur: import stems")
        return True, f"{len(job['tracks'])} tracks, {len(job['markers'])} markers"

    def _export(self, job: dict) -> tuple[bool, str]:
        out = job.get("out", "")
        if not out:
            return False, "the job has no OUT path"
        p = self.project
        try:
            f = open(out, "w", encoding="utf-8")
        except OSError:
            return False, "cannot write " + out
        with f:
            f.write("AINUR_SESSION\t1\n")
            length = p.length_s
            f.write(f"LENGTH\t{length:.12f}\t{float(p.time_to_qn(length)):.12f}\n")
            n0, d0 = p.timesig_at(0.0)
            f.write(f"TEMPO\t0\t0\t{p.tempo_at(0.0):.12f}\t{n0}\t{d0}\t0\n")
            for m in sorted(p.tempo, key=lambda m: m.time_s):
                n, d = p.timesig_at(m.time_s + 1e-9)
                f.write(f"TEMPO\t{m.time_s:.12f}\t{float(p.time_to_qn(m.time_s)):.12f}\t"
                        f"{m.bpm:.12f}\t{n}\t{d}\t0\n")
            for m in sorted(p.markers, key=lambda m: m.pos_s):
                name = m.name.replace("\t", " ").replace("\r", " ").replace("\n", " ")
                qn = float(p.time_to_qn(m.pos_s))
                if m.is_region:
                    f.write(f"REGION\t{m.pos_s:.12f}\t{qn:.12f}\t{m.end_s:.12f}\t"
                            f"{float(p.time_to_qn(m.end_s)):.12f}\t{name}\n")
                else:
                    f.write(f"MARKER\t{m.pos_s:.12f}\t{qn:.12f}\t{name}\n")
            for t in p.tracks:
                f.write("TRACK\t" + t.name.replace("\t", " ").replace("\n", " ") + "\n")
            for i, t in enumerate(p.tracks):   # NOTE as the Lua header specifies
                for item in t.midi:
                    if item.mute:
                        continue
                    a = p.time_to_qn(item.position_s)
                    b = p.time_to_qn(item.position_s + item.length_s)
                    for n in item.notes:
                        shift = Fraction(0)
                        while not n.muted and a + n.start_qn + shift < b:
                            if n.start_qn + shift >= 0:
                                f.write(f"NOTE\t{i}\t{n.channel}\t{float(a + n.start_qn + shift):.12f}\t"
                                        f"{float(min(a + n.end_qn + shift, b)):.12f}\t{n.pitch}\t"
                                        f"{n.velocity}\n")
                            if not item.loop_qn:
                                break
                            shift += item.loop_qn
            f.write("END\n")
        return True, "written " + out

    # -- OSC ------------------------------------------------------------------------------
    def _osc_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.osc_sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                m = OscMessage(data)
            except Exception:
                continue  # REAPER ignores what it cannot parse
            with self.lock:
                self._osc(m.address, tuple(m.params))

    def _osc(self, address: str, args: tuple) -> None:
        first = args[0] if args else None
        if address == "/device/marker/count" and isinstance(first, (int, float)):
            self.marker_count = int(first)
        elif address == "/device/region/count" and isinstance(first, (int, float)):
            self.region_count = int(first)
        elif address == "/device/track/count" and isinstance(first, (int, float)):
            self.track_count = int(first)
        elif address == "/action" and isinstance(first, (int, float)):
            self.run_action(str(int(first)))
        elif address.startswith("/action/") and address[8:].isdigit():
            if first in (None, 1, 1.0):
                self.run_action(address[8:])
        elif address == "/tempo/raw" and isinstance(first, (int, float)) and first > 0:
            self.project.tempo[0].bpm = float(first)

    def feedback_messages(self) -> list[tuple[str, tuple]]:
        p = self.project
        full, measure, in_bar = p.beats_at(p.cursor_s)
        msgs: list[tuple[str, tuple]] = [
            ("/tempo/raw", (p.tempo_at(p.cursor_s),)),
            ("/tempo/str", (f"{p.tempo_at(p.cursor_s):.2f}",)),
            ("/time", (p.cursor_s,)),
            ("/time/str", (f"{p.cursor_s:.3f}",)),
            ("/beat/str", (f"{measure + 1}.{int(in_bar) + 1}.00",)),
        ]
        for k, m in enumerate(p.sorted_markers(False)[: self.marker_count], start=1):
            msgs += [(f"/marker/{k}/name", (m.name,)), (f"/marker/{k}/number/str", (str(m.id),)),
                     (f"/marker/{k}/time", (m.pos_s,))]
        for k, m in enumerate(p.sorted_markers(True)[: self.region_count], start=1):
            msgs += [(f"/region/{k}/name", (m.name,)), (f"/region/{k}/number/str", (str(m.id),)),
                     (f"/region/{k}/time", (m.pos_s,)),
                     (f"/region/{k}/length", (m.end_s - m.pos_s,))]
        for k, t in enumerate(p.tracks[: self.track_count], start=1):
            msgs.append((f"/track/{k}/name", (t.name,)))
        return msgs

    def send_feedback(self) -> None:
        """What REAPER sends its OSC device after "refresh all surfaces": bundles of up to
        ``FEEDBACK_BUNDLE`` messages, a few milliseconds apart."""
        if self.osc_sock is None or not self.feedback_port:
            return
        target = ("127.0.0.1", self.feedback_port)
        if self.garbage_feedback:
            for junk in (b"\x00garbage", os.urandom(23), b"/tempo/raw\x00\x00,s\x00\x00fast\x00"):
                self.osc_sock.sendto(junk, target)
        msgs = self.feedback_messages()
        for i in range(0, len(msgs), FEEDBACK_BUNDLE):
            if i:
                time.sleep(0.02)
            bundle = OscBundleBuilder(IMMEDIATELY)
            for address, args in msgs[i:i + FEEDBACK_BUNDLE]:
                b = OscMessageBuilder(address)
                for a in args:
                    b.add_arg(a)
                bundle.add_content(b.build())
            self.osc_sock.sendto(bundle.build().dgram, target)

    # -- the real Lua script under lua5.4, through the ReaScript API simulator ------------
    def _ainur_script_lua(self) -> None:
        """Run ``daw_bridge/scripts/ainur_import.lua`` itself (Lua 5.4) against
        ``tests/bridge/reaper_api_sim.lua``, a simulator of the ReaScript functions it calls,
        set up from this project and read back into it."""
        import json
        import subprocess

        p = self.project
        first = sorted(p.tempo, key=lambda m: m.time_s)[0]
        cfg = {
            "tracks": [{"name": t.name, "midi": [
                {"pos": it.position_s, "length": it.length_s, "mute": it.mute,
                 "loop_qn": float(it.loop_qn or 0),
                 "notes": [{"s": int(n.start_qn * 960), "e": int(n.end_qn * 960), "chan": n.channel,
                            "pitch": n.pitch, "vel": n.velocity, "muted": n.muted}
                           for n in it.notes]} for it in t.midi]} for t in p.tracks],
            "markers": [{"isrgn": m.is_region, "pos": m.pos_s, "rgnend": m.end_s,
                         "name": m.name, "number": m.id} for m in p.markers],
            "cursor": p.cursor_s,
            "ext": {f"{sec}/{key}": v for (sec, key), v in self.ext_state.items()},
            "tempo": {"bpm": first.bpm, "num": first.num or 4, "den": first.den or 4,
                      "points": [{"pos": m.time_s, "bpm": m.bpm, "num": m.num or -1,
                                  "den": m.den or -1, "linear": False} for m in p.tempo]},
        }
        chunk = (f"local sim = dofile({lua_value(str(LUA_API_SIM))})\n"
                 f"sim.setup({lua_value(cfg)})\n"
                 f"dofile({lua_value(str(LUA_IMPORTER))})\n"
                 "io.write(sim.dump())\n")
        run = subprocess.run([LUA, "-"], input=chunk.encode("utf-8"), capture_output=True,
                             timeout=30)
        if run.returncode != 0:
            # REAPER shows a script error in a window; the ack never comes.
            self.lua_errors.append(run.stderr.decode("utf-8", "replace"))
            return
        state = json.loads(run.stdout.decode("utf-8"))
        n_before = len(p.tracks)
        for t, d in zip(p.tracks, state["tracks"]):
            t.name = d["name"]
        for d in state["tracks"][n_before:]:
            p.tracks.append(RTrack(d["name"], [Item(i["position"], i["length"], i["source"])
                                               for i in d["items"]], mute=bool(d["mute"])))
        p.markers = [ProjectMarker(m["number"], m["name"], m["pos"], m["isrgn"], m["rgnend"])
                     for m in state["markers"]]
        p.cursor_s = state["cursor"]
        p.undo_points += [b["description"] for b in state["undo_blocks"]]
        self.ext_state = {tuple(k.split("/", 1)): v for k, v in state["ext"].items()}


def _tonumber(tok: list[str]) -> float | None:
    """Lua's ``tonumber``: a number or nil."""
    try:
        return float(tok[0])
    except (IndexError, ValueError):
        return None
