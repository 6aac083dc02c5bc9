"""report.html of one run: summary, every shortfall, seat gap for every stage, early warning,
the plan (builds, mergers, flows, map), targets, class sizes and policy failures, school sizes,
teachers, preschool coverage, costs and readable assumptions. Nothing is cut without a note."""

from __future__ import annotations

import html

import pandas as pd

from capacity.gap.gap import gap_unit
from capacity.plan import closed_text, opened_text
from capacity.report.html import _bar, _cards, fig_tag, page, table_html
from capacity.report.labels import words

SECTIONS = {
    "summary": ("Summary", "概要"),
    "shortfalls": ("Every shortfall", "全部学位缺口"),
    "gap": ("Seat gap by zone and year (status quo)", "各片区分年学位余缺(维持现状)"),
    "warning": ("Early warning", "预警"),
    "plan": ("The plan by year", "分年规划"),
    "mergers": ("Mergers and re-openings", "撤并与恢复"),
    "alternatives": ("Near-optimal alternatives", "近优备选方案"),
    "robust": ("Robust plan against the P50 and P80 plans", "稳健方案与P50、P80方案比较"),
    "map": ("Map of zones, schools and flows", "片区、学校与学生流向图"),
    "targets": ("Targets and progress", "目标与进度"),
    "backtest": ("How accurate the projection has been", "预测回测精度"),
    "classes": ("Class sizes and policy failures", "班额与政策达标"),
    "sizes": ("School sizes", "学校规模"),
    "teachers": ("Teachers", "教师"),
    "coverage": ("Preschool coverage", "学前教育普及"),
    "costs": ("Costs", "经费"),
    "budget": ("Budget needed to close the status-quo gap", "弥补现状缺口所需投资"),
    "assumptions": ("Assumptions", "参数假设"),
}
WARN_COLOURS = {"red": "#e57373", "amber": "#ffd54f", "green": "#a5d6a7", "": "#fff"}


def _h2(key: str, lang: str) -> str:
    en, zh = SECTIONS[key]
    return f'<h2 id="{key}">{html.escape(zh if lang == "zh" else en)}</h2>'


def _en(text: str, lang: str) -> str:
    """A block of English text; marked lang="en" when the page is Chinese."""
    return f'<div lang="en">{text}</div>' if lang == "zh" else text


def shortfall_groups(result) -> pd.DataFrame:
    """Pupils without a seat grouped by zone and stage: the plan's unmet pupils when a plan was
    solved, else the status-quo shortfall of each zone (in the school-level mode the sum of its schools' own
    shortfalls: spare seats at one school do not seat another's pupils). Pupils, never money."""
    names = result.district.zones.set_index("zone_id")["name"]
    if result.plan is not None:
        u = result.plan.tables["unmet"]
        u = (
            u.assign(stage=u["grade"].map(result.district.grades.stage_of_grade))
            .groupby(["zone_id", "stage", "year"], as_index=False)["pupils"]
            .sum()
        )
    else:
        g = result.gap.gap
        if gap_unit(g) == "school":
            u = g[(g["level"] == "school") & (g["shortfall"] > 1e-9)].rename(columns={"shortfall": "pupils"})
            u = u.groupby(["zone_id", "stage", "year"], as_index=False)["pupils"].sum()
        else:
            u = g[(g["level"] == "zone") & (g["shortfall"] > 1e-9)].rename(columns={"area": "zone_id", "shortfall": "pupils"})
            u = u[["zone_id", "stage", "year", "pupils"]]
    u = u[u["pupils"] > 1e-6]
    if not len(u):
        return pd.DataFrame(columns=["zone_id", "zone", "stage", "first_year", "last_year", "years", "most_pupils", "pupil_years"])
    t = u.groupby(["zone_id", "stage"], as_index=False).agg(
        first_year=("year", "min"),
        last_year=("year", "max"),
        years=("year", "nunique"),
        most_pupils=("pupils", "max"),
        pupil_years=("pupils", "sum"),
    )
    t.insert(1, "zone", t["zone_id"].map(names))
    return t.sort_values(["pupil_years"], ascending=False, kind="stable").reset_index(drop=True)


def _warning_table(tl: pd.DataFrame, id_label: str) -> str:
    """A coloured unit x year table of warnings."""
    years = [c for c in tl.columns if c not in ("unit_id", "name")]
    head = "".join(f"<th>{y}</th>" for y in years)
    rows = []
    for r in tl.itertuples(index=False):
        cells = "".join(
            f'<td class="w-{v}" style="background:{WARN_COLOURS.get(v, "#fff")}">{html.escape(v[:1].upper() if v else "")}</td>'
            for v in r[2:]
        )
        rows.append(f"<tr><td>{html.escape(str(r.name))} ({html.escape(str(r.unit_id))})</td>{cells}</tr>")
    return f'<table class="traffic"><tr><th>{html.escape(id_label)}</th>{head}</tr>{"".join(rows)}</table>'


def readable(v: object) -> str:
    """A setting as text a planner reads: mappings as 'key: value' lists, nothing as '-'."""
    if v is None or v == "" or v == [] or v == {}:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {readable(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(readable(x) if not isinstance(x, dict) else "{" + readable(x) + "}" for x in v)
    return str(v)


def assumption_tables(resolved: dict) -> dict[str, pd.DataFrame]:
    """Section -> (parameter, value) table with readable values."""
    out = {}
    top = {k: v for k, v in resolved.items() if not isinstance(v, dict)}
    out["run"] = pd.DataFrame({"parameter": list(top), "value": [readable(v) for v in top.values()]})
    for sec, d in resolved.items():
        if isinstance(d, dict) and d:
            out[sec] = pd.DataFrame({"parameter": list(d), "value": [readable(v) for v in d.values()]})
    return out


def run_report_html(result, manifest: dict, extra: dict | None = None) -> str:
    """The board report of one run (see the module docstring for its sections)."""
    from capacity.gap.warning import worst_by_year
    from capacity.report.gap_plots import band_share_chart, gap_heatmap
    from capacity.report.map_plot import district_map

    extra = extra or {}
    sc, gap, plan, d = result.scenario, result.gap, result.plan, result.district
    by = gap_unit(gap.gap)  # zone, or school in the school-level mode (projection.unit: school)
    rs = sc.report
    lang = rs.language
    w = {**{s.name: s.label for s in d.grades.stages}, **words(lang)}  # the language's stage words where it has them
    unit, div = rs.currency_unit, rs.money_divisor

    def money(v: float) -> str:
        return f"{v / div:,.2f} {unit}" if div > 1 else f"{v:,.0f} {unit}"

    parts = [f"<h1>{html.escape(sc.label)}</h1>", f"<p>{html.escape(sc.description)}</p>"]
    parts.append(
        _en(
            f'<p class="note">District: {html.escape(sc.district)} · years {result.projection.years[0]}-{result.projection.years[-1]}'
            f"{' · projected by school (school-level mode)' if by == 'school' else ''}"
            f" · inputs hash {manifest['inputs_hash'][:12]} · money in {html.escape(unit)}</p>",
            lang,
        )
    )
    groups = shortfall_groups(result)
    cards = []
    if plan is not None:
        s = plan.summary
        cards += [
            ("capital cost", money(s["capital_cost"]), False),
            ("seats added", f"{s['seats_added']:,}", False),
            ("classrooms built", f"{s['classrooms_built']:,}", False),
            ("schools opened / closed", f"{opened_text(s)} / {closed_text(s)}", False),
            ("pupil-years without a seat (pupils, not money)", f"{s['unmet_pupil_years']:,.0f}", s["unmet_pupil_years"] > 0.5),
            ("plan status", f"{s['status']} (gap {s['gap']:.2%})" if s["gap"] == s["gap"] else s["status"], s["status"] != "optimal"),
        ]
        if s.get("plan_from"):  # the decompose strategy: which of its plans is the one returned
            from capacity.plan.strategy import PLAN_FROM

            cards.append(("plan found by", PLAN_FROM[s["plan_from"]], False))
    cards.append(("zone-stage groups with pupils short", f"{len(groups)}", len(groups) > 0))
    act = gap.bands[gap.bands["basis"] == "actual"]
    cards.append((f"classes above standard in {d.last_year}", f"{int(act['classes_above_standard'].sum()):,}", False))
    cards.append((f"{by}s short of seats (status quo)", f"{gap.first_red[f'{by}_id'].nunique()}", len(gap.first_red) > 0))
    red_schools = gap.first_red_units[gap.first_red_units["level"] == "school"] if len(gap.first_red_units) else pd.DataFrame()
    cards.append(
        ("schools that go red (status quo)", f"{red_schools['unit_id'].nunique() if len(red_schools) else 0}", len(red_schools) > 0)
    )
    parts += [_h2("summary", lang), _en(_cards(cards), lang)]
    notes = list(getattr(d, "notes", ()))
    if notes:
        parts.append(
            _en("<p><b>Notes on the input:</b></p><ul>" + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes) + "</ul>", lang)
        )

    # every shortfall: grouped, then the full table (never cut)
    parts.append(_h2("shortfalls", lang))
    basis = "the plan's unmet pupils" if plan is not None else "the status quo (no plan solved)"
    if plan is None and by == "school":
        basis += ", each school's own shortfall summed by zone"
    if len(groups):
        by_stage = groups.groupby("stage", as_index=False).agg(
            zones=("zone_id", "nunique"), most_pupils=("most_pupils", "max"), pupil_years=("pupil_years", "sum")
        )
        parts.append(
            _en(
                f'<p class="note">Pupils without a seat, from {basis}, grouped by zone and stage; all {len(groups)} groups are listed.</p>',
                lang,
            )
        )
        parts.append(_en(table_html(by_stage, max_rows=len(by_stage)), lang))
        parts.append(_en(f'<div id="shortfall-table">{table_html(groups, max_rows=len(groups))}</div>', lang))
    else:
        parts.append(_en(f"<p>No pupil is without a seat in any year ({basis}).</p>", lang))

    # seat gap: every stage that has pupils or seats, diverging scale centred at zero
    parts += [
        _h2("gap", lang),
        _en(
            '<p class="note">Seats minus projected pupils; every shortfall is red (its own scale), spare seats blue, zero white. '
            "Numbers in the cells are seats minus pupils.</p>",
            lang,
        ),
    ]
    if by == "school":
        parts.append(
            _en(
                '<p class="note">School-level mode (projection.unit: school): each school\'s projected pupils against its own seats '
                "(first chart of each stage); a zone's row sums its schools, where their pupils are taught, so spare seats at one "
                "school offset another's shortfall there. The budget closes each school's own shortfall. The plan's demand is "
                "each school's pupils placed in the school's zone; it may reassign pupils between schools within its reach rules.</p>",
                lang,
            )
        )
    zg = gap.gap[gap.gap["level"] == "zone"]
    for stage in [st for st in result.district.grades.stage_names if st in set(zg["stage"])]:
        school = fig_tag(gap_heatmap(gap.gap, stage, level="school"), f"seat gap {stage} by school") if by == "school" else ""
        parts.append(f"<h3>{html.escape(w[stage])}</h3>" + school + fig_tag(gap_heatmap(gap.gap, stage), f"seat gap {stage}"))
    if len(gap.first_red):
        parts += [
            _en(f"<h3>First year each {by} runs short</h3>", lang),
            _en(table_html(gap.first_red, max_rows=len(gap.first_red)), lang),
        ]
    if len(d.projects):
        pr = d.projects.merge(d.schools[["school_id", "name"]], on="school_id", how="left")
        pr = pr[["project_id", "school_id", "name", "completion_year", "stage", "classrooms", "seats", "cost"]].sort_values(
            ["completion_year", "project_id"]
        )
        pr = pr.assign(
            stage=pr["stage"].astype(object).fillna("(the school's first)"),
            seats=pr["seats"].map(lambda v: "(rooms x class size)" if pd.isna(v) else f"{int(v):,}"),
        )
        parts += [
            _en("<h3>Decided projects (fixed inputs)</h3>", lang),
            _en(
                f'<p class="note">Already decided: their seats count in the seat gap and in the plan from their completion year; '
                f"their capital ({money(float(pr['cost'].sum()))}) is not part of this option's capital cost or budget request.</p>",
                lang,
            ),
            _en(table_html(pr.assign(cost=pr["cost"] / div), max_rows=len(pr), floats="{:,.2f}" if div > 1 else "{:,.0f}"), lang),
        ]

    closes = d.decided_closures
    if len(closes):
        dc = d.schools.set_index("school_id").loc[closes.index, ["name", "zone_id", "first_grade", "last_grade"]]
        dc = dc.assign(closed_from=closes).reset_index().sort_values(["closed_from", "school_id"])
        parts += [
            _en("<h3>Decided closures (fixed inputs)</h3>", lang),
            _en(
                '<p class="note">Already decided (schools closed_from): each school teaches until the year before, its seats '
                "count in the seat gap until then, and the plan closes it from that year and seats its pupils elsewhere.</p>",
                lang,
            ),
            _en(table_html(dc, max_rows=len(dc)), lang),
        ]

    # early warning
    amber, red, ahead, wb = rs.warning_rule
    parts += [
        _h2("warning", lang),
        _en(
            f'<p class="note">Status quo, {"entry-grade pupils against intake places" if wb == "intake" else "pupils against seats"}: '
            f"amber at {amber:.0%}, red at {red:.0%}, amber also {ahead} year(s) before a red year"
            f"{' (preset ' + rs.warning_preset + ')' if rs.warning_preset else ''}. R / A / G in the cells.</p>",
            lang,
        ),
    ]
    if len(gap.warnings):
        parts.append(_en("<h3>School districts (zones)</h3>", lang) + _warning_table(worst_by_year(gap.warnings, "zone"), "zone"))
        tl = worst_by_year(gap.warnings, "school")
        flagged = tl[(tl.iloc[:, 2:] != "green").any(axis=1)]
        parts.append(
            _en(f"<h3>Schools (the {len(flagged)} of {len(tl)} that are ever amber or red)</h3>", lang)
            + (_warning_table(flagged, "school") if len(flagged) else "<p>-</p>")
        )
        if len(red_schools):
            parts.append(
                _en("<h3>First red year per school</h3>", lang)
                + _en(table_html(red_schools.drop(columns="level"), max_rows=len(red_schools), floats="{:,.2f}"), lang)
            )

    # the plan
    if plan is not None:
        t = plan.tables
        parts.append(_h2("plan", lang))
        parts.append(
            _en(
                table_html(t["builds"], max_rows=len(t["builds"]))
                if len(t["builds"])
                else "<p>No classrooms are built and no school is opened.</p>",
                lang,
            )
        )
        a = t["assignment"]
        moved = a.groupby("year", as_index=False)[["pupils", "moved", "boarders"]].sum()
        parts += [_en("<h3>Where pupils go</h3>", lang), _en(table_html(moved), lang)]
        m = extra.get("mergers")
        parts.append(_h2("mergers", lang))
        if m is not None and len(m):
            parts.append(
                _en(
                    '<p class="note">Each closed school with its receiving schools, the pupils moved, the straight-line distance '
                    "between the schools and the pupils' travel km in the plan, and boarders; re-openings are listed as events.</p>",
                    lang,
                )
            )
            parts.append(_en(table_html(m, max_rows=len(m), floats="{:,.1f}"), lang))
        else:
            parts.append(_en("<p>No school is closed or re-opened.</p>", lang))
        parts += alternatives_html(result, lang) + robustness_html(result, lang)
    parts.append(_h2("map", lang))
    parts.append(fig_tag(district_map(d, plan.tables if plan is not None else None, extra.get("mergers")), "map"))

    # targets
    tp = extra.get("targets")
    parts.append(_h2("targets", lang))
    if tp is not None and len(tp):
        due = tp[tp["year"] == tp["due"]]
        parts.append(
            _en(
                f'<p class="note">{int(due["met"].sum())} of {len(due)} targets met in their due year (basis: {tp["basis"].iloc[0]}).</p>',
                lang,
            )
        )
        parts.append(_en(table_html(tp, max_rows=len(tp), floats="{:,.2f}"), lang))
    else:
        parts.append(_en("<p>The scenario states no targets (add a <code>targets:</code> section).</p>", lang))

    # the projection's own back-test (issue 16): the method beside persistence and trend, by level and lead
    bt = extra.get("backtest")
    if bt is not None and len(bt):
        from capacity.projection.backtest import backtest_wide

        parts.append(_h2("backtest", lang))
        parts.append(
            _en(
                f'<p class="note">Method {html.escape(result.projection.method)} beside persistence and trend, each origin '
                "seeing only its past: MAPE and bias (% of actual), leave-one-origin-out coverage of the P10-P90 interval (%) "
                "and its width (% of the projection), by lead in years. All levels: projection/backtest.csv.</p>",
                lang,
            )
        )
        for level, label in (("total", "District total"), ("zone_stage", f"{by.capitalize()} x stage")):
            wide = backtest_wide(bt, level).reset_index()
            parts.append(_en(f"<h3>{label}</h3>" + table_html(wide, max_rows=len(wide), floats="{:,.1f}"), lang))

    # class sizes and policy failures
    parts.append(_h2("classes", lang))
    for stage in [st for st in result.district.grades.stage_names if st in set(gap.bands["stage"])]:
        parts.append(fig_tag(band_share_chart(gap.bands, stage, list(gap.settings.bands)), f"class bands {stage}"))
    if plan is not None:
        cl = plan.tables["classes"].assign(above=lambda f: f["max_class_size"] > f["standard"])
        parts.append(
            _en(
                "<h3>Classes in the plan</h3>"
                + table_html(
                    cl.groupby("year", as_index=False).agg(
                        classes=("classes", "sum"), pupils=("pupils", "sum"), school_grades_above_standard=("above", "sum")
                    )
                ),
                lang,
            )
        )
    from capacity.gap.classes import policy_failures
    from capacity.report.targets import option_classes

    sources = [("status quo", gap.policy)]
    if plan is not None:
        sources.insert(0, ("this option's plan", policy_failures(option_classes(result), gap.settings.policy_checks)))
    for who, pf in sources:
        if len(pf):
            cnt = pf.groupby(["policy", "year"], as_index=False).agg(
                schools=("school_id", "nunique"), classes_above_standard=("classes_above_standard", "sum")
            )
            parts.append(_en(f"<h3>Policy failures ({who})</h3>" + table_html(cnt, max_rows=len(cnt)) + table_html(pf, max_rows=200), lang))
        else:
            parts.append(_en(f"<p>No policy failure in {who}.</p>", lang))

    # school sizes
    sz = gap.school_sizes
    above = sz[sz["above_cap"]]
    parts.append(_h2("sizes", lang))
    parts.append(
        _en(
            table_html(
                sz.groupby(["basis", "year"], as_index=False).agg(
                    schools=("school_id", "nunique"), largest=("pupils", "max"), above_cap=("above_cap", "sum")
                )
            )
            + (
                "<h3>Schools above the cap</h3>" + table_html(above, max_rows=len(above))
                if len(above)
                else "<p>No school is above the size cap.</p>"
            ),
            lang,
        )
    )

    # teachers
    te = gap.teachers
    parts.append(_h2("teachers", lang))
    agg = {"teachers_needed": ("teachers", "sum"), "pupils": ("pupils", "sum"), "classes": ("classes", "sum")}
    if "teachers_on_hand" in te:
        agg |= {
            "schools_with_staff_data": ("teachers_on_hand", "count"),
            "teachers_on_hand": ("teachers_on_hand", "sum"),
            "teacher_gap": ("teacher_gap", "sum"),
            "schools_short": ("teacher_gap", lambda x: int((x < 0).sum())),
        }
        note = (
            "Teacher gap = staff on hand - teachers needed (negative: short), from report.teachers_on_hand; "
            "schools without a row there count in teachers_needed only."
        )
    else:
        note = "Teachers needed only: give report.teachers_on_hand (school_id, teachers) to see the gap."
    parts.append(_en(f'<p class="note">{note}</p>' + table_html(te.groupby(["basis", "year"], as_index=False).agg(**agg)), lang))

    # preschool coverage: a China measure of kindergartens, shown only where the system has that stage
    if "kindergarten" in d.grades.stage_by_name:
        parts.append(_h2("coverage", lang))
        cov = gap.coverage
        fl = gap.settings.coverage_floors
        parts.append(
            _en(
                f'<p class="note">Floors: gross enrolment {fl["ger"]:.0%}, public share {fl["public"]:.0%}, inclusive share {fl["inclusive"]:.0%}.</p>'
                + (table_html(cov, floats="{:,.3f}") if len(cov) else "<p>No kindergarten pupils.</p>"),
                lang,
            )
        )

    # costs: money only; unmet pupils are pupils (see the shortfalls), not a cost
    if plan is not None:
        c = plan.tables["costs"]
        c = c[c["category"] != "unmet_penalty"].assign(cost=lambda f: f["cost"] / div)
        parts += [_h2("costs", lang), fig_tag(_bar(c, "year", "category", "cost", "Costs by year and category", unit), "costs")]
        piv = c.pivot_table(index="year", columns="category", values="cost", aggfunc="sum").reset_index()
        piv.columns.name = None
        parts.append(
            _en(
                f'<p class="note">Money in {html.escape(unit)}. Pupils without a seat are counted as pupils above, never as a cost.</p>',
                lang,
            )
        )
        parts.append(_en(table_html(piv, floats="{:,.2f}" if div > 1 else "{:,.0f}"), lang))
    parts += [_h2("budget", lang)]
    bud = gap.budget.groupby("year", as_index=False)[["new_classrooms", "cost"]].sum().assign(cost=lambda f: f["cost"] / div)
    parts.append(_en(table_html(bud.rename(columns={"cost": f"cost ({unit})"}), floats="{:,.2f}" if div > 1 else "{:,.0f}"), lang))

    # assumptions
    parts.append(_h2("assumptions", lang))
    for sec, tab in assumption_tables(sc.resolved).items():
        parts.append(_en(f"<h3>{html.escape(sec)}</h3>" + table_html(tab, max_rows=len(tab)), lang))
    solver = manifest.get("solver", {})
    if solver:
        parts.append(
            _en(
                "<h3>solver</h3>" + table_html(pd.DataFrame({"parameter": list(solver), "value": [readable(v) for v in solver.values()]})),
                lang,
            )
        )
    parts.append(_en('<p class="note">Every parameter is in scenario.json; inputs and versions in manifest.json.</p>', lang))
    return page(f"capacity report: {sc.label}", "\n".join(parts), w["html_lang"])


def alternatives_html(result, lang: str) -> list[str]:
    """The alternatives section: each plan's cost and headline figures, and the decisions where they differ."""
    alts = getattr(result, "alternatives", None)
    if alts is None:
        return []
    from capacity.plan.alternatives import alternative_tables

    figures, differences = alternative_tables(alts)
    intro = (
        f'<p class="note">Plans costing at most {alts.slack:.1%} more than the optimal plan, unseated pupils aside, and leaving '
        f"no more pupils unseated (cost limit {alts.cost_limit:,.0f}), each avoiding the new schools, classroom builds and "
        "closures of the plans before it (Hop-Skip-Jump; "
        "docs/plan-alternatives.md). Each has its own tables in plan/alternatives/.</p>"
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in alts.notes)
    diff = (
        table_html(differences, max_rows=len(differences))
        if len(differences)
        else "<p>No alternative was found that differs from the optimal plan.</p>"
    )
    body = intro + notes + table_html(figures, max_rows=len(figures), floats="{:,.3f}") + "<h3>Where the plans differ</h3>" + diff
    return [_h2("alternatives", lang), _en(body, lang)]


def robustness_html(result, lang: str) -> list[str]:
    """The robust-plan section: the P50, P80 and robust plans' capital and shortfalls on held-out draws."""
    rob = getattr(result, "robustness", None)
    if rob is None:
        return []
    intro = (
        '<p class="note">Each plan\'s builds, openings and closures are fixed and met by demand draws not used to plan; '
        "pupil-years without a seat and costs are per draw (docs/plan-alternatives.md, Robust plans).</p>"
    )
    return [_h2("robust", lang), _en(intro + table_html(rob, max_rows=len(rob), floats="{:,.2f}"), lang)]
