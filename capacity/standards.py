"""Policy standards read by every step (seat gap, plan, reports): class sizes, the cost of a
classroom and school size caps. Their one home is the scenario's ``standards`` section."""

from __future__ import annotations

from dataclasses import dataclass, field

from capacity.grades import GRADES, STAGE_BY_NAME, STAGE_NAMES, STAGE_OF_GRADE
from capacity.settings_base import Checks, SettingsMixin

DEFAULT_CLASS_SIZE: dict[str, int] = {"K1": 25, "K2": 30, "K3": 35, "primary": 45, "junior": 50, "senior": 50}
"""Pupils per class by grade or stage (a grade key wins over its stage)."""

DEFAULT_RATED_TOLERANCE = 0.10
"""Default of ``Standards.rated_capacity_tolerance``."""


def standard_size(class_size: dict[str, int], grade: str) -> int:
    """Standard class size of ``grade`` under ``class_size`` (grade key, else stage key)."""
    return int(class_size.get(grade, class_size.get(STAGE_OF_GRADE[grade], 0)))


def stage_room_size(class_size: dict[str, int], stage: str) -> float:
    """Seats per classroom of a stage: the mean standard size over its grades (K: 30)."""
    grades = STAGE_BY_NAME[stage].grades
    return sum(standard_size(class_size, g) for g in grades) / len(grades)


def room_seats(class_size: dict[str, int], stage: str, school_class_size: float | None = None) -> float:
    """Seats in one classroom of ``stage``: the school's own class size where it has one
    (its ``class_size`` column), else the stage's room size (``stage_room_size``).

    The one conversion from classrooms to seats used by the gap, the plan and every report:
    2 rooms at a school with class size 20 hold 40 seats, not 2 x 45.
    """
    if school_class_size is not None and school_class_size == school_class_size:
        return float(school_class_size)
    return stage_room_size(class_size, stage)


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
            need(k in GRADES or k in STAGE_NAMES, f"class_size.{k}", k, "a grade or a stage")
            need(isinstance(v, int) and 1 <= v <= 200, f"class_size.{k}", v, "pupils per class from 1 to 200")
        for s in STAGE_NAMES:
            has = s in self.class_size or all(g in self.class_size for g in STAGE_BY_NAME[s].grades)
            need(has, f"class_size.{s}", "nothing", f"a class size for the {s} stage (or each of its grades)")
            need(self.cost_per_classroom.get(s, -1) >= 0, f"cost_per_classroom.{s}", self.cost_per_classroom.get(s), "a cost >= 0")
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

    def standard_size(self, grade: str) -> int:
        """Standard class size of a grade (grade key, else stage key)."""
        return standard_size(self.class_size, grade)


MOVED_TO_STANDARDS = ("class_size", "cost_per_classroom", "max_school_size")
"""Keys that once sat in both the gap and plan sections; their one home is now ``standards``."""
