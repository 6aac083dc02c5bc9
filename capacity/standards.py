"""Policy standards read by every step (seat gap, plan, reports): class sizes, the cost of a
classroom and school size caps. Their one home is the scenario's ``standards`` section.

Figures keyed by grade or stage depend on the district's grade system; ``SYSTEM_DEFAULTS``
holds each preset's defaults for every section (China's are the settings classes' own
defaults), and :func:`fit_to_system` checks settings against the district's system when a
run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from capacity.errors import ScenarioError
from capacity.grades import GradeSystem
from capacity.settings_base import Checks, SettingsMixin

DEFAULT_CLASS_SIZE: dict[str, int] = {"K1": 25, "K2": 30, "K3": 35, "primary": 45, "junior": 50, "senior": 50}
"""Pupils per class by grade or stage (a grade key wins over its stage); China's defaults."""

DEFAULT_RATED_TOLERANCE = 0.10
"""Default of ``Standards.rated_capacity_tolerance``."""


def standard_size(class_size: dict[str, int], grade: str, grades: GradeSystem) -> int:
    """Standard class size of ``grade`` under ``class_size`` (grade key, else stage key)."""
    return int(class_size.get(grade, class_size.get(grades.stage_of_grade[grade], 0)))


def stage_room_size(class_size: dict[str, int], stage: str, grades: GradeSystem) -> float:
    """Seats per classroom of a stage: the mean standard size over its grades (China's K: 30)."""
    gs = grades.stage_by_name[stage].grades
    return sum(standard_size(class_size, g, grades) for g in gs) / len(gs)


def room_seats(class_size: dict[str, int], stage: str, grades: GradeSystem, school_class_size: float | None = None) -> float:
    """Seats in one classroom of ``stage``: the school's own class size where it has one
    (its ``class_size`` column), else the stage's room size (``stage_room_size``).

    The one conversion from classrooms to seats used by the gap, the plan and every report:
    2 rooms at a school with class size 20 hold 40 seats, not 2 x 45.
    """
    if school_class_size is not None and school_class_size == school_class_size:
        return float(school_class_size)
    return stage_room_size(class_size, stage, grades)


@dataclass(frozen=True)
class Standards(SettingsMixin):
    """Policy figures shared by the gap and the plan (scenario section ``standards``).

    Attributes
    ----------
    class_size : dict
        Standard pupils per class by grade or stage; a grade key wins over its stage. A
        school's ``class_size`` column overrides both for that school.
    cost_per_classroom : dict
        Stage -> capital cost of one added classroom (currency); a school's
        ``cost_per_classroom`` column overrides it.
    max_school_size : dict
        'single' (one stage) and 'multi' (nine-/twelve-year) pupil caps per school.
    rated_capacity_tolerance : float
        Largest relative difference allowed between a school's rated ``capacity`` and its
        classrooms x room seats when both are given (0.10 = 10 %); beyond it the input is
        refused, within it the rated capacity is used and the difference noted.
    """

    class_size: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CLASS_SIZE))
    cost_per_classroom: dict[str, float] = field(
        default_factory=lambda: {"kindergarten": 1_200_000.0, "primary": 1_500_000.0, "junior": 1_500_000.0, "senior": 1_800_000.0}
    )
    max_school_size: dict[str, int] = field(default_factory=lambda: {"single": 2000, "multi": 2500})
    rated_capacity_tolerance: float = DEFAULT_RATED_TOLERANCE

    def __post_init__(self) -> None:
        check = Checks("standards")
        need = check.need
        for k, v in self.class_size.items():
            need(isinstance(v, int) and 1 <= v <= 200, f"class_size.{k}", v, "pupils per class from 1 to 200")
        for k, v in self.cost_per_classroom.items():
            need(v >= 0, f"cost_per_classroom.{k}", v, "a cost >= 0")
        need(
            isinstance(self.rated_capacity_tolerance, (int, float)) and 0 <= self.rated_capacity_tolerance <= 1,
            "rated_capacity_tolerance",
            self.rated_capacity_tolerance,
            "a fraction from 0 to 1",
        )
        for k in ("single", "multi"):
            v = self.max_school_size.get(k)
            need(isinstance(v, int) and v > 0, f"max_school_size.{k}", v, "pupils > 0")
        check.done()

    def grade_problems(self, grades: GradeSystem) -> list[str]:
        """Keys that do not fit the district's grade system ('standards.key: found ...; expected ...')."""
        check = Checks("standards")
        need = check.need
        for k in self.class_size:
            need(k in grades.grade_index or k in grades.stage_by_name, f"class_size.{k}", k, _grade_or_stage(grades))
        for k in self.cost_per_classroom:
            need(k in grades.stage_by_name, f"cost_per_classroom.{k}", k, _a_stage(grades))
        for st in grades.stages:
            if not (st.name in self.class_size or all(g in self.class_size for g in st.grades)):
                check.problems.append(
                    f"standards.class_size.{st.name}: found nothing; expected a class size for the {st.name} stage (or each of its grades)"
                )
        return check.problems + missing_stage_problems("standards", "cost_per_classroom", self.cost_per_classroom, grades, "a cost >= 0")

    def standard_size(self, grade: str, grades: GradeSystem) -> int:
        """Standard class size of a grade (grade key, else stage key)."""
        return standard_size(self.class_size, grade, grades)


MOVED_TO_STANDARDS = ("class_size", "cost_per_classroom", "max_school_size")
"""Keys that once sat in both the gap and plan sections; their one home is now ``standards``."""


def _a_stage(grades: GradeSystem) -> str:
    return f"a stage of the district's {grades.name} system (district.grade_system): " + "/".join(grades.stage_names)


def _grade_or_stage(grades: GradeSystem) -> str:
    return f"a grade or stage of the district's {grades.name} system (district.grade_system): " + "/".join(
        (*grades.grades, *grades.stage_names)
    )


def grade_key_problems(section: str, key: str, values, grades: GradeSystem, kind: str) -> list[str]:
    """'section.key.k: found ...' for every entry of ``values`` (keys of a dict, or items of a
    list) that is not a ``kind`` ('grade' or 'stage') of ``grades``."""
    ok = grades.grade_index if kind == "grade" else grades.stage_by_name
    what = (
        f"a grade of the district's {grades.name} system (district.grade_system): " + "/".join(grades.grades)
        if kind == "grade"
        else _a_stage(grades)
    )
    return [f"{section}.{key}.{k}: found {k!r}; expected {what}" for k in values if k not in ok]


def missing_stage_problems(section: str, key: str, values: dict, grades: GradeSystem, expected: str) -> list[str]:
    """'section.key.stage: found nothing' for every stage of ``grades`` that ``values`` lacks."""
    return [f"{section}.{key}.{s}: found nothing; expected {expected}" for s in grades.stage_names if s not in values]


# --- defaults per grade system ----------------------------------------------------------------

SYSTEM_DEFAULTS: dict[str, dict[str, dict[str, object]]] = {
    "us": {
        # Class sizes: typical state caps/targets (e.g. 20 in pre-K, 25 in elementary, 30 above);
        # costs in dollars: indicative construction cost of one classroom and operating cost of one
        # class-year (a teacher with benefits and its share of support); set your own.
        "standards": {
            "class_size": {"prek": 20, "elementary": 25, "middle": 30, "high": 30},
            "cost_per_classroom": {"prek": 400_000.0, "elementary": 400_000.0, "middle": 450_000.0, "high": 500_000.0},
            "max_school_size": {"single": 2500, "multi": 2500},
        },
        "projection": {
            "entry_offsets": {"PK": 4, "K": 5},
            "pooled_grades": (),
            # student generation rates (pupils per dwelling) of typical US school-impact studies
            "housing_yield": {
                "single_family": {"prek": 0.03, "elementary": 0.30, "middle": 0.13, "high": 0.17},
                "multi_family": {"prek": 0.01, "elementary": 0.10, "middle": 0.04, "high": 0.05},
            },
        },
        "gap": {
            "bands": {"1-5 over": [1, 5], "6-10 over": [6, 10], "11+ over": [11, None]},
            "bands_over_standard": True,
            "policy_checks": [],
            "pupils_per_teacher": {"prek": 10.0, "elementary": 16.0, "middle": 16.0, "high": 16.0},
        },
        "plan": {
            "starting_grades": ("PK", "K", "6", "9"),
            "legacy_cap": 40,
            "travel_km": {"prek": 3.0, "elementary": 3.0, "middle": 8.0, "high": 15.0},
            "boarding_km": {"prek": 0.0, "elementary": 0.0, "middle": 0.0, "high": 0.0},
            "cost_per_class_year": {"prek": 90_000.0, "elementary": 100_000.0, "middle": 110_000.0, "high": 120_000.0},
        },
        "report": {"currency_unit": "USD"},
    },
    "england": {
        # Infant class-size limit of 30 (School Admissions Code); costs in pounds, indicative.
        "standards": {
            "class_size": {"primary": 30, "secondary": 30, "sixth_form": 25},
            "cost_per_classroom": {"primary": 400_000.0, "secondary": 450_000.0, "sixth_form": 450_000.0},
            "max_school_size": {"single": 2000, "multi": 2500},
        },
        "projection": {
            "entry_offsets": {"R": 4},
            "pooled_grades": ("Y12",),
            # pupil yield per dwelling of the kind used in English local-authority guidance
            "housing_yield": {
                "house": {"primary": 0.28, "secondary": 0.20, "sixth_form": 0.04},
                "flat": {"primary": 0.08, "secondary": 0.05, "sixth_form": 0.01},
            },
        },
        "gap": {
            "bands": {"1-5 over": [1, 5], "6-10 over": [6, 10], "11+ over": [11, None]},
            "bands_over_standard": True,
            "policy_checks": [{"grades": ["R", "Y1", "Y2"], "from": 2000}],
            "pupils_per_teacher": {"primary": 20.5, "secondary": 16.5, "sixth_form": 16.5},
        },
        "plan": {
            "starting_grades": ("R", "Y7", "Y12"),
            "legacy_cap": 40,
            "travel_km": {"primary": 3.2, "secondary": 4.8, "sixth_form": 15.0},
            "boarding_km": {"primary": 0.0, "secondary": 0.0, "sixth_form": 0.0},
            "cost_per_class_year": {"primary": 70_000.0, "secondary": 80_000.0, "sixth_form": 80_000.0},
        },
        "report": {"currency_unit": "GBP"},
    },
}
"""Defaults of grade- and stage-keyed settings for the US and England presets (China's are
the settings classes' own defaults). Listed in docs/data-format.md."""

CUSTOM_CLASS_SIZE = 30
"""Default class size of every stage of a custom grade system (pupils)."""


def _custom_defaults(grades: GradeSystem) -> dict[str, dict[str, object]]:
    """Defaults for a custom system: the first grade fed from births at its entry age, 30 pupils
    per class, bands over that standard, no boarding. Money and distances have no safe
    generic value: the scenario must give them (refused, naming the key, otherwise)."""
    first = grades.stages[0]
    return {
        "standards": {"class_size": dict.fromkeys(grades.stage_names, CUSTOM_CLASS_SIZE), "cost_per_classroom": {}},
        "projection": {"entry_offsets": {first.grades[0]: first.entry_age}, "pooled_grades": (), "housing_yield": {}},
        "gap": {
            "bands": {"1-5 over": [1, 5], "6-10 over": [6, 10], "11+ over": [11, None]},
            "bands_over_standard": True,
            "policy_checks": [],
            "pupils_per_teacher": {},
        },
        "plan": {
            "starting_grades": grades.entry_grades,
            "legacy_cap": 2 * CUSTOM_CLASS_SIZE,
            "travel_km": {},
            "boarding_km": dict.fromkeys(grades.stage_names, 0.0),
            "cost_per_class_year": {},
        },
        "report": {"currency_unit": "currency"},
    }


SECTION_OF: dict[str, str] = {"Standards": "standards", "ProjectionSettings": "projection", "GapSettings": "gap", "PlanSettings": "plan"}


def system_defaults(grades: GradeSystem, section: str) -> dict[str, object]:
    """Settings of ``section`` whose default depends on the grade system, for ``grades`` ({} for China)."""
    if grades.name == "china":
        return {}
    table = SYSTEM_DEFAULTS.get(grades.name) or _custom_defaults(grades)
    return dict(table.get(section, {}))


PER_STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "standards": ("class_size", "cost_per_classroom"),
    "gap": ("pupils_per_teacher",),
    "plan": ("travel_km", "boarding_km", "cost_per_class_year"),
}
"""Stage-keyed settings that need every stage of the district: a scenario that gives some
stages takes the system's defaults for the others (:func:`fill_stages`)."""


def stage_defaults(cls: type, grades: GradeSystem, key: str) -> dict:
    """The system's default of the stage-keyed setting ``key`` of ``cls`` (China: the field's own)."""
    table = system_defaults(grades, SECTION_OF[cls.__name__])
    if key in table:
        return dict(table[key])
    return dict(next(f for f in fields(cls) if f.name == key).default_factory())


def fill_stages(given: dict, defaults: dict, grades: GradeSystem) -> tuple[dict, list[str]]:
    """``given`` with the entries of ``defaults`` for every stage it lacks (a stage is given by its
    own key or by all its grades), and the keys added. A stage without a default stays missing
    (refused by ``grade_problems``, naming the key)."""
    added: list[str] = []
    for st in grades.stages:
        if st.name in given or all(g in given for g in st.grades):
            continue
        added += [k for k in (st.name, *st.grades) if k in defaults and k not in given]
    return ({**given, **{k: defaults[k] for k in added}}, added)


def settings_for_system(cls: type, grades: GradeSystem, given: dict | None = None):
    """A settings object of class ``cls`` with ``given`` values and the system's defaults for the
    rest (Standards nested in the gap and plan sections follow the same rule)."""
    given = dict(given or {})
    values = {k: v for k, v in system_defaults(grades, SECTION_OF[cls.__name__]).items() if k not in given}
    names = {f.name for f in fields(cls)}
    if "standards" in names and "standards" not in given:
        values["standards"] = settings_for_system(Standards, grades)
    return cls(**values, **given)


def fit_to_system(settings, cls: type, grades: GradeSystem):
    """``settings`` checked against ``grades`` (``None``: the system's defaults).

    Raises
    ------
    ScenarioError
        Naming every key that names a grade or stage the district lacks, or lacks a stage it has.
    """
    if settings is None:
        settings = settings_for_system(cls, grades)
    problems = settings.grade_problems(grades)
    if problems:
        raise ScenarioError(
            f"the settings do not fit the district's {grades.name} grade system ({', '.join(grades.stage_names)}):\n  - "
            + "\n  - ".join(problems)
        )
    return settings
