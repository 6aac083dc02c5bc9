"""Tidy result tables from a solved PlanModel (reads variable values only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.grades import GRADE_INDEX, STAGE_OF_GRADE
from capacity.plan.model import PlanModel, values
from capacity.plan.settings import PlanSettings
from capacity.standards import stage_room_size

TOL = 1e-6


def _round_int(v: float) -> int:
    return int(round(v))


def extract(model: PlanModel, settings: PlanSettings) -> dict[str, pd.DataFrame]:
    """builds, schools, classes, assignment, unmet and costs tables (docs/plan-model.md, Outputs)."""
    d = model.data
    s = d.schools
    xv = values(model.x)
    uv = values(model.u)
    nv = np.round(values(model.n)) if settings.integer_classes else values(model.n)
    arcs = d.arcs.assign(pupils=xv)
    nodes = d.nodes.set_index("node")
    arcs["zone_id"] = arcs["node"].map(nodes["zone_id"])
    arcs["home"] = arcs["node"].map(nodes["home"])

    # builds
    rows = []
    for (sid, t), v in sorted(model.b.items()):
        k = _round_int(v.varValue or 0)
        if k > 0:
            first = s.at[sid, "first_grade"]
            seats = round(k * stage_room_size(settings.class_size, STAGE_OF_GRADE[first]))
            rows.append(
                (t, t + settings.build_lead_years, sid, s.at[sid, "name"], "extend", k, seats, k * float(s.at[sid, "cost_per_classroom"]))
            )
    for (sid, t), v in sorted(model.y.items()):
        opened = (v.varValue or 0) > 0.5 and not ((sid, t - 1) in model.y and (model.y[sid, t - 1].varValue or 0) > 0.5)
        if opened:
            k = int(s.at[sid, "max_rooms"])
            first = s.at[sid, "first_grade"]
            rows.append(
                (
                    t,
                    t,
                    sid,
                    s.at[sid, "name"],
                    "new school",
                    k,
                    round(k * stage_room_size(settings.class_size, STAGE_OF_GRADE[first])),
                    float(s.at[sid, "open_cost"]),
                )
            )
    builds = pd.DataFrame(rows, columns=["year", "usable_from", "school_id", "name", "kind", "classrooms", "seats", "cost"])

    # classes
    by_sgt = arcs.groupby(["school_id", "grade", "year"])["pupils"].sum()
    caps = d.caps.assign(classes=nv)
    caps["pupils"] = [by_sgt.get((a, g, t), 0.0) for a, g, t in zip(caps["school_id"], caps["grade"], caps["year"], strict=True)]
    caps = caps[(caps["classes"] > TOL) | (caps["pupils"] > TOL)].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        caps["mean_class_size"] = np.where(caps["classes"] > 0, caps["pupils"] / caps["classes"], np.nan)
        caps["max_class_size"] = np.where(caps["classes"] > 0, np.ceil(caps["pupils"] / caps["classes"] - 1e-6), np.nan)
    classes = caps[["year", "school_id", "grade", "pupils", "classes", "mean_class_size", "max_class_size", "cap", "standard"]]
    classes = classes.sort_values(["year", "school_id", "grade"], key=_gkey).reset_index(drop=True)

    # schools by year
    rooms = {k: _val(e) for k, e in model.rooms.items()}
    pupils_st = arcs.groupby(["school_id", "year"])["pupils"].sum()
    srows = []
    for sid, r in s.iterrows():
        for t in d.years:
            if r["status"] == "candidate":
                is_open = (sid, t) in model.y and (model.y[sid, t].varValue or 0) > 0.5
                status = "new" if is_open else "not opened"
            else:
                closed = (sid, t) in model.c and (model.c[sid, t].varValue or 0) > 0.5
                status = "closed" if closed else "open"
            srows.append((t, sid, r["name"], r["zone_id"], status, _round_int(rooms[sid, t]), float(pupils_st.get((sid, t), 0.0))))
    schools = pd.DataFrame(srows, columns=["year", "school_id", "name", "zone_id", "status", "classrooms", "pupils"])

    # assignment by zone
    a = arcs[arcs["pupils"] > TOL]
    a = a.assign(
        pupil_km=a["pupils"] * a["km"],
        moved=np.where((a["home"] != "") & (a["home"] != a["school_id"]), a["pupils"], 0.0),
        boarders=np.where(a["boarder"], a["pupils"], 0.0),
    )
    assignment = a.groupby(["year", "zone_id", "school_id", "grade"], as_index=False)[["pupils", "pupil_km", "moved", "boarders"]].sum()
    assignment["km"] = assignment["pupil_km"] / assignment["pupils"]
    assignment = (
        assignment.drop(columns="pupil_km").sort_values(["year", "zone_id", "school_id", "grade"], key=_gkey).reset_index(drop=True)
    )

    # unmet by zone
    un = d.demand.assign(pupils=uv)
    unmet = un.groupby(["year", "zone_id", "grade"], as_index=False)["pupils"].sum()
    unmet = unmet[unmet["pupils"] > TOL].sort_values(["year", "zone_id", "grade"], key=_gkey).reset_index(drop=True)

    costs = cost_table(model, settings, arcs, classes, schools, builds, unmet)
    return {"builds": builds, "schools": schools, "classes": classes, "assignment": assignment, "unmet": unmet, "costs": costs}


def _val(e) -> float:
    import pulp

    v = pulp.value(e)
    return float(v) if v is not None else 0.0


def _gkey(col: pd.Series) -> pd.Series:
    return col.map(GRADE_INDEX) if col.name == "grade" else col


def cost_table(model: PlanModel, settings: PlanSettings, arcs, classes, schools, builds, unmet) -> pd.DataFrame:
    """Costs by year and category (currency), undiscounted and discounted."""
    d = model.data
    rows = []

    def total(x) -> float:
        return float(np.asarray(x, dtype=float).sum())

    class_cost = classes["grade"].map(lambda g: settings.cost_per_class_year[STAGE_OF_GRADE[g]]) * classes["classes"]
    for t in d.years:
        b = builds[builds["year"] == t]
        a = arcs[arcs["year"] == t]
        items = {
            "capital_classrooms": total(b.loc[b["kind"] == "extend", "cost"]),
            "capital_new_schools": total(b.loc[b["kind"] == "new school", "cost"]),
            "operating_classes": total(class_cost[classes["year"] == t]),
            "operating_schools": settings.cost_per_school_year
            * int(schools[(schools["year"] == t) & schools["status"].isin(["open", "new"])].shape[0]),
            "travel": settings.cost_per_pupil_km_year * total(a["pupils"].to_numpy(dtype=float) * a["km"].to_numpy(dtype=float)),
            "boarding": settings.cost_per_boarder_year * total(a.loc[a["boarder"].astype(bool), "pupils"]),
            "moved_pupils": settings.cost_per_moved_pupil_year * total(a.loc[(a["home"] != "") & (a["home"] != a["school_id"]), "pupils"]),
            "unmet_penalty": settings.unmet_penalty * total(unmet.loc[unmet["year"] == t, "pupils"]),
        }
        for k, v in items.items():
            rows.append((t, k, v, v * d.discount[t]))
    return pd.DataFrame(rows, columns=["year", "category", "cost", "discounted_cost"])
