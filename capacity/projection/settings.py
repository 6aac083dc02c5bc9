"""Projection settings: every parameter of the cohort model, with defaults and checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from capacity.grades import GradeSystem
from capacity.settings_base import Checks, SettingsMixin
from capacity.standards import grade_key_problems

ESTIMATORS = ("mean", "weighted", "exp_smoothing", "median")
NAIVE_METHODS = ("persistence", "trend")
STANDARD_METHODS = (*ESTIMATORS, *NAIVE_METHODS)
"""The standard methods: grade-progression ratios with four estimators, persistence, linear trend."""
COMBINED = "combined"
"""The equal-weight combination of the four estimators (each ratio and level the mean of their four estimates)."""
AUTO_METHODS = (COMBINED, *STANDARD_METHODS)
"""The methods ``auto`` chooses among (the first is its default)."""
METHODS = (*AUTO_METHODS, "auto")
AUTO_LEVELS = ("total", "stage", "zone", "zone_stage", "zone_grade")
UNITS = ("zone", "school")
"""What a projection's units are: zones (pupils by the zone where taught) or schools (the school-level mode)."""
LEVEL_RULES = ("held", "trend")
ENTRY_RULES = ("births", "held", "trend", "children")
"""How an entry grade is projected: births x entry ratio; held at its recent level; extended along its
recent trend; or the ``children`` table's count (by birth year = year - entry age) x ``children_take_up``."""


def _default_yield() -> dict[str, dict[str, float]]:
    # Net new pupils per completed dwelling at maturity. Much new housing is bought by
    # families already living in the county, so these are below gross planning norms
    # (e.g. 70-90 primary seats per 1,000 residents x ~3.2 residents per dwelling).
    return {
        "commodity": {"kindergarten": 0.08, "primary": 0.15, "junior": 0.07, "senior": 0.0},
        "resettlement": {"kindergarten": 0.03, "primary": 0.05, "junior": 0.03, "senior": 0.0},
    }


@dataclass(frozen=True)
class ProjectionSettings(SettingsMixin):
    """Parameters of the cohort-projection model (docs/projection.md gives the equations).

    Attributes
    ----------
    horizon : int
        Years projected after the last history year (1-20).
    window : int
        History years used to estimate each ratio (the last ``window`` years).
    method : str
        auto (default: the method with the lowest mean back-test MAPE over leads
        1..``planning_lead`` at ``auto_level``, unless within ``auto_margin`` of combined, and for
        each entry grade left free the best of births, held and trend, unless within
        ``auto_margin`` of births; announced with the runners-up; combined with a note unless
        every lead 1..planning_lead has 3 back-test origins), a ratio
        estimator (mean, weighted with linear recency weights 1..n, exp_smoothing, median),
        combined (each ratio and level the mean of those four estimates),
        persistence (each zone x grade cell held at its origin-year pupils) or trend (each
        cell's least-squares line over the last ``trend_years`` years, floored at 0).
    trend_years : int
        History years in the ``trend`` method's least-squares line (and the trend baseline).
    auto_margin : float
        Relative MAPE margin (0.05 = 5 %) by which a method must beat the default ``combined`` for
        ``auto`` to choose it (near-ties are selection noise).
    auto_level : str
        Units whose back-test errors ``auto`` compares: total, stage, zone, zone_stage (the
        plan's unit, default) or zone_grade.
    smoothing_alpha : float
        Weight of the newest year in exponential smoothing (0-1].
    entry_offsets : dict
        Entry grades fed from births and their age offset in years (K1 from births 3 years
        earlier, P1 from births 6 years earlier). A grade mapped to ``None`` is a level grade
        (for data without births): its window's pupils, held by the method's estimator or
        trended, as ``level_rule`` says.
    entry_rule : dict
        Entry grade -> births | held | trend | children (``ENTRY_RULES``). Unlisted entry grades:
        births when ``entry_offsets`` gives an age, else ``level_rule``. Births are needed only for
        grades under ``births``; ``children`` needs the grade's age in ``entry_offsets`` and a
        ``children`` count for every zone and projected year. The projection states each entry
        grade's rule in a note.
    level_rule : str
        How level grades are projected in each zone: ``held`` at the window's estimate of their
        pupils, or ``trend`` (least-squares line over the window, floored at 0). Level grades
        are the first grade, entry grades mapped to null, and any grade whose feeder
        (the grade below, or births) had no pupils in the window, e.g. the first grade of a
        high-school-only district (to feed such a grade from births instead, give it an
        ``entry_offsets`` age).
    shrinkage_pupils : float
        Credibility constant k (pupils): a zone ratio with mean annual denominator w is
        shrunk to (w r_zone + k r_county) / (w + k) before it is split into the share kept
        in the zone and the share that moves. A zone that had no pupils at all in a grade
        throughout the window keeps ratio 0 (all its pupils go to other zones' schools).
    pooled_grades : tuple of str
        Progression grades whose whole cohort moves: projected county-wide and shared among
        zones by their mean share in the window (default S1: senior high schools serve the
        whole county). Other grades keep kappa of each zone's cohort in the zone and pool
        the rest (docs/projection.md, "Moves between zones").
    moves_between_zones : bool
        Whether pupils may change zone along the grade sequence (default true): each zone
        keeps kappa of its cohort and the rest is shared among the zones that take pupils in.
        False applies each zone's own ratio to its own feeder (kappa = r / R_c, no pool;
        pooled grades still move): only right where every zone teaches every grade its
        pupils reach, e.g. a city's community districts.
    transition_multipliers : dict
        Grade -> factor applied to the estimated ratio into that grade (e.g. S1: 1.1 for a
        rising senior-high admission rate).
    transition_annual_change : dict
        Grade -> fractional change per projected year, compounding (e.g. S1: -0.01).
    births_rule : str
        Future births beyond the births table: constant (mean of the last
        ``births_base_years`` known years) or trend (that mean x (1 + births_trend)^years).
    births_trend : float
        Annual fractional change of births under the trend rule.
    births_variant : str
        Named variant whose multiplier scales projected (not recorded) births.
    births_variants : dict
        Variant name -> multiplier.
    births_base_years : int
        Known birth years averaged as the base of future births.
    housing_yield : dict
        Dwelling type -> stage -> net new pupils per dwelling at maturity.
    housing_profile : tuple of float
        Share of the mature yield present 0, 1, 2, ... years after completion (ends at 1).
    net_migration : dict
        Zone -> net pupils gained per year (negative: lost), spread over grades by the
        zone's last-year grade shares.
    children_take_up : dict
        Entry grade -> share of the ``children`` table's count that enrols (default 1).
    quantiles : tuple of float
        Quantiles reported besides the median.
    draws : int
        Monte-Carlo draws for the uncertainty.
    seed : int
        Seed of the random draws.
    planning_lead : int
        ``method: auto`` compares methods by their MAPE averaged over leads 1..planning_lead (years).
    calibrate : bool
        Whether to scale the spread so that back-test coverage of the central 80 % interval is
        80 % at each lead, for cells and for each level's totals (zone x stage, zone, stage, total).
    unit : str
        What is projected: ``zone`` (pupils by the zone where they are taught; default) or ``school`` (the
        school-level mode, for districts where pupils choose among schools: each school is a unit of its own,
        births stay in their zones and each entry cohort is shared among the schools by the moves model). The
        back-test, the seat gap (each school against its own seats) and the plan (each school's pupils placed in
        its zone as demand) read it; docs/projection.md, "School-level mode".
    """

    horizon: int = 10
    window: int = 3
    method: str = "auto"
    trend_years: int = 5
    auto_level: str = "zone_stage"
    auto_margin: float = 0.05
    smoothing_alpha: float = 0.5
    entry_offsets: dict[str, int | None] = field(default_factory=lambda: {"K1": 3, "P1": 6})
    entry_rule: dict[str, str] = field(default_factory=dict)
    level_rule: str = "held"
    shrinkage_pupils: float = 20.0
    pooled_grades: tuple[str, ...] = ("S1",)
    moves_between_zones: bool = True
    transition_multipliers: dict[str, float] = field(default_factory=dict)
    transition_annual_change: dict[str, float] = field(default_factory=dict)
    births_rule: str = "constant"
    births_trend: float = 0.0
    births_variant: str = "medium"
    births_variants: dict[str, float] = field(default_factory=lambda: {"low": 0.85, "medium": 1.0, "high": 1.15})
    births_base_years: int = 3
    housing_yield: dict[str, dict[str, float]] = field(default_factory=_default_yield)
    housing_profile: tuple[float, ...] = (0.4, 0.8, 1.0)
    net_migration: dict[str, float] = field(default_factory=dict)
    children_take_up: dict[str, float] = field(default_factory=dict)
    quantiles: tuple[float, ...] = (0.1, 0.9)
    draws: int = 1000
    seed: int = 20251001
    planning_lead: int = 5
    calibrate: bool = True
    unit: str = "zone"

    def entry_rules(self) -> dict[str, str]:
        """Rule of every entry grade (``entry_rule``, else births where an age is given, else ``level_rule``)."""
        return {g: self.entry_rule.get(g, "births" if off is not None else self.level_rule) for g, off in self.entry_offsets.items()}

    def births_offsets(self) -> dict[str, int]:
        """Entry grades projected from births, with their age offset in years."""
        rules = self.entry_rules()
        return {g: off for g, off in self.entry_offsets.items() if rules[g] == "births"}

    def __post_init__(self) -> None:
        check = Checks("projection")
        need = check.need

        need(isinstance(self.horizon, int) and 1 <= self.horizon <= 20, "horizon", self.horizon, "a whole number of years from 1 to 20")
        need(isinstance(self.window, int) and 1 <= self.window <= 30, "window", self.window, "a whole number of years from 1 to 30")
        need(self.method in METHODS, "method", self.method, "one of " + ", ".join(METHODS))
        need(
            isinstance(self.trend_years, int) and 2 <= self.trend_years <= 30,
            "trend_years",
            self.trend_years,
            "a whole number from 2 to 30",
        )
        need(
            isinstance(self.auto_margin, (int, float)) and 0 <= self.auto_margin < 1,
            "auto_margin",
            self.auto_margin,
            "a fraction from 0 to 1",
        )
        need(self.auto_level in AUTO_LEVELS, "auto_level", self.auto_level, "one of " + ", ".join(AUTO_LEVELS))
        need(0 < self.smoothing_alpha <= 1, "smoothing_alpha", self.smoothing_alpha, "a number in (0, 1]")
        for g, off in self.entry_offsets.items():
            need(
                off is None or (isinstance(off, int) and 0 <= off <= 25),
                f"entry_offsets.{g}",
                off,
                "an age offset from 0 to 25 years, or null",
            )
        for g, rule in self.entry_rule.items():
            need(rule in ENTRY_RULES, f"entry_rule.{g}", rule, "one of " + ", ".join(ENTRY_RULES))
        for g in self.pooled_grades:
            need(g not in self.entry_offsets, f"pooled_grades.{g}", g, "a progression grade (not an entry grade)")
        need(isinstance(self.moves_between_zones, bool), "moves_between_zones", self.moves_between_zones, "true or false")
        need(self.level_rule in LEVEL_RULES, "level_rule", self.level_rule, " or ".join(LEVEL_RULES))
        need(self.shrinkage_pupils >= 0, "shrinkage_pupils", self.shrinkage_pupils, "a number >= 0")
        for name in ("transition_multipliers", "transition_annual_change", "children_take_up"):
            for g, v in getattr(self, name).items():
                lo = -0.5 if name == "transition_annual_change" else 0.0
                need(isinstance(v, (int, float)) and lo <= v <= 10, f"{name}.{g}", v, f"a number from {lo} to 10")
        need(self.births_rule in ("constant", "trend"), "births_rule", self.births_rule, "constant or trend")
        need(-0.5 < self.births_trend < 0.5, "births_trend", self.births_trend, "an annual fraction between -0.5 and 0.5")
        need(
            self.births_variant in self.births_variants, "births_variant", self.births_variant, "one of " + ", ".join(self.births_variants)
        )
        for k, v in self.births_variants.items():
            need(isinstance(v, (int, float)) and 0 < v < 10, f"births_variants.{k}", v, "a multiplier > 0")
        need(
            isinstance(self.births_base_years, int) and self.births_base_years >= 1,
            "births_base_years",
            self.births_base_years,
            "a whole number >= 1",
        )
        for t, ys in self.housing_yield.items():
            for s, v in ys.items():
                need(isinstance(v, (int, float)) and 0 <= v <= 5, f"housing_yield.{t}.{s}", v, "pupils per dwelling from 0 to 5")
        p = self.housing_profile
        need(
            len(p) >= 1 and all(0 <= a <= b for a, b in zip(p, p[1:], strict=False)) and abs(p[-1] - 1.0) < 1e-9 and p[0] >= 0,
            "housing_profile",
            p,
            "a non-decreasing list of shares ending at 1.0",
        )
        need(all(0 < q < 1 for q in self.quantiles), "quantiles", self.quantiles, "probabilities strictly between 0 and 1")
        need(isinstance(self.draws, int) and 10 <= self.draws <= 100000, "draws", self.draws, "a whole number from 10 to 100000")
        need(
            isinstance(self.planning_lead, int) and 1 <= self.planning_lead <= 20,
            "planning_lead",
            self.planning_lead,
            "a whole number from 1 to 20",
        )
        need(self.unit in UNITS, "unit", self.unit, "zone (pupils by zone) or school (each school on its own: the school-level mode)")
        check.done()

    def grade_problems(self, grades: GradeSystem) -> list[str]:
        """Keys that do not fit the district's grade system ('projection.key: found ...; expected ...')."""
        out = []
        for name in ("entry_offsets", "pooled_grades", "transition_multipliers", "transition_annual_change", "children_take_up"):
            out += grade_key_problems("projection", name, getattr(self, name), grades, "grade")
        out += [
            f"projection.pooled_grades.{g}: found {g!r}; expected a progression grade (not the first grade {g!r})"
            for g in self.pooled_grades
            if grades.grades and g == grades.grades[0]
        ]
        for t, ys in self.housing_yield.items():
            out += grade_key_problems("projection", f"housing_yield.{t}", ys, grades, "stage")
        out += self.entry_rule_problems()
        return out

    def entry_rule_problems(self) -> list[str]:
        """``entry_rule`` keys that are not entry grades of ``entry_offsets``, and births/children rules
        for a grade without an age. Checked with the grade system (``grade_problems``), since a
        district's system may supply ``entry_offsets`` (US: PK, K) after the scenario is read."""
        check = Checks("projection")
        for g, rule in self.entry_rule.items():
            check.need(
                g in self.entry_offsets, f"entry_rule.{g}", g, "an entry grade of entry_offsets (" + ", ".join(self.entry_offsets) + ")"
            )
            check.need(
                rule not in ("births", "children") or self.entry_offsets.get(g) is not None,
                f"entry_rule.{g}",
                rule,
                f"held or trend (entry_offsets.{g} is null, so {g} has no birth year to read births or children by)",
            )
        return check.problems
