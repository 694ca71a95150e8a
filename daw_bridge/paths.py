"""Paths that arrive over the network are confined to one root folder.

``confine(root, text)`` accepts a path relative to the root (or an absolute path that is
inside it) and returns the resolved path, refusing: empty text, NUL bytes, over-long text,
any ``..`` component, absolute paths outside the root, and anything whose resolved target
(symbolic links followed, including links in parent folders) lies outside the root.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from ainur_cli.errors import BridgeError

MAX_PATH_CHARS = 1024


def confine(root: Path | str, text: str, *, what: str = "path") -> Path:
    """The resolved path for ``text`` inside ``root``.

    :raises BridgeError: naming the bad value and what is allowed.
    """
    root_r = Path(root).resolve()
    allowed = f"a path inside {root_r} (relative to it, no '..', no links out of it)"
    if not isinstance(text, str) or not text.strip():
        raise BridgeError(f"the {what} is empty", field=what, value=text, allowed=allowed)
    if "\x00" in text or len(text) > MAX_PATH_CHARS:
        raise BridgeError(f"the {what} is not a usable path", field=what, value=text[:60],
                          allowed=allowed)
    parts = set(PurePosixPath(text).parts) | set(PureWindowsPath(text).parts)
    if ".." in parts:
        raise BridgeError(f"the {what} may not contain '..'", field=what, value=text,
                          allowed=allowed)
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = root_r / candidate
    resolved = candidate.resolve()
    if resolved != root_r and root_r not in resolved.parents:
        raise BridgeError(f"the {what} is outside the served folder", field=what, value=text,
                          allowed=allowed)
    return resolved


def inside(root: Path | str, path: Path | str) -> bool:
    """Whether ``path`` (resolved) is ``root`` or inside it."""
    root_r, p = Path(root).resolve(), Path(path).resolve()
    return p == root_r or root_r in p.parents
