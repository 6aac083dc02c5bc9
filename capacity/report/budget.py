"""The budget request of one option: its own projects, capital by year and stage with totals,
the change in operating cost, and the status-quo need beside it, in a chosen money unit and
language. Money in the tables is in the displayed unit (district figures / divisor)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capacity.gap import rounded_for_csv
from capacity.grades import GradeSystem
from capacity.report.labels import words
from capacity.report.settings import ReportSettings


@dataclass(frozen=True)
class BudgetTables:
    """Tables of a budget request (English column names; money in the displayed unit).

    projects: year, usable_from, school_id, school, zone_id, zone, stage, what, classrooms, seats, cost.
    capital: year, one column per stage, total (a final row 'Total').
    operating: year, option, status_quo, change (empty without a plan).
    status_quo: year, stage, shortfall, new_classrooms, cost (a final row 'Total').
    """

    projects: pd.DataFrame
    capital: pd.DataFrame
    operating: pd.DataFrame
    status_quo: pd.DataFrame
    option_capital: float
    status_quo_capital: float


def _stage_of_school(district) -> pd.Series:
    s = district.schools.set_index("school_id")
    return s["first_grade"].map(district.grades.stage_of_grade)


def plan_projects(builds: pd.DataFrame, district) -> pd.DataFrame:
    """The plan's builds with where they are and their stage (cost in district currency)."""
    s = district.schools.set_index("school_id")
    zn = district.zones.set_index("zone_id")["name"]
    b = builds.copy()
    b["zone_id"] = b["school_id"].map(s["zone_id"])
    out = pd.DataFrame(
        {
            "year": b["year"].astype(int),
            "usable_from": b["usable_from"].astype(int),
            "school_id": b["school_id"],
            "school": b["name"],
            "zone_id": b["zone_id"],
            "zone": b["zone_id"].map(zn),
            "stage": b["school_id"].map(_stage_of_school(district)),
            "what": b["kind"],
            "classrooms": b["classrooms"].astype(int),
            "seats": b["seats"].astype(int),
            "cost": b["cost"].astype(float),
        }
    )
    return out.sort_values(["year", "stage", "school_id"], kind="stable").reset_index(drop=True)


def status_quo_projects(gap_budget: pd.DataFrame) -> pd.DataFrame:
    """The status quo's need as project rows (one per zone, stage and year with new classrooms; in the school-level
    mode one per school: an extension of that school)."""
    b = gap_budget[gap_budget["new_classrooms"] > 0]
    by_school = "school_id" in b
    return pd.DataFrame(
        {
            "year": b["year"].astype(int),
            "usable_from": b["year"].astype(int),
            "school_id": b["school_id"] if by_school else "",
            "school": b["name"] if by_school else "",
            "zone_id": b["zone_id"],
            "zone": "" if by_school else b["name"],
            "stage": b["stage"],
            "what": "extend",
            "classrooms": b["new_classrooms"].astype(int),
            "seats": 0,
            "cost": b["cost"].astype(float),
        }
    ).reset_index(drop=True)


def capital_by_year_stage(projects: pd.DataFrame, years: list[int], grades: GradeSystem, total_label: str = "Total") -> pd.DataFrame:
    """year x stage capital with a total column and a totals row (money as in ``projects``)."""
    t = projects.pivot_table(index="year", columns="stage", values="cost", aggfunc="sum", fill_value=0.0)
    t = t.reindex(index=years, columns=list(grades.stage_names), fill_value=0.0).astype(float)
    t["total"] = t.sum(axis=1)
    t = t.reset_index().astype({"year": object})
    tot = {"year": total_label, **{c: float(t[c].sum()) for c in [*grades.stage_names, "total"]}}
    return pd.concat([t, pd.DataFrame([tot])], ignore_index=True)


def status_quo_operating(classes: pd.DataFrame, cost_per_class_year: dict[str, float], cost_per_school_year: float) -> pd.Series:
    """Operating cost per year if nothing changes: classes x cost per class + open schools x cost per school."""
    c = classes.assign(cost=classes["classes"] * classes["stage"].map(cost_per_class_year))
    per_class = c.groupby("year")["cost"].sum()
    schools = classes[classes["pupils"] > 0].groupby("year")["school_id"].nunique() * cost_per_school_year
    return per_class.add(schools, fill_value=0.0)


def operating_change(costs: pd.DataFrame, sq_operating: pd.Series, total_label: str = "Total") -> pd.DataFrame:
    """Option's operating cost (classes + schools) beside the status quo's, per year, with totals."""
    op = costs[costs["category"].isin(["operating_classes", "operating_schools"])].groupby("year")["cost"].sum()
    years = sorted(op.index)
    t = pd.DataFrame(
        {"year": years, "option": op.reindex(years).to_numpy(), "status_quo": sq_operating.reindex(years).fillna(0.0).to_numpy()}
    )
    t["change"] = t["option"] - t["status_quo"]
    t = t.astype({"year": object})
    tot = {"year": total_label, **{c: float(t[c].sum()) for c in ("option", "status_quo", "change")}}
    return pd.concat([t, pd.DataFrame([tot])], ignore_index=True)


def budget_tables(result, settings: ReportSettings) -> BudgetTables:
    """Budget tables of a run (RunResult): the plan's projects, or the status-quo need without a plan."""
    div = settings.money_divisor
    total = words(settings.language)["total"]
    gap, plan = result.gap, result.plan
    years = [int(y) for y in result.projection.years]
    sq = status_quo_projects(gap.budget)
    sq_by = sq.groupby(["year", "stage"], as_index=False)[["classrooms", "cost"]].sum().rename(columns={"classrooms": "new_classrooms"})
    # whole pupils: the sum of gap/budget.csv's rows as written (each zone's or school's shortfall rounded)
    short = rounded_for_csv(gap.budget[["year", "stage", "shortfall"]]).groupby(["year", "stage"], as_index=False)["shortfall"].sum()
    short["shortfall"] = short["shortfall"].astype(float)
    sq_need = short.merge(sq_by, on=["year", "stage"], how="left").fillna({"new_classrooms": 0, "cost": 0.0})
    sq_need = sq_need[(sq_need["shortfall"] > 0) | (sq_need["new_classrooms"] > 0)].astype({"new_classrooms": int, "year": object})
    sq_need["cost"] = sq_need["cost"] / div
    sq_tot = {"year": total, "stage": "", "shortfall": float("nan"), "new_classrooms": int(sq_need["new_classrooms"].sum())}
    sq_tot["cost"] = float(sq_need["cost"].sum())
    sq_need = pd.concat([sq_need, pd.DataFrame([sq_tot])], ignore_index=True)
    if plan is not None:
        projects = plan_projects(plan.tables["builds"], result.district)
        ps = plan.settings
        ops = operating_change(
            plan.tables["costs"].assign(cost=lambda f: f["cost"] / div),
            status_quo_operating(gap.classes, ps.cost_per_class_year, ps.cost_per_school_year) / div,
            total,
        )
    else:
        projects = sq
        ops = pd.DataFrame(columns=["year", "option", "status_quo", "change"])
    projects = projects.assign(cost=projects["cost"] / div)
    return BudgetTables(
        projects=projects,
        capital=capital_by_year_stage(projects, years, result.district.grades, total),
        operating=ops,
        status_quo=sq_need,
        option_capital=float(projects["cost"].sum()),
        status_quo_capital=float(sq["cost"].sum() / div),
    )


def _localise(frame: pd.DataFrame, w: dict[str, str], unit: str, stages: tuple[str, ...]) -> pd.DataFrame:
    """Column names and stage / project words in the chosen language; money columns name the unit."""
    f = frame.copy()
    for c in ("stage", "what"):
        if c in f:
            f[c] = f[c].map(lambda v: w.get(v, v) if isinstance(v, str) else v)
    names = {
        "option": f"{w['operating_option']} ({unit})",
        "status_quo": f"{w['operating_status_quo']} ({unit})",
        "change": f"{w['operating_change']} ({unit})",
        "cost": f"{w['cost']} ({unit})",
        "total": f"{w['total']} ({unit})",
        **{s: f"{w[s]} ({unit})" for s in stages if s in f.columns and f[s].dtype.kind == "f"},
    }
    return f.rename(columns={c: names.get(c, w.get(c, c)) for c in f.columns})


def write_budget_workbook(
    path: str | Path, result, settings: ReportSettings, assumptions: dict[str, object], extra: dict[str, pd.DataFrame] | None = None
) -> BudgetTables:
    """budget_request.xlsx of one run: summary, projects, capital by year and stage, operating
    cost, status-quo need, ``extra`` sheets (label key -> table: sheet_targets, sheet_mergers)
    and assumptions, labelled in ``settings.language``."""
    from capacity.report.workbook import write_workbook

    gs = result.district.grades
    w = {**{s.name: s.label for s in gs.stages}, **words(settings.language)}  # the language's stage words where it has them
    unit = settings.currency_unit
    bt = budget_tables(result, settings)
    p = bt.projects
    summary: list[tuple[str, object]] = [
        (w["option"], result.scenario.label),
        (w["unit"], unit),
        (f"{w['option_capital']} ({unit})", bt.option_capital),
        (f"{w['status_quo_capital']} ({unit})", bt.status_quo_capital),
        (w["n_projects"], len(p)),
        (w["classrooms_built"], int(p.loc[p["what"] == "extend", "classrooms"].sum())),
        (w["seats_added"], int(p["seats"].sum())),
    ]
    if (p["what"] != "extend").any():  # as the report: classrooms built are extensions; a new school's rooms apart
        summary.insert(-1, (w["classrooms_new_schools"], int(p.loc[p["what"] != "extend", "classrooms"].sum())))
    if len(bt.operating):
        summary.append((f"{w['operating_change']} ({unit})", float(bt.operating["change"].iloc[-1])))
    sheets = {
        w["sheet_projects"]: _localise(p, w, unit, gs.stage_names),
        w["sheet_capital"]: _localise(bt.capital, w, unit, gs.stage_names),
        w["sheet_operating"]: _localise(bt.operating, w, unit, gs.stage_names),
        w["sheet_status_quo"]: _localise(bt.status_quo, w, unit, gs.stage_names),
        **{w[k]: _localise(v, w, unit, gs.stage_names) for k, v in (extra or {}).items()},
    }
    money = "#,##0.00" if settings.money_divisor > 1 else "#,##0"
    formats = {c: money for f in sheets.values() for c in f.columns if f"({unit})" in str(c)}
    formats |= {label: money for label, _ in summary if f"({unit})" in label}
    title = w["budget_title"] if result.plan is not None else w["status_quo_title"]
    write_workbook(
        path,
        sheets,
        summary,
        assumptions,
        f"{title}: {result.scenario.label}",
        formats=formats,
        sheet_names=(w["sheet_summary"], w["sheet_assumptions"]),
        headers=(w["parameter"], w["value"]),
    )
    return bt
