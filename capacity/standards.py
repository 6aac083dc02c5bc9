"""Standard class sizes: one definition shared by the seat gap and the plan."""

from __future__ import annotations

from capacity.grades import STAGE_BY_NAME, STAGE_OF_GRADE

DEFAULT_CLASS_SIZE: dict[str, int] = {"K1": 25, "K2": 30, "K3": 35, "primary": 45, "junior": 50, "senior": 50}
"""Pupils per class by grade or stage (a grade key wins over its stage)."""


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
