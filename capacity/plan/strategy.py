"""Solve strategy: a fast decomposition that hands the full MILP a good starting plan, and a
rounded plan that the answer is never worse than.

Integer classes make the multi-year model hard for branch and bound, yet one year alone
solves in seconds. So:

A. solve the whole horizon with fractional classes: builds, openings and closures (the
   decisions that couple the years) come out optimal for that relaxation, with a bound that
   holds for the full model;
0. where A does not finish (large districts), round the weak relaxation (no linking rows,
   openings slope-scaled towards their fixed cost) to a first whole plan;
B. with A's decisions fixed, solve each year with whole classes, in order, allowing extra
   classrooms where rounding classes up needs them (charged to the year they must be
   decided in, within the site and budget limits);
R. round A's plan to whole classes and re-solve the assignment (``rounding_incumbent``);
S. where the rounded plan is the better start, improve it by a local search over openings and
   closures (drop / add / swap one site, the rest re-solved as an LP; ``local_search``);
C. unless the better rounded plan is already within the gap, give the better start to the
   full model and let the solver improve it and prove a bound in the time left.

The plan returned is a plan of the full model, never worse than the rounded one; its bound
is the best of the solver's and the relaxations'.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pulp

from capacity.notes import note
from capacity.plan.cover import mir_cut, seat_covers
from capacity.plan.inputs import PlanData, row_owner
from capacity.plan.local_search import improve_openings
from capacity.plan.model import PlanModel, _expr, build, values, whole_classes_bind
from capacity.plan.settings import PlanSettings
from capacity.plan.solve import TIME_LIMIT_NOTE, SolveReport, highs_available, resolve_with_costs, row_arrays, run_again, solve


def _year_data(data: PlanData, t: int, rooms: dict, topup_allowed: bool) -> tuple[PlanData, pd.Index, pd.Index, pd.Index]:
    """PlanData for year t alone, with classrooms fixed at ``rooms``; and the original row ids."""
    am = data.arcs["year"] == t
    dm = data.demand["year"] == t
    cm = data.caps["year"] == t
    arcs = data.arcs[am].reset_index(drop=True).assign(arc=lambda f: range(len(f)))
    s = data.schools.copy()
    existing = s["status"] != "candidate"
    now = pd.Series([int(round(rooms[sid, t])) for sid in s.index[existing]], index=s.index[existing])
    if "rated" in s:  # rated seats are counted from rooms0: the rooms fixed here add their room seats (NaN: not rated)
        s.loc[existing, "rated"] += s.loc[existing, "room_seats"] * (now - s.loc[existing, "rooms0"])
    s.loc[existing, "rooms0"] = now
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


def _year_by_year(data: PlanData, settings: PlanSettings, ma: PlanModel, full: PlanModel, time_s: float) -> dict:
    """Phase B: with phase A's builds, openings and closures fixed, each year alone with whole classes
    (extra classrooms allowed where rounding classes up needs them); a starting plan for the full model."""
    lead = settings.build_lead_years
    b_val = {k: round(v.varValue or 0) for k, v in ma.b.items()}
    c_val = {k: round(v.varValue or 0) for k, v in ma.c.items()}
    y_val = {k: round(v.varValue or 0) for k, v in ma.y.items()}
    rooms = {k: float(pulp.value(e) or 0.0) for k, e in ma.rooms.items()}
    spent = {t: float(pulp.value(e) or 0.0) for t, e in ma.capital.items()}
    start: dict = {}
    topups: dict = defaultdict(int)
    t_end = time.perf_counter() + time_s
    for i, t in enumerate(data.years):
        # the share left spread over the years left (a year that finished early leaves its time to the next)
        per_year = max(MIN_YEAR_S, (t_end - time.perf_counter()) / (len(data.years) - i))
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
            start[full.n[i]] = round(v.varValue or 0.0) if v.cat == pulp.LpInteger else v.varValue or 0.0
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
    return start


def _objective_at(model: PlanModel, start: dict) -> float:
    obj = model.problem.objective
    return float(obj.constant) + sum(float(k) * float(start.get(v, 0.0)) for v, k in obj.items())


def _violation(model: PlanModel, start: dict) -> float:
    """Largest amount by which ``start`` breaks a row or a bound of ``model`` (relative to the row's size)."""
    variables = model.problem.variables()
    starts, index, value, row_lo, row_up = row_arrays(model.problem)
    k = np.array([float(start.get(v, 0.0)) for v in variables])
    lo = np.array([-np.inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    up = np.array([np.inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    worst = max(0.0, float(np.max(lo - k, initial=0.0)), float(np.max(k - up, initial=0.0)))
    if not len(starts):
        return worst
    row = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(index))))
    act = np.bincount(row, weights=value * k[index], minlength=len(starts))
    rhs = np.where(np.isfinite(row_up), row_up, row_lo)
    off = np.maximum(np.where(np.isfinite(row_up), act - row_up, -np.inf), np.where(np.isfinite(row_lo), row_lo - act, -np.inf))
    equal = row_lo == row_up
    off = np.where(equal, np.abs(act - rhs), off)
    return max(worst, float(np.max(off / np.maximum(1.0, np.abs(rhs)))))


def year_by_year_share(budget: float, elapsed: float, years: int, have_start: bool) -> float:
    """Seconds phase B (the year-by-year solves) may take: 45 % of the time limit ``budget`` (s), less where A, R and D
    have left under half of it (C keeps a fifth of what is left after ``elapsed`` s). Each year's solve may take at
    least ``MIN_YEAR_S``, so where the share leaves less a year and R already gave a start (``have_start``), B is
    skipped (0): it would run the plan past its time limit."""
    share = min(0.45 * budget, 0.8 * (budget - elapsed))
    return 0.0 if have_start and share < MIN_YEAR_S * years else share


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9) if bound == bound else math.nan


def solve_decomposed(data: PlanData, settings: PlanSettings) -> tuple[PlanModel, SolveReport, dict]:
    """Run phases A, 0, B, R, C; return the full model, its solve report and phase timings.

    A solves the horizon with fractional classes. Where A does not finish, 0 rounds the weak relaxation to a
    first whole plan (``first_plan``). R rounds A's plan to whole classes (``rounding_incumbent``). A's bound
    and the weak relaxation's are valid bounds for the full model (they only relax it), so when the better
    rounded plan is within ``mip_gap`` of them the full model is not solved at all. Otherwise the full model
    (C) starts from the better of the rounded plan and B's, and the plan returned is never worse than the
    rounded plan.
    """
    t0 = time.perf_counter()
    budget = settings.time_limit_s
    found = ("optimal", "time_limit", "work_limit")
    # A: fractional classes over the whole horizon
    # A's gap is a tenth of the plan's: its plan is what R rounds and B builds on, and one-year plans without
    # class costs end here (OR-Library cap instances: within 0.05 % of the optimum); its time share still caps it
    sa = settings.with_(integer_classes=False, time_limit_s=max(1.0, A_SOLVE_SHARE * budget), mip_gap=settings.mip_gap / 10)
    # where the arcs (and so the linking rows) dwarf the other rows, A's strong relaxation is too heavy to
    # finish: A starts from the rows its relaxation breaks instead (as phase L)
    lazy_a = len(data.arcs) > LINKING_DOMINATES * (len(data.demand) + len(data.caps))
    ma = build(data, sa, linking_rows=not lazy_a)
    rows_a, bound_cut = add_violated_linking_rows(ma, sa, CUT_LOOP_SHARE * budget, cover_cuts=True) if lazy_a else (None, math.nan)
    if lazy_a and time.perf_counter() - t0 > 0.5 * A_SOLVE_SHARE * budget:
        # the loop's LPs took over half A's solve share: A's solve, which begins by solving that LP again from scratch
        # (about half the loop's time on capa), would end at or near its root node, without a start (capa/capb at 60 s
        # and at 300 s); the time goes to phases 0 and S and to C, which starts from their plan
        text = "phase A's solve skipped: the cutting-plane loop took over half of A's share of the time"
        ra = SolveReport("no_solution", f"HiGHS {ma.problem.solverModel.version()} (highspy)", math.nan, math.nan, math.nan, 0.0, text)
    else:
        ra = solve(ma.problem, sa.with_(time_limit_s=max(1.0, A_SOLVE_SHARE * budget)))
    # the cut loop's last relaxation is a bound too: it stands where A's solve ends before its root node does
    bound_a = max((b for b in (ra.bound if ra.status in found else math.nan, bound_cut) if b == b), default=math.nan)
    phase_a = time.perf_counter() - t0
    # 0: where A did not finish, a first plan from the weak relaxation (fast on large districts)
    first, weak = first_plan(data, settings, max(1.0, 0.3 * budget)) if ra.status != "optimal" else (None, None)
    if first is not None:
        bound_a = max((b for b in (bound_a, first[2]) if b == b), default=math.nan)
    phase_0 = time.perf_counter() - t0 - phase_a
    full = ma  # becomes the full model once R is done with it: the same rows, whole classes
    variables = ma.problem.variables()
    bounds = [(v, v.lowBound, v.upBound) for v in variables]
    plan_a = [v.varValue for v in variables]  # A's plan, which B reads after R and D have solved ma again
    # R: phase A's plan rounded to whole classes (changes ma's bounds; restored after)
    use_a = ra.status in found and (first is None or ra.objective < first[1])
    incumbent = rounding_incumbent(ma, settings) if use_a else None
    for v, lo, up in bounds:
        v.lowBound, v.upBound = lo, up
    for v, whole in zip(full.n, whole_classes_bind(data, settings), strict=True):
        if whole:
            v.cat = pulp.LpInteger
    phase_r = time.perf_counter() - t0 - phase_0 - phase_a
    from_r = "rounded" if incumbent is not None else None
    # D: a multi-year plan whose A finished: the full model from R's plan, for a share of the time, before B (the
    # example county: proven within 0.5 % in 7-24 s where B's ten yearly solves alone take 10-30 s)
    multi_year = len(data.years) > 1 and ra.status in found
    if (
        DIRECT_SHARE > 0
        and multi_year
        and ra.status == "optimal"
        and incumbent is not None
        and _gap(incumbent[1], bound_a) > settings.mip_gap
    ):
        t_d = time.perf_counter()
        rd = solve(full.problem, settings.with_(time_limit_s=max(1.0, DIRECT_SHARE * budget)), start=_by_name(full, incumbent[0]))
        bound_a = max((b for b in (bound_a, rd.bound if rd.status in found else math.nan) if b == b), default=math.nan)
        phase_d = round(time.perf_counter() - t_d, 3)
        if rd.status in found and rd.objective < incumbent[1]:
            incumbent, from_r = ({v.name: float(v.varValue or 0.0) for v in variables}, rd.objective), "solver"
        if incumbent[1] == incumbent[1] and _gap(incumbent[1], bound_a) <= settings.mip_gap:
            timings = {"phase_a_s": round(phase_a, 3), "phase_0_s": round(phase_0, 3), "phase_r_s": round(phase_r, 3)}
            # as _within_gap: no phase C, and D's time is phase_d_s (the report's solve_s would count it twice)
            report = replace(keep_better(full, rd, _by_name(full, incumbent[0]), incumbent[1], bound_a, settings, from_r), solve_s=0.0)
            return full, report, {**timings, "phase_d_s": phase_d, "phase_c_s": 0.0, "relaxed_objective": ra.objective, "plan_from": from_r}
        for v, k in zip(variables, plan_a, strict=True):
            v.varValue = k
    else:
        phase_d = None
    t_b = time.perf_counter()
    share_b = year_by_year_share(budget, t_b - t0, len(data.years), incumbent is not None)
    start_b = _year_by_year(data, settings, ma, full, share_b) if multi_year and (share_b > 0 or incumbent is None) else {}
    phase_b = time.perf_counter() - t_b
    timings = {
        **({} if phase_d is None else {"phase_d_s": phase_d}),
        "phase_a_s": round(phase_a, 3),
        "phase_0_s": round(phase_0, 3),
        "phase_b_s": round(phase_b, 3),
        "phase_r_s": round(phase_r, 3),
        "relaxed_objective": ra.objective,
        "lazy_linking_rows": rows_a,
        "first_objective": first[1] if first else None,
        "rounded_objective": incumbent[1] if incumbent else None,
    }
    if first is not None and (incumbent is None or first[1] < incumbent[1]):
        incumbent, from_r = first[:2], "rounded_weak"
    start_r = _by_name(full, incumbent[0]) if incumbent else {}
    if incumbent is not None and _gap(incumbent[1], bound_a) <= settings.mip_gap:
        return _within_gap(full, start_r, incumbent[1], bound_a, ra.solver, timings, from_r)
    # B's start is not checked by any solve (its years are solved apart): a start that breaks a row is ignored by HiGHS
    objective_b = _objective_at(full, start_b) if start_b and _violation(full, start_b) <= 1e-6 else math.nan
    use_r = incumbent is not None and not incumbent[1] > objective_b
    if use_r:
        # S: the rounded plan is C's start: first a local search over openings and closures from it
        t_s = time.perf_counter()
        improved = improved_plan(data, settings, incumbent, max(1.0, LOCAL_SEARCH_SHARE * (budget - (t_s - t0))), weak)
        from_r = "local_search" if improved[1] < incumbent[1] else from_r
        incumbent = improved
        start_r = _by_name(full, incumbent[0])
        timings.update(phase_s_s=round(time.perf_counter() - t_s, 3), local_search_objective=incumbent[1])
        if _gap(incumbent[1], bound_a) <= settings.mip_gap:
            return _within_gap(full, start_r, incumbent[1], bound_a, ra.solver, timings, from_r)
    if lazy_a and not cut_loop_ended(ma):
        # A's loop stopped by its share (capa/capb at 60 s): C would begin by solving that relaxation again from
        # scratch and not get past its root node; the loop goes on from its last basis instead (its rounds raise
        # the bound), and C has what the loop leaves
        t_k = time.perf_counter()
        rows_a, bound_cut = add_violated_linking_rows(ma, sa, max(1.0, 0.9 * (budget - (t_k - t0))), cover_cuts=True)
        bound_a = max((b for b in (bound_a, bound_cut) if b == b), default=math.nan)
        timings.update(lazy_linking_rows=rows_a, phase_k_s=round(time.perf_counter() - t_k, 3))
        if incumbent is not None and _gap(incumbent[1], bound_a) <= settings.mip_gap:
            return _within_gap(full, start_r, incumbent[1], bound_a, ra.solver, timings, from_r)
        if incumbent is not None and not cut_loop_ended(ma):
            # the loop still going at the end of its time: C would have a second or two, less than handing it the
            # model takes; the plan is S's, with the loop's bound, stopped by the clock
            note(TIME_LIMIT_NOTE)
            return _within_gap(full, start_r, incumbent[1], bound_a, ra.solver, timings, from_r, status="time_limit")
    # C: the full model from the better start, in the time left
    start = start_r if use_r else start_b
    timings.update(year_by_year_objective=objective_b if start_b else None, start="rounded" if use_r else "year_by_year")
    if ra.status != "optimal" and not lazy_a:
        # A's relaxation (every linking row) did not finish: C gets only the linking rows its relaxation
        # breaks (phase L): the same optimum, a relaxation near the strong one, far fewer rows
        t_l = time.perf_counter()
        lazy = build(data, settings, linking_rows=False)
        rows, _ = add_violated_linking_rows(lazy, settings, max(1.0, 0.35 * (budget - (t_l - t0))), cover_cuts=True)
        timings["lazy_linking_rows"] = rows
        full, start = lazy, _by_name(lazy, {v.name: k for v, k in start.items()})
        start_r = _by_name(lazy, incumbent[0]) if incumbent else {}
        timings["phase_l_s"] = round(time.perf_counter() - t_l, 3)
    left = max(1.0, budget - (time.perf_counter() - t0))
    report = solve(full.problem, settings.with_(time_limit_s=left), start=start)
    solver_objective = report.objective
    report = keep_better(full, report, start_r if incumbent else None, incumbent[1] if incumbent else math.nan, bound_a, settings, from_r)
    # the plan returned is C's start where the solver found nothing better than it
    start_objective = incumbent[1] if use_r else objective_b
    if report.objective != solver_objective and report.objective == report.objective:  # keep_better returned its start
        plan_from = from_r
    elif start and not solver_objective < start_objective * (1 - 1e-9) - 1e-9:
        plan_from = from_r if use_r else "year_by_year"
        report = replace(
            report, model_status=f"{report.model_status}; the solver found nothing better than its start, {PLAN_FROM[plan_from]}"
        )
    else:
        plan_from = "solver"
    return full, report, {**timings, "phase_c_s": round(report.solve_s, 3), "plan_from": plan_from}


# Where the plan the decompose strategy returns comes from (summary.json's plan_from, and the status text)
PLAN_FROM = {
    "rounded": "the fractional-class plan (phase A) rounded to whole classes",
    "rounded_weak": "the weak relaxation's plan (phase 0) rounded to whole classes",
    "local_search": "the rounded plan improved by a local search over openings and closures (phase S)",
    "year_by_year": "the year-by-year plan (phase B)",
    "solver": "the solver's plan of the full model (phase D or C)",
}


def _within_gap(
    full: PlanModel, start: dict, objective: float, bound: float, solver: str, timings: dict, plan_from: str, status: str = "optimal"
) -> tuple:
    """The rounded (or locally improved) plan as the answer, proven within the gap by ``bound`` (or, with status
    ``time_limit``, with that bound when the time is up): no full solve."""
    _assign(full, start)
    gap = _gap(objective, bound)
    where = "within the MIP gap of" if status == "optimal" else "at the time limit, with"
    text = f"{PLAN_FROM[plan_from]}, {where} the relaxations' bound (the full model not solved)"
    report = SolveReport(status, solver, objective, bound, gap, 0.0, text)
    return full, report, {**timings, "phase_c_s": 0.0, "plan_from": plan_from}


def improved_plan(
    data: PlanData, settings: PlanSettings, incumbent: tuple[dict[str, float], float], time_s: float, weak: PlanModel | None = None
) -> tuple[dict[str, float], float]:
    """Phase S: ``incumbent`` (values by name, objective) improved by a local search over openings and closures
    (``local_search.improve_openings``, on ``weak`` where phase 0 built it); where the search's plan leaves classes
    or classrooms fractional, they are rounded as in ``rounding_incumbent``. Never worse than ``incumbent``."""
    if not highs_available(settings):
        note(f"plan: the local search over openings (phase S) re-solves LPs through HiGHS and was skipped (solver {settings.solver})")
        return incumbent
    found = improve_openings(data, settings, incumbent[0], time_s, model=weak)
    if found is None:
        return incumbent
    if found.whole:
        plan = ({v.name: float(v.varValue or 0.0) for v in found.model.problem.variables()}, found.objective)
    else:
        plan = rounding_incumbent(found.model, settings)
    return plan if plan is not None and plan[1] < incumbent[1] * (1 - 1e-9) - 1e-9 else incumbent


def _by_name(model: PlanModel, named: dict[str, float]) -> dict:
    by_name = model.problem.variablesDict()
    return {by_name[k]: v for k, v in named.items() if k in by_name}


def first_plan(data: PlanData, settings: PlanSettings, time_s: float) -> tuple[tuple[dict[str, float], float, float] | None, PlanModel]:
    """Phase 0: the weak relaxation (every whole number relaxed, no linking rows: it solves fast even
    on large districts), its decisions rounded (openings and classrooms up, within each site; closures to
    the nearest), then classes rounded and pupils assigned as in ``rounding_incumbent``. Returns the plan
    (None where the rounded decisions break a budget or another rule; else the values by name, their
    objective and the weak relaxation's objective, a bound for the full model) and the weak model with its
    bounds as built (phase S re-uses it: no second build)."""
    s0 = settings.with_(integer_classes=False, time_limit_s=time_s)
    m0 = build(data, s0, linking_rows=False)
    ints = [v for v in m0.problem.variables() if v.cat == pulp.LpInteger]
    for v in ints:
        v.cat = pulp.LpContinuous
    t0 = time.perf_counter()
    r0 = solve(m0.problem, s0, fallback=None)
    for v in ints:
        v.cat = pulp.LpInteger
    if r0.status != "optimal":
        return None, m0
    weak_bound = r0.objective
    _slope_scaling(m0, time_s - (time.perf_counter() - t0))
    bounds = [(v, v.lowBound, v.upBound) for v in m0.problem.variables()]
    plan = _round_relaxed_plan(m0, ints, settings)
    for v, lo, up in bounds:
        v.lowBound, v.upBound = lo, up
    return (None if plan is None else (*plan, weak_bound)), m0


def _round_relaxed_plan(m0: PlanModel, ints: list, settings: PlanSettings) -> tuple[dict[str, float], float] | None:
    """Openings and classrooms of a relaxed solution rounded up (within each site), closures to the nearest,
    then classes and the assignment as in ``rounding_incumbent`` (changes ``m0``'s bounds)."""
    opening = set(m0.y.values())
    for v in ints:
        f = v.varValue or 0.0
        v.varValue = float(np.ceil(f - _EPS) if v in opening else round(f))
    by_school: dict[str, list] = defaultdict(list)
    for (sid, _t), v in m0.b.items():
        by_school[sid].append(v)
    for vs in by_school.values():
        frac = [max(0.0, v.varValue or 0.0) for v in vs]
        up = [np.ceil(f - _EPS) for f in frac]
        order = sorted(range(len(vs)), key=lambda i: frac[i] - np.floor(frac[i] + _EPS))
        for i in order:  # within the site: round down the smallest fractions first
            if sum(up) <= vs[0].upBound:
                break
            up[i] = np.floor(frac[i] + _EPS)
        for v, k in zip(vs, up, strict=True):
            v.varValue = float(k)
    return rounding_incumbent(m0, settings)


def _slope_scaling(model: PlanModel, time_s: float, rounds: int = 8) -> None:
    """Make the weak relaxation of openings nearer their fixed charge (dynamic slope scaling, Kim and
    Pardalos 1999): each round charges an opening's cost divided by how far it was open in the last round,
    so a school opened a little for a few pupils pays nearly its whole cost and empties. The values left
    in ``model`` are those of the last round (the problem's own objective is unchanged)."""
    obj = model.problem.objective
    base = {v: float(obj.get(v, 0.0)) for v in model.y.values() if float(obj.get(v, 0.0)) > 0}
    previous: dict = {}
    t0 = time.perf_counter()
    for _ in range(rounds):
        left = time_s - (time.perf_counter() - t0)
        if not base:
            return
        if left <= 0:  # rounds cut by the clock: a re-run may round other openings
            note(TIME_LIMIT_NOTE)
            return
        costs = {v: k / min(1.0, max(v.varValue or 0.0, 0.01)) for v, k in base.items()}
        if costs == previous:  # converged: the same openings as the last round
            return
        previous = costs
        last = [v.varValue for v in model.problem.variables()]
        if resolve_with_costs(model.problem, costs, left).status != "optimal":
            for v, k in zip(model.problem.variables(), last, strict=True):
                v.varValue = k
            note(TIME_LIMIT_NOTE)
            return


def _assign(model: PlanModel, start: dict) -> None:
    for v in model.problem.variables():
        v.varValue = float(start.get(v, 0.0))


def keep_better(
    model: PlanModel,
    report: SolveReport,
    start: dict | None,
    start_objective: float,
    bound: float,
    settings: PlanSettings,
    start_from: str | None = "rounded",
) -> SolveReport:
    """The solver's plan, or ``start`` (a feasible plan of objective ``start_objective``, made as ``start_from``
    says: a key of ``PLAN_FROM``) where the solver found none or a worse one; the bound is the better of the
    solver's and ``bound`` (a relaxation's)."""
    found = report.status in ("optimal", "time_limit", "work_limit")
    best_bound = max((b for b in (report.bound, bound) if b == b), default=math.nan)
    objective, text = report.objective, report.model_status
    if start is not None and (not found or report.objective > start_objective * (1 + 1e-9) + 1e-9):
        _assign(model, start)
        objective = start_objective
        text = f"{text}; the solver's plan ({report.objective:.6g}) was worse than {PLAN_FROM[start_from or 'rounded']}, which is returned"
    elif not found:
        return report
    gap = _gap(objective, best_bound)
    status = (
        "optimal" if gap <= settings.mip_gap + 1e-12 else report.status if report.status in ("time_limit", "work_limit") else "time_limit"
    )
    return replace(report, status=status, objective=objective, bound=best_bound, gap=gap, model_status=text)


# ---------------------------------------------------------------------------------------------
# Rounding incumbent: the plan handed back is never worse than this rounding of the fractional plan.

_EPS = 1e-6
LINKING_DOMINATES = 10  # arcs per demand-or-class row above which A adds linking rows only where they cut
A_SOLVE_SHARE = 0.25  # of the time limit that phase A's solve may take
CUT_LOOP_SHARE = 0.55  # of the time limit that phase A's cutting-plane loop (linking rows and seat-cover cuts) may take
MIN_YEAR_S = 0.25  # the shortest time limit (s) of one of phase B's yearly solves
DIRECT_SHARE = 0.4  # of the time limit that phase D (the full model from R's plan, before B) may take; 0: no phase D
LOCAL_SEARCH_SHARE = 0.8  # of the time left before C that the local search from the rounded plan may take


def _rows_in(
    model: PlanModel, free: list[pulp.LpVariable], skip: frozenset[str] = frozenset()
) -> tuple[list[list[tuple[int, float]]], list[float], dict[int, list[int]]]:
    """Rows of ``model`` in the variables ``free`` alone once the fixed decisions are counted: <= rows (or >= rows,
    negated) where some of ``free`` appear with a positive coefficient and every other variable is fixed and not
    named in ``skip``. Returned as (index in ``free``, coefficient) terms, the room left once the fixed variables
    are counted, and the rows of each index. With ``free`` the classes n: the classroom, stage-room and closure
    rows; with ``free`` the pupils x (and n in ``skip``): the rows that hold pupils back at a school, such as its
    rated capacity, size cap or boarding beds."""
    variables = model.problem.variables()
    starts, index, value, row_lo, row_up = row_arrays(model.problem)
    free_at = np.full(len(variables), -1)
    free_at[[v.index for v in free]] = np.arange(len(free))
    lower = np.array([np.nan if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    fixed = np.array([v.lowBound is not None and v.lowBound == v.upBound and v.name not in skip for v in variables])
    # <= rows as they are, >= rows negated, = rows left out
    sign = np.where(np.isfinite(row_up) & ~np.isfinite(row_lo), 1.0, np.where(np.isfinite(row_lo) & ~np.isfinite(row_up), -1.0, 0.0))
    row = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(index))))
    coef = sign[row] * value
    is_free = free_at[index] >= 0
    is_fixed = ~is_free & fixed[index]
    other = np.bincount(row, weights=~is_free & ~is_fixed, minlength=len(starts)) > 0
    pushes = np.bincount(row, weights=is_free & (coef > 0), minlength=len(starts)) > 0
    keep = (sign != 0) & ~other & pushes
    rest = np.bincount(row, weights=np.where(is_fixed, coef * np.nan_to_num(lower[index]), 0.0), minlength=len(starts))
    room = (np.where(sign > 0, row_up, -row_lo) - rest)[keep].tolist()  # PuLP keeps the right-hand side as -constant
    terms: list[list[tuple[int, float]]] = [[] for _ in room]
    rows_of: dict[int, list[int]] = defaultdict(list)
    number = np.cumsum(keep) - 1
    take = keep[row] & is_free
    for r, i, k in zip(number[row[take]].tolist(), free_at[index[take]].tolist(), coef[take].tolist(), strict=True):
        terms[r].append((i, k))
        rows_of[i].append(r)
    return terms, room, rows_of


def round_classes(model: PlanModel) -> list[int]:
    """Whole classes from a fractional solution of ``model`` (its decisions already fixed): each class
    count rounded up, then, where a classroom, stage-room or closure row no longer holds, the counts
    with the smallest fractional part rounded down until it does (rounding every count down fits when
    the decisions are the fractional plan's own; where they were rounded, counts go down to 0)."""
    frac = [max(0.0, v.varValue or 0.0) for v in model.n]
    val = [int(np.ceil(f - _EPS)) for f in frac]
    low = [int(np.floor(f + _EPS)) for f in frac]
    terms, room, _ = _rows_in(model, model.n)
    zero = [0] * len(val)
    for r, ns in enumerate(terms):
        over = sum(k * val[i] for i, k in ns) - room[r]
        if over <= _EPS:
            continue
        for floor in (low, zero):
            for i, k in sorted(((i, k) for i, k in ns if k > 0), key=lambda ik: frac[ik[0]] - low[ik[0]]):
                while val[i] > floor[i] and over > _EPS:
                    val[i] -= 1
                    over -= k
    return val


def _seat_unmet(model: PlanModel, val: list[int]) -> bool:
    """Add classes where pupils are left unmet while a reachable school has an empty classroom and room for
    them under every row that holds pupils back there (rated capacity, size cap, beds); True if any added."""
    d = model.data
    terms, room, rows_of = _rows_in(model, model.n)
    used = [sum(k * val[j] for j, k in ns) for ns in terms]
    coef = [dict(ns) for ns in terms]
    held, held_room, held_of = _rows_in(model, model.x, frozenset(v.name for v in model.n))
    xv = [v.varValue or 0.0 for v in model.x]
    seats_left = [r - sum(k * xv[j] for j, k in ns) for ns, r in zip(held, held_room, strict=True)]
    held_coef = [dict(ns) for ns in held]
    cap_of = {key: i for i, key in enumerate(zip(d.caps["school_id"], d.caps["grade"], d.caps["year"], strict=True))}
    arcs = d.arcs.assign(pos=np.arange(len(d.arcs))).sort_values(["km", "school_id"], kind="stable")
    arcs_of: list[list[int]] = [[] for _ in range(len(d.demand))]  # each demand row's arcs, nearest first
    for a, i in zip(arcs["pos"].tolist(), row_owner(d.demand, arcs, ["node", "grade", "year"]).tolist(), strict=True):
        if i >= 0:
            arcs_of[i].append(a)
    added = False
    arc_school, class_cap = d.arcs["school_id"].tolist(), d.caps["cap"].tolist()
    for r, v, near in zip(d.demand.itertuples(index=False), model.u, arcs_of, strict=True):
        left = v.varValue or 0.0
        if left <= _EPS:
            continue
        for a in near:
            i = cap_of.get((arc_school[a], r.grade, r.year))
            if i is None:
                continue
            cap = float(class_cap[i])
            bound = model.x[a].upBound
            while left > _EPS and all(used[q] + coef[q][i] <= room[q] + _EPS for q in rows_of.get(i, ())):
                fits = min([seats_left[q] / held_coef[q][a] for q in held_of.get(a, ())] + [math.inf if bound is None else bound - xv[a]])
                if fits <= _EPS:
                    break
                seated = min(cap, left, fits)
                val[i] += 1
                for q in rows_of.get(i, ()):
                    used[q] += coef[q][i]
                for q in held_of.get(a, ()):
                    seats_left[q] -= held_coef[q][a] * seated
                xv[a] += seated
                left -= seated
                added = True
            if left <= _EPS:
                break
    return added


def rounding_incumbent(relaxed: PlanModel, settings: PlanSettings) -> tuple[dict[str, float], float] | None:
    """A whole-class plan from the solved fractional-class model ``relaxed`` (changed in place): its integer
    decisions (builds, openings, closures) fixed, class counts rounded (``round_classes``), the assignment
    re-solved as an LP; classes added where pupils are still unmet beside an empty reachable classroom, and
    classes nobody needs dropped. Returns the values by variable name and the plan's objective, or None
    when the fractional model has no solution."""
    prob = relaxed.problem
    if any(v.varValue is None for v in relaxed.n):
        return None
    n_ids = {v.name for v in relaxed.n}
    for v in prob.variables():
        if v.cat == pulp.LpInteger and v.name not in n_ids:
            _fix(v, float(round(v.varValue or 0.0)))
    frac = [v.varValue or 0.0 for v in relaxed.n]
    val = round_classes(relaxed)
    lp = settings.with_(time_limit_s=max(10.0, settings.time_limit_s), mip_gap=0.0)
    if all(k >= f - _EPS for k, f in zip(val, frac, strict=True)) and sum(values(relaxed.u)) <= _EPS:
        # every count rounded up and nobody unmet: the fractional assignment holds unless rounded decisions
        # (phase 0's) took away rooms a rated capacity, a budget or a minimum size counted on; then the LP below
        for v, k in zip(relaxed.n, val, strict=True):
            _fix(v, float(k))
            v.varValue = float(k)
        if _violation(relaxed, {v: v.varValue or 0.0 for v in prob.variables()}) <= 1e-6:
            return _drop_empty_classes(relaxed)
    for repair in (True, False):  # one repair round at most: classes beside unmet pupils, then the final assignment
        for v, k in zip(relaxed.n, val, strict=True):
            _fix(v, float(k))
        rep = solve(prob, lp, fallback=None)
        if rep.status not in ("optimal", "time_limit", "work_limit") or not repair or not _seat_unmet(relaxed, val):
            break
    if rep.status not in ("optimal", "time_limit", "work_limit"):
        return None
    return _drop_empty_classes(relaxed)


def _drop_empty_classes(relaxed: PlanModel) -> tuple[dict[str, float], float]:
    """Classes nobody sits in cost money and free nothing: keep only the classes the assignment needs."""
    prob = relaxed.problem
    d = relaxed.data
    owner = row_owner(d.caps, d.arcs, ["school_id", "grade", "year"])  # each arc's class row
    load = pd.Series(values(relaxed.x)).groupby(owner).sum().reindex(range(len(d.caps)), fill_value=0.0)
    need = np.ceil(load.to_numpy() / d.caps["cap"].to_numpy() - _EPS).astype(int)
    for v, k in zip(relaxed.n, need, strict=True):
        v.varValue = float(min(max(int(k), 0), round(v.varValue or 0.0)))
    out = {v.name: float(v.varValue or 0.0) for v in prob.variables()}
    return out, float(pulp.value(prob.objective))


# ---------------------------------------------------------------------------------------------
# Linking rows added where they cut (a cutting-plane loop on the LP relaxation).


def _linking_terms(model: PlanModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """Per arc with a linking row (define_linking): the arc's and the decision's column, the arc's demand
    D[a], the decision's sign (+1: x <= D y; -1: x <= D (1 - c)), and the decision variables."""
    d = model.data
    xs, ds, caps, signs, dvars, arcs = [], [], [], [], [], []
    closed, opened = model.c, model.y
    for i, key, x in zip(range(len(d.arcs)), zip(d.arcs["school_id"].tolist(), d.arcs["year"].tolist(), strict=True), model.x, strict=True):
        v, sign = closed.get(key), -1.0
        if v is None:
            v, sign = opened.get(key), 1.0
            if v is None:
                continue
        arcs.append(i)
        xs.append(x.index)
        ds.append(v.index)
        caps.append(float(x.upBound or 0.0))
        signs.append(sign)
        dvars.append(v)
    return np.array(arcs, dtype=int), np.array(xs, dtype=np.int32), np.array(ds, dtype=np.int32), np.array(caps), (np.array(signs), dvars)


@dataclass
class _CutLoop:
    """Where the cutting-plane loop on a model stands: its HiGHS instance (the relaxation, rows added so far), the
    linking rows added (and written to the PuLP problem), the cover cuts, the last bound and whether it has ended."""

    h: object
    terms: tuple
    added: np.ndarray
    written: np.ndarray
    covers: list
    cuts: list = field(default_factory=list)
    cuts_written: int = 0
    bound: float = math.nan
    ended: bool = False


def add_violated_linking_rows(
    model: PlanModel, settings: PlanSettings, time_s: float, rounds: int = 30, cover_cuts: bool = False
) -> tuple[int, float]:
    """Solve the relaxation of ``model`` (built with ``linking_rows=False``, every whole number relaxed)
    adding the linking rows x[a] <= D[a] y[s,t] / x[a] <= D[a] (1 - c[s,t]) its solution breaks, round
    after round from HiGHS's last basis, until none is broken or the time is up; then the rows found are
    added to the PuLP problem too (the same rows define_linking writes, only fewer). With ``cover_cuts``, each
    round also adds the seat-cover cut of each year its solution breaks (``cover.mir_cut``: valid for every whole
    plan, not implied by the LP), so the bound can rise above the full model's LP bound. Called again on the same
    model whose relaxation nothing has solved since, it goes on from where it stopped (``cut_loop_ended``
    says whether it still can). Returns the number of linking rows added and the last relaxation's objective: a
    bound for the full model whether or not rows are still broken (it relaxes the full model with valid cuts:
    fewer rows, whole numbers relaxed), its LP bound (without cover cuts) once none is."""
    prob = model.problem
    t0 = time.perf_counter()
    state = getattr(prob, "_cut_loop", None)
    if state is None or state.h is not getattr(prob, "solverModel", None):
        ints = [v for v in prob.variables() if v.cat == pulp.LpInteger]
        for v in ints:
            v.cat = pulp.LpContinuous
        rep = solve(prob, settings.with_(time_limit_s=time_s), fallback=None)
        for v in ints:
            v.cat = pulp.LpInteger
        if rep.status != "optimal":
            return 0, math.nan
        terms = _linking_terms(model)
        # rows an earlier loop wrote to the problem are in this relaxation already (a solve replaced its instance)
        done = state.written.copy() if state is not None else np.zeros(len(terms[0]), dtype=bool)
        cuts = state.cuts if state is not None else []
        covers = seat_covers(model) if cover_cuts else []
        state = _CutLoop(prob.solverModel, terms, done, done.copy(), covers, list(cuts), len(cuts), bound=rep.objective)
        prob._cut_loop = state
    arcs, xs, ds, caps, (signs, dvars) = state.terms
    h, added = state.h, state.added
    optimal = h.getModelStatus().__class__.kOptimal
    if not state.ended and h.getModelStatus() != optimal:  # stopped by the clock in the last call: finish that LP
        run_again(h, max(1.0, time_s))
        if h.getModelStatus() == optimal:
            state.bound = float(h.getInfo().objective_function_value)
    for _ in range(rounds):
        if state.ended or h.getModelStatus() != optimal:
            break
        col = np.asarray(h.getSolution().col_value)
        room = np.where(signs > 0, caps * col[ds], caps * (1.0 - col[ds]))
        broken = ~added & (col[xs] > room + 1e-7 * np.maximum(1.0, caps))
        new_cuts = [c for c in (mir_cut(r, col) for r in state.covers) if c is not None]
        if not broken.any() and not new_cuts:  # bound is now the full model's LP bound (with the cover cuts)
            state.ended = True
            break
        if time.perf_counter() - t0 > time_s:
            break
        # with the broken rows, every arc the relaxation uses: fewer rounds (a cut row it holds costs little)
        new = broken | (~added & (col[xs] > 1e-7 * np.maximum(1.0, caps)))
        # and as many again as there are demand rows: the arcs into partly open schools with the smallest reduced
        # costs, where the next relaxation would move pupils (capa: 7 rounds instead of 18, a sixth less simplex work)
        rc = np.asarray(h.getSolution().col_dual)[xs]
        part = np.where(signs > 0, col[ds], 1.0 - col[ds])
        near = np.flatnonzero(~new & ~added & (part > 1e-6) & (part < 1 - 1e-6))
        new[near[np.argsort(rc[near], kind="stable")[: len(model.data.demand)]]] = True
        k = int(new.sum())
        starts = np.arange(0, 2 * k, 2, dtype=np.int32)
        idx = np.column_stack([xs[new], ds[new]]).ravel().astype(np.int32)
        val = np.column_stack([np.ones(k), -signs[new] * caps[new]]).ravel()
        upper = np.where(signs[new] > 0, 0.0, caps[new])
        h.addRows(k, np.full(k, -np.inf), upper, 2 * k, starts, idx, val)
        for cut in new_cuts:
            idx = np.array([v.index for v in cut.variables], dtype=np.int32)
            h.addRow(cut.lower, np.inf, len(idx), idx, cut.coef)
        state.cuts += new_cuts
        added |= new
        run_again(h, max(1.0, time_s - (time.perf_counter() - t0)))
        if h.getModelStatus() != optimal:
            # the last optimal relaxation's bound stands; stopped by the clock, a later call finishes this LP
            state.ended = h.getModelStatus() != h.getModelStatus().__class__.kTimeLimit
            break
        state.bound = float(h.getInfo().objective_function_value)
    x = model.x
    for j in np.flatnonzero(added & ~state.written):
        i, v, cap = int(arcs[j]), dvars[j], float(caps[j])
        if signs[j] > 0:
            prob += _expr([(x[i], 1.0), (v, -cap)]) <= 0, f"link_y_{i}"
        else:
            prob += _expr([(x[i], 1.0), (v, cap)]) <= cap, f"link_c_{i}"
    state.written |= added
    for j, cut in enumerate(state.cuts[state.cuts_written :], start=state.cuts_written):
        prob += _expr(zip(cut.variables, cut.coef.tolist(), strict=True)) >= cut.lower, f"seat_cover_{j}"
    state.cuts_written = len(state.cuts)
    return int(added.sum()), state.bound


def cut_loop_ended(model: PlanModel) -> bool:
    """Whether ``add_violated_linking_rows`` on ``model`` has ended for good (no row broken, or its LP stopped);
    False also where a solve since has replaced its relaxation (it cannot go on)."""
    state = getattr(model.problem, "_cut_loop", None)
    return state is None or state.ended or state.h is not getattr(model.problem, "solverModel", None)
