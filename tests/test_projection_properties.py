"""Metamorphic properties of the cohort model over random zone layouts (hypothesis, deterministic path).

- A stable history (the same pupils every year in every zone and grade, births constant) projects
  stable county totals in every grade whatever the zone layout, and, without shrinkage, stable
  pupils in every zone and grade.
- The county totals do not depend on how the county is cut into zones: any history projects the
  same county totals as the same history summed into one zone.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity.grades import CHINA
from capacity.projection import ProjectionSettings, history_from_frames
from capacity.projection.model import point_path
from capacity.projection.naive import fit_method
from capacity.projection.ratios import flows
from capacity.projection.settings import AUTO_METHODS, COMBINED, ESTIMATORS

YEARS = range(2018, 2026)
BIRTH_YEARS = range(1998, 2026)
HORIZON = 8
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def layouts(draw):
    """Zones, and for every grade the zones that teach it and their share of its pupils.

    Each stage is either absent or split into one or two blocks of grades (e.g. P1-P3 / P4-P6),
    each block taught in a random non-empty set of zones.
    """
    n_zones = draw(st.integers(1, 5))
    zones = [f"Z{i}" for i in range(n_zones)]
    teach: dict[str, dict[str, float]] = {}
    for stage in CHINA.stages:
        if not draw(st.booleans()) and stage.name != "primary":
            continue
        cut = draw(st.integers(1, len(stage.grades)))
        for block in (stage.grades[:cut], stage.grades[cut:]):
            if not block:
                continue
            where = draw(st.lists(st.sampled_from(zones), min_size=1, max_size=n_zones, unique=True))
            weights = draw(st.lists(st.integers(1, 9), min_size=len(where), max_size=len(where)))
            for g in block:
                teach[g] = {z: w / sum(weights) for z, w in zip(where, weights, strict=True)}
    totals = {g: draw(st.integers(20, 600)) for g in teach}
    births = {z: draw(st.integers(0, 400)) for z in zones}
    return zones, teach, totals, births


def frames(zones, teach, pupils_of, births_of):
    p = pd.DataFrame(
        [(y, z, g, pupils_of(g, y) * share) for g, where in teach.items() for z, share in where.items() for y in YEARS],
        columns=["year", "zone_id", "grade", "pupils"],
    )
    b = pd.DataFrame([(y, z, births_of(z, y)) for z in zones for y in BIRTH_YEARS], columns=["year", "zone_id", "births"])
    return p, b


def project(p: pd.DataFrame, b: pd.DataFrame, s: ProjectionSettings, teaching=None) -> tuple[tuple[str, ...], np.ndarray]:
    """Deterministic path; ``teaching(zones)`` gives the schools teaching each grade in each zone, ``teaching(zones, new=True)``
    the new ones among them (else unknown)."""
    h = history_from_frames(p, b)
    h = h if teaching is None else replace(h, teaching=teaching(h.zones), opening=teaching(h.zones, new=True))
    return h.zones, point_path(h, fit_method(h, s, s.method), s, HORIZON)


@PROPERTY
@given(layouts())
def test_stable_history_projects_stable_whatever_the_layout(layout):
    zones, teach, totals, births = layout
    p, b = frames(zones, teach, lambda g, y: totals[g], lambda z, y: births[z])
    expected_county = np.array([totals.get(g, 0.0) for g in CHINA.grades])
    for method in AUTO_METHODS:  # every method auto may choose
        _, proj = project(p, b, ProjectionSettings(horizon=HORIZON, method=method))
        np.testing.assert_allclose(proj.sum(0), np.repeat(expected_county[:, None], HORIZON, 1), rtol=1e-9, atol=1e-6)
        # without shrinkage every zone keeps exactly its pupils in every grade
        zone_ids, proj = project(p, b, ProjectionSettings(horizon=HORIZON, shrinkage_pupils=0, method=method))
        hist = p[p.year == YEARS[-1]].pivot_table(index="zone_id", columns="grade", values="pupils", aggfunc="sum")
        hist = hist.reindex(index=list(zone_ids), columns=list(CHINA.grades)).fillna(0.0).to_numpy()
        np.testing.assert_allclose(proj, np.repeat(hist[:, :, None], HORIZON, 2), rtol=1e-9, atol=1e-6)


@PROPERTY
@given(layouts(), st.integers(0, 2**32 - 1))
def test_county_totals_do_not_depend_on_the_zone_layout(layout, seed):
    zones, teach, totals, births = layout
    rng = np.random.default_rng(seed)
    grow = {g: rng.uniform(0.8, 1.2, len(YEARS)) for g in teach}
    birth_change = {z: rng.uniform(0.7, 1.3, len(BIRTH_YEARS)) for z in zones}
    p, b = frames(
        zones, teach, lambda g, y: totals[g] * grow[g][y - YEARS[0]], lambda z, y: births[z] * birth_change[z][y - BIRTH_YEARS[0]]
    )
    one = p.assign(zone_id="ALL").groupby(["year", "zone_id", "grade"], as_index=False)["pupils"].sum()
    one_b = b.assign(zone_id="ALL").groupby(["year", "zone_id"], as_index=False)["births"].sum()
    # the cohort model with any estimator, and persistence (trend's floor at 0 acts per cell, so it is not additive;
    # and auto's choice itself legitimately depends on the layout)
    # the schools table may also know schools that teach a grade without history (new ones): the mask of teaching zones
    # (kappa 0 and no arrivals elsewhere) moves pupils between zones, never in or out of the county
    extra = rng.random((len(zones), len(CHINA.grades))) < 0.3

    def teaching(ids, new=False):  # new: only the schools without history (kept cohorts where the history had none)
        return np.array(
            [[float((not new and z in teach.get(g, {})) or extra[zones.index(z), gi]) for gi, g in enumerate(CHINA.grades)] for z in ids]
        )

    for method in (*ESTIMATORS, COMBINED, "persistence"):
        s = ProjectionSettings(horizon=HORIZON, window=4, method=method)
        _, by_zone = project(p, b, s)
        _, masked = project(p, b, s, teaching)
        _, merged = project(one, one_b, s)
        np.testing.assert_allclose(by_zone.sum(0), merged[0], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(masked.sum(0), merged[0], rtol=1e-9, atol=1e-6)


@PROPERTY
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_moves_keep_the_county_total_whatever_the_schools_teach(n_zones, seed):
    # flows() on random windows, ratios and teaching masks (zones that teach without history, zones that taught and stopped):
    # every grade's cohort, kept or moved, ends in some zone, and none in a zone that does not teach the grade
    rng = np.random.default_rng(seed)
    g, t = 5, 3
    d = rng.integers(0, 200, (n_zones, g, t)) * (rng.random((n_zones, g, 1)) < 0.7)
    n = rng.integers(0, 200, (n_zones, g, t)) * (rng.random((n_zones, g, 1)) < 0.7)
    ratio, r_c = rng.uniform(0, 1.5, (n_zones, g)), rng.uniform(0.5, 1.2, g) * (n.sum((0, 2)) > 0)  # R_c is 0 without pupils
    teaching = rng.integers(0, 3, (n_zones, g)).astype(float)
    feeder = rng.uniform(0, 300, (n_zones, g))
    keep, share = flows(n.astype(float), d.astype(float), ratio, r_c, np.zeros(g, dtype=bool), teaching)
    cohort = r_c * feeder
    placed = keep * cohort + share * ((1 - keep) * cohort).sum(0)
    taught = teaching > 0
    np.testing.assert_allclose(placed.sum(0), cohort.sum(0), rtol=1e-9)
    assert (placed[~taught & taught.any(0)] == 0).all()
