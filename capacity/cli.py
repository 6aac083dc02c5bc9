"""Command-line interface: parse, call the API, print. No logic of its own."""

from __future__ import annotations

import dataclasses
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from capacity import __version__
from capacity.data import EXAMPLE_PATH, load_district
from capacity.errors import CapacityError

UNIT_HELP = "zone: pupils by zone (default: the scenario's projection.unit); school: each school on its own (school-level mode, for districts where pupils choose among schools)."
DISTRICT_HELP = "District folder of CSV files or .xlsx workbook (default: the bundled example county)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capacity")
def cli() -> None:
    """capacity: school-district capacity planning.

    Project enrolment, find seat gaps, and plan the least-cost set of builds, openings and
    mergers that seats every child within reach and within class-size limits.
    """


@cli.command()
@click.argument("district", required=False, metavar="[SCENARIO|DISTRICT]")
def validate(district: str | None) -> None:
    """Check a district's data and list every problem found.

    Rated capacities are checked against classrooms at the default tolerance and the system's
    class sizes; given a scenario file, at its standards.rated_capacity_tolerance and
    standards.class_size (as its gap and plan check them), and its settings against the district."""
    from capacity.gap.seats import rated_capacity
    from capacity.standards import Standards, settings_for_system

    d, sc = _target(district)
    standards = sc.standards if sc is not None else settings_for_system(Standards, d.grades)
    rated_capacity(d, standards.class_size, standards.rated_capacity_tolerance)
    if sc is not None:  # the scenario's settings against the district, as a run checks them before computing
        from capacity.run import check_scenario

        check_scenario(sc, d, projecting=d.has_history)
    if d.has_history:
        known = f"history {d.history_years[0]}-{d.last_year}"
    else:
        known = f"no history, demand {int(d.demand['year'].min())}-{int(d.demand['year'].max())}"
    under = f" under scenario {sc.name} (its standards and settings)" if sc is not None else ""
    click.echo(f"OK: {d.source} is a valid district{under} ({len(d.zones)} zones, {len(d.schools)} schools, {known}).")


@cli.command()
@click.argument("district", required=False, metavar="[DISTRICT]")
def info(district: str | None) -> None:
    """Show what a district holds: zones, schools by stage, pupils by stage and year."""
    from capacity.data.district import pupils_by_stage, schools_by_stage

    d = load_district(district)
    name = "bundled example county" if district is None else d.source
    click.echo(f"District: {name}")
    kinds = d.zones["kind"].value_counts().reindex(["urban", "town", "rural"]).fillna(0).astype(int)
    click.echo(f"\nZones: {len(d.zones)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    click.echo(f"\nSchools teaching each stage (a school teaching several stages counts under each):\n{schools_by_stage(d).to_string()}")
    if d.has_history:
        click.echo(f"\nPupils on roll by stage and school year:\n{pupils_by_stage(d).to_string()}")
    else:
        click.echo("\nPupils on roll: no enrolment history")
    b = d.births.groupby("year")["births"].sum()
    if len(b):
        click.echo(
            f"\nBirths: {int(b.index.min())}-{int(b.index.max())}, last year {int(b.iloc[-1]):,} (peak {int(b.max()):,} in {int(b.idxmax())})"
        )
    else:
        click.echo("\nBirths: none (entry grades need projection.entry_rule held, trend or children)")
    optional = [t for t in ("housing", "travel", "projects", "children", "demand", "attendance") if len(getattr(d, t))]
    click.echo(f"Optional tables: {', '.join(f'{t} ({len(getattr(d, t))} rows)' for t in optional) or 'none'}")


def _step(msg: str) -> None:
    """Progress line on stderr, so stdout stays a clean table."""
    click.echo(f"[capacity] {msg}", err=True)


def _floats(text: str | None, name: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"found {text!r}; expected numbers separated by commas, e.g. 0.1,0.9", param_hint=name) from None


def _target(arg: str | None):
    """(district, scenario or None) for a [SCENARIO|DISTRICT] argument: a .yaml file is a
    scenario (its district and settings are used), anything else a district."""
    from capacity.scenario import load_scenario

    if arg is not None and arg.lower().endswith((".yaml", ".yml")):
        from capacity.scenario import fit_scenario

        sc = load_scenario(arg)
        d = load_district(sc.district_path)
        return d, fit_scenario(sc, d.grades)
    return load_district(arg), None


def _output(out: str | None, district, scenario=None, also: tuple[Path, ...] = ()):
    """The checked, locked temporary output folder (None without --out); enter it before computing."""
    if not out:
        return nullcontext(None)
    from capacity.outputs import atomic_dir

    files = tuple(Path(f) for f in scenario.files) if scenario is not None else ()
    return atomic_dir(out, protect=(Path(district.source), *also), protect_folder_of=files)


def _manifest(folder: Path, command: str, district, settings: dict, timings: dict | None = None) -> None:
    from capacity.notes import current
    from capacity.run import command_manifest, write_json

    write_json(folder / "manifest.json", command_manifest(command, district, settings, current(), timings or {}))


def _defaults(cls, district, **given):
    """Settings of class ``cls`` with the defaults of the district's grade system and ``given`` values."""
    from capacity.standards import settings_for_system

    return settings_for_system(cls, district.grades, given)


def _projection_settings(scenario, district, **opts):
    from capacity.projection import ProjectionSettings

    given = {k: v for k, v in opts.items() if v is not None}
    base = scenario.projection if scenario is not None else _defaults(ProjectionSettings, district)
    return base.with_(**given)


@cli.command()
@click.argument("district", required=False, metavar="[SCENARIO|DISTRICT]")
@click.option("--horizon", type=int, help="Years to project (1-20; default 10).")
@click.option(
    "--method",
    type=click.Choice(["auto", "combined", "mean", "weighted", "exp_smoothing", "median", "persistence", "trend"]),
    help="Projection method (default auto: the best method in the district's own back-test, combined unless one beats it).",
)
@click.option("--window", type=int, help="History years behind each ratio (default 3).")
@click.option("--quantiles", help="Quantiles besides the median, e.g. 0.1,0.9 (default).")
@click.option("--draws", type=int, help="Monte-Carlo draws (default 1000).")
@click.option("--births-variant", help="Named births variant: low, medium, high.")
@click.option("--unit", type=click.Choice(["zone", "school"]), help=UNIT_HELP)
@click.option("--out", type=click.Path(file_okay=False), help="Folder for CSV tables and fan charts.")
def project(district, horizon, method, window, quantiles, draws, births_variant, unit, out) -> None:
    """Project pupils by zone (or by school, --unit school) and grade with calibrated uncertainty."""
    _step("loading district")
    d, sc = _target(district)
    settings = _projection_settings(
        sc,
        d,
        horizon=horizon,
        method=method,
        window=window,
        quantiles=_floats(quantiles, "--quantiles"),
        draws=draws,
        births_variant=births_variant,
        unit=unit,
    )
    with _output(out, d, sc) as tmp:
        _project_body(d, settings, tmp)
    if out:
        click.echo(f"Wrote {out}/ (projection.csv, projection_{settings.unit}_stage.csv, ratios.csv, calibration.csv, charts/)")


def _project_body(d, settings, tmp: Path | None) -> None:
    from capacity.preflight import check_projection
    from capacity.projection import project_district

    check_projection(d, settings)
    _step(f"fitting ratios, back-testing for calibration, simulating {settings.draws} draws")
    p = project_district(d, settings)
    county = p.aggregate("stage")
    qcols = [c for c in county.columns if c.startswith("p") and c != "pupils"]
    wide = county.assign(cell=_interval_text(county, qcols)).pivot(index="year", columns="stage", values="cell")
    by = ", each school on its own: the school-level mode" if p.history.unit == "school" else ""
    click.echo(f"Projection from {p.origin} by the cohort model (method {p.method}{by}); pupils, median [{', '.join(qcols)}]:")
    click.echo(wide.to_string())
    cal = p.calibration.table
    if len(cal):
        cal = cal[cal["level"] == "stage"]  # the level printed above
        cov = ", ".join(
            f"{int(r.lead)}y {r.coverage_calibrated:.0%}" for r in cal.itertuples() if r.coverage_calibrated == r.coverage_calibrated
        )
        click.echo(f"Back-test coverage of the stage totals' P10-P90 interval (leave-one-origin-out): {cov}")
    if tmp is not None:
        from capacity.report.projection_plots import fan_chart, save
        from capacity.run import safe_file_name, write_projection_files

        school = p.history.unit == "school"
        names = (d.schools.set_index("school_id") if school else d.zones.set_index("zone_id"))["name"]
        write_projection_files(p, tmp)
        charts = tmp / "charts"
        charts.mkdir()
        zs = p.aggregate("zone_stage", quantiles=(0.1, 0.9))
        live = zs.groupby(["zone_id", "stage"])["pupils"].sum()
        units = set(p.history.zones) if not school else {u for u, s in zip(p.history.zones, p.history.school_unit, strict=True) if s}
        for (z, st), total in live.items():
            if total > 0 and z in units:  # a school-level run draws one chart per school and stage
                save(fan_chart(p, z, st, names.get(z), zs), charts / safe_file_name(f"fan_{z}_{st}", ".png"))
        _manifest(tmp, "project", d, {"projection": settings.as_dict(), "projection.method_used": p.method})


def _interval_text(frame, qcols):
    lo, hi = (qcols[0], qcols[-1]) if qcols else ("pupils", "pupils")
    return [f"{m:,.0f} [{a:,.0f}-{b:,.0f}]" for m, a, b in zip(frame["pupils"], frame[lo], frame[hi], strict=True)]


@cli.command()
@click.argument("target", required=False, metavar="[SCENARIO|DISTRICT]")
@click.option("--district", "district_arg", help="District folder or workbook to back-test with the scenario's settings.")
@click.option("--window", type=int, help="History years behind each ratio (default: the scenario's, else 3).")
@click.option("--last-target", type=int, help="Last history year used as a target (default: the last).")
@click.option(
    "--level",
    type=click.Choice(["all", "total", "stage", "zone", "zone_stage", "zone_grade"]),
    default="all",
    show_default=True,
    help="Level whose table is printed (all: every level).",
)
@click.option("--unit", type=click.Choice(["zone", "school"]), help=UNIT_HELP)
@click.option("--out", type=click.Path(file_okay=False), help="Folder for metrics CSVs and the error chart.")
def backtest(target, district_arg, window, last_target, level, unit, out) -> None:
    """Rolling-origin back-test of the scenario's method beside persistence and trend: MAPE, bias,
    P10-P90 coverage and width by lead 1-10 and level."""
    from capacity.preflight import check_backtest

    _step("loading district")
    d, sc = _target(target)
    if district_arg is not None:
        from capacity.scenario import fit_scenario, load_scenario

        d = load_district(district_arg)
        sc = fit_scenario(load_scenario(target), d.grades) if sc is not None else None
    settings = _projection_settings(sc, d, window=window, unit=unit)
    check_backtest(d, settings, last_target)
    with _output(out, d, sc) as tmp:
        _backtest_body(d, settings, last_target, level, tmp)
    if out:
        click.echo(f"Wrote {out}/ (backtest_metrics.csv, backtest_errors.csv, backtest_error.png)")


def _backtest_body(d, settings, last_target, level, tmp: Path | None) -> None:
    from capacity.projection import backtest_errors, history_from_district
    from capacity.projection.backtest import BASELINES, LEVELS, backtest_table, backtest_wide, choose_method

    h = history_from_district(d, settings.unit)
    if h.missing_years:
        from capacity.notes import note

        note(
            f"history {h.years[0]}-{h.years[-1]} misses {', '.join(map(str, h.missing_years))}: a missing year is never an origin "
            "nor a scored target, and no ratio is taken across it"
        )
    if settings.method == "auto":
        _step("choosing the method")
    method, used = choose_method(h, settings)  # auto may choose entry rules: they go into used (the manifest keeps the user's)
    _step("projecting from every origin")
    errs = backtest_errors(h, used, tuple(dict.fromkeys((method, *BASELINES))), last_target)
    tab = backtest_table(h, used, method, last_target, errors=errs)
    click.echo(
        f"Back-test of method {method} beside {' and '.join(b for b in BASELINES if b != method)} "
        f"(history {h.years[0]}-{h.years[-1]}, each origin sees only its past)."
    )
    for lv in LEVELS if level == "all" else (level,):
        click.echo(
            f"\n{lv.replace('zone', h.unit).replace('_', ' x ')}: MAPE, bias (%), P10-P90 coverage (%, leave-one-origin-out), width (% of projection), by lead"
        )
        click.echo(backtest_wide(tab, lv).to_string(na_rep="-"))
    if tmp is not None:
        from capacity.projection.schools import school_levels
        from capacity.report.projection_plots import backtest_chart, save

        school_levels(tab, h).to_csv(tmp / "backtest_metrics.csv", index=False)  # school-level mode: levels named by school
        school_levels(errs, h).to_csv(tmp / "backtest_errors.csv", index=False)
        shown = "zone_stage" if level == "all" else level
        chart = tab[tab["level"] == shown].assign(lead=lambda f: f["lead"].astype(str))
        save(backtest_chart(chart, f"Back-test MAPE by lead ({shown} level)"), tmp / "backtest_error.png")
        _manifest(
            tmp,
            "backtest",
            d,
            {"projection": settings.as_dict(), "projection.method_used": method, "last_target": last_target, "unit": settings.unit},
        )


@cli.command()
@click.argument("district", required=False, metavar="[SCENARIO|DISTRICT]")
@click.option("--horizon", type=int, help="Years to project (default 10).")
@click.option("--quantile", type=float, help="Projection quantile taken as demand (default 0.5).")
@click.option("--warning-window", type=int, help="Years ahead that turn a zone amber (default 2).")
@click.option("--unit", type=click.Choice(["zone", "school"]), help=UNIT_HELP + " School: each school's pupils against its own seats.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for tables, budget_request.xlsx and charts.")
def gap(district, horizon, quantile, warning_window, unit, out) -> None:
    """Seat gap and early warning, class sizes, staffing and the budget needed (status quo)."""
    from capacity.gap import GapSettings

    _step("loading district")
    d, sc = _target(district)
    base = sc.gap if sc is not None else _defaults(GapSettings, d)
    gs = base.with_(**{k: v for k, v in {"quantile": quantile, "warning_window": warning_window}.items() if v is not None})
    ps = _projection_settings(sc, d, horizon=horizon, unit=unit)
    with _output(out, d, sc) as tmp:
        _gap_body(d, ps, gs, tmp, sc.report if sc is not None else None)
    if out:
        click.echo(f"Wrote {out}/ (CSV tables, budget_request.xlsx, charts/)")


def _gap_body(d, ps, gs, tmp: Path | None, report_settings=None) -> None:
    from capacity.gap import gap_report
    from capacity.preflight import check_projection
    from capacity.projection import project_district

    check_projection(d, ps)
    _step("projecting")
    p = project_district(d, ps)
    _step("computing seats, gaps, classes, staffing and budget")
    if report_settings is None:
        r = gap_report(d, p, gs)
    else:
        from capacity.gap.staffing import read_teachers_on_hand

        on_hand = read_teachers_on_hand(report_settings.teachers_on_hand) if report_settings.teachers_on_hand else None
        r = gap_report(d, p, gs, report_settings.warning_rule, on_hand)
    from capacity.gap.gap import gap_unit

    by = gap_unit(r.gap)
    if by == "school":
        click.echo("Seat gap by school (school-level mode, projection.unit: school): each school's pupils against its own seats.")
    county = r.gap[r.gap["level"] == "county"].pivot(index="year", columns="stage", values="gap")
    click.echo(
        f"Seats minus demand (P{gs.quantile * 100:g}), county, by stage (negative = short):\n{county.round(0).astype(int).to_string()}"
    )
    if len(r.first_red):
        cols = ["school_id", "zone_id"] if by == "school" else ["zone_id"]
        click.echo(
            f"First red year by {by} and stage:\n"
            + r.first_red[[*cols, "name", "stage", "first_red_year", "shortfall"]].round(0).to_string(index=False)
        )
    else:
        click.echo(f"No {by} is short of seats in any projected year.")
    click.echo(
        f"Budget to close every {by}'s shortfall: {r.budget['cost'].sum():,.0f} ({int(r.budget['new_classrooms'].sum())} classrooms)"
    )
    above = int(r.school_sizes.loc[r.school_sizes["basis"] == "actual", "above_cap"].sum())
    click.echo(f"Policy failures: {len(r.policy)} school-grade-years; schools above the size cap in {d.last_year}: {above}")
    if tmp is not None:
        from capacity.run import write_gap_files

        write_gap_files(r, d, p, tmp)
        _manifest(tmp, "gap", d, {"projection": ps.as_dict(), "gap": gs.as_dict(), "projection.method_used": p.method})


@cli.command()
@click.argument("district", required=False, metavar="[SCENARIO|DISTRICT]")
@click.option("--horizon", type=int, help="Years to plan (default 10).")
@click.option("--quantile", type=float, help="Projection quantile planned against (default 0.5).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), help="MILP solver (default highs).")
@click.option("--time-limit", type=float, help="Solver time limit in seconds (default 60).")
@click.option("--gap", type=float, help="Relative MIP gap to stop at (default 0.005).")
@click.option("--threads", type=int, help="Solver threads (default 2).")
@click.option("--relax-classes", is_flag=True, help="Let class counts be fractional (fast what-if).")
@click.option("--verbose", is_flag=True, help="Show the solver's log.")
@click.option(
    "--robust", type=int, help="Also plan against this many demand draws at once and report how often each plan leaves pupils unseated."
)
@click.option(
    "--demand",
    type=click.Path(exists=True, dir_okay=False),
    help="Plan against this demand CSV (year, zone_id, grade, pupils) instead of a projection.",
)
@click.option("--unit", type=click.Choice(["zone", "school"]), help=UNIT_HELP + " School: each school's pupils are its zone's demand.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the plan tables and summary.json.")
def plan(district, horizon, quantile, solver, time_limit, gap, threads, relax_classes, verbose, robust, demand, unit, out) -> None:
    """Least-cost plan: classrooms, new schools, mergers and classes for every year."""
    from capacity.plan import PlanSettings
    from capacity.projection import ProjectionSettings

    _step("loading district")
    d, sc = _target(district)
    opts = {"demand_quantile": quantile, "solver": solver, "time_limit_s": time_limit, "mip_gap": gap, "threads": threads}
    base = sc.plan if sc is not None else _defaults(PlanSettings, d)
    ps = base.with_(
        **{k: v for k, v in opts.items() if v is not None}, integer_classes=not relax_classes and base.integer_classes, verbose=verbose
    )
    proj_settings = sc.projection if sc is not None else _defaults(ProjectionSettings, d, draws=200)
    proj_settings = proj_settings.with_(**{k: v for k, v in {"horizon": horizon, "unit": unit}.items() if v is not None})
    if robust is not None and robust < 1:
        raise click.BadParameter(f"found {robust}; expected a whole number of demand draws >= 1", param_hint="--robust")
    if demand is not None and robust:
        raise click.UsageError("--robust plans against projected demand draws; it cannot be combined with --demand")
    if demand is not None and unit == "school":
        raise click.UsageError("--unit school sets how the projection is made; --demand plans against a demand file by zone instead")
    with _output(out, d, sc) as tmp:
        _plan_body(d, proj_settings, ps, robust, tmp, demand)
    if out:
        click.echo(f"Wrote {out}/ (plan tables, summary.json, manifest.json)")


def _plan_body(d, proj_settings, ps, robust, tmp: Path | None, demand: str | None = None) -> None:
    from capacity.plan import closed_text, opened_text, plan_district, plan_from_projection, read_demand
    from capacity.plan.strategy import PLAN_FROM
    from capacity.preflight import check_plan, check_projection
    from capacity.projection import project_district

    check_plan(d, ps)
    proj = None
    if demand is None and not d.has_history:
        from capacity.notes import note

        note(
            f"{d.source}: no enrolment history, so the plan is for the years of the district's demand table "
            f"({int(d.demand['year'].min())}-{int(d.demand['year'].max())}), with no projection"
        )
    elif demand is None:
        check_projection(d, proj_settings)
        _step(f"projecting {proj_settings.horizon} years")
        proj = project_district(d, proj_settings)
    _step(f"building and solving the plan ({ps.solver}, time limit {ps.time_limit_s:g} s)")
    if demand is not None:
        # the file is this plan's demand table, by zone of residence (years after the history): as the district's own
        # demand table, it is split among home schools by the attendance matrix where one is given
        dem = read_demand(demand, d)
        r = plan_district(dataclasses.replace(d, demand=dem), dem, ps)
    elif proj is None:
        r = plan_district(d, d.demand, ps)
    else:
        r = plan_from_projection(d, proj, ps)
    s = r.summary
    gap_text = f"{s['gap']:.2%}" if s["gap"] == s["gap"] else "unknown"
    click.echo(
        f"Plan {s['years']}: {s['status']} ({s['solver']}), objective {s['objective']:,.0f}, bound {s['bound']:,.0f}, gap {gap_text}"
    )
    if s.get("plan_from"):
        click.echo(f"Plan found by: {PLAN_FROM[s['plan_from']]}")
    click.echo(
        f"Model: {s['variables']:,} variables ({s['integer_variables']:,} integer), {s['constraints']:,} constraints; build {s['build_s']:.1f} s, solve {s['solve_s']:.1f} s"
    )
    click.echo(
        f"Classrooms built {s['classrooms_built']}, seats added {s['seats_added']:,}, schools opened {opened_text(s)}, "
        f"closed {closed_text(s)}, capital {s['capital_cost']:,.0f}; unmet pupil-years {s['unmet_pupil_years']:,.0f}"
    )
    if len(r.builds):
        click.echo("Builds:\n" + r.builds.to_string(index=False))
    for line in r.shortfalls[:20]:
        click.echo(f"short: {line}")
    if len(r.shortfalls) > 20:
        click.echo(f"... and {len(r.shortfalls) - 20} more shortfalls (see unmet.csv)")
    if robust:
        from capacity.plan.robust import robustness_report

        _step(f"robust plan over {robust} draws and evaluation on {ps.robust_eval_draws} held-out draws (plan.robust_eval_draws)")
        rep = robustness_report(d, proj, ps, k=robust, n_eval=ps.robust_eval_draws, single_plan=r)
        click.echo("Robustness on held-out demand draws:\n" + rep.to_string(index=False))
    alts = None
    if ps.alternatives:
        from capacity.notes import note
        from capacity.plan.alternatives import alternative_tables, plan_alternatives

        _step(f"near-optimal alternatives: {ps.alternatives} within {ps.alternatives_slack:.1%} of the optimum")
        alts = plan_alternatives(d, r)
        for text in alts.notes:
            note(text)
        figures, differences = alternative_tables(alts)
        click.echo("Near-optimal alternatives:\n" + figures.to_string(index=False))
        if len(differences):
            click.echo("Where they differ:\n" + differences.to_string(index=False))
    if tmp is not None:
        from capacity.notes import current
        from capacity.run import plan_timings, write_plan_extras, write_plan_files

        write_plan_files(r, tmp, current())
        write_plan_extras(alts, None, tmp, current())
        _manifest(tmp, "plan", d, {"projection": proj_settings.as_dict(), "plan": ps.as_dict()}, plan_timings(r.summary))


@cli.command()
@click.argument("scenario", metavar="SCENARIO")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for every output (default: runs/<scenario name>).")
@click.option("--override", "override_", help="Named override groups to apply, comma-separated (e.g. high_births,tight_budget).")
def run(scenario, out, override_) -> None:
    """Projection -> gap -> plan -> report for a scenario file; writes tables, charts,
    budget_request.xlsx, report.html and manifest.json into one folder, atomically."""
    from capacity.plan import closed_text, opened_text
    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    groups = tuple(g.strip() for g in override_.split(",") if g.strip()) if override_ else ()
    sc = load_scenario(scenario, groups)
    target = out or str(Path("runs") / sc.name)
    r = run_scenario(sc, target, _step)
    click.echo(f"Scenario {sc.name}: wrote {target}/ (report.html, budget_request.xlsx, manifest.json, projection/, gap/, plan/, charts/)")
    if r.plan is not None:
        s = r.plan.summary
        click.echo(
            f"Plan {s['status']}: capital {s['capital_cost']:,.0f}, seats added {s['seats_added']:,}, opened {opened_text(s)}, closed {closed_text(s)}, unmet pupil-years {s['unmet_pupil_years']:,.0f}"
        )


@cli.command(name="compare")
@click.argument("targets", nargs=-1, required=True, metavar="RUN_OR_SCENARIO...")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="compare",
    show_default=True,
    help="Folder for compare.csv, compare.xlsx and compare.html.",
)
@click.option(
    "--override", "override_", help="Override groups applied to every scenario file given here (file.yaml:a,b adds groups to one)."
)
def compare_cmd(targets, out, override_) -> None:
    """Compare runs side by side (run folders, or scenario files that are run first)."""
    from capacity.compare import assumption_matrix, compare, load_run, parse_spec, plan_choices, stacked, target_matrix
    from capacity.notes import collecting
    from capacity.outputs import atomic_dir
    from capacity.report.html import compare_report_html
    from capacity.report.workbook import write_workbook
    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    groups = tuple(g.strip() for g in override_.split(",") if g.strip()) if override_ else ()
    specs = [parse_spec(t) for t in targets]
    scen = [Path(spec) for spec, _ in specs if Path(spec).suffix.lower() in (".yaml", ".yml")]
    folders = [Path(spec) for spec, _ in specs if Path(spec).suffix.lower() not in (".yaml", ".yml")]
    with atomic_dir(out, protect=tuple(folders), protect_folder_of=tuple(scen)) as tmp:
        runs = []
        for spec, variant in specs:
            p = Path(spec)
            if p.suffix.lower() in (".yaml", ".yml"):
                sc = load_scenario(p, groups + tuple(g for g in variant if g not in groups))
                name = sc.label.replace(" + ", "+")
                folder = Path(out).parent / "runs" / name if Path(out).parent != Path(".") else Path("runs") / name
                _step(f"running {sc.name} into {folder}")
                run_scenario(sc, folder, _step)
                runs.append(load_run(folder))
            else:
                runs.append(load_run(p))
        with collecting() as compare_notes:  # nested: still printed by the command's own collector
            metrics, years, diff = compare(runs)
        extra = {"targets": target_matrix(runs), "mergers": stacked(runs, "plan/mergers"), **plan_choices(runs)}
        metrics.to_csv(tmp / "compare.csv", index=False)
        years.to_csv(tmp / "compare_by_year.csv", index=False)
        diff.to_csv(tmp / "input_diff.csv", index=False)
        write_workbook(
            tmp / "compare.xlsx",
            {"compare": metrics, "by_year": years, **extra, "input_diff": diff, "assumptions": assumption_matrix(runs)},
            [("scenarios", len(metrics)), *[(f"scenario {i + 1}", n) for i, n in enumerate(metrics["scenario"])]],
            None,
            "Comparison of options",
        )
        page = compare_report_html(metrics, years, diff, {**extra, "notes": list(compare_notes)})
        (tmp / "compare.html").write_text(page, encoding="utf-8")
    show = metrics.set_index("scenario").T
    click.echo(show.to_string())
    click.echo(f"Wrote {out}/ (compare.csv, compare_by_year.csv, input_diff.csv, compare.xlsx, compare.html)")


@cli.command()
@click.argument("sweep_file", metavar="SWEEP")
@click.option("--scheduler", help="An existing Dask scheduler, e.g. tcp://host:8786 (default: a local cluster).")
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes of the local cluster.")
@click.option("--serial", is_flag=True, help="Run the members one after the other in this process (no Dask).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for member runs and the comparison (default from the sweep file).")
def sweep(sweep_file, scheduler, workers, serial, out) -> None:
    """Run many scenarios, districts or demand draws in parallel (Dask) and compare them."""
    from dataclasses import replace

    from capacity.outputs import atomic_dir
    from capacity.report.html import compare_report_html
    from capacity.sweep import gather, load_sweep, run_sweep

    name, folder, members = load_sweep(sweep_file)
    if out:
        folder = Path(out)
        members = [replace(m, out=str(folder / Path(m.out).name)) for m in members]
    from capacity.data import EXAMPLE_PATH
    from capacity.outputs import check_protected

    districts = {Path(m.scenario.district_path or EXAMPLE_PATH) for m in members}
    scenario_files = {Path(f) for m in members for f in m.scenario.files} | {Path(sweep_file)}
    check_protected(folder, tuple(districts), tuple(scenario_files))
    _step(f"sweep {name}: {len(members)} members into {folder}")
    status = run_sweep(members, scheduler=scheduler, workers=workers, serial=serial, progress=_step)
    for r in status[status["status"] == "failed"].itertuples(index=False):
        click.echo(f"failed: {r.member}: {r.error.splitlines()[0] if r.error else ''}", err=True)
    metrics, years, diff = gather(status)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_dir(folder / "comparison") as tmp:
        status.to_csv(tmp / "members.csv", index=False)
        metrics.to_csv(tmp / "compare.csv", index=False)
        years.to_csv(tmp / "compare_by_year.csv", index=False)
        diff.to_csv(tmp / "input_diff.csv", index=False)
        (tmp / "compare.html").write_text(compare_report_html(metrics, years, diff), encoding="utf-8")
    counts = status["status"].value_counts().to_dict()
    click.echo(
        f"Sweep {name}: {counts.get('done', 0)} done, {counts.get('skipped', 0)} skipped, {counts.get('failed', 0)} failed; comparison in {folder}/comparison/"
    )
    if counts.get("failed", 0):
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``capacity`` command; exits 2 with a message on bad input.

    Every known problem has its own message and exit status 2; anything unexpected is
    caught here and reported in one line with exit status 1 (no traceback).
    """
    from capacity.notes import collecting

    try:
        with collecting(echo=lambda text: click.echo(text if text.startswith("warning: ") else f"note: {text}")):
            cli.main(args=argv, prog_name="capacity", standalone_mode=False)
    except CapacityError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # plain `capacity`: the help text
            e.show()
            sys.exit(e.exit_code)
        hint = f" (see '{e.ctx.command_path} --help')" if getattr(e, "ctx", None) is not None and e.ctx.command_path else ""
        click.echo(f"error: {e.format_message()}{hint}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except RecursionError:
        click.echo("error: the input is nested too deeply to process; expected plain tables and a flat scenario", err=True)
        sys.exit(2)
    except MemoryError:
        click.echo("error: out of memory; expected a smaller district, fewer draws or a shorter horizon", err=True)
        sys.exit(2)
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        click.echo(f"error: could not read or write{where}: {e.strerror or e}; expected a readable input and a writable output", err=True)
        sys.exit(2)
    except Exception as e:  # the last guard: a clean line, never a traceback
        click.echo(
            f"error: unexpected internal error ({type(e).__name__}: {e}); this is a bug in capacity: please report it with the command you ran",
            err=True,
        )
        sys.exit(1)


__all__ = ["EXAMPLE_PATH", "cli", "main"]
