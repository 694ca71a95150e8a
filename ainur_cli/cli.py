"""The ``ainur`` command line (click + rich). It parses, calls :mod:`ainur_cli.api`, prints.

Exit codes: 0 success, 1 internal error (a bug: please report it), 2 bad input or
environment (the message says what to fix), 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from ainur_cli import __version__
from ainur_cli.errors import AinurError

log = logging.getLogger("ainur_cli")


def _console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _setup_logging(verbose: int, quiet: bool) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    logging.basicConfig(level=level, format="%(message)s", force=True,
                        handlers=[RichHandler(console=_console(), show_path=False)])


class AinurGroup(click.Group):
    """Turns AinurError into one clean message and exit code 2 for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AinurError as e:
            _console().print(f"[bold red]error:[/] {_escape(e.format())}")
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            _console().print("[yellow]interrupted; nothing half-written was left behind[/]")
            ctx.exit(130)

    def resolve_command(self, ctx, args):  # lazy optional command groups
        return super().resolve_command(ctx, args)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@click.group(cls=AinurGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ainur")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Ainur: lyrics + style + your session's tempo map → a song as stems and a mastered mix.

    Offline, deterministic, tempo-locked; the stems sum to the master.
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    _setup_logging(verbose, quiet)


# -- render -------------------------------------------------------------------------------

@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-midi", "from_midi", type=click.Path(dir_okay=False, path_type=Path),
              help="Read tempo map, time signatures, markers (sections) and lyrics from a "
                   "DAW-exported MIDI file; SPEC or --preset supplies the style.")
@click.option("--from-ardour", "from_ardour", type=click.Path(path_type=Path),
              help="Read tempo map, time signatures, markers (sections) and the vocal MIDI "
                   "track's notes from an Ardour session (its .ardour file or folder, as last "
                   "saved); SPEC or --preset supplies the style.")
@click.option("--from-ableton", "from_ableton", type=click.Path(path_type=Path),
              help="Read tempo map (with its automation), time signatures, locators (sections) "
                   "and the vocal MIDI track's arrangement clips from an Ableton Live Set "
                   "(.als, or a Live project folder with one set; as last saved); SPEC or "
                   "--preset supplies the style.")
@click.option("--lyrics", "lyrics_file", type=click.Path(dir_okay=False, path_type=Path),
              help="With --from-midi/--from-ardour/--from-ableton: a lyrics file with [Section "
                   "name] headers (default: <name>.lyrics.txt or lyrics.txt beside the MIDI "
                   "file, session or set).")
@click.option("--vocal-track", "vocal_track",
              help="With --from-midi: sing the lyrics on this track's notes (a 1-based number), "
                   "e.g. a vocal guide track without lyric events. With --from-ardour or "
                   "--from-ableton: the name of the MIDI track to sing (default: one named "
                   "like a vocal).")
@click.option("--harmony-track", "harmony_track",
              help="With --from-midi: a harmony voice sings the lead's words on this track's "
                   "notes (a 1-based number). With --from-ardour or --from-ableton: the name of "
                   "the MIDI track of that written harmony (default: one named like a harmony, "
                   "e.g. 'Harmony', 'BGV', 'Backing Vox').")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output.dir of the spec, else renders/<spec name>).")
@click.option("--preset", help="Style preset (overrides the spec).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Random seed (overrides the spec).")
@click.option("--key", help='Key, e.g. "A minor" (overrides the spec).')
@click.option("--tempo", "tempo_bpm", type=float, help="Constant tempo in bpm (replaces the tempo map).")
@click.option("--sample-rate", type=click.Choice(["44100", "48000", "96000"]), help="Output sample rate.")
@click.option("--bit-depth", type=click.Choice(["16", "24", "32f"]), help="Output bit depth.")
@click.option("--format", "fmt", type=click.Choice(["wav", "flac"]), help="Audio file format.")
@click.option("--target-lufs", type=float, help="Integrated loudness target of the mix (LUFS).")
@click.option("--true-peak", "true_peak_dbtp", type=float, help="True-peak ceiling (dBTP).")
@click.option("--parts", help="Comma-separated parts to render, e.g. drums,bass,keys,lead.")
@click.option("--soundfont", help="A .sf2/.sf3 file, or 'fluidr3' for Debian's FluidR3_GM.")
@click.option("--presets-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra folder of presets (searched first; repeatable).")
@click.option("--force", is_flag=True, help="Replace a finished render in the output folder.")
@click.option("--new-take", is_flag=True, help="Write <out>-takeN instead of refusing.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=min(2, os.cpu_count() or 1), show_default=True,
              help="CPU cores to use: stem processes, export threads (same output for any value).")
@click.option("--report", "write_html", is_flag=True,
              help="Also write report.html (waveform, spectrogram, loudness, sections).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
@click.pass_context
def render(ctx: click.Context, spec: Path | None, from_midi: Path | None, from_ardour: Path | None,
           from_ableton: Path | None, lyrics_file, vocal_track, harmony_track, out: Path | None,
           preset, seed, key, tempo_bpm, sample_rate, bit_depth, fmt, target_lufs, true_peak_dbtp,
           parts, soundfont, presets_dir, force, new_take, jobs, write_html, as_json) -> None:
    """Render SPEC (a song.yaml) to stems, a mastered mix, MIDI and a manifest.

    With --from-midi FILE the session's tempo map, meters, markers and lyrics come from the
    MIDI file, with --from-ardour SESSION from the Ardour session and with --from-ableton
    SET.als from the Live Set (and their vocal MIDI track), and SPEC (optional) or --preset
    gives the style."""
    from ainur_cli import api

    overrides = {
        "preset": preset, "seed": seed, "key": key, "tempo_bpm": tempo_bpm,
        "sample_rate": int(sample_rate) if sample_rate else None, "bit_depth": bit_depth,
        "format": fmt, "target_lufs": target_lufs, "true_peak_dbtp": true_peak_dbtp,
        "parts": parts,
    }
    given = [p for p in (from_midi, from_ardour, from_ableton) if p is not None]
    if len(given) > 1:
        raise click.UsageError("give one of --from-midi, --from-ardour and --from-ableton")
    source = given[0] if given else None
    if from_midi is not None:
        from daw_bridge.midi_import import spec_from_midi

        for flag, value in (("--vocal-track", vocal_track), ("--harmony-track", harmony_track)):
            if value is not None and not (value.isdigit() and 1 <= int(value) <= 65535):
                raise click.BadParameter(f"{value!r} is not a track number 1..65535 (with "
                                         f"--from-midi tracks are counted from 1)",
                                         param_hint=flag)
        if harmony_track is not None and vocal_track is not None and \
                int(harmony_track) == int(vocal_track):
            raise click.BadParameter(f"{harmony_track!r} is the --vocal-track (the harmony is "
                                     f"another track)", param_hint="--harmony-track")
        session = spec_from_midi(from_midi, spec_path=spec, lyrics_file=lyrics_file,
                                 overrides=overrides,
                                 vocal_track=int(vocal_track) if vocal_track is not None else None,
                                 harmony_track=int(harmony_track) if harmony_track else None)
    elif from_ardour is not None:
        from daw_bridge.ardour_session import spec_from_ardour

        session = spec_from_ardour(from_ardour, spec_path=spec, lyrics_file=lyrics_file,
                                   overrides=overrides, vocal_track=vocal_track,
                                   harmony_track=harmony_track)
    elif from_ableton is not None:
        from daw_bridge.ableton_set import spec_from_ableton

        session = spec_from_ableton(from_ableton, spec_path=spec, lyrics_file=lyrics_file,
                                    overrides=overrides, vocal_track=vocal_track,
                                    harmony_track=harmony_track)
    elif spec is None:
        raise click.UsageError("give SPEC (a song.yaml), or --from-midi FILE / --from-ardour "
                               "SESSION / --from-ableton SET.als with a SPEC or --preset")
    elif lyrics_file is not None:
        raise click.UsageError("--lyrics works with --from-midi, --from-ardour or --from-ableton "
                               "(a song.yaml has its own lyrics)")
    elif vocal_track is not None or harmony_track is not None:
        flag = "--vocal-track" if vocal_track is not None else "--harmony-track"
        raise click.UsageError(f"{flag} works with --from-midi, --from-ardour or "
                               "--from-ableton (a song.yaml names its melody file, and its "
                               "harmony_track, in melody:)")
    else:
        song = api.load_spec(spec, overrides)
    if source is not None:
        for note in session.notes:
            log.warning("%s: %s", source, note)
        for note in session.info:
            log.info("%s: %s", source, note)
        if session.lyrics_file and lyrics_file is None:
            log.warning("lyrics from %s (found beside the %s; --lyrics FILE picks another)",
                        session.lyrics_file, "MIDI file" if from_midi is not None
                        else "set" if from_ableton is not None else "session")
        song = session.spec
    quiet = ctx.obj.get("quiet") or as_json
    result = _with_progress(
        quiet,
        lambda progress: api.render_song(song, out_dir=out, force=force, new_take=new_take,
                                         presets_dirs=presets_dir, soundfont=soundfont,
                                         workers=jobs, progress=progress),
    )
    if from_midi is not None and session.start_bar > 1:
        log.warning("the stems start at bar %d of the session: `ainur place %s --session-midi %s "
                    "--at-bar %d` writes REAPER/DAWproject files that put them there",
                    session.start_bar, result.out_dir, from_midi, session.start_bar)
    if from_ardour is not None:
        log.warning("the stems start at bar %d of the session: `ainur place %s --daw ardour "
                    "--ardour-session %s --at-bar %d` puts them there (with Ardour closed, on "
                    "new tracks)", session.start_bar, result.out_dir, from_ardour,
                    session.start_bar)
    if from_ableton is not None:
        log.warning("the stems start at bar %d of the set: `ainur place %s --daw ableton "
                    "--at-bar %d` puts them there (Live running with AbletonOSC)",
                    session.start_bar, result.out_dir, session.start_bar)
    page = None
    if write_html:
        from ainur_cli.report import write_report

        page = write_report(result.out_dir)
    if as_json:
        click.echo(api.manifest_json(result.manifest), nl=False)
        return
    if not ctx.obj.get("quiet"):
        _print_summary(result)
        if page is not None:
            _console(stderr=False).print(f"report: {page}")


def _with_progress(quiet: bool, run):
    if quiet:
        return run(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # No refresh thread (auto_refresh=False, redrawn on each update): a render forks its
    # worker pool directly only while this process runs a single thread.
    with Progress(TextColumn("[bold]{task.description:<8}"), BarColumn(), TimeElapsedColumn(),
                  console=_console(), transient=True, auto_refresh=False) as bar:
        task = bar.add_task("start", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction, refresh=True)

        return run(progress)


def _print_summary(result) -> None:
    from rich.table import Table

    m = result.manifest
    con = _console(stderr=False)
    table = Table(title=f"{m['title']} → {result.out_dir}", title_justify="left")
    for col in ("file", "duration", "LUFS", "true peak"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for f in m["files"]:
        lufs = "silent" if f["integrated_lufs"] is None else f"{f['integrated_lufs']:.1f}"
        tp = "-inf" if f["true_peak_dbtp"] is None else f"{f['true_peak_dbtp']:.1f} dBTP"
        table.add_row(f["path"], f"{f['duration_s']:.2f} s", lufs, tp)
    con.print(table)
    rtf = m["duration_s"] / max(result.timings_s.get("total", 1e-9), 1e-9)
    con.print(f"rendered in {result.timings_s.get('total', 0):.2f} s ({rtf:.0f}x real time)")
    for w in m.get("warnings", []):
        con.print(f"[yellow]warning:[/] {_escape(w)}")


# -- presets ------------------------------------------------------------------------------

@main.group()
def presets() -> None:
    """List and inspect style presets."""


@presets.command("list")
@click.option("--presets-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def presets_list(presets_dir, as_json: bool) -> None:
    """Every preset with a one-line description and its instruments."""
    from ainur_cli.presets import list_presets, load_preset

    rows = []
    for name in list_presets(presets_dir):
        p = load_preset(name, extra_dirs=presets_dir)
        rows.append({"name": name, "description": p.style.description,
                     "parts": {k: v.describe() for k, v in p.style.parts.items()},
                     "file": str(p.file)})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table()
    table.add_column("preset", style="bold")
    table.add_column("description")
    table.add_column("instruments")
    for r in rows:
        table.add_row(r["name"], r["description"], ", ".join(f"{k}: {v}" for k, v in r["parts"].items()))
    _console(stderr=False).print(table)


@presets.command("show")
@click.argument("name")
@click.option("--presets-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path))
def presets_show(name: str, presets_dir) -> None:
    """Print preset NAME (its YAML) and where it lives."""
    from ainur_cli.presets import find_preset

    path = find_preset(name, presets_dir)
    click.echo(f"# {path}")
    click.echo(path.read_text(encoding="utf-8"), nl=False)


COMMAND_MODULES = (
    ("ainur_cli.cli_neural", ("models_group", "transfer_command")),
    ("ainur_cli.cli_batch", ("batch_command", "report_command")),
    ("ainur_cli.cli_bridge", ("serve_command",)),
    ("ainur_cli.cli_place", ("place_command",)),
)


def _register_optional() -> None:
    """Commands whose modules live beside the core (they import their heavy parts lazily)."""
    import importlib
    import importlib.util

    for module, names in COMMAND_MODULES:
        if importlib.util.find_spec(module) is None:
            continue
        mod = importlib.import_module(module)
        for n in names:
            main.add_command(getattr(mod, n))


_register_optional()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
