"""Seats: classrooms x the standard class size of the grade each room serves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.grades import GradeSystem
from capacity.standards import DEFAULT_RATED_TOLERANCE, room_seats, stage_room_size, standard_size


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


def rated_capacity(district, class_size: dict[str, int], tolerance: float) -> pd.DataFrame:
    """Schools that state a rated ``capacity``: the seats the gap and the plan use, checked against classrooms.

    Rule (docs/data-format.md, "Rated capacity"): a school's room seats are the mean standard
    class size over the grades it teaches (its own ``class_size`` where given). When it also gives
    classrooms, capacity must lie within ``tolerance`` of classrooms x room seats: beyond it the
    input is refused, within it the rated capacity is used and a difference is noted. The plan
    counts max(classrooms, ceil(capacity / room seats)) rooms for its classes and holds the school's
    pupils to capacity + room seats x rooms added (builds and decided projects).

    Returns
    -------
    DataFrame
        index school_id; capacity (seats), room_seats (seats per classroom), rooms (classrooms the
        plan counts). Open and closed schools with a capacity only.

    Raises
    ------
    InputError
        A capacity that differs from classrooms x room seats by more than ``tolerance``.
    """
    from capacity.errors import InputError, Problem
    from capacity.notes import note

    s = district.schools
    s = s[s["capacity"].notna()] if "capacity" in s else s.iloc[:0]
    rows, problems = [], []
    for r in s.itertuples(index=False) if len(s) else ():  # itertuples makes a namedtuple class even for no rows
        grades = district.grades.grades_between(r.first_grade, r.last_grade)
        own = r.class_size if r.class_size == r.class_size else None
        per_room = float(np.mean([own if own is not None else standard_size(class_size, g, district.grades) for g in grades]))
        implied = r.classrooms * per_room
        if r.classrooms > 0 and abs(r.capacity - implied) > tolerance * implied + 1e-9:
            problems.append(
                Problem(
                    table_label(district.source, "schools"),
                    district.school_rows.get(r.school_id),
                    "capacity",
                    f"capacity {r.capacity:g} at '{r.school_id}', but its {r.classrooms} classrooms x {per_room:g} seats = {implied:g} "
                    f"(differs by {abs(r.capacity - implied) / implied:.0%})",
                    f"capacity within {tolerance:.0%} of classrooms x room seats (the tolerance is the scenario setting "
                    "standards.rated_capacity_tolerance), or the classrooms cell blank",
                )
            )
        elif r.classrooms > 0 and abs(r.capacity - implied) > 1e-9:
            note(
                f"schools: '{r.school_id}' states capacity {r.capacity:g} seats and {r.classrooms} classrooms x {per_room:g} = {implied:g}; "
                f"the seat gap and the plan use the rated {r.capacity:g}"
            )
        rooms = max(int(r.classrooms), int(np.ceil(r.capacity / per_room - 1e-9)))
        rows.append((r.school_id, float(r.capacity), per_room, rooms))
    if problems:
        raise InputError(problems, district.source)
    return pd.DataFrame(rows, columns=["school_id", "capacity", "room_seats", "rooms"]).set_index("school_id")


def table_label(source: str, table: str) -> str:
    """How messages name a table of a district read from ``source``: ``schools.csv`` or ``book.xlsx[schools]``."""
    from pathlib import Path

    p = Path(source)
    return f"{p.name}[{table}]" if p.suffix.lower() in (".xlsx", ".xlsm") else f"{table}.csv"


def seat_table(district, class_size: dict[str, int], years: tuple[int, ...], tolerance: float = DEFAULT_RATED_TOLERANCE) -> pd.DataFrame:
    """Seats per school, stage and year: existing rooms plus decided projects from their completion year.

    A school with a rated ``capacity`` has that many seats (:func:`rated_capacity`), shared over its
    grades in proportion to their room seats (its grades' standard class sizes when it gives no
    classrooms); its classrooms are then the equivalent rooms, seats / standard size.

    Returns
    -------
    DataFrame
        year, school_id, zone_id, stage, classrooms, seats. A project stated in seats keeps
        its stated seats; one stated in classrooms adds classrooms x the stage's room size. A school
        with a decided closure (``closed_from``) has no rows from that year.
    """
    gr = grade_rooms(district)
    override = district.schools.set_index("school_id")["class_size"]
    std = np.asarray(
        [
            int(override[s]) if override[s] == override[s] else standard_size(class_size, g, district.grades)
            for s, g in zip(gr["school_id"], gr["grade"], strict=True)
        ],
        dtype=float,
    )
    gr = gr.assign(seats=gr["rooms"] * std)
    rated = rated_capacity(district, class_size, tolerance)["capacity"]
    if len(rated):
        has = gr["school_id"].isin(rated.index).to_numpy()
        total = gr.groupby("school_id")["seats"].transform("sum").to_numpy()
        weight = np.where(total > 0, gr["seats"].to_numpy(), std)
        wsum = pd.Series(weight).groupby(gr["school_id"].to_numpy()).transform("sum").to_numpy()
        seats = gr["school_id"].map(rated).to_numpy(dtype=float) * weight / np.where(wsum > 0, wsum, 1.0)
        gr["seats"] = np.where(has, seats, gr["seats"])
        gr["rooms"] = np.where(has, gr["seats"] / std, gr["rooms"])
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
    # a decided closure (schools closed_from): no seats from its year
    out = out[~out["school_id"].map(district.decided_closures).le(out["year"])]
    order = {s: i for i, s in enumerate(district.grades.stage_names)}
    return out.sort_values(["year", "school_id", "stage"], key=lambda c: c.map(order) if c.name == "stage" else c).reset_index(drop=True)[
        ["year", "school_id", "zone_id", "stage", "classrooms", "seats"]
    ]


def school_rooms(seats: pd.DataFrame) -> pd.DataFrame:
    """Whole classrooms per school and year from a :func:`seat_table` (year, school_id, classrooms);
    a rated school's are its equivalent rooms, seats / standard size."""
    rooms = seats.groupby(["year", "school_id"], as_index=False)["classrooms"].sum()
    rooms["classrooms"] = rooms["classrooms"].round().astype(int)
    return rooms
