"""Pupils across zones, grades with no feeder, the housing stock: small districts written in the
public CSV format and read with load_district, with hand-computed answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.data import load_district
from capacity.grades import CHINA, US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, project_district
from capacity.projection.project import project_history
from capacity.standards import settings_for_system

G = {g: i for i, g in enumerate(CHINA.grades)}
FAST = {"draws": 10, "calibrate": False}


def write_district(
    folder: Path,
    schools: dict[str, tuple[str, str, str]],
    pupils,
    births: dict[str, float],
    years: range = range(2019, 2026),
    housing: list[tuple[str, int, int, str]] = (),
) -> Path:
    """A district folder in the public format.

    schools: school_id -> (zone_id, first_grade, last_grade); pupils: (school_id, grade, year) -> pupils
    (a callable); births: zone_id -> births every year from 1990 to the last history year.
    """
    folder.mkdir(parents=True, exist_ok=True)
    zones = sorted(set(births) | {z for z, _, _ in schools.values()})
    pd.DataFrame({"zone_id": zones, "name": zones, "kind": "town", "x_km": 0.0, "y_km": 0.0}).to_csv(folder / "zones.csv", index=False)
    pd.DataFrame(
        [
            {
                "school_id": s,
                "name": s,
                "zone_id": z,
                "first_grade": a,
                "last_grade": b,
                "classrooms": 30,
                "max_classrooms": 30,
                "x_km": 0.0,
                "y_km": 0.0,
                "sector": "public",
                "status": "open",
            }
            for s, (z, a, b) in schools.items()
        ]
    ).to_csv(folder / "schools.csv", index=False)
    rows = [(y, s, g, int(pupils(s, g, y))) for s, (_, a, b) in schools.items() for g in CHINA.grades_between(a, b) for y in years]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    b = [(y, z, int(v)) for z, v in births.items() for y in range(1990, years[-1] + 1)]
    pd.DataFrame(b, columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    if housing:
        pd.DataFrame(housing, columns=["zone_id", "year", "dwellings", "dwelling_type"]).to_csv(folder / "housing.csv", index=False)
    return folder


def by_zone(projection, grade: str) -> pd.DataFrame:
    """Deterministic path of one grade: rows = zones, columns = projected years."""
    return pd.DataFrame(projection.point[:, G[grade]], index=list(projection.zones), columns=list(projection.years))


# --- defect 6: feeder patterns across zones --------------------------------------------------


FEEDER_LAYOUTS = {
    # the district: lower primary, upper primary and secondary schools in three zones
    "three zones": {"A-P": ("A", "P1", "P3"), "B-P": ("B", "P4", "P6"), "C-J": ("C", "J1", "J3"), "C-S": ("C", "S1", "S3")},
    # two village primaries feed a town junior school; the senior high stands in a fourth zone
    "villages": {"V1-P": ("V1", "P1", "P6"), "V2-P": ("V2", "P1", "P6"), "T-J": ("T", "J1", "J3"), "S-S": ("S", "S1", "S3")},
}


@pytest.mark.parametrize("layout", FEEDER_LAYOUTS)
def test_feeder_district_with_a_stable_history_projects_stable(tmp_path, layout):
    schools = FEEDER_LAYOUTS[layout]
    # 120 pupils in every grade every year, split evenly where two schools teach a grade;
    # births 60 in every zone every year (children are born where no school stands, too)
    teach = {g: [s for s, (_, a, b) in schools.items() if g in CHINA.grades_between(a, b)] for g in CHINA.grades_between("P1", "S3")}
    zones = sorted({z for z, _, _ in schools.values()})
    folder = write_district(tmp_path / "d", schools, lambda s, g, y: 120 / len(teach[g]), {z: 60 for z in zones})
    p = project_district(load_district(folder), ProjectionSettings(entry_offsets={"P1": 6}, **FAST))
    for g in CHINA.grades_between("P1", "S3"):
        expected = pd.Series(0.0, index=zones)
        for s in teach[g]:
            expected[schools[s][0]] += 120 / len(teach[g])
        got = by_zone(p, g)
        for year in p.years:
            np.testing.assert_allclose(got[year].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=f"{layout} {g} {year}")


def test_moving_pupils_follow_their_own_cohort(tmp_path):
    # Village V1 keeps 20 of its 100 P6 pupils in its own junior school; V2 sends all to town T.
    # In 2024 V2's P6 doubles to 200 (after the ratio window's feeders, 2021-2023 for J1 2022-2024).
    schools = {"V1-P": ("V1", "P1", "P6"), "V2-P": ("V2", "P1", "P6"), "V1-J": ("V1", "J1", "J3"), "T-J": ("T", "J1", "J3")}

    def pupils(s, g, y):
        if s == "V1-J":
            return 20
        if s == "T-J":
            return 180
        return 200 if (s == "V2-P" and g == "P6" and y == 2025) else 100

    folder = write_district(tmp_path / "d", schools, pupils, {"V1": 100, "V2": 100, "T": 0})
    district = load_district(folder)
    p = project_district(district, ProjectionSettings(entry_offsets={"P1": 6}, window=3, shrinkage_pupils=0, **FAST))
    j1 = by_zone(p, "J1")[2026]
    # county ratio 200/200 = 1; V1 keeps 20/100; V2 keeps none; T takes every mover:
    # V1 20, V2 0, T 0.8 x 100 + 1.0 x 200 = 280 (the old zone-ratio model gave T 0: no P6 of its own)
    np.testing.assert_allclose(j1[["T", "V1", "V2"]].to_numpy(), [280.0, 20.0, 0.0])
    assert p.fitted.keep[p.zones.index("V1"), G["J1"]] == pytest.approx(0.2)
    # with credibility shrinkage (k = 20 pupils, w = 100): V1 keeps (100 x 0.2 + 20 x 1) / 120 = 1/3
    p = project_district(district, ProjectionSettings(entry_offsets={"P1": 6}, window=3, shrinkage_pupils=20, **FAST))
    np.testing.assert_allclose(by_zone(p, "J1")[2026][["T", "V1", "V2"]].to_numpy(), [200 / 3 + 200, 100 / 3, 0.0])


def test_pupils_born_where_no_school_stands_enter_school_elsewhere(tmp_path):
    # Births: 100 in R (no school), 50 in T; all 135 P1 pupils are taught in T. Births in R double from 2020.
    schools = {"T-P": ("T", "P1", "P6")}
    folder = write_district(tmp_path / "d", schools, lambda s, g, y: 135, {"R": 100, "T": 50}, years=range(2021, 2026))
    b = pd.read_csv(folder / "births.csv")
    b.loc[(b.zone_id == "R") & (b.year >= 2020), "births"] = 200
    b.to_csv(folder / "births.csv", index=False)
    p = project_district(load_district(folder), ProjectionSettings(entry_offsets={"P1": 6}, window=3, **FAST))
    p1 = by_zone(p, "P1")
    # entry ratio 135 / 150 = 0.9 per birth; P1 in 2026 comes from 2020 births: 0.9 x (200 + 50) = 225, all in T
    assert p1.loc["T", 2026] == pytest.approx(225.0)
    assert p1.loc["R", 2026] == 0.0


# --- grades with no feeder: a high-school-only district --------------------------------------


def test_high_school_only_district_holds_its_first_grade(tmp_path):
    schools = {"H1": ("A", "S1", "S3"), "H2": ("B", "S1", "S3")}
    folder = write_district(tmp_path / "d", schools, lambda s, g, y: 300 if s == "H1" else 200, {"A": 500, "B": 400})
    p = project_district(load_district(folder), ProjectionSettings(**FAST))
    for g in ("S1", "S2", "S3"):
        got = by_zone(p, g)
        np.testing.assert_allclose(got.loc["A"].to_numpy(), 300.0)
        np.testing.assert_allclose(got.loc["B"].to_numpy(), 200.0)
    assert p.fitted.no_feeder[G["S1"]] and not p.fitted.no_feeder[G["S2"]]
    assert any("S1" in n and "J3" in n and "held" in n for n in p.notes)


def test_high_school_first_grade_can_follow_its_trend(tmp_path):
    # S1 grew 100, 110, 120 in 2023-2025; S2 = last year's S1 (ratio 1), S3 likewise
    schools = {"H": ("A", "S1", "S3")}

    def pupils(s, g, y):
        return 100 + 10 * (y - 2023) - 10 * (int(g[1]) - 1)

    folder = write_district(tmp_path / "d", schools, pupils, {"A": 500}, years=range(2023, 2026))
    held = project_district(load_district(folder), ProjectionSettings(window=3, method="mean", **FAST))
    trend = project_district(load_district(folder), ProjectionSettings(window=3, level_rule="trend", method="mean", **FAST))
    np.testing.assert_allclose(by_zone(held, "S1").loc["A", 2026:2028].to_numpy(), [110.0, 110.0, 110.0])
    np.testing.assert_allclose(by_zone(trend, "S1").loc["A", 2026:2028].to_numpy(), [130.0, 140.0, 150.0])
    np.testing.assert_allclose(by_zone(trend, "S2").loc["A", 2026:2028].to_numpy(), [120.0, 130.0, 140.0])


# --- defect 4: the housing stock --------------------------------------------------------------


def test_new_dwellings_keep_yielding_pupils(tmp_path):
    # One zone with 100 pupils in every primary grade; births 125 a year (entry ratio 0.8).
    # 100 commodity dwellings finished in 2026 at 0.15 primary pupils each, reached along 0.4, 0.8, 1.0:
    # 6, 12, then 15 extra primary pupils in every later year. (Before: the arrivals aged out of
    # primary with their cohort: at most 12 extra, and 0 by the ninth year.)
    schools = {"P": ("A", "P1", "P6")}
    folder = write_district(tmp_path / "d", schools, lambda s, g, y: 100, {"A": 125}, housing=[("A", 2026, 100, "commodity")])
    s = ProjectionSettings(
        entry_offsets={"P1": 6}, housing_yield={"commodity": {"primary": 0.15}}, housing_profile=(0.4, 0.8, 1.0), horizon=12, **FAST
    )
    p = project_district(load_district(folder), s)
    primary = p.point[0, G["P1"] : G["P6"] + 1].sum(0)
    np.testing.assert_allclose(primary - 600, [6.0, 12.0] + [15.0] * 10)


def test_zones_can_keep_their_own_ratios_when_no_pupil_moves(tmp_path):
    # Zone A's P2 is 1.1 x its P1 a year earlier, B's 0.9 x (county ratio 1.0). B's P1 doubles in 2025.
    schools = {"A-P": ("A", "P1", "P6"), "B-P": ("B", "P1", "P6")}

    def pupils(s, g, y):
        if g == "P1":
            return 200 if (s == "B-P" and y == 2025) else 100
        return 110 if s == "A-P" else 90

    folder = write_district(tmp_path / "d", schools, pupils, {"A": 100, "B": 100})
    district = load_district(folder)
    base = {"entry_offsets": {"P1": 6}, "window": 3, "shrinkage_pupils": 0, **FAST}
    moves = by_zone(project_district(district, ProjectionSettings(**base)), "P2")[2026]
    own = by_zone(project_district(district, ProjectionSettings(moves_between_zones=False, **base)), "P2")[2026]
    # moves: A keeps its cohort (100) and takes every mover: B sends 0.1 x 200 = 20 -> A 120, B 180
    np.testing.assert_allclose(moves[["A", "B"]].to_numpy(), [120.0, 180.0])
    # own ratios: A 1.1 x 100 = 110, B 0.9 x 200 = 180
    np.testing.assert_allclose(own[["A", "B"]].to_numpy(), [110.0, 180.0])


# --- a new school in a zone with no school for the next stage ---------------------------------


US_NEW = {"EA": ("A", "K", "5"), "MA": ("A", "6", "8"), "EB": ("B", "K", "5")}
"""Zone A: an elementary and the middle school; zone B: an elementary that opened in 2022 with K and 1 and grows a grade a year."""


def write_us_new_school(folder: Path, schools=US_NEW, extra: list[tuple] = (), projects: list[tuple] = ()) -> Path:
    """US district, history 2017-2025: 50 pupils in every grade a school teaches, EB only in grades it has reached.

    ``extra``: further schools (school_id, zone_id, first, last, status) with no pupils; ``projects``: decided projects
    (project_id, school_id, completion_year, classrooms, cost).
    """
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"zone_id": ["A", "B"], "name": ["A", "B"], "kind": "town", "x_km": [0.0, 3.0], "y_km": 0.0}).to_csv(
        folder / "zones.csv", index=False
    )
    rows = [(s, s, z, a, b, 30, 30, "open") for s, (z, a, b) in schools.items()]
    rows += [(s, s, z, a, b, 0, 30, status) for s, z, a, b, status in extra]
    cols = ["school_id", "name", "zone_id", "first_grade", "last_grade", "classrooms", "max_classrooms", "status"]
    t = pd.DataFrame(rows, columns=cols).assign(x_km=lambda f: f["zone_id"].map({"A": 0.0, "B": 3.0}), y_km=0.0, sector="public")
    t.to_csv(folder / "schools.csv", index=False)
    enrol = []
    for s, (_z, a, b) in schools.items():
        for y in range(2017, 2026):
            reached = 1 + (y - 2022) if s == "EB" else 99  # EB: K and 1 in 2022, K-2 in 2023, ... K-4 in 2025
            enrol += [(y, s, g, 50) for i, g in enumerate(US.grades_between(a, b)) if s != "EB" or (y >= 2022 and i <= reached)]
    pd.DataFrame(enrol, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    b = [(y, z, 60) for z in ("A", "B") for y in range(2005, 2026)]
    pd.DataFrame(b, columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    (folder / "district.csv").write_text("key,value\ngrade_system,us\n", encoding="utf-8")
    if projects:
        cols = ["project_id", "school_id", "completion_year", "classrooms", "cost"]
        pd.DataFrame(projects, columns=cols).assign(seats="").to_csv(folder / "projects.csv", index=False)
    return folder


US_FAST = {"entry_rule": {"K": "held"}, "draws": 10, "calibrate": False, "horizon": 6}


def us_projection(folder: Path) -> tuple:
    d = load_district(folder)
    return d, project_district(d, settings_for_system(ProjectionSettings, US, US_FAST))


def us_grade(p, grade: str) -> pd.DataFrame:
    return pd.DataFrame(p.point[:, US.grade_index[grade]], index=list(p.zones), columns=list(p.years))


def test_a_new_schools_cohort_goes_on_to_the_zone_that_teaches_the_next_stage(tmp_path):
    # Zone B's elementary (opened 2022 with K and 1) reaches grade 5 in 2026; no school in zone B teaches 6-8, so
    # from 2027 its leavers join zone A's middle school. Before: zone B took the county ratio for grade 6 (no
    # observation of its own) and kept its whole cohort: 50 pupils a year in a zone with no middle school.
    d, p = us_projection(write_us_new_school(tmp_path / "d"))
    for g in ("6", "7", "8"):
        np.testing.assert_allclose(us_grade(p, g).loc["B"].to_numpy(), 0.0, err_msg=g)
    # zone A's middle school: its own 50 a year, plus zone B's 50 from 2027 (grade 6), 2028 (7), 2029 (8)
    np.testing.assert_allclose(us_grade(p, "6").loc["A"].to_numpy(), [50, 100, 100, 100, 100, 100])
    np.testing.assert_allclose(us_grade(p, "8").loc["A"].to_numpy(), [50, 50, 50, 100, 100, 100])
    # the growing school keeps its own grades (a zone whose school teaches the grade keeps its cohort as before)
    np.testing.assert_allclose(us_grade(p, "5").loc["B"].to_numpy(), 50.0)
    assert p.fitted.keep[p.zones.index("B"), US.grade_index["5"]] == 1.0
    assert p.fitted.keep[p.zones.index("B"), US.grade_index["6"]] == 0.0
    # moves neither create nor lose pupils: every grade's county total is that of a history read without schools
    blind = project_history(replace(p.history, teaching=None), p.settings)
    np.testing.assert_allclose(p.point.sum(0), blind.point.sum(0), rtol=1e-12)
    np.testing.assert_allclose(blind.point[p.zones.index("B"), US.grade_index["6"]], [0, 50, 50, 50, 50, 50])  # the defect


def test_a_decided_new_school_teaches_its_grades_and_a_mere_candidate_site_does_not(tmp_path):
    # a middle school site in zone B: with a decided project (opening 2027) zone B keeps its own cohort for it;
    # as a bare candidate site (the plan may or may not open it) zone B's leavers go to zone A as above
    site = [("MB", "B", "6", "8", "candidate")]
    with collecting() as notes:
        _, decided = us_projection(write_us_new_school(tmp_path / "d", extra=site, projects=[("P1", "MB", 2027, 12, 1e6)]))
    # it opens in 2027, after the first projected year: said in a note (zone B's grade 6 reaches it only in 2027 here)
    assert sum("school 'MB' (zone B) opens with its decided project in 2027" in n and "grades 6-8" in n for n in notes) == 1
    np.testing.assert_allclose(us_grade(decided, "6").loc["B"].to_numpy(), [0, 50, 50, 50, 50, 50])
    np.testing.assert_allclose(us_grade(decided, "6").loc["A"].to_numpy(), 50.0)
    _, candidate = us_projection(write_us_new_school(tmp_path / "c", extra=site))
    np.testing.assert_allclose(us_grade(candidate, "6").loc["B"].to_numpy(), 0.0)
    np.testing.assert_allclose(decided.point.sum(0), candidate.point.sum(0), rtol=1e-12)


def test_a_closed_schools_zone_takes_no_more_pupils_and_a_new_school_with_none_yet_takes_them(tmp_path):
    # Zone B's middle school MB taught 50 a grade until 2024 and closed; zone A's new middle school MA is open with no
    # pupils yet. No teaching zone had pupils of grades 6-8, so the movers are shared by the schools teaching them:
    # MA takes them all (before: zone B, by its past share, kept receiving them with no school left).
    schools = {"EA": ("A", "K", "5"), "EC": ("B", "K", "5"), "MB": ("B", "6", "8")}
    folder = write_us_new_school(tmp_path / "d", schools=schools, extra=[("MA", "A", "6", "8", "open")])
    t = pd.read_csv(folder / "schools.csv")
    t.loc[t["school_id"] == "MB", "status"] = "closed"
    t.to_csv(folder / "schools.csv", index=False)
    e = pd.read_csv(folder / "enrolment.csv", dtype={"grade": str})
    e[(e["school_id"] != "MB") | (e["year"] < 2025)].to_csv(folder / "enrolment.csv", index=False)
    _, p = us_projection(folder)
    blind = project_history(replace(p.history, teaching=None), p.settings)
    for g in ("6", "7", "8"):
        gi = US.grade_index[g]
        np.testing.assert_allclose(p.point[p.zones.index("B"), gi], 0.0, err_msg=g)
        np.testing.assert_allclose(p.point[:, gi].sum(0), blind.point[:, gi].sum(0), rtol=1e-12)
    assert (p.point[p.zones.index("A"), US.grade_index["6"]] > 0).all()
    assert (blind.point[blind.zones.index("B"), US.grade_index["6"]] > 0).all()  # the old answer


@pytest.mark.parametrize(
    "middle_b, zone_b_grade_6",
    [
        (("MB", "B", "6", "8", "open"), 50.0),  # open now, no pupils yet: zone B's own leavers stay for it
        (("MB", "B", "6", "8", "decided"), 50.0),  # a candidate site with a decided project: the same
        (("MB", "B", "6", "8", "candidate"), 0.0),  # a bare candidate site: they go on to zone A, as in the history
        (None, 0.0),  # no school for 6-8 in zone B
    ],
)
def test_a_new_middle_school_keeps_the_leavers_its_zone_used_to_send_away(tmp_path, middle_b, zone_b_grade_6):
    # Zone B's established elementary EC sent all its leavers to zone A's middle school every year (zone B's grade 6 is
    # 0 while its grade 5 has 50: "no school for the grade" in the history). A new middle school in zone B, open or
    # decided, changes that: it has no observation of its own, so zone B keeps its cohort at the county ratio.
    schools = {"EA": ("A", "K", "5"), "MA": ("A", "6", "8"), "EC": ("B", "K", "5")}
    extra = [] if middle_b is None else [middle_b[:4] + ("candidate" if middle_b[4] == "decided" else middle_b[4],)]
    projects = [("P1", "MB", 2026, 12, 1e6)] if middle_b and middle_b[4] == "decided" else []
    folder = write_us_new_school(tmp_path / "d", schools=schools, extra=extra, projects=projects)
    e = pd.read_csv(folder / "enrolment.csv", dtype={"grade": str})
    e.loc[e["school_id"] == "MA", "pupils"] = 100  # zone A's 50 and zone B's 50 leavers a grade
    e.to_csv(folder / "enrolment.csv", index=False)
    _, p = us_projection(folder)
    b6, a6 = us_grade(p, "6").loc["B"].to_numpy(), us_grade(p, "6").loc["A"].to_numpy()
    np.testing.assert_allclose(b6, zone_b_grade_6)
    np.testing.assert_allclose(a6 + b6, 100.0)  # the county's grade 6 is the county's grade 5 a year earlier either way
    np.testing.assert_allclose(us_grade(p, "7").loc["B"].to_numpy()[1:], zone_b_grade_6)


def test_a_school_listing_grades_it_never_had_pupils_in_does_not_keep_them(tmp_path):
    # EC is listed K-8 but its grades 6-8 stayed empty for years while its grade 5 had 50: its leavers went to zone A,
    # and still do (a school with pupils is not new; the history's structural zero stands)
    schools = {"EA": ("A", "K", "5"), "MA": ("A", "6", "8"), "EC": ("B", "K", "8")}
    folder = write_us_new_school(tmp_path / "d", schools=schools)
    e = pd.read_csv(folder / "enrolment.csv", dtype={"grade": str})
    e.loc[e["school_id"] == "MA", "pupils"] = 100
    e[~((e["school_id"] == "EC") & e["grade"].isin(["6", "7", "8"]))].to_csv(folder / "enrolment.csv", index=False)
    _, p = us_projection(folder)
    np.testing.assert_allclose(us_grade(p, "6").loc["B"].to_numpy(), 0.0)
    np.testing.assert_allclose(us_grade(p, "6").loc["A"].to_numpy(), 100.0)
