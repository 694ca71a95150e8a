"""``ainur serve``: the OSC server of the DAW bridge.

One UDP socket (127.0.0.1 by default), one receive thread that only decodes, checks and
queues, one render worker (:class:`daw_bridge.jobs.JobQueue`) and one side thread for DAW
health checks. Every reply goes from the server's port to the sender's address (or the
sender's host at ``reply_port``). The address space is :data:`ROUTES`; the README's table
lists the same addresses.

It survives any packet: datagrams over :data:`MAX_PACKET_BYTES`, bytes that are not OSC,
bundles nested deep, unknown addresses and wrong argument types or counts are answered with
``/ainur/error <message> 0`` through a token bucket (:data:`ERROR_REPLIES_PER_S`), so a
flood never makes the server flood back; nothing a packet holds can raise out of the loop.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ainur_cli import __version__
from ainur_cli.errors import AinurError, BridgeError

from daw_bridge.adapter import DawAdapter
from daw_bridge.jobs import Job, JobQueue, JobResult, describe_error
from daw_bridge.oscio import encode, try_decode
from daw_bridge import request_args as checks
from daw_bridge.paths import confine

log = logging.getLogger(__name__)

DEFAULT_PORT = 9321
MAX_PACKET_BYTES = 8192          # requests are short; larger datagrams are refused unread
ERROR_REPLIES_PER_S = 20.0       # /ainur/error replies to bad packets (all senders together)
ERROR_BURST = 20
ANSWERS_PER_S = 2000.0           # ping/status/presets/health answers (a reply can be larger
ANSWER_BURST = 500               # than its request: no amplifier for spoofed floods)
PROGRESS_INTERVAL_S = 0.05       # at most 20 /ainur/progress a second within one stage
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Route:
    """One address: ``args`` and ``reply`` as documented (``s:`` string, ``i:`` int,
    ``[...]`` optional), and the name of the :class:`BridgeServer` method handling it."""

    address: str
    args: str
    reply: str
    handler: str


ROUTES = (
    Route("/ainur/ping", "[any:token]", "/ainur/pong s:version [token]", "_ping"),
    Route("/ainur/status", "", "/ainur/status s:state i:running_job s:stage f:fraction "
          "i:queued i:job...", "_status"),
    Route("/ainur/health", "", "/ainur/health i:ok s:daw s:message", "_health"),
    Route("/ainur/presets", "", "/ainur/presets s:name...", "_presets"),
    Route("/ainur/render", "s:spec [s:preset] [i:seed]", "/ainur/queued i:job s:what", "_render"),
    Route("/ainur/render_session", "[s:preset] [i:seed] [s:title]", "/ainur/queued i:job s:what",
          "_render_session"),
    Route("/ainur/render_section", "s:spec s|i:section [i:seed]", "/ainur/queued i:job s:what",
          "_render_section"),
    Route("/ainur/place", "s:render_dir", "/ainur/queued i:job s:what", "_place"),
    Route("/ainur/cancel", "[i:job | s:all]", "/ainur/cancelled i:job, or /ainur/cancelling "
          "i:job for a running job", "_cancel"),
)
ROUTE_BY_ADDRESS = {r.address: r for r in ROUTES}


class TokenBucket:
    """``allow()`` is True at most ``rate_per_s`` times a second on average (``burst`` at
    once); ``dropped`` counts the refusals."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate, self.burst = float(rate_per_s), float(burst)
        self.tokens, self.last = float(burst), time.monotonic()
        self.dropped = 0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            self.dropped += 1
            return False


class BridgeServer:
    """The OSC server. ``start()`` runs it on background threads (tests, benchmark);
    ``serve_forever()`` runs the receive loop in the calling thread until :meth:`request_stop`
    (the CLI, whose signal handlers call it). :meth:`stop` cancels the running render (nothing
    half-written is left) and closes everything.

    :param root: the folder every request path must stay inside.
    :param run_job: ``run(job, progress) -> JobResult``
        (a :class:`~daw_bridge.job_runner.JobRunner`).
    :param reply_port: send replies to the sender's host at this port instead of its port.
    """

    def __init__(self, root: Path | str, adapter: DawAdapter,
                 run_job: Callable[[Job, Callable[[str, float], None]], JobResult], *,
                 host: str = "127.0.0.1", port: int = DEFAULT_PORT, reply_port: int | None = None,
                 presets_dirs: Sequence[Path] = (), allow_remote: bool = False,
                 max_queued: int = 16) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise BridgeError("the served folder does not exist", field="--root",
                              value=str(root), allowed="an existing folder")
        if host not in LOCAL_HOSTS and not allow_remote:
            raise BridgeError("binding to a non-local address needs --allow-remote", field="--host",
                              value=host, allowed="127.0.0.1 (default), or --allow-remote")
        self.adapter = adapter
        self.presets_dirs = tuple(presets_dirs)
        self.reply_port = reply_port
        self.errors = TokenBucket(ERROR_REPLIES_PER_S, ERROR_BURST)
        self.answers = TokenBucket(ANSWERS_PER_S, ANSWER_BURST)
        self._run_job = run_job
        self.jobs = JobQueue(run_job, self, max_queued=max_queued)
        self.stats = {"packets": 0, "bad_packets": 0, "requests": 0}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._health_busy = threading.Lock()
        self._presets_cache: tuple[float, list[str]] = (0.0, [])
        self._last_progress: dict[int, tuple[str, float]] = {}
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.sock.bind(("127.0.0.1" if host == "localhost" else host, int(port)))
        except (OSError, OverflowError) as e:
            self.sock.close()
            raise BridgeError(f"cannot listen on udp://{host}:{port}: "
                              f"{getattr(e, 'strerror', None) or e}", field="--port", value=port,
                              allowed="a free UDP port 1024..65535 "
                                      "(is another ainur serve running?)") from None
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()[:2]

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> "BridgeServer":
        """Start the worker and the receive loop on background threads."""
        self._start_runner()
        self.jobs.start()
        t = threading.Thread(target=self._loop, name="ainur-osc", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def serve_forever(self, stop_timeout_s: float = 60.0) -> bool:
        """The receive loop in this thread, until :meth:`request_stop`; then :meth:`stop`.
        Returns whether the render worker stopped within ``stop_timeout_s``."""
        self._start_runner()
        self.jobs.start()
        try:
            self._loop()
        finally:
            stopped = self.stop(stop_timeout_s)
        return stopped

    def request_stop(self) -> None:
        """Ask the receive loop to end (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop receiving, cancel queued and running jobs, wait; True when the worker stopped."""
        self._stop.set()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(5.0)
        stopped = self.jobs.stop(timeout_s)
        try:
            self.sock.close()
            close = getattr(self._run_job, "close", None)
            if close is not None:
                close()
        finally:
            self.adapter.close()
        return stopped

    def _start_runner(self) -> None:
        start = getattr(self._run_job, "start", None)
        if start is not None:
            start()

    def __enter__(self) -> "BridgeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- receiving ------------------------------------------------------------------------
    def _loop(self) -> None:
        log.info("listening on udp://%s:%d, root %s, DAW %s", *self.address, self.root,
                 self.adapter.name)
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                continue  # e.g. a port-unreachable report for an earlier reply
            try:
                self.handle_packet(data, sender[:2])
            except Exception:  # noqa: BLE001 - a bug in a handler must not end the loop
                log.exception("internal error handling a packet from %s:%d", *sender[:2])

    def handle_packet(self, data: bytes, sender: tuple[str, int]) -> None:
        """Decode one datagram and answer every message in it."""
        self.stats["packets"] += 1
        if len(data) > MAX_PACKET_BYTES:
            return self._bad(sender, f"packet of {len(data)} bytes is too large "
                                     f"(allowed: at most {MAX_PACKET_BYTES} bytes)")
        messages, problem = try_decode(data, sender)
        if problem is not None:
            return self._bad(sender, f"not a valid OSC packet: {problem}")
        for m in messages:
            route = ROUTE_BY_ADDRESS.get(m.address)
            if route is None:
                self._bad(sender, f"unknown address {m.address[:60]!r} (allowed: "
                                  f"{', '.join(r.address for r in ROUTES)})")
                continue
            self.stats["requests"] += 1
            log.info("%s:%d %s %s", sender[0], sender[1], m.address,
                     " ".join(repr(a) for a in m.args)[:200])
            try:
                getattr(self, route.handler)(route, m.args, sender)
            except AinurError as e:
                self._bad(sender, e.format())

    # -- replies --------------------------------------------------------------------------
    def reply_target(self, sender: tuple[str, int]) -> tuple[str, int]:
        return (sender[0], self.reply_port) if self.reply_port else sender

    def send(self, target: tuple[str, int], address: str, *args: Any) -> None:
        try:
            self.sock.sendto(encode(address, *args), target)
        except OSError as e:
            log.debug("cannot reply to %s:%d: %s", *target, e)
        except Exception:  # noqa: BLE001 - e.g. a file name that is not UTF-8
            log.exception("cannot encode the reply %s to %s:%d", address, *target)

    def answer(self, sender: tuple[str, int], address: str, *args: Any) -> None:
        """A reply to a query (not about a job), rate-limited; dropped beyond the limit."""
        if self.answers.allow():
            self.send(self.reply_target(sender), address, *args)

    def _bad(self, sender: tuple[str, int], message: str) -> None:
        """A request error: ``/ainur/error message 0``, rate-limited."""
        self.stats["bad_packets"] += 1
        log.debug("%s:%d bad request: %s", sender[0], sender[1], message)
        if self.errors.allow():
            self.send(self.reply_target(sender), "/ainur/error", message[:1000], 0)

    # -- job events (JobEvents) -----------------------------------------------------------
    def started(self, job: Job) -> None:
        self.send(job.reply_to, "/ainur/progress", job.id, 0.0, "started")

    def progress(self, job: Job, stage: str, fraction: float) -> None:
        """Every new stage, and within a stage at most one update per
        :data:`PROGRESS_INTERVAL_S` (a stage's last update may be skipped)."""
        now = time.monotonic()
        last_stage, last_s = self._last_progress.get(job.id, ("", 0.0))
        if stage == last_stage and now - last_s < PROGRESS_INTERVAL_S:
            return
        self._last_progress[job.id] = (stage, now)
        self.send(job.reply_to, "/ainur/progress", job.id, float(fraction), stage)

    def done(self, job: Job, result: JobResult) -> None:
        self._last_progress.pop(job.id, None)
        p = result.place
        self.send(job.reply_to, "/ainur/done", job.id, str(result.out_dir),
                  p.method if p else "", int(bool(p and p.placed)), int(result.start_sample),
                  (p.instructions if p else "")[:1000])

    def failed(self, job: Job, error: BaseException) -> None:
        self._last_progress.pop(job.id, None)
        self.send(job.reply_to, "/ainur/error", describe_error(error)[:1000], job.id)

    def cancelled(self, job: Job) -> None:
        self._last_progress.pop(job.id, None)
        self.send(job.reply_to, "/ainur/cancelled", job.id)

    # -- handlers (one per route; ``args`` are the decoded OSC arguments) -----------------
    def _ping(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 1)
        echo = [a for a in args if isinstance(a, (int, float, str)) and not isinstance(a, bool)]
        self.answer(sender, "/ainur/pong", __version__, *echo[:1])

    def _status(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 0)
        running, queued = self.jobs.snapshot()
        state = "busy" if running is not None else "idle"
        self.answer(sender, "/ainur/status", state, running.id if running else 0,
                    running.stage if running else "",
                    float(running.fraction) if running else 0.0, len(queued),
                    *[j.id for j in queued])

    def _health(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 0)
        if not self._health_busy.acquire(blocking=False):
            raise BridgeError("a DAW health check is already running; ask again in a moment")
        target = self.reply_target(sender)

        def check() -> None:
            try:
                h = self.adapter.health()
                self.send(target, "/ainur/health", int(h.ok), self.adapter.name, h.message[:1000])
            except Exception as e:  # noqa: BLE001 - an adapter bug is reported, not raised
                self.send(target, "/ainur/health", 0, self.adapter.name, describe_error(e)[:1000])
            finally:
                self._health_busy.release()

        threading.Thread(target=check, name="ainur-health", daemon=True).start()

    def _presets(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 0)
        stamp, names = self._presets_cache
        if time.monotonic() - stamp > 5.0:
            from ainur_cli.presets import list_presets

            names = list(list_presets(self.presets_dirs))[:200]
            self._presets_cache = (time.monotonic(), names)
        self.answer(sender, "/ainur/presets", *names)

    def _queue(self, sender, kind: str, args: dict) -> None:
        target = self.reply_target(sender)
        self.jobs.submit(kind, args, target, announce=lambda job: self.send(
            target, "/ainur/queued", job.id, job.describe()[:500]))

    def _render(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 1, 3)
        text = checks.text(route, args, 0, "spec", required=True)
        spec = self._existing(text, "spec path", file=True)
        self._queue(sender, "render", {"spec": spec, "spec_text": text,
                                       "preset": checks.preset(route, args, 1),
                                       "seed": checks.seed(route, args, 2)})

    def _render_session(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 3)
        title = checks.text(route, args, 2, "title")
        self._queue(sender, "session", {"preset": checks.preset(route, args, 0),
                                        "seed": checks.seed(route, args, 1),
                                        "title": title[:200] if title else None})

    def _render_section(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 2, 3)
        text = checks.text(route, args, 0, "spec", required=True)
        spec = self._existing(text, "spec path", file=True)
        section = args[1]
        if isinstance(section, bool) or not isinstance(section, (int, str)) or section == "":
            raise BridgeError(f"{route.address}: the section is a name or a 1-based number",
                              field="section", value=section, allowed=route.args)
        if isinstance(section, str):
            section = section[:200]
        self._queue(sender, "section", {"spec": spec, "spec_text": text, "section": section,
                                        "seed": checks.seed(route, args, 2)})

    def _place(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 1, 1)
        text = checks.text(route, args, 0, "render_dir", required=True)
        folder = self._existing(text, "render folder", file=False)
        if not (folder / "manifest.json").is_file():
            raise BridgeError("not a finished render (no manifest.json)", field="render_dir",
                              value=text, allowed="a folder written by ainur render / serve")
        self._queue(sender, "place", {"render": folder, "render_text": text})

    def _cancel(self, route: Route, args: tuple, sender) -> None:
        checks.arity(route, args, 0, 1)
        target = self.reply_target(sender)
        which = args[0] if args else None
        if which == "all":
            jobs = self.jobs.cancel_all()
        elif which is None or (isinstance(which, int) and not isinstance(which, bool)):
            jobs = self.jobs.cancel(which)
        else:
            raise BridgeError(f"{route.address}: which job?", field="job", value=which,
                              allowed="a job number, 'all', or nothing for the running job")
        if not jobs:
            running, queued = self.jobs.snapshot()
            ids = ", ".join(str(j.id) for j in ([running] if running else []) + queued) or "none"
            raise BridgeError("no such job to cancel", field="job", value=which,
                              allowed=f"a running or queued job (now: {ids})")
        for j in jobs:
            if j.state == "running":
                self.send(target, "/ainur/cancelling", j.id)
            elif j.reply_to != target:
                self.send(target, "/ainur/cancelled", j.id)

    def _existing(self, text: str, what: str, *, file: bool) -> Path:
        path = confine(self.root, text, what=what)
        ok = path.is_file() if file else path.is_dir()
        if not ok:
            raise BridgeError(f"no such {'file' if file else 'folder'} in the served folder",
                              field=what, value=text,
                              allowed=f"a {'file' if file else 'folder'} inside {self.root}")
        return path
