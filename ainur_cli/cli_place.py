"""``ainur place``: put a finished render's stems back in a DAW session (a click command the
main CLI registers).

Without a running DAW (``--daw none``, the default) it writes project files beside the stems,
inside the render folder: a REAPER ``.RPP`` and a ``.dawproject`` (Bitwig, Studio One, Cubase).
With ``--daw reaper|ableton|ardour`` it places through that DAW's adapter
(``daw_bridge.adapter.make_adapter(...).place``); ``--rpp`` / ``--dawproject`` then also write
the files. The song's position in the session is ``--at-bar``, ``--at-beat`` or ``--at-s``,
converted through the session's tempo map and meters: the running DAW's, a DAW-exported MIDI
file's (``--session-midi``), or else the song's first tempo and meter (empty bars before it).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ainur_cli.daw_flags import adapter_options, daw_specific_options

DAW_CHOICES = ("none", "reaper", "ableton", "ardour")


def _console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _quiet(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("quiet"))


@click.command("place")
@click.argument("render_dir", type=click.Path(path_type=Path))
@click.option("--daw", type=click.Choice(DAW_CHOICES), default="none", show_default=True,
              help="Place into this running DAW; 'none' writes project files only.")
@click.option("--at-bar", type=int, help="The song starts at this bar of the session (1 = first).")
@click.option("--at-beat", type=float, help="... or at this beat (quarter notes from the session start).")
@click.option("--at-s", type=float, help="... or at this many seconds from the session start.")
@click.option("--session-midi", type=click.Path(dir_okay=False, path_type=Path),
              help="A MIDI file exported from the session: its tempo map and meters place "
                   "--at-bar/--at-beat/--at-s (default: the running DAW's, else the song's).")
@click.option("--rpp", "want_rpp", is_flag=True, help="Write <render>/<name>.RPP (REAPER).")
@click.option("--dawproject", "want_dawproject", is_flag=True,
              help="Write <render>/<name>.dawproject (Bitwig, Studio One, Cubase).")
@click.option("--no-mix", is_flag=True, help="Leave the mix out of the project files "
                                              "(default: on its own muted track).")
@click.option("--reference-audio", is_flag=True,
              help="The .dawproject refers to the stems beside it instead of holding copies.")
@click.option("--force", is_flag=True, help="Replace project files written before.")
@click.option("--host", help="The DAW's host (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535),
              help="The DAW's port: REAPER's web interface, AbletonOSC's or Ardour's OSC port.")
@click.option("--timeout-s", type=click.FloatRange(0.05, 60.0), help="Per-request DAW timeout.")
@daw_specific_options
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON on stdout.")
@click.pass_context
def place_command(ctx: click.Context, render_dir: Path, daw: str, at_bar, at_beat, at_s,
                  session_midi, want_rpp, want_dawproject, no_mix, reference_audio, force, host,
                  port, timeout_s, as_json, **specific) -> None:
    """Put the stems of RENDER_DIR (a finished `ainur render` folder) in a DAW session."""
    from daw_bridge.placement import load_manifest, placement_from_manifest

    options = adapter_options(daw, host=("--host", host), port=("--port", port),
                              timeout_s=("--timeout-s", timeout_s), **specific)
    manifest = load_manifest(render_dir)
    positioned = any(v is not None for v in (at_bar, at_beat, at_s))
    adapter = None
    try:
        session = None
        if session_midi is not None:
            from daw_bridge.midi_import import read_midi_facts

            session = read_midi_facts(session_midi)
        if daw != "none":
            from daw_bridge.adapter import make_adapter

            adapter = make_adapter(daw, **options)
            if session is None and positioned:
                session = adapter.read_session()
        p = placement_from_manifest(manifest, render_dir, at_bar=at_bar, session_start_beat=at_beat,
                                    session_start_s=at_s, session=session)
        if daw == "none" and not (want_rpp or want_dawproject):
            want_rpp = want_dawproject = True
        from daw_bridge.dawproject import dawproject_path
        from daw_bridge.rpp import rpp_path

        targets = [t for t, wanted in ((rpp_path(p), want_rpp),
                                       (dawproject_path(p), want_dawproject)) if wanted]
        _refuse_existing(targets, force)
        result = adapter.place(p) if adapter is not None else None
        done = set(result.files) if result is not None else set()
        files = [str(t) for t in targets if str(t) in done]
        if want_rpp and str(targets[0]) not in done:
            from daw_bridge.rpp import write_rpp

            files.append(str(write_rpp(p, targets[0], with_mix=not no_mix, force=force)))
        if want_dawproject and str(targets[-1]) not in done:
            from daw_bridge.dawproject import write_dawproject

            files.append(str(write_dawproject(p, targets[-1], embed_audio=not reference_audio,
                                              with_mix=not no_mix, force=force)))
    finally:
        if adapter is not None:
            adapter.close()
    out = _summary(p, daw, files, result)
    if session is not None:
        from daw_bridge.song_position import session_notes

        out["notes"] = session_notes(p, session)
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    elif not _quiet(ctx):
        _print(out)


def _refuse_existing(targets: list[Path], force: bool) -> None:
    """Nothing is written when any project file is already there (without ``--force``)."""
    from ainur_cli.errors import ExportError

    for t in targets:
        if t.exists() and not force:
            raise ExportError("a project file is already there", file=str(t),
                              allowed="--force to replace it")


def _summary(p, daw: str, files: list[str], result) -> dict:
    """The JSON answer: where the song starts, every stem's session position, what was done."""
    out = {
        "render": str(p.render_dir),
        "daw": daw,
        "song_start": {"beat": float(p.start_beat), "seconds": round(float(p.start_s), 9),
                       "sample": p.start_sample, "sample_rate": p.sample_rate},
        "stems": [{"part": f.part, "path": str(f.path),
                   "session_sample": p.start_sample + f.start_sample,
                   "session_s": round(float(p.stem_position_s(f)), 9),
                   "session_beat": round(float(p.stem_start_beat(f)), 9)} for f in p.stems],
        "sections": [{"name": s.name, "session_s": round(float(p.section_position_s(s)), 9),
                      "session_beat": round(float(p.start_beat + s.start_beat), 9)}
                     for s in p.sections],
        "project_files": files,
    }
    if result is not None:
        out["placed"] = {"daw": result.daw, "placed": result.placed, "method": result.method,
                         "tracks": list(result.tracks), "files": list(result.files),
                         "instructions": result.instructions}
    return out


def _print(out: dict) -> None:
    from rich.markup import escape

    con = _console(stderr=False)
    start = out["song_start"]
    con.print(f"song starts at beat {start['beat']:g} = {start['seconds']:.6f} s "
              f"(sample {start['sample']} at {start['sample_rate']} Hz)")
    for f in out["project_files"]:
        con.print(f"wrote {escape(f)}")
    placed = out.get("placed")
    if placed:
        state = "placed" if placed["placed"] else "not placed"
        con.print(f"{placed['daw']}: {state} ({placed['method']})"
                  + (f": {', '.join(placed['tracks'])}" if placed["tracks"] else ""))
        if placed["instructions"]:
            con.print(escape(placed["instructions"]))
    if not out["project_files"] and not placed:
        con.print("nothing to do")
    for note in out.get("notes", []):
        _console().print(f"[yellow]note:[/] {escape(note)}")
