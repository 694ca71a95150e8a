"""REAPER through its OSC surface, its web interface and the shipped Lua ReaScript.

* **Web interface** (Preferences > Control/OSC/web > Add > Web browser interface, e.g. port
  8080): ``GET /_/CMD;CMD`` answers lines of tab-separated fields — ``BEATPOS`` (position,
  beat position, time signature at the play cursor), ``MARKER`` / ``REGION`` lists (seconds),
  ``NTRACK``, ``TRACK``, ``LYRICS/n`` (beat, text pairs of track n), ``GET|SET/EXTSTATE``, and
  runs actions by command ID (``_RS…`` for ReaScripts).
* **OSC** (Default.ReaperOSC pattern; REAPER listens on e.g. 8000 and sends feedback to the
  device port, e.g. 9000): ``/tempo/raw f``; marker feedback only after the device asks for it
  with ``/device/marker/count i``; ``/action i`` runs action 41743 ("Control surface: Refresh
  all surfaces") so REAPER sends its current state.
* **The Lua script** ``scripts/ainur_import.lua`` (registered once as an action): Ainur writes
  a job file, puts its path in ExtState ``ainur/job`` over the web interface, runs the
  script's command ID, and waits for ``ainur/ack``. ``export`` jobs write the full tempo map
  (every tempo/time-signature marker with its quarter-note position), markers and regions;
  ``import`` jobs insert each stem on a new track at its position, with section markers, in
  one undo block.

Without the script REAPER's remote APIs give only the current tempo (OSC) and the time
signature at the play cursor (web), so the session is read as one tempo and one meter (a note
says so), and stems are delivered as a ``.RPP`` next to the render.
"""

from __future__ import annotations

import base64
import itertools
import logging
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from fractions import Fraction
from pathlib import Path

from ainur_cli.errors import BridgeError

from daw_bridge.adapter import DawAdapter, Health, PlaceResult
from daw_bridge.facts import (
    LyricEvent,
    Marker,
    MeterPoint,
    SessionFacts,
    TempoPoint,
    as_fraction,
    clean_meters,
    clean_tempo,
)
from daw_bridge.oscio import OscPeer
from daw_bridge.placement import Placement

log = logging.getLogger(__name__)

EXT_SECTION = "ainur"
REFRESH_SURFACES_ACTION = 41743
SCRIPT_PATH = Path(__file__).resolve().parent / "scripts" / "ainur_import.lua"
_job_ids = itertools.count(1)


def unescape(field: str) -> str:
    """Web-interface strings encode newline, tab and backslash as ``\\n``, ``\\t``, ``\\\\``."""
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def safe_field(text: str) -> str:
    """A job-file field: no tabs or line breaks."""
    return " ".join(str(text).replace("\t", " ").splitlines())


class ReaperWeb:
    """REAPER's web interface at ``http://host:port`` (optional ``user:password``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, timeout_s: float = 2.0,
                 auth: str | None = None) -> None:
        self.base = f"http://{host}:{int(port)}"
        self.timeout_s = float(timeout_s)
        self.auth = auth

    def request(self, *commands: str) -> list[list[str]]:
        """Run ``commands`` (``;``-joined in one request); the answer's lines split at tabs."""
        url = f"{self.base}/_/" + ";".join(commands)
        req = urllib.request.Request(url)
        if self.auth:
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(self.auth.encode()).decode("ascii"))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                body = r.read(4 * 1024 * 1024).decode("utf-8", errors="replace")
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise BridgeError(f"REAPER's web interface does not answer at {self.base}: {e}",
                              allowed="REAPER running with Preferences > Control/OSC/web > "
                                      "Web browser interface on this port") from None
        return [line.split("\t") for line in body.splitlines() if line]

    def set_ext_state(self, key: str, value: str) -> None:
        q = urllib.parse.quote
        self.request(f"SET/EXTSTATE/{q(EXT_SECTION, safe='')}/{q(key, safe='')}/{q(value, safe='')}")

    def get_ext_state(self, key: str) -> str:
        for tok in self.request(f"GET/EXTSTATE/{EXT_SECTION}/{urllib.parse.quote(key, safe='')}"):
            if tok[0] == "EXTSTATE" and len(tok) >= 4 and tok[2] == key:
                return unescape("\t".join(tok[3:]))
        return ""


class ReaperAdapter(DawAdapter):
    """REAPER at ``host``: web interface on ``web_port``, OSC on ``osc_port`` with feedback to
    ``feedback_port``; ``command_id`` is the registered Lua script's ``_RS…`` ID."""

    name = "reaper"

    def __init__(self, host: str = "127.0.0.1", web_port: int = 8080, osc_port: int | None = 8000,
                 feedback_port: int = 9000, command_id: str | None = None,
                 job_dir: str | Path | None = None, timeout_s: float = 2.0,
                 script_timeout_s: float = 30.0, web_auth: str | None = None) -> None:
        self.web = ReaperWeb(host, web_port, timeout_s, web_auth)
        self.host, self.osc_port, self.feedback_port = host, osc_port, feedback_port
        self.command_id = command_id
        self.job_dir = Path(job_dir) if job_dir else Path(tempfile.gettempdir()) / "ainur-reaper"
        self.timeout_s, self.script_timeout_s = float(timeout_s), float(script_timeout_s)
        self.origin = f"reaper://{host} (web {web_port}, osc {osc_port})"

    # -- health ---------------------------------------------------------------------------
    def health(self) -> Health:
        try:
            lines = self.web.request("TRANSPORT")
        except BridgeError as e:
            return Health(False, e.format())
        if not any(t[0] == "TRANSPORT" for t in lines):
            return Health(False, f"{self.web.base} answered, but not like REAPER's web interface")
        script = f"script {self.command_id}" if self.command_id else "no script registered"
        return Health(True, f"REAPER's web interface answered at {self.web.base} ({script})")

    # -- reading --------------------------------------------------------------------------
    def read_session(self) -> SessionFacts:
        if self.command_id:
            return self._read_with_script()
        return self._read_remote()

    def _read_remote(self) -> SessionFacts:
        lines = self.web.request("BEATPOS", "MARKER", "REGION", "NTRACK", "TRACK")
        num, den = 4, 4
        for t in lines:
            if t[0] == "BEATPOS" and len(t) >= 8:
                num, den = int(float(t[6])), int(float(t[7]))
        tempo = self._osc_tempo()
        facts_tempo = (TempoPoint(Fraction(0), as_fraction(tempo)),)
        markers, ntrack, names = [], 0, []
        spb = Fraction(60) / as_fraction(tempo)
        for t in lines:
            if t[0] == "MARKER" and len(t) >= 4:
                markers.append(Marker(as_fraction(float(t[3])) / spb, unescape(t[1])))
            elif t[0] == "REGION" and len(t) >= 5:
                markers.append(Marker(as_fraction(float(t[3])) / spb, unescape(t[1]),
                                      as_fraction(float(t[4])) / spb))
            elif t[0] == "NTRACK" and len(t) >= 2:
                ntrack = int(float(t[1]))
            elif t[0] == "TRACK" and len(t) >= 3 and t[1] != "0":
                names.append(unescape(t[2]))
        lyrics = self._lyrics(ntrack)
        return SessionFacts(
            "reaper", self.origin, facts_tempo, (MeterPoint(Fraction(0), num, den),),
            markers=tuple(sorted(markers, key=lambda m: m.beat)), lyrics=lyrics,
            track_names=tuple(names),
            notes=("REAPER was read without the Ainur script: one tempo (OSC /tempo/raw) and the "
                   "time signature at the play cursor; register scripts/ainur_import.lua for the "
                   "full tempo map",))

    def _osc_tempo(self) -> float:
        if not self.osc_port:
            raise BridgeError("REAPER's tempo needs its OSC surface or the Ainur script",
                              field="--reaper-osc-port", allowed="an OSC port, or --reaper-command")
        with OscPeer(self.host, self.osc_port, self.feedback_port, daw="REAPER") as peer:
            peer.send("/device/marker/count", 0)
            peer.send("/action", REFRESH_SURFACES_ACTION)
            m = peer.wait(lambda m: m.address == "/tempo/raw" and m.args
                          and isinstance(m.args[0], (int, float)), self.timeout_s)
        if m is None:
            raise BridgeError(f"REAPER sent no /tempo/raw to UDP {self.feedback_port} within "
                              f"{self.timeout_s:g} s", field="--reaper-feedback-port",
                              allowed="an OSC device in REAPER (Default pattern) whose device "
                                      f"port is {self.feedback_port}")
        return float(m.args[0])

    def _lyrics(self, ntrack: int) -> tuple[LyricEvent, ...]:
        if ntrack <= 0:
            return ()
        events = []
        for t in self.web.request(*[f"LYRICS/{i}" for i in range(1, min(ntrack, 64) + 1)]):
            if t[0] != "LYRICS":
                continue
            fields = t[2:]
            for beat, text in zip(fields[0::2], fields[1::2]):
                try:
                    events.append(LyricEvent(as_fraction(float(beat)), unescape(text)))
                except ValueError:
                    continue
        return tuple(sorted(events, key=lambda e: e.beat))

    def _read_with_script(self) -> SessionFacts:
        self.job_dir.mkdir(parents=True, exist_ok=True)
        out = self.job_dir / f"session-{os.getpid()}-{next(_job_ids)}.txt"
        self.run_job("export", [f"OUT\t{safe_field(str(out))}"])
        try:
            text = out.read_text(encoding="utf-8", errors="replace")
        finally:
            out.unlink(missing_ok=True)
        facts = parse_session_export(text, self.origin)
        try:
            lines = self.web.request("NTRACK")
            n = next((int(float(t[1])) for t in lines if t[0] == "NTRACK" and len(t) > 1), 0)
            lyrics = self._lyrics(n)
        except BridgeError:
            lyrics = ()
        return SessionFacts(facts.daw, facts.origin, facts.tempo, facts.meters, facts.markers,
                            lyrics, facts.length_beats, facts.track_names)

    # -- the script protocol --------------------------------------------------------------
    def run_job(self, action: str, records: list[str], undo: str = "") -> str:
        """Write a job file, hand it to the script through ExtState, run it, wait for the ack.

        :returns: the script's message. :raises BridgeError: no ack in time, or an error ack.
        """
        if not self.command_id:
            raise BridgeError("the Ainur ReaScript is not registered", field="--reaper-command",
                              allowed="the _RS... command ID of scripts/ainur_import.lua")
        self.job_dir.mkdir(parents=True, exist_ok=True)
        job_id = f"{os.getpid()}-{next(_job_ids)}-{int(time.time() * 1000) % 100000}"
        path = self.job_dir / f"job-{job_id}.txt"
        lines = ["AINUR_JOB\t1", f"ID\t{job_id}", f"ACTION\t{action}"]
        if undo:
            lines.append(f"UNDO\t{safe_field(undo)}")
        path.write_text("\n".join(lines + records) + "\n", encoding="utf-8")
        try:
            self.web.set_ext_state("ack", "")
            self.web.set_ext_state("job", str(path))
            self.web.request(self.command_id)
            deadline = time.monotonic() + self.script_timeout_s
            while time.monotonic() < deadline:
                ack = self.web.get_ext_state("ack")
                parts = ack.split("\t", 2)
                if len(parts) == 3 and parts[0] in (job_id, ""):
                    if parts[1] == "ok":
                        return parts[2]
                    raise BridgeError(f"the Ainur ReaScript failed: {parts[2]}", field=action)
                time.sleep(0.05)
        finally:
            path.unlink(missing_ok=True)
        raise BridgeError(f"the Ainur ReaScript did not acknowledge within "
                          f"{self.script_timeout_s:g} s", field="--reaper-command",
                          value=self.command_id,
                          allowed="the command ID of scripts/ainur_import.lua in REAPER's "
                                  "Action List")

    # -- placing --------------------------------------------------------------------------
    def place(self, placement: Placement) -> PlaceResult:
        from daw_bridge.rpp import write_rpp

        if not self.command_id:
            path = write_rpp(placement)
            return PlaceResult("reaper", False, "project-files", files=(str(path),),
                               instructions=f"register scripts/ainur_import.lua and pass its "
                                            f"command ID to place stems automatically; until "
                                            f"then open {path} (or insert the stems with 'move "
                                            f"to source preferred position': they carry BWF "
                                            f"time references)")
        records = []
        for s in placement.sections:
            records.append(f"MARKER\t{placement.session_start_s + s.start_s:.9f}\t"
                           f"{safe_field(s.name)}")
        names = []
        for stem in placement.stems:
            name = f"Ainur {stem.part}"
            names.append(name)
            records.append(f"TRACK\t{placement.session_start_s + stem.start_s:.9f}\t"
                           f"{safe_field(name)}\t{safe_field(str(stem.path))}")
        msg = self.run_job("import", records, undo=f"Ainur: import stems of {placement.title}")
        return PlaceResult("reaper", True, "reascript", tracks=tuple(names),
                           files=tuple(str(s.path) for s in placement.stems),
                           details={"script": msg})


def parse_session_export(text: str, origin: str) -> SessionFacts:
    """Facts from the file the script's ``export`` job writes (see the Lua header)."""
    lines = [ln.split("\t") for ln in text.splitlines() if ln]
    if not lines or lines[0][:2] != ["AINUR_SESSION", "1"]:
        raise BridgeError("the Ainur ReaScript wrote an unreadable session file",
                          field="export", value=text[:40])
    tempo, meters, markers, tracks = [], [], [], []
    length = None
    try:
        for t in lines[1:]:
            if t[0] == "TEMPO" and len(t) >= 6:
                qn = as_fraction(float(t[2]))
                tempo.append(TempoPoint(qn, as_fraction(float(t[3]))))
                if int(float(t[4])) > 0 and int(float(t[5])) > 0:
                    meters.append(MeterPoint(qn, int(float(t[4])), int(float(t[5]))))
            elif t[0] == "MARKER" and len(t) >= 4:
                markers.append(Marker(as_fraction(float(t[2])), t[3]))
            elif t[0] == "REGION" and len(t) >= 6:
                markers.append(Marker(as_fraction(float(t[2])), t[5], as_fraction(float(t[4]))))
            elif t[0] == "LENGTH" and len(t) >= 3:
                length = as_fraction(float(t[2]))
            elif t[0] == "TRACK" and len(t) >= 2:
                tracks.append(t[1])
    except ValueError as e:
        raise BridgeError(f"the Ainur ReaScript wrote a bad number: {e}", field="export") from None
    return SessionFacts("reaper", origin, clean_tempo(tempo), clean_meters(meters),
                        tuple(sorted(markers, key=lambda m: m.beat)), (), length or None,
                        tuple(tracks))
