"""One invariant checker shared by every plan test."""

from __future__ import annotations

import numpy as np
import pandas as pd

TOL = 1e-5


def check_plan_invariants(result, demand: pd.DataFrame) -> None:
    """Assert every invariant of a solved plan.

    Every pupil assigned or reported unmet; no class above its cap; classes within
    classrooms; no assignment beyond reach; no pupils at closed or unopened schools;
    boarders within beds; budgets held.
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
    # school size caps
    if s.school_size_from is not None:
        big = sch[(sch.year >= s.school_size_from)].set_index("school_id")
        caps = data.schools["size_cap"]
        assert (big["pupils"] <= big.index.map(caps) + TOL).all()
