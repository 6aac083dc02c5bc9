"""Solve strategy: a fast decomposition that hands the full MILP a good starting plan.

Integer classes make the multi-year model hard for branch and bound, yet one year alone
solves in seconds. So:

A. solve the whole horizon with fractional classes: builds, openings and closures (the
   decisions that couple the years) come out optimal for that relaxation;
B. with those fixed, solve each year with whole classes, in order, allowing extra
   classrooms where rounding classes up needs them (charged to the year they must be
   decided in, within the site and budget limits);
C. give the resulting plan to the full model as its starting solution and let the solver
   improve it and prove a bound in the time left.

The plan returned is always the full model's solution, so its status, bound and gap are
those of the full problem.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pandas as pd
import pulp

from capacity.plan.inputs import PlanData
from capacity.plan.model import PlanModel, build
from capacity.plan.settings import PlanSettings
from capacity.plan.solve import SolveReport, solve


def _year_data(data: PlanData, t: int, rooms: dict, topup_allowed: bool) -> tuple[PlanData, pd.Index, pd.Index, pd.Index]:
    """PlanData for year t alone, with classrooms fixed at ``rooms``; and the original row ids."""
    am = data.arcs["year"] == t
    dm = data.demand["year"] == t
    cm = data.caps["year"] == t
    arcs = data.arcs[am].reset_index(drop=True).assign(arc=lambda f: range(len(f)))
    s = data.schools.copy()
    existing = s["status"] != "candidate"
    s.loc[existing, "rooms0"] = [int(round(rooms[sid, t])) for sid in s.index[existing]]
    s["max_rooms"] = s[["max_rooms", "rooms0"]].max(axis=1)
    if not topup_allowed:
        s["buildable"] = False
    one = PlanData(
        (t,),
        s,
        data.project_rooms[(data.project_rooms["year"] == t) & data.project_rooms["school_id"].isin(s.index[~existing])],
        data.nodes,
        data.demand[dm].reset_index(drop=True),
        arcs,
        data.caps[cm].reset_index(drop=True),
        {t: data.discount[t]},
        data.stage_rooms[data.stage_rooms["year"] == t],
        data.grades,
    )
    return one, data.arcs.index[am], data.demand.index[dm], data.caps.index[cm]


def event_start(model: PlanModel, closed: dict) -> dict:
    """Closing / re-opening events implied by closed-status values (no disposal)."""
    start = {}
    for (sid, t), v in model.events.get("close", {}).items():
        step = closed.get((sid, t), 0) - closed.get((sid, t - 1), 0)
        start[v] = max(step, 0)
        if (sid, t) in model.events.get("reopen", {}):
            start[model.events["reopen"][sid, t]] = max(-step, 0)
    for v in model.events.get("dispose", {}).values():
        start[v] = 0
    return start


def _fix(var: pulp.LpVariable, value: float) -> None:
    var.lowBound = value
    var.upBound = value


def solve_decomposed(data: PlanData, settings: PlanSettings) -> tuple[PlanModel, SolveReport, dict]:
    """Run phases A, B, C; return the full model, its solve report and phase timings."""
    t0 = time.perf_counter()
    budget = settings.time_limit_s
    lead = settings.build_lead_years
    # A: fractional classes over the whole horizon
    sa = settings.with_(integer_classes=False, time_limit_s=max(1.0, 0.25 * budget))
    ma = build(data, sa)
    ra = solve(ma.problem, sa)
    b_val = {k: round(v.varValue or 0) for k, v in ma.b.items()}
    c_val = {k: round(v.varValue or 0) for k, v in ma.c.items()}
    y_val = {k: round(v.varValue or 0) for k, v in ma.y.items()}
    rooms = {k: float(pulp.value(e) or 0.0) for k, e in ma.rooms.items()}
    capital_a = {t: float(pulp.value(e) or 0.0) for t, e in ma.capital.items()}
    phase_a = time.perf_counter() - t0
    # B: whole classes, year by year
    full = build(data, settings)
    start: dict = {}
    topups: dict = defaultdict(int)
    spent = dict(capital_a)
    per_year = max(1.0, 0.45 * budget / len(data.years))
    for t in data.years:
        decide = t - lead
        allowed = decide >= data.years[0] and settings.allow_builds
        one, arc_ids, dem_ids, cap_ids = _year_data(data, t, rooms, allowed)
        rem_year = None if settings.budget_per_year is None else max(0.0, settings.budget_per_year - spent.get(decide, 0.0))
        rem_total = None if settings.budget_total is None else max(0.0, settings.budget_total - sum(spent.values()))
        st = settings.with_(
            build_lead_years=0, closure_lead_years=0, time_limit_s=per_year, budget_per_year=rem_year, budget_total=rem_total
        )
        mt = build(one, st)
        for k, v in mt.c.items():
            _fix(v, c_val.get(k, 0))
        for k, v in mt.y.items():
            _fix(v, y_val.get(k, 0))
        solve(mt.problem, st)
        for i, v in zip(arc_ids, mt.x, strict=True):
            start[full.x[i]] = v.varValue or 0.0
        for i, v in zip(dem_ids, mt.u, strict=True):
            start[full.u[i]] = v.varValue or 0.0
        for i, v in zip(cap_ids, mt.n, strict=True):
            start[full.n[i]] = round(v.varValue or 0.0)
        for (sid, _t), v in mt.b.items():
            k = round(v.varValue or 0.0)
            if k > 0:
                topups[sid, decide] += k
                spent[decide] = spent.get(decide, 0.0) + k * float(data.schools.at[sid, "cost_per_classroom"])
                for later in data.years:
                    if later >= t:
                        rooms[sid, later] += k
    for k, v in full.b.items():
        start[v] = b_val.get(k, 0) + topups.get(k, 0)
    for k, v in full.c.items():
        start[v] = c_val.get(k, 0)
    for k, v in full.y.items():
        start[v] = y_val.get(k, 0)
    start.update(event_start(full, c_val))
    phase_b = time.perf_counter() - t0 - phase_a
    # C: the full model from that start, in the time left
    left = max(1.0, budget - (time.perf_counter() - t0))
    report = solve(full.problem, settings.with_(time_limit_s=left), start=start)
    timings = {
        "phase_a_s": round(phase_a, 3),
        "phase_b_s": round(phase_b, 3),
        "phase_c_s": round(report.solve_s, 3),
        "relaxed_objective": ra.objective,
    }
    return full, report, timings
