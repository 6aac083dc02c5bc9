"""Seat gap, early warning, class-size and school-size report, staffing, coverage and budget
under the status quo: what a bureau hands its finance office before any optimisation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capacity.data.district import note_late_closures
from capacity.gap.classes import band_shares, class_report, policy_failures, school_pupils, school_sizes, status_quo_pupils
from capacity.gap.gap import budget_needed, first_red, gap_table
from capacity.gap.seats import grade_rooms, school_rooms, seat_table, seats_from_rooms
from capacity.gap.settings import GapSettings
from capacity.gap.staffing import kindergarten_coverage, teacher_gap, teachers_needed
from capacity.gap.warning import early_warning, first_red_units, school_load
from capacity.standards import fit_to_system

# Columns that count pupils or seats: written as whole numbers (rounded one by one, so a written gap may
# differ by 1 from written seats - demand); other fractional columns are written to RATIO_DECIMALS places.
WHOLE_COLUMNS = frozenset({"demand", "seats", "gap", "shortfall", "pupils", "capacity", "children_3_5", "cost"})
RATIO_DECIMALS = 4


def rounded_for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """A table as the gap CSVs write it: pupil and seat counts (``WHOLE_COLUMNS``) to whole numbers,
    other float columns (ratios, shares, equivalent classrooms, mean class sizes) to ``RATIO_DECIMALS``
    places, so no float noise such as 19.999999999999943 reaches a file. The computation stays unrounded."""
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        if col in WHOLE_COLUMNS:
            out[col] = out[col].round(0).astype("Int64")
        else:
            out[col] = out[col].round(RATIO_DECIMALS)
    return out


@dataclass(frozen=True)
class GapReport:
    """Every table of the status-quo report (docs/gap.md lists their columns)."""

    gap: pd.DataFrame
    first_red: pd.DataFrame
    seats: pd.DataFrame
    classes: pd.DataFrame
    classes_actual: pd.DataFrame
    bands: pd.DataFrame
    school_sizes: pd.DataFrame
    policy: pd.DataFrame
    teachers: pd.DataFrame
    coverage: pd.DataFrame
    budget: pd.DataFrame
    settings: GapSettings
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_red_units: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> table, in report order."""
        return {
            "gap": self.gap,
            "first_red": self.first_red,
            "budget": self.budget,
            "seats": self.seats,
            "classes": self.classes,
            "classes_actual": self.classes_actual,
            "class_bands": self.bands,
            "school_sizes": self.school_sizes,
            "policy_failures": self.policy,
            "teachers": self.teachers,
            "kindergarten_coverage": self.coverage,
            "early_warning": self.warnings,
            "first_red_school": self.first_red_units,
        }


def gap_report(
    district,
    projection,
    settings: GapSettings | None = None,
    warning_rule: tuple[float, float, int, str] = (0.9, 1.0, 3, "seats"),
    teachers_on_hand: pd.DataFrame | None = None,
) -> GapReport:
    """Build every status-quo table from a district and its projection.

    ``warning_rule`` is (amber ratio, red ratio, years ahead, basis 'seats' or 'intake') of the
    school and zone early warning; ``teachers_on_hand`` (school_id, teachers) adds the teacher gap.
    """
    from capacity.projection.model import projected_births

    settings = fit_to_system(settings, GapSettings, district.grades)
    years = tuple(projection.years)
    seats = seat_table(district, settings.standards.class_size, years, settings.standards.rated_capacity_tolerance)
    note_late_closures(district, years[-1])
    gap = gap_table(
        projection, seats, district.zones, settings.quantile, settings.warning_window, settings.amber_utilisation, district.schools
    )
    # one coherent scenario at the quantile (the plan's demand), not the sum of cell quantiles
    demand = projection.demand(settings.quantile)
    pupils = school_pupils(demand, projection.history) if projection.history.unit == "school" else status_quo_pupils(district, demand)
    rooms = school_rooms(seats)
    classes = class_report(pupils, district, settings.standards.class_size, settings.bands, rooms, settings.bands_over_standard)
    last = district.last_year
    actual = district.enrolment[district.enrolment["year"] == last]
    rooms_now = school_rooms(seat_table(district, settings.standards.class_size, (last,), settings.standards.rated_capacity_tolerance))
    classes_actual = class_report(
        actual.assign(zone_id=""), district, settings.standards.class_size, settings.bands, rooms_now, settings.bands_over_standard
    )
    bands = pd.concat(
        [
            band_shares(classes_actual, settings.bands).assign(basis="actual"),
            band_shares(classes, settings.bands).assign(basis="projected"),
        ],
        ignore_index=True,
    )
    sizes = pd.concat(
        [
            school_sizes(actual.assign(zone_id=""), district, settings.standards.max_school_size).assign(basis="actual"),
            school_sizes(pupils, district, settings.standards.max_school_size).assign(basis="projected"),
        ],
        ignore_index=True,
    )
    teachers = pd.concat(
        [
            teachers_needed(
                c,
                settings.pupils_per_teacher,
                settings.min_teachers,
                settings.staffing,
                settings.small_school_pupils,
                settings.teachers_per_class,
            ).assign(basis=b)
            for c, b in ((classes_actual, "actual"), (classes, "projected"))
        ],
        ignore_index=True,
    )
    h = projection.history
    by = np.arange(h.birth_years[0] if h.birth_years else years[0], years[-1] + 1)
    births, _ = projected_births(h, projection.settings, by)
    births_by_year = pd.Series(births.sum(0), index=by)
    k_all = pd.concat(
        [actual[["year", "school_id", "grade", "pupils"]], pupils[["year", "school_id", "grade", "pupils"]]], ignore_index=True
    )
    coverage = kindergarten_coverage(k_all, district, births_by_year, settings.coverage_floors)
    if teachers_on_hand is not None:
        teachers = teacher_gap(teachers, teachers_on_hand)
    amber, red, ahead, basis = warning_rule
    warnings = early_warning(school_load(classes, seats, district, basis), district, amber, red, ahead)
    return GapReport(
        gap=gap,
        first_red=first_red(gap),
        seats=seats,
        classes=classes,
        classes_actual=classes_actual,
        bands=bands,
        school_sizes=sizes,
        policy=policy_failures(classes, settings.policy_checks),
        teachers=teachers,
        coverage=coverage,
        budget=budget_needed(gap, settings.standards.class_size, settings.standards.cost_per_classroom, district.grades),
        settings=settings,
        warnings=warnings,
        first_red_units=first_red_units(warnings),
    )


__all__ = ["GapReport", "GapSettings", "gap_report", "grade_rooms", "seat_table", "seats_from_rooms"]
