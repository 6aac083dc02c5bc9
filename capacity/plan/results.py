"""Tidy result tables from a solved PlanModel (reads variable values only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.grades import GradeSystem
from capacity.plan.inputs import grade_order, key_codes, row_owner
from capacity.plan.model import PlanModel, values, whole_classes_bind
from capacity.plan.settings import PlanSettings
from capacity.standards import room_seats

TOL = 1e-6


def _round_int(v: float) -> int:
    return int(round(v))


def extract(model: PlanModel, settings: PlanSettings) -> dict[str, pd.DataFrame]:
    """builds, schools, closures, classes, assignment, unmet and costs tables (docs/plan-model.md, Outputs)."""
    d = model.data
    arcs = d.arcs.assign(pupils=values(model.x))
    nodes = d.nodes.set_index("node")
    arcs["zone_id"] = arcs["node"].map(nodes["zone_id"])
    arcs["home"] = arcs["node"].map(nodes["home"])
    builds = build_table(model, settings)
    classes = class_table(model, settings, arcs)
    schools = school_status_table(model, arcs)
    closures = closure_table(model)
    unmet = unmet_table(model)
    costs = cost_table(model, settings, arcs, classes, schools, builds, unmet)
    return {
        "builds": builds,
        "schools": schools,
        "closures": closures,
        "classes": classes,
        "assignment": assignment_table(arcs, model.data.grades),
        "unmet": unmet,
        "costs": costs,
    }


def _on(v) -> bool:
    return v is not None and (v.varValue or 0) > 0.5


def build_seats(schools: pd.DataFrame, sid: str, rooms: int, settings: PlanSettings, grades: GradeSystem) -> int:
    """Seats of ``rooms`` classrooms at school ``sid`` (its own class size where it has one; at a school
    with a rated capacity, its room seats, as the model counts them)."""
    q = schools.at[sid, "room_seats"] if "room_seats" in schools else None
    if q is not None and q == q:
        return round(rooms * float(q))
    own = schools.at[sid, "class_size"] if "class_size" in schools else None
    return round(rooms * room_seats(settings.standards.class_size, grades.stage_of_grade[schools.at[sid, "first_grade"]], grades, own))


def build_table(model: PlanModel, settings: PlanSettings) -> pd.DataFrame:
    """Classrooms added (kind 'extend') and candidate schools opened ('new school'), with seats and capital."""
    s = model.data.schools
    decided = s["decided_open"].notna().to_dict()
    rows = []
    for (sid, t), v in sorted(model.b.items()):
        k = _round_int(v.varValue or 0)
        if k > 0:
            cost = k * float(s.at[sid, "cost_per_classroom"])
            rows.append(
                (
                    t,
                    t + settings.build_lead_years,
                    sid,
                    s.at[sid, "name"],
                    "extend",
                    k,
                    build_seats(s, sid, k, settings, model.data.grades),
                    cost,
                )
            )
    for (sid, t), v in sorted(model.y.items()):
        if _on(v) and not _on(model.y.get((sid, t - 1))) and not decided[sid]:
            k = int(s.at[sid, "max_rooms"])
            rows.append(
                (
                    t,
                    t,
                    sid,
                    s.at[sid, "name"],
                    "new school",
                    k,
                    build_seats(s, sid, k, settings, model.data.grades),
                    float(s.at[sid, "open_cost"]),
                )
            )
    return pd.DataFrame(rows, columns=["year", "usable_from", "school_id", "name", "kind", "classrooms", "seats", "cost"])


def class_table(model: PlanModel, settings: PlanSettings, arcs: pd.DataFrame) -> pd.DataFrame:
    """Pupils, classes and class sizes per school, grade and year."""
    caps = model.data.caps.copy()
    # pandas' group sum (compensated, rows in order) keyed by each arc's row of caps: no MultiIndex built
    owner = row_owner(caps, arcs, ["school_id", "grade", "year"])
    caps["pupils"] = arcs["pupils"].groupby(owner).sum().reindex(range(len(caps)), fill_value=0.0).to_numpy()
    nv = values(model.n)
    if settings.integer_classes:
        # counts left fractional because whole classes cannot change the answer (whole_classes_bind): the
        # fewest whole classes that seat their pupils, which every row of the model allows (ceil(n) does)
        fewest = np.ceil(caps["pupils"].to_numpy() / caps["cap"].to_numpy() - TOL)
        nv = np.where(whole_classes_bind(model.data, settings), np.round(nv), fewest)
    caps["classes"] = nv
    caps = caps[(caps["classes"] > TOL) | (caps["pupils"] > TOL)].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        caps["mean_class_size"] = np.where(caps["classes"] > 0, caps["pupils"] / caps["classes"], np.nan)
        caps["max_class_size"] = np.where(caps["classes"] > 0, np.ceil(caps["pupils"] / caps["classes"] - 1e-6), np.nan)
    classes = caps[["year", "school_id", "grade", "pupils", "classes", "mean_class_size", "max_class_size", "cap", "standard"]]
    # one row per (year, school, grade): lexsort gives the order sort_values gives, without a keyed sort
    school_rank = pd.factorize(classes["school_id"], sort=True)[0]
    grade_rank = classes["grade"].map(model.data.grades.grade_index).to_numpy()
    order = np.lexsort((grade_rank, school_rank, classes["year"].to_numpy()))
    return classes.take(order).reset_index(drop=True)


def school_status_table(model: PlanModel, arcs: pd.DataFrame) -> pd.DataFrame:
    """Status (open / closed / new / not opened), classrooms and pupils of every school and year
    (a school disposed of has no classrooms from its disposal year)."""
    d = model.data
    rooms = {k: _val(e) for k, e in model.rooms.items()}
    for (sid, t), v in model.events.get("dispose", {}).items():
        if _on(v):
            rooms.update({(sid, later): 0.0 for later in d.years if later >= t})
    sums = arcs.groupby(["school_id", "year"])["pupils"].sum()
    pupils_st = dict(zip(sums.index, sums.tolist(), strict=True))
    srows = []
    s = d.schools
    for sid, name, zone, school_status in zip(s.index, s["name"].tolist(), s["zone_id"].tolist(), s["status"].tolist(), strict=True):
        for t in d.years:
            if school_status == "candidate":
                status = "new" if _on(model.y.get((sid, t))) else "not opened"
            else:
                status = "closed" if _on(model.c.get((sid, t))) else "open"
            srows.append((t, sid, name, zone, status, _round_int(rooms[sid, t]), float(pupils_st.get((sid, t), 0.0))))
    return pd.DataFrame(srows, columns=["year", "school_id", "name", "zone_id", "status", "classrooms", "pupils"])


def closure_table(model: PlanModel) -> pd.DataFrame:
    """school_id, year, event: 'close' (first year closed), 'reopen' (first year open again), 'dispose'."""
    rows = []
    for (sid, t), v in sorted(model.c.items()):
        now, before = _on(v), _on(model.c.get((sid, t - 1)))
        if now != before:
            rows.append((sid, t, "close" if now else "reopen"))
        if _on(model.events.get("dispose", {}).get((sid, t))):
            rows.append((sid, t, "dispose"))
    return pd.DataFrame(rows, columns=["school_id", "year", "event"])


def assignment_table(arcs: pd.DataFrame, grades: GradeSystem) -> pd.DataFrame:
    """Pupils by year, zone, home school ('' for the zone centre), school and grade, with mean
    km, pupils moved (taught away from their home school) and boarders."""
    a = arcs[arcs["pupils"] > TOL]
    a = a.assign(
        home_school_id=a["home"],
        pupil_km=a["pupils"] * a["km"],
        moved=np.where((a["home"] != "") & (a["home"] != a["school_id"]), a["pupils"], 0.0),
        boarders=np.where(a["boarder"], a["pupils"], 0.0),
    )
    keys = ["year", "zone_id", "home_school_id", "school_id", "grade"]
    cols = ["pupils", "pupil_km", "moved", "boarders"]
    if key_codes([a[k].to_numpy() for k in keys]).max(initial=-1) + 1 == len(a):
        # one arc per key (a node is one zone and home school): each group's sum is its one row, as groupby gives it
        assignment = a[keys + cols].reset_index(drop=True)
        for k in keys:  # key columns typed as groupby types them (its keys go through an Index: text becomes str)
            assignment[k] = pd.Index(assignment[k].to_numpy())
    else:
        assignment = a.groupby(keys, as_index=False)[cols].sum()
    assignment["km"] = assignment["pupil_km"] / assignment["pupils"]
    return assignment.drop(columns="pupil_km").sort_values(keys, key=grade_order(grades)).reset_index(drop=True)


def unmet_table(model: PlanModel) -> pd.DataFrame:
    """Pupils left without a seat by year, zone and grade."""
    un = model.data.demand.assign(pupils=values(model.u))
    if not un["pupils"].to_numpy().any():
        un = un.iloc[:1]  # nobody unmet: every sum is 0 and dropped below; one row gives the columns their types
    unmet = un.groupby(["year", "zone_id", "grade"], as_index=False)["pupils"].sum()
    unmet = unmet[unmet["pupils"] > TOL]
    if len(unmet):  # (no rows: nothing to sort)
        unmet = unmet.sort_values(["year", "zone_id", "grade"], key=grade_order(model.data.grades))
    return unmet.reset_index(drop=True)


def _val(e) -> float:
    import pulp

    v = pulp.value(e)
    return float(v) if v is not None else 0.0


def cost_table(model: PlanModel, settings: PlanSettings, arcs, classes, schools, builds, unmet) -> pd.DataFrame:
    """Costs by year and category (currency), undiscounted and discounted."""
    d = model.data
    rows = []

    def total(x) -> float:
        return float(np.asarray(x, dtype=float).sum())

    closed = {t: sum(_on(model.c.get((sid, t))) for sid in d.schools.index) for t in d.years}
    dispose = model.events.get("dispose", {})
    disposed = {t: sum(any(_on(dispose.get((sid, tau))) for tau in d.years if tau <= t) for sid in d.schools.index) for t in d.years}
    stage_cost = {g: settings.cost_per_class_year[d.grades.stage_of_grade[g]] for g in classes["grade"].unique()}
    class_cost = (classes["grade"].map(stage_cost) * classes["classes"]).to_numpy(dtype=float)
    # the same arrays, in the same order, as filtering the frames year by year: the same sums, read once
    col = {k: arcs[k].to_numpy() for k in ("year", "pupils", "km", "boarder", "home", "school_id")}
    pupils, km = col["pupils"].astype(float), col["km"].astype(float)
    boarder, moved = col["boarder"].astype(bool), (col["home"] != "") & (col["home"] != col["school_id"])
    b_year, b_kind, b_cost = builds["year"].to_numpy(), builds["kind"].to_numpy(), builds["cost"].to_numpy(dtype=float)
    running = (schools["status"].isin(["open", "new"])).to_numpy()
    for t in d.years:
        a = col["year"] == t
        b = b_year == t
        items = {
            "capital_classrooms": total(b_cost[b & (b_kind == "extend")]),
            "capital_new_schools": total(b_cost[b & (b_kind == "new school")]),
            "operating_classes": total(class_cost[(classes["year"] == t).to_numpy()]),
            "operating_schools": settings.cost_per_school_year * int((running & (schools["year"] == t).to_numpy()).sum()),
            "travel": settings.cost_per_pupil_km_year * total(pupils[a] * km[a]),
            "boarding": settings.cost_per_boarder_year * total(pupils[a & boarder]),
            "moved_pupils": settings.cost_per_moved_pupil_year * total(pupils[a & moved]),
            "unmet_penalty": settings.unmet_penalty * total(unmet["pupils"].to_numpy(dtype=float)[(unmet["year"] == t).to_numpy()]),
            "closing_reopening": settings.cost_per_closure * events_in(model, "close", t)
            + settings.cost_per_reopening * events_in(model, "reopen", t),
            "closed_upkeep": settings.cost_per_closed_school_year * (closed[t] - disposed[t]),
        }
        for k, v in items.items():
            rows.append((t, k, v, v * d.discount[t]))
    return pd.DataFrame(rows, columns=["year", "category", "cost", "discounted_cost"])


def events_in(model: PlanModel, kind: str, year: int) -> int:
    """Number of ``kind`` events (close / reopen / dispose) in ``year``."""
    return sum(_on(v) for (_sid, t), v in model.events.get(kind, {}).items() if t == year)
