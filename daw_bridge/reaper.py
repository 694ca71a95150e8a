"""REAPER through its web interface, its OSC surface and the shipped Lua ReaScript.

* **Web interface** (Preferences > Control/OSC/web > Add > Web browser interface, e.g. port
  8080): ``GET /_/CMD;CMD`` answers lines of TAB-separated tokens — ``TRANSPORT``,
  ``BEATPOS`` (``playstate, seconds, full_beats, measure, beats_in_measure, ts_num, ts_den``:
  the time signature at the play cursor), ``MARKER`` / ``REGION`` lists (``name, ID,
  seconds[, end seconds]``), ``NTRACK``, ``TRACK``, ``LYRICS/n`` (``n, beat, text, beat,
  text…`` of track n; beats counted like BEATPOS's full beats, i.e. in the time signature's
  denominator), ``GET|SET/EXTSTATE/section/key[/value]``, and runs actions by command ID
  (``_RS…`` for ReaScripts). Strings escape newline, TAB and backslash.
* **OSC** (Default.ReaperOSC pattern; REAPER listens on e.g. 8000 and sends feedback to the
  *device port* it is configured with, e.g. 9000): ``/tempo/raw f`` (the tempo at the play
  cursor), ``/time f``; markers and regions only after the device asks for them with
  ``/device/marker/count i`` / ``/device/region/count i``; ``/action i`` with 41743
  ("Control surface: Refresh all surfaces") makes REAPER send its state now.
* **The Lua script** ``scripts/ainur_import.lua`` (registered once as an action; its ``_RS…``
  command ID is an option): Ainur writes a job file (format: :mod:`daw_bridge.placement`),
  puts its path in ExtState ``ainur``/``job`` over the web interface, runs the action, and
  polls ExtState ``ainur``/``ack`` until the script answers or ``script_timeout_s`` passes.
  ``export`` jobs give the full tempo map (every tempo/time-signature marker with its
  quarter-note position), markers, regions, tracks, length and the notes of the MIDI items
  (``NOTE``): where a track's lyric events (``LYRICS/n``) sit on notes, each event carries
  the notes it is sung on (:func:`daw_bridge.midi_import.lyrics_on_notes`, as in a MIDI
  file); ``import`` jobs insert each stem on a new track at its position, with section
  markers, in one undo block.

Without the script REAPER's remote APIs give only the current tempo (OSC) and the time
signature at the play cursor (web), so the session is read as one tempo and one meter (a
note says so), and stems are delivered as a ``.RPP`` next to the render. Without the web
interface (``web_port=None``) tempo, markers and regions come from OSC feedback alone
(32-bit float seconds; the meter is assumed 4/4 and a note says so).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from ainur_cli.errors import BridgeError
from ainur_cli.spec_lyrics import ToplineNote

from daw_bridge.adapter import (DawAdapter, Health, PlaceResult, health_check, is_loopback,
                                serialized)
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
from daw_bridge.oscio import OscMsg, OscPeer
from daw_bridge.placement import Placement, job_field, parse_ack, reaper_import_job
from daw_bridge.reaper_web import WEB_CHECK, ReaperWeb, decimal, unescape

log = logging.getLogger(__name__)

REFRESH_SURFACES_ACTION = 41743
ACK_PENDING = "-"       # what ExtState ainur/ack holds while a job runs
SCRIPT_PATH = Path(__file__).resolve().parent / "scripts" / "ainur_import.lua"
MAX_LYRIC_TRACKS = 64
#: ticks per quarter note the export's NOTE records and the lyric events are paired on
#: (REAPER's default MIDI resolution)
NOTE_PPQ = 960
OSC_BANK = 512          # markers/regions asked for over OSC
FEEDBACK_QUIET_S = 0.15     # marker feedback is over after this long without a packet
_job_ids = itertools.count(1)

OSC_CHECK = ("an OSC device in REAPER (Preferences > Control/OSC/web > Add > OSC, pattern "
             "Default) whose local listen port is the OSC port and whose device port is the "
             "feedback port")


def full_beats_to_qn(full: Fraction, meters: tuple[MeterPoint, ...]) -> Fraction:
    """Quarter notes from REAPER's *full beats* (counted in each meter's denominator)."""
    counted = Fraction(0)
    for i, m in enumerate(meters):
        nxt = meters[i + 1] if i + 1 < len(meters) else None
        span = (nxt.beat - m.beat) * m.denominator / 4 if nxt else None
        if span is None or full < counted + span:
            return m.beat + (full - counted) * 4 / m.denominator
        counted += span
    raise ValueError("no meters")


class ReaperAdapter(DawAdapter):
    """REAPER at ``host``: web interface on ``web_port`` (None: OSC only), OSC on
    ``osc_port`` (None: none) with feedback to ``feedback_port``; ``command_id`` is the
    registered Lua script's ``_RS…`` ID (None: no script)."""

    name = "reaper"

    def __init__(self, host: str = "127.0.0.1", web_port: int | None = 8080,
                 osc_port: int | None = 8000, feedback_port: int | None = 9000,
                 command_id: str | None = None, job_dir: str | Path | None = None,
                 timeout_s: float = 2.0, script_timeout_s: float = 30.0,
                 web_auth: str | None = None, track_prefix: str = "Ainur ",
                 harmony_track: str | None = None) -> None:
        self.web = ReaperWeb(host, web_port, timeout_s, web_auth) if web_port else None
        self.host, self.osc_port, self.feedback_port = host, osc_port, feedback_port
        self.command_id = command_id
        self.job_dir = Path(job_dir) if job_dir else Path(tempfile.gettempdir()) / "ainur-reaper"
        self.timeout_s, self.script_timeout_s = float(timeout_s), float(script_timeout_s)
        self.prefix = track_prefix
        #: the track of a written harmony (default: the first other than the lead's named
        #: like one, :func:`daw_bridge.project_vocal.pick_harmony_track`)
        self.harmony_track = harmony_track or None
        self.origin = f"reaper://{host} (web {web_port}, osc {osc_port})"

    # -- health ---------------------------------------------------------------------------
    @health_check
    def health(self) -> Health:
        if self.web is None:
            try:
                fb = self._osc_feedback(markers=False)
            except BridgeError as e:
                return Health(False, f"{e.message} — check: {e.allowed}")
            return Health(True, f"REAPER's OSC surface answered at udp://{self.host}:"
                                f"{self.osc_port} (play position {fb['time_s']:g} s)")
        try:
            lines = self.web.request("TRANSPORT")
        except BridgeError as e:
            return Health(False, f"{e.message} — check: {e.allowed}")
        if not any(t[0] == "TRANSPORT" for t in lines):
            return Health(False, f"{self.web.base} answered, but not like REAPER's web "
                                 f"interface (no TRANSPORT line)")
        if self.command_id:
            return Health(True, f"REAPER's web interface answered at {self.web.base} (script "
                                f"{self.command_id})")
        try:  # without the script the tempo comes from OSC feedback
            tempo = self._osc_feedback(markers=False)["tempo_bpm"]
        except BridgeError as e:
            return Health(False, f"REAPER's web interface answered at {self.web.base}, but "
                                 f"{e.message} — check: {e.allowed}")
        return Health(True, f"REAPER's web interface answered at {self.web.base} and its OSC "
                            f"surface at udp://{self.host}:{self.osc_port} ({float(tempo):g} "
                            f"bpm; no script registered: one tempo is read)")

    # -- reading --------------------------------------------------------------------------
    @serialized
    def read_session(self) -> SessionFacts:
        if self.web is None:
            return self._read_osc_only()
        if self.command_id:
            return self._read_with_script()
        return self._read_remote()

    def _read_remote(self) -> SessionFacts:
        lines = self.web.request("BEATPOS", "MARKER", "REGION", "NTRACK", "TRACK")
        beatpos = [t for t in lines if t[0] == "BEATPOS"]
        if not beatpos or len(beatpos[0]) < 8:
            raise BridgeError("REAPER's web interface sent no usable BEATPOS line",
                              field="BEATPOS", value=beatpos[0] if beatpos else lines[:1],
                              allowed=WEB_CHECK)
        num, den = (decimal(beatpos[0][6], "BEATPOS ts_numerator"),
                    decimal(beatpos[0][7], "BEATPOS ts_denominator"))
        if num.denominator != 1 or not 1 <= num <= 99 or den not in (1, 2, 4, 8, 16, 32):
            raise BridgeError("REAPER sent an impossible time signature", field="BEATPOS",
                              value=beatpos[0][6:8])
        tempo = self._osc_feedback(markers=False)["tempo_bpm"]
        meters = (MeterPoint(Fraction(0), int(num), int(den)),)
        facts0 = SessionFacts("reaper", self.origin, (TempoPoint(Fraction(0), tempo),), meters)
        markers, names, ntrack = self._web_lists(lines, facts0)
        return SessionFacts(
            "reaper", self.origin, facts0.tempo, meters,
            markers=tuple(sorted(markers, key=lambda m: m.beat)),
            lyrics=self._lyrics(ntrack, meters), track_names=tuple(names),
            notes=("REAPER was read without the Ainur script: one tempo (OSC /tempo/raw at the "
                   "play cursor) and the time signature at the play cursor; register "
                   "scripts/ainur_import.lua for the full tempo map",))

    def _web_lists(self, lines: list[list[str]], facts: SessionFacts):
        """Markers (beats), track names and track count from MARKER/REGION/TRACK lines."""
        markers: list[Marker] = []
        names: list[str] = []
        ntrack = 0
        for t in lines:
            if t[0] == "MARKER":
                if len(t) < 4:
                    raise BridgeError("REAPER sent a marker line that cannot be read",
                                      field="MARKER", value="\t".join(t))
                s = decimal(t[3], "MARKER position")
                markers.append(Marker(as_fraction(facts.seconds_to_beat(s)), unescape(t[1])))
            elif t[0] == "REGION":
                if len(t) < 5:
                    raise BridgeError("REAPER sent a region line that cannot be read",
                                      field="REGION", value="\t".join(t))
                s, e = decimal(t[3], "REGION start"), decimal(t[4], "REGION end")
                markers.append(Marker(as_fraction(facts.seconds_to_beat(s)), unescape(t[1]),
                                      as_fraction(facts.seconds_to_beat(e))))
            elif t[0] == "NTRACK" and len(t) >= 2:
                ntrack = int(decimal(t[1], "NTRACK"))
            elif t[0] == "TRACK" and len(t) >= 3 and t[1] != "0":
                names.append(unescape(t[2]))
        return markers, names, ntrack

    def _lyrics(self, ntrack: int, meters: tuple[MeterPoint, ...]) -> tuple[LyricEvent, ...]:
        """Every track's lyric events (``LYRICS/n``), by beat."""
        return _by_beat(e for _, e in self._track_lyrics(ntrack, meters))

    def _track_lyrics(self, ntrack: int,
                      meters: tuple[MeterPoint, ...]) -> list[tuple[int, LyricEvent]]:
        """``(0-based track index, event)`` of the lyric events of the first
        :data:`MAX_LYRIC_TRACKS` tracks (``LYRICS/n``)."""
        if ntrack <= 0:
            return []
        events = []
        wanted = [f"LYRICS/{i}" for i in range(1, min(ntrack, MAX_LYRIC_TRACKS) + 1)]
        for t in self.web.request(*wanted):
            if t[0] != "LYRICS" or len(t) < 2:
                continue
            track = int(decimal(t[1], "LYRICS track")) - 1
            fields = t[2:]
            for beat, text in zip(fields[0::2], fields[1::2]):
                full = decimal(beat, "LYRICS beat")
                events.append((track, LyricEvent(as_fraction(full_beats_to_qn(full, meters)),
                                                 unescape(text))))
        return events

    def _lyrics_on_notes(self, lyrics: list[tuple[int, LyricEvent]], played: dict,
                         notes: list[str]) -> tuple[tuple[LyricEvent, ...], int | None]:
        """The lead track's lyric events, each with the notes it is sung on where the
        export's NOTE records hold the vocal melody (as a MIDI file's lyric events on notes:
        :func:`daw_bridge.midi_import.lyrics_on_notes`), and the 0-based track of those
        notes; every track's events, without notes, and None when there are none."""
        from daw_bridge.midi_import import lyrics_on_notes

        if not played or not lyrics:
            return _by_beat(e for _, e in lyrics), None
        by_tick = {}
        ticked = []
        for track, e in lyrics:
            tick = math.floor(e.beat * NOTE_PPQ + Fraction(1, 2))
            ticked.append((track, tick, e.text))
            by_tick.setdefault((tick, e.text), e.beat)
        said: list[str] = []  # what the pairing notes holds only where it is used
        pairs, sung_on, track = lyrics_on_notes(ticked, played, NOTE_PPQ, said, self.origin)
        if not sung_on:
            return _by_beat(e for _, e in lyrics), None
        notes += said
        return _by_beat(LyricEvent(by_tick.get((tick, text), Fraction(tick, NOTE_PPQ)), text,
                                   tuple(ToplineNote(Fraction(a, NOTE_PPQ), Fraction(b, NOTE_PPQ), p, v)
                                         for a, b, p, v in sung_on.get(k, ())))
                        for k, (tick, text) in enumerate(pairs)), track

    def _osc_feedback(self, markers: bool) -> dict:
        """Ask REAPER's OSC surface for its state (refresh) and read the feedback.

        :returns: ``tempo_bpm`` (Fraction), ``time_s`` and, with ``markers``, ``markers`` /
            ``regions`` as ``{k: {name, time, length}}``.
        """
        if not self.osc_port or not self.feedback_port:
            raise BridgeError("REAPER's tempo needs its OSC surface (or the Ainur script)",
                              field="--reaper-osc-port/--reaper-feedback-port",
                              allowed="REAPER's OSC listen port and device port, or "
                                      "--reaper-command")
        bind = "127.0.0.1" if is_loopback(self.host) else "0.0.0.0"  # feedback comes from there
        with OscPeer(self.host, self.osc_port, self.feedback_port, bind_host=bind,
                     daw="REAPER") as peer:
            peer.send("/device/marker/count", OSC_BANK if markers else 0)
            peer.send("/device/region/count", OSC_BANK if markers else 0)
            peer.send("/action", REFRESH_SURFACES_ACTION)
            m = peer.wait(lambda m: m.address == "/tempo/raw" and len(m.args) == 1
                          and isinstance(m.args[0], float) and m.args[0] > 0, self.timeout_s)
            if m is None:
                raise BridgeError(f"REAPER sent no /tempo/raw to UDP {peer.reply_port} within "
                                  f"{self.timeout_s:g} s after asking udp://{self.host}:"
                                  f"{self.osc_port}", field="--reaper-feedback-port",
                                  allowed=OSC_CHECK)
            rest = peer.collect(0.0)
            deadline = time.monotonic() + self.timeout_s
            while markers and time.monotonic() < deadline:  # until the feedback goes quiet
                more = peer.collect(FEEDBACK_QUIET_S)
                if not more:
                    break
                rest += more
        out = {"tempo_bpm": Fraction(m.args[0]).limit_denominator(1000), "time_s": 0.0,
               "markers": {}, "regions": {}}
        for msg in rest:
            self._feedback_into(out, msg)
        return out

    @staticmethod
    def _feedback_into(out: dict, msg: OscMsg) -> None:
        a = msg.args
        if msg.address == "/time" and len(a) == 1 and isinstance(a[0], float):
            out["time_s"] = a[0]
            return
        parts = msg.address.strip("/").split("/")
        if len(parts) != 3 or parts[0] not in ("marker", "region") or not parts[1].isdigit():
            return
        if len(a) != 1 or parts[2] not in ("name", "time", "length"):
            return
        kind = "markers" if parts[0] == "marker" else "regions"
        want = str if parts[2] == "name" else float
        if isinstance(a[0], want):
            out[kind].setdefault(int(parts[1]), {})[parts[2]] = a[0]

    def _read_osc_only(self) -> SessionFacts:
        fb = self._osc_feedback(markers=True)
        facts0 = SessionFacts("reaper", self.origin, (TempoPoint(Fraction(0), fb["tempo_bpm"]),),
                              (MeterPoint(Fraction(0), 4, 4),))

        def beat(seconds: float) -> Fraction:
            return facts0.seconds_to_beat(Fraction(seconds)).limit_denominator(960)

        markers = [Marker(beat(v["time"]), v.get("name", ""))
                   for v in fb["markers"].values() if "time" in v]
        markers += [Marker(beat(v["time"]), v.get("name", ""), beat(v["time"] + v["length"]))
                    for v in fb["regions"].values() if "time" in v and "length" in v]
        return SessionFacts(
            "reaper", self.origin, facts0.tempo, facts0.meters,
            markers=tuple(sorted(markers, key=lambda m: m.beat)), meter_known=False,
            notes=("REAPER was read over OSC only: one tempo, markers from 32-bit float "
                   "seconds (snapped to 1/960 beat), time signature unknown (4/4 assumed); "
                   "enable the web interface for the meter, lyrics and track names",))

    def _read_with_script(self) -> SessionFacts:
        self.job_dir.mkdir(parents=True, exist_ok=True)
        out = self.job_dir / f"session-{os.getpid()}-{next(_job_ids)}.txt"
        try:
            self.run_job("export", [f"OUT\t{job_field(str(out))}"])
            text = out.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            raise BridgeError(f"the Ainur ReaScript's session file cannot be read: {e}",
                              file=str(out)) from None
        finally:
            out.unlink(missing_ok=True)
        facts = parse_session_export(text, self.origin)
        n = 0
        for t in self.web.request("NTRACK"):
            if t[0] == "NTRACK" and len(t) > 1:
                n = int(decimal(t[1], "NTRACK"))
        notes = list(facts.notes)
        played = parse_export_notes(text)
        track_lyrics = self._track_lyrics(n, facts.meters)
        lyrics, lead = self._lyrics_on_notes(track_lyrics, played, notes)
        others: tuple = ()
        if lead is not None:  # the lead's events sit on notes: the other tracks' are not its
            from daw_bridge.midi_import import lead_lyric_track

            main = lead_lyric_track(t for t, _ in track_lyrics)
            others = tuple(sorted(((t + 1, e) for t, e in track_lyrics if t != main),
                                  key=lambda x: (x[1].beat, x[0])))
        facts = SessionFacts(facts.daw, facts.origin, facts.tempo, facts.meters, facts.markers,
                             lyrics, facts.length_beats, facts.track_names, notes=tuple(notes),
                             other_lyrics=others)
        return self._with_harmony(facts, played, lead)

    def _with_harmony(self, facts: SessionFacts, played: dict, lead: int | None) -> SessionFacts:
        """``facts`` with the notes of the harmony track (:attr:`harmony_track`, else the
        first track other than the ``lead``'s named like a harmony), one voice; ``lead``: the
        0-based track whose notes the lyric events are sung on (None: nothing to harmonise).

        :raises BridgeError: :attr:`harmony_track` names no track, or the lead's."""
        from ainur_cli.melody_file import DRUM_CHANNEL
        from daw_bridge.project_vocal import one_voice_beats, pick_harmony_track, with_harmony_notes

        names = list(facts.track_names)
        lead_name = names[lead] if lead is not None and lead < len(names) else None
        name = pick_harmony_track(names, self.harmony_track, lead_name, daw="the REAPER project",
                                  file=self.origin)
        if name is None:
            return facts
        index = next(i for i, t in enumerate(names) if t == name and i != lead)
        notes = one_voice_beats((Fraction(on, NOTE_PPQ), Fraction(off, NOTE_PPQ), p, v)
                                for (track, chan), ns in played.items()
                                if track == index and chan != DRUM_CHANNEL for on, off, p, v in ns)
        return with_harmony_notes(facts, f"the REAPER track '{name}'", notes, saved=False)

    # -- the script protocol --------------------------------------------------------------
    def _new_job_id(self) -> str:
        return f"{os.getpid()}-{next(_job_ids)}-{time.time_ns() % 10**9}"

    @serialized
    def run_job(self, action: str, records: list[str], *, text: str | None = None,
                job_id: str | None = None) -> str:
        """Write a job file (``records`` after the header, or the whole ``text``), hand it to
        the script through ExtState, run it and wait for its acknowledgement.

        :returns: the script's message. :raises BridgeError: no ack in time, or an error ack.
        """
        if not self.command_id:
            raise BridgeError("the Ainur ReaScript is not registered", field="--reaper-command",
                              allowed="the _RS... command ID of scripts/ainur_import.lua")
        if self.web is None:
            raise BridgeError("the Ainur ReaScript is run through REAPER's web interface",
                              field="--port", allowed="the web interface's port")
        job_id = job_id or self._new_job_id()
        if text is None:
            text = "\n".join([f"AINUR_JOB\t1", f"ID\t{job_id}", f"ACTION\t{action}",
                              *records]) + "\n"
        self.job_dir.mkdir(parents=True, exist_ok=True)
        path = self.job_dir / f"job-{job_id}.txt"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)   # the script never sees half a job
        try:
            self.web.set_ext_state("ack", ACK_PENDING)  # not "": an old error ack has no ID
            self.web.set_ext_state("job", str(path))
            self.web.request(self.command_id)
            deadline = time.monotonic() + self.script_timeout_s
            while True:
                ack = self.web.get_ext_state("ack")
                if ack not in ("", ACK_PENDING):
                    ack_id, ok, message = parse_ack(ack)
                    if ack_id in (job_id, ""):
                        if ok:
                            return message
                        raise BridgeError(f"the Ainur ReaScript failed: {message}", field=action)
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        finally:
            path.unlink(missing_ok=True)
        raise BridgeError(f"the Ainur ReaScript did not acknowledge within "
                          f"{self.script_timeout_s:g} s", field="--reaper-command",
                          value=self.command_id,
                          allowed="the command ID of scripts/ainur_import.lua in REAPER's "
                                  "Action List")

    # -- placing --------------------------------------------------------------------------
    @serialized
    def place(self, placement: Placement) -> PlaceResult:
        from daw_bridge.rpp import write_rpp

        files = tuple(str(s.path) for s in placement.stems)
        if not self.command_id or self.web is None:
            path = placement.render_dir / f"{placement.render_dir.name}.RPP"
            if not path.exists():  # the same render gives the same project: keep one there
                path = write_rpp(placement, path)
            return PlaceResult("reaper", False, "project-files", files=(str(path),) + files,
                               instructions=f"register scripts/ainur_import.lua and pass its "
                                            f"command ID (--reaper-command) to place stems "
                                            f"automatically; until then open {path} (or insert "
                                            f"the stems with 'move to source preferred "
                                            f"position': they carry BWF time references)")
        job_id = self._new_job_id()
        text = reaper_import_job(placement, job_id, track_prefix=self.prefix)
        message = self.run_job("import", [], text=text, job_id=job_id)
        names = tuple(f"{self.prefix}{s.part}" for s in placement.stems)
        want = f"{len(names)} tracks"
        if not message.startswith(want):
            raise BridgeError(f"the Ainur ReaScript placed something else than asked: "
                              f"{message}", field="import", allowed=want)
        return PlaceResult("reaper", True, "reascript", tracks=names, files=files,
                           details={"script": message,
                                    "positions_s": [float(placement.stem_position_s(s))
                                                    for s in placement.stems]})


def _by_beat(events) -> tuple[LyricEvent, ...]:
    return tuple(sorted(events, key=lambda e: e.beat))


def parse_export_notes(text: str) -> dict[tuple[int, int], list[list[int]]]:
    """The ``NOTE track chan start_qn end_qn pitch vel`` records of the script's export:
    ``(0-based track, channel) -> [[on tick, off tick, pitch, velocity], ...]`` at
    :data:`NOTE_PPQ` ticks per quarter note (bad records are skipped)."""
    played: dict[tuple[int, int], list[list[int]]] = {}
    for line in text.splitlines():
        t = line.split("\t")
        if t[0] != "NOTE" or len(t) < 7:
            continue
        try:
            track, chan, pitch, vel = int(t[1]), int(t[2]), int(t[5]), int(t[6])
            on = math.floor(float(t[3]) * NOTE_PPQ + 0.5)
            off = math.floor(float(t[4]) * NOTE_PPQ + 0.5)
        except ValueError:
            continue
        if track >= 0 and 0 <= chan <= 15 and 0 <= pitch <= 127 and off > on:
            played.setdefault((track, chan), []).append([on, off, pitch, max(1, min(127, vel))])
    return played


def parse_session_export(text: str, origin: str) -> SessionFacts:
    """Facts from the file the script's ``export`` job writes (see the Lua header):
    ``TEMPO s qn bpm num den linear``, ``MARKER s qn name``, ``REGION s qn end_s end_qn
    name``, ``LENGTH s qn``, ``TRACK name``, ``END``; positions are taken in quarter notes.

    :raises BridgeError: not a session file, a bad number, or no END (a cut-off file).
    """
    lines = [ln.split("\t") for ln in text.splitlines() if ln]
    if not lines or lines[0][:2] != ["AINUR_SESSION", "1"]:
        raise BridgeError("the Ainur ReaScript wrote an unreadable session file",
                          field="export", value=text[:40])
    if lines[-1][:1] != ["END"]:
        raise BridgeError("the Ainur ReaScript's session file is cut off (no END line)",
                          field="export")
    tempo, meters, markers, tracks = [], [], [], []
    length, ramps = None, 0
    try:
        for t in lines[1:-1]:
            if t[0] == "TEMPO" and len(t) >= 7:
                qn = as_fraction(float(t[2]))
                tempo.append(TempoPoint(qn, as_fraction(float(t[3]))))
                if int(t[4]) > 0 and int(t[5]) > 0:
                    meters.append(MeterPoint(qn, int(t[4]), int(t[5])))
                ramps += t[6] == "1"
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
    if any(p.tempo_bpm <= 0 for p in tempo):
        raise BridgeError("the Ainur ReaScript reported a tempo <= 0", field="export")
    notes = ()
    if ramps:
        notes = (f"{ramps} gradual tempo change(s) in REAPER are read as steps at their start",)
    return SessionFacts("reaper", origin, clean_tempo(tempo), clean_meters(meters),
                        tuple(sorted(markers, key=lambda m: m.beat)), (), length or None,
                        tuple(tracks), notes=notes)
