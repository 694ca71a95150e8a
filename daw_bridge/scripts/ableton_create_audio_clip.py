"""Give AbletonOSC the ``/live/track/create_audio_clip`` address Ainur uses to place stems.

Live 12 (from 12.0.5) documents ``Track.create_audio_clip(file_path, start_time)`` in its Live
Object Model: given the absolute path of an audio file it creates an arrangement clip on an
audio track at ``start_time`` beats (0..1576800). Released AbletonOSC does not expose it yet;
open pull requests (#168, #196, #206 on github.com/ideoforms/AbletonOSC) add it the same way
this script does: by listing ``create_audio_clip`` among the track *methods* AbletonOSC
already dispatches, so ``/live/track/create_audio_clip <track> <path> <beat>`` calls
``track.create_audio_clip(<path>, <beat>)`` and errors come back on ``/live/error``.

Usage (Live may be running; quit it or reload the script afterwards)::

    python -m daw_bridge.scripts.ableton_create_audio_clip "<User Library>/Remote Scripts/AbletonOSC"
    (or: python daw_bridge/scripts/ableton_create_audio_clip.py "<...>/AbletonOSC")

The script edits ``abletonosc/track.py`` in that folder in place, once (running it again
changes nothing), after saving the original as ``track.py.before-ainur``. Then restart Live,
or send ``/live/api/reload`` to AbletonOSC. Live 11 has no ``Track.create_audio_clip``: there
the address answers an error and Ainur falls back to creating named tracks and telling you
where to drop each file. To undo, put ``track.py.before-ainur`` back as ``track.py``.

Exit codes: 0 patched or already patched, 2 the folder is not an AbletonOSC this script
understands (nothing is changed).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

METHOD = "create_audio_clip"
MARK = "# added by Ainur: Live 12 Track.create_audio_clip(file_path, start_time)"
BACKUP_SUFFIX = ".before-ainur"
# The track handler's list of methods dispatched as /live/track/<method>.
_METHODS = re.compile(r"^(?P<indent>[ \t]*)methods\s*=\s*\[[ \t]*\n", re.MULTILINE)


class PatchError(Exception):
    """The folder is not an AbletonOSC this script knows how to patch."""


def patched_text(text: str) -> str | None:
    """The patched ``track.py`` text, or None when it already has the method.

    :raises PatchError: no TrackHandler with a ``methods = [`` list in the text.
    """
    if "class TrackHandler" not in text:
        raise PatchError("this track.py has no TrackHandler class")
    m = _METHODS.search(text, text.index("class TrackHandler"))
    if m is None:
        raise PatchError("this track.py has no 'methods = [' list in its TrackHandler")
    close = text.find("]", m.end())
    if close < 0:
        raise PatchError("the TrackHandler's methods list is not closed")
    if re.search(rf"[\"']{METHOD}[\"']", text[m.end():close]):
        return None
    indent = m.group("indent") + "    "
    line = f'{indent}"{METHOD}",  {MARK}\n'
    return text[:m.end()] + line + text[m.end():]


def patch_folder(folder: Path) -> str:
    """Patch ``<folder>/abletonosc/track.py``; returns what was done."""
    track_py = Path(folder) / "abletonosc" / "track.py"
    if not track_py.is_file():
        raise PatchError(f"{track_py} does not exist (give the AbletonOSC folder, the one "
                         f"holding manager.py and abletonosc/)")
    text = track_py.read_text(encoding="utf-8")
    new = patched_text(text)
    if new is None:
        return f"{track_py} already has /live/track/{METHOD}: nothing to do"
    compile(new, str(track_py), "exec")  # never leave Live a file it cannot load
    backup = track_py.with_name(track_py.name + BACKUP_SUFFIX)
    if not backup.exists():
        shutil.copy2(track_py, backup)
    tmp = track_py.with_name(track_py.name + ".ainur-tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(track_py)
    return (f"patched {track_py} (original saved as {backup.name}); restart Live or send "
            f"/live/api/reload to AbletonOSC")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    try:
        print(patch_folder(Path(args[0]).expanduser()))
    except (PatchError, OSError, SyntaxError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
