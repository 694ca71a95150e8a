"""Ardour through its OSC surface (UDP 3819), its session file and ``ardour7-lua``.

* **OSC** (Edit > Preferences > Control Surfaces > Open Sound Control, port 3819). Ainur
  first sends ``/set_surface/port 0`` (answer this host on the port requests come from, not
  the "Manual" default 8000). Ardour answers ``/transport_frame`` with ``/transport_frame h``
  (the playhead in samples; the health check) and, once Ainur registers as a surface with
  ``/set_surface 0 31 <feedback> 0 0 0 0``, sends feedback: ``/position/samples s`` and
  ``/marker s`` (the marker at the playhead) as the playhead moves, and ``/reply`` lines for
  ``/strip/list`` (type, name, ins, outs, mute, solo, ssid…, then ``end_route_list``, the sample
  rate and the session end). ``/locate ii`` (sample, roll) moves the playhead, ``/marker i``
  locates to the i-th marker (1-based, by position), ``/add_marker s`` adds a named marker
  at the playhead. OSC has no marker list and no tempo map: markers are read by locating to
  each in turn and reading the feedback.
* **The session file** (``<session>/<snapshot>.ardour``, option ``session``, else the newest
  entry of Ardour's ``recent`` list) gives the tempo map, meters and the marker names as last
  saved (:mod:`daw_bridge.ardour_session`), and the notes of its vocal MIDI track (option
  ``vocal_track``, else the first MIDI track named like a vocal), which the voice sings, and
  of its harmony track (option ``harmony_track``, else the first other MIDI track named like
  a harmony), which a harmony voice sings with the lead's words.
* **Placing**: with the session open, section markers go in over OSC and the user imports the
  files (there is no import over OSC); with the session closed, :mod:`daw_bridge.ardour_import`
  adds the stems to the session file and has Ardour (``ardour7-lua``) put them on tracks.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from ainur_cli.errors import BridgeError

from daw_bridge.adapter import DawAdapter, Health, PlaceResult
from daw_bridge.ardour_import import import_into_session
from daw_bridge.ardour_session import (
    ArdourSession,
    find_session_file,
    read_session_file,
    session_sample,
)
from daw_bridge.facts import Marker, SessionFacts
from daw_bridge.oscio import OscPeer
from daw_bridge.placement import Placement
from daw_bridge.project_vocal import with_project_vocal

log = logging.getLogger(__name__)

OSC_PORT = 3819
STRIP_TYPES = 1 | 2 | 4 | 8 | 16                 # audio/MIDI tracks and buses, VCAs
FEEDBACK = 16 | 32 | 1024 | 16384                 # global, BBT + samples, "/reply" replies
SENTINEL_SAMPLE = 2**31 - 2                        # a playhead position no marker uses
PLACE_MODES = ("auto", "osc", "offline")
_UNNAMED_LABELS = ("start", "end", "No Marks")
ENABLE_OSC = ("in Ardour: Edit > Preferences > Control Surfaces, enable 'Open Sound Control "
              "(OSC)' (it listens on UDP 3819)")


class ArdourAdapter(DawAdapter):
    """Talks to Ardour's OSC surface at ``host:port``; reads/edits the ``session`` file.

    :param session: the ``.ardour`` file or session folder (default: Ardour's most recent).
    :param place_mode: ``auto`` (OSC markers when Ardour answers, else import into the
        closed session), ``osc`` or ``offline``.
    :param lua_command: the ``ardour7-lua`` program (default: found on ``PATH``).
    :param vocal_track: the MIDI track whose notes the vocal sings (default: the first MIDI
        track named like a vocal: "Vocal", "Lead Vox", "Melody"...).
    :param harmony_track: the MIDI track of a written harmony (default: the first other MIDI
        track named like one: "Harmony", "BGV", "Backing Vox"...).
    """

    name = "ardour"

    def __init__(self, host: str = "127.0.0.1", port: int = OSC_PORT, reply_port: int = 0,
                 session: str | Path | None = None, timeout_s: float = 1.0,
                 place_mode: str = "auto", lua_command: str | None = None,
                 track_prefix: str = "Ainur ", lua_timeout_s: float = 120.0,
                 end_wait_s: float = 0.5, vocal_track: str | None = None,
                 harmony_track: str | None = None) -> None:
        if place_mode not in PLACE_MODES:
            raise BridgeError("unknown Ardour place mode", field="place_mode", value=place_mode,
                              allowed=", ".join(PLACE_MODES))
        self.peer = OscPeer(host, port, reply_port, daw="Ardour (OSC)")
        self.origin = f"udp://{host}:{port}"
        self.session_path = Path(session).expanduser() if session else None
        self.timeout_s, self.place_mode = float(timeout_s), place_mode
        self.lua_command, self.prefix = lua_command, track_prefix
        self.lua_timeout_s = float(lua_timeout_s)
        self.end_wait_s = float(end_wait_s)   # no move after /marker i within it: no marker i
        self.vocal_track = vocal_track or None
        self.harmony_track = harmony_track or None
        self._surface = False
        self._reply_to_sender = False

    def close(self) -> None:
        if self._surface:  # stop the feedback to this socket before it goes away
            try:
                self.peer.send("/set_surface/feedback", 0)
            except BridgeError:
                pass
            self._surface = False
        self.peer.close()

    # -- OSC ------------------------------------------------------------------------------
    def _frame(self, timeout_s: float | None = None) -> int | None:
        """The playhead in samples (``/transport_frame``), or None when nothing answers."""
        if not self._reply_to_sender:
            # Ardour's default port mode ("Manual", replies to port 8000): have it answer the
            # port this request comes from instead (port 0 = "Auto" for this host).
            self.peer.send("/set_surface/port", 0)
        self.peer.take(["/transport_frame"])
        self.peer.send("/transport_frame")
        reply = self.peer.wait(lambda m: m.address == "/transport_frame",
                               self.timeout_s if timeout_s is None else timeout_s)
        if reply is None or not reply.args or not isinstance(reply.args[0], int):
            # Silent (not running, or restarted and so without our settings): set up again.
            self._reply_to_sender = self._surface = False
            return None
        self._reply_to_sender = True
        return int(reply.args[0])

    def health(self) -> Health:
        try:
            frame = self._frame()
        except BridgeError as e:  # e.g. a host name that does not resolve
            return Health(False, e.message)
        if frame is None:
            return Health(False, f"Ardour does not answer OSC at {self.origin} (waited "
                                 f"{self.timeout_s:g} s) — {ENABLE_OSC}")
        return Health(True, f"Ardour's OSC surface answered at {self.origin} "
                            f"(playhead at sample {frame})")

    def _register(self, renew: bool = False) -> None:
        """Become a feedback surface (replies to this socket's port). ``renew``: register
        again, which makes Ardour rebuild its marker list for the ``/marker`` feedback (it is
        otherwise refreshed only every ~2 s while the playhead stands still)."""
        if renew or not self._surface:
            self.peer.send("/set_surface", 0, STRIP_TYPES, FEEDBACK, 0, 0, 0, 0)
            self.peer.collect(0.2)
            self._surface = True

    def _locate(self, sample: int) -> bool:
        """Move the playhead and wait until Ardour reports it there."""
        self.peer.send("/locate", int(sample), 0)
        until = time.monotonic() + self.timeout_s
        while time.monotonic() < until:
            if self._frame(0.2) == sample:
                return True
            time.sleep(0.01)
        return False

    def _wait_position(self, timeout_s: float, *, want: int | None = None,
                       not_at: int | None = None) -> int | None:
        """The next ``/position/samples`` feedback that is ``want`` (or any but ``not_at``)."""
        until = time.monotonic() + timeout_s
        while True:
            m = self.peer.wait(lambda m: m.address == "/position/samples",
                               max(until - time.monotonic(), 0))
            if m is None:
                return None
            try:
                pos = int(str(m.args[0]).strip())
            except (ValueError, IndexError):
                continue
            if (want is None or pos == want) and pos != not_at:
                return pos

    def osc_markers(self, expected: int = 0, max_markers: int = 1000) -> list[tuple[int, str | None]]:
        """``(sample, label)`` of every marker, by locating to each (``/marker i``) and reading
        the feedback; ``label`` is None where Ardour's feedback does not name it (a marker on
        the session start or end). The playhead is put back where it was.

        Ardour does not answer ``/marker i`` when there is no marker i, so the walk ends when
        the playhead does not move: within ``timeout_s`` for the first ``expected`` markers
        (the saved file's count), else within ``end_wait_s`` or three times the slowest
        locate-and-feedback seen in this walk, whichever is longer.

        :raises BridgeError: when Ardour does not answer or does not move the playhead.
        """
        start = self._frame()
        if start is None:
            raise BridgeError(f"Ardour does not answer OSC at {self.origin}", allowed=ENABLE_OSC)
        self._register(renew=True)
        out: list[tuple[int, str | None]] = []
        slowest = 0.0
        try:
            for i in range(1, max_markers + 1):
                self.peer.take(["/position/samples", "/marker"])
                moved = time.monotonic()
                if not self._locate(SENTINEL_SAMPLE):
                    raise BridgeError(f"Ardour at {self.origin} does not move its playhead "
                                      f"(/locate)", field="/locate")
                if self._wait_position(max(self.timeout_s, 1.0), want=SENTINEL_SAMPLE) is None:
                    raise BridgeError(f"Ardour at {self.origin} sends no position feedback "
                                      "(/set_surface feedback)", field="/set_surface")
                slowest = max(slowest, time.monotonic() - moved)  # locate + feedback, now
                # The label at the sentinel follows its position (unless it did not change):
                # let it arrive so that it is not taken for the next marker's name.
                self.peer.wait(lambda m: m.address == "/marker", 0.3)
                self.peer.take(["/marker"])
                self.peer.send("/marker", i)
                sent = time.monotonic()
                wait = max(self.timeout_s, 1.0) if i <= expected else max(self.end_wait_s,
                                                                           3 * slowest)
                pos = self._wait_position(wait, not_at=SENTINEL_SAMPLE)
                if pos is None:
                    break  # no marker i: Ardour stays put
                slowest = max(slowest, time.monotonic() - sent)
                label = self.peer.wait(lambda m: m.address == "/marker", 0.5)
                text = str(label.args[0]) if label is not None and label.args else ""
                named = text and text not in _UNNAMED_LABELS and " <-" not in text \
                    and not text.startswith("-> ")
                out.append((pos, text if named else None))
        finally:
            self._locate(start)
        return out

    def osc_tracks(self) -> tuple[tuple[str, ...], int | None, int | None]:
        """``(track names, sample rate, session end sample)`` from ``/strip/list``."""
        self._register()
        self.peer.take(["/reply"])
        self.peer.send("/strip/list")
        names: list[str] = []
        until = time.monotonic() + self.timeout_s
        while True:
            m = self.peer.wait(lambda m: m.address == "/reply", max(until - time.monotonic(), 0))
            if m is None:
                raise BridgeError(f"Ardour at {self.origin} did not finish /strip/list",
                                  field="/strip/list")
            if m.args[:1] == ("end_route_list",):
                rate = m.args[1] if len(m.args) > 1 and isinstance(m.args[1], int) else None
                end = m.args[2] if len(m.args) > 2 and isinstance(m.args[2], int) else None
                return tuple(names), rate, end
            if len(m.args) >= 2 and m.args[0] in ("AT", "MT", "B", "MB", "FB"):
                names.append(str(m.args[1]))

    # -- the session file -------------------------------------------------------------------
    def session_file(self) -> Path | None:
        """The ``.ardour`` file: the ``session`` option, else the newest ``recent`` entry."""
        if self.session_path is not None:
            return find_session_file(self.session_path)
        return recent_session()

    def read_session(self) -> SessionFacts:
        file = self.session_file()
        live = self._frame() is not None
        if file is None:
            raise BridgeError("Ardour's OSC does not report the tempo map, and no session file "
                              "is known", field="session",
                              allowed="the path of the .ardour file (or session folder)"
                              + ("" if live else f"; and {ENABLE_OSC}"))
        saved = read_session_file(file)
        notes = list(saved.facts().notes)
        if not live:
            notes.append(f"Ardour does not answer OSC at {self.origin}: the session is read as "
                         f"last saved in {file}")
            return with_project_vocal(replace(saved.facts(str(file)), notes=tuple(notes)),
                                      saved, self.vocal_track, harmony_track=self.harmony_track)
        names, rate, end = self.osc_tracks()
        if rate is not None and rate != saved.sample_rate:
            raise BridgeError("the session open in Ardour is not the session file",
                              file=str(file), field="sample-rate", value=rate,
                              allowed=f"the file's {saved.sample_rate} Hz: give the open "
                                      "session's .ardour file (option session)")
        if set(names) != set(saved.tracks):
            notes.append(f"Ardour's tracks ({', '.join(names) or 'none'}) are not the saved "
                         f"file's ({', '.join(saved.tracks) or 'none'}): save the session, or "
                         f"check that {file} is the session open in Ardour")
        live_markers = self.osc_markers(expected=sum(m.is_mark for m in saved.locations))
        markers = tuple(sorted(
            [Marker(saved.sample_to_beat(sample), name)
             for sample, name in self._merge_markers(saved, live_markers, notes)]
            + [m for m in saved.facts().markers if m.end_beat is not None],  # ranges: file only
            key=lambda m: m.beat))
        facts = saved.facts(self.origin)
        length = saved.sample_to_beat(end) if end else facts.length_beats
        return with_project_vocal(replace(facts, markers=markers, track_names=names,
                                          length_beats=length, notes=tuple(notes)), saved,
                                  self.vocal_track, live=True, harmony_track=self.harmony_track)

    @staticmethod
    def _merge_markers(saved: ArdourSession | None, live: list[tuple[int, str | None]],
                       notes: list[str]) -> list[tuple[int, str]]:
        """``(sample, name)``: live positions; names from the feedback, else from the saved
        file at that sample, else ``Marker n`` (with a note)."""
        by_sample: dict[int, list[str]] = {}
        for m in (saved.markers if saved is not None else ()):
            by_sample.setdefault(m.start_sample, []).append(m.name)
        others = {(m.start_sample, m.name) for m in (saved.locations if saved is not None else ())
                  if m.is_mark and not m.is_section_mark}   # cue and xrun markers
        other_samples = {s for s, _ in others} - set(by_sample)
        out = []
        for n, (sample, label) in enumerate(live):
            if (sample, label) in others or (label is None and sample in other_samples):
                continue
            if label is None:
                names = by_sample.get(sample)
                if names:
                    label = names.pop(0)
                else:
                    label = f"Marker {n + 1}"
                    notes.append(f"marker {n + 1} (sample {sample}) sits on the session start or "
                                 f"end, where Ardour's OSC does not name it: called {label!r}")
            out.append((sample, label))
        if saved is not None and len(out) != len(saved.markers):
            notes.append(f"Ardour has {len(out)} markers, the saved session file "
                         f"{len(saved.markers)} (save the session to keep them)")
        return out

    # -- placing ----------------------------------------------------------------------------
    def place(self, placement: Placement) -> PlaceResult:
        if self.place_mode == "offline":
            if self._frame(0.3) is not None:
                raise BridgeError("Ardour is running with a session open: an import into the "
                                  "session file would be overwritten when Ardour saves",
                                  field="place_mode", value="offline",
                                  allowed="close the session in Ardour first, or place_mode auto")
            return self._place_offline(placement)
        if self._frame() is not None:
            return self._place_live(placement)
        if self.place_mode == "osc":
            raise BridgeError(f"Ardour does not answer OSC at {self.origin}", field="place_mode",
                              value="osc", allowed=ENABLE_OSC)
        return self._place_offline(placement)

    def _place_offline(self, p: Placement) -> PlaceResult:
        file = self.session_file()
        if file is None:
            raise BridgeError("no Ardour session file to import into", field="session",
                              allowed="the path of the .ardour file (or session folder)")
        return import_into_session(p, file, lua_command=self.lua_command,
                                   track_prefix=self.prefix, timeout_s=self.lua_timeout_s)

    def _live_markers(self, saved: ArdourSession | None, added: int = 0) -> set[tuple[int, str]]:
        count = (sum(m.is_mark for m in saved.locations) if saved is not None else 0) + added
        return set(self._merge_markers(saved, self.osc_markers(expected=count), []))

    def _place_live(self, p: Placement) -> PlaceResult:
        file = self.session_file()
        saved = read_session_file(file) if file else None
        _, osc_rate, _ = self.osc_tracks()
        rate = osc_rate or (saved.sample_rate if saved else p.sample_rate)
        existing = self._live_markers(saved)
        added = []
        for s in p.sections:
            sample = session_sample(p.section_position_s(s), rate)
            if (sample, s.name) in existing:
                continue
            if not self._locate(sample):
                raise BridgeError(f"Ardour at {self.origin} does not move its playhead to "
                                  f"sample {sample}", field="/locate")
            self.peer.send("/add_marker", s.name)
            added.append((s.name, sample))
        if added:
            now = self._live_markers(saved, len(added))
            missing = [(n, s) for n, s in added if (s, n) not in now]
            if missing:
                raise BridgeError("Ardour did not add the section markers sent with /add_marker",
                                  field="/add_marker", value=missing)
        song_start = session_sample(p.start_s, rate)
        self._locate(song_start)
        lines = [f"{f.path} at sample {session_sample(p.stem_position_s(f), rate)}"
                 for f in p.stems]
        return PlaceResult(
            "ardour", False, "markers+files", files=tuple(str(f.path) for f in p.stems),
            instructions=(f"{len(added)} section markers added and the playhead is at the song "
                          f"start (sample {song_start}); Ardour's OSC cannot import audio: "
                          "Session > Import (Ctrl+I), select the stems, 'Add files: as new "
                          "tracks', 'Insert at: playhead', 'one track per file' (the files' "
                          "Broadcast-WAV time stamps are song positions, so 'Insert at: file "
                          "timestamp' is right only for a song at the session start) — or close "
                          "the session and place again, then Ainur imports them with "
                          "ardour7-lua. Files: " + "; ".join(lines)),
            details={"markers_added": added, "song_start_sample": song_start,
                     "sample_rate": rate})


def recent_session(config_home: str | Path | None = None) -> Path | None:
    """The newest session in Ardour's ``recent`` list (``$XDG_CONFIG_HOME/ardourN/recent``:
    name and folder lines), or None."""
    base = Path(config_home or os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for version in ("ardour8", "ardour7"):
        recent = base / version / "recent"
        try:
            lines = [ln.strip() for ln in recent.read_text(encoding="utf-8").splitlines()]
        except OSError:
            continue
        if len(lines) >= 2 and lines[1]:
            try:
                return find_session_file(lines[1])
            except BridgeError:
                continue
    return None
