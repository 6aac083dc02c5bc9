"""One exception hierarchy for every error a user can meet.

Each message names the place (file, row, column, or scenario key), what was found and
what was expected, so a planner can fix the input without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass


class CapacityError(Exception):
    """Base class of all errors raised on purpose by ``capacity``."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        File (or ``workbook.xlsx[sheet]``) where the problem is.
    row : int or None
        Row number as the planner sees it in a spreadsheet (header is row 1).
    column : str or None
        Column name.
    found : str
        What was found.
    expected : str
        What was expected instead.
    """

    file: str
    row: int | None
    column: str | None
    found: str
    expected: str

    def __str__(self) -> str:
        place = self.file
        if self.row is not None:
            place += f", row {self.row}"
        if self.column is not None:
            place += f", column '{self.column}'"
        return f"{place}: found {self.found}; expected {self.expected}"


class InputError(CapacityError):
    """Problems in district input data; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        self.source = source
        head = f"{len(self.problems)} problem(s) in district data"
        if source:
            head += f" {source}"
        lines = [head + ":"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def _problem_order(p: Problem) -> tuple:
    return (p.file, p.row if p.row is not None else -1, p.column or "", p.found)


class ScenarioError(CapacityError):
    """A scenario file or parameter set is wrong (unknown key, wrong type, bad value)."""


class SolverError(CapacityError):
    """The solver is missing, failed, or returned no usable solution."""


class ProjectionError(CapacityError):
    """The data cannot support the requested projection (e.g. missing births)."""


class OutputError(CapacityError):
    """The output location is unsafe (holds files the tool did not write), locked, full or read-only."""


class CapacityNote(UserWarning):
    """An accepted-with-a-note message: printed, recorded in manifest.json and shown in report.html."""
