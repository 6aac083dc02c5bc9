"""Seat gap by year, zone (with roll-ups) and stage; early warning; budget needed."""

from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd

from capacity.grades import GradeSystem
from capacity.projection.model import centred_quantiles
from capacity.standards import stage_room_size


def stage_draws(projection, draws: np.ndarray | None = None) -> np.ndarray:
    """Draws (default the projection's; or any array with the grade axis second) summed to stages: (zones, stages, ...)."""
    g = projection.grades
    stage_of = np.array([g.stage_of_grade[x] for x in g.grades])
    d = projection.draws if draws is None else draws
    return np.stack([d[:, stage_of == s].sum(1) for s in g.stage_names], axis=1)


def gap_table(
    projection,
    seats: pd.DataFrame,
    zones: pd.DataFrame,
    quantile: float,
    warning_window: int,
    amber_utilisation: float,
    schools: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Demand (at ``quantile``), seats, gap and warning per year, area and stage.

    Areas are every zone, each zone kind (urban / town / rural) and the county; a kind's
    or the county's demand sums the draws of its zones, so its probabilities are joint.
    Demand quantiles are centred on the deterministic path, as the projection's own
    (:func:`capacity.projection.model.centred_quantiles`): at 0.5 demand is that path.
    A projection of the school-level mode (``projection.unit: school``) adds every school as an area of level
    ``school`` (its projected pupils against its own seats; names from ``schools``), and a zone is the sum of its
    schools (pupils counted where they are taught); a ``zone_id`` column then gives each row's zone.

    Returns
    -------
    DataFrame
        year, level (school / zone / kind / county), area, name, [zone_id,] stage, demand (pupils), seats,
        gap (seats - demand; negative = short), shortfall (pupils without a seat),
        utilisation (demand / seats), p_short (probability demand exceeds seats over the
        projection's draws), warning (red / amber / green).
    """
    sd = stage_draws(projection)  # U, S, T, D (units: zones, or schools in the school-level mode)
    sp = stage_draws(projection, projection.point)  # U, S, T
    stage_names = projection.grades.stage_names
    h = projection.history
    ulist = list(projection.zones)
    names = zones.set_index("zone_id")["name"]
    # areas: the units themselves (own: unit index), then sums of units (weights over units)
    own: list[tuple[str, str, str, int]] = []
    sums: list[tuple[str, str, str, np.ndarray]] = []
    if h.unit == "school":
        school_names = schools.set_index("school_id")["name"] if schools is not None else pd.Series(dtype=object)
        unit_zone, key = np.asarray(h.unit_zone, dtype=object), "school_id"
        own += [("school", u, str(school_names.get(u, u)), i) for i, u in enumerate(ulist) if h.school_unit[i]]
        sums += [("zone", z, str(names.get(z, z)), (unit_zone == z).astype(float)) for z in sorted(set(unit_zone))]
    else:
        unit_zone, key = np.asarray(ulist, dtype=object), "zone_id"
        own += [("zone", z, str(names.get(z, z)), i) for i, z in enumerate(ulist)]
    kinds = zones.set_index("zone_id")["kind"].reindex(unit_zone).fillna("unknown")
    for k in ("urban", "town", "rural"):
        m = (kinds == k).to_numpy().astype(float)
        if m.any():
            sums.append(("kind", k, k, m))
    sums.append(("county", "county", "county", np.ones(len(ulist))))
    seat_unit = seats.groupby([key, "stage", "year"])["seats"].sum()
    years = list(projection.years)
    at = {u: i for i, u in enumerate(ulist)}
    seat_arr = np.zeros((len(ulist), len(stage_names), len(years)))
    for (u, st, y), v in seat_unit.items():
        if u in at and y in years:
            seat_arr[at[u], stage_names.index(st), years.index(y)] = v
    idx = np.array([g[3] for g in own], dtype=int)
    w = np.stack([g[3] for g in sums])  # (sums, U)
    # the units in chunks (the draws of many schools are never copied whole into float64), then the sums of units
    demand, area_seats, p_short = [], [], []
    chunks = ((sd[c].astype(float), sp[c], seat_arr[c]) for c in np.array_split(idx, max(1, len(idx) // 64)))
    summed = ((np.tensordot(w, sd, axes=(1, 0)), np.tensordot(w, sp, axes=(1, 0)), np.tensordot(w, seat_arr, axes=(1, 0))) for _ in (0,))
    for d, p, s in chain(chunks, summed):  # lazily: one chunk's float64 copy at a time
        demand.append(centred_quantiles(d, p, [quantile])[0])  # (areas, S, T); the median is the deterministic path
        area_seats.append(s)
        p_short.append((d > s[..., None]).mean(-1))
    demand, area_seats, p_short = (np.concatenate(x) for x in (demand, area_seats, p_short))
    groups = [g[:3] for g in own] + [g[:3] for g in sums]
    a, s, t = np.meshgrid(np.arange(len(groups)), np.arange(len(stage_names)), np.arange(len(years)), indexing="ij")
    out = pd.DataFrame(
        {
            "year": np.asarray(years)[t.ravel()],
            "level": [groups[i][0] for i in a.ravel()],
            "area": [groups[i][1] for i in a.ravel()],
            "name": [groups[i][2] for i in a.ravel()],
            "stage": np.asarray(stage_names, dtype=object)[s.ravel()],
            "demand": demand.ravel(),
            "seats": area_seats.ravel(),
            "p_short": p_short.ravel(),
        }
    )
    out = out[(out["demand"] > 0) | (out["seats"] > 0)].copy()
    out["gap"] = out["seats"] - out["demand"]
    out["shortfall"] = np.maximum(out["demand"] - out["seats"], 0.0)
    out["utilisation"] = out["demand"] / out["seats"].where(out["seats"] > 0, np.nan)
    out["warning"] = warning_levels(out, warning_window, amber_utilisation)
    cols = ["year", "level", "area", "name", "stage", "demand", "seats", "gap", "shortfall", "utilisation", "p_short", "warning"]
    if h.unit == "school":
        # by level: a school's id may be another zone's id (school 'B' in zone A)
        school_zone = out["area"].map(dict(zip(ulist, unit_zone, strict=True)))
        out["zone_id"] = np.where(out["level"] == "school", school_zone, np.where(out["level"] == "zone", out["area"], ""))
        cols.insert(4, "zone_id")
    return out[cols].sort_values(["level", "area", "stage", "year"], kind="stable").reset_index(drop=True)


def gap_unit(gap: pd.DataFrame) -> str:
    """``school`` when ``gap`` (a :func:`gap_table`) is of the school-level mode (it has school rows), else ``zone``."""
    return "school" if (gap["level"] == "school").any() else "zone"


def warning_levels(t: pd.DataFrame, window: int, amber_utilisation: float) -> pd.Series:
    """red: short this year; amber: short within the next ``window`` years, or utilisation
    above ``amber_utilisation``; green otherwise."""
    red = t["shortfall"] > 1e-9
    level = pd.Series("green", index=t.index, dtype=object)
    for _, g in t.groupby(["level", "area", "stage"], sort=False):
        g = g.sort_values("year")
        r = red[g.index].to_numpy()
        soon = np.array([r[i + 1 : i + 1 + window].any() for i in range(len(r))])
        util = (g["utilisation"] > amber_utilisation).to_numpy()
        lv = np.where(r, "red", np.where(soon | util, "amber", "green"))
        level[g.index] = lv
    return level


def first_red(gap: pd.DataFrame) -> pd.DataFrame:
    """The first year each zone and stage turns red, with its shortfall then; in the school-level mode, each school
    and stage (columns school_id and its zone_id)."""
    unit = gap_unit(gap)
    z = gap[(gap["level"] == unit) & (gap["warning"] == "red")].sort_values("year")
    f = z.groupby(["area", "stage"], as_index=False).first()
    if unit == "school":
        return f[["area", "zone_id", "name", "stage", "year", "demand", "seats", "shortfall"]].rename(
            columns={"area": "school_id", "year": "first_red_year"}
        )
    return f[["area", "name", "stage", "year", "demand", "seats", "shortfall"]].rename(
        columns={"area": "zone_id", "year": "first_red_year"}
    )


def budget_needed(gap: pd.DataFrame, class_size: dict[str, int], cost_per_classroom: dict[str, float], grades: GradeSystem) -> pd.DataFrame:
    """Classrooms and money to close each zone's shortfall, by the year the seats are needed.

    Classrooms needed = ceil(shortfall / seats per room of the stage); what is built stays,
    so a year's new classrooms are the rise of the running maximum. In the school-level mode each school's own
    shortfall (an extension of the school its pupils chose; spare seats at other schools do not offset it).

    Returns
    -------
    DataFrame
        year, zone_id, name, stage, shortfall, classrooms_needed (running maximum),
        new_classrooms, cost (currency); in the school-level mode school_id first.
    """
    if gap_unit(gap) == "school":
        from capacity.notes import note

        schools = gap[gap["level"] == "school"].drop(columns="zone_id").assign(level="zone")
        b = budget_needed(schools, class_size, cost_per_classroom, grades)
        if b["new_classrooms"].sum() > 0:
            note(
                "gap budget (school-level mode): classrooms to close each school's own shortfall, where its pupils chose to be; "
                "spare seats at other schools do not offset it (the zone rows of gap.csv do net them; the plan may reassign "
                "pupils within its reach rules)"
            )
        zone_of = gap[gap["level"] == "school"].drop_duplicates("area").set_index("area")["zone_id"]
        return b.rename(columns={"zone_id": "school_id"}).assign(zone_id=lambda f: f["school_id"].map(zone_of))[
            ["year", "school_id", "zone_id", "name", "stage", "shortfall", "classrooms_needed", "new_classrooms", "cost"]
        ]
    z = gap[gap["level"] == "zone"].sort_values(["area", "stage", "year"]).copy()
    z["room_seats"] = z["stage"].map(lambda s: stage_room_size(class_size, s, grades))
    z["rooms"] = np.ceil(z["shortfall"] / z["room_seats"] - 1e-9).astype(int)
    z["classrooms_needed"] = z.groupby(["area", "stage"])["rooms"].cummax()
    z["new_classrooms"] = z.groupby(["area", "stage"])["classrooms_needed"].diff().fillna(z["classrooms_needed"]).astype(int)
    z["cost"] = z["new_classrooms"] * z["stage"].map(cost_per_classroom)
    out = z.rename(columns={"area": "zone_id"})[
        ["year", "zone_id", "name", "stage", "shortfall", "classrooms_needed", "new_classrooms", "cost"]
    ]
    schoolless = z[(z["new_classrooms"] > 0) & (z["seats"] <= 0)] if "seats" in z else z.iloc[:0]
    schoolless = schoolless.drop_duplicates(["area", "stage"])
    if len(schoolless):
        from capacity.notes import note

        note(
            "gap budget: "
            + ", ".join(f"zone {r.area} ({r.stage})" for r in schoolless.itertuples())
            + " short with no seat of the stage in the zone: their classrooms stand for seats to be found elsewhere "
            "(a new school, or spare seats within reach: see the plan), not for an extension"
        )
    return out.reset_index(drop=True)
