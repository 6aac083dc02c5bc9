"""Seats: classrooms x the standard class size of the grade each room serves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.grades import GradeSystem
from capacity.standards import room_seats, stage_room_size, standard_size


def seats_from_rooms(rooms_by_stage: dict[str, float], class_size: dict[str, int], grades: GradeSystem) -> float:
    """Seats of classrooms given by stage (rooms of a stage serve its grades evenly).

    51 primary + 12 junior rooms at 45 / 50 = 51 x 45 + 12 x 50 = 2,895 seats.
    """
    return float(sum(n * stage_room_size(class_size, st, grades) for st, n in rooms_by_stage.items()))


def grade_rooms(district) -> pd.DataFrame:
    """Classrooms of every open school by grade (fractional where rooms are shared).

    Rooms given in ``stage_rooms`` serve that stage's grades evenly; otherwise a school's
    classrooms serve all its grades evenly.
    """
    s = district.schools[district.schools["status"] == "open"]
    gs = district.grades
    by_stage = district.stage_rooms.set_index(["school_id", "stage"])["classrooms"] if len(district.stage_rooms) else {}
    rows = []
    for r in s.itertuples(index=False):
        grades = gs.grades_between(r.first_grade, r.last_grade)
        known = {st: by_stage[(r.school_id, st)] for st in gs.stages_of(r.first_grade, r.last_grade) if (r.school_id, st) in by_stage}
        for g in grades:
            st = gs.stage_of_grade[g]
            if known:
                n_st = sum(1 for x in grades if gs.stage_of_grade[x] == st)
                rooms = known.get(st, 0) / n_st
            else:
                rooms = r.classrooms / len(grades)
            rows.append((r.school_id, r.zone_id, g, st, rooms))
    return pd.DataFrame(rows, columns=["school_id", "zone_id", "grade", "stage", "rooms"])


def seat_table(district, class_size: dict[str, int], years: tuple[int, ...]) -> pd.DataFrame:
    """Seats per school, stage and year: existing rooms plus decided projects from their completion year.

    Returns
    -------
    DataFrame
        year, school_id, zone_id, stage, classrooms, seats. A project stated in seats keeps
        its stated seats; one stated in classrooms adds classrooms x the stage's room size.
    """
    gr = grade_rooms(district)
    override = district.schools.set_index("school_id")["class_size"]
    std = [
        int(override[s]) if override[s] == override[s] else standard_size(class_size, g, district.grades)
        for s, g in zip(gr["school_id"], gr["grade"], strict=True)
    ]
    gr = gr.assign(seats=gr["rooms"] * np.asarray(std, dtype=float))
    base = gr.groupby(["school_id", "zone_id", "stage"], as_index=False)[["rooms", "seats"]].sum().rename(columns={"rooms": "classrooms"})
    frames = [base.assign(year=y) for y in years]
    out = pd.concat(frames, ignore_index=True)
    proj = district.projects
    if len(proj):
        sch = district.schools.set_index("school_id")
        rows = []
        for p in proj.itertuples(index=False):
            stage = p.stage if isinstance(p.stage, str) else district.grades.stage_of_grade[sch.at[p.school_id, "first_grade"]]
            rooms = 0.0 if p.classrooms != p.classrooms else float(p.classrooms)
            seats = float(p.seats) if p.seats == p.seats else rooms * room_seats(class_size, stage, district.grades, override[p.school_id])
            for y in years:
                if y >= p.completion_year:
                    rows.append((p.school_id, sch.at[p.school_id, "zone_id"], stage, rooms, seats, y))
        add = pd.DataFrame(rows, columns=["school_id", "zone_id", "stage", "classrooms", "seats", "year"])
        out = (
            pd.concat([out, add], ignore_index=True)
            .groupby(["year", "school_id", "zone_id", "stage"], as_index=False)[["classrooms", "seats"]]
            .sum()
        )
    order = {s: i for i, s in enumerate(district.grades.stage_names)}
    return out.sort_values(["year", "school_id", "stage"], key=lambda c: c.map(order) if c.name == "stage" else c).reset_index(drop=True)[
        ["year", "school_id", "zone_id", "stage", "classrooms", "seats"]
    ]
