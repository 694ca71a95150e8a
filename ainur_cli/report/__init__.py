"""Render reports: a self-contained HTML page per render, and an index page per batch.

Public surface (matplotlib and the audio stack are imported only when one is called)::

    write_report(render_dir) -> Path          # <render_dir>/report.html (+ report/*.png)
    write_batch_index(batch_root, batch) -> Path   # <batch_root>/index.html
    report_folder(path) -> list[Path]         # a render, a batch, or a folder of renders
"""

from __future__ import annotations

import json
from pathlib import Path


def _need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from ainur_cli.errors import MissingDependencyError

        raise MissingDependencyError("reports need matplotlib", field="--report",
                                     allowed="pip install matplotlib") from None


def write_report(render_dir: str | Path) -> Path:
    """Write ``<render_dir>/report.html`` for a finished render; see :mod:`.pages`."""
    _need_matplotlib()
    from ainur_cli.report.pages import write_report as _write

    return _write(render_dir)


def write_batch_index(root: str | Path, batch: dict) -> Path:
    """Write ``<root>/index.html`` for a batch.json document; see :mod:`.pages`."""
    _need_matplotlib()
    from ainur_cli.report.pages import write_batch_index as _write

    return _write(root, batch)


def _finished_renders(root: Path) -> list[Path]:
    """Render folders (holding manifest.json) below ``root``, skipping hidden staging folders."""
    found = []
    for manifest in sorted(root.rglob("manifest.json")):
        rel = manifest.parent.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        found.append(manifest.parent)
    return found


def report_folder(path: str | Path) -> list[Path]:
    """Write reports for ``path``: a render folder (its page), a batch folder (a page per
    finished job + index.html), or any folder holding renders (their pages + index.html).

    :returns: the pages written, the index (if any) last.
    :raises ExportError: when ``path`` holds no finished render.
    """
    from ainur_cli.batch.runner import BATCH_JSON, load_batch_json
    from ainur_cli.errors import ExportError

    root = Path(path)
    if (root / "manifest.json").is_file():
        return [write_report(root)]
    if not root.is_dir():
        raise ExportError("no such folder", file=str(root),
                          allowed="a render folder, a batch folder, or a folder of renders")
    if (root / BATCH_JSON).is_file():
        batch = load_batch_json(root)
        pages = []
        for job in batch["jobs"]:
            job_dir = root / str(job.get("out_dir", ""))
            if job.get("status") in ("done", "skipped") and (job_dir / "manifest.json").is_file():
                pages.append(write_report(job_dir))
        return pages + [write_batch_index(root, batch)]
    renders = _finished_renders(root)
    if not renders:
        raise ExportError("no finished render found here", file=str(root),
                          allowed="a folder holding manifest.json (a render) or batch.json")
    jobs = []
    for d in renders:
        m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        mix = next((f for f in m.get("files", []) if f.get("part") == "mix"), {})
        rel = d.relative_to(root).as_posix()
        jobs.append({"name": rel, "out_dir": rel, "preset": m.get("preset"), "seed": m.get("seed"),
                     "status": "done", "time_s": None, "integrated_lufs": mix.get("integrated_lufs"),
                     "true_peak_dbtp": mix.get("true_peak_dbtp"), "error": None})
    pages = [write_report(d) for d in renders]
    counts = {"done": len(jobs)}
    index = write_batch_index(root, {"jobs": jobs, "counts": counts, "executor": "renders found",
                                     "started_at": ""})
    return pages + [index]
