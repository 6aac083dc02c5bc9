"""Decided closures in the projection: a zone left with no school teaching a grade sends its cohorts away.

The moves model (:mod:`capacity.projection.ratios`) holds one keep share per zone and grade for the whole horizon.
A decided closure (schools ``closed_from``) changes which zones teach a grade part-way: from the closing year a
zone whose every school teaching grade g has closed teaches no pupil of g, like a zone with no such school, and its
projected pupils of g go to the zones that still teach g, in proportion to their own projected pupils of g that year
(evenly where those have none). Pupils are conserved in every grade, year and draw.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def teaching_by_year(district, zones: tuple[str, ...], years: tuple[int, ...], teaching: np.ndarray, key: str = "zone_id") -> np.ndarray:
    """Schools teaching each grade in each zone and projected year (zones, grades, years): ``teaching`` (History)
    less the schools whose decided closure falls in or before the year. ``key``: the schools' column that names the
    projection's units (zone_id; school_id in the school-level mode, where each school is a unit)."""
    out = np.repeat(teaching[:, :, None], len(years), axis=2)
    closes = district.decided_closures
    if not len(closes):
        return out
    sg = district.school_grades()
    sg = sg[sg["school_id"].isin(closes.index)].merge(district.schools[["school_id", "zone_id"]], on="school_id")
    zi = {z: i for i, z in enumerate(zones)}
    sg = sg[sg[key].isin(zi)]
    for sid, unit, grade in zip(sg["school_id"], sg[key], sg["grade"], strict=True):
        t = np.asarray(years) >= closes[sid]
        out[zi[unit], district.grades.grade_index[grade], t] -= 1
    return out


def taught_until(stages, closes) -> dict[str, int]:
    """Stage -> the year from which no school teaches it: for each stage all of whose schools (``stages``: school_id,
    stage of the open and candidate schools) have a decided closure (``closes``: school_id -> closed_from), the last of
    those years. Stages some school teaches without a closure are left out."""
    year = stages["school_id"].map(closes)
    last, unclosed = year.groupby(stages["stage"]).max(), year.isna().groupby(stages["stage"]).any()
    return {str(st): int(y) for st, y in last.items() if not unclosed[st]}


def move_closed_zones(district, proj) -> tuple[object, list[str]]:
    """The projection (and a note per zone and grade moved) with each zone's pupils of a grade moved to the zones teaching it, in the years from the
    decided closure of the zone's last school of that grade (:func:`teaching_by_year`). Unchanged without closures,
    or when the history does not know its schools (demand years), or for a grade no zone teaches any more."""
    teaching = proj.history.teaching
    if teaching is None or not len(district.decided_closures):
        return proj, []
    school_mode = proj.history.unit == "school"
    now = teaching_by_year(district, proj.zones, proj.years, teaching, "school_id" if school_mode else "zone_id")
    lost = (teaching[:, :, None] > 0) & (now <= 0)
    by_zone: dict[tuple[int, int, bool], list[str]] = {}
    for z, g in zip(*np.nonzero(lost.any(-1)), strict=True):
        first = proj.years[int(np.argmax(lost[z, g]))]
        taken = bool((now[:, g, lost[z, g]] > 0).any())
        by_zone.setdefault((int(z), first, taken), []).append(proj.grades.grades[g])
    notes = [
        f"decided closure: school {proj.zones[z]} closes"
        + (
            f" from {first}; its pupils of {', '.join(grades)} are projected at the schools that teach them, by their pupils"
            if taken
            else f" from {first}, but no school teaches {', '.join(grades)} any more: its pupils of those grades stay with it"
        )
        if school_mode
        else f"decided closure: zone {proj.zones[z]} has no school teaching {', '.join(grades)} from {first}; its pupils of "
        + (
            "those grades are projected in the zones that teach them from then"
            if taken
            else "those grades stay in the zone (no zone teaches them)"
        )
        for (z, first, taken), grades in sorted(by_zone.items())
    ]
    if not lost.any():
        return proj, notes
    return replace(proj, point=_moved(proj.point, lost, now > 0), draws=_moved(proj.draws, lost, now > 0)), notes


def _moved(pupils: np.ndarray, lost: np.ndarray, taking: np.ndarray) -> np.ndarray:
    """Move pupils (zones, grades, years[, draws]) of the ``lost`` cells to the ``taking`` cells of the same grade and
    year, by the taking cells' pupils (evenly where they have none); a grade and year with no taking zone keeps its
    pupils."""
    extra = pupils.ndim - lost.ndim
    lost = lost.reshape(lost.shape + (1,) * extra)
    taking = taking.reshape(taking.shape + (1,) * extra) & ~lost
    any_taking = taking.any(0, keepdims=True)
    lost = lost & any_taking
    moved = np.where(lost, pupils, 0).sum(0, keepdims=True)
    base = np.where(taking, pupils, 0)
    total = base.sum(0, keepdims=True)
    n_taking = np.maximum(taking.sum(0, keepdims=True), 1)
    weight = np.where(total > 0, base / np.where(total > 0, total, 1), taking / n_taking)
    out = np.where(lost, 0, pupils) + moved * weight
    return out.astype(pupils.dtype)
