"""`capacity run`: projection -> gap -> plan -> report for one scenario, written atomically
with a manifest of inputs, versions, solver, seed and timings."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capacity.data import District, load_district
from capacity.scenario import Scenario, canonical_json

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """Everything a run computed (no files)."""

    scenario: Scenario
    district: District
    projection: object
    gap: object
    plan: object | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    alternatives: object | None = None  # capacity.plan.alternatives.Alternatives when plan.alternatives > 0
    robustness: object | None = None  # DataFrame of capacity.plan.robust.robustness_report when plan.robust_draws > 0


def execute(scenario: Scenario, progress: Progress = lambda m: None) -> RunResult:
    """Run every step of a scenario in memory."""
    from capacity.gap import gap_report
    from capacity.plan import plan_from_projection
    from capacity.projection import project_district

    timings: dict[str, float] = {}
    t = time.perf_counter()
    steps = 4 if scenario.run_plan else 3
    progress(f"[1/{steps}] loading district {scenario.district}")
    district = load_district(scenario.district_path)
    from capacity.scenario import fit_scenario

    scenario = fit_scenario(scenario, district.grades)
    check_scenario(scenario, district)
    timings["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    progress(f"[2/{steps}] projecting {scenario.horizon} years ({scenario.projection.draws} draws)")
    projection = project_district(district, scenario.projection)
    timings["projection_s"] = time.perf_counter() - t
    t = time.perf_counter()
    progress(f"[3/{steps}] seat gap, class sizes, staffing, budget")
    on_hand = None
    if scenario.report.teachers_on_hand:
        from capacity.gap.staffing import read_teachers_on_hand

        on_hand = read_teachers_on_hand(scenario.report.teachers_on_hand)
    gap = gap_report(district, projection, scenario.gap, scenario.report.warning_rule, on_hand)
    timings["gap_s"] = time.perf_counter() - t
    plan = None
    if scenario.run_plan:
        t = time.perf_counter()
        progress(f"[4/{steps}] planning ({scenario.plan.solver}, time limit {scenario.plan.time_limit_s:g} s)")
        plan = plan_from_projection(district, projection, scenario.plan)
        timings["plan_s"] = time.perf_counter() - t
    alternatives, robustness = plan_extras(district, projection, plan, progress, timings)
    return RunResult(scenario, district, projection, gap, plan, timings, alternatives=alternatives, robustness=robustness)


def check_scenario(scenario: Scenario, district: District, projecting: bool = True) -> None:
    """The checks of a fitted scenario's settings against the district that a run makes before computing (also
    made by `capacity validate SCENARIO`; ``projecting`` False skips those of the projection)."""
    from capacity.preflight import check_plan, check_projection

    if projecting:
        check_projection(district, scenario.projection)
    if scenario.run_plan:
        check_plan(district, scenario.plan)
    if scenario.targets:
        from capacity.report.targets import check_targets

        check_targets(scenario.targets, district, tuple(range(district.last_year + 1, district.last_year + scenario.horizon + 1)))


def plan_extras(district, projection, plan, progress: Progress, timings: dict[str, float]) -> tuple[object | None, object | None]:
    """Near-optimal alternatives and the robust-plan evaluation, when the plan settings ask for them."""
    if plan is None:
        return None, None
    alternatives = robustness = None
    ps = plan.settings
    if ps.alternatives:
        from capacity.notes import note
        from capacity.plan.alternatives import plan_alternatives

        t = time.perf_counter()
        progress(f"near-optimal alternatives: {ps.alternatives} within {ps.alternatives_slack:.1%} of the optimum")
        alternatives = plan_alternatives(district, plan)
        for text in alternatives.notes:
            note(text)
        timings["alternatives_s"] = time.perf_counter() - t
    if ps.robust_draws:
        from capacity.plan.robust import robustness_report

        t = time.perf_counter()
        progress(f"robust plan over {ps.robust_draws} draws; P50, P80 and robust plans on {ps.robust_eval_draws} held-out draws")
        robustness = robustness_report(district, projection, ps, k=ps.robust_draws, n_eval=ps.robust_eval_draws, single_plan=plan)
        timings["robust_s"] = time.perf_counter() - t
    return alternatives, robustness


def write_projection_files(projection, folder: Path) -> None:
    """projection.csv, projection_zone_stage.csv, projection_county_stage.csv, ratios.csv, calibration.csv; in the
    school-level mode (projection.unit: school) the tables give school_id with the school's zone_id beside it and
    projection_school_stage.csv stands for projection_zone_stage.csv."""
    from capacity.projection.schools import by_school

    h = projection.history
    folder.mkdir(parents=True, exist_ok=True)
    by_school(projection.table(), h).to_csv(folder / "projection.csv", index=False)
    by_school(projection.aggregate("zone_stage"), h).to_csv(folder / f"projection_{h.unit}_stage.csv", index=False)
    projection.aggregate("stage").to_csv(folder / "projection_county_stage.csv", index=False)
    by_school(projection.ratios(), h).to_csv(folder / "ratios.csv", index=False)
    projection.calibration.table.to_csv(folder / "calibration.csv", index=False)


def projection_backtest(projection) -> pd.DataFrame:
    """The run's projection method beside persistence and trend in the district's own back-test, every level and
    lead 1-10; empty when the back-test refuses (e.g. too short a history), with a note giving its reason. The method's
    calibration is the projection's own where it is the same work."""
    from capacity.errors import ProjectionError
    from capacity.notes import note
    from capacity.projection.backtest import backtest_table

    try:
        return backtest_table(projection.history, projection.settings, projection.method, calibration=projection.calibration)
    except ProjectionError as e:
        note(f"the run's back-test table (projection/backtest.csv and the report's back-test section) is empty: {e}")
        return pd.DataFrame(columns=["level", "method", "lead", "mape", "bias", "coverage", "width", "n"])


def write_gap_files(report, district, projection, folder: Path, charts: Path | None = None, workbook: Path | None = None) -> None:
    """Gap CSVs, budget_request.xlsx (in ``folder`` unless ``workbook`` names another path) and charts."""
    from capacity.gap import rounded_for_csv
    from capacity.report.gap_plots import band_share_chart, demand_vs_seats, gap_heatmap
    from capacity.report.projection_plots import save
    from capacity.report.workbook import write_workbook

    folder.mkdir(parents=True, exist_ok=True)
    for name, t in report.tables().items():
        rounded_for_csv(t).to_csv(folder / f"{name}.csv", index=False)
    assumptions = {
        "gap": report.settings.as_dict(),
        "projection": projection.settings.as_dict(),
        "projection.method_used": projection.method,
    }
    write_workbook(
        workbook or folder / "budget_request.xlsx",
        report.tables(),
        gap_summary(report, district),
        assumptions,
        "Seat gap and budget request",
    )
    charts = charts or folder / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    present = set(report.gap.loc[report.gap["level"] == "zone", "stage"])
    from capacity.gap.gap import gap_unit

    school = gap_unit(report.gap) == "school"  # the school-level mode: each school against its own seats too
    for stage in [st for st in district.grades.stage_names if st in present]:  # a district without a stage gets no empty charts
        save(gap_heatmap(report.gap, stage), charts / safe_file_name(f"gap_heatmap_{stage}", ".png"))
        save(demand_vs_seats(report.gap, stage), charts / safe_file_name(f"demand_vs_seats_{stage}", ".png"))
        if school:
            save(gap_heatmap(report.gap, stage, level="school"), charts / safe_file_name(f"gap_heatmap_school_{stage}", ".png"))
        save(band_share_chart(report.bands, stage, list(report.settings.bands)), charts / safe_file_name(f"class_bands_{stage}", ".png"))


def gap_summary(r, district) -> list[tuple[str, object]]:
    """Headline figures of a GapReport for the summary sheet."""
    from capacity.gap.gap import gap_unit

    g = r.gap
    county = g[g["level"] == "county"]
    act = r.bands[r.bands["basis"] == "actual"]
    unit = gap_unit(g)
    return [
        ("Projection years", f"{int(g['year'].min())}-{int(g['year'].max())}"),
        *([("Seat gap by", "school (school-level mode: each school against its own seats)")] if unit == "school" else []),
        (f"{unit.capitalize()}s short of seats in some year", int(r.first_red[f"{unit}_id"].nunique())),
        ("Largest county shortfall (pupils)", float(county["shortfall"].max())),
        (f"Classrooms needed to close every {unit}'s shortfall", int(r.budget["new_classrooms"].sum())),
        ("Budget needed (currency)", float(r.budget["cost"].sum())),
        (f"Classes above standard in {district.last_year} (actual)", int(act["classes_above_standard"].sum())),
        *[(f"Classes in band {b} in {district.last_year} (actual)", int(act[b].sum())) for b in r.settings.bands],
        (
            f"Schools above the size cap in {district.last_year}",
            int(r.school_sizes.loc[r.school_sizes["basis"] == "actual", "above_cap"].sum()),
        ),
        ("Policy failures (school-grade-years)", len(r.policy)),
    ]


def run_assumptions(result: RunResult) -> dict[str, object]:
    """Every setting of a run for the assumptions sheets: sections as in scenario.json."""
    sc = result.scenario
    return {
        "horizon": sc.horizon,
        "projection": sc.projection.as_dict(),
        "projection.method_used": result.projection.method,
        "gap": sc.gap.as_dict(),
        **({"plan": sc.plan.as_dict()} if result.plan is not None else {}),
        "report": sc.report.as_dict(),
    }


def plan_timings(summary: dict) -> dict[str, float]:
    """The wall-clock entries of a plan summary (``*_s``): they belong in the manifest, not in summary.json."""
    return {f"plan_{k}": v for k, v in summary.items() if k.endswith("_s")}


def plan_summary_file(summary: dict, notes: list[str] | tuple = ()) -> dict:
    """summary.json content: everything but timings, plus whether a re-run gives the same plan.

    A plan is reproducible when no solver call stopped at its wall-clock time limit (the
    decompose strategy's phases included: each solve announces such a stop with
    ``TIME_LIMIT_NOTE``); HiGHS runs with a fixed seed and thread count.
    """
    from capacity.plan.solve import TIME_LIMIT_NOTE

    out = {k: v for k, v in summary.items() if not k.endswith("_s")}
    clocked = summary.get("status") == "time_limit" or any(str(n).startswith(TIME_LIMIT_NOTE) for n in notes)
    out["reproducible"] = not clocked
    if clocked:
        out["reproducibility"] = (
            "a solver call stopped at its wall-clock time limit: a re-run (or another machine) may return a different plan; "
            "raise plan.time_limit_s until nothing stops at it, or stop by work with plan.strategy: direct and "
            "plan.solver_options: {mip_max_nodes: N}"
        )
    else:
        out["reproducible"] = True
        out["reproducibility"] = (
            "every solver call ended by gap or by a work limit, with a fixed seed and threads: equal inputs give an equal plan"
        )
    return out


def write_json(path: Path, data: dict) -> None:
    """Sorted, indented UTF-8 JSON (stable bytes for equal content)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n", encoding="utf-8")


def write_plan_files(plan, folder: Path, notes: list[str] | tuple = ()) -> None:
    """Plan tables and summary.json (no timings: those go in the manifest)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in plan.tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    (folder / "summary.json").write_text(
        json.dumps(plan_summary_file(plan.summary, notes), indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def write_plan_extras(alternatives, robustness, folder: Path, notes: list[str] | tuple = ()) -> None:
    """plan/alternatives/ (alternatives.csv, differences.csv, alt-N/ with each plan's tables) and plan/robustness.csv."""
    if alternatives is not None:
        from capacity.plan.alternatives import alternative_tables

        sub = folder / "alternatives"
        sub.mkdir(parents=True, exist_ok=True)
        figures, differences = alternative_tables(alternatives)
        figures.to_csv(sub / "alternatives.csv", index=False)
        differences.to_csv(sub / "differences.csv", index=False)
        for label, p in alternatives.labelled()[1:]:
            write_plan_files(p, sub / label, notes)
    if robustness is not None:
        robustness.to_csv(folder / "robustness.csv", index=False)


def safe_file_name(stem: str, suffix: str) -> str:
    """A file name from ids that may hold '/', control characters or be very long: unsafe
    characters become '_', long names are cut and made unique by a short hash."""
    clean = "".join(ch if (ch.isalnum() or ch in "-_.") and ch.isprintable() else "_" for ch in stem).strip(".") or "_"
    if len(clean) > 100 or clean != stem:
        clean = clean[:80] + "-" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    return clean + suffix


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "capacity",
        "numpy",
        "pandas",
        "scipy",
        "pulp",
        "highspy",
        "matplotlib",
        "openpyxl",
        "pyyaml",
        "click",
        "geopandas",
        "pyogrio",
        "shapely",
        "pyproj",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def inputs_hash(district_hashes: dict[str, str], scenario: Scenario) -> str:
    """Hash of everything a run depends on: the district files and the resolved scenario."""
    inputs = {"district": district_hashes, "scenario_resolved": scenario.hash}
    return hashlib.sha256(canonical_json(inputs).encode()).hexdigest()


def command_manifest(command: str, district, settings: dict, notes: list[str], timings: dict) -> dict:
    """manifest.json of a single-step command (project, backtest, gap, plan)."""
    return {
        "command": command,
        "district": district.source,
        "district_files": district.file_hashes,
        "settings": settings,
        "versions": _versions(),
        "notes": list(notes),
        "timings_s": timings,
        "timings_note": TIMINGS_NOTE,
    }


TIMINGS_NOTE = "wall-clock seconds: these differ from run to run; every other file is byte-identical for equal inputs"


def notes_html(notes: list[str]) -> str:
    """The report's notes section: every accepted-with-a-note message of the run."""
    import html

    if not notes:
        return '<h2>Notes</h2>\n<p class="note">No input was clipped, guessed or replaced by a fallback.</p>\n'
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<h2>Notes</h2>\n<p class="note">Accepted with a note (also in manifest.json):</p><ul class="notes">{items}</ul>\n'


def manifest(result: RunResult) -> dict:
    """Provenance of a run: inputs (hashes), resolved scenario, versions, solver, seed, timings.

    ``inputs_hash`` covers the district files and the resolved scenario: equal for equal
    inputs, different when any input changes.
    """
    sc = result.scenario
    scen_files = {str(Path(f).name): file_sha256(f) for f in sc.files}
    m = {
        "scenario": sc.name,
        "description": sc.description,
        "scenario_files": scen_files,
        "overrides_applied": list(sc.overrides_applied),
        "sweep_values": sc.sweep_values,
        "district": sc.district,
        "district_files": result.district.file_hashes,
        "scenario_hash": sc.hash,
        "inputs_hash": inputs_hash(result.district.file_hashes, sc),
        "seed": sc.projection.seed,
        "projection_method": result.projection.method,
        "projection_unit": result.projection.history.unit,  # zone, or school (the school-level mode)
        "grade_system": result.district.grades.as_dict(),
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
        "timings_note": TIMINGS_NOTE,
        "notes": list(result.notes),
    }
    if result.plan is not None:
        s = result.plan.summary
        m["solver"] = {k: s.get(k) for k in ("solver", "status", "model_status", "objective", "bound", "gap")}
        m["solver"]["settings"] = {k: sc.plan.as_dict()[k] for k in ("solver", "time_limit_s", "mip_gap", "threads", "strategy")}
        m["solver"]["reproducible"] = plan_summary_file(s, result.notes)["reproducible"]
        m["timings_s"].update(plan_timings(s))
    return m


def handover_tables(result: RunResult) -> dict[str, object]:
    """Tables the report, workbook and compare share: target progress and mergers (when there is a plan)."""
    from capacity.report.mergers import merger_table
    from capacity.report.targets import target_progress

    out = {}
    if result.scenario.targets:
        out["targets"] = target_progress(result.scenario.targets, result)
    if result.plan is not None:
        out["mergers"] = merger_table(result.plan.tables, result.district)
    return out


def write_run(result: RunResult, folder: Path) -> None:
    """Every table, figure, workbook, report.html, scenario.json and manifest.json into ``folder``."""
    from capacity.report.budget import write_budget_workbook
    from capacity.report.run_report import run_report_html

    charts = folder / "charts"
    write_projection_files(result.projection, folder / "projection")
    write_gap_files(result.gap, result.district, result.projection, folder / "gap", charts, folder / "gap" / "status_quo_budget.xlsx")
    extra = handover_tables(result)
    if result.plan is not None:
        write_plan_files(result.plan, folder / "plan", result.notes)
        extra["mergers"].to_csv(folder / "plan" / "mergers.csv", index=False)
        write_plan_extras(result.alternatives, result.robustness, folder / "plan", result.notes)
    if "targets" in extra:
        extra["targets"].to_csv(folder / "targets.csv", index=False)
    from capacity.report.gis import write_gis

    plan_tables = result.plan.tables if result.plan is not None else None
    write_gis(result.district, result.gap.gap, plan_tables, folder / "gis", tuple(result.scenario.report.gis_formats))
    sheets = {f"sheet_{k}": v for k, v in extra.items()}
    extra["backtest"] = projection_backtest(result.projection)
    from capacity.projection.schools import school_levels

    school_levels(extra["backtest"], result.projection.history).to_csv(folder / "projection" / "backtest.csv", index=False)
    write_budget_workbook(folder / "budget_request.xlsx", result, result.scenario.report, run_assumptions(result), sheets)
    (folder / "scenario.json").write_text(
        json.dumps(result.scenario.resolved, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    man = manifest(result)
    page = run_report_html(result, man, extra)
    at = page.find("<h2>")
    page = page[:at] + notes_html(man["notes"]) + page[at:] if at >= 0 else page.replace("</body>", notes_html(man["notes"]) + "</body>")
    (folder / "report.html").write_text(page, encoding="utf-8")
    from capacity.report.map_plot import district_map
    from capacity.report.projection_plots import save

    save(district_map(result.district, result.plan.tables if result.plan is not None else None, extra.get("mergers")), charts / "map.png")
    (folder / "manifest.json").write_text(
        json.dumps(man, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def protected_inputs(scenario: Scenario) -> dict:
    """atomic_dir arguments that keep a run's output away from its district and scenario files."""
    from capacity.data import EXAMPLE_PATH

    return {"protect": (Path(scenario.district_path or EXAMPLE_PATH),), "protect_folder_of": tuple(Path(f) for f in scenario.files)}


def run_scenario(scenario: Scenario, out: str | Path, progress: Progress = lambda m: None) -> RunResult:
    """Check the output folder, execute and write atomically: a failed or interrupted run
    leaves no half-written folder and never touches files the tool did not write."""
    from capacity.notes import collecting
    from capacity.outputs import atomic_dir

    with collecting() as notes, atomic_dir(out, **protected_inputs(scenario)) as tmp:
        result = execute(scenario, progress)
        progress("writing tables, charts, workbook and report")
        result.notes = notes
        write_run(result, tmp)
    return result
