"""Renders of ``ainur serve`` in a separate, single-threaded process.

The server process runs threads (the OSC receive loop, the job worker, health checks). The
render pipeline forks worker processes of its own (e.g. the singing voice's phrase pool), and
forking a process that runs other threads can copy a lock another thread holds, leaving the
forked worker blocked for ever. So the server renders in a child process
(``python -m daw_bridge.render_process``: a fresh interpreter whose only thread renders):

* requests and replies are length-prefixed pickles on the child's stdin/stdout (the child
  moves its own ``sys.stdout`` to stderr, so stray prints cannot break the protocol);
* ``(stage, fraction)`` progress comes back as it happens; cancellation is SIGUSR1, which
  sets the flag the pipeline polls between stages (it stops with nothing written);
* the child imports the render stack once, at start, so later renders begin at once; it
  ignores SIGINT (a Ctrl-C in the terminal reaches the whole process group: the server
  cancels the render instead), takes SIGTERM as "cancel, then quit" (so a render stopped
  that way removes its staging folder too), and is restarted if it dies.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from ainur_cli.errors import AinurError, EngineError

log = logging.getLogger(__name__)


def _send(fd: int, msg: tuple) -> None:
    """One length-prefixed pickle, written whole to file descriptor ``fd``."""
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int) -> tuple | None:
    """The next message from ``fd`` (unbuffered, so ``select`` on it is exact), or None at
    the end of the stream."""
    head = _read_exact(fd, 4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    data = _read_exact(fd, size)
    return pickle.loads(data) if len(data) == size else None


def _portable(e: BaseException) -> BaseException:
    """An exception that survives pickling: AinurErrors keep their class and message."""
    if isinstance(e, AinurError):
        try:
            out = type(e)(e.format())
            pickle.dumps(out)
            return out
        except Exception:  # noqa: BLE001
            return AinurError(e.format())
    return EngineError(f"the render failed with an internal error ({type(e).__name__}: {e})")


_FORK_HOOKS = [False]


def _default_sigterm_in_forked_children() -> None:
    """Fork with SIGTERM blocked; the child sets it back to the default before unblocking.

    Python runs a signal's handler later, in the main thread, and clears signals that are
    still waiting when a forked child starts; a ``Pool.terminate()`` that reaches a worker
    in that window (a worker still starting when a short map is already done: seen on a
    loaded machine) was lost, and the pool waited for ever. Blocked, the signal waits in the
    kernel and kills the child as soon as it unblocks with the default in place.
    """
    if _FORK_HOOKS[0]:
        return
    _FORK_HOOKS[0] = True
    term = {signal.SIGTERM}

    def child() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, term)

    os.register_at_fork(before=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, term),
                        after_in_parent=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, term),
                        after_in_child=child)


class CancelFlag:
    """The render's cancel flag, safe to set from a signal handler.

    A :class:`threading.Event` is not: its ``set()`` takes a lock, and a signal that arrives
    while an earlier handler holds it runs the handler again inside that ``set()``, which then
    waits for ever for the lock its own thread holds. The server repeats SIGUSR1 at each
    round of its wait loop (at least every 50 ms) until the render stops, so each repeat
    nested one more blocked handler until the process died of a RecursionError (exit code
    -10; seen once in a CI run of ``test_cancel_a_queued_and_the_running_render``). Setting
    an attribute takes no lock."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set


def install_signal_handlers(cancelled: CancelFlag, busy: list) -> None:
    """The render process's signals: SIGINT ignored, SIGUSR1 = cancel, SIGTERM = cancel and
    quit (at once when idle, i.e. ``busy[0]`` is false). The handlers only set ``cancelled``
    (and ``busy``): they take no lock.

    Processes the pipeline forks (e.g. the singing voice's ``multiprocessing`` pool) inherit
    these handlers; in them SIGTERM must still kill, or ``Pool.terminate()`` would wait for
    ever for workers that no longer die. So a forked child gets the default SIGTERM back
    before it can receive one (:func:`_default_sigterm_in_forked_children`), and ``on_term``
    only ever runs in this process.
    """
    owner = os.getpid()
    _default_sigterm_in_forked_children()

    def on_term(signum: int, _frame: object) -> None:
        # Stop the render at its next stage (its staging folder is removed), then quit;
        # idle: quit at once.
        cancelled.set()
        if not busy[0]:
            raise SystemExit(0)
        busy.append("quit")

    def on_usr1(signum: int, _frame: object) -> None:
        if os.getpid() == owner:
            cancelled.set()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)


def child_main() -> None:
    """The render process: ``("render", spec, out_dir, kwargs)`` requests until ``quit``."""
    out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.fileno()
    cancelled = CancelFlag()
    send_lock = threading.Lock()
    busy = [False]
    install_signal_handlers(cancelled, busy)
    from ainur_cli import api
    import ainur_cli.render  # noqa: F401  (the numeric stack, once, before the first render)

    def send(msg: tuple) -> None:
        with send_lock:
            _send(out, msg)

    send(("ready",))
    while True:
        request = _recv(inp)
        if request is None or request[0] == "quit":
            return
        _, spec, out_dir, kwargs = request
        cancelled.clear()
        busy[0] = True
        try:
            result = api.render_song(
                spec, out_dir=out_dir, cancel=cancelled.is_set,
                progress=lambda stage, fraction: send(("progress", stage, float(fraction))),
                **kwargs)
            send(("done", result))
        except BaseException as e:  # noqa: BLE001 - everything goes back to the server
            send(("error", _portable(e)))
        finally:
            busy[0] = False
        if "quit" in busy:
            return


class RenderProcess:
    """``render(spec, out_dir, progress, cancel, **kwargs) -> RenderResult`` in the child;
    one render at a time (the job queue runs one job at a time)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._ready = False
        self._lock = threading.Lock()

    def start(self) -> "RenderProcess":
        """Start the child now (it imports the render stack while the server starts)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._ready = False  # until it says so, SIGUSR1 would kill it
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "daw_bridge.render_process"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True)
        return self

    def render(self, spec: Any, out_dir: Path, progress: Callable[[str, float], None],
               cancel: Callable[[], bool], **kwargs: Any):
        self.start()
        proc = self._proc
        try:
            _send(proc.stdin.fileno(), ("render", spec, Path(out_dir), kwargs))
            while True:
                if cancel() and self._ready and proc.poll() is None:
                    proc.send_signal(signal.SIGUSR1)  # again each round: it cannot be lost
                ready, _, _ = select.select([proc.stdout], [], [], 0.05)
                if not ready:
                    if proc.poll() is not None:
                        raise self._died(proc)
                    continue
                msg = _recv(proc.stdout.fileno())
                if msg is None:
                    raise self._died(proc)
                if msg[0] == "ready":
                    self._ready = True
                elif msg[0] == "progress":
                    progress(msg[1], msg[2])
                elif msg[0] == "done":
                    return msg[1]
                elif msg[0] == "error":
                    raise msg[1]
        except (OSError, ValueError, pickle.UnpicklingError):
            raise self._died(proc) from None

    @staticmethod
    def _died(proc: subprocess.Popen) -> EngineError:
        try:
            code = proc.wait(2)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        return EngineError(f"the render process stopped unexpectedly (exit code {code}); "
                           "nothing was placed", allowed="see the server's log; the next "
                           "render starts a new render process")

    def close(self, timeout_s: float = 1.0) -> None:
        """Ask the child to quit (cancelling what it renders); terminate it if it does not
        within ``timeout_s`` (the server closes it after its render worker stopped, so it is
        idle then, possibly still importing, and holds nothing half-written)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None and self._ready:
                proc.send_signal(signal.SIGUSR1)
            _send(proc.stdin.fileno(), ("quit",))
            proc.stdin.close()
        except (OSError, ValueError):
            pass
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in (proc.stdout,):
            try:
                f.close()
            except OSError:
                pass


if __name__ == "__main__":
    child_main()
