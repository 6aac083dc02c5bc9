"""Review of auto's and the run's notes (loose ends): every fallback says its real reason, each entry grade's note says
what projects it, and a district without births runs end to end under the defaults. Each test failed before its fix."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from test_auto_review import noisy
from test_backtest_degenerate import make_district
from test_projection_auto import entry_district

from capacity.data import load_district
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, project_district
from capacity.standards import settings_for_system


def _run(args: list[str]) -> None:
    from capacity.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
        raise SystemExit(0)
    assert e.value.code in (0, None)


def test_a_run_whose_back_test_refuses_says_why_in_manifest_and_report(tmp_path):
    # 2021-2024 with a 3-year window: too short to back-test. The run's back-test table was silently empty.
    make_district(tmp_path / "d", years=list(range(2021, 2025)), pupils=noisy)
    (tmp_path / "s.yaml").write_text(
        "name: short\ndistrict: d\nhorizon: 2\nrun_plan: false\nprojection: {draws: 20, method: median}\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    _run(["run", str(tmp_path / "s.yaml"), "--out", str(out)])
    assert pd.read_csv(out / "projection" / "backtest.csv").empty
    said = "back-test table (projection/backtest.csv and the report's back-test section) is empty: history 2021-2024 is too short"
    notes = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["notes"]
    assert any(said in n for n in notes), notes
    assert said.replace("'", "&#x27;") in (out / "report.html").read_text(encoding="utf-8")


def test_autos_fallback_gives_the_back_tests_own_reason(tmp_path):
    # the back-test refuses (too short for the window): the note named "fewer than 3 back-test origins", not the reason
    d = load_district(make_district(tmp_path / "d", years=list(range(2021, 2025)), pupils=noisy))
    with collecting() as notes:
        project_district(d, settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 2}))
    (said,) = [n for n in notes if n.startswith("projection.method auto")]
    assert "the back-test refused (history 2021-2024 is too short to back-test with a 3-year window)" in said
    assert "fewer than" not in said and "'combined' is used" in said


def test_an_unborn_entry_grade_held_without_a_comparison_does_not_claim_one(tmp_path):
    # no births, 2019-2024: too few origins, so K is held without comparing held and trend
    folder = make_district(tmp_path / "d", years=list(range(2019, 2025)), pupils=noisy)
    (folder / "births.csv").unlink()
    with collecting() as notes:
        p = project_district(load_district(folder), settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 2}))
    (k,) = [n for n in notes if n.startswith("entry grade K ")]
    assert "chosen by projection.method auto from the back-test" not in k
    assert "no births recorded, and projection.method auto's back-test compared nothing" in k and "held and trend were not compared" in k
    assert p.settings.entry_rule["K"] == "held" and p.uncompared == ("K",)


def _with_children(tmp_path):
    folder = entry_district(tmp_path / "d", lambda c, z: 48 + 3 * np.sin(1.3 * c))
    # children born 2020-2021 only: K's entrants of 2025-2026 are known, 2027 is births x ratio
    children = [(z, y, 100) for z in "AB" for y in (2020, 2021)]
    pd.DataFrame(children, columns=["zone_id", "birth_year", "children"]).to_csv(folder / "children.csv", index=False)
    return load_district(folder)


def test_known_children_are_named_in_the_entry_grades_note(tmp_path):
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3, "method": "combined"})
    with collecting() as notes:
        p = project_district(_with_children(tmp_path), s)
    k_pupils = p.point[:, p.history.grades.grade_index["K"], :].sum(0)
    assert k_pupils[:2] == pytest.approx(200) and k_pupils[2] != pytest.approx(200)  # the table covers 2025-2026 only
    (k,) = [n for n in notes if n.startswith("entry grade K ")]
    assert "the children table's counts (children born 5 years earlier x take-up 1) where it has them, entering 2025-2026" in k
    assert "births 5 years earlier x its entry ratio elsewhere" in k


@pytest.mark.parametrize("method", ["persistence", "trend"])
def test_a_children_table_unused_by_persistence_or_trend_is_noted(tmp_path, method):
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3, "method": method})
    with collecting() as notes:
        project_district(_with_children(tmp_path), s)
    (k,) = [n for n in notes if n.startswith("entry grade K ")]
    assert "the children table's counts for K (2025-2026) are not used either" in k


def test_gap_and_run_work_on_a_district_without_births_under_the_defaults(tmp_path):
    from capacity.data import EXAMPLE_PATH

    district = tmp_path / "us"
    shutil.copytree(EXAMPLE_PATH.parent / "example_us", district)
    (district / "births.csv").unlink()
    _run(["gap", str(district), "--horizon", "2", "--out", str(tmp_path / "gap")])
    assert (pd.read_csv(tmp_path / "gap" / "gap.csv")["level"] == "zone").any()
    (tmp_path / "s.yaml").write_text(
        f"name: nobirths\ndistrict: {district}\nhorizon: 2\nprojection: {{draws: 20}}\nplan: {{time_limit_s: 10}}\n", encoding="utf-8"
    )
    out = tmp_path / "run"
    _run(["run", str(tmp_path / "s.yaml"), "--out", str(out)])
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (out / "plan" / "summary.json").exists() and (out / "report.html").exists()
    # K, without births, is held or trended by auto from its comparison of the two, and its note says so
    (k,) = [n for n in man["notes"] if n.startswith("entry grade K ")]
    assert re.search(r"\((held|trend) chosen by projection\.method auto from the back-test", k), k
