"""Projection API: validate -> fit -> calibrate -> simulate -> a result object with tidy tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError
from capacity.grades import GradeSystem, grade_words
from capacity.projection.additions import children_array, housing_stock, migration_additions
from capacity.projection.backtest import Calibration, announced_choice, calibrate, missing_births, unborn_entry_grades, year_span
from capacity.projection.closures import move_closed_zones, taught_until
from capacity.projection.cube import History, history_from_district, late_openings
from capacity.projection.model import calibrated_draws, centred_quantiles, scale_around, simulate
from capacity.projection.naive import fit_method
from capacity.projection.ratios import ENTRY, LEVEL, Fitted, window_start
from capacity.projection.schools import check_school_mode, school_mode_notes, spread_to_schools, zone_axis
from capacity.projection.settings import NAIVE_METHODS, ProjectionSettings
from capacity.standards import fit_to_system


def quantile_column(q: float) -> str:
    """Column name of a quantile: 0.1 -> 'p10', 0.975 -> 'p97.5'."""
    v = round(q * 100, 6)
    return f"p{int(v)}" if float(v).is_integer() else f"p{v:g}"


@dataclass(frozen=True)
class Projection:
    """A projection with its uncertainty and provenance.

    Attributes
    ----------
    zones : tuple of str
    years : tuple of int
        Projected school years (origin + 1 ... origin + horizon).
    history : History
        What the projection was fitted on.
    settings : ProjectionSettings
    method : str
        Estimator used (resolved when settings.method is auto).
    fitted : Fitted
        Ratios and noise scales.
    point : ndarray (zones, grades, years)
        Deterministic projection (pupils).
    draws : ndarray (zones, grades, years, draws)
        Calibrated Monte-Carlo draws (pupils), float32, draws last.
    calibration : Calibration
    uncompared : tuple of str
        Entry grades without births that ``method: auto`` held without comparing held and trend (too few origins).
    """

    zones: tuple[str, ...]
    years: tuple[int, ...]
    history: History
    settings: ProjectionSettings
    method: str
    fitted: Fitted
    point: np.ndarray
    draws: np.ndarray
    calibration: Calibration
    uncompared: tuple[str, ...] = ()

    @property
    def grades(self):
        """The district's grade system (the order of the grade axis)."""
        return self.history.grades

    @property
    def origin(self) -> int:
        return self.history.years[-1]

    @property
    def notes(self) -> tuple[str, ...]:
        """What the projection had to decide for itself, in planning language (print and record these)."""
        first = self.history.years[window_start(self.history, self.settings.window)]
        out = []
        for gi in np.flatnonzero(self.fitted.no_feeder):
            g = self.grades.grades[gi]
            feeder = "births" if g in self.settings.entry_offsets else grade_words(self.grades.grades[gi - 1])
            w = grade_words(g)
            out.append(
                f"{w}: its feeder ({feeder}) has no pupils in {first}-{self.origin}, so {w} cannot be projected from it; "
                f"{w} is {'held at its recent level' if self.settings.level_rule == 'held' else 'extended along its recent trend'} "
                f"in each zone (projection.level_rule: {self.settings.level_rule}; give projection.entry_offsets.{g} an age to "
                "feed it from births instead)"
            )
        return tuple(out)

    def table(self, quantiles: tuple[float, ...] | None = None) -> pd.DataFrame:
        """Tidy table: year, zone_id, grade, stage, pupils (median), and one column per quantile."""
        return self.aggregate("zone_grade", quantiles)

    def aggregate(self, level: str = "zone_grade", quantiles: tuple[float, ...] | None = None) -> pd.DataFrame:
        """Quantiles of pupils summed within draws, so sums keep the draws' joint spread.

        Parameters
        ----------
        level : str
            zone_grade, zone_stage, zone, stage or county.
        quantiles : tuple of float, optional
            Defaults to the settings' quantiles.
        """
        qs = tuple(sorted(set(quantiles if quantiles is not None else self.settings.quantiles) | {0.5}))
        stage_of = np.array([self.grades.stage_of_grade[g] for g in self.grades.grades])
        stages = list(dict.fromkeys(stage_of))

        def at_level(d: np.ndarray) -> tuple[np.ndarray, dict]:
            if level == "zone_grade":
                return d, {"zone_id": list(self.zones), "grade": list(self.grades.grades)}
            if level in ("zone_stage", "stage"):
                arr = np.stack([d[:, stage_of == s].sum(1) for s in stages], axis=1)
                if level == "stage":
                    return arr.sum(0, keepdims=True), {"zone_id": ["all"], "stage": stages}
                return arr, {"zone_id": list(self.zones), "stage": stages}
            if level == "zone":
                return d.sum(1, keepdims=True), {"zone_id": list(self.zones), "stage": ["all"]}
            if level == "county":
                return d.sum((0, 1))[None, None], {"zone_id": ["all"], "stage": ["all"]}
            raise ValueError(f"unknown level {level!r}")

        arr, keys = at_level(self.draws)  # (A, B, T, D)
        point = at_level(self.point[..., None])[0][..., 0]
        qv = self._calibrated(centred_quantiles(arr, point, qs), point, "total" if level == "county" else level)  # (Q, A, B, T)
        (k1, v1), (k2, v2) = keys.items()
        # rows built in their final order (year, then k1's values, then k2's: grades in the system's order), no sort
        in_order1 = sorted(range(len(v1)), key=lambda i: v1[i])
        in_order2 = sorted(range(len(v2)), key=lambda i: self.grades.grade_index[v2[i]] if k2 == "grade" else v2[i])
        t, a, b = (x.ravel() for x in np.meshgrid(np.arange(len(self.years)), in_order1, in_order2, indexing="ij"))
        out = pd.DataFrame(
            {
                "year": np.asarray(self.years)[t],
                k1: np.asarray(v1, dtype=object)[a],
                k2: np.asarray(v2, dtype=object)[b],
            }
        )
        if level == "zone_grade":
            out["stage"] = np.asarray([self.grades.stage_of_grade[g] for g in v2], dtype=object)[b]
        for q, v in zip(qs, qv, strict=True):
            out[quantile_column(q)] = v[a, b, t]
        out.insert(len(out.columns) - len(qs), "pupils", out[quantile_column(0.5)])
        if 0.5 not in self.settings.quantiles and (quantiles is None or 0.5 not in quantiles):
            out = out.drop(columns=[quantile_column(0.5)])
        return out

    def _calibrated(self, q: np.ndarray, point: np.ndarray, level: str) -> np.ndarray:
        """Apply ``level``'s own spread factor per lead (last axis = years) to quantiles ``q`` of its sums."""
        k = np.array([self.calibration.level_factor(level, t + 1) for t in range(len(self.years))])
        if np.all(k == 1.0):
            return q
        return scale_around(q, point[None], k)

    def demand(self, quantile: float, anchor: str = "county") -> pd.DataFrame:
        """One coherent demand scenario at ``quantile``: year, zone_id, grade, pupils (whole pupils).

        Quantiles do not add up: the sum of every cell's 80th percentile lies far above the
        80th percentile of the county total. So the county total is taken at the quantile and
        shared out, each level in proportion to its own quantile::

            D[z,g,t] = Q_t x q[s,t] / sum_s' q[s',t] x q[z,g,t] / sum_(z',g' in s) q[z',g',t]

        with Q_t the quantile of the county total's draws in year t, q[s,t] that of stage s's
        total, q[z,g,t] that of the cell, s the stage of g. ``anchor="stage"`` puts each stage's
        total at its own quantile instead (the county total is then their sum, above Q_t).
        Stage totals and then cells are rounded to whole pupils by largest remainders, so the
        county total moves by less than one pupil and a stage total by less than two.
        """
        if anchor not in ("county", "stage"):
            raise ValueError(f"anchor must be county or stage, not {anchor!r}")
        stage_of = np.array([self.grades.stage_of_grade[g] for g in self.grades.grades])
        stages = list(dict.fromkeys(stage_of))
        d, p = self.draws, self.point  # (Z, G, T, D), (Z, G, T)
        cell_q = centred_quantiles(d, p, [quantile])[0]  # (Z, G, T); cells: the draws' own factor
        stage_draws = np.stack([d[:, stage_of == st].sum((0, 1)) for st in stages])  # (S, T, D)
        stage_point = np.stack([p[:, stage_of == st].sum((0, 1)) for st in stages])  # (S, T)
        stage_q = self._calibrated(centred_quantiles(stage_draws, stage_point, [quantile]), stage_point, "stage")[0]  # (S, T)
        target = stage_q
        if anchor == "county":
            county_point = stage_point.sum(0)
            county_q = self._calibrated(centred_quantiles(stage_draws.sum(0), county_point, [quantile]), county_point, "total")[0]  # (T,)
            total = stage_q.sum(0)
            target = stage_q * np.where(total > 0, county_q / np.where(total > 0, total, 1.0), 0.0)[None, :]
        pupils = np.zeros_like(cell_q)
        for t in range(len(self.years)):
            whole_stage = _whole_pupils(target[:, t], target[:, t].sum())
            for si, st in enumerate(stages):
                cols = np.flatnonzero(stage_of == st)
                pupils[:, cols, t] = _whole_pupils(cell_q[:, cols, t], whole_stage[si])
        z, g, t = np.meshgrid(np.arange(len(self.zones)), np.arange(len(self.grades.grades)), np.arange(len(self.years)), indexing="ij")
        out = pd.DataFrame(
            {
                "year": np.asarray(self.years)[t.ravel()],
                "zone_id": np.asarray(self.zones, dtype=object)[z.ravel()],
                "grade": np.asarray(self.grades.grades, dtype=object)[g.ravel()],
                "pupils": pupils.ravel(),
            }
        )
        return out.sort_values(["year", "zone_id", "grade"], kind="stable", key=self._grade_key).reset_index(drop=True)

    def ratios(self) -> pd.DataFrame:
        """Every ratio used: zone_id, grade, kind, ratio, zone_raw, county, keep, share, weight.

        keep is the share of the zone's cohort that stays in the zone (kappa), share the zone's
        share of the county's movers in that grade (s); for level grades ratio is pupils.
        """
        z, g = np.meshgrid(np.arange(len(self.zones)), np.arange(len(self.grades.grades)), indexing="ij")
        kind_name = {ENTRY: "entry (per birth)", LEVEL: f"level (pupils, {self.settings.level_rule})"}
        return pd.DataFrame(
            {
                "zone_id": np.asarray(self.zones, dtype=object)[z.ravel()],
                "grade": np.asarray(self.grades.grades, dtype=object)[g.ravel()],
                "kind": [kind_name.get(int(self.fitted.kinds[i]), "progression") for i in g.ravel()],
                "ratio": self.fitted.ratio.ravel(),
                "zone_raw": self.fitted.raw_ratio.ravel(),
                "county": self.fitted.county_ratio[g.ravel()],
                "keep": self.fitted.keep.ravel(),
                "share": self.fitted.share.ravel(),
                "weight": self.fitted.weight.ravel(),
            }
        )

    def _grade_key(self, s: pd.Series) -> pd.Series:
        """Sort key: grades in the system's order, other columns as they are."""
        return s.map(self.grades.grade_index) if s.name == "grade" else s


def _whole_pupils(weights: np.ndarray, total: float) -> np.ndarray:
    """Split ``total`` (rounded to whole pupils) over cells in proportion to ``weights``, by largest remainders."""
    n = int(round(total))
    w = np.maximum(weights, 0.0)
    if n <= 0 or w.sum() <= 0:
        return np.zeros_like(w)
    exact = w / w.sum() * n
    whole = np.floor(exact)
    rest = int(n - whole.sum())
    if rest > 0:
        order = np.argsort(-(exact - whole), axis=None, kind="stable")[:rest]
        whole.flat[order] += 1
    return whole


def project_history(
    history: History,
    settings: ProjectionSettings | None = None,
    additions: np.ndarray | None = None,
    children: np.ndarray | None = None,
    stock: np.ndarray | None = None,
) -> Projection:
    """Project a History ``settings.horizon`` years ahead with calibrated uncertainty.

    ``additions`` (net migration) join the cohort flow; ``stock`` (housing) is present each
    year outside it; ``children`` replaces births where known (see :func:`model.simulate`).
    """
    settings = fit_to_system(settings, ProjectionSettings, history.grades)
    if len(history.years) < 2:
        raise ProjectionError(f"history has {len(history.years)} year(s); the cohort model needs at least 2")
    _check_births(history, settings)
    rules = settings.entry_rules()
    known = tuple(
        g
        for g in settings.entry_offsets
        if children is not None
        and rules[g] in ("births", "children")
        and np.nansum(history.pupils[:, history.grades.grade_index[g], :]) > 0
        and not np.isnan(children[:, :, history.grades.grade_index[g]]).all()
    )
    choice = announced_choice(history, settings, known)  # auto may choose entry rules: they go into settings
    method, settings = choice.chosen
    uncompared = choice.unborn if choice.ranking.empty else ()
    fitted = fit_method(history, settings, method)
    horizon = settings.horizon
    cal = calibrate(history, settings, method, fits=choice.fits) if settings.calibrate else Calibration(np.array([]), pd.DataFrame())
    rng = np.random.default_rng(settings.seed)
    extra = {"additions": additions, "children": children, "stock": stock}
    raw = simulate(history, fitted, settings, horizon, settings.draws, rng, **extra)
    point = simulate(history, fitted, settings, horizon, 0, None, **extra)[..., 0]
    draws = calibrated_draws(raw, point, np.array([cal.factor(s + 1) for s in range(horizon)]))
    years = tuple(range(history.years[-1] + 1, history.years[-1] + horizon + 1))
    return Projection(history.zones, years, history, settings, method, fitted, point, draws, cal, uncompared)


def _check_births(history: History, settings: ProjectionSettings) -> None:
    """Refuse a projection whose entry grades have no births to stand on (persistence and trend use none; under
    ``auto`` a free entry grade with no births recorded at all is compared on held and trend instead)."""
    if settings.method in NAIVE_METHODS:
        return
    unborn = unborn_entry_grades(history, settings) if settings.method == "auto" else []
    for g in (g for g in missing_births(history, settings) if g not in unborn):
        off = settings.entry_offsets[g]
        need = [y - off for y in history.years[window_start(history, settings.window) :]]
        have = f"{history.birth_years[0]}-{history.birth_years[-1]}" if history.birth_years else "none"
        raise ProjectionError(
            f"{g} is projected from births {off} years earlier, which needs births for {min(need)}-{max(need)} "
            f"to estimate its ratio; births recorded: {have}. Add the missing years to births, "
            f"or set projection.entry_rule.{g} to held, trend or children"
        )


def entry_notes(
    settings: ProjectionSettings,
    fitted: Fitted,
    grades: GradeSystem,
    method: str = "mean",
    empty: tuple[str, ...] = (),
    set_rules: dict[str, str] | None = None,
    auto: bool = False,
    uncompared: tuple[str, ...] = (),
    known: dict[str, list[int]] | None = None,
) -> list[str]:
    """How each entry grade of ``grades`` is projected under ``method``, in planning language (one note per
    grade), and where its rule came from; ``empty``: grades no pupil was ever in.

    ``set_rules``: the ``entry_rule`` the user set (None: all of ``settings.entry_rule``); a rule in
    ``settings.entry_rule`` beyond them was chosen by ``method: auto`` (:func:`backtest.auto_choice` writes every
    rule it chose), or held without a comparison for the grades of ``uncompared`` (no births, nothing compared).
    ``auto``: ``method`` was chosen by ``method: auto``. ``known``: entry grade -> projected years (entry years) for which
    the children table gives a count.
    """
    set_rules = settings.entry_rule if set_rules is None else set_rules
    known = known or {}

    def source(g: str, rule: str) -> str:
        if g in set_rules:
            return f"projection.entry_rule.{g}: {rule}, as set"
        if g in uncompared:
            return (
                f"{rule}: no births recorded, and projection.method auto's back-test compared nothing (see its note), so "
                f"held and trend were not compared; set projection.entry_rule.{g} to fix it"
            )
        if g in settings.entry_rule:
            return f"{rule} chosen by projection.method auto from the back-test; set projection.entry_rule.{g} to fix it"
        return f"{rule}, the default: projection.entry_rule.{g} is not set"

    by = f"method {method}, chosen by projection.method auto," if auto else f"projection.method: {method}"
    out = []
    for g, rule in settings.entry_rules().items():
        gi = grades.grade_index[g]
        off = settings.entry_offsets[g]
        if g in empty and rule != "children":  # children x take-up can give pupils to a grade that had none
            births = " and needs no births" if rule == "births" else ""
            out.append(f"entry grade {g} has no pupils in the history: it stays at 0{births} ({source(g, rule)})")
            continue
        if method in NAIVE_METHODS and settings.entry_rule.get(g) not in ("held", "trend"):
            how = "its origin-year pupils, held" if method == "persistence" else "its recent trend, extended"
            unused = f"; the children table's counts for {g} ({year_span(known[g])}) are not used either" if g in known else ""
            out.append(
                f"entry grade {g} is projected from {how} ({by} projects every cell on its own, so its entry rule is not used"
                f"{unused}; {source(g, rule)})"
            )
            continue
        if rule == "held" and method in NAIVE_METHODS:
            how = "its origin-year pupils, held"
        elif rule == "births" and fitted.kinds[gi] == ENTRY and g in known:
            how = (
                f"the children table's counts (children born {off} years earlier x take-up "
                f"{settings.children_take_up.get(g, 1.0):g}) where it has them, entering {year_span(known[g])}, "
                f"and births {off} years earlier x its entry ratio elsewhere"
            )
        elif rule == "births" and fitted.kinds[gi] == ENTRY:
            how = f"births {off} years earlier x its entry ratio"
        elif rule == "children":
            how = f"the children table (children born {off} years earlier) x take-up {settings.children_take_up.get(g, 1.0):g}"
        elif rule == "births":
            continue  # no feeder: Projection.notes says so
        else:
            how = "its recent level, held" if rule == "held" else "its recent trend, extended"
        out.append(f"entry grade {g} is projected from {how} ({source(g, rule)})")
    return out


def known_entry_years(children: np.ndarray | None, history: History, settings: ProjectionSettings) -> dict[str, list[int]]:
    """Entry grade -> projected years for which the children table gives a count in some zone."""
    if children is None:
        return {}
    out = {}
    for g in settings.entry_offsets:
        steps = np.flatnonzero(~np.isnan(children[:, :, history.grades.grade_index[g]]).all(axis=0))
        if len(steps):
            out[g] = [history.years[-1] + 1 + int(s) for s in steps]
    return out


def _check_children(children: np.ndarray | None, history: History, settings: ProjectionSettings, horizon: int) -> None:
    """Refuse an entry grade under ``entry_rule: children`` whose children are not known for every zone and year."""
    for g, rule in settings.entry_rules().items():
        if rule != "children":
            continue
        gi = history.grades.grade_index[g]
        gaps = np.argwhere(np.isnan(children[:, :, gi])) if children is not None else np.array([[0, 0]])
        if len(gaps):
            z, s = gaps[0]
            year = history.years[-1] + 1 + int(s)
            raise ProjectionError(
                f"{g} is projected from the children table (projection.entry_rule.{g}: children), which has no count for zone "
                f"'{history.zones[z]}' born in {year - settings.entry_offsets[g]} (entering {g} in {year}); add the children for "
                "every zone and projected year, or choose births, held or trend"
            )


def project_district(district, settings: ProjectionSettings | None = None) -> Projection:
    """Project a loaded District: pupils by zone (school's zone), births, housing, migration, children; with
    ``settings.unit == "school"`` each school on its own (:mod:`capacity.projection.schools`)."""
    settings = fit_to_system(settings, ProjectionSettings, district.grades)
    if settings.unit == "school":
        check_school_mode(district)
    history = history_from_district(district, settings.unit)
    origin, horizon = history.years[-1], settings.horizon
    stages = district.school_stages()
    live = set(district.schools.loc[district.schools["status"] != "closed", "school_id"])
    open_stages = stages[stages["school_id"].isin(live)]
    taught = frozenset(open_stages["stage"])
    until = taught_until(open_stages, district.decided_closures)
    if history.unit == "school":  # housing and migration are given by zone: shared among the zone's schools
        axis = zone_axis(history)
        zones, onto = axis
        stock = spread_to_schools(
            housing_stock(district.housing, zones, origin, horizon, settings, district.grades, taught, until),
            history,
            "new housing's pupils",
            axis,
        )
        last = np.einsum("zu,ug->zg", onto, np.nan_to_num(history.pupils[:, :, -1]))
        moves = spread_to_schools(migration_additions(settings.net_migration, zones, last, horizon), history, "net migration", axis)
    else:
        stock = housing_stock(district.housing, history.zones, origin, horizon, settings, district.grades, taught, until)
        moves = migration_additions(settings.net_migration, history.zones, history.pupils[:, :, -1], horizon)
    children = children_array(district.children, history.zones, origin, horizon, settings, district.grades)
    _check_children(children, history, settings, horizon)
    if history.missing_years:
        from capacity.notes import note

        note(
            f"history {history.years[0]}-{origin} misses {', '.join(map(str, history.missing_years))}: no ratio is taken across "
            "a missing year; each ratio window holds the last "
            f"{settings.window} pairs of adjacent recorded years"
        )
    proj = project_history(history, settings, additions=moves, children=children, stock=stock)
    proj, closed = move_closed_zones(district, proj)  # decided closures (schools closed_from): capacity/projection/closures.py
    from capacity.notes import note

    empty = tuple(g for g in history.grades.grades if not np.nansum(history.pupils[:, history.grades.grade_index[g], :]))
    auto = settings.method == "auto"
    late = late_openings(district, origin) if history.teaching is not None and history.unit == "zone" else []
    for text in (
        *entry_notes(
            proj.settings,
            proj.fitted,
            history.grades,
            proj.method,
            empty,
            settings.entry_rule,
            auto,
            proj.uncompared,
            known_entry_years(children, history, settings),
        ),
        *proj.notes,
        *late,
        *(school_mode_notes(district, proj) if settings.unit == "school" else ()),
        *closed,
    ):
        note(text)
    return proj
