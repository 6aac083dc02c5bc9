"""Planning-language lines for pupils a plan leaves without a seat, saying why: no seats at
all; seats that exist only beyond the travel limit (with the nearest such school and its km);
or seats within reach that the plan leaves free (a time-limited plan that did not get there, or
another limit of the scenario)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.grades import grade_words
from capacity.plan.inputs import PlanData, node_school_km
from capacity.plan.settings import PlanSettings


def spare_seats(tables: dict[str, pd.DataFrame], data: PlanData) -> pd.DataFrame:
    """Seats left free per open school, grade and year: free classrooms x the grade's class cap,
    plus free places in the grade's classes. Returns school_id, grade, year, spare."""
    sch = tables["schools"]
    open_ = sch[sch["status"].isin(["open", "new"])][["school_id", "year", "classrooms"]]
    cl = tables["classes"]
    used = cl.groupby(["school_id", "year"], as_index=False)["classes"].sum().rename(columns={"classes": "used"})
    room = open_.merge(used, on=["school_id", "year"], how="left").fillna({"used": 0.0})
    room["free_rooms"] = (room["classrooms"] - room["used"]).clip(lower=0)
    caps = data.caps.merge(room[["school_id", "year", "free_rooms"]], on=["school_id", "year"])
    caps = caps.merge(cl[["school_id", "grade", "year", "pupils", "classes"]], on=["school_id", "grade", "year"], how="left").fillna(
        {"pupils": 0.0, "classes": 0.0}
    )
    caps["spare"] = caps["free_rooms"] * caps["cap"] + (caps["cap"] * caps["classes"] - caps["pupils"]).clip(lower=0)
    # A school with a rated capacity seats no more than it (plus the seats of rooms added), whatever its classes hold.
    rated = data.schools[["rated", "room_seats", "rooms0"]].dropna(subset=["rated"]).rename_axis("school_id").reset_index()
    seated = cl.groupby(["school_id", "year"])["pupils"].sum().rename("seated").reset_index()
    limit = room.merge(rated, on="school_id").merge(seated, on=["school_id", "year"], how="left")
    limit["left"] = (
        limit["rated"] + limit["room_seats"] * (limit["classrooms"] - limit["rooms0"]).clip(lower=0) - limit["seated"].fillna(0.0)
    )
    caps = caps.merge(limit[["school_id", "year", "left"]], on=["school_id", "year"], how="left")
    caps["spare"] = np.minimum(caps["spare"], caps["left"].fillna(np.inf).clip(lower=0))
    return caps[["school_id", "grade", "year", "spare"]]


def shortfall_messages(
    tables: dict[str, pd.DataFrame], data: PlanData, zones: pd.DataFrame, travel, settings: PlanSettings, tail: str, min_pupils: float = 0.5
) -> list[str]:
    """One line per zone, grade and year left short, naming the cause.

    ``tail`` qualifies a seat shortage ("even with every allowed build" for a proven optimum).
    """
    names = zones.set_index("zone_id")["name"]
    unmet = tables["unmet"]
    unmet = unmet[unmet["pupils"] >= min_pupils]
    if unmet.empty:
        return []
    spare = spare_seats(tables, data)
    spare = spare[spare["spare"] >= 1.0]
    km = node_school_km(data.nodes, data.schools, travel, settings)
    col = {s: j for j, s in enumerate(data.schools.index)}
    out = []
    for r in unmet.itertuples(index=False):
        g = grade_words(r.grade)  # "4 grade 1 pupils", not "4 1 pupils"
        place = f"zone {r.zone_id} ({names.get(r.zone_id, '')})"
        free = spare[(spare["grade"] == r.grade) & (spare["year"] == r.year)]
        rows = np.flatnonzero(data.nodes["zone_id"].to_numpy() == r.zone_id)
        if free.empty or not len(rows):
            out.append(f"{place} is short {r.pupils:,.0f} {g} seats in {r.year} {tail}: no school teaching {g} has a spare seat")
            continue
        dist = np.array([km[rows, col[s]].min() for s in free["school_id"]])
        stage = data.grades.stage_of_grade[r.grade]
        day, board = settings.travel_km[stage], settings.boarding_km[stage]
        beds = data.schools["beds"].reindex(free["school_id"]).to_numpy() > 0
        reach = (dist <= day + 1e-9) | (beds & (dist <= board + 1e-9))
        best = int(np.argmin(np.where(reach, dist, np.inf))) if reach.any() else int(np.argmin(dist))
        sid = free["school_id"].iloc[best]
        where = f"{sid} ({data.schools.at[sid, 'name']}, {free['spare'].iloc[best]:,.0f} spare {g} seats, {dist[best]:,.1f} km away)"
        if reach.any():
            why = (
                f"the plan stopped before seating them ({tail})"
                if not tail.startswith("even")
                else "another limit of the scenario keeps them from it (school size caps, max_moved, boarding beds, "
                "budgets or the class-size rules)"
            )
            out.append(f"{place} has {r.pupils:,.0f} {g} pupils without a seat in {r.year} although {where} is within reach: {why}")
            continue
        out.append(
            f"{place} has {r.pupils:,.0f} {g} pupils without a seat within reach in {r.year}: the nearest school with "
            f"spare {g} seats, {sid} ({data.schools.at[sid, 'name']}, {free['spare'].iloc[best]:,.0f} spare), is "
            f"{dist[best]:,.1f} km away; the {stage} travel limit is {day:g} km "
            f"(boarding {board:g} km where beds are free)"
        )
    return out
