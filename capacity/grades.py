"""Grade systems: the grades and stages a district teaches, as data.

A grade is one school year (``K1`` ... ``S3`` in China, ``K`` ... ``12`` in the US); a stage
is a run of grades taught under one standard (primary, junior secondary ...). A district
carries its ``GradeSystem`` (``District.grades``); every step reads grades from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Stage:
    """One stage of schooling.

    Attributes
    ----------
    name : str
        Stage key used in tables and scenario files (``kindergarten`` ...).
    label : str
        Human-readable name.
    grades : tuple of str
        Grades of the stage, youngest first.
    entry_age : int
        Age in years at entry to the first grade (K1 at 3, P1 at 6, ...).
    """

    name: str
    label: str
    grades: tuple[str, ...]
    entry_age: int


@dataclass(frozen=True)
class GradeSystem:
    """The grades and stages of one district, youngest first.

    Attributes
    ----------
    name : str
        Preset name (``china``, ``us``, ``england``) or ``custom``.
    stages : tuple of Stage
        Stages in order; their grades, concatenated, are the district's grades.
    """

    name: str
    stages: tuple[Stage, ...]

    @cached_property
    def grades(self) -> tuple[str, ...]:
        """All grades in order, youngest first."""
        return tuple(g for s in self.stages for g in s.grades)

    @cached_property
    def grade_index(self) -> dict[str, int]:
        """Grade -> position (0 = youngest)."""
        return {g: i for i, g in enumerate(self.grades)}

    @cached_property
    def stage_of_grade(self) -> dict[str, str]:
        """Grade -> stage name."""
        return {g: s.name for s in self.stages for g in s.grades}

    @cached_property
    def stage_by_name(self) -> dict[str, Stage]:
        """Stage name -> Stage."""
        return {s.name: s for s in self.stages}

    @cached_property
    def stage_names(self) -> tuple[str, ...]:
        """Stage names in order."""
        return tuple(s.name for s in self.stages)

    @cached_property
    def entry_grades(self) -> tuple[str, ...]:
        """First grade of each stage."""
        return tuple(s.grades[0] for s in self.stages)

    def grades_between(self, first: str, last: str) -> tuple[str, ...]:
        """Grades from ``first`` to ``last`` inclusive, in order."""
        i, j = self.grade_index[first], self.grade_index[last]
        return self.grades[i : j + 1]

    def stages_of(self, first: str, last: str) -> tuple[str, ...]:
        """Names of the stages a school serving ``first``..``last`` touches."""
        out: list[str] = []
        for g in self.grades_between(first, last):
            if self.stage_of_grade[g] not in out:
                out.append(self.stage_of_grade[g])
        return tuple(out)


CHINA = GradeSystem(
    "china",
    (
        Stage("kindergarten", "Kindergarten", ("K1", "K2", "K3"), 3),
        Stage("primary", "Primary", ("P1", "P2", "P3", "P4", "P5", "P6"), 6),
        Stage("junior", "Junior secondary", ("J1", "J2", "J3"), 12),
        Stage("senior", "Senior secondary", ("S1", "S2", "S3"), 15),
    ),
)
"""China's 3-6-3-3 system with three kindergarten years."""

US = GradeSystem(
    "us",
    (
        Stage("prek", "Pre-kindergarten", ("PK",), 4),
        Stage("elementary", "Elementary", ("K", "1", "2", "3", "4", "5"), 5),
        Stage("middle", "Middle school", ("6", "7", "8"), 11),
        Stage("high", "High school", ("9", "10", "11", "12"), 14),
    ),
)
"""The US PK, K-12 system (elementary K-5, middle 6-8, high 9-12)."""

ENGLAND = GradeSystem(
    "england",
    (
        Stage("primary", "Primary", ("R", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6"), 4),
        Stage("secondary", "Secondary", ("Y7", "Y8", "Y9", "Y10", "Y11"), 11),
        Stage("sixth_form", "Sixth form", ("Y12", "Y13"), 16),
    ),
)
"""England's Reception to Year 13 (primary R-Y6, secondary Y7-Y11, sixth form Y12-Y13)."""

PRESETS: dict[str, GradeSystem] = {g.name: g for g in (CHINA, US, ENGLAND)}
"""Grade systems a district may name instead of listing its grades."""

# Transitional: module-level names for the Chinese system, to be replaced by
# ``district.grades`` everywhere (issue 14); new code must not use them.
STAGES = CHINA.stages
GRADES = CHINA.grades
GRADE_INDEX = CHINA.grade_index
STAGE_OF_GRADE = CHINA.stage_of_grade
STAGE_BY_NAME = CHINA.stage_by_name
STAGE_NAMES = CHINA.stage_names
ENTRY_GRADES = CHINA.entry_grades
grades_between = CHINA.grades_between
stages_of = CHINA.stages_of
