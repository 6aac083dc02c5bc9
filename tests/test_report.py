"""What a run hands over: the per-option budget workbook, targets and progress, mergers and
re-openings, school-level early warning, on a small three-zone district (not the example county)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.data import EXAMPLE_PATH
from capacity.gap.warning import traffic_light
from capacity.grades import CHINA
from capacity.report.budget import capital_by_year_stage, operating_change
from capacity.report.mergers import merger_table, status_events
from capacity.run import run_scenario
from capacity.scenario import load_scenario

ZONES = ("U02", "U03", "T01", "R01")  # U03 has decided projects and candidate sites; U02 runs short

OPTION = """
name: 扩建与撤并
description: Extend and merge small schools.
district: d
horizon: 6
projection: {draws: 100}
plan: {time_limit_s: 20, allow_closures: true, integer_classes: false}  # solved to optimality: the test needs a plan, not a race
report: {language: zh, currency_unit: 万元, warning_preset: intake_plan_90_100_3y}
targets:
  add_compulsory:
    seats_added: 500
    by: 2028
    stages: [primary, junior]
    sector: public
  town_total:
    seats_reached: 3000
    by: 2030
    area: {kind: town}
  starting_grades:
    policy: starting_grades_at_standard
    by: 2027
  no_56:
    policy: no_class_of
    size: 56
    by: 2026
  school_cap:
    policy: no_school_above_cap
    by: 2027
  kindergarten:
    policy: preschool_coverage
    by: 2029
overrides:
  cautious:
    plan: {demand_quantile: 0.8}
"""

STATUS_QUO = """
name: status quo
district: d
horizon: 6
projection: {draws: 100}
plan: {time_limit_s: 5, allow_builds: false, allow_new_schools: false, allow_closures: false}
report: {currency_unit: USD, teachers_on_hand: staff.csv}
"""


def small_district(out: Path, zones=ZONES) -> Path:
    """The example county cut down to ``zones`` (its schools, pupils, births, projects, travel)."""
    out.mkdir(parents=True, exist_ok=True)
    sch = pd.read_csv(EXAMPLE_PATH / "schools.csv", dtype=str, keep_default_na=False)
    keep = set(sch.loc[sch["zone_id"].isin(zones), "school_id"])
    for f in EXAMPLE_PATH.glob("*.csv"):
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "zone_id" in t:
            t = t[t["zone_id"].isin(zones)]
        if "school_id" in t:
            t = t[t["school_id"].isin(keep)]
        t.to_csv(out / f.name, index=False, lineterminator="\n")
    return out


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("small")
    small_district(base / "d")
    schools = pd.read_csv(base / "d" / "schools.csv")
    staff = schools[["school_id"]].iloc[: len(schools) // 2].assign(teachers=30)
    staff.to_csv(base / "staff.csv", index=False)
    out = {}
    for key, text, groups in (("option", OPTION, ()), ("status_quo", STATUS_QUO, ()), ("variant", OPTION, ("cautious",))):
        (base / f"{key}.yaml").write_text(text, encoding="utf-8")
        result = run_scenario(load_scenario(base / f"{key}.yaml", groups), base / f"run_{key}")
        out[key] = (result, base / f"run_{key}")
    return out


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, skiprows=0)


def _plan_capital(folder: Path) -> float:
    c = pd.read_csv(folder / "plan" / "costs.csv")
    return float(c.loc[c["category"].str.startswith("capital"), "cost"].sum())


def test_budget_workbook_holds_the_options_own_plan(small_runs):
    result, folder = small_runs["option"]
    s = _sheets(folder / "budget_request.xlsx")
    assert list(s) == ["汇总", "项目清单", "分年分学段投资", "运行经费", "现状需求", "目标进度", "撤并与恢复", "参数假设"]
    projects = s["项目清单"]
    builds = pd.read_csv(folder / "plan" / "builds.csv")
    assert len(projects) == len(builds) > 0
    # money in 万元: the project list adds up to the plan's capital / 10,000
    assert projects["投资 (万元)"].sum() == pytest.approx(_plan_capital(folder) / 1e4)
    assert set(projects["项目内容"]) <= {"扩建教室", "新建学校"}
    cap = s["分年分学段投资"]
    body, total = cap[cap["年份"] != "合计"], cap[cap["年份"] == "合计"].iloc[0]
    stage_cols = ["学前教育 (万元)", "小学 (万元)", "初中 (万元)", "普通高中 (万元)"]
    np.testing.assert_allclose(body[stage_cols].sum(axis=1), body["合计 (万元)"])
    np.testing.assert_allclose(body[[*stage_cols, "合计 (万元)"]].sum(), total[[*stage_cols, "合计 (万元)"]].astype(float))
    assert total["合计 (万元)"] == pytest.approx(_plan_capital(folder) / 1e4)
    summary = dict(zip(s["汇总"].iloc[:, 0], s["汇总"].iloc[:, 1], strict=True))
    assert summary["本方案建设投资 (万元)"] == pytest.approx(_plan_capital(folder) / 1e4)
    assert summary["金额单位"] == "万元"
    # the status-quo need is beside it and equals the gap report's budget
    sq = s["现状需求"]
    assert sq.loc[sq["年份"] == "合计", "投资 (万元)"].iloc[0] == pytest.approx(result.gap.budget["cost"].sum() / 1e4)
    op = s["运行经费"]
    body = op[op["年份"] != "合计"]
    np.testing.assert_allclose(body.iloc[:, 1] - body.iloc[:, 2], body.iloc[:, 3])
    assert len(s["参数假设"]) > 20


def test_each_option_gets_its_own_budget(small_runs):
    (_, opt), (_, sq) = small_runs["option"], small_runs["status_quo"]
    a = _sheets(sq / "budget_request.xlsx")
    assert list(a)[:2] == ["summary", "projects"]
    # the status quo solves no builds: its own budget is zero, whatever its need
    assert len(a["projects"]) == len(pd.read_csv(sq / "plan" / "builds.csv")) == 0
    cap = a["capital by year and stage"]
    assert cap.loc[cap["year"] == "Total", "Total (USD)"].iloc[0] == 0
    need = a["status-quo need"]
    assert need.loc[need["year"] == "Total", "cost (USD)"].iloc[0] > 0
    assert _plan_capital(opt) > 0


def test_capital_table_by_hand():
    p = pd.DataFrame({"year": [2026, 2026, 2028], "stage": ["primary", "junior", "primary"], "cost": [3.0, 5.0, 7.0]})
    t = capital_by_year_stage(p, [2026, 2027, 2028], CHINA)
    assert list(t["year"]) == [2026, 2027, 2028, "Total"]
    assert list(t["primary"]) == [3.0, 0.0, 7.0, 10.0]
    assert list(t["total"]) == [8.0, 0.0, 7.0, 15.0]
    costs = pd.DataFrame(
        {
            "year": [1, 1, 1, 2, 2],
            "category": ["operating_classes", "operating_schools", "travel", "operating_classes", "capital"],
            "cost": [10.0, 2.0, 99.0, 11.0, 50.0],
        }
    )
    o = operating_change(costs, pd.Series({1: 15.0, 2: 9.0}))
    assert list(o["option"]) == [12.0, 11.0, 23.0]
    assert list(o["change"]) == [-3.0, 2.0, -1.0]


def test_target_progress_in_report_and_workbook(small_runs):
    result, folder = small_runs["option"]
    t = pd.read_csv(folder / "targets.csv")
    assert set(t["target"]) == {"add_compulsory", "town_total", "starting_grades", "no_56", "school_cap", "kindergarten"}
    add = t[t["target"] == "add_compulsory"].set_index("year")
    assert list(add.index) == [2026, 2027, 2028]
    assert (add["planned"].diff().dropna() >= 0).all()  # seats added never fall
    # seats added by 2028: decided projects completed 2026-2028 + the plan's builds usable by 2028 (public primary/junior)
    d = result.district
    sch = d.schools.set_index("school_id")
    ok = lambda ids: ids.map(sch["sector"]).eq("public") & ids.map(sch["first_grade"]).str[0].isin(["P", "J"])  # noqa: E731
    b = result.plan.tables["builds"]
    # decided projects completed after the last recorded year, stated in seats or in classrooms x room size
    from capacity.standards import stage_room_size

    p = d.projects[d.projects["school_id"].map(sch["sector"]).eq("public") & (d.projects["completion_year"] > d.last_year)]
    stage = p["stage"].where(p["stage"].notna(), p["school_id"].map(sch["first_grade"]).map(CHINA.stage_of_grade))
    p, stage = p[stage.isin(["primary", "junior"])], stage[stage.isin(["primary", "junior"])]
    assert len(p) >= 2  # the test exercises projects stated in seats and in classrooms
    seats = p["seats"].where(
        p["seats"].notna(), p["classrooms"] * stage.map(lambda st: stage_room_size(result.gap.settings.standards.class_size, st, CHINA))
    )
    for y in (2026, 2027, 2028):
        expected = b.loc[ok(b["school_id"]) & (b["usable_from"] <= y), "seats"].sum() + seats[p["completion_year"] <= y].sum()
        assert add.loc[y, "planned"] == pytest.approx(expected), y
    row = add.loc[2028]
    assert row["met"] == (row["planned"] >= 500) and row["missed_by"] == pytest.approx(max(0, 500 - row["planned"]))
    wb = pd.read_excel(folder / "budget_request.xlsx", sheet_name="目标进度")
    assert len(wb) == len(t)


def test_bad_targets_are_refused_with_file_key_and_line(tmp_path):
    small_district(tmp_path / "d")
    cases = {
        "unknown zone": ("area: {zones: [U02, X99]}", "unknown zone X99"),
        "beyond horizon": ("by: 2040", "targets.t.by: found 2040"),
        "negative": ("seats_added: -5", "targets.t.seats_added: found -5"),
    }
    for name, (line, message) in cases.items():
        spec = {"area": "area: county", "by": "by: 2027", "seats_added": "seats_added: 100"}
        spec[line.split(":")[0]] = line
        text = "district: d\nhorizon: 4\nrun_plan: false\ntargets:\n  t:\n" + "".join(f"    {v}\n" for v in spec.values())
        f = tmp_path / f"{name.replace(' ', '_')}.yaml"
        f.write_text(text, encoding="utf-8")
        out = tmp_path / f"out_{name.replace(' ', '_')}"
        r = subprocess.run([sys.executable, "-m", "capacity", "run", str(f), "--out", str(out)], capture_output=True, text=True)
        assert r.returncode == 2, (name, r.stderr)
        assert message in r.stderr and f.name in r.stderr and "line" in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr and not out.exists()


def test_status_events_with_a_reopening():
    s = pd.DataFrame(
        {
            "year": [1, 2, 3, 4] * 2,
            "school_id": ["A"] * 4 + ["B"] * 4,
            "status": ["open", "closed", "closed", "open", "closed", "closed", "closed", "closed"],
        }
    )
    e = status_events(s)
    assert e.values.tolist() == [["B", 1, "close"], ["A", 2, "close"], ["A", 4, "reopen"]]


def test_merger_table_by_hand(example):
    # A closes in 2026 (recorded pupils 2025), pupils of its zone who moved went to B (30) and C (10)
    z = example.schools.iloc[0]["zone_id"]
    ids = list(example.schools.loc[example.schools["zone_id"] == z, "school_id"][:3])
    a_id, b_id, c_id = ids
    schools = pd.DataFrame(
        {
            "year": [2026, 2027] * 3,
            "school_id": [a_id] * 2 + [b_id] * 2 + [c_id] * 2,
            "status": ["closed", "open", "open", "open", "open", "open"],
            "pupils": [0.0, 5.0, 100.0, 100.0, 50.0, 50.0],
        }
    )
    g = example.schools.set_index("school_id").at[a_id, "first_grade"]
    asg = pd.DataFrame(
        {
            "year": [2026, 2026],
            "zone_id": [z, z],
            "school_id": [b_id, c_id],
            "grade": [g, g],
            "pupils": [30.0, 10.0],
            "moved": [30.0, 10.0],
            "boarders": [6.0, 0.0],
            "km": [4.0, 2.0],
        }
    )
    m = merger_table({"schools": schools, "assignment": asg}, example)
    before = example.enrolment[(example.enrolment["year"] == example.last_year) & (example.enrolment["school_id"] == a_id)]["pupils"].sum()
    close = m[m["event"] == "close"]
    assert list(close["receiving_school_id"]) == [b_id, c_id]
    f = min(1.0, before / 40.0)
    np.testing.assert_allclose(close["pupils_moved"], [30 * f, 10 * f])
    np.testing.assert_allclose(close["travel_km"], [4.0, 2.0])
    np.testing.assert_allclose(close["boarders"], [6 * f, 0.0])
    reopen = m[m["event"] == "reopen"]
    assert reopen[["school_id", "year"]].values.tolist() == [[a_id, 2027]]
    # the plan's own closures table, when present, gives the events
    m2 = merger_table(
        {"schools": schools, "assignment": asg, "closures": pd.DataFrame({"school_id": [a_id], "year": [2026], "event": ["close"]})},
        example,
    )
    assert list(m2["event"]) == ["close", "close"]


def test_traffic_light_published_rule():
    # amber at 90 %, red at 100 %, three years ahead
    r = np.array([0.5, 0.6, 0.7, 0.8, 1.0, 0.95, 0.5, 0.5])
    assert list(traffic_light(r, 0.9, 1.0, 3)) == ["green", "amber", "amber", "amber", "red", "amber", "green", "green"]
    assert list(traffic_light(r, 0.9, 1.0, 0)) == ["green", "green", "green", "green", "red", "amber", "green", "green"]


def test_school_warnings_in_run(small_runs):
    result, folder = small_runs["option"]
    w = pd.read_csv(folder / "gap" / "early_warning.csv")
    assert {"school", "zone"} == set(w["level"])
    fr = pd.read_csv(folder / "gap" / "first_red_school.csv")
    for r in fr.itertuples(index=False):
        g = w[(w["level"] == r.level) & (w["unit_id"] == r.unit_id) & (w["stage"] == r.stage)]
        assert g.loc[g["ratio"] >= 1.0, "year"].min() == r.first_red_year
        # the published rule: amber from 90 % or three years before any red year
        red_years = set(g.loc[g["ratio"] >= 1.0, "year"])
        amber = [y for y, q in zip(g["year"], g["ratio"], strict=True) if q >= 0.9 or any(y < ry <= y + 3 for ry in red_years)]
        assert r.warn_from == min(amber)


SECTION_IDS = (
    "summary",
    "shortfalls",
    "gap",
    "warning",
    "plan",
    "mergers",
    "map",
    "targets",
    "classes",
    "sizes",
    "teachers",
    "coverage",
    "costs",
    "budget",
    "assumptions",
)


def test_report_complete_in_a_headless_browser(small_runs):
    from browser import render, screenshot_colours

    result, folder = small_runs["option"]
    shot = folder / "report_screenshot.png"
    dom, errors = render(folder / "report.html", folder.parent / "profile", shot)
    assert not errors, errors
    assert 'data-rendered="yes"' in dom, "an embedded chart failed to decode"
    assert '<html lang="zh-CN"' in dom and "概要" in dom  # language zh: Chinese headings, tagged zh-CN
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in dom, sid
    # one heat map per stage with pupils or seats, one class-band chart per stage, the map
    stages = result.gap.gap.loc[result.gap.gap["level"] == "zone", "stage"].nunique()
    assert int(dom.split('data-images="')[1].split('"')[0]) >= 2 * stages + 2
    # every shortfall group is in the table: rows == (zone, stage) groups of unmet.csv
    un = pd.read_csv(folder / "plan" / "unmet.csv")
    groups = un.assign(stage=un["grade"].map(CHINA.stage_of_grade)).groupby(["zone_id", "stage"]).ngroups
    table = dom.split('id="shortfall-table"')[1].split("</table>")[0]
    assert table.count("<tr") - 1 == groups
    # unmet pupils are not a cost line
    costs = dom.split('id="costs"')[1].split('id="budget"')[0]
    assert "unmet_penalty" not in costs
    # readable assumptions: no Python dict braces or None
    assumptions = dom.split('id="assumptions"')[1]
    assert "None" not in assumptions and "{'" not in assumptions
    # targets and mergers are shown
    assert "add_compulsory" in dom and "kindergarten" in dom
    m = pd.read_csv(folder / "plan" / "mergers.csv")
    for sid in m["school_id"].unique():
        assert sid in dom.split('id="mergers"')[1].split('id="map"')[0]
    c = screenshot_colours(shot)
    assert c["blue"] > 1000 and c["distinct"] > 200
    assert (folder / "charts" / "map.png").exists()


def test_report_in_english_says_so(small_runs):
    _, folder = small_runs["status_quo"]
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in text and ">Summary<" in text and "概要" not in text
    assert "USD" in text


def test_report_says_which_of_the_strategys_plans_was_returned(small_runs):
    import html
    import json

    from capacity.plan.strategy import PLAN_FROM

    # the decompose strategy says which of its plans it returned; a direct solve (integer_classes: false) has one plan
    said = {}
    for key, (_, folder) in small_runs.items():
        summary = json.loads((folder / "plan" / "summary.json").read_text(encoding="utf-8"))
        text = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
        said[key] = summary.get("plan_from")
        assert ("plan found by" in text) == (said[key] is not None)
        assert said[key] is None or PLAN_FROM[said[key]] in text
    assert said["option"] is None and said["status_quo"] is not None


def test_compare_a_scenario_with_its_override_variant(small_runs, tmp_path):
    from browser import render

    folders = [small_runs[k][1] for k in ("option", "variant", "status_quo")]
    r = subprocess.run(
        [sys.executable, "-m", "capacity", "compare", *map(str, folders), "--out", str(tmp_path / "cmp")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    metrics = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert list(metrics["scenario"]) == ["扩建与撤并", "扩建与撤并 + cautious", "status quo"]
    book = pd.read_excel(tmp_path / "cmp" / "compare.xlsx", sheet_name=None)
    a = book["assumptions"]
    assert list(a.columns) == ["parameter", "扩建与撤并", "扩建与撤并 + cautious", "status quo"] and len(a) > 50
    row = a[a["parameter"] == "plan.demand_quantile"].iloc[0]
    assert (row["扩建与撤并"], row["扩建与撤并 + cautious"]) == ("0.5", "0.8")
    tg = book["targets"]
    assert len(tg) == 6 and {"扩建与撤并", "扩建与撤并 + cautious"} <= set(tg.columns)
    mg = book["mergers"]
    for k, label in (("option", "扩建与撤并"), ("variant", "扩建与撤并 + cautious")):
        m = pd.read_csv(small_runs[k][1] / "plan" / "mergers.csv")
        assert (mg["scenario"] == label).sum() == len(m)
    dom, errors = render(tmp_path / "cmp" / "compare.html", tmp_path / "profile", tmp_path / "cmp" / "compare_screenshot.png")
    assert not errors and 'data-rendered="yes"' in dom
    for sid in ("side-by-side", "capital", "scatter", "targets", "mergers", "diff"):
        assert f'id="{sid}"' in dom
    assert "capital cost, total" in dom and "capital_cost_total" not in dom


def test_scatter_labels_do_not_overlap():
    import matplotlib.pyplot as plt

    from capacity.report.html import place_labels

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    pts = [(1.0, 1.0), (1.01, 1.0), (1.0, 1.02), (1.02, 1.01), (3.0, 2.0)]
    ax.scatter(*zip(*pts, strict=True))
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 3)
    fig.canvas.draw()
    ann = place_labels(ax, pts, ["option A + high_births", "option A", "option B + cautious", "status quo", "far"])
    r = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in ann]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (i, j)
    plt.close(fig)


def test_run_without_a_plan_reports_the_status_quo(tmp_path):
    small_district(tmp_path / "d", zones=("T02", "R02"))
    (tmp_path / "s.yaml").write_text(
        "name: no plan\ndistrict: d\nhorizon: 3\nrun_plan: false\nprojection: {draws: 50}\n"
        "targets:\n  seats:\n    seats_reached: 100000\n    by: 2027\n",
        encoding="utf-8",
    )
    result = run_scenario(load_scenario(tmp_path / "s.yaml"), tmp_path / "out")
    t = pd.read_csv(tmp_path / "out" / "targets.csv")
    assert set(t["basis"]) == {"status quo"} and not t["met"].any()
    # seats reached without a plan = the status-quo seats of that year
    seats = result.gap.seats.groupby("year")["seats"].sum()
    np.testing.assert_allclose(t["planned"], seats.loc[t["year"]].to_numpy())
    np.testing.assert_allclose(t["missed_by"], 100000 - t["planned"])
    s = _sheets(tmp_path / "out" / "budget_request.xlsx")
    need = s["status-quo need"]
    # the request is the status-quo need itself, and says so
    assert s["summary"].columns[0].startswith("Budget needed under the status quo")
    assert s["projects"]["cost (元)"].sum() == pytest.approx(result.gap.budget["cost"].sum())
    assert need.loc[need["year"] == "Total", "cost (元)"].iloc[0] == pytest.approx(result.gap.budget["cost"].sum())
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    groups = result.gap.gap[(result.gap.gap["level"] == "zone") & (result.gap.gap["shortfall"] > 1e-9)].groupby(["area", "stage"]).ngroups
    table = html.split('id="shortfall-table"')[1].split("</table>")[0] if groups else ""
    assert table.count("<tr") - 1 == groups or groups == 0


def test_teacher_gap_from_staff_on_hand(small_runs):
    result, folder = small_runs["status_quo"]
    t = pd.read_csv(folder / "gap" / "teachers.csv")
    staff = pd.read_csv(folder.parent / "staff.csv").set_index("school_id")["teachers"]
    known = t["school_id"].isin(staff.index)
    np.testing.assert_allclose(t.loc[known, "teacher_gap"], 30 - t.loc[known, "teachers"])
    assert t.loc[~known, "teacher_gap"].isna().all()
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "teacher_gap" in html.split('id="teachers"')[1].split('id="coverage"')[0]


def test_variant_specs_and_labels():
    from capacity.compare import parse_spec, run_label

    assert parse_spec("scenarios/new-school.yaml:high_births, quick") == ("scenarios/new-school.yaml", ("high_births", "quick"))
    assert parse_spec("scenarios/new-school.yaml") == ("scenarios/new-school.yaml", ())
    assert parse_spec("runs/a:b") == ("runs/a:b", ())  # a run folder is taken as it is
    assert run_label("new-school", ["high_births"]) == "new-school + high_births"


def test_merger_table_follows_home_schools(example):
    # A and B of one zone both close in 2026: A's pupils go to C (40, 12 boarders), B's to D (25);
    # a pupil of C's own who moved to D is no merger of A or B. The zone approximation would
    # split A's and B's moves by size; home schools attribute them exactly.
    z = example.schools.iloc[0]["zone_id"]
    a_id, b_id, c_id, d_id = list(example.schools.loc[example.schools["zone_id"] == z, "school_id"][:4])
    schools = pd.DataFrame(
        {
            "year": [2026] * 4,
            "school_id": [a_id, b_id, c_id, d_id],
            "status": ["closed", "closed", "open", "open"],
            "pupils": [0.0, 0.0, 140.0, 80.0],
        }
    )
    g = example.schools.set_index("school_id").at[a_id, "first_grade"]
    asg = pd.DataFrame(
        {
            "year": [2026] * 4,
            "zone_id": [z] * 4,
            "home_school_id": [a_id, b_id, c_id, c_id],
            "school_id": [c_id, d_id, d_id, c_id],
            "grade": [g] * 4,
            "pupils": [40.0, 25.0, 5.0, 100.0],
            "moved": [40.0, 25.0, 5.0, 0.0],
            "boarders": [12.0, 0.0, 0.0, 0.0],
            "km": [6.0, 3.0, 1.0, 0.0],
        }
    )
    m = merger_table({"schools": schools, "assignment": asg}, example).set_index("school_id")
    assert m.loc[a_id, "receiving_school_id"] == c_id and m.loc[b_id, "receiving_school_id"] == d_id
    assert (m.loc[a_id, "pupils_moved"], m.loc[a_id, "boarders"], m.loc[a_id, "travel_km"]) == (40.0, 12.0, 6.0)
    assert (m.loc[b_id, "pupils_moved"], m.loc[b_id, "boarders"], m.loc[b_id, "travel_km"]) == (25.0, 0.0, 3.0)


def test_the_budget_workbooks_status_quo_need_is_the_sum_of_gap_budget_csv_rows():
    """The status-quo need of a year and stage counts the pupils short as gap/budget.csv's rows show them (each zone's
    shortfall to whole pupils), so the workbook's figure is their sum: three zones 0.6 short each are 3 there (1 + 1 + 1),
    not round(1.8) = 2; three 0.4 short are 0, not 1."""
    from types import SimpleNamespace

    from capacity.gap import rounded_for_csv
    from capacity.report.budget import budget_tables
    from capacity.report.settings import ReportSettings

    rows = [(2026, z, z.lower(), "primary", 0.6, 1, 1, 1.5e6) for z in "ABC"] + [
        (2027, z, z.lower(), "junior", 0.4, 1, 1, 1.5e6) for z in "ABC"
    ]
    gap_budget = pd.DataFrame(
        rows, columns=["year", "zone_id", "name", "stage", "shortfall", "classrooms_needed", "new_classrooms", "cost"]
    )
    result = SimpleNamespace(
        gap=SimpleNamespace(budget=gap_budget),
        plan=None,
        projection=SimpleNamespace(years=[2026, 2027]),
        district=SimpleNamespace(grades=CHINA),
    )
    need = budget_tables(result, ReportSettings()).status_quo.iloc[:-1]  # the last row is the total
    csv = rounded_for_csv(gap_budget).groupby(["year", "stage"])["shortfall"].sum()
    assert [float(v) for v in need["shortfall"]] == [float(csv[2026, "primary"]), float(csv[2027, "junior"])] == [3.0, 0.0]
