"""Plans robust to demand uncertainty: one set of builds, openings and closures for K demand
draws at once, and an evaluation of any plan's decisions on held-out draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from capacity.plan.inputs import prepare
from capacity.plan.model import build, build_robust, unmet_cost, values
from capacity.plan.results import extract
from capacity.plan.settings import PlanSettings
from capacity.plan.solve import solve


def demand_of_draw(projection, d: int) -> pd.DataFrame:
    """Draw ``d`` of a projection as a demand table (whole pupils), in the projection's grade system."""
    grades = projection.grades.grades
    z, g, t = np.meshgrid(np.arange(len(projection.zones)), np.arange(len(grades)), np.arange(len(projection.years)), indexing="ij")
    v = np.round(projection.draws[..., d]).ravel()
    return pd.DataFrame(
        {
            "year": np.asarray(projection.years)[t.ravel()],
            "zone_id": np.asarray(projection.zones, dtype=object)[z.ravel()],
            "grade": np.asarray(grades, dtype=object)[g.ravel()],
            "pupils": v,
        }
    )


def spread_draws(projection, k: int) -> list[int]:
    """K draws spread over the distribution of total demand: ranks at (i + 0.5) / K."""
    total = projection.draws.sum(axis=(0, 1, 2))
    order = np.argsort(total, kind="stable")
    return [int(order[int((i + 0.5) / k * len(order))]) for i in range(k)]


def held_out_draws(projection, m: int, exclude: list[int], seed: int = 1) -> list[int]:
    """``m`` seeded draws not among ``exclude``, for evaluation."""
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(projection.draws.shape[-1]), exclude)
    return sorted(int(x) for x in rng.choice(pool, size=min(m, len(pool)), replace=False))


@dataclass(frozen=True)
class RobustPlan:
    """Shared decisions and per-draw outcomes of a robust plan.

    Attributes
    ----------
    decisions : dict
        'b', 'y', 'c': {(school_id, year): value}.
    tables : dict of str to DataFrame
        builds and schools (shared), as in a single plan (from the first draw's view).
    per_draw : DataFrame
        draw, unmet_pupil_years, flow_cost.
    status, objective, gap : solver outcome.
    """

    decisions: dict
    tables: dict
    per_draw: pd.DataFrame
    status: str
    objective: float
    gap: float


def plan_robust(district, projection, settings: PlanSettings, k: int = 5, max_unmet: float | None = None) -> RobustPlan:
    """Least expected-cost plan over ``k`` spread draws (optionally no draw above ``max_unmet``)."""
    draws = spread_draws(projection, k)
    return plan_robust_demands(district, [demand_of_draw(projection, d) for d in draws], settings, max_unmet, draws)


def plan_robust_demands(
    district, demands: list[pd.DataFrame], settings: PlanSettings, max_unmet: float | None = None, labels: list | None = None
) -> RobustPlan:
    """Least expected-cost plan over equally likely demand tables (year, zone_id, grade, pupils):
    builds, openings and closures shared, classes and assignment per demand (``build_robust``)."""
    labels = list(range(len(demands))) if labels is None else labels
    datas = [prepare(district, dem, settings) for dem in demands]
    prob, views = build_robust(datas, settings, max_unmet)
    rep = solve(prob, settings)
    v0 = views[0]
    dec = {
        "b": {key: round(v.varValue or 0) for key, v in v0.b.items()},
        "y": {key: round(v.varValue or 0) for key, v in v0.y.items()},
        "c": {key: round(v.varValue or 0) for key, v in v0.c.items()},
    }
    tables = extract(v0, settings)
    rows = [{"draw": d, "unmet_pupil_years": float(values(v.u).sum())} for d, v in zip(labels, views, strict=True)]
    return RobustPlan(
        dec, {"builds": tables["builds"], "schools": tables["schools"]}, pd.DataFrame(rows), rep.status, rep.objective, rep.gap
    )


def decisions_from_tables(tables: dict) -> dict:
    """Builds, openings and closures of a solved plan, read back from its tables."""
    b = tables["builds"]
    sch = tables["schools"]
    dec = {"b": {}, "y": {}, "c": {}}
    for r in b[b["kind"] == "extend"].itertuples(index=False):
        dec["b"][(r.school_id, int(r.year))] = int(r.classrooms)
    for r in sch.itertuples(index=False):
        if r.status == "new":
            dec["y"][(r.school_id, int(r.year))] = 1
        if r.status == "closed":
            dec["c"][(r.school_id, int(r.year))] = 1
    return dec


def outcome_with_decisions(district, decisions: dict, demand: pd.DataFrame, settings: PlanSettings) -> tuple[float, float, float]:
    """(pupil-years without a seat, cost without the unmet penalty, cost) when ``demand`` meets fixed
    decisions; classes may be fractional here: the evaluation asks whether seats exist, not how
    classes are formed."""
    return _outcome(*_evaluation_model(district, demand, settings), decisions)


def _evaluation_model(district, demand: pd.DataFrame, settings: PlanSettings):
    """The fractional-class model of ``demand`` that ``_outcome`` fixes decisions in (re-fixable)."""
    s = settings.with_(integer_classes=False)
    return build(prepare(district, demand, s), s), s


def _outcome(m, s: PlanSettings, decisions: dict) -> tuple[float, float, float]:
    """``outcome_with_decisions`` on a model (and settings) from ``_evaluation_model``: every decision is fixed anew."""
    for kind, var in (("b", m.b), ("y", m.y), ("c", m.c)):
        for key, v in var.items():
            val = float(decisions[kind].get(key, 0))
            v.lowBound = val
            v.upBound = val
    rep = solve(m.problem, s)
    unmet = float(sum(pulp.value(u) or 0.0 for u in m.u))
    penalty = pulp.value(unmet_cost(m, s))
    return unmet, float(rep.objective) - penalty, float(rep.objective)


def unmet_with_decisions(district, decisions: dict, demand: pd.DataFrame, settings: PlanSettings) -> float:
    """Pupil-years left without a seat when ``demand`` meets fixed decisions (see ``outcome_with_decisions``)."""
    return outcome_with_decisions(district, decisions, demand, settings)[0]


def evaluate_plans(district, plans: dict[str, tuple[dict, float]], demands: list[pd.DataFrame], settings: PlanSettings) -> pd.DataFrame:
    """Each plan's decisions met by every demand table (equally likely held-out draws).

    Parameters
    ----------
    plans : dict
        label -> (decisions as ``decisions_from_tables`` gives them, capital cost in currency).

    Returns
    -------
    DataFrame
        plan, capital, mean_cost (currency: the plan's discounted cost without the unmet penalty, mean over
        draws), share_of_draws_short (unmet > 0.5 pupil-years), mean_unmet_pupil_years, worst_unmet_pupil_years,
        mean_cost_with_penalty.
    """
    outcomes: dict[str, list] = {label: [] for label in plans}
    for dem in demands:  # one model per demand, each plan's decisions fixed in it in turn
        m, s = _evaluation_model(district, dem, settings)
        for label, (dec, _capital) in plans.items():
            outcomes[label].append(_outcome(m, s, dec))
    rows = []
    for label, (_dec, capital) in plans.items():
        out = np.array(outcomes[label])
        unmet = out[:, 0]
        rows.append(
            {
                "plan": label,
                "capital": capital,
                "mean_cost": float(out[:, 1].mean()),
                "share_of_draws_short": float((unmet > 0.5).mean()),
                "mean_unmet_pupil_years": float(unmet.mean()),
                "worst_unmet_pupil_years": float(unmet.max()),
                "mean_cost_with_penalty": float(out[:, 2].mean()),
            }
        )
    return pd.DataFrame(rows)


def robustness_report(district, projection, settings: PlanSettings, k: int = 5, n_eval: int = 20, single_plan=None) -> pd.DataFrame:
    """The P50 plan, the P80 plan and the robust plan over ``k`` spread draws, each met by ``n_eval``
    held-out draws (not among the ``k``): capital, expected cost and expected and worst shortfall.

    ``single_plan`` (a plan already solved at ``settings.demand_quantile``) is reused for its quantile.
    The robust plan is built with ``settings`` (its ``demand_quantile`` plays no part).

    Returns
    -------
    DataFrame
        see ``evaluate_plans``; plans 'P50', 'P80', 'robust over K draws'.
    """
    from capacity.plan import plan_from_projection
    from capacity.projection.schools import by_zone

    projection = by_zone(projection)  # the school-level mode: draws by school summed into their zones

    quantile_plans = {}
    for q in (0.5, 0.8):
        reuse = single_plan is not None and abs(single_plan.settings.demand_quantile - q) < 1e-12
        quantile_plans[f"P{q * 100:g}"] = (
            single_plan if reuse else plan_from_projection(district, projection, settings.with_(demand_quantile=q))
        )
    robust = plan_robust(district, projection, settings, k)
    plans = {lb: (decisions_from_tables(p.tables), float(p.tables["builds"]["cost"].sum())) for lb, p in quantile_plans.items()}
    plans[f"robust over {k} draws"] = (robust.decisions, float(robust.tables["builds"]["cost"].sum()))
    evals = held_out_draws(projection, n_eval, spread_draws(projection, k), seed=settings_seed(projection))
    return evaluate_plans(district, plans, [demand_of_draw(projection, d) for d in evals], settings)


def settings_seed(projection) -> int:
    return int(projection.settings.seed) + 1
