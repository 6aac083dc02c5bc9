"""The school-level mode (``projection.unit: school``): checks, notes and school-labelled tables.

In this mode each school is a unit of the cohort model (:func:`capacity.projection.cube.history_from_district`);
births stay in units of their own (a zone's births, which teach no one), so every entry cohort is shared among the
schools by the moves model. This module says so, refuses what the mode cannot carry, labels the projection's tables
by school (with the school's zone beside it) and gives the plan its demand by zone (docs/projection.md,
"School-level mode").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError


def check_school_mode(district) -> None:
    """Refuse the ``children`` table in the school-level mode: it replaces births by zone of residence in the entry
    cohort, and which school those children would choose is not in the data."""
    if len(district.children):
        raise ProjectionError(
            f"projection.unit: school projects enrolment by school, but the children table (children.csv, {len(district.children)} rows) "
            "gives entrants by zone of residence, and which school they would choose is not in the data; expected a district "
            "without a children table in the school-level mode, or project by zone (projection.unit: zone, or leave out --unit school)"
        )


def zone_axis(history) -> tuple[tuple[str, ...], np.ndarray]:
    """The zones of a school-level history, sorted, and the (zones, units) 0/1 matrix that sums units into them."""
    zones = tuple(sorted(set(history.unit_zone)))
    onto = np.zeros((len(zones), len(history.zones)))
    onto[[zones.index(z) for z in history.unit_zone], np.arange(len(history.zones))] = 1.0
    return zones, onto


def spread_to_schools(by_zone: np.ndarray, history, what: str, axis: tuple | None = None) -> np.ndarray:
    """Pupils given by zone (zones of :func:`zone_axis` x grades x years: new housing, net migration) shared among the
    schools of each zone by their share of the zone's pupils of the grade in the origin year, else (the zone's schools
    had none of that grade) of its stage among the zone's schools that teach the grade (of its stage among all the
    zone's schools where no school of the district teaches it); else among all schools by the same rules district-wide
    (else by their pupils of the stage, else equally), with a note naming the zones: a school never gets pupils of a
    grade it does not teach while another school teaches it. Returns (units, grades, years); district totals by grade and year unchanged.
    ``axis``: :func:`zone_axis` of the history where the caller already has it."""
    zones, onto = axis if axis is not None else zone_axis(history)
    out = np.zeros((len(history.zones), *by_zone.shape[1:]))
    if not by_zone.any():
        return out
    is_school = np.asarray(history.school_unit, dtype=float)[:, None]
    last = np.nan_to_num(history.pupils[:, :, -1]) * is_school  # (U, G)
    gs = history.grades
    stage_of = np.array([gs.stage_of_grade[g] for g in gs.grades])
    stage = last @ (stage_of[:, None] == stage_of[None, :]).astype(float)  # (U, G): the school's pupils of g's stage
    taught = (history.teaching > 0) if history.teaching is not None else np.ones_like(last, dtype=bool)
    nowhere = ~taught.any(0)  # (G,): grades no school of the district teaches (e.g. a grade the schools table leaves out)
    # the grade; its stage at schools teaching g; its stage where no school teaches g
    rules = (last, np.where(taught, stage, 0.0), np.where(nowhere[None, :], stage, 0.0))
    every_school = np.broadcast_to(is_school, last.shape)

    def shares(group: np.ndarray, last_rule: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
        """Weights (U, G) summing to 1 within each group (rows of ``group``: groups x units) and grade, and where found."""
        w, done = np.zeros_like(last), np.zeros((len(group), last.shape[1]), dtype=bool)
        of = group.argmax(0)
        for rule in (*rules, *last_rule):
            tot = group @ rule
            use = (tot > 0) & ~done
            w = np.where(use[of], rule / np.where(tot > 0, tot, 1.0)[of], w)
            done |= use
        return w, done

    w, done = shares(onto)
    out += w[:, :, None] * by_zone[onto.argmax(0)]
    gone = ~done & (by_zone.sum(-1) > 0)
    if gone.any():
        wide, _ = shares(np.ones((1, len(history.zones))), (stage, every_school))  # the last two: no school teaches g
        out += wide[:, :, None] * np.where(gone[:, :, None], by_zone, 0.0).sum(0)[None]
        from capacity.notes import note

        note(
            f"school-level mode: {what} in zone(s) {', '.join(zones[z] for z in sorted(set(np.argwhere(gone)[:, 0])))} is for "
            "grades none of the zone's schools teaches or had pupils of in the origin year; it is shared among all schools by "
            "their share of the grade district-wide"
        )
    return out


def school_mode_notes(district, projection) -> list[str]:
    """What the school-level mode decided, in planning language: the mode itself, each school with no enrolment
    history (a decided new school) with the pupils the moves model gives it, and each closed school that had pupils in
    the ratio window (its cohorts now go to the schools that teach their grades)."""
    from capacity.projection.ratios import window_start

    h = projection.history
    n_schools = sum(h.school_unit)
    births = [u for u, s in zip(h.zones, h.school_unit, strict=True) if not s]
    out = [
        f"projection.unit: school: each of the district's {n_schools} schools is projected as a unit of its own (the "
        "school-level mode, for districts where pupils choose among schools); "
        + (
            f"births stay in units of their own (one per zone: {len(births)}), which teach no one, so each entry cohort is shared among the schools "
            "that teach the entry grade by their past share of it (the moves model)"
            if births
            else "no births are recorded, so entry grades follow their entry rule in each school"
        )
        + "; tables give school_id with the school's zone_id beside it"
    ]
    past = np.nansum(h.pupils, axis=(1, 2))
    names = district.schools.set_index("school_id")["name"]
    for i, u in enumerate(h.zones):
        if not h.school_unit[i] or past[i] > 0 or not (h.teaching is not None and h.teaching[i].any()):
            continue
        got = projection.point[i].sum(0)
        first = int(np.flatnonzero(got > 0.5)[0]) if (got > 0.5).any() else -1
        what = (
            f"the moves model gives it pupils from {projection.years[first]} ({got[first]:,.0f} that year, {got[-1]:,.0f} in "
            f"{projection.years[-1]})"
            if first >= 0
            else "the school-level mode has no choice pattern to read for it, so it is projected with no pupils (its seats "
            "count as empty in the seat gap); a plan, which reads zones, may seat pupils there"
        )
        out.append(f"school '{u}' ({names.get(u, u)}, zone {h.unit_zone[i]}) has no pupils in the history: {what}")
    closed = set(district.schools.loc[district.schools["status"] == "closed", "school_id"])
    start = window_start(h, projection.settings.window)
    recent = np.nansum(h.pupils[:, :, start:], axis=1)  # (units, window years)
    for i, u in enumerate(h.zones):
        if u in closed and recent[i].sum() > 0:
            last = h.years[start + int(np.flatnonzero(recent[i] > 0)[-1])]
            out.append(
                f"school '{u}' ({names.get(u, u)}, zone {h.unit_zone[i]}) is closed; it had pupils until {last}, within the "
                f"ratio window ({h.years[start]}-{h.years[-1]}): it teaches no one in the projection, and the cohorts that "
                "would have continued there are shared among the schools that teach their grades, by their past share"
            )
    return out


def by_school(frame: pd.DataFrame, history) -> pd.DataFrame:
    """A projection table of the school-level mode labelled by school: ``zone_id`` (the unit) becomes ``school_id``
    and the school's ``zone_id`` stands beside it (ratios' ``zone_raw`` is ``school_raw``). Rows of a zone's births unit are left out when they hold no pupils
    (they teach no one); where they do (a grade no school teaches), they stay, with an empty school_id and a note."""
    if history.unit != "school" or "zone_id" not in frame:
        return frame
    zone_of = dict(zip(history.zones, history.unit_zone, strict=True))
    school = dict(zip(history.zones, history.school_unit, strict=True))
    is_school = frame["zone_id"].map(school).fillna(True).astype(bool)
    births_rows = frame[~is_school]
    kept = births_rows[births_rows["pupils"] > 0.5] if "pupils" in frame else births_rows.iloc[:0]
    if len(kept):
        from capacity.notes import note

        note(
            "school-level mode: pupils projected in zones' births units (no school teaches their grade: "
            + ", ".join(sorted(set(kept["zone_id"].astype(str))))
            + "): they stay in the tables with an empty school_id"
        )
    out = frame[is_school | frame.index.isin(kept.index)].copy()
    at = out.columns.get_loc("zone_id")
    units = out.pop("zone_id")
    out.insert(at, "school_id", np.where(units.map(school).fillna(True).astype(bool), units, ""))
    out.insert(at + 1, "zone_id", units.map(zone_of).fillna(units))
    return out.rename(columns={"zone_raw": "school_raw"}).reset_index(drop=True)  # ratios.csv: the school's own ratio


def school_levels(table: pd.DataFrame, history) -> pd.DataFrame:
    """A back-test table (column ``level``) of the school-level mode with its unit levels named by school (``zone`` ->
    ``school``, ``zone_stage`` -> ``school_stage``, ``zone_grade`` -> ``school_grade``: the units are schools), and a
    ``zone_id`` column of units as :func:`by_school` gives it. Unchanged for a history by zone."""
    if history.unit != "school":
        return table
    out = table.assign(level=table["level"].str.replace("zone", "school", regex=False)) if "level" in table else table
    return by_school(out, history)


def by_zone(projection):
    """The projection with each school's pupils (every draw) summed into its zone: the demand a plan reads, which is
    pupils by zone. Unchanged for a projection by zone (or one already summed). In the school-level mode a note says
    what this means."""
    h = projection.history
    if h.unit != "school" or projection.zones != h.zones:
        return projection
    from capacity.notes import note

    zones, onto = zone_axis(h)
    point = np.einsum("zu,ugt->zgt", onto, projection.point)
    draws = np.einsum("zu,ugtd->zgtd", onto, projection.draws).astype(projection.draws.dtype)
    note(
        "school-level mode: the plan's demand is pupils by zone, so each school's projected pupils are placed in the "
        "school's zone as its demand (pupils counted where they are taught, not where they live); the plan then seats "
        "them under its reach rules (travel limits, cross-zone moves), so it may reassign pupils between schools: it "
        "does not keep the choices of the school-level projection"
    )
    return replace(projection, zones=zones, point=point, draws=draws)
