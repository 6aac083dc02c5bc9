"""The district input format: every table and column, in one place.

The loader, the validator, the writer and ``docs/data-format.md`` all read these
definitions, so the format is stated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from capacity.grades import CHINA, GradeSystem

Kind = Literal["str", "int", "float", "choice", "grade", "stage", "bool"]

TRUE_WORDS = ("true", "yes", "1", "y", "t")
FALSE_WORDS = ("false", "no", "0", "n", "f")


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    Attributes
    ----------
    name : str
        Column header, exactly as it must appear in the file.
    kind : {"str", "int", "float", "choice", "grade", "stage", "bool"}
        Type of the cells (``grade`` and ``stage``: a grade or stage of the district's system).
    doc : str
        Meaning of the column.
    unit : str
        Unit of the values (empty when none).
    required : bool
        Whether the column must be present.
    nullable : bool
        Whether cells may be blank.
    default : object
        Value used when an optional column is absent (stated in the docs; never guessed).
    min, max : float or None
        Allowed range, inclusive.
    choices : tuple of str
        Allowed values for ``choice`` columns.
    """

    name: str
    kind: Kind
    doc: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    default: object = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()

    def expected(self, grades: GradeSystem | None = None) -> str:
        """Plain-language description of an allowed value (grades and stages of ``grades``; None: of any system)."""
        if self.kind == "int":
            text = "a whole number"
        elif self.kind == "float":
            text = "a finite number"
        elif self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        elif self.kind == "grade":
            if grades is None:
                return "a grade of the district's system (district.grade_system; china: " + "/".join(CHINA.grades) + ")"
            return f"a grade of the {grades.name} system (district.grade_system): " + "/".join(grades.grades)
        elif self.kind == "stage":
            if grades is None:
                return "a stage of the district's system (district.grade_system; china: " + "/".join(CHINA.stage_names) + ")"
            return f"a stage of the {grades.name} system (district.grade_system): " + "/".join(grades.stage_names)
        elif self.kind == "bool":
            return "true or false (also yes/no, 1/0)"
        else:
            return "a non-empty text"
        if self.min is not None and self.max is not None:
            text += f" from {_fmt(self.min)} to {_fmt(self.max)}"
        elif self.min is not None:
            text += f" >= {_fmt(self.min)}"
        elif self.max is not None:
            text += f" <= {_fmt(self.max)}"
        return text


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Table:
    """One input table: a CSV file ``<name>.csv`` or a sheet ``<name>`` of a workbook."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


YEAR = dict(min=1900, max=2200)
ID_DOC = "identifier; any text, Chinese allowed; must be unique"
LON_DOC = (
    "longitude, WGS 84, instead of x_km/y_km (zones and schools use the same pair); converted to km on an azimuthal "
    "equidistant grid centred on the district (capacity/data/coords.py, error stated in a note)"
)
LAT_DOC = "latitude, WGS 84, instead of x_km/y_km"
COORDINATES_NOTE = (
    "Coordinates: x_km and y_km (km on a flat grid), or lon and lat (degrees, WGS 84); one pair, the same pair in zones and schools."
)
GIS_NOTE = (
    "May be a GIS layer instead: {table}.gpkg or {table}.geojson ({geometry} features, attribute columns as above, "
    "coordinates from the geometry; see 'Coordinates and GIS files' below)."
)

ZONES = Table(
    "zones",
    "Residential zones (subdistricts, towns, villages). Demand is counted by zone of residence.",
    (
        Column("zone_id", "str", ID_DOC),
        Column("name", "str", "display name"),
        Column("kind", "choice", "settlement type, used for roll-ups", choices=("urban", "town", "rural")),
        Column("x_km", "float", "easting of the zone's population centre (or give lon/lat)", "km", required=False, nullable=True),
        Column("y_km", "float", "northing of the zone's population centre (or give lon/lat)", "km", required=False, nullable=True),
        Column("lon", "float", LON_DOC, "degrees", required=False, nullable=True, min=-180, max=180),
        Column("lat", "float", LAT_DOC, "degrees", required=False, nullable=True, min=-90, max=90),
    ),
    key=("zone_id",),
    notes=(COORDINATES_NOTE, GIS_NOTE.format(table="zones", geometry="Polygon or MultiPolygon (or Point)")),
)

SCHOOLS = Table(
    "schools",
    "Schools and kindergartens: open ones, historical (closed) ones and candidate sites.",
    (
        Column("school_id", "str", ID_DOC),
        Column("name", "str", "display name"),
        Column("zone_id", "str", "zone the school stands in (must be in zones)"),
        Column("first_grade", "grade", "youngest grade taught"),
        Column("last_grade", "grade", "oldest grade taught (a school serves first_grade..last_grade)"),
        Column(
            "classrooms",
            "int",
            "general classrooms usable now (0 for a candidate site); may be blank when `capacity` is given (counted as 0 rooms)",
            "classrooms",
            nullable=True,
            min=0,
            max=1000,
        ),
        Column("max_classrooms", "int", "most classrooms the site can hold after extension", "classrooms", min=0, max=1000),
        Column("x_km", "float", "easting (or give lon/lat)", "km", required=False, nullable=True),
        Column("y_km", "float", "northing (or give lon/lat)", "km", required=False, nullable=True),
        Column("lon", "float", LON_DOC, "degrees", required=False, nullable=True, min=-180, max=180),
        Column("lat", "float", LAT_DOC, "degrees", required=False, nullable=True, min=-90, max=90),
        Column("sector", "choice", "public or private (民办)", choices=("public", "private")),
        Column(
            "status",
            "choice",
            "open = running now; candidate = site where a school may be opened; "
            "closed = closed before the last history year (kept for its history)",
            choices=("open", "candidate", "closed"),
        ),
        Column(
            "capacity",
            "int",
            "rated capacity: the seats the school has now, as the planner holds them; when given, the seat gap and the plan use "
            "these seats (see 'Rated capacity' below)",
            "seats",
            required=False,
            nullable=True,
            min=0,
            max=100000,
        ),
        Column("boarding_beds", "int", "boarding places (寄宿)", "beds", required=False, default=0, min=0, max=100000),
        Column("can_close", "bool", "whether the school may be merged into others (撤并)", required=False, default=False),
        Column(
            "closed_from",
            "int",
            "a decided closure: the first school year the school no longer teaches (a school closing at the end of the "
            "2026-27 year has 2027); blank = no decided closure. Only for an open school, after the last history year; the "
            "seat gap counts its seats until then and the plan closes it from that year (see 'Decided closures' below)",
            "year",
            required=False,
            nullable=True,
            **YEAR,
        ),
        Column(
            "inclusive",
            "bool",
            "a private kindergarten recognised as inclusive (普惠性民办), counted in the inclusive coverage share",
            required=False,
            default=False,
        ),
        Column(
            "class_size",
            "int",
            "per-school override of the standard class size for all its grades",
            "pupils per class",
            required=False,
            nullable=True,
            min=1,
            max=200,
        ),
        Column(
            "cost_per_classroom",
            "float",
            "per-school override of the cost of one added classroom",
            "currency",
            required=False,
            nullable=True,
            min=0,
        ),
        Column(
            "opening_cost",
            "float",
            "cost of opening a candidate school (building it to max_classrooms)",
            "currency",
            required=False,
            nullable=True,
            min=0,
        ),
    ),
    key=("school_id",),
    notes=(COORDINATES_NOTE, GIS_NOTE.format(table="schools", geometry="Point")),
)

ENROLMENT = Table(
    "enrolment",
    "Enrolment history: pupils on roll per school, grade and school year.",
    (
        Column("year", "int", "school year, named by the calendar year it starts in (2024 = 2024-25)", "year", **YEAR),
        Column("school_id", "str", "school (must be in schools)"),
        Column("grade", "grade", "grade (within the school's first_grade..last_grade)"),
        Column("pupils", "int", "pupils on roll", "pupils", min=0, max=100000),
    ),
    key=("year", "school_id", "grade"),
    required=False,
    notes=(
        "A missing school year inside the history is accepted with a note: no ratio is taken across it (ratios come only "
        "from pairs of adjacent recorded years) and the projection starts from the last recorded year.",
        "May be absent or empty when `demand` is given: a district without history can still be planned for the demand years.",
        "A school with status closed must not have pupils in the last history year.",
    ),
)

BIRTHS = Table(
    "births",
    "Live births per zone and calendar year (history; future years optional).",
    (
        Column("year", "int", "calendar year of birth", "year", **YEAR),
        Column("zone_id", "str", "zone of the mother's residence (must be in zones)"),
        Column("births", "int", "live births", "children", min=0, max=10000000),
    ),
    key=("year", "zone_id"),
    required=False,
    notes=(
        "When given, every zone must appear, each with an unbroken run of years.",
        "May be absent or empty when no entry grade is projected from births (projection.entry_rule: held, trend or children).",
    ),
)

HOUSING = Table(
    "housing",
    "New dwellings completed per zone and year (drives extra pupils by a yield per dwelling).",
    (
        Column("zone_id", "str", "zone (must be in zones)"),
        Column("year", "int", "year of completion", "year", **YEAR),
        Column("dwellings", "int", "dwellings completed", "dwellings", min=0, max=10000000),
        Column("dwelling_type", "str", "type of dwelling, matched to the yield table of the scenario (e.g. commodity, resettlement)"),
    ),
    key=("zone_id", "year", "dwelling_type"),
    required=False,
)

TRAVEL = Table(
    "travel",
    "Road distances that override straight-line distance x detour factor.",
    (
        Column("zone_id", "str", "zone (must be in zones)"),
        Column("school_id", "str", "school (must be in schools)"),
        Column("km", "float", "travel distance from the zone's centre to the school", "km", min=0, max=10000),
    ),
    key=("zone_id", "school_id"),
    required=False,
)

PROJECTS = Table(
    "projects",
    "Planned builds already decided (fixed inputs to the plan), e.g. '2026: +28 classrooms at school X'.",
    (
        Column("project_id", "str", ID_DOC),
        Column("school_id", "str", "school extended or opened (a new site is a candidate row in schools)"),
        Column("completion_year", "int", "first school year the rooms can be used", "year", **YEAR),
        Column("classrooms", "int", "classrooms added", "classrooms", nullable=True, min=0, max=1000),
        Column(
            "seats",
            "int",
            "seats added as stated by the project; when blank, classrooms x standard class size",
            "seats",
            nullable=True,
            min=0,
            max=100000,
        ),
        Column("cost", "float", "capital cost", "currency", min=0),
        Column(
            "stage",
            "stage",
            "stage the rooms serve; blank = the school's first stage",
            required=False,
            nullable=True,
        ),
    ),
    key=("project_id",),
    required=False,
    notes=(
        "Each row needs classrooms or seats (or both).",
        "The school is open or a candidate site; to re-open a closed school, list it again as a candidate site under a new school_id.",
    ),
)

CHILDREN = Table(
    "children",
    "Children already living in a zone by birth year, where the bureau knows them (replaces births x entry ratio).",
    (
        Column("zone_id", "str", "zone (must be in zones)"),
        Column("birth_year", "int", "calendar year of birth", "year", **YEAR),
        Column("children", "int", "children of that age living in the zone", "children", min=0, max=10000000),
    ),
    key=("zone_id", "birth_year"),
    required=False,
)

STAGE_ROOMS = Table(
    "stage_rooms",
    "Classrooms by stage for schools that teach several stages (nine- and twelve-year schools), where known.",
    (
        Column("school_id", "str", "school (must be in schools)"),
        Column("stage", "stage", "stage the rooms serve"),
        Column("classrooms", "int", "classrooms serving that stage", "classrooms", min=0, max=1000),
    ),
    key=("school_id", "stage"),
    required=False,
    notes=(
        "The stages must be ones the school teaches and their classrooms must add up to the school's classrooms.",
        "Without a row, a school's classrooms are shared among its grades evenly.",
    ),
)

DEMAND = Table(
    "demand",
    "Pupils by zone of residence, grade and school year, as the planner holds them (e.g. pupils by planning block). "
    "The plan uses it directly for its years when there is no projection (no fake schools or history needed); the "
    "projection adds its last year to the history as pupils by zone when it lies after the enrolment history.",
    (
        Column("year", "int", "school year", "year", **YEAR),
        Column("zone_id", "str", "zone where the pupils live (must be in zones)"),
        Column("grade", "grade", "grade"),
        Column("pupils", "float", "pupils living in the zone (fractions allowed, e.g. block estimates)", "pupils", min=0, max=1000000),
    ),
    key=("year", "zone_id", "grade"),
    required=False,
    notes=("Years must form an unbroken run.",),
)

ATTENDANCE = Table(
    "attendance",
    "Pupils by home zone, school, grade and year (an attendance matrix): who goes where. Where given, it sets how "
    "each zone's pupils of a grade are shared among home schools in the plan (instead of last-year enrolment).",
    (
        Column("year", "int", "school year", "year", **YEAR),
        Column("zone_id", "str", "zone where the pupils live (must be in zones)"),
        Column("school_id", "str", "school they attend (must be in schools, open, teaching the grade)"),
        Column("grade", "grade", "grade"),
        Column("pupils", "float", "pupils", "pupils", min=0, max=1000000),
    ),
    key=("year", "zone_id", "school_id", "grade"),
    required=False,
    notes=(
        "The shares come from the attendance matrix's last year; a zone and grade it leaves out (a matrix of some grades "
        "only) takes its shares from the last history year's enrolment, with a note.",
        "Where the projection comes from enrolment history (pupils counted in the zone of the school they attend), a matrix "
        "with pupils attending a school outside their home zone (a magnet school) is not applied: its residence shares "
        "would move pupils between schools. The shares then come from the last history year's enrolment, with a note; the "
        "matrix applies where demand is by residence (a demand table after the history, a district given as demand, or the file of `capacity plan --demand`).",
    ),
)

DISTRICT = Table(
    "district",
    "Settings of the district as data, one per row (key, value). Known keys: `grade_system` = china, us, england "
    "(a preset) or custom (the `grades` table lists the system). Without this table the system is china.",
    (
        Column("key", "choice", "setting", choices=("grade_system",)),
        Column("value", "str", "its value"),
    ),
    key=("key",),
    required=False,
)

GRADES_TABLE = Table(
    "grades",
    "The district's own grade system (with `grade_system` custom, or no `district` table): one row per grade.",
    (
        Column("grade", "str", "grade name as used in every other table (e.g. K, 1, Y7)"),
        Column("stage", "str", "key of the stage the grade belongs to (e.g. elementary); used in scenario settings"),
        Column("age", "int", "age in years at the start of the grade; orders the grades (youngest first)", "years", min=0, max=30),
        Column("stage_label", "str", "display name of the stage (default: the stage key)", required=False, nullable=True),
    ),
    key=("grade",),
    required=False,
    notes=("Ages are distinct; the grades of a stage are consecutive in age order; the table is read before every other table.",),
)

SYSTEM_TABLES: tuple[Table, ...] = (DISTRICT, GRADES_TABLE)
"""Tables that declare the grade system; parsed first, since other tables are checked against it."""

TABLES: tuple[Table, ...] = (
    DISTRICT,
    GRADES_TABLE,
    ZONES,
    SCHOOLS,
    ENROLMENT,
    BIRTHS,
    HOUSING,
    TRAVEL,
    PROJECTS,
    CHILDREN,
    STAGE_ROOMS,
    DEMAND,
    ATTENDANCE,
)
TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

FREE_TEXT_COLUMNS = ("notes", "note", "comment", "comments", "备注")
"""Columns a planner may add to any table for remarks; they are kept but never used."""
