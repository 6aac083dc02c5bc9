"""Class sizes and school sizes under the status quo, and policy checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.standards import standard_size


def status_quo_pupils(district, demand: pd.DataFrame) -> pd.DataFrame:
    """Each school keeps its last-year share of its zone's pupils of each grade (from a decided closure, the
    zone's other home schools of the grade take the closed school's share).

    Parameters
    ----------
    demand : DataFrame
        year, zone_id, grade, pupils (projected).

    Returns
    -------
    DataFrame
        year, school_id, zone_id, grade, pupils (whole pupils, rounded). Pupils of a
        zone and grade that no school taught last year are returned with school_id ''.
    """
    from capacity.data.district import split_by_home_school, without_closed

    split = split_by_home_school(district, demand)
    closes = district.decided_closures
    out = without_closed(split, closes)
    homeless = out[out["school_id"].eq("") & (out["pupils"] > 0)]
    if len(homeless):
        from capacity.notes import note

        # a zone and grade whose home schools have all closed (decided closure) by the year: the closure is the cause
        gone = split[split["school_id"].map(closes).le(split["year"])]
        by_closure = gone.groupby(["year", "zone_id", "grade"])["school_id"].agg(lambda s: tuple(sorted(set(s))))
        cause = pd.Series(
            [by_closure.get((y, z, g), ()) for y, z, g in zip(homeless["year"], homeless["zone_id"], homeless["grade"], strict=True)],
            index=homeless.index,
            dtype=object,
        )
        closed = homeless[cause.map(len) > 0]
        never = homeless[cause.map(len) == 0]
        if len(never):
            by_zone = never.groupby("zone_id")["pupils"].sum()
            note(
                "status quo: pupils of "
                + ", ".join(f"zone {z} ({v:,.0f} pupil-years)" for z, v in by_zone.items())
                + " have no home school (no school of their zone taught their grade in the last year): they count in the seat "
                "gap of their zone but in no school's classes, sizes or teachers; the plan seats them"
            )
        # schools of the zone still teaching the grade that year, with no home-school share (no pupils in the last
        # history year: a new school with a decided project, a school that was empty)
        teach = _teaching_then(district, closes)
        unshared = pd.Series(
            [
                tuple(s for s, c in teach.get((z, g), ()) if not c <= y)
                for y, z, g in zip(closed["year"], closed["zone_id"], closed["grade"], strict=True)
            ],
            index=closed.index,
            dtype=object,
        )
        if unshared.map(len).any():
            left = closed[unshared.map(len) > 0]
            by_zone = left.groupby("zone_id")["pupils"].sum()
            named = left.assign(school=unshared[left.index]).explode("school").groupby("zone_id")["school"].agg(lambda s: sorted(set(s)))
            note(
                "status quo: pupils of "
                + ", ".join(f"zone {z} ({v:,.0f} pupil-years; taught also at {', '.join(named[z])})" for z, v in by_zone.items())
                + " have no home school: their school closes (decided, schools.csv closed_from) and the zone's other schools of "
                "their grade had no pupils in the last history year, so they take no status-quo share: they count in the seat gap "
                "of their zone but in no school's classes, sizes or teachers; the plan seats them"
            )
            closed = closed[unshared.map(len) == 0]
        if len(closed):
            schools = closed.assign(school=cause[closed.index]).explode("school")
            by_zone = closed.groupby("zone_id")["pupils"].sum()
            shut = schools.groupby("zone_id")["school"].agg(lambda s: sorted(set(s)))
            note(
                "status quo: pupils of "
                + ", ".join(
                    f"zone {z} ({v:,.0f} pupil-years; " + ", ".join(f"school {sid} closes from {int(closes[sid])}" for sid in shut[z]) + ")"
                    for z, v in by_zone.items()
                )
                + " have no home school: the school closes (decided, schools.csv closed_from) and no other school of their zone "
                "teaches their grade: they count in the seat gap of their zone but in no school's classes, sizes or teachers; "
                "the plan seats them"
            )
    out["pupils"] = np.round(out["pupils"]).astype(int)
    return out[["year", "school_id", "zone_id", "grade", "pupils"]]


def school_pupils(demand: pd.DataFrame, history) -> pd.DataFrame:
    """Pupils by school of a school-level projection's demand (its units are schools): year, school_id, zone_id, grade,
    pupils (whole pupils). Each school keeps the pupils projected for it; no share of a zone is guessed. Pupils left in
    a zone's births unit (a grade no school teaches) have school_id '' and are stated, as :func:`status_quo_pupils` does."""
    from capacity.projection.schools import by_school

    if history.teaching is not None:  # rows only where a school with a history teaches the grade (or has pupils of it)
        past = np.nansum(history.pupils, axis=(1, 2)) > 0  # a new school the projection gives no pupils has no classes
        teaches = {(history.zones[i], history.grades.grades[gi]) for i, gi in np.argwhere((history.teaching > 0) & past[:, None])}
        demand = demand[[(u, g) in teaches or p > 0 for u, g, p in zip(demand["zone_id"], demand["grade"], demand["pupils"], strict=True)]]
    out = by_school(demand, history)
    out["pupils"] = np.round(out["pupils"]).astype(int)
    return out[["year", "school_id", "zone_id", "grade", "pupils"]]


def _allocate(total: int, need: np.ndarray, has_pupils: np.ndarray) -> np.ndarray:
    """Share ``total`` rooms among grades: one per grade with pupils first (largest need
    first when rooms are fewer), then the rest in proportion to the remaining need."""
    out = np.zeros(len(need), dtype=int)
    order = np.lexsort((np.arange(len(need)), -need))
    first = [i for i in order if has_pupils[i]][:total]
    out[first] = 1
    left = total - out.sum()
    rest = np.maximum(need - out, 0).astype(float)
    if left <= 0 or rest.sum() <= 0:
        return out
    share = left * rest / rest.sum()
    add = np.floor(share).astype(int)
    rem = left - add.sum()
    add[np.lexsort((np.arange(len(need)), -(share - add)))[:rem]] += 1
    return out + add


def spread_bands(
    pupils: np.ndarray, classes: np.ndarray, standard: np.ndarray, bands: dict[str, list], index=None, over_standard: bool = False
) -> pd.DataFrame:
    """Class sizes with pupils spread evenly over classes, and counts per band.

    With p pupils (rounded) in c classes, p mod c classes hold floor(p/c)+1 and the rest
    floor(p/c). Returns mean_class_size, max_class_size, classes_above_standard and one
    column per band (classes in it). With ``over_standard`` a band's limits count pupils
    above each class's standard (band [1, 5] at standard 25 holds classes of 26-30).
    """
    n = np.round(np.asarray(pupils, dtype=float)).astype(int)
    c = np.round(np.asarray(classes, dtype=float)).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(c > 0, n // np.maximum(c, 1), 0)
        r = np.where(c > 0, n % np.maximum(c, 1), 0)
        out = {"mean_class_size": np.where(c > 0, n / np.maximum(c, 1), np.nan), "max_class_size": np.where(c > 0, q + (r > 0), np.nan)}
    big, small = r, c - r
    out["classes_above_standard"] = np.where(q + 1 > standard, big, 0) + np.where(q > standard, small, 0)
    base = np.asarray(standard, dtype=float) if over_standard else 0.0
    for name, (lo, hi) in bands.items():
        top = np.inf if hi is None else hi
        lo, top = base + lo, base + top
        out[name] = np.where(((q + 1) >= lo) & ((q + 1) <= top), big, 0) + np.where((q >= lo) & (q <= top), small, 0)
    return pd.DataFrame(out, index=index)


def class_report(
    pupils: pd.DataFrame,
    district,
    class_size: dict[str, int],
    bands: dict[str, list],
    rooms: pd.DataFrame | None = None,
    bands_over_standard: bool = False,
) -> pd.DataFrame:
    """Classes per school, grade and year.

    Classes needed = ceil(pupils / standard). Where a school's classrooms (``rooms``:
    year, school_id, classrooms; default: its current classrooms) cannot hold every needed
    class, its rooms are shared among grades in proportion to need (at least one class for
    a grade with pupils) and classes grow. Pupils are spread evenly: with p pupils in c
    classes, p mod c classes have floor(p/c)+1 pupils and the rest floor(p/c).

    Returns
    -------
    DataFrame
        year, school_id, grade, stage, pupils, standard, classes_needed, classes,
        mean_class_size, max_class_size, classes_above_standard, and one column per band
        with the number of classes in it (``bands_over_standard``: see :func:`spread_bands`).
    """
    p = pupils[pupils["school_id"] != ""].groupby(["year", "school_id", "grade"], as_index=False)["pupils"].sum()
    sch = district.schools.set_index("school_id")
    override = sch["class_size"]
    p["standard"] = [
        int(override[s]) if override[s] == override[s] else standard_size(class_size, g, district.grades)
        for s, g in zip(p["school_id"], p["grade"], strict=True)
    ]
    p["stage"] = p["grade"].map(district.grades.stage_of_grade)
    p["classes_needed"] = np.ceil(p["pupils"] / p["standard"]).astype(int)
    if rooms is None:
        rooms = pd.MultiIndex.from_product([sorted(p["year"].unique()), sch.index], names=["year", "school_id"]).to_frame(index=False)
        rooms["classrooms"] = rooms["school_id"].map(sch["classrooms"])
    rmap = rooms.set_index(["year", "school_id"])["classrooms"]
    classes = np.zeros(len(p), dtype=int)
    for (y, s), idx in p.groupby(["year", "school_id"]).indices.items():
        need = p["classes_needed"].to_numpy()[idx]
        have = int(round(rmap.get((y, s), need.sum())))
        if need.sum() <= have:
            classes[idx] = need
        else:
            pup = p["pupils"].to_numpy()[idx]
            classes[idx] = _allocate(have, need.astype(float), (pup > 0).astype(int))
    p["classes"] = classes
    p = pd.concat(
        [p, spread_bands(p["pupils"].to_numpy(), p["classes"].to_numpy(), p["standard"].to_numpy(), bands, p.index, bands_over_standard)],
        axis=1,
    )
    gi = district.grades.grade_index
    return p.sort_values(["year", "school_id", "grade"], key=lambda s: s.map(gi) if s.name == "grade" else s).reset_index(drop=True)


def band_shares(classes: pd.DataFrame, bands: dict[str, list]) -> pd.DataFrame:
    """Per year and stage: classes, classes above standard, and count and share in each band."""
    cols = ["classes", "classes_above_standard", *bands]
    t = classes.groupby(["year", "stage"], as_index=False)[cols].sum()
    for b in ["classes_above_standard", *bands]:
        t[f"share {b}"] = t[b] / t["classes"].where(t["classes"] > 0, np.nan)
    return t


def school_sizes(pupils: pd.DataFrame, district, max_school_size: dict[str, int]) -> pd.DataFrame:
    """Pupils per school and year against the size cap (one stage vs nine-/twelve-year)."""
    t = pupils[pupils["school_id"] != ""].groupby(["year", "school_id"], as_index=False)["pupils"].sum()
    sch = district.schools.set_index("school_id")
    multi = {s: len(district.grades.stages_of(sch.at[s, "first_grade"], sch.at[s, "last_grade"])) > 1 for s in t["school_id"].unique()}
    t["cap"] = [max_school_size["multi" if multi[s] else "single"] for s in t["school_id"]]
    t["above_cap"] = t["pupils"] > t["cap"]
    t["name"] = t["school_id"].map(sch["name"])
    return t


def policy_failures(classes: pd.DataFrame, checks: list[dict]) -> pd.DataFrame:
    """Rows where a checked grade has classes above standard in or after the check's year."""
    out = []
    for chk in checks:
        f = classes[classes["grade"].isin(chk["grades"]) & (classes["year"] >= chk["from"]) & (classes["classes_above_standard"] > 0)]
        out.append(f.assign(policy=f"no {'/'.join(chk['grades'])} class above standard from {chk['from']}"))
    cols = ["policy", "year", "school_id", "grade", "pupils", "classes", "standard", "max_class_size", "classes_above_standard"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def _teaching_then(district, closes: pd.Series) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(zone_id, grade) -> [(school_id, closed_from or inf)] of the schools that teach the grade in the horizon: open
    schools and candidate sites with a decided project, as the projection counts them."""
    from capacity.projection.cube import teaching_school_grades

    sg = teaching_school_grades(district)
    out: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for sid, z, g in zip(sg["school_id"], sg["zone_id"], sg["grade"], strict=True):
        out.setdefault((z, g), []).append((sid, float(closes.get(sid, np.inf))))
    return out
