"""Pupils added to the projection from outside the cohort flow: new housing, net migration,
and known children. Pure functions returning arrays (zones, grades, horizon)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capacity.errors import ScenarioError
from capacity.grades import GRADES, STAGE_BY_NAME
from capacity.projection.settings import ProjectionSettings


def housing_additions(housing: pd.DataFrame, zones: tuple[str, ...], origin: int, horizon: int, settings: ProjectionSettings) -> np.ndarray:
    """Pupils arriving from new dwellings.

    A dwelling of type d completed in year c holds ``yield[d][stage]`` pupils at maturity,
    reached along ``housing_profile`` (share present 0, 1, 2, ... years after completion).
    Each year's increase of that share arrives spread evenly over the stage's grades and
    then ages through the grades with the cohort flow. Arrivals in or before ``origin``
    are already in the history and are not added again.
    """
    out = np.zeros((len(zones), len(GRADES), horizon))
    if housing is None or housing.empty:
        return out
    zi = {z: i for i, z in enumerate(zones)}
    unknown = sorted(set(housing["dwelling_type"]) - set(settings.housing_yield))
    if unknown:
        raise ScenarioError(
            f"housing dwelling_type {', '.join(repr(u) for u in unknown)} has no yield: add it under projection.housing_yield "
            f"(known types: {', '.join(sorted(settings.housing_yield))})"
        )
    profile = np.asarray(settings.housing_profile)
    step = np.diff(np.concatenate([[0.0], profile]))
    for r in housing.itertuples(index=False):
        if r.zone_id not in zi:
            continue
        for stage, y in settings.housing_yield[r.dwelling_type].items():
            grades = [GRADES.index(g) for g in STAGE_BY_NAME[stage].grades]
            for k, inc in enumerate(step):
                s = int(r.year) + k - origin - 1
                if 0 <= s < horizon and inc > 0:
                    out[zi[r.zone_id], grades, s] += r.dwellings * y * inc / len(grades)
    return out


def migration_additions(net_migration: dict[str, float], zones: tuple[str, ...], last_pupils: np.ndarray, horizon: int) -> np.ndarray:
    """Net migrant pupils per zone and year, spread over grades by the zone's last-year shares."""
    out = np.zeros((len(zones), len(GRADES), horizon))
    zi = {z: i for i, z in enumerate(zones)}
    for z, m in net_migration.items():
        if z not in zi:
            raise ScenarioError(
                f"projection.net_migration.{z}: found zone '{z}'; expected one of the district's zones ({', '.join(zones)})"
            )
        tot = last_pupils[zi[z]].sum()
        share = last_pupils[zi[z]] / tot if tot > 0 else np.full(len(GRADES), 1.0 / len(GRADES))
        out[zi[z]] += m * share[:, None]
    return out


def children_array(
    children: pd.DataFrame, zones: tuple[str, ...], origin: int, horizon: int, settings: ProjectionSettings
) -> np.ndarray | None:
    """Known children entering each entry grade, (zones, horizon, grades), NaN where unknown."""
    if children is None or children.empty:
        return None
    out = np.full((len(zones), horizon, len(GRADES)), np.nan)
    zi = {z: i for i, z in enumerate(zones)}
    c = children.set_index(["zone_id", "birth_year"])["children"]
    for g, off in settings.entry_offsets.items():
        if off is None:
            continue
        gi = GRADES.index(g)
        for s in range(horizon):
            by = origin + 1 + s - off
            for z, i in zi.items():
                v = c.get((z, by))
                if v is not None:
                    out[i, s, gi] = float(v)
    return out
