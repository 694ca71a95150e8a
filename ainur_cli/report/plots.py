"""Report figures as PNG bytes (matplotlib's Agg canvas; no pyplot, no global state).

Every figure shares one time axis in seconds, with the song's sections shaded behind it.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ainur_cli.report.analysis import (
    FLOOR_LUFS,
    RenderData,
    envelope,
    momentary_lufs,
    short_term_curve,
    spectrogram_db,
)

DPI = 100
WIDTH_IN = 11.0
_KIND_COLOURS = {
    "intro": "#9ecae1", "verse": "#a1d99b", "pre-chorus": "#fdd0a2", "chorus": "#fc9272",
    "post-chorus": "#fcbba1", "bridge": "#bcbddc", "breakdown": "#c7e9c0", "build": "#fdae6b",
    "drop": "#ef3b2c", "solo": "#dadaeb", "instrumental": "#d9d9d9", "outro": "#6baed6",
}
_STEM_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def section_colour(kind: str) -> str:
    return _KIND_COLOURS.get(kind, "#e0e0e0")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def _sections(data: RenderData) -> list[dict]:
    return [s for s in data.manifest.get("sections", []) if "start_s" in s and "end_s" in s]


def _shade(ax, data: RenderData, alpha: float = 0.25) -> None:
    for s in _sections(data):
        ax.axvspan(s["start_s"], s["end_s"], color=section_colour(s.get("kind", "")),
                   alpha=alpha, lw=0, zorder=0)
        ax.axvline(s["start_s"], color="#555555", lw=0.6, alpha=0.6, zorder=1)


def _time_axis(ax, data: RenderData, label: bool = True) -> None:
    ax.set_xlim(0.0, data.duration_s)
    if label:
        ax.set_xlabel("time (s)")


def overview_png(data: RenderData) -> bytes:
    """Waveform (top) and spectrogram (bottom) of the mix, sections shaded and named."""
    fig = Figure(figsize=(WIDTH_IN, 5.2), dpi=DPI, layout="constrained")
    ax_w, ax_s = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])
    t, lo, hi = envelope(data.mix, data.sample_rate)
    _shade(ax_w, data)
    ax_w.fill_between(t, lo, hi, color="#253494", lw=0, zorder=2)
    ax_w.set_ylim(-1.05, 1.05)
    ax_w.set_ylabel("mix amplitude")
    for s in _sections(data):
        ax_w.text(s["start_s"], 1.0, f" {s.get('name', '')}", va="top", ha="left", fontsize=8,
                  clip_on=True, zorder=3)
    ts, f_hz, db = spectrogram_db(data.mix, data.sample_rate)
    keep = f_hz >= 30.0
    mesh = ax_s.pcolormesh(ts, f_hz[keep], db[keep], shading="nearest", cmap="magma",
                           vmin=-100.0, vmax=-10.0, rasterized=True)
    ax_s.set_yscale("log")
    ax_s.set_ylim(30.0, data.sample_rate / 2.0)
    ax_s.set_ylabel("frequency (Hz)")
    for s in _sections(data):
        ax_s.axvline(s["start_s"], color="white", lw=0.6, alpha=0.7)
    fig.colorbar(mesh, ax=ax_s, label="dBFS", pad=0.01)
    _time_axis(ax_s, data)
    return _png(fig)


def sections_png(data: RenderData) -> bytes:
    """The section map: one coloured block per section on the time line, with its bars."""
    fig = Figure(figsize=(WIDTH_IN, 1.5), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    for s in _sections(data):
        width = s["end_s"] - s["start_s"]
        ax.broken_barh([(s["start_s"], width)], (0, 1), facecolors=section_colour(s.get("kind", "")),
                       edgecolor="#333333", lw=0.8)
        bars = s.get("bars")
        label = s.get("name", "")
        sub = f"bar {s.get('start_bar', '?')}" + (f", {bars} bar{'s' if bars != 1 else ''}" if bars else "")
        ax.text(s["start_s"] + width / 2, 0.62, label, ha="center", va="center", fontsize=9,
                fontweight="bold", clip_on=True)
        ax.text(s["start_s"] + width / 2, 0.28, sub, ha="center", va="center", fontsize=7,
                clip_on=True)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    _time_axis(ax, data)
    return _png(fig)


def stems_png(data: RenderData) -> bytes:
    """Each stem's momentary loudness (LUFS, 400 ms) over time."""
    fig = Figure(figsize=(WIDTH_IN, 3.6), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    _shade(ax, data, alpha=0.18)
    integrated = {f.get("part"): f.get("integrated_lufs") for f in data.manifest.get("files", [])}
    for i, name in enumerate(data.stems):
        t, lufs = momentary_lufs(data.stem(name), data.sample_rate)
        value = integrated.get(name)
        label = f"{name} ({value:.1f})" if isinstance(value, (int, float)) else f"{name} (silent)"
        ax.plot(t, lufs, lw=1.3, color=_STEM_COLOURS[i % len(_STEM_COLOURS)], label=label)
    ax.set_ylim(max(FLOOR_LUFS, _low(data)), 0.0)
    ax.set_ylabel("momentary LUFS")
    ax.grid(alpha=0.3)
    if data.stems:
        ax.legend(loc="lower right", ncols=min(6, len(data.stems)), fontsize=8, framealpha=0.8)
    else:
        ax.text(0.5, 0.5, "no stems in this render", transform=ax.transAxes, ha="center")
    _time_axis(ax, data)
    return _png(fig)


def _low(data: RenderData) -> float:
    """A sensible bottom for loudness axes: the quietest stem's integrated loudness − 25 LU."""
    values = [f.get("integrated_lufs") for f in data.manifest.get("files", [])]
    values = [v for v in values if isinstance(v, (int, float))]
    return (min(values) - 25.0) if values else -60.0


def loudness_png(data: RenderData) -> bytes:
    """The mix's short-term loudness (3 s) and momentary loudness against the target."""
    fig = Figure(figsize=(WIDTH_IN, 3.6), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    _shade(ax, data, alpha=0.18)
    tm, mom = momentary_lufs(data.mix, data.sample_rate)
    ax.plot(tm, mom, lw=0.8, color="#9e9ac8", label="momentary (400 ms)")
    ts, st = short_term_curve(data.mix, data.sample_rate)
    if ts.size:
        ax.plot(ts, st, lw=2.0, color="#08519c", label="short-term (3 s)")
    else:
        ax.text(0.5, 0.9, "song shorter than 3 s: no short-term loudness", transform=ax.transAxes,
                ha="center", fontsize=8)
    target = data.manifest.get("target_lufs")
    if isinstance(target, (int, float)):
        ax.axhline(target, color="#d62728", ls="--", lw=1.3, label=f"target {target:g} LUFS")
    integrated = _mix_entry(data).get("integrated_lufs")
    if isinstance(integrated, (int, float)):
        ax.axhline(integrated, color="#2ca02c", ls=":", lw=1.3,
                   label=f"integrated {integrated:.1f} LUFS")
    finite = [float(v) for v in (target, integrated) if isinstance(v, (int, float))]
    top = min(0.0, max(finite + [float(np.max(mom)) if mom.size else -20.0]) + 3.0)
    low = min(finite + [float(np.percentile(mom, 5)) if mom.size else top - 24.0]) - 4.0
    ax.set_ylim(max(FLOOR_LUFS, min(low, top - 24.0)), top)
    ax.set_ylabel("LUFS")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.8)
    _time_axis(ax, data)
    return _png(fig)


def _mix_entry(data: RenderData) -> dict:
    for f in data.manifest.get("files", []):
        if f.get("part") == "mix":
            return f
    return {}


def thumbnail_png(data: RenderData) -> bytes:
    """A small waveform with section colours, for the batch index (320 x 70 px)."""
    fig = Figure(figsize=(3.2, 0.7), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    t, lo, hi = envelope(data.mix, data.sample_rate, columns=320)
    _shade(ax, data, alpha=0.45)
    ax.fill_between(t, lo, hi, color="#253494", lw=0, zorder=2)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0.0, data.duration_s)
    ax.set_axis_off()
    return _png(fig)
