"""Validation of raw district tables into typed pandas frames.

Pure functions: text cells in, typed frames and a list of every problem out. Nothing is
coerced beyond writing a whole number as ``45`` or ``45.0``; nothing is dropped.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from capacity.data.read import RawTable
from capacity.data.schema import FALSE_WORDS, FREE_TEXT_COLUMNS, SYSTEM_TABLES, TABLE_BY_NAME, TRUE_WORDS, Column, Table
from capacity.errors import Problem
from capacity.grades import CHINA, PRESETS, GradeSystem, grade_words, preset, system_from_rows

ROW = "_row"
"""Hidden column carrying each record's spreadsheet row number during validation."""


def empty_frame(table: Table) -> pd.DataFrame:
    """A zero-row frame with the table's columns and dtypes."""
    data = {c.name: pd.Series([], dtype=_dtype(c)) for c in table.columns}
    return pd.DataFrame(data)


def _dtype(c: Column) -> str:
    if c.kind == "int":
        return "float64" if c.nullable else "int64"
    if c.kind == "float":
        return "float64"
    if c.kind == "bool":
        return "bool"
    return "object"


def parse_table(raw: RawTable, table: Table, grades: GradeSystem = CHINA) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse one raw table against its schema (grade and stage cells against ``grades``).

    Returns
    -------
    frame : DataFrame
        One row per data row, schema columns in schema order plus ``_row``; cells that
        failed to parse are missing (NaN / None) and reported in ``problems``.
    problems : list of Problem
    """
    problems: list[Problem] = []
    label = raw.label
    raw = _without_empty_blank_columns(raw)
    seen: dict[str, int] = {}
    for h in raw.header:
        seen[h] = seen.get(h, 0) + 1
    for h, n in seen.items():
        if n > 1:
            problems.append(Problem(label, 1, h, f"the column '{h}' {n} times", "each column once"))
    names = set(table.column_names)
    by_lower = {n.lower(): n for n in names}
    recased = set()
    for h in raw.header:
        if h in names or h.lower() in FREE_TEXT_COLUMNS:
            continue
        if h == "":
            problems.append(Problem(label, 1, None, "a column with a blank header", "every column named"))
            continue
        fixed = by_lower.get(h.lower().replace(" ", "_").replace("-", "_"))
        if fixed is not None and fixed not in raw.header:
            recased.add(fixed)
            problems.append(
                Problem(label, 1, h, f"the column '{h}', which differs from '{fixed}' only in case or spacing", f"the exact name '{fixed}'")
            )
            continue
        close = difflib.get_close_matches(h, list(names), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(Problem(label, 1, h, f"an unknown column '{h}'{hint}", "columns " + ", ".join(table.column_names)))
    for c in table.columns:
        if c.required and c.name not in raw.header and c.name not in recased:
            problems.append(Problem(label, 1, c.name, "no such column", f"a column '{c.name}' ({c.doc})"))
    if not raw.rows and table.required:
        problems.append(Problem(label, None, None, "an empty table", "at least one data row"))
    if recased or any(k not in raw.header for k in table.key):  # report a broken header alone, not every row after it
        frame = empty_frame(table).assign(**{ROW: pd.Series(dtype=np.int64)})
        frame.attrs["header_broken"] = True
        return frame, problems

    cells = pd.DataFrame(raw.rows, columns=raw.header, dtype=object) if raw.rows else pd.DataFrame(columns=raw.header, dtype=object)
    cells = cells.loc[:, ~cells.columns.duplicated()]
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    out: dict[str, pd.Series] = {}
    for c in table.columns:
        if c.name in cells.columns:
            series, probs = _parse_column(cells[c.name].astype(str), c, label, rows, grades)
            problems += probs
            out[c.name] = series
        else:
            if c.default is not None:
                out[c.name] = pd.Series([c.default] * len(rows), dtype=_dtype(c))
            elif c.kind in ("int", "float"):
                out[c.name] = pd.Series(np.full(len(rows), np.nan))
            else:
                out[c.name] = pd.Series([None] * len(rows), dtype=object)
    frame = pd.DataFrame(out)
    frame[ROW] = rows
    frame.attrs["bad_cells"] = {(p.column, p.row) for p in problems}
    problems += _check_key(frame, table, label)
    return frame, problems


def _without_empty_blank_columns(raw: RawTable) -> RawTable:
    """``raw`` without the columns that have neither a header nor any value (trailing commas a
    spreadsheet leaves after a column once used), stated in a note; a blank-headed column with
    values stays, to be reported."""
    empty = [i for i, h in enumerate(raw.header) if not h.strip() and all(not r[i].strip() for r in raw.rows)]
    if not empty:
        return raw
    from dataclasses import replace

    from capacity.notes import note

    note(f"{raw.label}: {len(empty)} column(s) with no header and no value (left by a spreadsheet) ignored")
    keep = [i for i in range(len(raw.header)) if i not in set(empty)]
    return replace(raw, header=[raw.header[i] for i in keep], rows=[[r[i] for i in keep] for r in raw.rows])


def _parse_column(s: pd.Series, c: Column, label: str, rows: np.ndarray, grades: GradeSystem) -> tuple[pd.Series, list[Problem]]:
    problems: list[Problem] = []
    s = s.reset_index(drop=True)
    text = s.str.strip()
    blank = text.eq("")
    if not c.nullable:
        for i in np.flatnonzero(blank.to_numpy()):
            problems.append(Problem(label, int(rows[i]), c.name, "a blank cell", c.expected(grades)))
    if c.kind in ("int", "float"):
        num = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
        vals = num.to_numpy()
        bad = (~blank.to_numpy()) & ~np.isfinite(vals)
        if c.kind == "int":
            finite = np.isfinite(vals)
            frac = finite & (np.mod(np.where(finite, vals, 0.0), 1.0) != 0)
            bad |= frac
        if c.min is not None:
            bad |= np.isfinite(vals) & (vals < c.min)
        if c.max is not None:
            bad |= np.isfinite(vals) & (vals > c.max)
        for i in np.flatnonzero(bad):
            problems.append(Problem(label, int(rows[i]), c.name, repr(s.iloc[i]), c.expected()))
        vals = np.where(bad, np.nan, vals)
        if c.kind == "int" and not c.nullable and not np.isnan(vals).any():
            return pd.Series(vals.astype(np.int64)), problems
        return pd.Series(vals), problems
    if c.kind == "bool":
        low = text.str.lower()
        is_true = low.isin(TRUE_WORDS)
        is_false = low.isin(FALSE_WORDS)
        bad = ~(is_true | is_false) & ~blank
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(label, int(rows[i]), c.name, repr(s.iloc[i]), c.expected()))
        default = bool(c.default) if c.default is not None else False
        return pd.Series(np.where(blank, default, is_true.to_numpy()).astype(bool)), problems
    allowed: tuple[str, ...] | None = None
    if c.kind == "choice":
        allowed = c.choices
    elif c.kind == "grade":
        allowed = grades.grades
    elif c.kind == "stage":
        allowed = grades.stage_names
    if allowed is not None:
        bad = ~text.isin(allowed) & ~blank
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(label, int(rows[i]), c.name, repr(s.iloc[i]), c.expected(grades)))
        return pd.Series(np.where(bad | blank, None, text.to_numpy()), dtype=object), problems
    # Identifiers and names are kept exactly as written (no trimming), so what a message
    # quotes is what the file holds.
    return pd.Series(np.where(blank, None, s.to_numpy()), dtype=object), problems


def _check_key(frame: pd.DataFrame, table: Table, label: str) -> list[Problem]:
    key = list(table.key)
    sub = frame[key]
    if sub.isna().any(axis=1).all() and len(sub):
        return []
    dup = frame.duplicated(subset=key, keep=False) & sub.notna().all(axis=1)
    problems = []
    if dup.any():
        first_row = frame[dup].groupby(key, sort=False)[ROW].transform("min")
        for idx in frame.index[dup]:
            r = int(frame.at[idx, ROW])
            f = int(first_row.at[idx])
            if r == f:
                continue
            value = ", ".join(str(_plain(frame.at[idx, k])) for k in key)
            problems.append(Problem(label, r, ",".join(key), f"the key ({value}) again, first given at row {f}", "each key once"))
    return problems


def _plain(v: object) -> object:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def cross_check(frames: dict[str, pd.DataFrame], labels: dict[str, str], grades: GradeSystem = CHINA) -> list[Problem]:
    """Checks between tables: references, grade ranges, contiguous history years.

    Parameters
    ----------
    frames : dict of str to DataFrame
        Parsed tables (with ``_row``), every table of the format (an absent one empty, as
        :func:`parse_all` fills it).
    labels : dict of str to str
        File label of each table, for messages.
    """
    problems: list[Problem] = []
    zones = frames["zones"]
    schools = frames["schools"]
    zone_ids = set(zones["zone_id"].dropna())
    school_ids = set(schools["school_id"].dropna())

    def refs(table: str, column: str, valid: set, target: str) -> None:
        f = frames[table]
        bad = f[column].notna() & ~f[column].isin(valid)
        for _, r in f[bad].iterrows():
            problems.append(
                Problem(
                    labels[table],
                    int(r[ROW]),
                    column,
                    f"'{r[column]}', which is not in {target}",
                    f"a {column} listed in {target}{_lost_zeros_hint(str(r[column]), valid)}",
                )
            )

    refs("schools", "zone_id", zone_ids, "zones")
    refs("enrolment", "school_id", school_ids, "schools")
    refs("births", "zone_id", zone_ids, "zones")
    refs("housing", "zone_id", zone_ids, "zones")
    refs("travel", "zone_id", zone_ids, "zones")
    refs("travel", "school_id", school_ids, "schools")
    refs("projects", "school_id", school_ids, "schools")
    refs("children", "zone_id", zone_ids, "zones")
    refs("stage_rooms", "school_id", school_ids, "schools")
    refs("demand", "zone_id", zone_ids, "zones")
    refs("attendance", "zone_id", zone_ids, "zones")
    refs("attendance", "school_id", school_ids, "schools")
    problems += _rated_capacity_cells(schools, labels["schools"])

    s = schools.dropna(subset=["first_grade", "last_grade"])
    fi = s["first_grade"].map(grades.grade_index)
    la = s["last_grade"].map(grades.grade_index)
    for _, r in s[fi > la].iterrows():
        problems.append(
            Problem(
                labels["schools"],
                int(r[ROW]),
                "last_grade",
                f"'{r['last_grade']}', before first_grade '{r['first_grade']}'",
                "a last_grade at or after first_grade",
            )
        )
    over = schools["classrooms"] > schools["max_classrooms"]
    for _, r in schools[over].iterrows():
        problems.append(
            Problem(
                labels["schools"],
                int(r[ROW]),
                "classrooms",
                f"{_plain(r['classrooms'])} classrooms, more than max_classrooms {_plain(r['max_classrooms'])}",
                "classrooms <= max_classrooms",
            )
        )

    span = s.set_index("school_id")[["first_grade", "last_grade", "status"]]
    span = span[~span.index.duplicated()]
    enrol, demand = frames["enrolment"], frames["demand"]
    if not len(enrol) and not len(demand):
        problems.append(
            Problem(
                labels["enrolment"],
                None,
                None,
                "neither enrolment history nor a demand table",
                "enrolment (pupils by school, grade and year) or demand (pupils by zone, grade and year)",
            )
        )
    if len(demand):
        problems += _gaps(sorted(set(demand["year"].dropna().astype(int))), labels["demand"], "demand years")
        inside = sorted(set(demand["year"].dropna().astype(int)) & set(enrol["year"].dropna().astype(int)))
        if inside:
            from capacity.notes import note

            note(
                f"{labels['demand']}: years {inside[0]}-{inside[-1]} are also enrolment history years; the projection uses the "
                "enrolment for them (demand joins the history only after its last year; `capacity plan --demand` plans against a file)"
            )
    if len(frames["attendance"]):
        problems += _attendance_checks(frames["attendance"].join(span, on="school_id", how="inner"), labels["attendance"], grades)
    if len(enrol):
        e = enrol.dropna(subset=["school_id", "grade"]).join(span, on="school_id", how="inner")
        wider = _wider_earlier_span(e, grades)
        problems += _grades_outside_span(e[~wider], labels["enrolment"], grades)
        _note_earlier_spans(e[wider], labels["enrolment"], grades)
        for _, r in e[e["status"].eq("candidate") & (e["pupils"] > 0)].iterrows():
            problems.append(
                Problem(
                    labels["enrolment"],
                    int(r[ROW]),
                    "school_id",
                    f"pupils at '{r['school_id']}', a candidate site",
                    "history only for open or closed schools",
                )
            )
        years = enrol["year"].dropna()
        if len(years):
            last = years.max()
            late = e["status"].eq("closed") & e["year"].eq(last) & (e["pupils"] > 0)
            for _, r in e[late].iterrows():
                problems.append(
                    Problem(
                        labels["enrolment"],
                        int(r[ROW]),
                        "school_id",
                        f"pupils in {int(last)} at '{r['school_id']}', whose status is closed",
                        "no pupils in the last history year at a closed school (or status open)",
                    )
                )
            missing = _missing_years(sorted(set(years.astype(int))))
            if missing:
                from capacity.notes import note

                note(
                    f"{labels['enrolment']}: history years {int(years.min())}-{int(years.max())} miss {', '.join(map(str, missing))}; "
                    "accepted: no ratio is taken across a missing year (only adjacent recorded years are paired) and "
                    "the projection starts from the last recorded year"
                )
            this_year = _this_year()
            for _, r in enrol[enrol["year"] > this_year].drop_duplicates("year").iterrows():
                problems.append(
                    Problem(
                        labels["enrolment"],
                        int(r[ROW]),
                        "year",
                        f"{int(r['year'])}, a school year that has not begun",
                        f"history up to {this_year}",
                    )
                )

    births = frames["births"]
    have = set(births["zone_id"].dropna())
    for z in sorted(zone_ids - have) if len(births) else ():
        problems.append(Problem(labels["births"], None, "zone_id", f"no births for zone '{z}'", "births for every zone"))
    for z, g in births.dropna(subset=["zone_id", "year"]).groupby("zone_id", sort=True):
        problems += _gaps(sorted(set(g["year"].astype(int))), labels["births"], f"years for zone '{z}'")

    if len(frames["stage_rooms"]):
        sr = frames["stage_rooms"].dropna(subset=["school_id", "stage"])
        info = schools.dropna(subset=["first_grade", "last_grade"]).drop_duplicates("school_id").set_index("school_id")
        for _, r in sr.iterrows():
            if r["school_id"] in info.index:
                st = grades.stages_of(info.at[r["school_id"], "first_grade"], info.at[r["school_id"], "last_grade"])
                if r["stage"] not in st:
                    problems.append(
                        Problem(
                            labels["stage_rooms"],
                            int(r[ROW]),
                            "stage",
                            f"{r['stage']} at school '{r['school_id']}'",
                            f"a stage the school teaches ({', '.join(st)})",
                        )
                    )
        total = sr.groupby("school_id")["classrooms"].sum()
        for sid, n in total.items():
            if sid in info.index and n != info.at[sid, "classrooms"]:
                row = int(sr.loc[sr["school_id"] == sid, ROW].min())
                problems.append(
                    Problem(
                        labels["stage_rooms"],
                        row,
                        "classrooms",
                        f"{_plain(n)} classrooms in all for '{sid}'",
                        f"the school's classrooms ({_plain(info.at[sid, 'classrooms'])})",
                    )
                )

    if len(frames["projects"]):
        p = frames["projects"]
        neither = p["classrooms"].isna() & p["seats"].isna()
        for _, r in p[neither].iterrows():
            problems.append(
                Problem(labels["projects"], int(r[ROW]), "classrooms", "neither classrooms nor seats", "classrooms, seats, or both")
            )
    return problems


MAX_GRADE_PUPILS = 3000  # one grade of one school above this is implausible (warning)
MAX_LISTED_WARNINGS = 10  # warnings of one kind listed row by row; the rest are summed up in one line
MAX_SPAN_KM = 1000.0  # a district wider than this has coordinates in metres, not km (error)


def plausibility(frames: dict[str, pd.DataFrame], labels: dict[str, str], grades: GradeSystem = CHINA) -> tuple[list[Problem], list[str]]:
    """Data that parses but cannot be right (errors) or is probably wrong (warnings).

    Errors: project rows that do not fit their school (a stage it does not teach, a completion
    year inside the history, more rooms than the site holds), a candidate site with
    classrooms, coordinates in metres, control characters in text. Warnings: an open school
    without pupils in the last history year, a zone with no births but pupils, a grade of one
    school above MAX_GRADE_PUPILS pupils, coordinates that look like degrees.
    """
    errors: list[Problem] = []
    warnings: list[str] = []
    schools = frames["schools"]
    for name, f in frames.items():
        for col in f.columns:
            if col == ROW or f[col].dtype != object:
                continue
            text = f[col].dropna().astype(str)
            bad = text[text.str.contains(r"[\x00-\x1f\x7f]", regex=True)]
            for i, v in bad.items():
                errors.append(
                    Problem(
                        labels[name],
                        int(f.at[i, ROW]),
                        col,
                        f"control characters in {v!r}",
                        "plain text (no tabs, line breaks or control codes)",
                    )
                )
    cand = schools[schools["status"].eq("candidate") & (schools["classrooms"] > 0)]
    for _, r in cand.iterrows():
        errors.append(
            Problem(
                labels["schools"],
                int(r[ROW]),
                "classrooms",
                f"{_plain(r['classrooms'])} classrooms at '{r['school_id']}', a candidate site",
                "0 classrooms for a candidate site (its rooms are built when it opens: max_classrooms)",
            )
        )
    if "capacity" in schools:
        for _, r in schools[schools["status"].eq("candidate") & schools["capacity"].notna()].iterrows():
            errors.append(
                Problem(
                    labels["schools"],
                    int(r[ROW]),
                    "capacity",
                    f"a capacity at '{r['school_id']}', a candidate site",
                    "a blank capacity for a candidate site (it opens with max_classrooms rooms)",
                )
            )
    enrol = frames["enrolment"]
    last = int(enrol["year"].max()) if len(enrol) and enrol["year"].notna().any() else None
    first = int(enrol["year"].min()) if last is not None else None
    info = schools.dropna(subset=["school_id", "first_grade", "last_grade"]).drop_duplicates("school_id").set_index("school_id")
    if len(frames["projects"]):
        p = frames["projects"].dropna(subset=["school_id"])
        for _, r in p.iterrows():
            sid = r["school_id"]
            if sid not in info.index:
                continue
            if info.at[sid, "status"] == "closed":
                # the seat gap counted such a project's rooms while the plan dropped the project
                errors.append(
                    Problem(
                        labels["projects"],
                        int(r[ROW]),
                        "school_id",
                        f"a decided project at '{sid}', whose status is closed",
                        "a project at an open school or a candidate site (to re-open the school by a decided project, "
                        "list the re-opened school as a candidate site under a new school_id and give it the project)",
                    )
                )
                continue
            taught = grades.stages_of(info.at[sid, "first_grade"], info.at[sid, "last_grade"])
            if isinstance(r.get("stage"), str) and r["stage"] not in taught:
                errors.append(
                    Problem(
                        labels["projects"],
                        int(r[ROW]),
                        "stage",
                        f"{r['stage']} at school '{sid}'",
                        f"a stage the school teaches ({', '.join(taught)})",
                    )
                )
            if last is not None and pd.notna(r["completion_year"]) and int(r["completion_year"]) <= last:
                errors.append(
                    Problem(
                        labels["projects"],
                        int(r[ROW]),
                        "completion_year",
                        f"{int(r['completion_year'])}, inside the history {first}-{last} (its rooms are already in schools.classrooms)",
                        f"a completion year after {last}, or no row for a finished project",
                    )
                )
        added = p.groupby("school_id")["classrooms"].sum(min_count=1).dropna()
        for sid, n in added.items():
            if sid in info.index and pd.notna(info.at[sid, "max_classrooms"]):
                have = info.at[sid, "classrooms"]
                if have + n > info.at[sid, "max_classrooms"]:
                    row = int(p.loc[p["school_id"] == sid, ROW].min())
                    errors.append(
                        Problem(
                            labels["projects"],
                            row,
                            "classrooms",
                            f"{_plain(n)} classrooms added at '{sid}', which has {_plain(have)} and room for {_plain(info.at[sid, 'max_classrooms'])}",
                            "classrooms + projects <= the school's max_classrooms",
                        )
                    )
    dem = frames.get("demand")
    start = int(dem["year"].min()) if last is None and dem is not None and len(dem) and dem["year"].notna().any() else None
    errors += _decided_closure_checks(schools, frames["projects"], labels, last, start)
    if last is not None:
        present = set(enrol.loc[enrol["year"].eq(last) & (enrol["pupils"] > 0), "school_id"])
        for _, r in schools[schools["status"].eq("open") & ~schools["school_id"].isin(present)].iterrows():
            warnings.append(
                f"warning: {labels['schools']}, row {int(r[ROW])}: open school '{r['school_id']}' has no pupils in {last}, "
                "the last history year (expected enrolment rows, or status candidate/closed)"
            )
        big = enrol[enrol["pupils"] > MAX_GRADE_PUPILS]
        for _, r in big.head(MAX_LISTED_WARNINGS).iterrows():
            warnings.append(
                f"warning: {labels['enrolment']}, row {int(r[ROW])}: {int(r['pupils']):,} pupils in {grade_words(r['grade'])} at "
                f"'{r['school_id']}' in {int(r['year'])} (expected at most {MAX_GRADE_PUPILS:,} in one grade of one school; check for a typo)"
            )
        if len(big) > MAX_LISTED_WARNINGS:
            rest = big.iloc[MAX_LISTED_WARNINGS:]
            warnings.append(
                f"warning: {labels['enrolment']}: {len(rest):,} more rows hold more than {MAX_GRADE_PUPILS:,} pupils in one grade of "
                f"one school (rows {int(rest[ROW].min())}-{int(rest[ROW].max())}, schools "
                f"{', '.join(repr(x) for x in sorted(rest['school_id'].unique())[:10])}); check for a typo"
            )
        births = frames["births"]
        if len(births):
            zero = births.groupby("zone_id")["births"].sum()
            zero = set(zero[zero == 0].index)
            zone_of = schools.set_index("school_id")["zone_id"]
            enrolled = enrol.loc[enrol["pupils"] > 0, "school_id"].map(zone_of)
            for z in sorted(zero & set(enrolled.dropna())):
                warnings.append(
                    f"warning: {labels['births']}: zone '{z}' has 0 births in every year but pupils at its schools "
                    "(expected the zone's births; with 0 the projection admits no new pupils there)"
                )
            usual = births.groupby("zone_id")["births"].transform("median")
            gaps = births[(births["births"] == 0) & (usual >= 20) & ~births["zone_id"].isin(zero)]
            for _, r in gaps.iterrows():
                warnings.append(
                    f"warning: {labels['births']}, row {int(r[ROW])}: 0 births in {int(r['year'])} for zone '{r['zone_id']}', "
                    f"which usually has about {usual[_]:,.0f} (expected the count; a missing year is not 0)"
                )
    for name in ("zones", "schools"):
        f = frames[name].dropna(subset=["x_km", "y_km"])
        if len(f) < 2:
            continue
        span = max(f["x_km"].max() - f["x_km"].min(), f["y_km"].max() - f["y_km"].min())
        if span > MAX_SPAN_KM:
            errors.append(
                Problem(
                    labels[name],
                    None,
                    "x_km",
                    f"coordinates spanning {span:,.0f} km (they look like metres)",
                    f"kilometres (a district spans less than {MAX_SPAN_KM:,.0f} km): divide metres by 1000",
                )
            )
        elif len(f) >= 3 and span < 2 and (f["x_km"].abs().max() > 2 or f["y_km"].abs().max() > 2):
            warnings.append(
                f"warning: {labels[name]}: coordinates span only {span:.3f} km though far from 0 (they look like degrees of "
                "longitude/latitude; expected kilometres on a flat grid, e.g. a projected CRS / 1000, or degrees in columns named lon and lat)"
            )
    return errors, warnings


def _decided_closure_checks(
    schools: pd.DataFrame, projects: pd.DataFrame, labels: dict[str, str], last: int | None, start: int | None = None
) -> list[Problem]:
    """A decided closure (``closed_from``) is at an open school, after the last history year (without history: not
    before ``start``, the first demand year), and no decided project at the school is completed in or after its
    closing year."""
    if "closed_from" not in schools:
        return []
    out = []
    done = projects.dropna(subset=["school_id", "completion_year"]) if len(projects) else projects
    for _, r in schools[schools["closed_from"].notna()].iterrows():
        sid, year = r["school_id"], int(r["closed_from"])
        if r["status"] != "open":
            out.append(
                Problem(
                    labels["schools"],
                    int(r[ROW]),
                    "closed_from",
                    f"{year} at '{sid}', whose status is {r['status']}",
                    "a decided closure only at an open school (a closed school is already closed; a candidate site never opened)",
                )
            )
            continue
        if last is not None and year <= last:
            out.append(
                Problem(
                    labels["schools"],
                    int(r[ROW]),
                    "closed_from",
                    f"{year}, inside the history (last year {last})",
                    f"a year after {last} (a school closed before then has status closed)",
                )
            )
            continue
        if start is not None and year < start:
            out.append(
                Problem(
                    labels["schools"],
                    int(r[ROW]),
                    "closed_from",
                    f"{year}, before the first demand year {start}",
                    f"a year from {start} on (a school closed before then has status closed)",
                )
            )
            continue
        late = done[done["school_id"].eq(sid) & (done["completion_year"] >= year)] if len(done) else done
        for _, p in late.iterrows():
            out.append(
                Problem(
                    labels["projects"],
                    int(p[ROW]),
                    "completion_year",
                    f"{int(p['completion_year'])} for project '{p['project_id']}' at '{sid}', which closes from {year} "
                    f"({labels['schools']}, row {int(r[ROW])}, column closed_from)",
                    f"a project completed before {year}, or no decided project at a school that closes",
                )
            )
    return out


def _this_year() -> int:
    """The current calendar year (history cannot lie after it)."""
    import datetime

    return datetime.date.today().year


def _rated_capacity_cells(schools: pd.DataFrame, label: str) -> list[Problem]:
    """A school needs classrooms or a rated capacity; a blank classrooms cell needs a capacity."""
    out = []
    cap = schools["capacity"] if "capacity" in schools else pd.Series(np.nan, index=schools.index)
    bad = schools.attrs.get("bad_cells", set())
    for _, r in schools[schools["classrooms"].isna() & cap.isna() & schools["school_id"].notna()].iterrows():
        if ("classrooms", int(r[ROW])) in bad:
            continue  # already reported as a bad value
        out.append(
            Problem(
                label, int(r[ROW]), "classrooms", f"a blank cell at '{r['school_id']}' and no capacity", "classrooms, capacity, or both"
            )
        )
    return out


def _grades_outside_span(f: pd.DataFrame, label: str, grades: GradeSystem) -> list[Problem]:
    """Rows of ``f`` (joined with their school's first_grade/last_grade) whose grade the school does not teach."""
    gi = f["grade"].map(grades.grade_index)
    outside = (gi < f["first_grade"].map(grades.grade_index)) | (gi > f["last_grade"].map(grades.grade_index))
    return [
        Problem(
            label,
            int(r[ROW]),
            "grade",
            f"{r['grade']} at school '{r['school_id']}'",
            f"a grade that school teaches ({r['first_grade']}-{r['last_grade']})",
        )
        for _, r in f[outside].iterrows()
    ]


def _wider_earlier_span(e: pd.DataFrame, grades: GradeSystem) -> pd.Series:
    """Rows of a school in a year before the last history year when it taught a wider range than
    today: its grades that year run unbroken and hold every grade of its span in schools (a grade
    moved between schools, e.g. grade 6 from the elementary to the middle schools). A grade beside
    a missing one (a typo) is not wider."""
    gi = e["grade"].map(grades.grade_index)
    lo, hi = e["first_grade"].map(grades.grade_index), e["last_grade"].map(grades.grade_index)
    key = [e["school_id"], e["year"]]
    g_lo, g_hi = gi.groupby(key).transform("min"), gi.groupby(key).transform("max")
    n = gi.groupby(key).transform("nunique")
    return e["year"].lt(e["year"].max()) & (n == g_hi - g_lo + 1) & (g_lo <= lo) & (g_hi >= hi)


def _note_earlier_spans(f: pd.DataFrame, label: str, grades: GradeSystem) -> None:
    """A note per school with pupils, before the last history year, in grades it no longer teaches
    (rows of :func:`_wider_earlier_span`). The rows stay in the history (the projection counts pupils
    by the school's zone); seats, classes and the plan use the span in schools."""
    gi = f["grade"].map(grades.grade_index)
    outside = f[((gi < f["first_grade"].map(grades.grade_index)) | (gi > f["last_grade"].map(grades.grade_index))) & (f["pupils"] > 0)]
    if not len(outside):
        return
    from capacity.notes import note

    for sid, g in outside.groupby("school_id", sort=True):
        taught = ", ".join(grade_words(x) for x in sorted(g["grade"].unique(), key=grades.grade_index.get))
        y0, y1, rows = int(g["year"].min()), int(g["year"].max()), g[ROW].astype(int)
        note(
            f"{label}, {len(rows)} rows from row {rows.min()} to {rows.max()}: '{sid}' has {int(g['pupils'].sum()):,} pupils in {taught} in {y0}-{y1}, outside "
            f"the grades it teaches now ({g['first_grade'].iloc[0]}-{g['last_grade'].iloc[0]} in schools); accepted as history "
            "(a grade moved between schools): the projection counts them in the school's zone, seats and classes use today's grades"
        )


def _attendance_checks(a: pd.DataFrame, label: str, grades: GradeSystem) -> list[Problem]:
    """Attendance at a school that does not teach the grade (in ``grades``' order), or at a candidate site."""
    out = _grades_outside_span(a, label, grades)
    for _, r in a[a["status"].eq("candidate") & (a["pupils"] > 0)].iterrows():
        out.append(Problem(label, int(r[ROW]), "school_id", f"pupils at '{r['school_id']}', a candidate site", "an open or closed school"))
    return out


def _missing_years(years: list[int]) -> list[int]:
    return sorted(set(range(years[0], years[-1] + 1)) - set(years)) if years else []


def _lost_zeros_hint(found: str, valid: set) -> str:
    """A hint where an id differs from a listed one only by leading zeros (Excel stores 007 typed as a number as 7)."""
    if not found.isdigit():
        return ""
    near = sorted(v for v in valid if isinstance(v, str) and v.isdigit() and v != found and v.lstrip("0") == found.lstrip("0"))
    return (
        f" (did you mean '{near[0]}'? a spreadsheet drops the leading zeros of ids stored as numbers: format the column as text)"
        if near
        else ""
    )


def _gaps(years: list[int], label: str, what: str) -> list[Problem]:
    missing = _missing_years(years)
    if not missing:
        return []
    shown = ", ".join(str(y) for y in missing[:10]) + (" ..." if len(missing) > 10 else "")
    return [Problem(label, None, "year", f"{what} {years[0]}-{years[-1]} missing {shown}", "an unbroken run of years")]


def grade_system(tables: dict[str, RawTable]) -> tuple[GradeSystem, dict[str, pd.DataFrame], list[Problem]]:
    """The district's grade system from its ``district`` and ``grades`` tables (parsed first).

    Neither table: China. ``district.grade_system`` names a preset or ``custom``; with
    ``custom`` (or a ``grades`` table) the ``grades`` table lists the system. With problems,
    the returned system is China (so that the other tables can still be checked) and the
    problems say why.
    """
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for t in SYSTEM_TABLES:
        if t.name in tables:
            frames[t.name], p = parse_table(tables[t.name], t)
            problems += p
    if problems:
        return CHINA, frames, problems
    name = "china" if "grades" not in frames else "custom"
    dlabel = tables["district"].label if "district" in tables else "district"
    row = None
    if "district" in frames:
        d = frames["district"]
        hit = d[d["key"] == "grade_system"]
        if len(hit):
            name, row = str(hit["value"].iloc[0]).strip().lower(), int(hit[ROW].iloc[0])
    if name != "custom":
        system = preset(name)
        if system is None:
            expected = "a preset " + ", ".join(PRESETS) + ", or custom (with a grades table)"
            return CHINA, frames, [Problem(dlabel, row, "value", f"grade_system {name!r}", expected)]
        if "grades" in frames:
            glabel = tables["grades"].label
            return CHINA, frames, [Problem(glabel, None, None, f"a grades table while grade_system is {name!r}", "grade_system custom")]
        return system, frames, []
    if "grades" not in frames or not len(frames["grades"]):
        return (
            CHINA,
            frames,
            [Problem(dlabel, row, "value", "grade_system 'custom' without a grades table", "a grades table listing the system")],
        )
    g = frames["grades"]
    glabel = tables["grades"].label
    ages = g.sort_values(["age", ROW], kind="stable")
    for _, r in ages[ages.duplicated("age", keep="first")].iterrows():
        problems.append(
            Problem(glabel, int(r[ROW]), "age", f"age {_plain(r['age'])} again", "a distinct age per grade (ages order the grades)")
        )
    if problems:
        return CHINA, frames, problems
    seen: list[str] = []
    for _, r in ages.iterrows():
        if r["stage"] in seen and seen[-1] != r["stage"]:
            problems.append(
                Problem(
                    glabel,
                    int(r[ROW]),
                    "stage",
                    f"stage {r['stage']!r} for grade {r['grade']!r}, after grades of stage {seen[-1]!r}",
                    "the grades of a stage consecutive in age order",
                )
            )
        seen.append(r["stage"])
    labels = g.groupby("stage")["stage_label"].agg(lambda x: next((v for v in x if isinstance(v, str)), None))
    if problems:
        return CHINA, frames, problems
    rows = [(r["grade"], r["stage"], int(r["age"]), labels.get(r["stage"])) for _, r in ages.iterrows()]
    return system_from_rows(rows), frames, []


def parse_all(tables: dict[str, RawTable]) -> tuple[dict[str, pd.DataFrame], list[Problem], GradeSystem]:
    """Parse and cross-check every raw table present.

    Returns typed frames (without ``_row``; the schools frame's ``attrs["_row"]`` maps each
    school_id to its row, for messages) for every table of the format; absent
    optional tables are empty frames. Problems list everything found. The grade system
    (``grade_system``) is read first; grades and stages in the other tables are checked
    against it.
    """
    grades, frames, problems = grade_system(tables)
    if problems:
        # Without the district's grade system the other tables' grades cannot be checked: checking them
        # against China's would bury the one real problem under a false one per row.
        return {name: empty_frame(table) for name, table in TABLE_BY_NAME.items()}, problems, grades
    labels: dict[str, str] = {name: tables[name].label for name in frames}
    for name, raw in tables.items():
        if name in frames:
            continue
        f, p = parse_table(raw, TABLE_BY_NAME[name], grades)
        frames[name] = f
        labels[name] = raw.label
        problems += p
    header_broken = any(f.attrs.get("header_broken") for f in frames.values())
    if not header_broken:
        from capacity.data.coords import resolve_coordinates

        problems += resolve_coordinates(frames, labels, {name: raw.header for name, raw in tables.items()})
    if not header_broken and all(n in frames for n in ("zones", "schools")):
        for name, table in TABLE_BY_NAME.items():  # the checks read every table; an absent one is empty
            if name not in frames:
                frames[name] = empty_frame(table).assign(**{ROW: pd.Series(dtype=np.int64)})
                labels[name] = f"{name}.csv"
        problems += cross_check(frames, labels, grades)
        errors, warnings = plausibility(frames, labels, grades)
        problems += errors
        from capacity.notes import note

        for w in warnings:
            note(w)
    if "schools" in frames and not problems:
        # A blank classrooms cell is allowed only beside a rated capacity: the school has 0 rooms counted.
        frames["schools"]["classrooms"] = frames["schools"]["classrooms"].fillna(0).astype(np.int64)
    out = {}
    for name, table in TABLE_BY_NAME.items():
        if name in frames:
            out[name] = frames[name].drop(columns=[ROW])
            if name == "schools":
                out[name].attrs[ROW] = {str(k): int(v) for k, v in zip(frames[name]["school_id"], frames[name][ROW], strict=True)}
        else:
            out[name] = empty_frame(table)
    return out, problems, grades
