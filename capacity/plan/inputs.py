"""Plan inputs: pure functions turning a district, a demand table and settings into the
index tables the model is built from (schools, demand nodes, reachable arcs, class caps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capacity.data.district import note_late_closures
from capacity.errors import InputError, Problem, ScenarioError
from capacity.grades import GradeSystem
from capacity.notes import note
from capacity.plan.settings import PlanSettings
from capacity.standards import room_seats


@dataclass(frozen=True)
class PlanData:
    """Everything the plan model needs, as tidy frames.

    Attributes
    ----------
    years : tuple of int
        Planned school years.
    schools : DataFrame
        Index school_id; columns name, zone_id, first_grade, last_grade, status (open /
        candidate), sector, rooms0 (classrooms now), max_rooms, beds, closable, must_close,
        buildable, size_cap (pupils), cost_per_classroom, open_cost, earliest_open (year),
        decided_open (year a decided project opens a candidate site; NaN otherwise), rated
        (rated capacity in seats; NaN where not given), room_seats (seats per added room at
        a rated school).
    project_rooms : DataFrame
        school_id, year, rooms: classrooms that decided projects add by that year (cumulative);
        stated_rooms, stated_seats: rooms and stated seats of those projects that state seats.
    nodes : DataFrame
        node, zone_id, home (school id or '' for the zone centre), x_km, y_km.
    demand : DataFrame
        node, zone_id, home, grade, year, pupils.
    arcs : DataFrame
        arc, node, school_id, grade, year, km, boarder: every reachable assignment.
    caps : DataFrame
        school_id, grade, year, cap (pupils per class), standard (the standard size).
    discount : dict of int to float
        Discount factor per year.
    stage_rooms : DataFrame
        school_id, stage, year, rooms: classrooms dedicated to a stage (the district's
        ``stage_rooms`` plus decided projects of that stage), for schools that give them.
    grades : GradeSystem
        The district's grades and stages.
    """

    years: tuple[int, ...]
    schools: pd.DataFrame
    project_rooms: pd.DataFrame
    nodes: pd.DataFrame
    demand: pd.DataFrame
    arcs: pd.DataFrame
    caps: pd.DataFrame
    discount: dict[int, float]
    stage_rooms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["school_id", "stage", "year", "rooms"]))
    grades: GradeSystem | None = None


def school_table(district, settings: PlanSettings, years: tuple[int, ...]) -> pd.DataFrame:
    """Schools that can take part in the plan (open and candidate), with derived parameters."""
    s = district.schools[district.schools["status"].isin(["open", "candidate"])].copy().set_index("school_id", drop=False)
    s.attrs = {}  # validation's bad-cell set: pandas would deep-copy it with every frame and row made from this one
    ids = set(district.schools["school_id"])
    for key, lst in (("force_close", settings.force_close), ("forbid_close", settings.forbid_close)):
        for sid in lst:
            if sid not in ids:
                raise ScenarioError(f"plan.{key}: found school '{sid}'; expected a school_id of the district")
    decided = sorted(set(district.decided_closures.index) & set(settings.forbid_close))
    if decided:
        raise ScenarioError(
            f"plan.forbid_close names {decided}, closed by a decided closure (schools.csv closed_from); a school cannot be both"
        )
    both = set(settings.force_close) & set(settings.forbid_close)
    if both:
        raise ScenarioError(f"plan.force_close and plan.forbid_close both name {sorted(both)}; a school cannot be both")
    first_stage = s["first_grade"].map(district.grades.stage_of_grade)
    s["rooms0"] = s["classrooms"].astype(int)
    # Rated capacity (capacity.gap.seats.rated_capacity): the seats the gap counts, rooms for the classes.
    from capacity.gap.seats import rated_capacity

    rated = rated_capacity(district, settings.standards.class_size, settings.standards.rated_capacity_tolerance)
    rated = rated[rated.index.isin(s.index)]
    s["rated"] = rated["capacity"].reindex(s.index).to_numpy(dtype=float)
    s["room_seats"] = rated["room_seats"].reindex(s.index).to_numpy(dtype=float)
    s.loc[rated.index, "rooms0"] = rated["rooms"].astype(int)
    s["max_rooms"] = s["max_classrooms"].astype(int)
    s["beds"] = s["boarding_beds"].astype(int)
    # closed from this year: a decided closure's (schools closed_from), or the first planned year under force_close
    s["closed_from"] = s.index.map(district.decided_closures).astype(float)
    s.loc[s["school_id"].isin(settings.force_close), "closed_from"] = years[0]
    s["must_close"] = s["closed_from"].le(years[-1])
    note_late_closures(district, years[-1])
    s["closable"] = (
        s["status"].eq("open")
        & ((s["can_close"] & settings.allow_closures) | s["must_close"])
        & ~s["school_id"].isin(settings.forbid_close)
    )
    s["buildable"] = s["status"].eq("open") & s["sector"].isin(settings.build_sectors) & settings.allow_builds
    multi = [len(district.grades.stages_of(a, b)) > 1 for a, b in zip(s["first_grade"], s["last_grade"], strict=True)]
    s["size_cap"] = np.where(multi, settings.standards.max_school_size["multi"], settings.standards.max_school_size["single"])
    cpc = first_stage.map(settings.standards.cost_per_classroom).astype(float)
    s["cost_per_classroom"] = s["cost_per_classroom"].fillna(cpc) if "cost_per_classroom" in s else cpc
    default_open = settings.new_school_fixed_cost + s["cost_per_classroom"] * s["max_rooms"]
    s["open_cost"] = s["opening_cost"].fillna(default_open) if "opening_cost" in s else default_open
    s["earliest_open"] = years[0] + settings.new_school_lead_years
    if not settings.allow_new_schools:
        s.loc[s["status"].eq("candidate"), "earliest_open"] = years[-1] + 1
    # A decided project at a candidate site opens it in its decided year, whatever the policy.
    p = district.projects
    decided = p[p["school_id"].isin(s.index[s["status"].eq("candidate")])].groupby("school_id")["completion_year"].min()
    s["decided_open"] = decided.reindex(s.index).to_numpy(dtype=float)
    s.loc[decided.index, "earliest_open"] = np.maximum(decided.astype(int), years[0])
    return s


def project_rooms(district, schools: pd.DataFrame, settings: PlanSettings, years: tuple[int, ...], by_stage: bool = False) -> pd.DataFrame:
    """Classrooms added by decided projects, cumulative by year (rooms from seats where only
    seats are given, at the school's own class size where it has one, rounded up with a note
    where the seats are not whole rooms); by stage if asked. stated_rooms / stated_seats: the
    rooms and the seats of projects that state seats (a rated school counts their seats, not
    their rooms x room seats)."""
    p = district.projects
    own = schools["class_size"] if "class_size" in schools else pd.Series(np.nan, index=schools.index)
    rated = schools["rated"].notna() if "rated" in schools else pd.Series(False, index=schools.index)
    rows = []
    for r in p[p["school_id"].isin(schools.index)].itertuples(index=False) if len(p) else ():
        stage = r.stage if isinstance(r.stage, str) else district.grades.stage_of_grade[schools.at[r.school_id, "first_grade"]]
        rooms = r.classrooms
        if rooms != rooms:  # NaN: only seats given
            per_room = room_seats(settings.standards.class_size, stage, district.grades, own[r.school_id])
            rooms = int(np.ceil(r.seats / per_room))
            if rooms * per_room != r.seats and not rated[r.school_id]:
                note(
                    f"projects: '{r.project_id}' at '{r.school_id}' states {r.seats:g} seats = {r.seats / per_room:g} classrooms of "
                    f"{per_room:g}; the plan counts {rooms} classrooms ({rooms * per_room:g} seats), the seat gap {r.seats:g} seats"
                )
        stated = r.seats == r.seats  # a rated school holds the stated seats (define_rated_capacity)
        for y in years:
            if y >= r.completion_year:
                rows.append((r.school_id, stage, y, int(rooms), int(rooms) if stated else 0, float(r.seats) if stated else 0.0))
    keys = ["school_id", "stage", "year"] if by_stage else ["school_id", "year"]
    if not rows:
        return pd.DataFrame(columns=[*keys, "rooms", "stated_rooms", "stated_seats"])
    out = pd.DataFrame(rows, columns=["school_id", "stage", "year", "rooms", "stated_rooms", "stated_seats"])
    return out.groupby(keys, as_index=False)[["rooms", "stated_rooms", "stated_seats"]].sum()


def dedicated_stage_rooms(district, schools: pd.DataFrame, settings: PlanSettings, years: tuple[int, ...]) -> pd.DataFrame:
    """Classrooms each stage has to itself at schools listed in ``stage_rooms``, by year (the
    gap counts seats the same way): the listed rooms plus decided projects of that stage."""
    sr = district.stage_rooms
    cols = ["school_id", "stage", "year", "rooms"]
    if not len(sr):
        return pd.DataFrame(columns=cols)
    sr = sr[sr["school_id"].isin(schools.index)]
    base = pd.DataFrame(
        [(r.school_id, r.stage, t, int(r.classrooms)) for r in sr.itertuples(index=False) for t in years],
        columns=cols,
    )
    proj = project_rooms(district, schools, settings, years, by_stage=True)
    proj = proj[proj["school_id"].isin(set(sr["school_id"]))]
    return pd.concat([base, proj[cols]], ignore_index=True).groupby(cols[:3], as_index=False)["rooms"].sum()


def demand_nodes(district, demand: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each zone's demand among home schools by their share of the zone's pupils last year.

    A (zone, home school) node sits at the home school, so closing it sends its pupils the
    real distance to another school. Grades with no pupils at any school of the zone last
    year stay at the zone-centre node (home '').
    """
    from capacity.data.district import split_by_home_school

    homed = split_by_home_school(district, demand[demand["pupils"] > 0]).rename(columns={"school_id": "home"})
    zone, home = homed["zone_id"].to_numpy(), homed["home"].to_numpy()
    # nodes: the (zone, home) pairs sorted by zone, then home
    zone_rank = pd.factorize(zone, sort=True)[0]
    home_rank = pd.factorize(home, sort=True)[0]
    pair = key_codes([zone, home])
    first = np.unique(pair, return_index=True)[1]  # one row per pair, pair order
    by_pair = np.lexsort((home_rank[first], zone_rank[first]))
    node_of_pair = np.empty(len(first), dtype=np.int64)
    node_of_pair[by_pair] = np.arange(len(first))
    rows = first[by_pair]  # a row of each node, in node order
    keys = pd.DataFrame({k: homed[k].take(rows).reset_index(drop=True) for k in ("zone_id", "home")})  # the split's dtypes
    zones = district.zones.set_index("zone_id")
    sx = district.schools.set_index("school_id")
    at_school = keys["home"].ne("").to_numpy()
    for col in ("x_km", "y_km"):
        keys[col] = np.where(at_school, keys["home"].map(sx[col]), keys["zone_id"].map(zones[col])).astype(float)
    keys.insert(0, "node", np.arange(len(keys)))
    node = node_of_pair[pair]
    order = np.lexsort((homed["grade"].map(district.grades.grade_index).to_numpy(), homed["year"].to_numpy(), node))
    out = pd.DataFrame(
        {"node": node[order], **{k: homed[k].take(order).reset_index(drop=True) for k in ("zone_id", "home", "grade", "year", "pupils")}}
    )
    return keys, out


def key_codes(columns: list) -> np.ndarray:
    """One integer per row for the combined values of ``columns`` (equal values, equal codes), numbered by first
    appearance from 0; -1 where a value is missing."""
    n = len(columns[0]) if columns else 0
    code = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    for col in columns:
        c, u = pd.factorize(col)
        missing |= c < 0
        code, _ = pd.factorize(code * max(len(u), 1) + c)  # kept below the row count: no overflow
    return np.where(missing, -1, code)


def row_owner(owners: pd.DataFrame, frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """For each row of ``frame``, the position of the row of ``owners`` with the same ``keys`` (-1 where none);
    ``owners``' keys are unique (a demand or class row per key). Integer codes, no index built."""
    m = len(owners)
    code = key_codes([np.concatenate([owners[k].to_numpy(), frame[k].to_numpy()]) for k in keys])
    # codes number keys by first appearance: owners come first, so owner i holds code i when keys are unique
    if m and not np.array_equal(code[:m], np.arange(m)):
        raise ValueError(f"rows of the table grouped by {keys} are not unique")
    return np.where(code[m:] < m, code[m:], -1)


def grade_order(grades: GradeSystem):
    """Sort key for ``sort_values``: grades in the system's order, other columns as they are."""
    return lambda s: s.map(grades.grade_index) if s.name == "grade" else s


def node_school_km(nodes: pd.DataFrame, schools: pd.DataFrame, travel: pd.DataFrame, settings: PlanSettings) -> np.ndarray:
    """km from every demand node (rows) to every school (columns, in ``schools`` order): the
    travel table where it gives one, else straight-line km x ``detour_factor``; 0 to the home school."""
    sch = schools.reset_index(drop=True)
    dx = nodes["x_km"].to_numpy()[:, None] - sch["x_km"].to_numpy()[None, :]
    dy = nodes["y_km"].to_numpy()[:, None] - sch["y_km"].to_numpy()[None, :]
    km = np.hypot(dx, dy) * settings.detour_factor
    school_col = pd.Index(sch["school_id"])
    if travel is not None and len(travel):
        # every node of the travel row's zone (a zone may hold several home-school nodes); (zone, school) is the table's key
        j = school_col.get_indexer(travel["school_id"])
        t = travel[j >= 0]
        j = j[j >= 0]
        zone = nodes["zone_id"].to_numpy()
        by_zone = np.argsort(zone, kind="stable")
        lo = np.searchsorted(zone[by_zone], t["zone_id"].to_numpy(), "left")
        hi = np.searchsorted(zone[by_zone], t["zone_id"].to_numpy(), "right")
        # travel row r covers the nodes by_zone[lo[r]:hi[r]]; flattened: row r repeated hi - lo times, at lo[r], lo[r] + 1, ...
        row = np.repeat(np.arange(len(t)), hi - lo)
        at = by_zone[np.arange(len(row)) - np.repeat(np.cumsum(hi - lo) - (hi - lo), hi - lo) + np.repeat(lo, hi - lo)]
        km[at, j[row]] = t["km"].to_numpy(dtype=float)[row]
    home = school_col.get_indexer(nodes["home"])
    km[np.flatnonzero(home >= 0), home[home >= 0]] = 0.0
    return km


def reachable_arcs(
    nodes: pd.DataFrame, demand: pd.DataFrame, schools: pd.DataFrame, travel: pd.DataFrame, settings: PlanSettings, grades: GradeSystem
) -> pd.DataFrame:
    """Every (node, school, grade, year) a pupil may be assigned to, with km and boarding flag.

    A school is reachable from a node when it teaches the grade and lies within the stage's
    day travel distance, or has boarding beds within the stage's boarding distance. A
    node's home school is always reachable (0 km). A private school (sector other than public)
    is reached only from its own home node, and that node reaches nothing else: the plan seats
    the private school's pupils where they are and never moves pupils into or out of it.
    """
    sch = schools.reset_index(drop=True)
    km = node_school_km(nodes, sch, travel, settings)
    gi = grades.grade_index
    first = sch["first_grade"].map(gi).to_numpy()
    last = sch["last_grade"].map(gi).to_numpy()
    g_of = demand["grade"].map(gi).to_numpy()
    # every (demand row, school teaching its grade), one grade at a time
    rows, cols = [], []
    for g in np.unique(g_of):
        d = np.flatnonzero(g_of == g)
        j = np.flatnonzero((first <= g) & (last >= g))
        rows.append(np.repeat(d, len(j)))
        cols.append(np.tile(j, len(d)))
    d = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    j = np.concatenate(cols) if cols else np.zeros(0, dtype=int)
    node = demand["node"].to_numpy()[d]
    k = km[node, j]
    stage = [grades.stage_of_grade[g] for g in grades.grades]
    g = g_of[d].astype(int)
    day = np.array([settings.travel_km.get(st, np.nan) for st in stage], dtype=float)[g]
    board = np.array([settings.boarding_km.get(st, np.nan) for st in stage], dtype=float)[g]
    school_ids = sch["school_id"].to_numpy()
    home_col = pd.Index(sch["school_id"]).get_indexer(nodes["home"])
    home = home_col[node] == j
    ok = home | (k <= day + 1e-9) | ((sch["beds"].to_numpy()[j] > 0) & (k <= board + 1e-9))
    # The plan assigns public pupils only: a private school keeps its own pupils (its home node reaches
    # it alone) and takes no one else's.
    private_school = sch["sector"].ne("public").to_numpy()
    private_home = (home_col >= 0) & private_school[home_col]
    ok &= np.where(private_school[j], home, ~private_home[node] | home)
    d, j, node, k, g, day, home = d[ok], j[ok], node[ok], k[ok], g[ok], day[ok], home[ok]
    year = demand["year"].to_numpy()[d]
    school_rank = np.argsort(np.argsort(school_ids, kind="stable"), kind="stable")
    order = np.lexsort((g, school_rank[j], node, year))
    return pd.DataFrame(
        {
            "arc": np.arange(len(order)),
            "node": node[order],
            "school_id": school_ids[j[order]],
            "grade": demand["grade"].take(d[order]).reset_index(drop=True),  # the demand table's dtype
            "year": year[order],
            "km": k[order],
            "boarder": (~home & (k > day + 1e-9))[order],
        }
    )


def base_class_sizes(district, settings: PlanSettings) -> dict[tuple[str, str], int]:
    """Largest class of each school and grade in the last history year (actual pupils in
    the school's current classrooms; see capacity.gap.classes.class_report)."""
    from capacity.gap.classes import class_report
    from capacity.gap.seats import school_rooms, seat_table

    e = district.enrolment
    last = e[e["year"] == e["year"].max()]
    if last.empty:
        return {}
    std = settings.standards
    rooms = school_rooms(seat_table(district, std.class_size, (int(last["year"].iloc[0]),), std.rated_capacity_tolerance))
    rep = class_report(last.assign(zone_id=""), district, std.class_size, {}, rooms)
    rep = rep[rep["classes"] > 0]
    return {(s, g): int(v) for s, g, v in zip(rep["school_id"], rep["grade"], rep["max_class_size"], strict=True)}


def class_caps(
    schools: pd.DataFrame,
    years: tuple[int, ...],
    settings: PlanSettings,
    base_sizes: dict | Callable[[], dict] | None = None,
    base_year: int | None = None,
    *,
    grades: GradeSystem,
) -> pd.DataFrame:
    """Pupils per class allowed per school, grade and year under the phase-in rule.

    A grade g of a stage whose starting grade is g0 is held to the standard in year t when
    the cohort in it entered g0 in or after ``standard_from`` (t - (g - g0) >= standard_from),
    or when t >= ``standard_all_from``. A cohort not yet held to it may keep the classes it
    has: its cap is min(legacy_cap, max(standard, its largest class in ``base_year``)), so
    existing large classes age out and none grows; a cohort that entered after the base year
    (before ``standard_from``) may use up to max(legacy_cap, standard). ``base_sizes`` may be a function
    giving them: it is called only if some cohort needs them (they take a seat table and a class report).
    """
    start_from = settings.standard_from if settings.standard_from is not None else years[0]
    gi, stage_of, order = grades.grade_index, grades.stage_of_grade, grades.grades
    start_of_stage = {stage_of[g]: gi[g] for g in settings.starting_grades}
    # one row per school, grade taught and year, in that order
    first = schools["first_grade"].map(gi).to_numpy(dtype=int)
    last = schools["last_grade"].map(gi).to_numpy(dtype=int)
    per_school = last - first + 1
    school = np.repeat(np.arange(len(schools)), per_school * len(years))
    g = np.repeat(np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last, strict=True)] or [np.zeros(0, int)]), len(years))
    t = np.tile(np.asarray(years, dtype=int), int(per_school.sum()))
    override = schools["class_size"].to_numpy(dtype=float) if "class_size" in schools else np.full(len(schools), np.nan)
    by_grade = np.array([settings.standards.standard_size(x, grades) for x in order], dtype=int)
    own = override[school]
    std = np.where(own == own, np.nan_to_num(own), by_grade[g]).astype(int)
    # a cohort is held to the standard once it entered its stage's starting grade in or after standard_from
    entry = np.array([start_of_stage.get(stage_of[x], -1) for x in order])[g]
    from_start = (entry >= 0) & (g >= entry)
    enforced = np.where(from_start, t - (g - entry) >= start_from, t >= start_from)
    if settings.standard_all_from is not None:
        enforced |= t >= settings.standard_all_from
    cap = np.where(enforced, std, np.maximum(settings.legacy_cap, std))
    if base_year is not None:
        sizes = None
        sids = schools.index.to_numpy()
        for i in np.flatnonzero(~enforced).tolist():
            gi0 = int(g[i] - (t[i] - base_year))
            if first[school[i]] <= gi0 <= last[school[i]] and stage_of[order[gi0]] == stage_of[order[g[i]]]:
                if sizes is None:  # asked for once, only if some cohort needs them
                    sizes = (base_sizes() if callable(base_sizes) else base_sizes) or {}
                had = sizes.get((sids[school[i]], order[gi0]))
                cap[i] = max(std[i], min(settings.legacy_cap, had)) if had is not None else std[i]
    return pd.DataFrame(
        {
            "school_id": schools.index.to_numpy()[school],
            "grade": np.array(order, dtype=object)[g],
            "year": t.astype(np.int64),
            "cap": cap.astype(np.int64),
            "standard": std.astype(np.int64),
        }
    )


def prepare(district, demand: pd.DataFrame, settings: PlanSettings) -> PlanData:
    """Validate the demand table and build every index table of the model.

    Parameters
    ----------
    demand : DataFrame
        year, zone_id, grade, pupils (the projection at the planning quantile).
    """
    need = {"year", "zone_id", "grade", "pupils"}
    if not need <= set(demand.columns):
        raise InputError(
            [Problem("demand", None, ", ".join(sorted(need - set(demand.columns))), "missing columns", "year, zone_id, grade, pupils")]
        )
    problems = []
    bad_zone = ~demand["zone_id"].isin(district.zones["zone_id"])
    for z in sorted(set(demand.loc[bad_zone, "zone_id"])):
        problems.append(Problem("demand", None, "zone_id", f"'{z}', not a zone of the district", "a zone_id of the district"))
    gs = district.grades
    if (~demand["grade"].isin(gs.grades)).any():
        problems.append(
            Problem(
                "demand",
                None,
                "grade",
                repr(sorted(set(demand["grade"]) - set(gs.grades))),
                f"grades of the district's {gs.name} system (district.grade_system): " + "/".join(gs.grades),
            )
        )
    vals = demand["pupils"].to_numpy(dtype=float)
    if not np.isfinite(vals).all() or (vals < 0).any():
        problems.append(Problem("demand", None, "pupils", "negative or non-finite values", "pupils >= 0"))
    if problems:
        raise InputError(problems)
    years = tuple(sorted(int(y) for y in demand["year"].unique()))
    schools = school_table(district, settings, years)
    nodes, dem = demand_nodes(district, demand)
    arcs = reachable_arcs(nodes, dem, schools, district.travel, settings, gs)
    base_year = district.last_year if district.has_history else None  # no history: no existing classes to keep
    caps = class_caps(schools, years, settings, lambda: base_class_sizes(district, settings), base_year, grades=gs)
    discount = {t: 1.0 / (1.0 + settings.discount_rate) ** (t - years[0]) for t in years}
    return PlanData(
        years,
        schools,
        project_rooms(district, schools, settings, years),
        nodes,
        dem,
        arcs,
        caps,
        discount,
        dedicated_stage_rooms(district, schools, settings, years),
        gs,
    )
