"""Review of the school-level mode (projection.unit: school): defects found on districts beyond test_school_mode.py's,
each pinned by a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_school_mode import births_rising, write_us_district

from capacity.data import load_district
from capacity.gap import gap_report
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, project_district
from capacity.standards import settings_for_system

SCHOOL_MODE = {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "unit": "school"}


def school_settings(**extra) -> ProjectionSettings:
    return settings_for_system(ProjectionSettings, US, {**SCHOOL_MODE, **extra})


def test_a_school_whose_id_is_another_zones_id_keeps_its_own_zone_in_every_gap_table(tmp_path):
    """School 'B' stands in zone A (zone B has S3): its gap rows, first red year and budget say zone A, and zone B's row
    sums S3 alone (S1 60 + B 30 pupils a grade in zone A; K-2 of B in 2026-2028: 110, 130, 150 against 125 seats)."""
    d = load_district(write_us_district(tmp_path / "d", {"S1": ("A", 60, 10), "B": ("A", 30, 5), "S3": ("B", 45, 8)}, births_rising()))
    with collecting():
        r = gap_report(d, project_district(d, school_settings()))
    g = r.gap
    b = g[(g["level"] == "school") & (g["area"] == "B")]
    assert set(b["zone_id"]) == {"A"} and np.allclose(b.sort_values("year")["demand"], [110, 130, 150])
    zb = g[(g["level"] == "zone") & (g["area"] == "B")]
    assert set(zb["zone_id"]) == {"B"} and np.allclose(zb.sort_values("year")["demand"], [165, 195, 225])
    assert dict(zip(r.first_red["school_id"], r.first_red["zone_id"], strict=True)) == {"B": "A", "S1": "A", "S3": "B"}
    assert r.budget.drop_duplicates("school_id").set_index("school_id")["zone_id"].to_dict() == {"B": "A", "S1": "A", "S3": "B"}


def test_the_zone_mode_summary_sheet_gains_no_unit_row(tmp_path):
    """Zone-mode outputs stay as they were before the school-level mode: no 'Seat gap by' row in the summary sheet
    (only the school-level mode says so)."""
    from capacity.run import gap_summary

    d = load_district(write_us_district(tmp_path / "d", {"S1": ("A", 60, 10), "S3": ("B", 45, 8)}, births_rising()))
    with collecting():
        zone = gap_report(d, project_district(d, school_settings(unit="zone")))
        school = gap_report(d, project_district(d, school_settings()))
    assert [k for k, _ in gap_summary(zone, d)][:3] == [
        "Projection years",
        "Zones short of seats in some year",
        "Largest county shortfall (pupils)",
    ]
    assert [k for k, _ in gap_summary(school, d)][:3] == ["Projection years", "Seat gap by", "Schools short of seats in some year"]


def test_the_auto_method_note_names_the_school_level_it_compared(tmp_path, monkeypatch):
    """In the school-level mode the back-test's units are schools: projection.auto_level zone_stage compares methods
    school by school, and the note says so (it said 'by zone x stage'); by zone it still says zone x stage."""
    import test_school_mode

    monkeypatch.setattr(test_school_mode, "YEARS", range(2014, 2026))  # enough origins for the back-test to choose
    d = load_district(write_us_district(tmp_path / "d", {"S1": ("A", 60, 10), "S3": ("B", 45, 8)}, births_rising()))
    for unit in ("school", "zone"):
        with collecting() as notes:
            project_district(d, school_settings(method="auto", unit=unit))
        chose = [n for n in notes if n.startswith("projection.method auto chose")]
        assert len(chose) == 1 and f"by {unit} x stage in the district's own back-test" in chose[0]


def test_a_school_opened_within_the_ratio_window_keeps_its_share_of_the_years_it_was_open(tmp_path):
    """S4 (zone B) opened in 2024 with 45 K pupils in 2024 and 2025 beside S1 60, S2 30, S3 45. Its share of the K
    intake over the window 2023-2025 is 45/180 in each year it was open; 2023, before it opened, is left out of its
    mean (was counted as 0: 1/6 of the intake, two thirds of its share). Shares over the window, each school's mean
    over its open years: S1 (60/135 + 2 x 60/180) / 3, S2 (30/135 + 2 x 30/180) / 3, S3 (45/135 + 2 x 45/180) / 3,
    S4 1/4; summing to 13/12, scaled to 1: S4 gets 3/13 of the district's K."""
    f = write_us_district(tmp_path / "d", THREE_SCHOOLS, births_rising(100.0), [_school_row("S4", "B")])
    e = pd.read_csv(f / "enrolment.csv", dtype={"grade": str})
    opened = pd.DataFrame([(2024, "S4", "K", 45), (2025, "S4", "K", 45), (2025, "S4", "1", 45)], columns=e.columns)
    pd.concat([e, opened]).to_csv(f / "enrolment.csv", index=False)
    d = load_district(f)
    with collecting():
        p = project_district(d, school_settings(calibrate=False))
    k = US.grade_index["K"]
    np.testing.assert_allclose(p.point[p.zones.index("S4"), k] / p.point[:, k].sum(0), 3 / 13)
    np.testing.assert_allclose(p.point[p.zones.index("S1"), k] / p.point[:, k].sum(0), (60 / 135 + 2 / 3) / 3 * 12 / 13)


THREE_SCHOOLS = {"S1": ("A", 60, 10), "S2": ("A", 30, 5), "S3": ("B", 45, 8)}


def _school_row(school_id: str, zone_id: str) -> dict:
    return {
        "school_id": school_id,
        "name": f"School {school_id}",
        "zone_id": zone_id,
        "first_grade": "K",
        "last_grade": "2",
        "classrooms": 6,
        "max_classrooms": 12,
        "x_km": 0.0,
        "y_km": 0.0,
        "sector": "public",
        "status": "open",
    }


def test_zone_pupils_of_a_grade_no_school_of_the_zone_teaches_go_to_a_school_that_teaches_it():
    """Zone A has only S1 (K-2, 60 a grade); S5 in zone B teaches 3-5 (20 a grade). Zone A's new housing pupils of
    grade 4 go to S5, with a note (were given to S1, which does not teach grade 4, by its elementary pupils); grade 1's
    stay at S1."""
    from test_school_mode import k2_and_3to5_schools

    from capacity.projection.schools import spread_to_schools

    g = US.grade_index
    h = k2_and_3to5_schools(("3", "4", "5"), ("A", "B"))
    by = np.zeros((2, len(US.grades), 1))
    by[0, g["4"], 0], by[0, g["1"], 0] = 10.0, 6.0
    with collecting() as notes:
        out = spread_to_schools(by, h, "new housing's pupils")
    assert (out[0, g["4"], 0], out[1, g["4"], 0]) == (0.0, 10.0)
    assert (out[0, g["1"], 0], out[1, g["1"], 0]) == (6.0, 0.0)
    assert any(n.startswith("school-level mode: new housing's pupils in zone(s) A is for grades none of the zone's schools") for n in notes)


def test_compare_counts_short_schools_in_school_mode_and_short_zones_in_zone_mode():
    # school mode: schools S1 and S2 (both in zone Z) and S3 (zone Y, two stages) are short: 3 schools, not "2 zones";
    # zone mode: zones Z and Y short. A comparison of both fills each count for its own run only.
    from pathlib import Path

    from capacity.compare import RunTables, compare

    def run(name, first_red):
        return RunTables(name, Path(name), {"scenario": name}, {}, {"gap/first_red": pd.DataFrame(first_red)})

    school = run(
        "school",
        dict(
            school_id=["S1", "S2", "S3", "S3"],
            zone_id=["Z", "Z", "Y", "Y"],
            stage=["primary", "primary", "primary", "junior"],
            first_red_year=[2027, 2028, 2029, 2030],
        ),
    )
    zone = run("zone", dict(zone_id=["Z", "Y"], stage=["primary", "junior"], first_red_year=[2027, 2030]))
    metrics = compare([zone, school])[0].set_index("scenario")
    assert list(metrics.columns[:3]) == ["first_red_year", "zones_short_status_quo", "schools_short_status_quo"]
    assert metrics.at["school", "schools_short_status_quo"] == 3 and pd.isna(metrics.at["school", "zones_short_status_quo"])
    assert metrics.at["zone", "zones_short_status_quo"] == 2 and pd.isna(metrics.at["zone", "schools_short_status_quo"])
    assert metrics["first_red_year"].tolist() == [2027, 2027]
