"""Self-contained HTML reports (charts embedded, no network) for runs and comparisons."""

from __future__ import annotations

import base64
import html
import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from capacity.report.fonts import font_rc

STYLE = """
body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{color:#1f4e79}h2{color:#1f4e79;border-bottom:2px solid #1f4e79;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#1f4e79;color:#fff}td:first-child,th:first-child{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:12em}
.card b{display:block;font-size:1.4em;color:#1f4e79}.red{color:#b00020}.note{color:#555;font-size:.85em}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
"""

CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-rendered', ok ? 'yes' : 'no');
});
</script>
"""


def fig_tag(fig: plt.Figure, alt: str) -> str:
    """<img> with the figure as an embedded PNG (the figure is closed)."""
    buf = io.BytesIO()
    with plt.rc_context(font_rc()):
        fig.savefig(buf, format="png")
    plt.close(fig)
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def table_html(frame: pd.DataFrame, max_rows: int = 60, floats: str = "{:,.0f}") -> str:
    """A plain HTML table (numbers formatted), cut to ``max_rows`` with a note."""
    f = frame.head(max_rows)
    fmt = {c: (lambda v, s=floats: s.format(v) if pd.notna(v) else "") for c in f.columns if f[c].dtype.kind == "f"}
    out = f.to_html(index=False, escape=True, formatters=fmt, border=0, na_rep="")
    if len(frame) > max_rows:
        out += f'<p class="note">First {max_rows} of {len(frame):,} rows; all rows are in the CSV files.</p>'
    return out


def page(title: str, body: str, lang: str = "en") -> str:
    """A whole HTML page; ``lang`` is the language its text is written in."""
    return f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{CHECK}</body></html>\n'


def _cards(items: list[tuple[str, str, bool]]) -> str:
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b class="{"red" if red else ""}">{html.escape(v)}</b>{html.escape(k)}</div>' for k, v, red in items)
        + "</div>"
    )


def _bar(frame: pd.DataFrame, index: str, columns: str, values: str, title: str, ylabel: str) -> plt.Figure:
    t = frame.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0)
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
        bottom = np.zeros(len(t))
        for c in t.columns:
            ax.bar(t.index.astype(str), t[c].to_numpy(), bottom=bottom, label=str(c))
            bottom += t[c].to_numpy()
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, ncols=2)
        fig.tight_layout()
    return fig


METRIC_LABELS = {
    "first_red_year": "first year a zone runs short (status quo)",
    "zones_short_status_quo": "zones short of seats (status quo)",
    "schools_short_status_quo": "schools short of seats (status quo, school-level mode)",
    "plan_status": "plan status",
    "plan_gap": "plan optimality gap",
    "capital_cost_total": "capital cost, total",
    "capital_cost_per_year": "capital cost per year",
    "operating_cost_total": "operating cost, total",
    "operating_cost_per_year": "operating cost per year",
    "seats_added": "seats added",
    "classrooms_built": "classrooms built",
    "schools_opened": "schools opened",
    "schools_opened_decided": "decided new schools opened",
    "schools_extended": "schools extended",
    "schools_closed": "schools closed",
    "schools_closed_decided": "of them by a decided closure",
    "schools_merged": "schools merged (closed)",
    "schools_reopened": "schools re-opened",
    "pupils_moved_by_mergers": "pupils moved by mergers",
    "unmet_pupil_years": "pupil-years without a seat (pupils)",
    "classes_above_standard": "classes above standard",
    "classes_56_plus": "classes of 56 or more",
    "classes_66_plus": "classes of 66 or more",
    "pupils_moved_last_year": "pupils away from their home school, last year",
    "travel_km_mean_last_year": "mean travel km, last year",
    "travel_km_p95_last_year": "95th percentile travel km, last year",
    "boarders_last_year": "boarders, last year",
    "teachers_needed_last_year": "teachers needed, last year",
    "targets_met": "targets met in their due year",
}


def metric_label(name: str) -> str:
    """Readable name of a comparison figure (the CSV keeps the snake_case key)."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


def compare_report_html(metrics: pd.DataFrame, years: pd.DataFrame, diff: pd.DataFrame, extra: dict | None = None) -> str:
    """Side-by-side page: the metrics table, cost and seat charts, targets, mergers and the input diff."""
    extra = extra or {}
    parts = ["<h1>Comparison of options</h1>", f'<p class="note">{len(metrics)} scenarios. Costs in the district currency.</p>']
    if extra.get("notes"):
        parts.append("<p><b>Notes:</b></p><ul>" + "".join(f"<li>{html.escape(str(n))}</li>" for n in extra["notes"]) + "</ul>")
    t = metrics.set_index("scenario").T
    t.columns.name = None
    shown = pd.DataFrame({c: [_fmt_metric(k, v) for k, v in t[c].items()] for c in t.columns}, index=[metric_label(k) for k in t.index])
    shown = shown.rename_axis("figure").reset_index()
    parts += ['<h2 id="side-by-side">Side by side</h2>', table_html(shown, max_rows=len(shown))]
    if len(years):
        parts += [
            '<h2 id="capital">Capital cost by year</h2>',
            fig_tag(_lines(years, "capital_cost", "Capital cost by year", "currency"), "capital by year"),
        ]
        parts += [
            '<h2 id="seats">Seats added by year</h2>',
            fig_tag(_lines(years, "seats_added", "Seats added (usable from)", "seats"), "seats by year"),
        ]
    if "capital_cost_total" in metrics:
        parts += ['<h2 id="scatter">Cost and unmet pupils</h2>', fig_tag(_scatter(metrics), "cost vs unmet")]
    tg = extra.get("targets")
    parts.append('<h2 id="targets">Targets: planned value in the due year</h2>')
    parts.append(table_html(tg, max_rows=len(tg), floats="{:,.2f}") if tg is not None and len(tg) else "<p>No run states targets.</p>")
    mg = extra.get("mergers")
    parts.append('<h2 id="mergers">Mergers and re-openings</h2>')
    parts.append(
        table_html(mg, max_rows=len(mg), floats="{:,.1f}") if mg is not None and len(mg) else "<p>No run closes or re-opens a school.</p>"
    )
    parts += _plan_choice_parts(extra)
    parts += [
        '<h2 id="diff">What differs in the inputs</h2>',
        table_html(diff, max_rows=len(diff)) if len(diff) else "<p>The scenarios have the same inputs.</p>",
    ]
    return page("capacity: comparison of options", "\n".join(parts))


def _plan_choice_parts(extra: dict) -> list[str]:
    """Near-optimal alternatives and robust-plan evaluations of the runs that have them."""
    out = []
    for key, title in (
        ("alternatives", "Near-optimal alternatives: cost and figures"),
        ("alternative_differences", "Near-optimal alternatives: where the plans differ"),
        ("robustness", "Robust plan against the P50 and P80 plans (held-out draws)"),
    ):
        t = extra.get(key)
        if t is not None and len(t):
            out += [f'<h2 id="{key.replace("_", "-")}">{title}</h2>', table_html(t, max_rows=len(t), floats="{:,.3f}")]
    return out


def _fmt_metric(name: str, v) -> str:
    """Human-readable value of a comparison figure."""
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, str):
        return v
    if name == "plan_gap":
        return f"{float(v):.2%}"
    if "km" in name:
        return f"{float(v):,.1f}"
    if name.endswith("_year") and name.startswith("first"):
        return str(int(v))
    return f"{float(v):,.0f}"


def _lines(years: pd.DataFrame, col: str, title: str, ylabel: str) -> plt.Figure:
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
        for name, g in years.groupby("scenario", sort=False):
            ax.plot(g["year"], g[col], marker="o", label=name)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
    return fig


def _scatter(metrics: pd.DataFrame) -> plt.Figure:
    """Capital cost against unmet pupil-years, each point labelled where its label overlaps no other."""
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
        m = metrics.dropna(subset=["capital_cost_total"])
        ax.scatter(m["capital_cost_total"], m["unmet_pupil_years"])
        ax.set_xlabel("capital cost")
        ax.set_ylabel("pupil-years without a seat")
        ax.grid(alpha=0.3)
        ax.margins(0.15)
        fig.tight_layout()
        fig.canvas.draw()
        place_labels(ax, list(zip(m["capital_cost_total"], m["unmet_pupil_years"], strict=True)), list(m["scenario"].astype(str)))
    return fig


OFFSETS = [(6, 6), (6, -12), (-6, 6), (-6, -12), (6, 18), (6, -24), (-6, 18), (-6, -24), (12, 30), (12, -36), (-12, 30), (-12, -36)]


def place_labels(ax, points: list[tuple[float, float]], texts: list[str]) -> list:
    """Annotate ``points`` with ``texts``, trying offsets until a label overlaps no label placed
    before it and no other point (else the least-overlapping offset); returns the annotations."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(points) if points else []
    frame = ax.get_window_extent(renderer)
    placed = []
    out = []
    for (x, y), text in zip(points, texts, strict=True):
        best, best_score = None, None
        for dx, dy in OFFSETS:
            a = ax.annotate(text, (x, y), (dx, dy), textcoords="offset points", fontsize=7, ha="left" if dx > 0 else "right")
            bb = a.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = _overlap(bb, frame) / max(bb.width * bb.height, 1e-9)
            score = sum(_overlap(bb, p) for p in placed) + sum(bb.contains(px, py) for px, py in pts) * 100.0 + (1 - inside) * 1e4
            if best_score is None or score < best_score:
                if best is not None:
                    best.remove()
                best, best_score, best_bb = a, score, bb
            else:
                a.remove()
            if score == 0:
                break
        placed.append(best_bb)
        out.append(best)
    return out


def _overlap(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0
