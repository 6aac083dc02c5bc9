"""Optimal plan: a multi-year MILP deciding classrooms, new schools, mergers and classes.

``plan_district(district, demand, settings)`` runs validate -> build -> solve -> extract and
returns a PlanResult with tidy tables, status and provenance; nothing downstream touches
solver objects.
"""

from __future__ import annotations

import functools
import gc
import time
from dataclasses import dataclass, field

import pandas as pd

from capacity.errors import SolverError
from capacity.plan.inputs import PlanData, prepare
from capacity.plan.model import build
from capacity.plan.results import extract
from capacity.plan.settings import PlanSettings
from capacity.plan.shortfalls import shortfall_messages
from capacity.plan.solve import SolveReport, available_solvers, solve
from capacity.plan.strategy import solve_decomposed
from capacity.standards import fit_to_system


@dataclass(frozen=True)
class PlanResult:
    """A solved plan.

    Attributes
    ----------
    tables : dict of str to DataFrame
        builds, schools, closures, classes, assignment, unmet, costs.
    summary : dict
        status, objective, bound, gap, timings, model size and headline figures.
    data : PlanData
        The inputs the model was built from (for checks and reports).
    settings : PlanSettings
    report : SolveReport
    """

    tables: dict[str, pd.DataFrame]
    summary: dict[str, object]
    data: PlanData
    settings: PlanSettings
    report: SolveReport
    shortfalls: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def _gc_paused(fn):
    """``fn`` run with Python's cyclic garbage collector paused, as Pyomo's ``PauseGC`` does while it builds a model:
    a plan allocates many small PuLP objects (a variable, an expression and a row per arc), and the collector's
    repeated passes over them were a third of the plan step's time outside HiGHS on the example county. Reference
    counting still frees whatever is not in a cycle; the collector resumes when the plan is made (left off if it was)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        was_on = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_on:
                gc.enable()

    return run


@_gc_paused
def plan_district(district, demand: pd.DataFrame, settings: PlanSettings | None = None) -> PlanResult:
    """Least-cost plan that seats ``demand`` (year, zone_id, grade, pupils) in ``district``.

    Raises
    ------
    InputError
        Bad demand table. ScenarioError: bad settings. SolverError: no solver, or no plan found.
    """
    settings = fit_to_system(settings, PlanSettings, district.grades)
    t0 = time.perf_counter()
    data = prepare(district, demand, settings)
    phases: dict = {}
    if settings.strategy == "decompose" and settings.integer_classes and settings.solver == "highs":
        model, report, phases = solve_decomposed(data, settings)
        build_s = (
            time.perf_counter() - t0 - report.solve_s - sum(v for k, v in phases.items() if k.startswith("phase_") and k != "phase_c_s")
        )
    else:
        model = build(data, settings)
        build_s = time.perf_counter() - t0
        report = solve(model.problem, settings)
    if report.status in ("infeasible", "no_solution"):
        raise SolverError(
            f"the solver found no plan ({report.model_status}). With unmet pupils allowed the model is always feasible, "
            "so this usually means a contradictory forced closure or budget; check plan.force_close and the budgets"
        )
    t1 = time.perf_counter()
    tables = extract(model, settings)
    extract_s = time.perf_counter() - t1
    summary = plan_summary(model, tables, report, {"build_s": build_s, "solve_s": report.solve_s, "extract_s": extract_s}, t0)
    summary["strategy"] = settings.strategy if phases else "direct"
    summary.update(phases)
    decided = int(district.decided_closures.le(data.years[-1]).sum())
    if decided:  # of schools_closed, those a decided closure (schools closed_from) closes within the horizon
        summary["schools_closed_decided"] = decided
    shortfalls = shortfall_messages(tables, data, district.zones, district.travel, settings, shortfall_tail(report))
    return PlanResult(tables, summary, data, settings, report, shortfalls)


def plan_summary(model, tables: dict[str, pd.DataFrame], report: SolveReport, timings: dict[str, float], t0: float) -> dict[str, object]:
    """summary.json figures of a solved model: solver outcome, timings (seconds), model size and headline figures."""
    data = model.data
    prob = model.problem
    ints = sum(1 for v in prob.variables() if v.cat == "Integer")
    b, un, sch = tables["builds"], tables["unmet"], tables["schools"]
    a = tables["assignment"]
    return {
        "status": report.status,
        "solver": report.solver,
        "model_status": report.model_status,
        "objective": report.objective,
        "bound": report.bound,
        "gap": report.gap,
        **{k: round(v, 3) for k, v in timings.items()},
        "run_s": round(time.perf_counter() - t0, 3),
        "variables": len(prob.variables()),
        "integer_variables": ints,
        "constraints": prob.numConstraints(),
        "years": f"{data.years[0]}-{data.years[-1]}",
        "classrooms_built": int(b.loc[b["kind"] == "extend", "classrooms"].sum()),
        "seats_added": int(b["seats"].sum()),
        "schools_opened": int((b["kind"] == "new school").sum()),
        # A decided new school (a decided project at a candidate site) is not a build: counted apart.
        "schools_opened_decided": int((data.schools["decided_open"] <= data.years[-1]).sum()),
        "schools_closed": int(sch[sch["year"] == data.years[-1]]["status"].eq("closed").sum()),
        "schools_reopened": int(tables["closures"]["event"].eq("reopen").sum()),
        "capital_cost": float(b["cost"].sum()),
        "unmet_pupil_years": float(un["pupils"].sum()),
        "pupils_moved_last_year": float(a.loc[a["year"] == data.years[-1], "moved"].sum()),
        "boarders_last_year": float(a.loc[a["year"] == data.years[-1], "boarders"].sum()),
    }


def opened_text(summary: dict) -> str:
    """Schools opened, as the headlines print it: the plan's own openings, then any decided new schools
    (e.g. "1 (+ 2 decided)"), so a decided opening is never left out of the count unsaid."""
    decided = int(summary.get("schools_opened_decided", 0) or 0)
    return f"{summary['schools_opened']}" + (f" (+ {decided} decided)" if decided else "")


def closed_text(summary: dict) -> str:
    """Schools closed, as the headlines print it, with the decided closures among them (e.g. "3 (2 decided)")."""
    decided = int(summary.get("schools_closed_decided", 0) or 0)
    return f"{summary['schools_closed']}" + (f" ({decided} decided)" if decided else "")


def shortfall_tail(report: SolveReport) -> str:
    """Only a proven-optimal plan can say "even with every allowed build"; a time-limited one
    says what its best plan leaves short."""
    if report.status == "optimal":
        return "even with every allowed build"
    gap = f"{report.gap:.1%}" if report.gap == report.gap else "unknown"
    return f"in the best plan found before the time limit (gap {gap})"


def read_demand(path, district) -> pd.DataFrame:
    """A demand table the planner supplies (CSV: year, zone_id, grade, pupils; the ``demand`` table of
    docs/data-format.md), to plan against instead of a projection, checked against ``district``: grades of
    its system, zones it has, an unbroken run of years, and (with enrolment history) years after the history.

    Raises
    ------
    InputError
        Missing or unknown columns, bad cells, unknown zones, years out of place or an empty table, naming
        the file, row and column.
    """
    from capacity.data.read import read_table_file
    from capacity.data.schema import DEMAND
    from capacity.data.validate import ROW, _gaps, parse_table
    from capacity.errors import InputError, Problem

    raw = read_table_file(path, DEMAND.name)
    frame, problems = parse_table(raw, DEMAND, district.grades)
    if not raw.rows:
        problems.append(Problem(raw.label, None, None, "an empty table", "at least one data row"))
    if not problems:
        zones = set(district.zones["zone_id"])
        for _, r in frame[~frame["zone_id"].isin(zones)].iterrows():
            problems.append(
                Problem(raw.label, int(r[ROW]), "zone_id", f"'{r['zone_id']}', which is not in zones", "a zone_id listed in zones")
            )
        years = sorted(set(frame["year"].astype(int)))
        problems += _gaps(years, raw.label, "demand years")
        if district.has_history:
            for _, r in frame[frame["year"] <= district.last_year].iterrows():
                problems.append(
                    Problem(
                        raw.label,
                        int(r[ROW]),
                        "year",
                        f"{int(r['year'])}, inside the enrolment history (last year {district.last_year})",
                        f"a year to plan, after {district.last_year}",
                    )
                )
                break  # one row names the fault; the rest of that year are alike
    if problems:
        raise InputError(problems)
    return frame.drop(columns=ROW)


def plan_from_projection(district, projection, settings: PlanSettings | None = None) -> PlanResult:
    """Plan against one coherent demand scenario of a Projection at ``settings.demand_quantile``.

    The county total is the quantile of the county total's draws, shared over stages and cells
    in proportion to their own quantiles (``Projection.demand``), never the sum of cell quantiles;
    with ``demand_anchor: stage`` each stage's total is at its own quantile instead. A projection of the school-level
    mode gives each school's pupils as demand in the school's zone (:func:`capacity.projection.schools.by_zone`).
    """
    from capacity.projection.schools import by_zone

    settings = fit_to_system(settings, PlanSettings, district.grades)
    projection = by_zone(projection)  # the school-level mode: each school's pupils as its zone's demand (with a note)
    return plan_district(district, projection.demand(settings.demand_quantile, settings.demand_anchor), settings)


__all__ = [
    "PlanData",
    "PlanResult",
    "PlanSettings",
    "SolveReport",
    "available_solvers",
    "opened_text",
    "plan_district",
    "plan_from_projection",
    "read_demand",
    "solve",
]
