"""Writing report pages: one per render (``<render>/report.html`` + ``<render>/report/*.png``)
and one index per batch (``<batch>/index.html``, one row per job with a thumbnail).

Every file is written to a temporary name and renamed into place, so an interrupted report
never leaves a half-written page.
"""

from __future__ import annotations

import base64
import logging
import os
import tempfile
from html import escape
from pathlib import Path

from ainur_cli.errors import ExportError
from ainur_cli.report import html, plots
from ainur_cli.report.analysis import load_render

log = logging.getLogger(__name__)

REPORT_HTML = "report.html"
REPORT_DIR = "report"
INDEX_HTML = "index.html"
THUMB_PNG = "thumb.png"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is for sharing
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_report(render_dir: str | Path) -> Path:
    """Write the HTML report of the finished render in ``render_dir``; returns its path.

    The page embeds: waveform + spectrogram of the mix, the section map, the mix's short-term
    loudness against the target, each stem's loudness over time, and the manifest's figures.
    The PNGs are also written to ``render_dir/report/``.

    :raises ExportError: when ``render_dir`` is not a finished render or is not writable.
    """
    folder = Path(render_dir)
    data = load_render(folder)
    m = data.manifest
    figures = {
        "overview.png": plots.overview_png(data),
        "sections.png": plots.sections_png(data),
        "loudness.png": plots.loudness_png(data),
        "stems.png": plots.stems_png(data),
        THUMB_PNG: plots.thumbnail_png(data),
    }
    try:
        for name, png in figures.items():
            _write_atomic(folder / REPORT_DIR / name, png)
        page = html.page(f"{m.get('title', 'render')} — Ainur report", _render_body(m, figures), "render")
        out = folder / REPORT_HTML
        _write_atomic(out, page.encode("utf-8"))
    except OSError as e:
        raise ExportError(f"cannot write the report: {e.strerror or e}", file=str(folder),
                          allowed="a render folder you can write to") from None
    log.info("report written: %s", out)
    return out


def _mix(m: dict) -> dict:
    return next((f for f in m.get("files", []) if f.get("part") == "mix"), {})


def _render_body(m: dict, figs: dict[str, bytes]) -> str:
    mix = _mix(m)
    tempos = ", ".join(f"{t.get('tempo_bpm', 0):g} bpm" + (f" (bar {t['bar']})" if t.get("bar", 1) != 1 else "")
                       for t in m.get("tempo_map", []))
    meters = ", ".join(f"{t.get('numerator')}/{t.get('denominator')}" for t in m.get("time_signatures", []))
    sub = " · ".join(x for x in (
        f"preset {m.get('preset')}", f"seed {m.get('seed')}", str(m.get("key", "")), tempos, meters,
        html.fmt(m.get("duration_s"), ".2f", " s"), f"{m.get('sample_rate')} Hz") if x)
    master = m.get("master", {}) or {}
    tiles = html.tiles([
        (html.fmt(mix.get("integrated_lufs"), ".1f", " LUFS"), "mix integrated loudness"),
        (html.fmt(m.get("target_lufs"), ".1f", " LUFS"), "target"),
        (html.fmt(mix.get("true_peak_dbtp"), ".2f", " dBTP"), "mix true peak"),
        (html.fmt(m.get("true_peak_ceiling_dbtp"), ".1f", " dBTP"), "true-peak ceiling"),
        (html.fmt(master.get("loudness_gain_db"), "+.1f", " dB"), "master gain"),
        (html.fmt(master.get("max_gain_reduction_db"), ".1f", " dB"), "limiter max gain reduction"),
    ])
    files = html.table(
        ["file", "part", "duration", "LUFS", "true peak", "format"],
        ([f'<a href="{escape(f.get("path", ""))}">{escape(f.get("path", ""))}</a>', escape(str(f.get("part"))),
          html.fmt(f.get("duration_s"), ".2f", " s"), html.fmt(f.get("integrated_lufs"), ".1f", none="silent"),
          html.fmt(f.get("true_peak_dbtp"), ".2f", " dBTP", none="-inf"),
          escape(f"{f.get('format', '')} {f.get('bit_depth', '')}".strip())]
         for f in m.get("files", [])), numeric=(2, 3, 4))
    sections = html.table(
        ["section", "type", "start bar", "bars", "start", "end", "energy"],
        ([escape(str(s.get("name"))), escape(str(s.get("kind", ""))), str(s.get("start_bar", "")),
          str(s.get("bars", "")), html.fmt(s.get("start_s"), ".2f", " s"), html.fmt(s.get("end_s"), ".2f", " s"),
          html.fmt(s.get("energy"), ".2f")] for s in m.get("sections", [])), numeric=(2, 3, 4, 5, 6))
    warnings = "".join(f'<li class="warn">{escape(str(w))}</li>' for w in m.get("warnings", []))
    parts = [
        f"<header><h1>{escape(str(m.get('title', 'render')))}</h1><p class=\"sub\">{escape(sub)}</p></header>",
        '<audio controls preload="none" src="' + escape(mix.get("path", "mix.wav")) + '"></audio>',
        "<h2>Figures</h2>", tiles,
        "<h2>Mix: waveform and spectrogram</h2>",
        html.figure(figs["overview.png"], "waveform and spectrogram of the mix", "report/overview.png"),
        "<h2>Section map</h2>",
        html.figure(figs["sections.png"], "sections on the time line", "report/sections.png"),
        sections,
        "<h2>Loudness against the target</h2>",
        html.figure(figs["loudness.png"], "short-term loudness of the mix and the target", "report/loudness.png"),
        "<h2>Stems: level over time</h2>",
        html.figure(figs["stems.png"], "momentary loudness of each stem", "report/stems.png"),
        "<h2>Files</h2>", files,
    ]
    if warnings:
        parts += ["<h2>Warnings</h2>", f"<ul>{warnings}</ul>"]
    parts.append(f'<p class="sub">spec hash <code>{escape(str(m.get("spec_hash", "")))}</code> · '
                 f'Ainur {escape(str(m.get("ainur_version", "")))} · soundfont '
                 f'{escape(str((m.get("soundfont") or {}).get("name", "")))}</p>')
    return "\n".join(parts)


def _thumb(job_dir: Path) -> str:
    png = job_dir / REPORT_DIR / THUMB_PNG
    try:
        data = png.read_bytes()
    except OSError:
        return '<span class="sub">no preview</span>'
    return f'<img class="thumb" alt="waveform" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def write_batch_index(root: str | Path, batch: dict) -> Path:
    """Write ``root/index.html``: one row per job of ``batch`` (a batch.json document) with a
    thumbnail, status, time, loudness and error; rows link to each job's report."""
    root = Path(root)
    rows = []
    for job in batch.get("jobs", []):
        rel = str(job.get("out_dir", job.get("name", "")))
        job_dir = root / rel
        status = str(job.get("status", "pending"))
        report = (job_dir / REPORT_HTML).is_file()
        name = escape(str(job.get("name", rel)))
        link = f'<a href="{escape(rel)}/{REPORT_HTML}">{name}</a>' if report else name
        lufs = job.get("integrated_lufs")
        rows.append([
            _thumb(job_dir) if status in ("done", "skipped") else "",
            link, escape(str(job.get("preset", ""))), escape(str(job.get("seed", ""))),
            f'<span class="{escape(status)}">{escape(status)}</span>',
            html.fmt(job.get("time_s") or None, ".2f", " s"),
            f'<span data-sort="{lufs if isinstance(lufs, (int, float)) else -999}">{html.fmt(lufs)}</span>',
            html.fmt(job.get("true_peak_dbtp"), ".2f"),
            escape(str(job.get("error") or "")),
        ])
    counts = batch.get("counts", {})
    tiles = html.tiles([(str(counts.get(k, 0)), k) for k in ("done", "skipped", "failed", "cancelled", "pending")]
                       + [(html.fmt(batch.get("wall_s"), ".1f", " s"), f"wall time ({batch.get('executor', '')})")])
    body = "\n".join([
        f"<header><h1>Batch: {len(rows)} jobs</h1><p class=\"sub\">{escape(str(root))} · started "
        f"{escape(str(batch.get('started_at', '')))}</p></header>", tiles,
        "<h2>Jobs</h2><p class=\"sub\">Click a column to sort; click a job for its report.</p>",
        html.table(["preview", "job", "preset", "seed", "status", "time", "LUFS", "true peak", "error"],
                   rows, sortable=True, numeric=(3, 5, 6, 7)),
    ])
    out = root / INDEX_HTML
    try:
        _write_atomic(out, html.page("Ainur batch", body, "batch").encode("utf-8"))
    except OSError as e:
        raise ExportError(f"cannot write the batch index: {e.strerror or e}", file=str(out),
                          allowed="a batch folder you can write to") from None
    return out
