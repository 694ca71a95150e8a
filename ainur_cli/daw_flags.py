"""The DAW connection flags that ``ainur serve`` and ``ainur place`` share, and the adapter
keywords (:func:`daw_bridge.adapter.make_adapter`) they turn into.

The two commands spell the DAW's address differently (``serve`` binds its own ``--host`` and
``--port``, so the DAW's are ``--daw-host``/``--daw-port``); the DAW-specific flags below are
the same in both. Only click is imported here, so ``ainur --help`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

#: flag → (parameter name, DAW it belongs to or None for any, adapter keyword).
_SPECIFIC = (
    ("--reaper-command", "reaper_command", "reaper", "command_id"),
    ("--reaper-osc-port", "reaper_osc_port", "reaper", "osc_port"),
    ("--reaper-feedback-port", "reaper_feedback_port", "reaper", "feedback_port"),
    ("--reaper-web-auth", "reaper_web_auth", "reaper", "web_auth"),
    ("--reaper-harmony-track", "reaper_harmony_track", "reaper", "harmony_track"),
    ("--ableton-reply-port", "ableton_reply_port", "ableton", "reply_port"),
    ("--ableton-set", "ableton_set", "ableton", "live_set"),
    ("--ableton-vocal-track", "ableton_vocal_track", "ableton", "vocal_track"),
    ("--ableton-harmony-track", "ableton_harmony_track", "ableton", "harmony_track"),
    ("--ardour-session", "ardour_session", "ardour", "session"),
    ("--ardour-place-mode", "ardour_place_mode", "ardour", "place_mode"),
    ("--ardour-vocal-track", "ardour_vocal_track", "ardour", "vocal_track"),
    ("--ardour-harmony-track", "ardour_harmony_track", "ardour", "harmony_track"),
)
_DAW_NAMES = {"reaper": "REAPER", "ableton": "Ableton Live", "ardour": "Ardour"}
SPECIFIC_PARAMS = tuple(p for _, p, _, _ in _SPECIFIC)


def daw_specific_options(command: Callable) -> Callable:
    """Add the DAW-specific connection flags to a click command (as keyword parameters named
    in :data:`SPECIFIC_PARAMS`)."""
    opts = [
        click.option("--reaper-command", metavar="_RS...",
                     help="Command ID of the registered ainur_import.lua (REAPER)."),
        click.option("--reaper-osc-port", type=click.IntRange(1, 65535),
                     help="REAPER's OSC 'local listen port' (default 8000)."),
        click.option("--reaper-feedback-port", type=click.IntRange(1, 65535),
                     help="The port REAPER's OSC device sends feedback to (default 9000)."),
        click.option("--reaper-web-auth", metavar="USER:PASSWORD",
                     help="Login of REAPER's web interface, if it has one."),
        click.option("--reaper-harmony-track", metavar="NAME",
                     help="REAPER with the script: the track of a written harmony, sung with "
                          "the vocal's words (default: the first other track named like one, "
                          "e.g. 'Harmony', 'BGV', 'Backing Vox')."),
        click.option("--ableton-reply-port", type=click.IntRange(1, 65535),
                     help="UDP port AbletonOSC answers on (11001 in AbletonOSC)."),
        click.option("--ableton-set", type=click.Path(path_type=Path),
                     help="Ableton Live: the open set's .als file (or its project folder), for "
                          "what OSC cannot report "
                          "(tempo and time-signature automation, the vocal MIDI track's notes; "
                          "as last saved)."),
        click.option("--ableton-vocal-track", metavar="NAME",
                     help="Ableton Live with --ableton-set: the MIDI track whose arrangement "
                          "clips the vocal sings in /ainur/render_session (default: the first "
                          "MIDI track named like a vocal)."),
        click.option("--ableton-harmony-track", metavar="NAME",
                     help="Ableton Live with --ableton-set: the MIDI track of a written harmony, "
                          "sung with the vocal's words (default: the first other MIDI track "
                          "named like one, e.g. 'Harmony', 'BGV', 'Backing Vox')."),
        click.option("--ardour-session", type=click.Path(path_type=Path),
                     help="Ardour's session file or folder (its tempo map; default: Ardour's "
                          "most recent session)."),
        click.option("--ardour-place-mode", type=click.Choice(["auto", "osc", "offline"]),
                     help="Ardour: markers over OSC while it runs (osc), import into the closed "
                          "session with ardour7-lua (offline), or whichever applies (auto)."),
        click.option("--ardour-vocal-track", metavar="NAME",
                     help="Ardour: the MIDI track whose notes the vocal sings in "
                          "/ainur/render_session (default: the first MIDI track named like a "
                          "vocal, e.g. 'Vocal', 'Lead Vox', 'Melody')."),
        click.option("--ardour-harmony-track", metavar="NAME",
                     help="Ardour: the MIDI track of a written harmony, sung with the vocal's "
                          "words (default: the first other MIDI track named like one, e.g. "
                          "'Harmony', 'BGV', 'Backing Vox')."),
    ]
    for opt in reversed(opts):
        command = opt(command)
    return command


def adapter_options(daw: str, *, host: tuple[str, str | None], port: tuple[str, int | None],
                    timeout_s: tuple[str, float | None], **specific: Any) -> dict:
    """The ``make_adapter(daw, **options)`` keywords for the flags that were given.

    :param host, port, timeout_s: ``(flag as the command spells it, value or None)``.
    :param specific: the values of :data:`SPECIFIC_PARAMS` (None when not given).
    :raises BridgeError: connection flags with ``--daw none``, or a flag of another DAW.
    """
    from ainur_cli.errors import BridgeError

    given = [(flag, v) for flag, v in (host, port, timeout_s) if v is not None]
    given += [(flag, specific.get(param)) for flag, param, _, _ in _SPECIFIC
              if specific.get(param) is not None]
    if daw == "none":
        if given:
            raise BridgeError("DAW connection options need a DAW", field=given[0][0],
                              value="--daw none", allowed="--daw ableton, reaper or ardour")
        return {}
    opts: dict = {}
    if host[1] is not None:
        opts["host"] = host[1]
    if port[1] is not None:
        opts["web_port" if daw == "reaper" else "port"] = port[1]
    if timeout_s[1] is not None:
        opts["timeout_s"] = timeout_s[1]
    for flag, param, owner, keyword in _SPECIFIC:
        value = specific.get(param)
        if value is None:
            continue
        if owner != daw:
            raise BridgeError(f"{flag} is for {_DAW_NAMES[owner]}", field=flag, value=daw,
                              allowed=f"--daw {owner}")
        opts[keyword] = value
    return opts
