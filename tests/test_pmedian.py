"""Assignment as planners draw it: ``plan.open_exactly`` (a p-median check against OR-Library's
published optima, fed through the public district format) and ``plan.zone_whole`` (hand-computed).

The p-median mapping: every graph vertex is a zone with 1 pupil of one grade and a candidate
school site (no opening, class or school-year cost, room for everyone); the travel table holds the
all-pairs shortest-path distances (Floyd-Warshall); travel costs 1 per pupil-km and one year is
planned; the settings come from a scenario file. The plan's objective is then
sum_v min_{open m} d(v, m), the p-median objective. (Demand is the district's own ``demand`` table:
no enrolment history, no births, nothing invented.)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import validation_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import shortest_path

from capacity.data import load_district
from capacity.errors import ScenarioError
from capacity.grades import CHINA
from capacity.plan import plan_district
from capacity.plan.settings import PlanSettings
from capacity.scenario import load_scenario

GRADE = CHINA.stage_by_name["primary"].grades[0]
STAGE = CHINA.stage_of_grade[GRADE]


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path distances of an OR-Library pmed graph, and p (a repeated edge: the last one applies)."""
    lines = path.read_text().split("\n")
    n, _m, p = (int(v) for v in lines[0].split())
    cost = {}
    for line in lines[1:]:
        if line.strip():
            i, j, c = (int(v) for v in line.split())
            cost[min(i, j), max(i, j)] = c
    w = np.full((n, n), np.inf)
    for (i, j), c in cost.items():
        w[i - 1, j - 1] = w[j - 1, i - 1] = c
    np.fill_diagonal(w, 0.0)
    return shortest_path(w, method="FW", directed=False), p


def write_siting_district(folder: Path, km: np.ndarray, pupils: list[float] | None = None, rooms: int = 10) -> None:
    """A district folder in the public format: zone i with a candidate site s_i at every vertex,
    ``travel.csv`` = ``km``, ``demand.csv`` = pupils of one grade per zone in one year; no enrolment
    history and no births (the district's demand table is what the plan serves)."""
    n = len(km)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"v{i + 1:03d}" for i in range(n)]
    pd.DataFrame({"zone_id": ids, "name": ids, "kind": "urban", "x_km": 0.0, "y_km": 0.0}).to_csv(folder / "zones.csv", index=False)
    pd.DataFrame(
        {
            "school_id": [f"s{z}" for z in ids],
            "name": [f"site {z}" for z in ids],
            "zone_id": ids,
            "first_grade": GRADE,
            "last_grade": GRADE,
            "classrooms": 0,
            "max_classrooms": rooms,
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": "candidate",
            "opening_cost": 0,
        }
    ).to_csv(folder / "schools.csv", index=False)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    pd.DataFrame({"zone_id": np.array(ids)[ii.ravel()], "school_id": [f"s{ids[j]}" for j in jj.ravel()], "km": km.ravel()}).to_csv(
        folder / "travel.csv", index=False
    )
    pd.DataFrame({"year": 2025, "zone_id": ids, "grade": GRADE, "pupils": pupils if pupils is not None else 1}).to_csv(
        folder / "demand.csv", index=False
    )


def siting_settings(**kw) -> PlanSettings:
    """Costs that make the plan's objective the pupil-km sum: 1 per pupil-km, nothing else. Threads stay
    at the default: HiGHS keeps one thread pool per process, and a solve with another thread count after
    it fails ("Not Set"), which would break later tests in the same process."""
    far = {s: 10_000.0 for s in CHINA.stage_names}
    base = dict(
        travel_km=far,
        boarding_km={s: 0.0 for s in CHINA.stage_names},
        cost_per_pupil_km_year=1.0,
        cost_per_school_year=0.0,
        new_school_fixed_cost=0.0,
        new_school_lead_years=0,
        cost_per_class_year={s: 0.0 for s in CHINA.stage_names},
        cost_per_moved_pupil_year=0.0,
        integer_classes=False,
        mip_gap=0.0,
        strategy="direct",
    )
    base.update(kw)
    return PlanSettings(**base)


def siting_scenario(folder: Path, p: int) -> Path:
    """The same costs as ``siting_settings`` as a scenario file, plus ``plan.open_exactly: p``."""
    far = "{" + ", ".join(f"{s}: 10000" for s in CHINA.stage_names) + "}"
    zero = "{" + ", ".join(f"{s}: 0" for s in CHINA.stage_names) + "}"
    text = (
        f"district: {folder}\nhorizon: 1\nplan:\n  open_exactly: {p}\n  travel_km: {far}\n  boarding_km: {zero}\n"
        f"  cost_per_class_year: {zero}\n  cost_per_pupil_km_year: 1\n  cost_per_school_year: 0\n  new_school_fixed_cost: 0\n"
        "  new_school_lead_years: 0\n  cost_per_moved_pupil_year: 0\n  integer_classes: false\n  mip_gap: 0\n"
        "  strategy: direct\n"
    )
    path = folder.parent / f"{folder.name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.validation
@pytest.mark.parametrize("instance", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_open_exactly_matches_orlib_pmedian_optimum(instance, tmp_path):
    folder = validation_dir("orlib_pmed")
    opt = pd.read_csv(folder / "optimal.csv").set_index("instance").at[instance, "optimal_value"]
    km, p = read_pmed(folder / f"{instance}.txt")
    write_siting_district(tmp_path / instance, km)
    scenario = load_scenario(siting_scenario(tmp_path / instance, p))
    district = load_district(scenario.district_path)
    t0 = time.perf_counter()
    plan = plan_district(district, district.demand, scenario.plan)
    elapsed = time.perf_counter() - t0
    assert plan.summary["status"] == "optimal"
    assert plan.summary["objective"] == pytest.approx(opt, abs=1e-6), f"{instance}: {plan.summary['objective']} vs {opt} ({elapsed:.1f}s)"
    opened = plan.tables["builds"]
    assert (opened["kind"] == "new school").sum() == p
    a = plan.tables["assignment"]
    assert a["pupils"].sum() == pytest.approx(len(km))
    # the reported pupil-km is the objective: each pupil at its nearest open site
    sites = [int(s[2:]) - 1 for s in opened.loc[opened["kind"] == "new school", "school_id"]]
    assert km[:, sites].min(axis=1).sum() == pytest.approx(opt)


@pytest.mark.validation
def test_zone_whole_keeps_the_pmedian_optimum(tmp_path):
    """Uncapacitated, every zone goes whole to its nearest open site anyway: same optimum."""
    folder = validation_dir("orlib_pmed")
    km, p = read_pmed(folder / "pmed1.txt")
    write_siting_district(tmp_path / "pmed1", km)
    plan = plan_district(
        load_district(tmp_path / "pmed1"), load_district(tmp_path / "pmed1").demand, siting_settings(open_exactly=p, zone_whole=True)
    )
    assert plan.summary["objective"] == pytest.approx(5819, abs=1e-6)


def two_zone_district(tmp_path: Path) -> Path:
    """Zone v001 (15 pupils) with site sv001 (1 room of 10), zone v002 (5 pupils) with site sv002
    (2 rooms of 10); v001-sv002 4 km, v002-sv001 3 km."""
    km = np.array([[0.0, 4.0], [3.0, 0.0]])
    folder = tmp_path / "two"
    write_siting_district(folder, km, pupils=[15, 5])
    s = pd.read_csv(folder / "schools.csv")
    s["max_classrooms"] = [1, 2]
    s["class_size"] = 10
    s.to_csv(folder / "schools.csv", index=False)
    return folder


def test_zone_whole_hand_computed(tmp_path):
    """Free: v001 splits, 10 at its own site and 5 at sv002 (5 x 4 = 20 pupil-km). Whole: v001 can
    only go whole to sv002 (15 x 4 = 60), v002 stays at sv002 (0): 60."""
    folder = two_zone_district(tmp_path)
    district, demand = load_district(folder), load_district(folder).demand
    free = plan_district(district, demand, siting_settings())
    whole = plan_district(district, demand, siting_settings(zone_whole=True))
    assert free.summary["objective"] == pytest.approx(20.0)
    a = free.tables["assignment"]
    assert sorted(a.loc[a["zone_id"] == "v001", "pupils"]) == pytest.approx([5.0, 10.0])
    assert whole.summary["objective"] == pytest.approx(60.0)
    assert whole.summary["unmet_pupil_years"] == pytest.approx(0.0)
    w = whole.tables["assignment"]
    assert w.groupby("zone_id")["school_id"].nunique().eq(1).all()
    assert set(w["school_id"]) == {"sv002"}


def test_open_exactly_refuses_an_impossible_count(tmp_path):
    folder = two_zone_district(tmp_path)
    with pytest.raises(ScenarioError, match=r"plan\.open_exactly: found 3; expected .* from 0 .* to 2"):
        plan_district(load_district(folder), load_district(folder).demand, siting_settings(open_exactly=3))


def test_open_exactly_one_site(tmp_path):
    """p = 1: only sv002 holds all 20 pupils; v001's 15 travel 4 km: 60."""
    folder = two_zone_district(tmp_path)
    plan = plan_district(load_district(folder), load_district(folder).demand, siting_settings(open_exactly=1))
    assert plan.summary["objective"] == pytest.approx(60.0)
    assert list(plan.tables["builds"]["school_id"]) == ["sv002"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_open_exactly_setting_checked(bad):
    with pytest.raises(ScenarioError, match="plan.open_exactly"):
        PlanSettings(open_exactly=bad)


@settings(max_examples=3, deadline=None)
@given(
    pupils=st.lists(st.lists(st.integers(0, 60), min_size=2, max_size=2), min_size=3, max_size=4),
    rooms=st.lists(st.integers(0, 2), min_size=3, max_size=3),
    seed=st.integers(0, 10_000),
)
def test_zone_whole_and_open_exactly_never_cost_less_than_the_free_plan(tmp_path_factory, pupils, rooms, seed):
    """Metamorphic, on random two-year districts (decompose strategy, whole classes): keeping zones
    whole or fixing the number of open schools only restricts the plan, so it never costs less;
    zone-whole plans send each zone's pupils to one school a year; the invariants hold; the
    reported costs sum to the objective."""
    from plan_checks import check_plan_invariants, costs_sum_to_objective, hand_settings, p1_demand, write_district

    rng = np.random.default_rng(seed)
    zones = [(f"Z{i}", float(x), float(y)) for i, (x, y) in enumerate(rng.uniform(0, 4, (len(pupils), 2)))]
    schools = [
        dict(school_id=f"S{j}", zone_id=zones[j % len(zones)][0], classrooms=r, max_classrooms=3, x_km=zones[j % len(zones)][1], y_km=0.0)
        for j, r in enumerate(rooms)
    ]
    schools.append(dict(school_id="C0", zone_id="Z0", classrooms=0, max_classrooms=3, x_km=2.0, y_km=2.0, status="candidate"))
    folder = write_district(tmp_path_factory.mktemp("d"), zones, schools, {f"S{j}": 20 for j in range(len(rooms))})
    district = load_district(folder)
    demand = p1_demand({z[0]: v for z, v in zip(zones, pupils, strict=True)})
    base = dict(cost_per_pupil_km_year=10.0, new_school_lead_years=0, travel_km={s: 10.0 for s in CHINA.stage_names}, unmet_penalty=1e5)
    free = plan_district(district, demand, hand_settings(**base))
    whole = plan_district(district, demand, hand_settings(**base, zone_whole=True))
    p = int(rng.integers(len(rooms), len(rooms) + 2))  # every open school (none may close) plus 0 or 1 new site
    exact = plan_district(district, demand, hand_settings(**base, open_exactly=p))
    for r in (free, whole, exact):
        check_plan_invariants(r, demand)
        costs_sum_to_objective(r)
    tol = 1e-6 * max(1.0, free.summary["objective"])
    assert whole.summary["objective"] >= free.summary["objective"] - tol
    assert exact.summary["objective"] >= free.summary["objective"] - tol
    a = whole.tables["assignment"]
    assert a.groupby(["year", "zone_id"])["school_id"].nunique().le(1).all()
    s = exact.tables["schools"]
    assert s[s["status"].isin(["open", "new"])].groupby("year").size().eq(p).all()
