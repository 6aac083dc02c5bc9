"""Mergers (closures) and re-openings of a plan, derived from the plan's ``schools`` status by
year and its ``assignment`` table; a ``closures`` table (school_id, year, event), when the plan
has one, gives the events directly."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "year",
    "event",
    "school_id",
    "name",
    "zone_id",
    "pupils_before",
    "receiving_school_id",
    "receiving_name",
    "pupils_moved",
    "distance_km",
    "travel_km",
    "boarders",
]


def status_events(schools: pd.DataFrame) -> pd.DataFrame:
    """school_id, year, event (close / reopen) from status by year: a school closed in the
    first planned year closes then; every closed -> open step is a re-opening."""
    s = schools[schools["status"].isin(["open", "closed"])].sort_values(["school_id", "year"])
    closed = s["status"].eq("closed")
    prev = closed.groupby(s["school_id"]).shift(1)
    first = prev.isna()
    close = closed & (first | prev.eq(False))
    reopen = ~closed & prev.eq(True)
    ev = pd.concat([s[close].assign(event="close"), s[reopen].assign(event="reopen")])
    return ev[["school_id", "year", "event"]].sort_values(["year", "school_id"]).reset_index(drop=True)


def merger_table(plan_tables: dict[str, pd.DataFrame], district) -> pd.DataFrame:
    """One row per closure and receiving school, and one per re-opening.

    pupils_before: the school's pupils in the last year before it closes that it had any (the
    recorded pupils when it closes in the first planned year or was emptied from the start).
    Receiving schools: where the pupils whose home school is the closed one are taught that
    year (``assignment.home_school_id``). Plan tables written before that column existed fall
    back to the zone's moved pupils in the school's grades, shared among the zone's closures
    of the year in proportion to their pupils_before.
    distance_km: straight line between the two schools; travel_km: the plan's pupil-weighted
    travel distance of the moved pupils (the bus or walking km the plan costs); boarders: of them.
    """
    schools, a = plan_tables["schools"], plan_tables["assignment"]
    if "closures" in plan_tables and len(plan_tables["closures"]):
        ev = plan_tables["closures"]
        ev = ev[ev["event"].isin(["close", "reopen"])][["school_id", "year", "event"]]
    else:
        ev = status_events(schools)
    if not len(ev):
        return pd.DataFrame(columns=COLUMNS)
    info = district.schools.set_index("school_id")
    pupils = schools.set_index(["school_id", "year"])["pupils"]
    last = district.enrolment[district.enrolment["year"] == district.last_year].groupby("school_id")["pupils"].sum()
    first_year = int(schools["year"].min())

    def before(sid: str, y: int) -> float:
        """Pupils in the last year before ``y`` the school had any (a plan may empty it first)."""
        had = [float(pupils.get((sid, t), 0.0)) for t in range(first_year, y)]
        had = [p for p in had if p > 1e-6]
        return had[-1] if had else float(last.get(sid, 0.0))

    ev = ev.assign(zone_id=ev["school_id"].map(info["zone_id"]), name=ev["school_id"].map(info["name"]))
    ev["pupils_before"] = [before(s, int(y)) for s, y in zip(ev["school_id"], ev["year"], strict=True)]
    rows = []
    moved = a[a["moved"] > 0].assign(pkm=lambda f: f["moved"] * f["km"])
    closing = ev[ev["event"] == "close"]
    share_base = closing.groupby(["year", "zone_id"])["pupils_before"].sum()
    for r in ev.itertuples(index=False):
        base = [r.year, r.event, r.school_id, r.name, r.zone_id, r.pupils_before]
        if r.event == "reopen":
            rows.append([*base, "", "", 0.0, np.nan, np.nan, 0.0])
            continue
        tot = share_base.get((r.year, r.zone_id), 0.0)
        share = (
            r.pupils_before / tot if tot > 0 else 1.0 / max(1, int((closing["year"].eq(r.year) & closing["zone_id"].eq(r.zone_id)).sum()))
        )
        if "home_school_id" in moved:  # exact: the pupils whose home school is the closed one
            share = 1.0
            m = moved[(moved["year"] == r.year) & (moved["home_school_id"] == r.school_id) & (moved["school_id"] != r.school_id)]
        else:  # older plan tables without home schools: the zone's moved pupils in the school's grades
            grades = district.grades.grades_between(info.at[r.school_id, "first_grade"], info.at[r.school_id, "last_grade"])
            m = moved[
                (moved["year"] == r.year)
                & (moved["zone_id"] == r.zone_id)
                & (moved["school_id"] != r.school_id)
                & moved["grade"].isin(grades)
            ]
        g = m.groupby("school_id", as_index=False)[["moved", "pkm", "boarders"]].sum()
        total = g["moved"].sum() * share
        if not len(g) or total <= 0:
            rows.append([*base, "", "", 0.0, np.nan, np.nan, 0.0])
            continue
        # zone approximation: never more pupils than the school had (the rest of the zone's moves have other causes)
        f = 1.0 if "home_school_id" in moved else share * min(1.0, r.pupils_before / total)
        xy = info[["x_km", "y_km"]]
        for q in g.itertuples(index=False):
            dist = float(np.hypot(*(xy.loc[r.school_id].to_numpy(dtype=float) - xy.loc[q.school_id].to_numpy(dtype=float))))
            rows.append([*base, q.school_id, info.at[q.school_id, "name"], q.moved * f, dist, q.pkm / q.moved, q.boarders * f])
    out = pd.DataFrame(rows, columns=COLUMNS)
    _note_projected_away(out, district)
    return out


def _note_projected_away(mergers: pd.DataFrame, district) -> None:
    """Note each decided closure (schools closed_from) the table shows with no pupil moved: from its year no school of
    its zone teaches its grades (in the school-level mode, the school is its own unit), so the projection already counts
    its pupils where those grades are taught (capacity/projection/closures.py) and the plan moves none. The note names
    the schools (and zones) teaching its grades that year."""
    closes = district.decided_closures
    if not len(closes) or not len(mergers):
        return
    moved = mergers[mergers["event"].eq("close")].groupby(["school_id", "year"])["pupils_moved"].sum()
    sg = district.school_grades()
    info = district.schools.set_index("school_id")
    from capacity.notes import note

    for (sid, year), total in moved.items():
        if sid not in closes.index or int(closes[sid]) != int(year) or total > 0:
            continue
        grades = list(sg.loc[sg["school_id"].eq(sid), "grade"])
        open_then = [
            s
            for s in dict.fromkeys(sg.loc[sg["grade"].isin(grades) & sg["school_id"].ne(sid), "school_id"])
            if info.at[s, "status"] != "closed" and not (s in closes.index and closes[s] <= year)
        ]
        where = ", ".join(f"{s} (zone {info.at[s, 'zone_id']})" for s in sorted(open_then)) or "no school (no school teaches them then)"
        zone = info.at[sid, "zone_id"]
        same_zone = sorted(s for s in open_then if info.at[s, "zone_id"] == zone and info.at[s, "status"] == "open")
        if same_zone:  # its zone still teaches the grades: no pupil has it as home school (no pupils on its last roll)
            note(
                f"mergers: school {sid} closes from {int(year)} (decided, schools.csv closed_from) and the table shows 0 pupils moved: "
                f"no pupil has it as home school then; its zone {zone} still teaches {', '.join(grades)} at {', '.join(same_zone)} "
                "(a school with no pupils in the last history year has no home-school share; in the school-level mode each school "
                f"is its own unit and the projection already counts its pupils where those grades are taught, at {where})"
            )
            continue
        note(
            f"mergers: school {sid} closes from {int(year)} (decided, schools.csv closed_from) and the table shows 0 pupils moved: "
            f"from {int(year)} no school of its zone {zone} teaches {', '.join(grades)} (in the school-level mode "
            "each school is its own unit), so the projection already counts its pupils where those grades are taught, at "
            f"{where}, and the plan moves none"
        )
