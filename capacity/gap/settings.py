"""Settings of the seat-gap, class-size, staffing and budget reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from capacity.grades import GradeSystem
from capacity.settings_base import Checks, SettingsMixin
from capacity.standards import Standards, grade_key_problems, missing_stage_problems


@dataclass(frozen=True)
class GapSettings(SettingsMixin):
    """Parameters of the status-quo reports (docs/gap.md).

    Attributes
    ----------
    standards : Standards
        Class sizes, classroom cost and school size caps (capacity.standards; the scenario's
        ``standards`` section, shared with the plan).
    quantile : float
        Projection quantile taken as demand (0.5 median; 0.8 for a cautious plan).
    warning_window : int
        Years ahead within which a coming shortage turns a zone amber.
    amber_utilisation : float
        Demand / seats above which a zone is amber even without a shortage.
    bands : dict
        Class-size band name -> [lowest, highest] pupils (null highest: no top).
    bands_over_standard : bool
        Whether band limits count pupils above each class's own standard (1-5 over: 26-30 in
        a class of standard 25, 31-35 in one of 30) rather than pupils in the class (China's
        46-55 / 56-65 / 66+). Default false (true for the US, England and custom systems).
    policy_checks : list of dict
        Each {grades: [...], from: year}: classes of those grades above standard from that
        year are listed as failures (default: starting grades P1 and J1 from 2027).
    pupils_per_teacher : dict
        Stage -> pupil-teacher ratio.
    min_teachers : int
        Fewest teachers any open school has.
    staffing : str
        'ratio' (pupils / ratio) or 'classes_for_small' (schools under
        ``small_school_pupils`` staffed by classes x ``teachers_per_class``).
    small_school_pupils : int
    teachers_per_class : float
    coverage_floors : dict
        Kindergarten floors: ger (gross enrolment ratio of ages 3-5), public share, inclusive share.
    """

    standards: Standards = field(default_factory=Standards)
    quantile: float = 0.5
    warning_window: int = 2
    amber_utilisation: float = 0.95
    bands: dict[str, list] = field(default_factory=lambda: {"46-55": [46, 55], "56-65 large": [56, 65], "66+ super-large": [66, None]})
    bands_over_standard: bool = False
    policy_checks: list[dict] = field(default_factory=lambda: [{"grades": ["P1", "J1"], "from": 2027}])
    pupils_per_teacher: dict[str, float] = field(
        default_factory=lambda: {"kindergarten": 15.0, "primary": 19.0, "junior": 13.5, "senior": 12.5}
    )
    min_teachers: int = 2
    staffing: str = "ratio"
    small_school_pupils: int = 100
    teachers_per_class: float = 1.5
    coverage_floors: dict[str, float] = field(default_factory=lambda: {"ger": 0.90, "public": 0.50, "inclusive": 0.85})

    def __post_init__(self) -> None:
        check = Checks("gap")
        need = check.need

        need(isinstance(self.standards, Standards), "standards", type(self.standards).__name__, "a capacity.standards.Standards")
        need(0 < self.quantile < 1, "quantile", self.quantile, "a probability strictly between 0 and 1")
        need(isinstance(self.warning_window, int) and 0 <= self.warning_window <= 20, "warning_window", self.warning_window, "0-20 years")
        need(0 < self.amber_utilisation <= 2, "amber_utilisation", self.amber_utilisation, "a share such as 0.95")
        for name, (lo, hi) in self.bands.items():
            need(
                isinstance(lo, int) and lo >= 1 and (hi is None or (isinstance(hi, int) and hi >= lo)),
                f"bands.{name}",
                [lo, hi],
                "[lowest, highest] whole pupils, highest >= lowest or null",
            )
        spans = sorted((lo, hi) for lo, hi in self.bands.values() if isinstance(lo, int) and (hi is None or isinstance(hi, int)))
        for (_, hi1), (lo2, _) in zip(spans, spans[1:], strict=False):
            need(
                hi1 is not None and hi1 < lo2,
                "bands",
                dict(self.bands),
                "bands that do not overlap (each starts above the previous one's highest)",
            )
        for chk in self.policy_checks:
            need(
                set(chk) == {"grades", "from"}
                and isinstance(chk.get("grades"), list)
                and isinstance(chk.get("from"), int)
                and not isinstance(chk.get("from"), bool),
                "policy_checks",
                chk,
                "{grades: [grades], from: year}",
            )
        for s, v in self.pupils_per_teacher.items():
            need(v > 0, f"pupils_per_teacher.{s}", v, "a ratio > 0")
        need(self.min_teachers >= 0, "min_teachers", self.min_teachers, "a whole number >= 0")
        need(self.staffing in ("ratio", "classes_for_small"), "staffing", self.staffing, "ratio or classes_for_small")
        for k in ("ger", "public", "inclusive"):
            need(0 <= self.coverage_floors.get(k, -1) <= 1.5, f"coverage_floors.{k}", self.coverage_floors.get(k), "a share from 0 to 1.5")
        check.done()

    def grade_problems(self, grades: GradeSystem) -> list[str]:
        """Keys that do not fit the district's grade system ('gap.key: found ...; expected ...')."""
        out = self.standards.grade_problems(grades)
        for i, chk in enumerate(self.policy_checks):
            out += grade_key_problems("gap", f"policy_checks[{i}].grades", chk["grades"], grades, "grade")
        out += grade_key_problems("gap", "pupils_per_teacher", self.pupils_per_teacher, grades, "stage")
        out += missing_stage_problems("gap", "pupils_per_teacher", self.pupils_per_teacher, grades, "a ratio > 0")
        return out
