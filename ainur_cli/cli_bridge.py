"""``ainur serve``: run the OSC bridge (see README "DAW bridge: ainur serve").

The command parses options, builds the adapter, the job runner and the server, installs
SIGINT/SIGTERM handlers that stop the receive loop, and on the way out cancels the running
render (nothing half-written is left). Heavy modules load only when the command runs.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import click

from ainur_cli.daw_flags import adapter_options, daw_specific_options

log = logging.getLogger("ainur_cli.serve")


@click.command("serve")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True,
              help="Session/output folder: every path in a request must stay inside it.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--allow-remote", is_flag=True,
              help="Allow --host to be a non-local interface (anyone who can reach it can render).")
@click.option("--port", type=click.IntRange(1, 65535), default=9321, show_default=True,
              help="UDP port to listen on.")
@click.option("--reply-port", type=click.IntRange(1, 65535),
              help="Send replies to the sender's host at this port (default: the sender's port).")
@click.option("--daw", type=click.Choice(["ableton", "reaper", "ardour", "none"]),
              default="none", show_default=True,
              help="DAW to read sessions from and place stems into (none: write .RPP/.dawproject).")
@click.option("--preset", "default_preset", default="pop", show_default=True,
              help="Preset for /ainur/render_session when the request names none.")
@click.option("--presets-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra folder of presets (searched first; repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="CPU cores per render: stem processes, export threads (same output for any "
                   "value).")
@click.option("--max-queued", type=click.IntRange(1, 1000), default=16, show_default=True,
              help="Waiting renders beyond this are refused.")
@click.option("--daw-host", help="The DAW's host (default 127.0.0.1).")
@click.option("--daw-port", type=click.IntRange(1, 65535),
              help="The DAW's port: REAPER's web interface, AbletonOSC's or Ardour's OSC port.")
@click.option("--daw-timeout-s", type=click.FloatRange(0.05, 60.0),
              help="Per-request DAW timeout in seconds.")
@daw_specific_options
def serve_command(root: Path, host: str, allow_remote: bool, port: int, reply_port: int | None,
                  daw: str, default_preset: str, presets_dir, jobs: int, max_queued: int,
                  daw_host: str | None, daw_port: int | None, daw_timeout_s: float | None,
                  **specific) -> None:
    """OSC server for DAWs: render songs, sections and the DAW session, place the stems.

    Requests arrive on the /ainur/ OSC addresses (render, render_section, render_session,
    place, cancel, status, presets, health, ping; see README). Every path stays inside
    --root. Stop with Ctrl-C or SIGTERM: the running render is cancelled, nothing is left
    half-written."""
    from ainur_cli.errors import BridgeError
    from daw_bridge.adapter import make_adapter
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.server import BridgeServer

    root = root.expanduser()
    if not root.is_dir():
        raise BridgeError("the served folder does not exist", field="--root", value=str(root),
                          allowed="an existing folder")
    options = adapter_options(daw, host=("--daw-host", daw_host), port=("--daw-port", daw_port),
                              timeout_s=("--daw-timeout-s", daw_timeout_s), **specific)
    try:
        adapter = make_adapter(daw, **options)
    except ImportError as e:
        raise BridgeError(f"the {daw} adapter is not available in this installation ({e.name})",
                          field="--daw", value=daw, allowed="ableton, reaper, ardour or none"
                          ) from None
    runner = JobRunner(root, adapter, presets_dirs=presets_dir, default_preset=default_preset,
                       workers=jobs)
    server = BridgeServer(root, adapter, runner, host=host, port=port, reply_port=reply_port,
                          presets_dirs=presets_dir, allow_remote=allow_remote,
                          max_queued=max_queued)
    got: list[int] = []
    server_pid = os.getpid()

    def on_signal(signum, _frame) -> None:
        if os.getpid() != server_pid:  # a forked worker inherited this handler: just die
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if not got:
            log.warning("stopping (a running render is cancelled at its next stage)")
        got.append(signum)
        server.request_stop()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    host_shown, port_shown = server.address
    if ":" in host_shown:
        host_shown = f"[{host_shown}]"
    click.echo(f"ainur serve: listening on udp://{host_shown}:{port_shown} "
               f"(root {server.root}, DAW {daw}, pid {os.getpid()})", err=True)
    try:
        stopped = server.serve_forever()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if not stopped:
        click.echo("ainur serve: the running render did not stop in time; exiting without it "
                   "(its hidden .tmp folder may be left beside the render folder)", err=True)
        sys.stderr.flush()
        os._exit(1)  # the worker thread (and any pool it waits on) would block the exit
    click.echo("ainur serve: stopped", err=True)
    if got and got[0] == signal.SIGINT:
        raise SystemExit(130)
