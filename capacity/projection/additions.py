"""Pupils added to the projection from outside the cohort flow: new housing, net migration,
and known children. Pure functions returning arrays (zones, grades, horizon)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.errors import ScenarioError
from capacity.grades import GradeSystem
from capacity.projection.settings import ProjectionSettings


def housing_stock(
    housing: pd.DataFrame,
    zones: tuple[str, ...],
    origin: int,
    horizon: int,
    settings: ProjectionSettings,
    grades: GradeSystem,
    taught: frozenset[str] | None = None,
    taught_until: dict[str, int] | None = None,
) -> np.ndarray:
    """Pupils living in new dwellings, present each projected year (a stock, not a cohort).

    A dwelling of type d completed in year c holds ``yield[d][stage]`` pupils of the stage
    at maturity and keeps holding them: the share present k years after completion is
    p(k) = ``housing_profile[k]`` (0 before completion, 1 after the profile ends). Its pupils
    are spread evenly over the stage's grades and are not aged on (as they grow up, younger
    children take their places; the older stages have their own yields). The part already
    present at ``origin`` is in the history::

        H[z,g,t] = sum_rows dwellings Y[d, stage(g)] (p(t - c) - p(origin - c)) / grades in stage(g)

    Only stages in ``taught`` (the stages some open or candidate school teaches; all when None)
    get housing pupils: a K-8 district's default high-school yield would otherwise ask for seats
    it never provides. ``taught_until`` (stage -> year): a stage whose every such school closes by a decided closure
    (schools ``closed_from``) is taught by none from the last of those years, and from then its housing pupils are
    left out in the same way. (Where only a zone loses its last school of a stage, its housing pupils are in the
    projection's stock and move with the zone's cohorts: capacity/projection/closures.py.) Each stage left out, and
    each dwelling row completed after the last projected year, is stated in a note.
    """
    out = np.zeros((len(zones), len(grades.grades), horizon))
    if housing is None or housing.empty:
        return out
    zi = {z: i for i, z in enumerate(zones)}
    unknown = sorted(set(housing["dwelling_type"]) - set(settings.housing_yield))
    if unknown:
        import difflib

        known = sorted(settings.housing_yield)
        found = []
        for u in unknown:
            rows = housing[housing["dwelling_type"] == u]
            near = difflib.get_close_matches(u, known, n=1)
            found.append(
                f"'{u}' ({len(rows)} row(s), zone {rows['zone_id'].iloc[0]} {int(rows['year'].iloc[0])} first)"
                + (f" - did you mean '{near[0]}'?" if near else "")
            )
        raise ScenarioError(
            f"housing, column 'dwelling_type': found {'; '.join(found)}; expected a type with a yield under "
            f"projection.housing_yield ({', '.join(known) or 'none'}): add it there, or correct the housing table"
        )
    profile = np.asarray(settings.housing_profile, dtype=float)

    def present(k: np.ndarray) -> np.ndarray:
        return np.where(k < 0, 0.0, profile[np.clip(k, 0, len(profile) - 1)])

    years = np.arange(origin + 1, origin + horizon + 1)
    untaught: dict[str, float] = {}
    closed: dict[str, float] = {}
    until = taught_until or {}
    for r in housing.itertuples(index=False):
        if r.zone_id not in zi:
            raise ScenarioError(f"housing zone_id '{r.zone_id}' (year {r.year}) is not a zone of the projection ({', '.join(zones)})")
        new_share = present(years - int(r.year)) - present(np.array([origin - int(r.year)]))
        for stage, y in settings.housing_yield[r.dwelling_type].items():
            if taught is not None and stage not in taught:
                untaught[stage] = untaught.get(stage, 0.0) + float(r.dwellings * y * new_share[-1])
                continue
            share = new_share
            if stage in until and until[stage] <= years[-1]:
                share = np.where(years < until[stage], new_share, 0.0)
                closed[stage] = closed.get(stage, 0.0) + float(r.dwellings * y * new_share[-1])
            idx = [grades.grade_index[g] for g in grades.stage_by_name[stage].grades]
            out[zi[r.zone_id], idx, :] += r.dwellings * y * share / len(idx)
    later = housing[housing["year"].astype(int) > origin + horizon]
    if untaught or closed or len(later):
        from capacity.notes import note

        for stage, v in sorted(closed.items()):
            note(
                f"housing: every school teaching {stage} closes by {until[stage]} (decided closures, schools.csv closed_from), so "
                f"no school teaches it from then and the housing yield for {stage} is not applied from {until[stage]} "
                f"({v:,.1f} pupils by {origin + horizon}), as for a stage no school teaches"
            )

        if untaught:
            note(
                f"housing: no open or candidate school teaches {', '.join(sorted(untaught))}, so the housing yield for "
                f"{'that stage' if len(untaught) == 1 else 'those stages'} is not applied ("
                + ", ".join(f"{s} {v:,.1f} pupils by {origin + horizon}" for s, v in sorted(untaught.items()))
                + "); the district's seats cover the stages its schools teach"
            )
        if len(later):
            note(
                f"housing: {int(later['dwellings'].sum()):,} dwellings completed after {origin + horizon} "
                f"({', '.join(map(str, sorted(later['year'].astype(int).unique())))}) add no pupils within the projection's years"
            )
    return out


def migration_additions(net_migration: dict[str, float], zones: tuple[str, ...], last_pupils: np.ndarray, horizon: int) -> np.ndarray:
    """Net migrant pupils per zone and year, spread over grades by the zone's last-year shares."""
    n_grades = last_pupils.shape[1]
    out = np.zeros((len(zones), n_grades, horizon))
    zi = {z: i for i, z in enumerate(zones)}
    for z, m in net_migration.items():
        if z not in zi:
            raise ScenarioError(
                f"projection.net_migration.{z}: found zone '{z}'; expected one of the district's zones ({', '.join(zones)})"
            )
        tot = last_pupils[zi[z]].sum()
        share = last_pupils[zi[z]] / tot if tot > 0 else np.full(n_grades, 1.0 / n_grades)
        out[zi[z]] += m * share[:, None]
    return out


def children_array(
    children: pd.DataFrame, zones: tuple[str, ...], origin: int, horizon: int, settings: ProjectionSettings, grades: GradeSystem
) -> np.ndarray | None:
    """Known children entering each entry grade, (zones, horizon, grades), NaN where unknown."""
    if children is None or children.empty:
        return None
    out = np.full((len(zones), horizon, len(grades.grades)), np.nan)
    zi = {z: i for i, z in enumerate(zones)}
    c = children.set_index(["zone_id", "birth_year"])["children"]
    for g, off in settings.entry_offsets.items():
        if off is None:
            continue
        gi = grades.grade_index[g]
        for s in range(horizon):
            by = origin + 1 + s - off
            for z, i in zi.items():
                v = c.get((z, by))
                if v is not None:
                    out[i, s, gi] = float(v)
    return out
