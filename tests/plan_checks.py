"""One invariant checker shared by every plan test."""

from __future__ import annotations

import numpy as np
import pandas as pd

TOL = 1e-5


def check_plan_invariants(result, demand: pd.DataFrame) -> None:
    """Assert every invariant of a solved plan.

    Every pupil assigned or reported unmet; no class above its cap; classes within
    classrooms; no assignment beyond reach; no pupils at closed or unopened schools;
    boarders within beds; budgets held; closure events match status changes, closures last
    ``min_years_closed`` years, disposed schools never re-open.
    """
    t, data, s = result.tables, result.data, result.settings
    a, un, cl, sch, b = t["assignment"], t["unmet"], t["classes"], t["schools"], t["builds"]
    # conservation by zone, grade and year
    dem = demand[demand.pupils > 0].groupby(["year", "zone_id", "grade"])["pupils"].sum()
    got = (
        a.groupby(["year", "zone_id", "grade"])["pupils"].sum().add(un.groupby(["year", "zone_id", "grade"])["pupils"].sum(), fill_value=0)
    )
    got = got.reindex(dem.index, fill_value=0)
    np.testing.assert_allclose(got.to_numpy(), dem.to_numpy(), rtol=1e-6, atol=1e-4)
    # class sizes within caps; classes whole
    assert (cl["pupils"] <= cl["cap"] * cl["classes"] + TOL).all()
    if s.integer_classes:
        assert np.allclose(cl["classes"], np.round(cl["classes"]))
        assert (cl["max_class_size"].fillna(0) <= cl["cap"]).all()
    # classes within classrooms
    per = cl.groupby(["school_id", "year"])["classes"].sum()
    rooms = sch.set_index(["school_id", "year"])["classrooms"]
    assert (per <= rooms.reindex(per.index) + TOL).all()
    # within reach: every used (zone, school, grade, year) exists among the arcs
    arcs = data.arcs.merge(data.nodes[["node", "zone_id"]], on="node")
    reach = set(zip(arcs.zone_id, arcs.school_id, arcs.grade, arcs.year, strict=True))
    used = set(zip(a.zone_id, a.school_id, a.grade, a.year, strict=True))
    assert used <= reach
    # nobody at closed or unopened schools
    shut = sch[sch.status.isin(["closed", "not opened"])][["school_id", "year"]]
    bad = a.merge(shut, on=["school_id", "year"])
    assert bad["pupils"].sum() < TOL
    # boarders within beds
    beds = data.schools["beds"]
    brd = a.groupby(["school_id", "year"])["boarders"].sum()
    for (sid, _y), v in brd.items():
        assert v <= beds[sid] + TOL
    # builds within site limits and budgets
    if len(b):
        ext = b[b.kind == "extend"].groupby("school_id")["classrooms"].sum()
        for sid, k in ext.items():
            assert data.schools.at[sid, "rooms0"] + k <= max(data.schools.at[sid, "max_rooms"], data.schools.at[sid, "rooms0"])
        per_year = b.groupby("year")["cost"].sum()
        if s.budget_per_year is not None:
            assert (per_year <= s.budget_per_year + 1e-6).all()
        if s.budget_total is not None:
            assert per_year.sum() <= s.budget_total + 1e-6
    # closure events follow the status of each school; closures last long enough; disposed schools stay shut
    if "closures" in t:
        ev = t["closures"]
        st = sch.sort_values("year").groupby("school_id")["status"].apply(list)
        years = sorted(data.years)
        expect = []
        for sid, seq in st.items():
            prev = "open"
            for y, now in zip(years, seq, strict=True):
                if now in ("open", "closed") and now != prev:
                    expect.append((sid, y, "close" if now == "closed" else "reopen"))
                prev = now if now in ("open", "closed") else prev
        got = sorted((r.school_id, int(r.year), r.event) for r in ev.itertuples(index=False) if r.event != "dispose")
        assert got == sorted(expect), (got, expect)
        for r in ev[ev["event"] == "reopen"].itertuples(index=False):
            shut = ev[(ev["school_id"] == r.school_id) & (ev["event"] == "close") & (ev["year"] < r.year)]["year"].max()
            assert r.year - shut >= s.min_years_closed and s.allow_reopening
        for r in ev[ev["event"] == "dispose"].itertuples(index=False):
            later = sch[(sch["school_id"] == r.school_id) & (sch["year"] >= r.year)]
            assert (later["status"] == "closed").all()
    # school size caps
    if s.school_size_from is not None:
        big = sch[(sch.year >= s.school_size_from)].set_index("school_id")
        caps = data.schools["size_cap"]
        assert (big["pupils"] <= big.index.map(caps) + TOL).all()


STAGES = ("kindergarten", "primary", "junior", "senior")


def write_district(
    folder, zones: list[tuple], schools: list[dict], enrol: dict[str, int], projects: list[dict] | None = None, stage_rooms=None
):
    """Write a tiny district in the public CSV format and return its folder.

    zones: (zone_id, x_km, y_km); schools: rows of schools.csv (P1-only public open schools by
    default); enrol: last-year (2025) P1 pupils per school.
    """
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([(z, z.lower(), "town", x, y) for z, x, y in zones], columns=["zone_id", "name", "kind", "x_km", "y_km"]).to_csv(
        folder / "zones.csv", index=False
    )
    base = {"first_grade": "P1", "last_grade": "P1", "sector": "public", "status": "open", "boarding_beds": 0, "can_close": "false"}
    rows = [{**base, "name": s["school_id"].lower(), **s} for s in schools]
    pd.DataFrame(rows).to_csv(folder / "schools.csv", index=False)
    pd.DataFrame([(2025, s, "P1", n) for s, n in enrol.items()], columns=["year", "school_id", "grade", "pupils"]).to_csv(
        folder / "enrolment.csv", index=False
    )
    pd.DataFrame([(2019, z[0], 50) for z in zones], columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    if projects:
        cols = ["project_id", "school_id", "completion_year", "classrooms", "seats", "cost", "stage"]
        pd.DataFrame(projects).reindex(columns=cols).to_csv(folder / "projects.csv", index=False)
    if stage_rooms:
        pd.DataFrame(stage_rooms, columns=["school_id", "stage", "classrooms"]).to_csv(folder / "stage_rooms.csv", index=False)
    return folder


def hand_settings(**kw):
    """Plan settings for hand-solved cases: every cost 0 except those a test names (classes 100 a year,
    classrooms 1,000, unmet 1e6), distances as the crow flies, no lead, proven optimum (gap 0)."""
    from capacity.plan import PlanSettings
    from capacity.standards import Standards

    base = dict(
        detour_factor=1.0,
        build_lead_years=0,
        standards=Standards(cost_per_classroom={s: 1000.0 for s in STAGES}),
        cost_per_class_year={s: 100.0 for s in STAGES},
        cost_per_school_year=0.0,
        cost_per_pupil_km_year=0.0,
        cost_per_moved_pupil_year=0.0,
        cost_per_boarder_year=0.0,
        new_school_fixed_cost=0.0,
        unmet_penalty=1e6,
        mip_gap=0.0,
        time_limit_s=30.0,
    )
    base.update(kw)
    return PlanSettings(**base)


def p1_demand(zone_pupils: dict[str, list[float]], first_year: int = 2026) -> pd.DataFrame:
    """P1 demand: zone -> pupils per year from ``first_year``."""
    rows = [(first_year + i, z, "P1", float(v)) for z, vs in zone_pupils.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows, columns=["year", "zone_id", "grade", "pupils"])


def costs_sum_to_objective(result) -> None:
    """The cost table's discounted total equals the solver's objective."""
    total = result.tables["costs"]["discounted_cost"].sum()
    assert abs(total - result.summary["objective"]) <= 1e-6 * max(1.0, abs(total)), (total, result.summary["objective"])
