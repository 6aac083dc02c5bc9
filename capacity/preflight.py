"""Checks of settings against the district, run before any computation.

Settings are checked on their own when they are built (capacity/settings_base.py); here
they meet the data: a value the model would quietly clip to the data (a window longer than
the history, more births base years than births, a back-test target outside the history,
a calibration with too few origins) is either refused (ScenarioError naming the key, found
and expected) or accepted with a note (capacity.notes) that is printed and recorded.
"""

from __future__ import annotations

from capacity.errors import ScenarioError
from capacity.notes import note


def _history(district) -> tuple[int, ...]:
    return tuple(district.history_years)


def _require_history(district) -> None:
    """Refuse a district without enrolment history (a demand-only district), pointing to `capacity plan`."""
    if not _history(district):
        from capacity.errors import ProjectionError

        demand = district.demand["year"]
        raise ProjectionError(
            f"{district.source}: enrolment: found no enrolment history; expected pupils by school, grade and year to project from "
            + (
                f"(to plan the demand table's years {demand.min()}-{demand.max()} without a projection, run `capacity plan` on the "
                "scenario or the district)"
                if len(demand)
                else "(enrolment.csv)"
            )
        )


def check_projection(district, settings) -> None:
    """Notes for projection settings the history cannot fully support."""
    _require_history(district)
    years = _history(district)
    n = len(years)
    if n < 2:
        from capacity.errors import ProjectionError

        raise ProjectionError(
            f"{district.source}: enrolment: found one history year ({years[0]}); expected at least 2 years for the cohort model "
            "(to plan without a projection, give pupils by zone in demand.csv and run `capacity plan`)"
        )
    if settings.window > n:
        note(f"projection.window: found {settings.window} years; the history {years[0]}-{years[-1]} has {n}, so ratios use those {n} years")
    births_years = district.births["year"].nunique() if len(district.births) else 0
    if births_years and settings.births_base_years > births_years:
        note(
            f"projection.births_base_years: found {settings.births_base_years}; the births table has {births_years} year(s), "
            f"so future births are based on those {births_years}"
        )
    origins = max(0, (years[-1] - 1) - (years[0] + settings.window) + 1)
    if settings.calibrate and origins < 2:
        note(
            f"projection.calibrate: the history {years[0]}-{years[-1]} with a {settings.window}-year window gives {origins} "
            "back-test origin(s), fewer than the 2 needed: the uncertainty is not calibrated (raw draws are reported)"
        )
    elif settings.calibrate and settings.horizon > origins:
        note(
            f"projection.calibrate: back-tests reach at most {origins} year(s) ahead; "
            + (f"lead {settings.horizon} uses" if settings.horizon == origins + 1 else f"leads {origins + 1}-{settings.horizon} use")
            + f" the spread factor of lead {origins}"
        )
    thin = [q for q in sorted(set(settings.quantiles) | {0.5}) if min(q, 1 - q) * settings.draws < 1]
    if thin:
        note(
            f"projection.quantiles: {', '.join(f'{q:g}' for q in thin)} from {settings.draws} draws is the most extreme draw "
            f"(expected at least {int(1 / min(min(q, 1 - q) for q in thin)) + 1} draws for such a quantile)"
        )
    # method auto with too short a history to back-test uses the default method and says so (backtest.choose_method)
    _note_late_projects(district, years[-1] + settings.horizon)


def _note_late_projects(district, last_year: int) -> None:
    """Decided projects completed after the last projected or planned year count nowhere: say so."""
    p = district.projects
    late = p[p["completion_year"] > last_year] if len(p) else p
    if len(late):
        listed = ", ".join(f"'{r.project_id}' at '{r.school_id}' ({int(r.completion_year)})" for r in late.itertuples())
        note(
            f"projects.csv: {listed} complete after {last_year}, the last year projected and planned: their rooms and costs count "
            "in no seat, gap, plan or budget of this run (a longer horizon would count them)"
        )


def check_backtest(district, settings, last_target: int | None) -> None:
    """Refuse back-test options outside the history."""
    _require_history(district)
    years = _history(district)
    first_ok = years[0] + settings.window + 1
    if last_target is not None and not first_ok <= last_target <= years[-1]:
        raise ScenarioError(
            f"--last-target: found {last_target}; expected a history year from {first_ok} to {years[-1]} "
            f"(history {years[0]}-{years[-1]}, window {settings.window})"
        )
    if len(years) < 3:
        raise ScenarioError(
            f"{district.source}: enrolment: found the history {years[0]}-{years[-1]} ({len(years)} years); expected at least 3 "
            "years to back-test (a window of 1 year, one year to fit after it and one target year)"
        )
    if first_ok > years[-1]:
        raise ScenarioError(
            f"--window: found {settings.window}; expected at most {max(0, len(years) - 2)} for the history {years[0]}-{years[-1]} "
            "(one year to fit after the window and one target year)"
        )


def check_plan(district, settings) -> None:
    """Every plan setting that names something in the district or the solver, all problems at once."""
    from capacity.plan.solve import solver_option_problems

    problems = solver_option_problems(settings)
    sectors = {"public", "private"} | set(district.schools["sector"].dropna())
    unknown = [s for s in settings.build_sectors if s not in sectors]
    if unknown:
        problems.append(f"plan.build_sectors: found {', '.join(map(repr, unknown))}; expected sectors among {', '.join(sorted(sectors))}")
    ids = set(district.schools["school_id"])
    for key in ("force_close", "forbid_close"):
        missing = [x for x in getattr(settings, key) if x not in ids]
        if missing:
            problems.append(f"plan.{key}: found school {', '.join(map(repr, missing))}; expected a school_id of the district")
    forced = set(settings.force_close) & ids
    p = district.projects
    for r in p[p["school_id"].isin(forced)].itertuples() if len(p) else ():
        problems.append(
            f"plan.force_close: found '{r.school_id}', which has the decided project '{r.project_id}' (completed {int(r.completion_year)}); "
            "expected a school to close without decided building (drop the project from projects.csv, or do not force the closure)"
        )
    kept = sorted(set(district.decided_closures.index) & set(settings.forbid_close))
    if kept:
        problems.append(
            f"plan.forbid_close: found {', '.join(map(repr, kept))}, which a decided closure closes (schools closed_from); "
            "expected schools the district does not close (drop the closure from schools.csv, or the school from forbid_close)"
        )
    both = sorted(forced & set(settings.forbid_close))
    if both:
        problems.append(f"plan.force_close and plan.forbid_close: found {', '.join(both)} in both; expected each school in at most one")
    existing = district.schools[district.schools["status"] == "open"]
    if len(existing) and set(existing["school_id"]) <= forced and not settings.allow_new_schools:
        problems.append(
            f"plan.force_close: found every school ({len(existing)}) forced to close and plan.allow_new_schools false; "
            "expected at least one school left to teach the pupils"
        )
    if problems:
        raise ScenarioError("invalid plan settings:\n  - " + "\n  - ".join(problems))
