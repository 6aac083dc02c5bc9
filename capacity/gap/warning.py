"""Early warning by school and by school district (zone): pupils against capacity, with an
amber and a red ratio and a look-ahead (the published rule: amber at 90 % of the intake plan,
red at 100 %, three years ahead)."""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = ("green", "amber", "red")


def traffic_light(ratio: np.ndarray, amber: float, red: float, years_ahead: int) -> np.ndarray:
    """Warning per year of one school or zone: red when ratio >= ``red``; amber when ratio >=
    ``amber`` or the ratio reaches ``red`` within the next ``years_ahead`` years; else green.
    NaN ratios (no capacity and no pupils) are green."""
    r = np.nan_to_num(np.asarray(ratio, dtype=float), nan=0.0)
    is_red = r >= red
    soon = np.array([is_red[i + 1 : i + 1 + years_ahead].any() for i in range(len(r))], dtype=bool)
    return np.where(is_red, "red", np.where((r >= amber) | soon, "amber", "green"))


def school_load(classes: pd.DataFrame, seats: pd.DataFrame, district, basis: str) -> pd.DataFrame:
    """year, school_id, zone_id, stage, pupils, capacity per school and stage.

    basis 'seats': all pupils of the stage against its seats. basis 'intake': pupils of the
    stage's entry grade against its intake places (the stage's seats / its grades at the school).
    """
    sch = district.schools.set_index("school_id")
    gs = district.grades
    cap = seats.groupby(["year", "school_id", "zone_id", "stage"], as_index=False)["seats"].sum()
    if basis == "intake":
        n = {
            (s, st): len(set(gs.stage_by_name[st].grades) & set(gs.grades_between(sch.at[s, "first_grade"], sch.at[s, "last_grade"])))
            for s, st in cap[["school_id", "stage"]].drop_duplicates().itertuples(index=False)
        }
        cap["seats"] = cap["seats"] / [max(1, n[(s, st)]) for s, st in zip(cap["school_id"], cap["stage"], strict=True)]
        entry = set(gs.entry_grades)
        c = classes[classes["grade"].isin(entry)]
    else:
        c = classes
    p = c.groupby(["year", "school_id", "stage"], as_index=False)["pupils"].sum()
    out = cap.merge(p, on=["year", "school_id", "stage"], how="outer")
    out["zone_id"] = out["school_id"].map(sch["zone_id"])
    return out.fillna({"seats": 0.0, "pupils": 0.0}).rename(columns={"seats": "capacity"})


def early_warning(load: pd.DataFrame, district, amber: float, red: float, years_ahead: int) -> pd.DataFrame:
    """Warnings by school and by zone, one row per unit, stage and year.

    Returns
    -------
    DataFrame
        level (school / zone), unit_id, name, zone_id, stage, year, pupils, capacity,
        ratio (pupils / capacity), warning (green / amber / red). A zone's ratio sums its schools.
    """
    zn = district.zones.set_index("zone_id")["name"]
    sn = district.schools.set_index("school_id")["name"]
    z = load.groupby(["year", "zone_id", "stage"], as_index=False)[["pupils", "capacity"]].sum()
    parts = [
        load.assign(level="school", unit_id=load["school_id"], name=load["school_id"].map(sn)),
        z.assign(level="zone", unit_id=z["zone_id"], name=z["zone_id"].map(zn)),
    ]
    t = pd.concat(parts, ignore_index=True)
    t = t[(t["pupils"] > 0) | (t["capacity"] > 0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        t["ratio"] = np.where(t["capacity"] > 0, t["pupils"] / t["capacity"], np.where(t["pupils"] > 0, np.inf, np.nan))
    t = t.sort_values(["level", "unit_id", "stage", "year"], kind="stable").reset_index(drop=True)
    t["warning"] = ""
    for _, g in t.groupby(["level", "unit_id", "stage"], sort=False):
        t.loc[g.index, "warning"] = traffic_light(g["ratio"].to_numpy(), amber, red, years_ahead)
    return t[["level", "unit_id", "name", "zone_id", "stage", "year", "pupils", "capacity", "ratio", "warning"]]


def worst_by_year(warnings: pd.DataFrame, level: str) -> pd.DataFrame:
    """unit x year table of the worst warning over stages (the traffic-light table)."""
    w = warnings[warnings["level"] == level].assign(rank=lambda f: f["warning"].map({v: i for i, v in enumerate(LEVELS)}))
    t = w.groupby(["unit_id", "name", "year"])["rank"].max().unstack("year")
    return t.apply(lambda c: c.map(lambda v: LEVELS[int(v)] if v == v else "")).reset_index()


def first_red_units(warnings: pd.DataFrame) -> pd.DataFrame:
    """level, unit_id, name, stage, first_red_year, warn_from (first amber-or-red year), ratio then."""
    rows = []
    for (lv, u, st), g in warnings.groupby(["level", "unit_id", "stage"], sort=True):
        red = g[g["warning"] == "red"]
        if not len(red):
            continue
        first = red.iloc[0]
        warn = g[g["warning"] != "green"]["year"].min()
        rows.append((lv, u, first["name"], st, int(first["year"]), int(warn), float(first["ratio"])))
    return pd.DataFrame(rows, columns=["level", "unit_id", "name", "stage", "first_red_year", "warn_from", "ratio"])
