"""The report's HTML: one page layout (inline CSS, a header, sections of charts and tables, a
footer), the overview page and the course run page.

Pages load the charting library from `assets/plotly.min.js` by a relative path and carry their
figures as JSON in the page, so they open from disk with no network. Every text that comes from
the data is escaped here; figure JSON is escaped so that no `</script>` can end its script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

PLOTLY_ASSET = "assets/plotly.min.js"
PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "displayModeBar": False,
}

CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f3f4f6; --card:#fff;
  --accent:#2563eb; --green:#16a34a; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.5;
  font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { background:#111827; color:#f9fafb; padding:28px 0 24px; }
header.top a { color:#93c5fd; }
.wrap { max-width:1240px; margin:0 auto; padding:0 24px; }
.crumbs { font-size:13px; color:#9ca3af; margin-bottom:6px; }
h1 { margin:0; font-size:28px; font-weight:650; letter-spacing:-.01em; }
.subtitle { color:#d1d5db; margin-top:6px; font-size:14px; }
.subtitle code { color:#e5e7eb; background:rgba(255,255,255,.08); padding:1px 6px;
  border-radius:4px; font-size:13px; }
nav.sections { position:sticky; top:0; z-index:5; background:rgba(255,255,255,.95);
  border-bottom:1px solid var(--line); backdrop-filter:blur(6px); }
nav.sections .wrap { display:flex; gap:22px; overflow-x:auto; padding-top:10px;
  padding-bottom:10px; font-size:14px; white-space:nowrap; }
nav.sections a { color:var(--muted); } nav.sections a:hover { color:var(--ink); }
main { padding:24px 0 40px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:14px;
  margin-bottom:8px; }
.kpi { background:var(--card); border-radius:12px; padding:16px 18px;
  box-shadow:0 1px 2px rgba(0,0,0,.05),0 1px 8px rgba(0,0,0,.03); border-top:3px solid var(--c); }
.kpi .label { color:var(--muted); font-size:13px; font-weight:500; }
.kpi .value { font-size:28px; font-weight:650; margin-top:2px; font-variant-numeric:tabular-nums; }
.kpi .note { color:var(--muted); font-size:12.5px; }
section.group { margin-top:34px; scroll-margin-top:56px; }
section.group > h2 { font-size:20px; margin:0 0 12px; font-weight:650; }
.grid { display:grid; grid-template-columns:repeat(2,minmax(0,1fr)); gap:18px; }
.card { background:var(--card); border-radius:12px; padding:18px 20px 12px;
  box-shadow:0 1px 2px rgba(0,0,0,.05),0 1px 8px rgba(0,0,0,.03); min-width:0; }
.card.wide { grid-column:1 / -1; }
.card h3 { margin:0; font-size:16px; font-weight:620; }
.card p.about { margin:4px 0 8px; color:var(--muted); font-size:13.5px; }
.card .foot { display:flex; justify-content:flex-end; font-size:13px; margin-top:4px; }
.empty { border:1px dashed #cbd5e1; border-radius:10px; padding:26px 18px; margin:8px 0 10px;
  color:var(--muted); text-align:center; background:#f9fafb; font-size:14px; }
.empty strong { display:block; color:var(--ink); font-weight:600; margin-bottom:2px; }
.empty code, .banner code { white-space:nowrap; }
.empty code, p.about code { background:#eef2f7; border-radius:4px; padding:1px 5px; font-size:12.5px;
  color:var(--ink); }
.banner { background:#fffbeb; border:1px solid #fde68a; color:#92400e; border-radius:12px;
  padding:14px 18px; margin:18px 0 0; font-size:14px; }
.table-scroll { overflow-x:auto; margin-top:6px; }
table { border-collapse:collapse; width:100%; font-size:13.5px; font-variant-numeric:tabular-nums; }
th, td { padding:8px 9px; border-bottom:1px solid var(--line); text-align:right;
  white-space:nowrap; }
th { color:var(--muted); font-weight:600; font-size:12.5px; background:#f9fafb; cursor:pointer;
  user-select:none; white-space:normal; vertical-align:bottom; }
th.text, td.text { text-align:left; white-space:normal; }
td.course { min-width:200px; } td.date, th.date { text-align:left; }
th[aria-sort=ascending]::after { content:" ▲"; } th[aria-sort=descending]::after { content:" ▼"; }
tbody tr:hover { background:#f8fafc; }
td .id { display:block; color:var(--muted); font-size:12px; }
.meta { display:flex; flex-wrap:wrap; gap:8px; margin-top:12px; }
.chip { background:rgba(255,255,255,.1); color:#e5e7eb; border-radius:999px; padding:3px 11px;
  font-size:12.5px; }
footer { color:var(--muted); font-size:12.5px; padding:18px 0 40px; border-top:1px solid var(--line); }
@media (max-width: 860px) { .grid { grid-template-columns:1fr; } h1 { font-size:23px; } }
@media (max-width: 520px) { .wrap { padding:0 14px; } .kpis { gap:10px; }
  .kpi { padding:12px 14px; } .kpi .value { font-size:22px; } .card { padding:14px 14px 10px; } }
"""

# Sorts a table by the clicked column (numbers by data-v, text by content); no dependencies.
SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var key = function (row) {
        var cell = row.cells[col];
        var v = cell.getAttribute('data-v');
        return v === null ? cell.textContent.trim().toLowerCase() : parseFloat(v);
      };
      Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === 'number' && isNaN(x)) { return 1; }
        if (typeof y === 'number' && isNaN(y)) { return -1; }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


@dataclass(frozen=True)
class Chart:
    """One chart card: its figure, or a note saying what data would fill it."""

    key: str
    title: str
    about: str
    figure: go.Figure | None
    needs: str
    csv: str | None = None
    wide: bool = False


@dataclass(frozen=True)
class Table:
    """One table card: columns (label, field, kind) over the rows of a frame. Kinds: `text`,
    `date`, `count`, `percent` (of a fraction), `percent1` (one decimal), `number` (two
    decimals), `course` (the field's title linked by `links[row[link_field]]`)."""

    key: str
    title: str
    about: str
    frame: pd.DataFrame
    columns: Sequence[tuple[str, str, str]]
    csv: str | None = None
    needs: str = ""
    links: dict[str, str] = field(default_factory=dict)  # row id -> href (first column)
    link_field: str = ""


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    note: str = ""
    color: str = "#2563eb"


@dataclass(frozen=True)
class Group:
    """A titled section of a page (its id is the anchor the section navigation links to)."""

    key: str
    title: str
    cards: Sequence[Chart | Table]
    needs: str = ""  # what the section needs, said once when none of its cards has data


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def count(value: object) -> str:
    return "\u2013" if value is None or pd.isna(value) else f"{int(value):,}"


def percent(value: object, digits: int = 0) -> str:
    return "\u2013" if value is None or pd.isna(value) else f"{float(value) * 100:.{digits}f} %"


def _script_json(text: str) -> str:
    """JSON text made safe inside a <script> element (no `</script>` can end it)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _with_code(text: str) -> str:
    """Escaped text whose `backticked` parts become <code>."""
    parts = esc(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _empty(needs: str) -> str:
    return (
        f'<div class="empty"><strong>No data landed for this yet.</strong>{_with_code(needs)}</div>'
    )


def has_data(card: Chart | Table) -> bool:
    """Whether the card shows a chart or rows (else it shows a note)."""
    return card.figure is not None if isinstance(card, Chart) else not card.frame.empty


def _empty_group(group: Group) -> str:
    """One note for a section none of whose charts has data: what it would show, and what it
    needs."""
    needs = group.needs or " ".join(dict.fromkeys(card.needs for card in group.cards))
    return (
        f'<div class="card wide" id="card-{esc(group.key)}"><div class="empty">'
        f"<strong>No data landed for this yet.</strong>{_with_code(needs)}</div></div>"
    )


def _csv_link(href: str | None, prefix: str) -> str:
    if not href:
        return ""
    return f'<div class="foot"><a href="{esc(prefix + href)}" download>Download CSV</a></div>'


def _chart(chart: Chart, prefix: str) -> str:
    head = f"<h3>{esc(chart.title)}</h3><p class='about'>{esc(chart.about)}</p>"
    if chart.figure is None:
        body = _empty(chart.needs)
        link = ""
    else:
        body = f'<div id="{esc(chart.key)}" class="plotly-graph-div chart"></div>'
        link = _csv_link(chart.csv, prefix)
    wide = " wide" if chart.wide else ""
    return f'<div class="card{wide}" id="card-{esc(chart.key)}">{head}{body}{link}</div>'


def _cell(row: pd.Series, field_name: str, kind: str) -> str:
    value = row.get(field_name)
    missing = value is None or (not isinstance(value, str) and pd.isna(value))
    if kind in ("text", "date"):
        return f'<td class="{kind}">{esc("" if missing else value)}</td>'
    if missing:
        return "<td>\u2013</td>"
    shown = {
        "percent": lambda: percent(value),
        "percent1": lambda: percent(value, 1),
        "number": lambda: f"{float(value):,.2f}",
    }.get(kind, lambda: count(value))()
    return f'<td data-v="{float(value)!r}">{shown}</td>'


_TH_CLASS = {"text": "text", "course": "text", "date": "date"}


def _table(table: Table, prefix: str) -> str:
    head = f"<h3>{esc(table.title)}</h3><p class='about'>{esc(table.about)}</p>"
    if table.frame.empty:
        return f'<div class="card wide">{head}{_empty(table.needs)}</div>'
    ths = "".join(
        f'<th class="{_TH_CLASS.get(kind, "")}" scope="col">{esc(label)}</th>'
        for label, _, kind in table.columns
    )
    rows = []
    for _, row in table.frame.iterrows():
        cells = []
        for _label, name, kind in table.columns:
            if kind == "course":
                ident = str(row[table.link_field])
                title = row.get(name)
                title = ident if title is None or pd.isna(title) else str(title)
                href = table.links.get(ident)
                shown = f'<a href="{esc(prefix + href)}">{esc(title)}</a>' if href else esc(title)
                cells.append(
                    f'<td class="text course">{shown}<span class="id">{esc(ident)}</span></td>'
                )
            else:
                cells.append(_cell(row, name, kind))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    body = (
        '<div class="table-scroll"><table class="sortable">'
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return (
        f'<div class="card wide" id="card-{esc(table.key)}">{head}{body}'
        f"{_csv_link(table.csv, prefix)}</div>"
    )


def _kpis(kpis: Sequence[Kpi]) -> str:
    cards = "".join(
        f'<div class="kpi" style="--c:{esc(k.color)}"><div class="label">{esc(k.label)}</div>'
        f'<div class="value">{esc(k.value)}</div><div class="note">{esc(k.note)}</div></div>'
        for k in kpis
    )
    return f'<div class="kpis">{cards}</div>'


def render_page(
    *,
    title: str,
    heading: str,
    subtitle_html: str,
    crumbs_html: str,
    chips: Sequence[str],
    kpis: Sequence[Kpi],
    groups: Sequence[Group],
    footer: str,
    prefix: str,
    banner: str = "",
) -> str:
    """A whole page. `prefix` leads from the page to the report's root ("" or "../")."""
    figures: dict[str, str] = {}
    sections = []
    for group in groups:
        cards = []
        if len(group.cards) > 1 and not any(has_data(card) for card in group.cards):
            cards.append(_empty_group(group))
        for card in [] if cards else group.cards:
            if isinstance(card, Chart):
                cards.append(_chart(card, prefix))
                if card.figure is not None:
                    figures[card.key] = pio.to_json(card.figure, validate=False, remove_uids=True)
            else:
                cards.append(_table(card, prefix))
        sections.append(
            f'<section class="group" id="{esc(group.key)}"><h2>{esc(group.title)}</h2>'
            f'<div class="grid">{"".join(cards)}</div></section>'
        )
    nav = "".join(f'<a href="#{esc(g.key)}">{esc(g.title)}</a>' for g in groups)
    chip_html = "".join(f'<span class="chip">{esc(c)}</span>' for c in chips)
    plots = ",".join(f"{_script_json(json.dumps(k))}:{_script_json(v)}" for k, v in figures.items())
    script = (
        f'<script src="{esc(prefix + PLOTLY_ASSET)}"></script>\n'
        "<script>\n"
        f"var FIGURES = {{{plots}}};\nvar CONFIG = {_script_json(json.dumps(PLOTLY_CONFIG))};\n"
        "Object.keys(FIGURES).forEach(function (id) {\n"
        "  var fig = FIGURES[id];\n"
        "  Plotly.newPlot(id, fig.data, fig.layout, CONFIG);\n"
        "});\n"
        f"{SORT_JS}</script>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<div class="crumbs">{crumbs_html}</div>
<h1>{esc(heading)}</h1>
<div class="subtitle">{subtitle_html}</div>
<div class="meta">{chip_html}</div>
</div></header>
<nav class="sections"><div class="wrap">{nav}</div></nav>
<main><div class="wrap">
{_kpis(kpis)}
{f'<div class="banner">{_with_code(banner)}</div>' if banner else ""}
{"".join(sections)}
</div></main>
<footer><div class="wrap">{esc(footer)}</div></footer>
{script}
</body>
</html>
"""
