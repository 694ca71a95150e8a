"""Checks of the arguments of ``ainur serve`` requests: counts, types and ranges.

Each check raises one :class:`~ainur_cli.errors.BridgeError` naming the address, the
argument, the bad value and the documented signature (``route.args``), which the server
sends back as ``/ainur/error``.
"""

from __future__ import annotations

import re
from typing import Any

from ainur_cli.errors import BridgeError

MAX_SEED = 2**32 - 1
PRESET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def arity(route: Any, args: tuple, lo: int, hi: int) -> None:
    """``lo`` to ``hi`` arguments."""
    if not lo <= len(args) <= hi:
        count = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise BridgeError(f"{route.address} takes {count} arguments", field=route.address,
                          value=len(args), allowed=route.args or "no arguments")


def text(route: Any, args: tuple, i: int, name: str, *, required: bool = False) -> str | None:
    """String argument ``i`` (None when absent or empty, unless ``required``)."""
    if i >= len(args):
        return None
    v = args[i]
    if not isinstance(v, str):
        raise BridgeError(f"{route.address}: the {name} must be a string", field=name,
                          value=v, allowed=route.args)
    if not v and required:
        raise BridgeError(f"{route.address}: the {name} is empty", field=name, value=v,
                          allowed=route.args)
    return v or None


def preset(route: Any, args: tuple, i: int) -> str | None:
    """Preset-name argument ``i`` (letters, digits, ``- _ .``), or None."""
    name = text(route, args, i, "preset")
    if name is not None and not PRESET_NAME.fullmatch(name):
        raise BridgeError(f"{route.address}: not a preset name", field="preset", value=name,
                          allowed="a name like 'pop' or 'lofi-hiphop' (/ainur/presets lists them)")
    return name


def seed(route: Any, args: tuple, i: int) -> int | None:
    """Seed argument ``i``: an int, an integral float or a string of digits; "" = none."""
    if i >= len(args) or args[i] == "":
        return None
    v = args[i]
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    elif isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_SEED:
        raise BridgeError(f"{route.address}: bad seed", field="seed", value=v,
                          allowed=f"an integer 0..{MAX_SEED} (or '' for the spec's seed)")
    return v
