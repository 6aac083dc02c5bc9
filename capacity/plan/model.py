"""The plan MILP, built with PuLP from PlanData. One function per constraint family; each carries
its equation in its docstring, and docs/plan-model.md's equations are generated from them
(``python -m capacity.plan.equations``). No solver is called here."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from capacity.errors import ScenarioError
from capacity.plan.inputs import PlanData, key_codes, row_owner
from capacity.plan.settings import PlanSettings


@dataclass
class PlanModel:
    """A built model: the PuLP problem, its variables aligned with PlanData's tables, and
    the capital-cost expressions per year (for budgets and reporting)."""

    problem: pulp.LpProblem
    data: PlanData
    x: list[pulp.LpVariable]  # aligned with data.arcs
    u: list[pulp.LpVariable]  # aligned with data.demand
    n: list[pulp.LpVariable]  # aligned with data.caps
    b: dict[tuple[str, int], pulp.LpVariable]
    y: dict[tuple[str, int], pulp.LpVariable]
    c: dict[tuple[str, int], pulp.LpVariable]
    capital: dict[int, pulp.LpAffineExpression]
    rooms: dict[tuple[str, int], pulp.LpAffineExpression]
    events: dict[str, dict[tuple[str, int], pulp.LpVariable]] = field(default_factory=dict)  # close, reopen, dispose


class PlanProblem(pulp.LpProblem):
    """PuLP's LpProblem whose ``variables()`` does not walk every constraint again on each call (PuLP's own
    does, and sorts: it was most of the time outside the solver on large plans). PuLP registers a
    constraint's variables when the constraint is added, so only the objective's are registered here; the
    list is the same, sorted by name as PuLP sorts it (the column order handed to the solver)."""

    _sorted = 0  # length of the variable list when it was last sorted
    _objective_seen: tuple = ()  # (objective, its length) whose variables are registered

    def variables(self) -> list[pulp.LpVariable]:
        obj = self.objective
        if obj is not None and self._objective_seen != (id(obj), len(obj)):
            self._add_variables(obj.keys())
            self._objective_seen = (id(obj), len(obj))
        if self._sorted != len(self._variables):
            self._variables.sort(key=lambda v: v.name)
            self._sorted = len(self._variables)
        return self._variables

    def variablesDict(self) -> dict[str, pulp.LpVariable]:  # noqa: N802 (PuLP's name)
        return {v.name: v for v in self.variables()}


def _expr(pairs) -> pulp.LpAffineExpression:
    """Affine expression from (variable, coefficient) pairs; repeated variables add up.

    Most rows repeat no variable: their terms are copied in once (a dict built from a dict keeps its keys'
    hashes; PuLP's constructor and accumulating would hash each variable again, in Python)."""
    pairs = list(pairs)
    terms = dict(pairs)
    if len(terms) != len(pairs):
        terms = defaultdict(float)
        for v, k in pairs:
            terms[v] += k
    return _affine(terms)


def _ones(variables: list, idx, last: tuple | None = None) -> pulp.LpAffineExpression:
    """The sum of ``variables[j]`` over the distinct positions ``idx`` (coefficient 1.0 each), then the term
    ``last`` (variable, coefficient) if given: as ``_expr`` makes it, without a pair per term."""
    terms = dict.fromkeys([variables[j] for j in np.asarray(idx, dtype=np.int64).tolist()], 1.0)
    if last is not None:
        v, k = last
        terms[v] = terms[v] + k if v in terms else k
    return _affine(terms)


def _affine(terms: dict) -> pulp.LpAffineExpression:
    """Affine expression holding ``terms`` (variable -> coefficient) in their order, copied in once."""
    e = pulp.LpAffineExpression()
    dict.update(e, terms)
    return e


def _plus(a: pulp.LpAffineExpression, b: pulp.LpAffineExpression) -> pulp.LpAffineExpression:
    """a + b as PuLP adds them (a's terms, then b's new ones; shared ones summed), without hashing every
    variable again in Python."""
    e = _affine(a)
    e.constant = a.constant + b.constant
    shared = [v for v in b if v in a] if len(b) < len(a) else [v for v in a if v in b]
    dict.update(e, b)
    for v in shared:
        e[v] = a[v] + b[v]
    return e


def _members(owner: np.ndarray, m: int) -> tuple[list[int], list[int], list[int]]:
    """Rows of each owner 0..m-1 (``owner`` from ``row_owner``), ascending: (rows in owner order, starts, ends)."""
    held = owner >= 0
    order = np.flatnonzero(held)[np.argsort(owner[held], kind="stable")]
    ends = np.cumsum(np.bincount(owner[held], minlength=m))
    return order.tolist(), (ends - np.bincount(owner[held], minlength=m)).tolist(), ends.tolist()


def _groups(frame: pd.DataFrame, keys: list[str]) -> dict:
    return frame.groupby(keys, sort=False).indices if len(frame) else {}


def whole_classes_bind(data: PlanData, settings: PlanSettings) -> np.ndarray:
    """Which class counts (rows of ``data.caps``) must be whole numbers for the optimum to be right.

    A count n[s,g,t] may stay fractional when (a) its classes cost nothing (``cost_per_class_year`` of
    its stage is 0) and (b) it is the only count of its school and year (a one-grade school). Then every
    row n sits in -- class size (pupils <= cap n), classrooms (n <= R), stage rooms (n <= R - rooms of
    other stages), closures (n <= Rup (1 - c)) -- has whole numbers on its other side once the builds,
    openings and closures are whole, so ceil(n) holds in each and costs the same: a fractional optimum
    is a whole-class optimum with the counts rounded up (``class_table`` reports them so). Everywhere
    else whole classes can change the answer and stay integer. False for every count without
    ``integer_classes``.

    Returns
    -------
    numpy.ndarray of bool, aligned with ``data.caps``: True where n must be integer.
    """
    caps = data.caps
    if not settings.integer_classes:
        return np.zeros(len(caps), dtype=bool)
    cost_of = {g: settings.cost_per_class_year[data.grades.stage_of_grade[g]] for g in caps["grade"].unique()}
    stage_cost = caps["grade"].map(cost_of).to_numpy(dtype=float)
    school_year = key_codes([caps["school_id"].to_numpy(), caps["year"].to_numpy()])
    counts_in_school_year = np.bincount(school_year)[school_year]
    return (stage_cost != 0) | (counts_in_school_year > 1)


def define_flows(prob: pulp.LpProblem, data: PlanData, settings: PlanSettings, tag: str = ""):
    """x (pupils on arcs), u (unmet), n (classes): one set per demand (per draw in a robust plan);
    n is integer where whole classes can change the answer (``whole_classes_bind``)."""
    whole = whole_classes_bind(data, settings)
    s = data.schools
    x = _variables(prob, [f"x{tag}_{i}" for i in range(len(data.arcs))], 0)
    u = _variables(prob, [f"u{tag}_{i}" for i in range(len(data.demand))], 0)
    max_rooms = s["max_rooms"].clip(lower=s["rooms0"])
    proj_max = data.project_rooms.groupby("school_id")["rooms"].max() if len(data.project_rooms) else pd.Series(dtype=float)
    sids = data.caps["school_id"]
    upper = (max_rooms.reindex(sids).to_numpy() + proj_max.reindex(sids, fill_value=0).to_numpy()).astype(int).tolist()
    names = [f"n{tag}_{i}" for i in range(len(data.caps))]
    cats = [pulp.LpInteger if w else pulp.LpContinuous for w in whole.tolist()]
    n = _variables(prob, names, 0, upper, cats)
    return x, u, n


_VARIABLE_FIELDS = (
    "_LpElement__name",
    "hash",
    "modified",
    "_lowbound_original",
    "lowBound",
    "_upbound_original",
    "upBound",
    "cat",
    "varValue",
    "dj",
)


def _plain_variable_fields() -> bool:
    """True where a PuLP variable holds exactly ``_VARIABLE_FIELDS`` (PuLP 3.x), so ``_variables`` may set them itself."""
    try:
        probe = pulp.LpVariable("probe", lowBound=0, _skip_v4_deprecation=True)
    except TypeError:
        return False
    return tuple(vars(probe)) == _VARIABLE_FIELDS


_FAST_VARIABLES = _plain_variable_fields()


def _variables(prob: pulp.LpProblem, names: list[str], low: float | None, upper: list | None = None, cats: list | None = None):
    """Continuous (or ``cats``) variables ``names`` with lower bound ``low`` and upper bounds ``upper`` (None: none), as
    ``prob.add_variable`` makes them, in bulk: the fields PuLP's constructor sets, set directly (it checks every name
    with a regular expression and every bound in Python: a fifth of building a large model). Where PuLP's variables
    hold other fields than these (another PuLP version), its own constructor."""
    upper = upper if upper is not None else [None] * len(names)
    cats = cats if cats is not None else [pulp.LpContinuous] * len(names)
    if not _FAST_VARIABLES or (low is not None and not math.isfinite(low)):
        return [prob.add_variable(k, lowBound=low, upBound=ub, cat=c) for k, ub, c in zip(names, upper, cats, strict=True)]
    make, cls, trans = object.__new__, pulp.LpVariable, pulp.LpElement.trans
    out = []
    for name, ub, cat in zip(names, upper, cats, strict=True):
        if ub is not None and not math.isfinite(ub):
            raise pulp.PulpError(f"The upper bound of a variable must be finite, got {ub}")
        v = make(cls)
        v.__dict__ = {
            "_LpElement__name": name.translate(trans),
            "hash": id(v),
            "modified": True,
            "_lowbound_original": low,
            "lowBound": low,
            "_upbound_original": ub,
            "upBound": ub,
            "cat": cat,
            "varValue": None,
            "dj": None,
        }
        out.append(v)
    return out


def define_decisions(prob: pulp.LpProblem, data: PlanData, settings: PlanSettings):
    """b (classrooms built), y (candidate open), c (closed status): shared by every demand draw.

    c[s,t] exists for a closable school from the first planned year + ``closure_lead_years``
    (a forced closure: from the first year, fixed at 1; a decided closure, schools ``closed_from``: fixed at 1
    from that year); before that the school is open.
    """
    s = data.schools
    var = prob.add_variable
    proj_max = data.project_rooms.groupby("school_id")["rooms"].max() if len(data.project_rooms) else pd.Series(dtype=float)
    last = data.years[-1]
    b, y, c = {}, {}, {}
    cols = ["buildable", "max_rooms", "rooms0", "status", "earliest_open", "closable", "must_close", "can_close", "closed_from"]
    for sid, r in zip(s.index, s[cols].to_dict("records"), strict=True):
        if r["buildable"]:
            room_left = int(r["max_rooms"] - r["rooms0"] - proj_max.get(sid, 0))
            if room_left > 0:
                for t in data.years:
                    if t + settings.build_lead_years <= last:
                        b[sid, t] = var(f"b_{sid}_{t}", lowBound=0, upBound=room_left, cat=pulp.LpInteger)
        if r["status"] == "candidate":
            for t in data.years:
                if t >= r["earliest_open"]:
                    y[sid, t] = var(f"y_{sid}_{t}", lowBound=0, upBound=1, cat=pulp.LpInteger)
        if r["closable"]:
            first_close = data.years[0] + settings.closure_lead_years
            if r["must_close"]:  # forced or decided: closed from closed_from (a closable school may close before)
                first_close = min(first_close, r["closed_from"]) if r["can_close"] and settings.allow_closures else r["closed_from"]
            for t in data.years:
                if t >= first_close:
                    c[sid, t] = var(f"c_{sid}_{t}", lowBound=int(t >= r["closed_from"]), upBound=1, cat=pulp.LpInteger)
    return b, y, c


def rooms_available(data: PlanData, settings: PlanSettings, b: dict, y: dict) -> dict[tuple[str, int], pulp.LpAffineExpression]:
    """Classrooms usable at each school and year (an expression in the decisions).

    Equation::

        R[s,t] = R0[s] + P[s,t] + sum_{tau + L <= t} b[s,tau]     existing school s
        R[s,t] = Rnew[s,t] y[s,t]                                 candidate s: Rnew = max_classrooms (a decided one: its project's rooms)
    """
    pr = data.project_rooms
    proj = dict(zip(zip(pr["school_id"], pr["year"], strict=True), pr["rooms"], strict=True)) if len(pr) else {}
    out = {}
    built_by: dict[str, list[tuple[int, pulp.LpVariable]]] = defaultdict(list)
    for (sid, t), v in b.items():
        built_by[sid].append((t, v))
    s = data.schools
    for sid, r in zip(s.index, s[["status", "decided_open", "max_rooms", "rooms0"]].to_dict("records"), strict=True):
        for t in data.years:
            if r["status"] == "candidate":
                decided = r["decided_open"] == r["decided_open"]
                cap = int(proj.get((sid, t), 0)) if decided else max(int(r["max_rooms"]), int(proj.get((sid, t), 0)))
                out[sid, t] = _expr([(y[sid, t], float(cap))]) if (sid, t) in y else pulp.LpAffineExpression()
            else:
                e = _expr((v, 1.0) for tau, v in built_by[sid] if tau + settings.build_lead_years <= t)
                e += int(r["rooms0"]) + int(proj.get((sid, t), 0))
                out[sid, t] = e
    return out


def define_demand(prob, data: PlanData, x, u, tag: str = "") -> None:
    """Every pupil is assigned to a reachable school or counted unmet.

    Equation::

        sum_{s: (k,s,g,t) in A} x[k,s,g,t] + u[k,g,t] = D[k,g,t]          for all k, g, t
    """
    order, starts, ends = _members(row_owner(data.demand, data.arcs, ["node", "grade", "year"]), len(data.demand))
    xs = [x[j] for j in order]
    for i, (a, b, ui, pupils) in enumerate(zip(starts, ends, u, data.demand["pupils"].tolist(), strict=True)):
        terms = dict.fromkeys(xs[a:b], 1.0)
        terms[ui] = 1.0
        prob += _affine(terms) == float(pupils), f"demand{tag}_{i}"


def define_class_size(prob, data: PlanData, x, n, tag: str = "") -> None:
    """Pupils of a grade at a school fit its classes at the class cap.

    Equation::

        sum_k x[k,s,g,t] <= cap[s,g,t] n[s,g,t]                           for all s, g in G_s, t
    """
    order, starts, ends = _members(row_owner(data.caps, data.arcs, ["school_id", "grade", "year"]), len(data.caps))
    xs = [x[j] for j in order]
    for i, (a, b, ni, cap) in enumerate(zip(starts, ends, n, data.caps["cap"].tolist(), strict=True)):
        terms = dict.fromkeys(xs[a:b], 1.0)
        terms[ni] = -float(cap)
        prob += _affine(terms) <= 0, f"classsize{tag}_{i}"


def define_classrooms(prob, data: PlanData, n, rooms, tag: str = "") -> None:
    """Classes fit the usable classrooms.

    Equation::

        sum_g n[s,g,t] <= R[s,t]                                          for all s, t
    """
    for (sid, t), idx in _groups(data.caps, ["school_id", "year"]).items():
        prob += _ones(n, idx) - rooms[sid, t] <= 0, f"rooms{tag}_{sid}_{t}"


def define_stage_rooms(prob, data: PlanData, n, rooms, tag: str = "") -> None:
    """At a school whose rooms are dedicated to stages (``stage_rooms``), a stage's classes fit
    its own rooms plus the rooms no other stage holds (new classrooms serve any stage), as the gap counts seats.

    Equation::

        sum_{g in st} n[s,g,t] <= R[s,t] - sum_{st' != st} Rst[s,st',t]   for s with stage rooms, st, t
    """
    if not len(data.stage_rooms):
        return
    ded = data.stage_rooms.groupby(["school_id", "year"])
    stage = data.caps["grade"].map(data.grades.stage_of_grade)
    classes_of = _groups(data.caps.assign(stage=stage), ["school_id", "year", "stage"])
    for (sid, t), g in ded:
        total = float(g["rooms"].sum())
        for st, own in zip(g["stage"], g["rooms"], strict=True):
            idx = classes_of.get((sid, t, st), [])
            if len(idx):
                prob += _ones(n, idx) - rooms[sid, t] <= -(total - float(own)), f"stagerooms{tag}_{sid}_{st}_{t}"


def define_builds(prob, b) -> None:
    """Classrooms built over the horizon fit the site (each b[s,t] is also bounded by it).

    Equation::

        sum_t b[s,t] <= Rmax[s] - R0[s] - max_t P[s,t]                    for buildable s
    """
    by_school: dict[str, list] = defaultdict(list)
    for (sid, _t), v in b.items():
        by_school[sid].append(v)
    for sid, vs in by_school.items():
        prob += _expr((v, 1.0) for v in vs) <= vs[0].upBound, f"site_{sid}"


def define_openings(prob, data: PlanData, y) -> None:
    """A candidate school, once open, stays open; a decided project opens it in its year.

    Equation::

        y[s,t] >= y[s,t-1];   y[s,t] = 1 for t >= the decided year          for s in S^cand
    """
    for (sid, t), v in y.items():
        if (sid, t - 1) in y:
            prob += v - y[sid, t - 1] >= 0, f"stayopen_{sid}_{t}"
    if len(data.project_rooms):
        for r in data.project_rooms.itertuples(index=False):
            if (r.school_id, r.year) in y:
                y[r.school_id, r.year].lowBound = 1


def rooms_upper(rooms: dict) -> dict[tuple[str, int], float]:
    """Most classrooms each school can have in each year, from the data alone: existing and
    decided rooms plus the site's room left (``max_classrooms``), or a candidate's rooms."""
    return {k: float(e.constant) + max((float(c) * float(v.upBound) for v, c in e.items()), default=0.0) for k, e in rooms.items()}


def define_closure_events(prob, data: PlanData, settings: PlanSettings, c) -> dict[str, dict]:
    """Closing, re-opening and disposal events of closable schools, as start-up and shut-down
    in unit commitment; c[s,t] is the closed status (0 before it exists: the school is open).

    Equation::

        close[s,t] - reopen[s,t] = c[s,t] - c[s,t-1]                        (no reopen term without re-opening: c never falls)
        sum_{t-Lc < tau <= t} close[s,tau] <= c[s,t]                        (closed at least Lc = min_years_closed years)
        sum_{tau <= t} dispose[s,tau] <= c[s,t]                             (only a closed school is disposed of; it never re-opens)
    """
    var = prob.add_variable
    close, reopen, dispose = {}, {}, {}
    for (sid, t), v in sorted(c.items()):
        close[sid, t] = var(f"close_{sid}_{t}", lowBound=0, upBound=1)
        terms = [(close[sid, t], 1.0), (v, -1.0)] + ([(c[sid, t - 1], 1.0)] if (sid, t - 1) in c else [])
        if settings.allow_reopening:
            reopen[sid, t] = var(f"reopen_{sid}_{t}", lowBound=0, upBound=1)
            terms.append((reopen[sid, t], -1.0))
        prob += _expr(terms) == 0, f"status_{sid}_{t}"
        if settings.allow_reopening and settings.min_years_closed > 1:
            recent = [(close[sid, tau], 1.0) for tau in range(t - settings.min_years_closed + 1, t + 1) if (sid, tau) in close]
            prob += _expr(recent + [(v, -1.0)]) <= 0, f"minclosed_{sid}_{t}"
        if settings.allow_disposal:
            dispose[sid, t] = var(f"dispose_{sid}_{t}", lowBound=0, upBound=1, cat=pulp.LpInteger)
            done = [(dispose[sid, tau], 1.0) for tau in data.years if tau <= t and (sid, tau) in dispose]
            prob += _expr(done + [(v, -1.0)]) <= 0, f"disposed_{sid}_{t}"
    return {"close": close, "reopen": reopen, "dispose": dispose}


def define_closures(prob, data: PlanData, n, c, rooms, tag: str = "") -> None:
    """A closed school has no classes. The bound is the most classrooms the school can have that
    year, from the data (``rooms_upper``), not a guessed constant.

    Equation::

        sum_g n[s,g,t] <= Rup[s,t] (1 - c[s,t]),   Rup[s,t] = R0[s] + P[s,t] + (Rmax[s] - R0[s] - max P[s]) if s can build by t   for s in S^clo
    """
    classes_of = _groups(data.caps, ["school_id", "year"])
    upper = rooms_upper({k: rooms[k] for k in c})
    for (sid, t), v in c.items():
        idx = classes_of.get((sid, t), [])
        prob += _ones(n, idx, (v, upper[sid, t])) <= upper[sid, t], f"closed{tag}_{sid}_{t}"


def define_linking(prob, data: PlanData, x, y, c, tag: str = "", rows: bool = True) -> None:
    """No pupil on an arc to a school that is closed or not open; redundant for integer solutions
    but it tightens the LP relaxation a great deal (as x_ij <= d_j y_i in facility location).
    ``rows=False`` sets only the bounds (a weaker relaxation that solves fast, for a first plan).

    Equation::

        x[a] <= D[a] (1 - c[s,t]);   x[a] <= D[a] y[s,t];   x[a] = 0 into a candidate that cannot open yet
    """
    a = data.arcs
    cap = arc_demand(data).tolist()
    cand = set(data.schools.index[data.schools["status"] == "candidate"])
    for i, (sid, t, xi, d) in enumerate(zip(a["school_id"].tolist(), a["year"].tolist(), x, cap, strict=True)):
        xi.upBound = d
        if not rows:
            if sid in cand and (sid, t) not in y:
                xi.upBound = 0.0
        elif (sid, t) in c:
            prob += _affine({xi: 1.0, c[sid, t]: d}) <= d, f"link_c{tag}_{i}"
        elif (sid, t) in y:
            prob += _affine({xi: 1.0, y[sid, t]: -d}) <= 0, f"link_y{tag}_{i}"
        elif sid in cand:  # a candidate that cannot be open yet takes nobody
            xi.upBound = 0.0


def arc_demand(data: PlanData) -> np.ndarray:
    """Pupils of each arc's demand row D[a] (node, grade, year), aligned with ``data.arcs`` (NaN where none)."""
    owner = row_owner(data.demand, data.arcs, ["node", "grade", "year"])
    return np.where(owner >= 0, data.demand["pupils"].to_numpy(dtype=float)[np.maximum(owner, 0)], np.nan)


def define_boarding(prob, data: PlanData, x, tag: str = "") -> None:
    """Boarders at a school fit its beds.

    Equation::

        sum_{boarding arcs a into s} x[a] <= beds[s]                          for all s, t
    """
    board = data.arcs[data.arcs["boarder"]]
    beds = data.schools["beds"]
    rows = board.index.to_numpy()
    for (sid, t), idx in _groups(board, ["school_id", "year"]).items():
        prob += _ones(x, rows[idx]) <= float(beds[sid]), f"beds{tag}_{sid}_{t}"


def define_school_size(prob, data: PlanData, settings: PlanSettings, x, tag: str = "") -> None:
    """No school above its size cap from ``school_size_from``.

    Equation::

        sum_{k,g} x[k,s,g,t] <= size_cap[s]                                  for t >= school_size_from
    """
    if settings.school_size_from is None:
        return
    a = data.arcs[data.arcs["year"] >= settings.school_size_from]
    cap = data.schools["size_cap"]
    rows = a.index.to_numpy()
    for (sid, t), idx in _groups(a, ["school_id", "year"]).items():
        prob += _ones(x, rows[idx]) <= float(cap[sid]), f"size{tag}_{sid}_{t}"


def define_rated_capacity(prob, data: PlanData, x, rooms, tag: str = "") -> None:
    """A school with a rated capacity holds at most its rated seats plus room seats for every room added.

    Equation::

        sum_{k,g} x[k,s,g,t] <= Cap[s] + q[s] (R[s,t] - R0[s] - Pst[s,t]) + Sst[s,t]   for s with a rated capacity

    with q[s] the school's seats per classroom (mean standard class size over its grades),
    R0[s] = max(classrooms, ceil(Cap[s] / q[s])) the rooms its classes may use now, and Pst / Sst
    the rooms and the stated seats of decided projects that state seats (their stated seats
    count, as in the seat gap, not their rooms rounded up x q).
    """
    if "rated" not in data.schools:
        return
    rated = data.schools[data.schools["rated"].notna() & data.schools["status"].eq("open")]
    if not len(rated):
        return
    arcs_of = _groups(data.arcs, ["school_id", "year"])
    pr = data.project_rooms
    keys = zip(pr["school_id"], pr["year"], strict=True) if "stated_seats" in pr else ()
    stated = dict(zip(keys, zip(pr.get("stated_rooms", ()), pr.get("stated_seats", ()), strict=True), strict=False))
    for sid, r in zip(rated.index, rated[["room_seats", "rated", "rooms0"]].to_dict("records"), strict=True):
        q = float(r["room_seats"])
        for t in data.years:
            idx = arcs_of.get((sid, t), [])
            if not len(idx):
                continue
            st_rooms, st_seats = stated.get((sid, t), (0.0, 0.0))
            lhs = _ones(x, idx) - q * rooms[sid, t]
            prob += lhs <= float(r["rated"]) - q * (float(r["rooms0"]) + float(st_rooms)) + float(st_seats), f"rated{tag}_{sid}_{t}"


def define_min_size(prob, data: PlanData, settings: PlanSettings, x, c, tag: str = "") -> None:
    """A closable school kept open keeps at least ``min_school_size`` pupils.

    Equation::

        sum_{k,g} x[k,s,g,t] >= min_school_size (1 - c[s,t])                 for s in S^clo
    """
    if settings.min_school_size <= 0:
        return
    arcs_of = _groups(data.arcs, ["school_id", "year"])
    m = float(settings.min_school_size)
    for (sid, t), v in c.items():
        idx = arcs_of.get((sid, t), [])
        prob += _ones(x, idx, (v, m)) >= m, f"minsize{tag}_{sid}_{t}"


def define_zone_whole(prob, data: PlanData, settings: PlanSettings, x, tag: str = "") -> dict:
    """With ``zone_whole``, each zone's pupils of a stage go to at most one school a year, as an
    attendance zone: a binary choice w per (zone, stage, school, year) with an arc; every arc of the
    zone's nodes (home-school splits included) to another school is closed.

    Equation::

        sum_s w[z,st,s,t] <= 1;   x[a] <= D[a] w[z(a),st(g(a)),s(a),t(a)]     for all z, st, t and arcs a
    """
    if not settings.zone_whole or not len(data.arcs):
        return {}
    a = data.arcs
    zone = a["node"].map(data.nodes.set_index("node")["zone_id"])
    stage = a["grade"].map(data.grades.stage_of_grade)
    cap = arc_demand(data)
    keys = pd.DataFrame(
        {"zone_id": zone.to_numpy(), "stage": stage.to_numpy(), "school_id": a["school_id"].to_numpy(), "year": a["year"].to_numpy()}
    )
    w: dict[tuple, pulp.LpVariable] = {}
    for i, k in enumerate(keys.itertuples(index=False, name=None)):
        if k not in w:
            w[k] = prob.add_variable(f"w{tag}_{len(w)}", lowBound=0, upBound=1, cat=pulp.LpInteger)
        prob += x[i] - float(cap[i]) * w[k] <= 0, f"whole{tag}_{i}"
    one: dict[tuple, list] = defaultdict(list)
    for (z, st, _sid, t), v in w.items():
        one[z, st, t].append((v, 1.0))
    for i, pairs in enumerate(one.values()):
        if len(pairs) > 1:
            prob += _expr(pairs) <= 1, f"onezone{tag}_{i}"
    return w


def open_school_count(data: PlanData, y, c) -> dict[int, pulp.LpAffineExpression]:
    """Schools open in each planned year: open schools not closed plus candidates opened."""
    status = data.schools["status"]
    out = {}
    for t in data.years:
        pairs, fixed = [], 0.0
        for sid, st in status.items():
            if st == "open":
                if (sid, t) in c:
                    fixed += 1.0
                    pairs.append((c[sid, t], -1.0))
                else:
                    fixed += 1.0
            elif (sid, t) in y:
                pairs.append((y[sid, t], 1.0))
        out[t] = _expr(pairs) + fixed
    return out


def define_open_exactly(prob, data: PlanData, settings: PlanSettings, y, c) -> None:
    """With ``open_exactly`` = p, exactly p schools are open in every planned year (a p-median).
    Refuses a p that no plan can meet before solving.

    Equation::

        sum_{s open now} (1 - c[s,t]) + sum_{s in S^cand} y[s,t] = p            for all t
    """
    p = settings.open_exactly
    if p is None:
        return
    for t, e in open_school_count(data, y, c).items():
        ranges = [sorted((k * (v.lowBound or 0.0), k * (1.0 if v.upBound is None else v.upBound))) for v, k in e.items()]
        low = float(e.constant) + sum(r[0] for r in ranges)
        high = float(e.constant) + sum(r[1] for r in ranges)
        if not low <= p <= high:
            raise ScenarioError(
                f"plan.open_exactly: found {p}; expected a number of schools that can be open in {t}, "
                f"from {int(low)} (schools that may not close) to {int(high)} (open schools plus candidates that can open by then)"
            )
        prob += e == p, f"open_exactly_{t}"


def capital_by_year(data: PlanData, b, y) -> dict[int, pulp.LpAffineExpression]:
    """Capital spent in each year: classrooms built plus candidate schools opened that year (a
    decided new school's capital is already committed: not charged again).

    Equation::

        C[t] = sum_s cpc[s] b[s,t] + sum_{s in S^cand, not decided} open[s] (y[s,t] - y[s,t-1])
    """
    cost = data.schools["cost_per_classroom"]
    open_cost = data.schools["open_cost"]
    decided = data.schools["decided_open"].notna()
    pairs: dict[int, list] = defaultdict(list)
    for (sid, t), v in b.items():
        pairs[t].append((v, float(cost[sid])))
    for (sid, t), v in y.items():
        if decided[sid]:
            continue
        pairs[t].append((v, float(open_cost[sid])))
        if (sid, t - 1) in y:
            pairs[t].append((y[sid, t - 1], -float(open_cost[sid])))
    return {t: _expr(pairs[t]) for t in data.years}


def define_budget(prob, settings: PlanSettings, capital) -> None:
    """Capital within the yearly and total budgets.

    Equation::

        C[t] <= budget_per_year;   sum_t C[t] <= budget_total
    """
    if settings.budget_per_year is not None:
        for t, e in capital.items():
            prob += e <= settings.budget_per_year, f"budget_{t}"
    if settings.budget_total is not None:
        prob += pulp.lpSum(capital.values()) <= settings.budget_total, "budget_total"


def define_moved(prob, data: PlanData, settings: PlanSettings, x, tag: str = "") -> None:
    """At most ``max_moved`` pupils a year taught away from their home school.

    Equation::

        sum_{a = (k,s,g,t): home(k) != none, s != home(k)} x[a] <= max_moved     for all t
    """
    if settings.max_moved is None:
        return
    home = data.nodes.set_index("node")["home"]
    a = data.arcs.assign(home=data.arcs["node"].map(home))
    moved = a[(a["home"] != "") & (a["home"] != a["school_id"])]
    for t, idx in _groups(moved, ["year"]).items():
        t = t[0] if isinstance(t, tuple) else t
        prob += _ones(x, moved.index.to_numpy()[idx]) <= settings.max_moved, f"moved{tag}_{t}"


def decision_cost(data: PlanData, settings: PlanSettings, y, c, capital, events: dict) -> pulp.LpAffineExpression:
    """Discounted costs of the decisions shared by every demand draw.

    Equation::

        sum_t delta[t] ( C[t] + cost_school (sum_{s open now} (1 - c[s,t]) + sum_{s in S^cand} y[s,t])
                         + cost_close close[s,t] + cost_reopen reopen[s,t]
                         + cost_closed_upkeep (c[s,t] - sum_{tau <= t} dispose[s,tau]) )
    """
    disc = data.discount
    acc: dict = defaultdict(float)
    for t, e in capital.items():
        for v, k in e.items():
            acc[v] += disc[t] * k
    constant = 0.0
    school_year = settings.cost_per_school_year
    for sid, status in zip(data.schools.index, data.schools["status"].tolist(), strict=True):
        for t in data.years:
            if status == "open":
                constant += disc[t] * school_year
                if (sid, t) in c:
                    acc[c[sid, t]] -= disc[t] * school_year
            elif (sid, t) in y:
                acc[y[sid, t]] += disc[t] * school_year
    for kind, unit in (("close", settings.cost_per_closure), ("reopen", settings.cost_per_reopening)):
        for (_sid, t), v in events.get(kind, {}).items():
            acc[v] += disc[t] * unit
    upkeep = settings.cost_per_closed_school_year
    if upkeep:
        dispose = events.get("dispose", {})
        for (sid, t), v in c.items():
            acc[v] += disc[t] * upkeep
            for tau in data.years:
                if tau <= t and (sid, tau) in dispose:
                    acc[dispose[sid, tau]] -= disc[t] * upkeep
    return pulp.LpAffineExpression(list(acc.items()), constant=constant)


def flow_cost(data: PlanData, settings: PlanSettings, x, u, n, weight: float = 1.0) -> pulp.LpAffineExpression:
    """Discounted costs of one demand's assignment and classes (times ``weight``).

    Equation::

        sum_t delta[t] ( sum_{s,g} cost_class[stage(g)] n[s,g,t] + penalty sum_{k,g} u[k,g,t]
                         + sum_a (cost_km km[a] + cost_board boarder[a] + cost_moved moved[a]) x[a] )
    """
    disc = data.discount
    stage_cost = {g: settings.cost_per_class_year[data.grades.stage_of_grade[g]] for g in data.caps["grade"].unique()}
    # each variable once: n, then the x with a cost, then u (the order PuLP's expression held them in)
    caps = data.caps
    terms = {v: weight * disc[t] * stage_cost[g] for v, g, t in zip(n, caps["grade"].tolist(), caps["year"].tolist(), strict=True)}
    arcs = data.arcs
    home = arcs["node"].map(data.nodes.set_index("node")["home"]).to_numpy()
    moved = (home != "") & (home != arcs["school_id"].to_numpy())
    coef = (
        arcs["km"].to_numpy() * settings.cost_per_pupil_km_year
        + arcs["boarder"].to_numpy() * settings.cost_per_boarder_year
        + moved * settings.cost_per_moved_pupil_year
    )
    dvec = arcs["year"].map(disc).to_numpy()
    terms.update((v, weight * k) for v, k in zip(x, (coef * dvec).tolist(), strict=True) if k)
    terms.update((v, weight * disc[t] * settings.unmet_penalty) for v, t in zip(u, data.demand["year"].tolist(), strict=True))
    return _affine(terms)


def define_flow_constraints(
    prob, data: PlanData, settings: PlanSettings, x, u, n, y, c, rooms, tag: str = "", linking_rows: bool = True
) -> None:
    """Every constraint on one demand's assignment and classes."""
    define_demand(prob, data, x, u, tag)
    define_class_size(prob, data, x, n, tag)
    define_classrooms(prob, data, n, rooms, tag)
    define_stage_rooms(prob, data, n, rooms, tag)
    define_closures(prob, data, n, c, rooms, tag)
    define_linking(prob, data, x, y, c, tag, linking_rows)
    define_boarding(prob, data, x, tag)
    define_school_size(prob, data, settings, x, tag)
    define_rated_capacity(prob, data, x, rooms, tag)
    define_min_size(prob, data, settings, x, c, tag)
    define_moved(prob, data, settings, x, tag)
    define_zone_whole(prob, data, settings, x, tag)


def build(data: PlanData, settings: PlanSettings, linking_rows: bool = True) -> PlanModel:
    """Build the whole model (no solving); ``linking_rows=False`` leaves out the linking rows (see define_linking)."""
    prob = PlanProblem("capacity_plan", pulp.LpMinimize)
    b, y, c = define_decisions(prob, data, settings)
    x, u, n = define_flows(prob, data, settings)
    rooms = rooms_available(data, settings, b, y)
    define_builds(prob, b)
    define_openings(prob, data, y)
    events = define_closure_events(prob, data, settings, c)
    define_open_exactly(prob, data, settings, y, c)
    define_flow_constraints(prob, data, settings, x, u, n, y, c, rooms, linking_rows=linking_rows)
    capital = capital_by_year(data, b, y)
    define_budget(prob, settings, capital)
    prob.setObjective(_plus(decision_cost(data, settings, y, c, capital, events), flow_cost(data, settings, x, u, n)))
    return PlanModel(prob, data, x, u, n, b, y, c, capital, rooms, events)


def build_robust(datas: list[PlanData], settings: PlanSettings, max_unmet: float | None = None) -> tuple[pulp.LpProblem, list[PlanModel]]:
    """One model for K demand draws: builds, openings and closures shared; assignment and
    classes per draw; objective = shared costs + the mean of the draws' costs. With
    ``max_unmet``, no draw may leave more than that many pupil-years without a seat.

    Every PlanData must come from the same district and settings (same schools and years).
    """
    prob = PlanProblem("capacity_robust_plan", pulp.LpMinimize)
    base = datas[0]
    b, y, c = define_decisions(prob, base, settings)
    rooms = rooms_available(base, settings, b, y)
    define_builds(prob, b)
    define_openings(prob, base, y)
    events = define_closure_events(prob, base, settings, c)
    define_open_exactly(prob, base, settings, y, c)
    capital = capital_by_year(base, b, y)
    define_budget(prob, settings, capital)
    objective = decision_cost(base, settings, y, c, capital, events)
    views = []
    for k, data in enumerate(datas):
        x, u, n = define_flows(prob, data, settings, tag=f"d{k}")
        define_flow_constraints(prob, data, settings, x, u, n, y, c, rooms, tag=f"d{k}")
        objective = _plus(objective, flow_cost(data, settings, x, u, n, weight=1.0 / len(datas)))
        if max_unmet is not None:
            prob += _expr((v, 1.0) for v in u) <= max_unmet, f"worst_unmet_d{k}"
        views.append(PlanModel(prob, data, x, u, n, b, y, c, capital, rooms, events))
    prob.setObjective(objective)
    return prob, views


def values(vs) -> np.ndarray:
    """Solution values of a list of variables (0 where the solver left none)."""
    return np.array([v.varValue if v.varValue is not None else 0.0 for v in vs], dtype=float)


DEFINITIONS = (rooms_available, capital_by_year)
"""Expressions the constraints use, in the order docs/plan-model.md shows them."""
CONSTRAINT_FAMILIES = (
    define_demand,
    define_class_size,
    define_classrooms,
    define_stage_rooms,
    define_builds,
    define_openings,
    define_closure_events,
    define_closures,
    define_linking,
    define_boarding,
    define_school_size,
    define_rated_capacity,
    define_min_size,
    define_budget,
    define_moved,
    define_zone_whole,
    define_open_exactly,
)
"""Every constraint family, in the order docs/plan-model.md shows them."""
OBJECTIVE = (decision_cost, flow_cost)
"""The objective's two parts (decisions shared by every draw; one demand's flows)."""


def unmet_cost(model: PlanModel, settings) -> pulp.LpAffineExpression:
    """The discounted unmet penalty of a model's plan (currency)."""
    d = model.data
    return pulp.LpAffineExpression([(u, d.discount[t] * settings.unmet_penalty) for u, t in zip(model.u, d.demand["year"], strict=True)])
