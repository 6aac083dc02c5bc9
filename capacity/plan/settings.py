"""Plan settings: policies, costs and solver options, each a parameter with a default."""

from __future__ import annotations

from dataclasses import dataclass, field

from capacity.grades import GradeSystem
from capacity.settings_base import Checks, SettingsMixin
from capacity.standards import Standards, grade_key_problems, missing_stage_problems


@dataclass(frozen=True)
class PlanSettings(SettingsMixin):
    """Policies, costs and solver options of the plan model (docs/plan-model.md).

    Money is in one currency (the example uses yuan); "per year" costs are charged every
    planned year. Distances are km.

    Attributes
    ----------
    standards : Standards
        Class sizes, classroom cost and school size caps (capacity.standards; the scenario's
        ``standards`` section, shared with the gap).
    starting_grades : tuple of str
        Grades where the standard applies first (P1, J1, ...).
    standard_from : int or None
        First school year a cohort entering a starting grade is held to the standard; later
        grades follow as that cohort ages (existing larger classes age out). None: from the
        first planned year.
    standard_all_from : int or None
        First year every grade is held to the standard. None: only the cohort rule applies.
    legacy_cap : int
        Most pupils per class where the standard does not apply yet (65: no super-large class).
    travel_km : dict
        Stage -> largest day-school travel distance (km).
    boarding_km : dict
        Stage -> largest distance to a school with boarding beds (km); 0 disables boarding.
    detour_factor : float
        Road km per straight-line km where the travel table gives no distance.
    build_lead_years : int
        Classrooms decided in year t are usable from t + lead.
    new_school_lead_years : int
        A candidate school can first operate this many years after the first planned year.
    allow_builds, allow_new_schools, allow_closures : bool
    closure_lead_years : int
        Years after the first planned year before any school may close (0: closures may
        start in the first planned year). ``force_close`` schools close regardless.
    allow_reopening : bool
        A closed (mothballed) school may re-open later, keeping its classrooms.
    min_years_closed : int
        Fewest years a closed school stays closed before it may re-open (>= 1).
    allow_disposal : bool
        A closed school may be disposed of: it loses its rooms and never re-opens, and stops
        costing ``cost_per_closed_school_year``.
    build_sectors : tuple of str
        Sectors whose schools the bureau may extend (default public only).
    force_close, forbid_close : tuple of str
        School ids that must close by the first planned year, or must stay open.
    school_size_from : int or None
        First year the size caps hold (None: never).
    min_school_size : int
        A closable school that stays open must keep at least this many pupils (0: no minimum).
        The rule binds closable schools only, so with a minimum, allowing closures (or marking a
        school ``can_close``) also brings that school under it.
    budget_per_year, budget_total : float or None
        Capital spending limits (currency).
    max_moved : float or None
        Most pupils per year taught away from their home school.
    new_school_fixed_cost : float
        Capital cost of opening a candidate school on top of its classrooms.
    cost_per_class_year : dict
        Stage -> operating cost of one class for a year (mostly teachers).
    cost_per_school_year : float
        Operating cost of keeping a school open for a year.
    cost_per_closure, cost_per_reopening : float
        One-off cost of closing (merging) a school, and of re-opening a closed one.
    cost_per_closed_school_year : float
        Upkeep of a closed school that is kept (mothballed) for a year; 0 once disposed of.
    cost_per_pupil_km_year : float
        Yearly travel cost per pupil per km of one-way distance.
    cost_per_boarder_year : float
    cost_per_moved_pupil_year : float
        Yearly cost of teaching a pupil away from the home school (disruption, admin); it
        keeps pupils where they are unless moving them saves real money.
    unmet_penalty : float
        Cost per pupil-year left without a seat (large: seats first).
    discount_rate : float
        Yearly discount rate applied to every cost (0: none).
    demand_quantile : float
        Projection quantile planned against (0.5 median; 0.8 risk-averse).
    demand_anchor : str
        Which total sits exactly on ``demand_quantile``: 'county' (default: the county total of
        each year is the quantile of the county total's draws, shared over stages and cells by
        their own quantiles) or 'stage' (each stage's total at its own quantile; the county
        total is then their sum, above the county quantile). Quantiles do not add up, so both
        cannot hold at once.
    integer_classes : bool
        Classes are whole numbers (False relaxes them, for quick what-ifs).
    solver : str
        'highs' (default) or 'cbc'.
    time_limit_s, mip_gap, threads, verbose : solver options.
    solver_options : dict
        Extra options passed to the solver as they are (e.g. HiGHS ``mip_heuristic_effort``).
    zone_whole : bool
        Keep each zone whole, as attendance zones are drawn: all pupils of a stage living in a
        zone go to one school in a year (a binary zone-stage-school choice per year; pupils that
        school cannot seat are unmet). False (default): pupils of a zone may be split among schools.
        Meant for planning blocks (attendance-zone building blocks), each small beside a school: a
        zone with more pupils of a stage than any one reachable school can seat leaves the rest
        unmet (on the example county's large zones, whole zones leave thousands of pupils unmet).
        In a robust plan each demand draw chooses its own schools.
    open_exactly : int or None
        Exactly this many schools open in every planned year (open schools not closed plus
        candidates opened): a p-median check. None (default): no count is imposed.
    strategy : str
        'decompose' (default: fractional-class structure, then year-by-year whole classes and a
        rounding of the fractional plan, then the full model from the better start; the plan
        returned is never worse than the rounded one; see capacity/plan/strategy.py) or 'direct'
        (the full model alone). Both return a plan of the full model with its status, bound and gap.
    alternatives : int
        Near-optimal alternative plans returned beside the optimal one (0: none), each as
        different as the method can make it in which sites open, where classrooms are built and
        which schools close (Hop-Skip-Jump; docs/plan-alternatives.md).
    alternatives_slack : float
        Most an alternative may cost above the optimal plan, as a share of its cost without the
        unmet penalty (0.05: within 5 %; 0: only plans of the optimal plan's cost); no alternative
        leaves more pupils unseated than the optimal plan.
    robust_draws : int
        Demand draws a robust plan is built over (0: no robust plan). With K >= 1 a run also
        plans at P50 and P80 and reports all three plans on held-out draws (docs/plan-alternatives.md).
    robust_eval_draws : int
        Held-out demand draws the plans are evaluated on (not among the K used to plan).
    """

    standards: Standards = field(default_factory=Standards)
    starting_grades: tuple[str, ...] = ("K1", "P1", "J1", "S1")
    standard_from: int | None = None
    standard_all_from: int | None = None
    legacy_cap: int = 65
    travel_km: dict[str, float] = field(default_factory=lambda: {"kindergarten": 2.0, "primary": 3.0, "junior": 10.0, "senior": 30.0})
    boarding_km: dict[str, float] = field(default_factory=lambda: {"kindergarten": 0.0, "primary": 20.0, "junior": 40.0, "senior": 100.0})
    detour_factor: float = 1.3
    build_lead_years: int = 1
    new_school_lead_years: int = 2
    allow_builds: bool = True
    allow_new_schools: bool = True
    allow_closures: bool = True
    closure_lead_years: int = 0
    allow_reopening: bool = True
    min_years_closed: int = 1
    allow_disposal: bool = False
    build_sectors: tuple[str, ...] = ("public",)
    force_close: tuple[str, ...] = ()
    forbid_close: tuple[str, ...] = ()
    school_size_from: int | None = None
    min_school_size: int = 0
    budget_per_year: float | None = None
    budget_total: float | None = None
    max_moved: float | None = None
    new_school_fixed_cost: float = 10_000_000.0
    cost_per_class_year: dict[str, float] = field(
        default_factory=lambda: {"kindergarten": 250_000.0, "primary": 280_000.0, "junior": 440_000.0, "senior": 480_000.0}
    )
    cost_per_school_year: float = 500_000.0
    cost_per_closure: float = 0.0
    cost_per_reopening: float = 0.0
    cost_per_closed_school_year: float = 0.0
    cost_per_pupil_km_year: float = 200.0
    cost_per_boarder_year: float = 3_000.0
    cost_per_moved_pupil_year: float = 2_000.0
    unmet_penalty: float = 1_000_000.0
    discount_rate: float = 0.0
    demand_quantile: float = 0.5
    demand_anchor: str = "county"
    integer_classes: bool = True
    solver: str = "highs"
    time_limit_s: float = 60.0
    mip_gap: float = 0.005
    threads: int | None = 2
    verbose: bool = False
    solver_options: dict[str, object] = field(default_factory=dict)
    strategy: str = "decompose"
    zone_whole: bool = False
    open_exactly: int | None = None
    alternatives: int = 0
    alternatives_slack: float = 0.05
    robust_draws: int = 0
    robust_eval_draws: int = 20

    def __post_init__(self) -> None:
        check = Checks("plan")
        need = check.need

        need(isinstance(self.standards, Standards), "standards", type(self.standards).__name__, "a capacity.standards.Standards")
        need(isinstance(self.legacy_cap, int) and self.legacy_cap >= 1, "legacy_cap", self.legacy_cap, "pupils per class >= 1")
        for name in ("travel_km", "boarding_km"):
            d = getattr(self, name)
            for s, v in d.items():
                need(isinstance(v, (int, float)) and v >= 0, f"{name}.{s}", v, "km >= 0")
        for s, v in self.travel_km.items():
            need(v > 0, f"travel_km.{s}", v, "km > 0 (0 km would leave every pupil outside reach)")
        need(self.detour_factor >= 1, "detour_factor", self.detour_factor, "a factor >= 1")
        need(
            isinstance(self.build_lead_years, int) and 0 <= self.build_lead_years <= 10,
            "build_lead_years",
            self.build_lead_years,
            "0-10 years",
        )
        need(
            isinstance(self.new_school_lead_years, int) and 0 <= self.new_school_lead_years <= 10,
            "new_school_lead_years",
            self.new_school_lead_years,
            "0-10 years",
        )
        for k in ("closure_lead_years", "min_years_closed"):
            v = getattr(self, k)
            need(isinstance(v, int) and (k == "closure_lead_years" or v >= 1) and 0 <= v <= 20, k, v, "0-20 years (min_years_closed >= 1)")
        need(self.min_school_size >= 0, "min_school_size", self.min_school_size, "pupils >= 0")
        for k in ("budget_per_year", "budget_total", "max_moved"):
            v = getattr(self, k)
            need(v is None or v >= 0, k, v, "a number >= 0 or null")
        for s, v in self.cost_per_class_year.items():
            need(v >= 0, f"cost_per_class_year.{s}", v, "a cost >= 0")
        for k in (
            "new_school_fixed_cost",
            "cost_per_school_year",
            "cost_per_closure",
            "cost_per_reopening",
            "cost_per_closed_school_year",
            "cost_per_pupil_km_year",
            "cost_per_boarder_year",
            "cost_per_moved_pupil_year",
        ):
            need(getattr(self, k) >= 0, k, getattr(self, k), "a cost >= 0")
        need(self.unmet_penalty > 0, "unmet_penalty", self.unmet_penalty, "a cost > 0")
        need(0 <= self.discount_rate < 1, "discount_rate", self.discount_rate, "a yearly rate from 0 to 1")
        need(0 < self.demand_quantile < 1, "demand_quantile", self.demand_quantile, "a probability strictly between 0 and 1")
        need(self.demand_anchor in ("county", "stage"), "demand_anchor", self.demand_anchor, "county or stage")
        need(self.solver in ("highs", "cbc"), "solver", self.solver, "highs or cbc")
        need(isinstance(self.zone_whole, bool), "zone_whole", self.zone_whole, "true or false")
        need(
            self.open_exactly is None
            or (isinstance(self.open_exactly, int) and not isinstance(self.open_exactly, bool) and self.open_exactly >= 1),
            "open_exactly",
            self.open_exactly,
            "a whole number of schools >= 1, or null",
        )
        need(self.strategy in ("decompose", "direct"), "strategy", self.strategy, "decompose or direct")
        need(self.alternatives <= 20, "alternatives", self.alternatives, "0-20 alternative plans")
        need(self.alternatives_slack <= 1, "alternatives_slack", self.alternatives_slack, "a cost slack from 0 to 1 (share of the optimum)")
        need(self.robust_draws <= 50, "robust_draws", self.robust_draws, "0-50 demand draws")
        need(
            self.robust_draws == 0 or self.robust_eval_draws >= 1,
            "robust_eval_draws",
            self.robust_eval_draws,
            "1 or more held-out draws when robust_draws is set",
        )
        need(self.time_limit_s > 0, "time_limit_s", self.time_limit_s, "seconds > 0")
        need(0 <= self.mip_gap < 1, "mip_gap", self.mip_gap, "a relative gap from 0 to 1")
        need(
            self.threads is None or (isinstance(self.threads, int) and self.threads >= 1),
            "threads",
            self.threads,
            "a whole number >= 1 or null",
        )
        check.done()

    def grade_problems(self, grades: GradeSystem) -> list[str]:
        """Keys that do not fit the district's grade system ('plan.key: found ...; expected ...')."""
        out = self.standards.grade_problems(grades)
        out += grade_key_problems("plan", "starting_grades", self.starting_grades, grades, "grade")
        for name, expected in (
            ("travel_km", "a distance in km"),
            ("boarding_km", "a distance in km"),
            ("cost_per_class_year", "a cost >= 0"),
        ):
            out += grade_key_problems("plan", name, getattr(self, name), grades, "stage")
            out += missing_stage_problems("plan", name, getattr(self, name), grades, expected)
        return out
