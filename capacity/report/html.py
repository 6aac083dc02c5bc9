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


def page(title: str, body: str) -> str:
    return f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{CHECK}</body></html>\n'


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


def run_report_html(result, manifest: dict) -> str:
    """The board report of one run: summary, seat gap, plan by year, class sizes, costs, assumptions."""
    from capacity.report.gap_plots import band_share_chart, gap_heatmap

    sc, gap, plan = result.scenario, result.gap, result.plan
    parts = [f"<h1>{html.escape(sc.name)}</h1>", f"<p>{html.escape(sc.description)}</p>"]
    parts.append(
        f'<p class="note">District: {html.escape(sc.district)} · years {result.projection.years[0]}-{result.projection.years[-1]} · inputs hash {manifest["inputs_hash"][:12]}</p>'
    )
    cards = []
    if plan is not None:
        s = plan.summary
        cards += [
            ("capital cost", f"{s['capital_cost']:,.0f}", False),
            ("seats added", f"{s['seats_added']:,}", False),
            ("classrooms built", f"{s['classrooms_built']:,}", False),
            ("schools opened / closed", f"{s['schools_opened']} / {s['schools_closed']}", False),
            ("pupil-years without a seat", f"{s['unmet_pupil_years']:,.0f}", s["unmet_pupil_years"] > 0.5),
            ("plan status", f"{s['status']} (gap {s['gap']:.2%})" if s["gap"] == s["gap"] else s["status"], s["status"] != "optimal"),
        ]
        cl = plan.tables["classes"]
        last = cl[cl["year"] == cl["year"].max()]
        above = int(((last["pupils"] > last["standard"] * last["classes"] + 1e-6) | (last["max_class_size"] > last["standard"])).sum())
        cards.append((f"school-grades above standard in {int(cl['year'].max())}", f"{above}", above > 0))
    act = gap.bands[gap.bands["basis"] == "actual"]
    cards.append((f"classes above standard in {result.district.last_year}", f"{int(act['classes_above_standard'].sum()):,}", False))
    cards.append(("zones short of seats (status quo)", f"{gap.first_red['zone_id'].nunique()}", len(gap.first_red) > 0))
    parts += ["<h2>Summary</h2>", _cards(cards)]
    if plan is not None and plan.shortfalls:
        parts.append(
            "<p><b>Remaining shortfalls:</b></p><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in plan.shortfalls[:15]) + "</ul>"
        )
    parts += [
        "<h2>Seat gap by zone and year (status quo)</h2>",
        '<p class="note">Seats minus projected pupils; red cells are short. The early-warning level turns amber two years before a zone runs short.</p>',
    ]
    for stage in ("primary", "junior"):
        parts.append(fig_tag(gap_heatmap(gap.gap, stage), f"seat gap {stage}"))
    if len(gap.first_red):
        parts += ["<h3>First year each zone runs short</h3>", table_html(gap.first_red)]
    if plan is not None:
        t = plan.tables
        parts += ["<h2>The plan by year</h2>"]
        if len(t["builds"]):
            parts.append(table_html(t["builds"]))
        else:
            parts.append("<p>No classrooms are built and no school is opened.</p>")
        sch = t["schools"]
        changes = sch[sch["status"].isin(["closed", "new"])].sort_values("year").drop_duplicates("school_id")
        if len(changes):
            parts += [
                "<h3>Schools opened or merged (first year)</h3>",
                table_html(changes[["year", "school_id", "name", "zone_id", "status"]]),
            ]
        a = t["assignment"]
        moved = a.groupby("year", as_index=False)[["pupils", "moved", "boarders"]].sum()
        parts += ["<h3>Where pupils go</h3>", table_html(moved)]
        parts += ["<h2>Class sizes</h2>", fig_tag(band_share_chart(gap.bands, "primary", list(gap.settings.bands)), "class bands primary")]
        cl = t["classes"].copy()
        cl["above"] = cl["max_class_size"] > cl["standard"]
        parts.append(
            table_html(
                cl.groupby("year", as_index=False).agg(
                    classes=("classes", "sum"), pupils=("pupils", "sum"), school_grades_above_standard=("above", "sum")
                )
            )
        )
        parts += [
            "<h2>Costs</h2>",
            fig_tag(
                _bar(
                    t["costs"][t["costs"]["category"] != "unmet_penalty"],
                    "year",
                    "category",
                    "cost",
                    "Costs by year and category",
                    "currency",
                ),
                "costs",
            ),
        ]
        parts.append(table_html(t["costs"].pivot_table(index="year", columns="category", values="cost", aggfunc="sum").reset_index()))
    else:
        parts += ["<h2>Class sizes</h2>", fig_tag(band_share_chart(gap.bands, "primary", list(gap.settings.bands)), "class bands primary")]
    parts += [
        "<h2>Budget needed to close the status-quo gap</h2>",
        table_html(gap.budget.groupby("year", as_index=False)[["new_classrooms", "cost"]].sum()),
    ]
    key = {
        "horizon": sc.horizon,
        "projection method": result.projection.method,
        "demand quantile (plan)": sc.plan.demand_quantile,
        "class sizes": sc.standards.class_size,
        "travel km": sc.plan.travel_km,
        "budget per year": sc.plan.budget_per_year,
        "closures allowed": sc.plan.allow_closures,
        "new schools allowed": sc.plan.allow_new_schools,
        "builds allowed": sc.plan.allow_builds,
        "births variant": sc.projection.births_variant,
        "solver": manifest.get("solver", {}).get("solver", "-"),
    }
    parts += [
        "<h2>Assumptions</h2>",
        table_html(pd.DataFrame({"parameter": list(key), "value": [str(v) for v in key.values()]})),
        '<p class="note">Every parameter is in scenario.json; inputs and versions in manifest.json.</p>',
    ]
    return page(f"capacity report: {sc.name}", "\n".join(parts))


def compare_report_html(metrics: pd.DataFrame, years: pd.DataFrame, diff: pd.DataFrame) -> str:
    """Side-by-side page: the metrics table, cost and seat charts, and the input diff."""
    parts = ["<h1>Comparison of options</h1>", f'<p class="note">{len(metrics)} scenarios. Costs in the district currency.</p>']
    t = metrics.set_index("scenario").T
    t.columns.name = None
    shown = (
        pd.DataFrame({c: [_fmt_metric(k, v) for k, v in t[c].items()] for c in t.columns}, index=t.index)
        .rename_axis("figure")
        .reset_index()
    )
    parts += ["<h2>Side by side</h2>", table_html(shown, max_rows=100)]
    if len(years):
        parts += [
            "<h2>Capital cost by year</h2>",
            fig_tag(_lines(years, "capital_cost", "Capital cost by year", "currency"), "capital by year"),
        ]
        parts += [
            "<h2>Seats added by year</h2>",
            fig_tag(_lines(years, "seats_added", "Seats added (usable from)", "seats"), "seats by year"),
        ]
    if "capital_cost_total" in metrics:
        parts += ["<h2>Cost and unmet pupils</h2>", fig_tag(_scatter(metrics), "cost vs unmet")]
    parts += [
        "<h2>What differs in the inputs</h2>",
        table_html(diff, max_rows=200) if len(diff) else "<p>The scenarios have the same inputs.</p>",
    ]
    return page("capacity: comparison of options", "\n".join(parts))


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
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        m = metrics.dropna(subset=["capital_cost_total"])
        ax.scatter(m["capital_cost_total"], m["unmet_pupil_years"])
        for r in m.itertuples(index=False):
            ax.annotate(r.scenario, (r.capital_cost_total, r.unmet_pupil_years), fontsize=7)
        ax.set_xlabel("capital cost")
        ax.set_ylabel("pupil-years without a seat")
        ax.grid(alpha=0.3)
        fig.tight_layout()
    return fig
