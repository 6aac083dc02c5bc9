"""Grades and stages, defined once for the whole package.

A grade is one school year (``K1`` ... ``S3``); a stage is a run of grades taught under
one standard (kindergarten, primary, junior secondary, senior secondary). Everything
else in the package refers to these tuples instead of spelling grades out again.
"""

from __future__ import annotations

from dataclasses import dataclass


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


STAGES: tuple[Stage, ...] = (
    Stage("kindergarten", "Kindergarten", ("K1", "K2", "K3"), 3),
    Stage("primary", "Primary", ("P1", "P2", "P3", "P4", "P5", "P6"), 6),
    Stage("junior", "Junior secondary", ("J1", "J2", "J3"), 12),
    Stage("senior", "Senior secondary", ("S1", "S2", "S3"), 15),
)

GRADES: tuple[str, ...] = tuple(g for s in STAGES for g in s.grades)
"""All grades in order, youngest first."""

GRADE_INDEX: dict[str, int] = {g: i for i, g in enumerate(GRADES)}
STAGE_OF_GRADE: dict[str, str] = {g: s.name for s in STAGES for g in s.grades}
STAGE_BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
ENTRY_GRADES: tuple[str, ...] = tuple(s.grades[0] for s in STAGES)
"""First grade of each stage (K1, P1, J1, S1)."""


def grades_between(first: str, last: str) -> tuple[str, ...]:
    """Grades from ``first`` to ``last`` inclusive, in order."""
    i, j = GRADE_INDEX[first], GRADE_INDEX[last]
    return GRADES[i : j + 1]


def stages_of(first: str, last: str) -> tuple[str, ...]:
    """Names of the stages a school serving ``first``..``last`` touches."""
    out: list[str] = []
    for g in grades_between(first, last):
        if STAGE_OF_GRADE[g] not in out:
            out.append(STAGE_OF_GRADE[g])
    return tuple(out)
