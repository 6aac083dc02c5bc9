"""Grade systems: the grades and stages a district teaches, as data.

A grade is one school year (``K1`` ... ``S3`` in China, ``K`` ... ``12`` in the US); a stage
is a run of grades taught under one standard (primary, junior secondary ...). A district
carries its ``GradeSystem`` (``District.grades``); every step reads grades from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


def grade_words(grade: str) -> str:
    """How prose names a grade: 'grade 9' for a grade named by digits only (the US '9'), else its own name ('P1', 'K')."""
    return f"grade {grade}" if str(grade).isdigit() else str(grade)


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

    def as_dict(self) -> dict[str, object]:
        """Plain form for manifests: name and stages (name, label, grades, entry_age)."""
        return {
            "name": self.name,
            "stages": [{"name": s.name, "label": s.label, "grades": list(s.grades), "entry_age": s.entry_age} for s in self.stages],
        }

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


def preset(name: str) -> GradeSystem | None:
    """The preset grade system called ``name`` (case-insensitive), or None."""
    return PRESETS.get(name.strip().lower())


def system_from_manifest(manifest: dict) -> GradeSystem:
    """The grade system a run recorded in its manifest (``grade_system``); China for runs written before it was recorded."""
    d = manifest.get("grade_system")
    if not d:
        return CHINA
    stages = tuple(Stage(s["name"], s["label"], tuple(s["grades"]), int(s["entry_age"])) for s in d["stages"])
    return PRESETS.get(d["name"]) if PRESETS.get(d["name"]) and PRESETS[d["name"]].stages == stages else GradeSystem(d["name"], stages)


def system_from_rows(rows: list[tuple[str, str, int, str]], name: str = "custom") -> GradeSystem:
    """A grade system from (grade, stage, age, stage_label) rows (the ``grades`` table).

    Grades are ordered by age; each stage is the run of grades that name it. Rows must be
    valid (distinct grades and ages, each stage's grades contiguous in age order): the
    validator checks this and reports the rows; here a bad table raises ValueError.
    """
    ordered = sorted(rows, key=lambda r: r[2])
    stages: list[Stage] = []
    for grade, stage, age, label in ordered:
        if stages and stages[-1].name == stage:
            last = stages[-1]
            stages[-1] = Stage(last.name, last.label, (*last.grades, grade), last.entry_age)
        else:
            if any(s.name == stage for s in stages):
                raise ValueError(f"stage {stage!r} is split by another stage's grades")
            stages.append(Stage(stage, label or stage, (grade,), int(age)))
    return GradeSystem(name, tuple(stages))
