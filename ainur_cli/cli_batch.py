"""``ainur batch`` and ``ainur report``: click commands the main CLI registers.

They parse, call :mod:`ainur_cli.batch` / :mod:`ainur_cli.report`, and show progress and
results with rich. Exit codes as for the rest of the CLI: 0 all jobs done or skipped, 2 when
any job failed (or the input was bad), 130 interrupted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

DEFAULT_OUT = Path("renders") / "batch"


def _console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@click.command("batch")
@click.argument("songs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--presets", "presets_text", metavar="a,b,c|all",
              help="Presets to render each song with (default: each spec's own preset).")
@click.option("--seeds", "seeds_text", metavar="1,2,3|1-8",
              help="Seeds to render (default: each spec's own seed).")
@click.option("-j", "--jobs", "workers", type=click.IntRange(1, 256), default=None,
              help="Parallel jobs (default: one per CPU core).")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_OUT, show_default=True,
              help="Batch folder: jobs land in <out>/<song>/<preset>/seed-<n>/.")
@click.option("--force", is_flag=True, help="Re-render jobs that are already finished.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
              help="Where jobs run: local processes (default) or a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler, e.g. tcp://host:8786 (implies --executor dask; without it "
                   "dask starts a local cluster).")
@click.option("--report", is_flag=True, help="Write an HTML report per job and <out>/index.html.")
@click.option("--presets-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra folder of presets (searched first; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print batch.json on stdout, no table.")
@click.pass_context
def batch_command(ctx: click.Context, songs, presets_text, seeds_text, workers, out, force,
                  executor, scheduler, report, presets_dir, as_json) -> None:
    """Render every SONG x preset x seed, in parallel; re-running skips finished jobs.

    A SONG is a song.yaml, or a DAW project read as `ainur render --from-...` reads it: an
    Ableton Live Set (.als), an Ardour session (.ardour) or a DAW-exported MIDI file (.mid),
    with its lyrics file beside it; a project has no style of its own, so give --presets."""
    from ainur_cli.batch import make_executor, parse_presets, parse_seeds, plan_jobs, run_batch

    if executor == "local" and scheduler:
        raise click.UsageError("--scheduler needs --executor dask")
    kind = executor or ("dask" if scheduler else "local")
    presets = parse_presets(presets_text, presets_dir)
    seeds = parse_seeds(seeds_text)
    jobs = plan_jobs(songs, out, presets=presets, seeds=seeds, presets_dirs=presets_dir)
    runner = make_executor(kind, workers=workers, scheduler=scheduler)
    quiet = bool((ctx.obj or {}).get("quiet")) or as_json

    def run(on_event):
        return run_batch(jobs, runner, out, force=force, report=report, presets_dirs=presets_dir,
                         on_event=on_event)

    result = run(None) if quiet else _with_live_progress(jobs, kind, runner, run)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif not (ctx.obj or {}).get("quiet"):
        _print_summary(result, report)
    if not result.ok:
        ctx.exit(2)


def _with_live_progress(jobs, kind: str, runner, run):
    """Run with an overall bar plus one line per running job."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ainur_cli.batch import JobFinished, JobProgress, JobStarted

    workers = getattr(runner, "workers", None)
    label = f"batch ({kind}, {workers} workers)" if workers else f"batch ({kind})"
    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=30),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                  console=_console(), transient=True) as bar:
        overall = bar.add_task(f"[bold]{_escape(label)}", total=len(jobs), detail=f"0/{len(jobs)}")
        running: dict[str, int] = {}
        counts = {"done": 0, "skipped": 0, "failed": 0, "cancelled": 0}

        def on_event(event) -> None:
            if isinstance(event, JobStarted):
                running[event.name] = bar.add_task(f"  {_escape(event.name)}", total=1.0,
                                                   detail="starting")
            elif isinstance(event, JobProgress) and event.name in running:
                bar.update(running[event.name], completed=event.fraction, detail=event.stage)
            elif isinstance(event, JobFinished):
                o = event.outcome
                counts[o.status] = counts.get(o.status, 0) + 1
                task = running.pop(o.name, None)
                if task is not None:
                    bar.remove_task(task)
                if o.status == "failed":
                    bar.console.print(f"[red]failed[/] {_escape(o.name)}: {_escape(o.error or '')}")
                finished = sum(counts.values())
                detail = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
                bar.update(overall, advance=1, detail=f"{finished}/{len(jobs)} ({detail})")

        return run(on_event)


def _print_summary(result, report: bool) -> None:
    from rich.table import Table

    con = _console(stderr=False)
    styles = {"done": "green", "skipped": "blue", "failed": "bold red", "cancelled": "red",
              "pending": "magenta"}
    table = Table(title=f"batch → {result.out_root}", title_justify="left")
    for col, justify in (("job", "left"), ("status", "left"), ("time", "right"),
                         ("LUFS", "right"), ("error", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for job in result.jobs:
        o = result.outcomes.get(job.name)
        status = result.status(job)
        time_s = f"{o.time_s:.2f} s" if o is not None and o.time_s else "–"
        lufs = "–"
        if o is not None and o.integrated_lufs is not None:
            lufs = f"{o.integrated_lufs:.1f}"
        table.add_row(_escape(job.name), f"[{styles.get(status, '')}]{status}[/]", time_s, lufs,
                      _escape((o.error if o is not None else "") or ""))
    con.print(table)
    counts = ", ".join(f"{v} {k}" for k, v in result.counts().items() if v)
    jpm = ""
    ran = sum(1 for o in result.outcomes.values() if o.status == "done")
    if ran and result.wall_s > 0:
        jpm = f", {ran / result.wall_s * 60:.1f} jobs/minute"
    con.print(f"{counts} in {result.wall_s:.1f} s{jpm}; record: {result.out_root / 'batch.json'}")
    if report and (result.out_root / "index.html").is_file():
        con.print(f"report: {result.out_root / 'index.html'}")


@click.command("report")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_command(folder: Path) -> None:
    """Write HTML reports for FOLDER: a render, a batch (pages + index.html) or a folder of renders."""
    from ainur_cli.report import report_folder

    pages = report_folder(folder)
    con = _console(stderr=False)
    for p in pages:
        con.print(_escape(os.fspath(p)))
