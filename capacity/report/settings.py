"""Settings of what a run hands over: language, currency unit, early-warning rule, staff on hand."""

from __future__ import annotations

from dataclasses import dataclass

from capacity.settings_base import Checks, SettingsMixin

# unit label -> how many units of the district's cost figures make one displayed unit
CURRENCY_UNITS: dict[str, float] = {
    "元": 1.0,
    "万元": 1e4,
    "亿元": 1e8,
    "USD": 1.0,
    "thousand USD": 1e3,
    "million USD": 1e6,
    "EUR": 1.0,
    "GBP": 1.0,
    "currency": 1.0,
}

# name -> (amber ratio, red ratio, years ahead, basis)
WARNING_PRESETS: dict[str, tuple[float, float, int, str]] = {
    # the published rule: amber at 90 % of the intake plan, red at 100 %, three years ahead
    "intake_plan_90_100_3y": (0.9, 1.0, 3, "intake"),
}


@dataclass(frozen=True)
class ReportSettings(SettingsMixin):
    """Parameters of the report, the budget workbook and the school-level early warning.

    Attributes
    ----------
    language : str
        'en' or 'zh': labels of report.html and budget_request.xlsx (and the page's lang).
    currency_unit : str
        Unit money is shown in: 元, 万元, 亿元, USD, thousand USD, million USD, EUR, GBP or currency
        (default: the grade system's, 元 for china, USD for us, GBP for england). Cost figures of the district are in the base unit (元 or dollars); 万元 divides by 10,000.
    warning_preset : str
        '' (use the three values below) or 'intake_plan_90_100_3y' (amber at 90 % of the intake
        plan, red at 100 %, three years ahead; overrides the three values).
    warning_amber : float
        Pupils / capacity at or above which a school or zone is amber.
    warning_red : float
        Pupils / capacity at or above which a school or zone is red.
    warning_years_ahead : int
        A year is amber when the school turns red within this many following years.
    warning_basis : str
        'seats' (all pupils / all seats) or 'intake' (entry-grade pupils / entry-grade places).
    teachers_on_hand : str
        Optional CSV (school_id, teachers) of staff on hand, relative to the scenario file; the
        report then shows the teacher gap (on hand - needed), not only teachers needed.
    gis_formats : tuple of str
        GIS files a run writes into ``<out>/gis`` (capacity/report/gis.py): 'gpkg' (capacity.gpkg
        with layers zones_gap, schools_status, assignments) and/or 'geojson' (one file per layer);
        empty: none.
    """

    language: str = "en"
    currency_unit: str = "元"
    warning_preset: str = ""
    warning_amber: float = 0.9
    warning_red: float = 1.0
    warning_years_ahead: int = 3
    warning_basis: str = "seats"
    teachers_on_hand: str = ""
    gis_formats: tuple[str, ...] = ("gpkg",)

    def __post_init__(self) -> None:
        check = Checks("report")
        need = check.need
        need(self.language in ("en", "zh"), "language", self.language, "en or zh")
        need(self.currency_unit in CURRENCY_UNITS, "currency_unit", self.currency_unit, ", ".join(CURRENCY_UNITS))
        need(self.warning_preset in ("", *WARNING_PRESETS), "warning_preset", self.warning_preset, "'' or " + ", ".join(WARNING_PRESETS))
        need(0 < self.warning_amber <= self.warning_red <= 3, "warning_amber", self.warning_amber, "a ratio > 0 and <= warning_red")
        need(0 < self.warning_red <= 3, "warning_red", self.warning_red, "a ratio from 0 to 3, such as 1.0")
        need(0 <= self.warning_years_ahead <= 20, "warning_years_ahead", self.warning_years_ahead, "0-20 years")
        need(self.warning_basis in ("seats", "intake"), "warning_basis", self.warning_basis, "seats or intake")
        for f in self.gis_formats:
            need(f in ("gpkg", "geojson"), "gis_formats", f, "gpkg and/or geojson (a list; empty for none)")
        check.done()

    @property
    def warning_rule(self) -> tuple[float, float, int, str]:
        """(amber, red, years ahead, basis) after applying the preset."""
        if self.warning_preset:
            return WARNING_PRESETS[self.warning_preset]
        return self.warning_amber, self.warning_red, self.warning_years_ahead, self.warning_basis

    @property
    def money_divisor(self) -> float:
        return CURRENCY_UNITS[self.currency_unit]
