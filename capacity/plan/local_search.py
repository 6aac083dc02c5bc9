"""Local search over openings and closures (phase S of the decompose strategy).

From a whole plan, one site at a time is switched: a candidate school opened in every year it can be or in none,
a closable school kept open or closed over the whole horizon (drop / add, Kuehn and Hamburger 1963), or one site
switched off while another is switched on (swap, Korupolu, Plaxton and Rajaraman 2000). After each move the rest
of the plan (assignment, classes, classrooms built) is re-solved as an LP: the model without linking rows (they
hold by themselves once openings and closures are whole), every other whole number relaxed, HiGHS starting from
its last basis. A move is kept when it lowers that LP's cost; the first improving move in the order of an
estimate is taken, then the estimates are renewed.

Estimates (ranking only) come from the LP's duals: a site switched on saves, per pupil of an arc into it, the
pupil's present marginal cost (the demand row's dual) less the arc's cost, for as many pupils as its seats hold
(a fractional knapsack); a site switched off costs its pupils the price of their next-best arc (its reduced cost
plus the demand dual). A move cannot lower the LP's cost unless its first-order change (the reduced costs of
the switched columns times their change) is negative, since the LP's cost is convex in those columns; other
moves are skipped.

The search stops when no move improves, after ``max_lps`` LPs or ``stall_lps`` LPs in a row without a better plan
(work, so the same inputs give the same plan), or at its time share (then a re-run may differ: the time-limit
note is added).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pulp

from capacity.notes import note
from capacity.plan.inputs import PlanData
from capacity.plan.model import PlanModel, build, rooms_upper, whole_classes_bind
from capacity.plan.settings import PlanSettings
from capacity.plan.solve import TIME_LIMIT_NOTE, run_again, solve

_TOL = 1e-9  # relative: a move improves when it lowers the cost by more than this share


@dataclass(frozen=True)
class Site:
    """A school whose service is a decision: the HiGHS columns of its status variables (y, or c of a
    closable school), their values when it serves in every year it can and in none, and the seats it
    offers in the year of each column (most classrooms times its largest class)."""

    school_id: str
    variables: tuple[pulp.LpVariable, ...]
    served: np.ndarray
    idle: np.ndarray
    seats: np.ndarray
    years: tuple[int, ...]

    @property
    def cols(self) -> np.ndarray:
        return np.array([v.index for v in self.variables], dtype=np.int32)  # set once the model is handed to HiGHS


@dataclass(frozen=True)
class Found:
    """The best plan the search reached: ``model`` holds it (values and fixed decisions), ``objective`` is its
    LP cost; ``whole`` says whether every number the full model wants whole already is (else round it)."""

    model: PlanModel
    objective: float
    whole: bool
    moves: int
    lps: int


def _sites(model: PlanModel) -> list[Site]:
    d = model.data
    upper = rooms_upper(model.rooms)
    largest = d.caps.groupby(["school_id", "year"])["cap"].max() if len(d.caps) else {}
    status: dict[str, list] = {}
    for (sid, t), v in sorted(model.y.items()):
        status.setdefault(sid, []).append((t, v, v.upBound, v.lowBound))
    for (sid, t), v in sorted(model.c.items()):
        status.setdefault(sid, []).append((t, v, v.lowBound, v.upBound))
    out = []
    for sid in sorted(status):
        rows = status[sid]
        served = np.array([float(r[2]) for r in rows])
        idle = np.array([float(r[3]) for r in rows])
        if np.array_equal(served, idle):
            continue
        seats = np.array([upper.get((sid, t), 0.0) * float(largest.get((sid, t), 0.0)) for t, *_ in rows])
        out.append(Site(sid, tuple(r[1] for r in rows), served, idle, seats, tuple(r[0] for r in rows)))
    return out


class _Arcs:
    """The arcs into each site's columns, with the demand row they serve, their cost and their pupils' most."""

    def __init__(self, model: PlanModel, sites: list[Site]):
        d = model.data
        # a row's index is its place in PuLP's dict of constraints, the order solve.row_arrays hands rows to HiGHS in
        row_at = {name: i for i, name in enumerate(model.problem._constraints)}
        self.x = np.array([v.index for v in model.x], dtype=np.int32)
        row_of_demand = np.array([row_at[f"demand_{i}"] for i in range(len(d.demand))], dtype=np.int32)
        dem_pos = {k: i for i, k in enumerate(zip(d.demand["node"], d.demand["grade"], d.demand["year"], strict=True))}
        self.demand = np.array([dem_pos[k] for k in zip(d.arcs["node"], d.arcs["grade"], d.arcs["year"], strict=True)], dtype=np.int64)
        self.row = row_of_demand[self.demand] if len(self.demand) else np.zeros(0, dtype=np.int32)
        self.demand_rows = row_of_demand
        self.most = np.array([float(v.upBound) if v.upBound is not None else np.inf for v in model.x])
        key = {(s.school_id, t): (j, k) for j, s in enumerate(sites) for k, t in enumerate(s.years)}
        pos = [key.get(k, (-1, -1)) for k in zip(d.arcs["school_id"], d.arcs["year"], strict=True)]
        self.site = np.array([p[0] for p in pos], dtype=np.int64)
        self.col = np.array([p[1] for p in pos], dtype=np.int64)  # which of the site's columns (year)
        self.of_site = [np.flatnonzero(self.site == j) for j in range(len(sites))]
        self.n_demand = len(d.demand)
        year_pos = {t: i for i, t in enumerate(d.years)}
        self.site_years = [np.array([year_pos[t] for t in s.years], dtype=np.int64) for s in sites]
        # years in which some pupils can go to a school that is not a site (its seats are not counted here)
        self.open_ended = np.zeros(len(d.years), dtype=bool)
        self.open_ended[[year_pos[t] for t in d.arcs["year"][self.site < 0].unique()]] = True
        objective = model.problem.objective
        self.unmet_cost = max((float(objective.get(v, 0.0)) for v in model.u), default=0.0)  # a pupil-year unseated


def _knapsack(gain: np.ndarray, pupils: np.ndarray, seats: float) -> float:
    """Most saved by seating up to ``seats`` pupils, ``pupils[i]`` of them at ``gain[i]`` each (fractional knapsack)."""
    keep = (gain > 0) & (pupils > 0)
    gain, pupils = gain[keep], pupils[keep]
    take = np.argsort(-gain, kind="stable")
    room = np.maximum(seats - np.concatenate(([0.0], np.cumsum(pupils[take])[:-1])), 0.0)
    return float(gain[take] @ np.minimum(pupils[take], room))


def _penalty(unseated: float, over: np.ndarray) -> float:
    short = float(np.maximum(over, 0.0).sum())
    return unseated * short if short > 0 else 0.0


class _Search:
    def __init__(self, model: PlanModel, sites: list[Site], state: list[np.ndarray]):
        import highspy

        self.h = model.problem.solverModel
        self.ok = highspy.HighsModelStatus.kOptimal
        self.time_limit = highspy.HighsModelStatus.kTimeLimit
        self.model, self.sites, self.state = model, sites, state
        self.arcs = _Arcs(model, sites)
        self.cost = np.asarray(self.h.getLp().col_cost_)

    def set(self, j: int, values: np.ndarray) -> None:
        s = self.sites[j]
        self.h.changeColsBounds(len(s.cols), s.cols, values, values)

    def run(self, time_s: float) -> str:
        run_again(self.h, time_s)
        ms = self.h.getModelStatus()
        return "optimal" if ms == self.ok else "time" if ms == self.time_limit else "other"

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def moves(self) -> list[tuple[float, int, int, int]]:
        """(estimate, kind, site switched off, site switched on) for every move whose first-order change is
        negative, best estimate first; kind 0 drop, 1 add, 2 swap; -1 where no site."""
        sol = self.h.getSolution()
        col = np.asarray(sol.col_value)
        rc = np.asarray(sol.col_dual)
        dual = np.asarray(sol.row_dual)
        a = self.arcs
        v = dual[a.row]  # marginal cost of one more pupil of the arc's demand
        c = self.cost[a.x]
        rc_x = rc[a.x]
        flow = col[a.x]
        # arcs a pupil could be moved to: into schools that are not sites, or into sites serving that year
        # with seats to spare (a moved pupil pays the cheapest of these: its reduced cost plus the demand dual)
        spare = np.ones(len(a.site), dtype=bool)
        n_years = len(a.open_ended)
        loads, free = [], []  # per site and year: pupils seated there, and seats left where it serves
        for j, s in enumerate(self.sites):
            idx = a.of_site[j]
            k = a.col[idx]
            load = np.bincount(k, weights=flow[idx], minlength=len(s.years))
            serves = self.state[j] == s.served
            spare[idx] = serves[k] & (load[k] < s.seats[k] * (1 - 1e-6) - 1e-6)
            loads.append(np.bincount(a.site_years[j], weights=load * serves, minlength=n_years))
            free.append(np.bincount(a.site_years[j], weights=np.maximum(s.seats - load, 0.0) * serves, minlength=n_years))
        free_total = np.sum(free, axis=0) if free else np.zeros(n_years)
        best1 = np.full(a.n_demand, np.inf)
        site1 = np.full(a.n_demand, -2, dtype=np.int64)
        best2 = np.full(a.n_demand, np.inf)
        order = np.lexsort((rc_x, a.demand))
        order = order[spare[order]]
        first = np.ones(len(order), dtype=bool)
        first[1:] = a.demand[order][1:] != a.demand[order][:-1]
        i1 = order[first]
        best1[a.demand[i1]] = rc_x[i1]
        site1[a.demand[i1]] = a.site[i1]
        second = np.zeros(len(order), dtype=bool)
        second[1:] = first[:-1] & ~first[1:]
        i2 = order[second]
        best2[a.demand[i2]] = rc_x[i2]
        dual_d = dual[a.demand_rows]  # per demand
        unseated = a.unmet_cost if a.unmet_cost > 0 else np.inf
        off, on = [], []
        for j, s in enumerate(self.sites):
            now = self.state[j]
            idx = a.of_site[j]
            if not np.array_equal(now, s.idle):
                dz = s.idle - now
                # a pupil moved away pays its cheapest other arc, at most the price of going unseated
                extra = np.minimum(np.where(site1 == j, best2, best1), unseated - dual_d)
                moved = float(flow[idx] @ np.minimum(extra[a.demand[idx]] + v[idx] - c[idx], 1e18))
                pupils = np.bincount(a.demand[idx], weights=flow[idx], minlength=a.n_demand)
                # pupils beyond the seats left at the other sites (in years with no school outside the sites)
                over = np.where(a.open_ended, 0.0, loads[j] - (free_total - free[j]))
                off.append((j, float(self.cost[s.cols] @ dz) + moved, float(rc[s.cols] @ dz), over, pupils, extra))
            if not np.array_equal(now, s.served):
                dz = s.served - now
                newly = (s.served != now)[a.col[idx]]
                years = [(idx[newly & (a.col[idx] == k)], s.seats[k]) for k in np.unique(a.col[idx][newly])]
                saved = sum(_knapsack(v[sel] - c[sel], a.most[sel], seats) for sel, seats in years)
                seats = np.bincount(a.site_years[j], weights=s.seats * (s.served != now), minlength=n_years)
                on.append((j, float(self.cost[s.cols] @ dz), float(rc[s.cols] @ dz), seats, years, saved))
        out = [(e + _penalty(unseated, over), 0, j, -1) for j, e, g, over, *_ in off if g < 0]
        out += [(e - saved, 1, -1, j) for j, e, g, _, _, saved in on if g < 0]
        for j1, e1, g1, over, pupils, extra in off:
            for j2, e2, g2, seats, years, _ in on:
                if j1 == j2 or g1 + g2 >= 0:
                    continue
                # the site switched on takes first the pupils the other one leaves (worth their moving price)
                saved = 0.0
                for sel, room in years:
                    dk = a.demand[sel]
                    left = np.minimum(pupils[dk], a.most[sel])
                    gain = v[sel] - c[sel]
                    saved += _knapsack(np.concatenate((gain + extra[dk], gain)), np.concatenate((left, a.most[sel] - left)), room)
                out.append((e1 + e2 - saved + _penalty(unseated, over - seats), 2, j1, j2))
        out.sort()
        return out


def improve_openings(
    data: PlanData,
    settings: PlanSettings,
    start: dict[str, float],
    time_s: float,
    max_lps: int = 300,
    stall_lps: int = 100,
    model: PlanModel | None = None,
) -> Found | None:
    """Local search over the sites' service (openings, closures) from the plan ``start`` (values by variable
    name, of a model built from ``data`` and ``settings``). Returns the best plan reached with its LP cost (see
    ``Found``), or None where the starting decisions' LP has no solution in the time. The plan's decisions are
    whole; other whole numbers (classes, classrooms built) are whole only where ``Found.whole`` says so.
    ``model``: the model built from ``data`` with ``linking_rows=False`` and its bounds as built, to search on
    (changed in place); else one is built."""
    t0 = time.perf_counter()
    model = build(data, settings, linking_rows=False) if model is None else model
    prob = model.problem
    # the whole numbers of the plan's model (a model built with integer_classes off has every class continuous)
    whole_n = {v.name for v, w in zip(model.n, whole_classes_bind(data, settings), strict=True) if w}
    n_names = {v.name for v in model.n}
    ints = [v for v in prob.variables() if (v.name in whole_n if v.name in n_names else v.cat == pulp.LpInteger)]
    for v in ints:
        v.cat = pulp.LpContinuous
    status = {v.name for v in (*model.y.values(), *model.c.values())}
    sites = _sites(model)  # before the decisions are fixed: reads their bounds
    for v in prob.variables():
        if v.name in status:
            v.lowBound = v.upBound = float(round(start.get(v.name, 0.0)))
    rep = solve(prob, settings.with_(time_limit_s=max(1.0, time_s), mip_gap=0.0), fallback=None)
    if rep.status != "optimal":
        return None
    col = np.asarray(prob.solverModel.getSolution().col_value)
    search = _Search(model, sites, [col[s.cols].round() for s in sites])
    # a move's LP may take at most the work of the first solve from scratch (a bound on work, not time,
    # so the same inputs give the same plan): moves that leave pupils without a seat can take far longer
    search.h.setOptionValue("simplex_iteration_limit", max(1000, int(search.h.getInfo().simplex_iteration_count)))
    best, best_col = rep.objective, col.copy()
    moves = lps = last_move = 0
    while lps < max_lps and lps - last_move < stall_lps:
        improved = False
        for _estimate, _kind, off, on in search.moves():
            left = time_s - (time.perf_counter() - t0)
            if lps >= max_lps or lps - last_move >= stall_lps:
                break
            if left <= 0:
                note(TIME_LIMIT_NOTE)
                break
            changed = [(j, sites[j].idle if j == off else sites[j].served) for j in (off, on) if j >= 0]
            for j, target in changed:
                search.set(j, target)
            lps += 1
            outcome = search.run(left)
            if outcome == "time":
                note(TIME_LIMIT_NOTE)
            if outcome == "optimal" and search.objective() < best - _TOL * max(1.0, abs(best)):
                best = search.objective()
                best_col = np.asarray(search.h.getSolution().col_value).copy()
                for j, target in changed:
                    search.state[j] = target.copy()
                moves += 1
                last_move = lps
                improved = True
                break
            for j, _ in changed:
                search.set(j, search.state[j])
            if outcome == "time":
                break
        if not improved:
            break
    if not moves:
        return None
    # the best plan's values and decisions into the PuLP model (whole numbers restored for rounding)
    for v in prob.variables():
        v.varValue = float(best_col[v.index])
        if v.name in status:
            v.lowBound = v.upBound = float(round(best_col[v.index]))
    for v in ints:
        v.cat = pulp.LpInteger
    whole = all(abs(v.varValue - round(v.varValue)) <= 1e-6 for v in ints if v.name not in status)
    return Found(model, best, whole, moves, lps)
