"""Seat gap by year, zone (with roll-ups) and stage; early warning; budget needed."""

from __future__ import annotations

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
    projection, seats: pd.DataFrame, zones: pd.DataFrame, quantile: float, warning_window: int, amber_utilisation: float
) -> pd.DataFrame:
    """Demand (at ``quantile``), seats, gap and warning per year, area and stage.

    Areas are every zone, each zone kind (urban / town / rural) and the county; a kind's
    or the county's demand sums the draws of its zones, so its probabilities are joint.
    Demand quantiles are centred on the deterministic path, as the projection's own
    (:func:`capacity.projection.model.centred_quantiles`): at 0.5 demand is that path.

    Returns
    -------
    DataFrame
        year, level (zone / kind / county), area, name, stage, demand (pupils), seats,
        gap (seats - demand; negative = short), shortfall (pupils without a seat),
        utilisation (demand / seats), p_short (probability demand exceeds seats over the
        projection's draws), warning (red / amber / green).
    """
    sd = stage_draws(projection)  # Z, S, T, D
    stage_names = projection.grades.stage_names
    zlist = list(projection.zones)
    kinds = zones.set_index("zone_id")["kind"].reindex(zlist).fillna("unknown")
    names = zones.set_index("zone_id")["name"]
    groups: list[tuple[str, str, str, np.ndarray]] = [("zone", z, str(names.get(z, z)), np.eye(len(zlist))[i]) for i, z in enumerate(zlist)]
    for k in ("urban", "town", "rural"):
        m = (kinds == k).to_numpy().astype(float)
        if m.any():
            groups.append(("kind", k, k, m))
    groups.append(("county", "county", "county", np.ones(len(zlist))))
    w = np.stack([g[3] for g in groups])  # (A, Z)
    area_draws = np.einsum("az,zstd->astd", w, sd)
    area_point = np.einsum("az,zst->ast", w, stage_draws(projection, projection.point))
    demand = centred_quantiles(area_draws, area_point, [quantile])[0]  # (A, S, T); the median is the deterministic path
    seat_zone = seats.groupby(["zone_id", "stage", "year"])["seats"].sum()
    years = list(projection.years)
    seat_arr = np.zeros((len(zlist), len(stage_names), len(years)))
    for (z, st, y), v in seat_zone.items():
        if z in zlist and y in years:
            seat_arr[zlist.index(z), stage_names.index(st), years.index(y)] = v
    area_seats = np.einsum("az,zst->ast", w, seat_arr)
    p_short = (area_draws > area_seats[..., None]).mean(-1)
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
    return out[cols].sort_values(["level", "area", "stage", "year"], kind="stable").reset_index(drop=True)


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
    """The first year each zone and stage turns red, with its shortfall then."""
    z = gap[(gap["level"] == "zone") & (gap["warning"] == "red")].sort_values("year")
    f = z.groupby(["area", "stage"], as_index=False).first()
    return f[["area", "name", "stage", "year", "demand", "seats", "shortfall"]].rename(
        columns={"area": "zone_id", "year": "first_red_year"}
    )


def budget_needed(gap: pd.DataFrame, class_size: dict[str, int], cost_per_classroom: dict[str, float], grades: GradeSystem) -> pd.DataFrame:
    """Classrooms and money to close each zone's shortfall, by the year the seats are needed.

    Classrooms needed = ceil(shortfall / seats per room of the stage); what is built stays,
    so a year's new classrooms are the rise of the running maximum.

    Returns
    -------
    DataFrame
        year, zone_id, name, stage, shortfall, classrooms_needed (running maximum),
        new_classrooms, cost (currency).
    """
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
