"""Near-optimal alternative plans (modelling to generate alternatives, Hop-Skip-Jump).

After the optimal plan, each alternative minimises its overlap with the board decisions of the
plans found so far (which candidate sites open, where classrooms are built, which schools
close), subject to costing at most (1 + slack) times the optimal plan. docs/plan-alternatives.md
shows the equations; they are generated from the ``Equation::`` blocks below.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import pandas as pd
import pulp

from capacity.plan import PlanResult, plan_summary, shortfall_tail
from capacity.plan.model import PlanModel, build, unmet_cost
from capacity.plan.results import extract
from capacity.plan.shortfalls import shortfall_messages
from capacity.plan.solve import solve

USED = 1e-6  # a decision feature counts as used above this value (features are shares from 0 to 1)


@dataclass(frozen=True)
class Alternatives:
    """The optimal plan and its near-optimal alternatives.

    Attributes
    ----------
    optimum : PlanResult
    plans : list of PlanResult
        The alternatives found, in the order found (each a full plan with its own tables).
    slack : float
        Cost slack (share of the optimal objective).
    cost_limit : float
        Most an alternative may cost (currency): (1 + slack) x the optimal plan's cost without the unmet
        penalty, plus that penalty (no alternative leaves more pupil-years unseated, discounted).
    notes : list of str
        Why fewer alternatives than asked were returned, if so.
    """

    optimum: PlanResult
    plans: list[PlanResult]
    slack: float
    cost_limit: float
    notes: list[str] = field(default_factory=list)

    def labelled(self) -> list[tuple[str, PlanResult]]:
        """('optimal', plan), ('alt-1', plan), ... in order."""
        return [("optimal", self.optimum)] + [(f"alt-{i + 1}", p) for i, p in enumerate(self.plans)]


def board_features(model: PlanModel) -> dict[tuple[str, str], pulp.LpAffineExpression]:
    """The decisions a board argues about, each a share from 0 to 1 of one school's decision.

    Equation::

        F[open, s]  = y[s,T]                                      candidate s (not decided): opened by the last year T
        F[build, s] = sum_t b[s,t] / (Rmax[s] - R0[s] - max_t P[s,t])    buildable s: share of the site's room built on
        F[close, s] = sum_t c[s,t] / |T_s|                         closable s: share of its closable years closed
    """
    d = model.data
    last = d.years[-1]
    out: dict[tuple[str, str], pulp.LpAffineExpression] = {}
    decided = d.schools["decided_open"].notna()
    for sid in d.schools.index:
        if (sid, last) in model.y and not decided[sid]:
            out["open", sid] = pulp.LpAffineExpression([(model.y[sid, last], 1.0)])
    built: dict[str, list] = {}
    for (sid, _t), v in model.b.items():
        built.setdefault(sid, []).append(v)
    for sid, vs in built.items():
        out["build", sid] = pulp.LpAffineExpression([(v, 1.0 / float(vs[0].upBound)) for v in vs])
    closed: dict[str, list] = {}
    for (sid, _t), v in model.c.items():
        closed.setdefault(sid, []).append(v)
    for sid, vs in closed.items():
        if not all(v.lowBound == 1 for v in vs):  # a forced closure is no choice
            out["close", sid] = pulp.LpAffineExpression([(v, 1.0 / len(vs)) for v in vs])
    return out


def overlap_objective(features: dict, used_count: dict) -> pulp.LpAffineExpression:
    """Hop-Skip-Jump: weight each feature by the number of plans so far that used it.

    Equation::

        min  sum_f w[f] F[f],   w[f] = number of plans found so far (the optimal one included) with F[f] > 0
        s.t. every constraint of the plan model, and
             cost - U <= (1 + slack) (z* - U*)          cost: the plan model's objective; U: its unmet penalty term
             U <= U*                                    z*, U*: objective and unmet penalty of the optimal plan
    """
    acc: dict = {}
    for k, e in features.items():
        w = float(used_count.get(k, 0))
        for v, coef in e.items():
            if w:
                acc[v] = acc.get(v, 0.0) + w * coef
    return pulp.LpAffineExpression(list(acc.items()))


def feature_values(features: dict) -> dict[tuple[str, str], float]:
    """Solved value of every feature (rounded to 6 decimals, so equal plans compare equal)."""
    return {k: round(float(pulp.value(e) or 0.0), 6) for k, e in features.items()}


def plan_alternatives(district, optimum: PlanResult, n: int | None = None, slack: float | None = None) -> Alternatives:
    """Up to ``n`` plans within ``slack`` of ``optimum``'s cost, each avoiding the decisions of
    the plans before it (defaults: ``optimum.settings.alternatives`` and ``alternatives_slack``).

    Stops early, with a note, when the next plan would repeat the decisions of one already
    found: no other plan within the slack avoids them.
    """
    settings = optimum.settings
    n = settings.alternatives if n is None else n
    slack = settings.alternatives_slack if slack is None else slack
    z_star = float(optimum.summary["objective"])
    c = optimum.tables["costs"]
    z_unmet = float(c.loc[c["category"] == "unmet_penalty", "discounted_cost"].sum())
    limit = (1.0 + slack) * (z_star - z_unmet) + z_unmet
    model = build(optimum.data, settings.with_(alternatives=0))
    cost = model.problem.objective
    start = optimum_start(model, optimum)
    add_slack_rows(model, settings, cost, z_star, z_unmet, slack, 0.0)
    features = board_features(model)
    seen = [_used(_values_from_tables(features, optimum))]
    used_count = _count(seen)
    plans: list[PlanResult] = []
    notes: list[str] = []
    relaxed = None
    for i in range(n):
        if not used_count:
            notes.append("plan.alternatives: the optimal plan opens, builds and closes nothing, so no decision is there to avoid")
            break
        t0 = time.perf_counter()
        model.problem.setObjective(overlap_objective(features, used_count))
        report = solve_checked(model, settings, start, cost, limit)
        stuck = report.status in ("infeasible", "no_solution") or (report.status != "optimal" and _used(feature_values(features)) in seen)
        if stuck and settings.integer_classes:
            if relaxed is None:
                relaxed = _relaxed_search_model(optimum, z_unmet, slack)
            report = _search_relaxed_then_complete(model, relaxed, settings, used_count, cost) or report
        if report.status in ("infeasible", "no_solution"):
            notes.append(f"plan.alternatives: alternative {i + 1} found no plan within the slack ({report.model_status})")
            break
        vals = feature_values(features)
        if _used(vals) in seen:
            notes.append(
                f"plan.alternatives: found {i} of {n} alternatives; every further plan within {slack:.1%} of the optimum "
                "repeats the decisions of one already found"
                + ("" if report.status == "optimal" else f" (the search stopped at its limit: {report.status})")
            )
            break
        seen.append(_used(vals))
        used_count = _count(seen)
        plans.append(_result(district, model, optimum, report, cost, t0))
        start = {v: v.varValue for v in model.problem.variables() if v.varValue is not None}
    return Alternatives(optimum, plans, slack, limit, notes)


def optimum_start(model: PlanModel, optimum: PlanResult) -> dict:
    """Every variable's value in the optimal plan: its builds, openings and closures fixed, the rest
    solved again (the plan's own model is not kept). A full starting plan for the first alternative."""
    from capacity.plan.robust import decisions_from_tables

    dec = decisions_from_tables(optimum.tables)
    bounds = {}
    for kind, var in (("b", model.b), ("y", model.y), ("c", model.c)):
        for key, v in var.items():
            bounds[v] = (v.lowBound, v.upBound)
            v.lowBound = v.upBound = float(dec[kind].get(key, 0))
    report = solve(model.problem, optimum.settings)
    for v, (lo, up) in bounds.items():
        v.lowBound, v.upBound = lo, up
    if report.status in ("infeasible", "no_solution"):
        return {}
    return {v: v.varValue for v in model.problem.variables() if v.varValue is not None}


def solve_checked(model: PlanModel, settings, start: dict, cost, limit: float):
    """Solve from ``start``; when the values handed back do not give the objective reported (HiGHS 1.16
    given a starting plan returned that plan's values with the objective of a better one), solve again
    without it, and keep the first values if that finds no plan and they are within the cost limit."""
    report = solve(model.problem, settings, start=start or None)
    if report.status in ("infeasible", "no_solution") or not start:
        return report
    got = float(pulp.value(model.problem.objective) or 0.0)
    within = float(pulp.value(cost)) <= limit * (1 + 1e-7) + 1e-6
    if within and abs(got - report.objective) <= 1e-6 * max(1.0, abs(report.objective)):
        return report
    first = {v: v.varValue for v in model.problem.variables()}
    redo = solve(model.problem, settings)
    if redo.status not in ("infeasible", "no_solution") or not within:
        return redo
    for v, val in first.items():
        v.varValue = val
    return replace(report, objective=got, model_status=f"{report.model_status}; the starting plan's values, kept")


def add_slack_rows(model: PlanModel, settings, cost, z_star: float, z_unmet: float, slack: float, rounding: float) -> None:
    """The cost rows of an alternative (``overlap_objective``'s constraints), ``rounding`` kept off the first."""
    penalty = unmet_cost(model, settings)
    tol = 1e-9 * max(1.0, abs(z_star))
    model.problem += cost - penalty <= (1.0 + slack) * (z_star - z_unmet) - rounding + tol, "alternatives_cost_limit"
    model.problem += penalty <= z_unmet + tol, "alternatives_unmet_limit"


def _relaxed_search_model(optimum: PlanResult, z_unmet: float, slack: float) -> tuple[PlanModel, dict]:
    """The plan model with fractional classes and the cost limits: where HiGHS finds plans within the
    slack quickly when whole classes make it slow (the decisions stay whole). The cost limit is lowered
    by what whole classes add to the optimal plan's cost (its decisions with fractional classes), so the
    plans found keep within it once their classes are whole."""
    m = build(optimum.data, optimum.settings.with_(alternatives=0, integer_classes=False))
    cost = m.problem.objective
    relaxed_optimum = optimum_start(m, optimum)
    rounding = float(optimum.summary["objective"]) - float(pulp.value(cost)) if relaxed_optimum else 0.0
    add_slack_rows(m, optimum.settings, cost, float(optimum.summary["objective"]), z_unmet, slack, max(rounding, 0.0))
    return m, board_features(m)


def _search_relaxed_then_complete(model: PlanModel, relaxed: tuple[PlanModel, dict], settings, used_count: dict, cost):
    """Hop-Skip-Jump step on the fractional-class model, then the whole-class plan with those builds,
    openings and closures fixed (least cost, within the limit). None when either finds no plan; the
    integer model's bounds and objective are restored either way."""
    rmodel, rfeatures = relaxed
    rmodel.problem.setObjective(overlap_objective(rfeatures, used_count))
    rep = solve(rmodel.problem, settings)
    if rep.status in ("infeasible", "no_solution"):
        return None
    hsj = model.problem.objective
    before = {v: v.varValue for v in model.problem.variables()}  # the whole-class search's plan, restored on failure
    bounds = {}
    for name in ("b", "y", "c"):
        for key, v in getattr(model, name).items():
            bounds[v] = (v.lowBound, v.upBound)
            v.lowBound = v.upBound = float(round(getattr(rmodel, name)[key].varValue or 0.0))
    model.problem.setObjective(cost)
    try:
        done = solve(model.problem, settings)
    finally:
        for v, (lo, up) in bounds.items():
            v.lowBound, v.upBound = lo, up
        model.problem.setObjective(hsj)
    if done.status in ("infeasible", "no_solution"):
        for v, val in before.items():
            v.varValue = val
        return None
    return replace(
        done, objective=float(pulp.value(hsj)), model_status=f"fractional-class search, whole classes completed ({done.model_status})"
    )


def _values_from_tables(features: dict, plan: PlanResult) -> dict[tuple[str, str], float]:
    """Feature values of a solved plan, read from its tables (the same shares as the model's)."""
    b, sch = plan.tables["builds"], plan.tables["schools"]
    out = {}
    for kind, sid in features:
        if kind == "open":
            out[kind, sid] = float(((b["school_id"] == sid) & (b["kind"] == "new school")).any())
        elif kind == "build":
            e = features[kind, sid]
            room = 1.0 / next(iter(e.values()))
            out[kind, sid] = float(b.loc[(b["school_id"] == sid) & (b["kind"] == "extend"), "classrooms"].sum()) / room
        else:
            e = features[kind, sid]
            closed = sch[(sch["school_id"] == sid) & (sch["status"] == "closed")]
            out[kind, sid] = len(closed) / len(e)
    return {k: round(v, 6) for k, v in out.items()}


def _used(vals: dict) -> tuple:
    """A plan's decisions as a hashable key (features used and their shares)."""
    return tuple(sorted((k, v) for k, v in vals.items() if v > USED))


def _count(seen: list[tuple]) -> dict:
    out: dict = {}
    for key in seen:
        for k, _v in key:
            out[k] = out.get(k, 0) + 1
    return out


def _result(district, model: PlanModel, optimum: PlanResult, report, cost, t0: float) -> PlanResult:
    """A full PlanResult for the alternative just solved: its own tables; objective = its cost."""
    settings = optimum.settings
    tables = extract(model, settings)
    z = float(pulp.value(cost))
    rep = replace(
        report, objective=z, bound=math.nan, gap=math.nan, model_status=f"alternative within the cost slack ({report.model_status})"
    )
    summary = plan_summary(model, tables, rep, {"solve_s": report.solve_s}, t0)
    summary["over_optimum"] = round(z / float(optimum.summary["objective"]) - 1.0, 9)  # no float noise on equal costs
    shortfalls = shortfall_messages(tables, model.data, district.zones, district.travel, settings, shortfall_tail(report))
    return PlanResult(tables, summary, model.data, settings, rep, shortfalls)


def board_decisions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """school_id, decision ('new school' / 'classrooms' / 'closed'), value (opening year, classrooms
    built, years closed as 'first-last') of one plan, from its tables (so compare reads it from CSVs)."""
    b, sch = tables["builds"], tables["schools"]
    rows = []
    for r in b[b["kind"] == "new school"].itertuples(index=False):
        rows.append((r.school_id, "new school", f"opens {int(r.year)}"))
    ext = b[b["kind"] == "extend"].groupby("school_id")["classrooms"].sum()
    for sid, k in ext.items():
        rows.append((sid, "classrooms", f"+{int(k)}"))
    closed = sch[sch["status"] == "closed"].groupby("school_id")["year"].agg(["min", "max", "count"])
    for sid, r in closed.iterrows():
        rows.append((sid, "closed", f"{int(r['min'])}-{int(r['max'])}" + ("" if r["count"] == r["max"] - r["min"] + 1 else " (with gaps)")))
    return pd.DataFrame(rows, columns=["school_id", "decision", "value"])


def side_by_side(plans: list[tuple[str, dict[str, pd.DataFrame], dict]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(headline figures of each plan, the board decisions where the plans differ).

    Parameters
    ----------
    plans : list of (label, tables, summary)

    Returns
    -------
    figures : DataFrame
        plan, objective, over_optimum (share), capital_cost, seats_added, schools_opened, schools_closed, unmet_pupil_years.
    differences : DataFrame
        school_id, decision, then one column per plan ('-' where that plan does not take it);
        only rows where the plans differ.
    """
    keys = ["objective", "capital_cost", "seats_added", "schools_opened", "schools_closed", "unmet_pupil_years"]
    base = float(plans[0][2]["objective"]) if plans else math.nan
    figures = pd.DataFrame(
        [{"plan": lb, **{k: s.get(k) for k in keys}, "over_optimum": round(float(s["objective"]) / base - 1.0, 9)} for lb, _t, s in plans]
    )
    frames = [board_decisions(t).assign(plan=lb) for lb, t, _s in plans]
    cols = [lb for lb, _t, _s in plans]
    allrows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["school_id", "decision", "value", "plan"])
    if not len(allrows):
        return figures, pd.DataFrame(columns=["school_id", "decision", *cols])
    wide = allrows.pivot_table(index=["school_id", "decision"], columns="plan", values="value", aggfunc="first").reindex(columns=cols)
    wide = wide.fillna("-").reset_index()
    wide.columns.name = None
    differ = wide[cols].nunique(axis=1) > 1
    return figures, wide[differ].sort_values(["decision", "school_id"]).reset_index(drop=True)


def alternative_tables(alts: Alternatives) -> tuple[pd.DataFrame, pd.DataFrame]:
    """side_by_side of the optimal plan and its alternatives."""
    return side_by_side([(lb, p.tables, p.summary) for lb, p in alts.labelled()])


EQUATIONS = (board_features, overlap_objective)
"""The functions whose ``Equation::`` blocks docs/plan-alternatives.md shows."""
