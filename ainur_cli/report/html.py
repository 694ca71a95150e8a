"""HTML for render reports and batch index pages: one self-contained file each.

Images are embedded as ``data:`` URIs, styles and the small script are inline: a page can be
mailed or opened from anywhere. Links to audio files are relative to the page.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Iterable, Sequence

from ainur_cli import __version__

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1140px;color:#1d1d1f;background:#fafafa;padding:0 16px}
h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#555;margin:0 0 12px}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}
th{background:#f0f0f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
img.fig{width:100%;max-width:1100px;border:1px solid #ddd;background:#fff}
img.thumb{width:240px;height:auto;display:block;border:1px solid #ddd}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px;margin:8px 0}
.kv div{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.kv b{display:block;font-size:20px}.kv span{color:#666;font-size:12px}
.done{color:#1a7f37}.skipped{color:#0969da}.failed,.cancelled{color:#cf222e;font-weight:bold}
.pending{color:#8250df}.warn{color:#9a6700}
th.sortable{cursor:pointer}th.sortable:after{content:" \\2195";color:#999}
footer{margin:32px 0 8px;color:#888;font-size:12px}
"""

# Marks the page as checked: every image decoded (data-images-ok), and makes tables with
# class "sortable" sortable by clicking a header (numbers numerically).
SCRIPT = """
(function () {
  function check() {
    var imgs = Array.prototype.slice.call(document.images);
    var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
    document.body.setAttribute("data-images", String(imgs.length));
    document.body.setAttribute("data-images-ok", bad.length === 0 ? "yes" : "no");
  }
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent.trim(); }
    var n = parseFloat(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("data-dir") !== "asc";
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    th.setAttribute("data-dir", asc ? "asc" : "desc");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.classList.add("sortable");
      th.addEventListener("click", function () { sortBy(table, col, th); });
    });
  });
  if (document.readyState === "complete") { check(); } else { window.addEventListener("load", check); }
})();
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def fmt(value, spec: str = ".1f", unit: str = "", none: str = "–") -> str:
    """A number for a table cell (``none`` for None / non-numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return none
    return f"{value:{spec}}{unit}"


def page(title: str, body: str, kind: str) -> str:
    """A complete HTML document around ``body`` (already escaped HTML)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body data-report=\"{escape(kind)}\">\n{body}\n"
        f"<footer>Written by Ainur {escape(__version__)}.</footer>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, sortable: bool = False,
          numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are HTML already (escape text before passing it)."""
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cells.append(f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def tiles(items: Iterable[tuple[str, str]]) -> str:
    """Big-number tiles: (value, label) pairs, both plain text."""
    return '<div class="kv">' + "".join(
        f"<div><b>{escape(v)}</b><span>{escape(k)}</span></div>" for v, k in items) + "</div>"


def figure(png: bytes, alt: str, file: str) -> str:
    """An embedded figure (the same PNG is also written to ``file`` beside the page)."""
    return (f'<img class="fig" src="{data_uri(png)}" alt="{escape(alt)}" '
            f'data-file="{escape(file)}">')
