"""Reading district files (a folder of CSVs or one .xlsx workbook) into raw text tables.

This is the only module that opens district files. It returns every cell as text with
its spreadsheet row number, so that validation can report exact places; it converts
nothing and drops nothing except wholly blank rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from capacity.data.geo import GIS_TABLES, gis_files, read_gis_table
from capacity.data.schema import TABLES
from capacity.errors import InputError, Problem


@dataclass
class RawTable:
    """Cells of one table as text.

    Attributes
    ----------
    name : str
        Table name (``zones`` ...).
    label : str
        Where it came from, for messages: ``schools.csv`` or ``district.xlsx[schools]``.
    header : list of str
        Column names in file order.
    rows : list of list of str
        Data cells, one list per row, each as long as ``header``.
    row_numbers : list of int
        Row number of each data row as shown by a spreadsheet (header = 1).
    """

    name: str
    label: str
    header: list[str]
    rows: list[list[str]]
    row_numbers: list[int]


@dataclass
class RawDistrict:
    """Everything read from one district source, before validation."""

    source: str
    tables: dict[str, RawTable]
    file_hashes: dict[str, str]
    notes: list[str] = field(default_factory=list)
    zone_shapes: dict[str, bytes] = field(default_factory=dict)
    """zone_id -> WKB polygon in WGS 84 lon/lat, when zones came from a GIS file (capacity/data/geo.py)."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_district_files(path: str | Path) -> RawDistrict:
    """Read a district folder or workbook.

    Parameters
    ----------
    path : str or Path
        A folder holding ``zones.csv``, ``schools.csv``, ``enrolment.csv``,
        ``births.csv`` and optional tables (zones and schools may be ``.gpkg`` or
        ``.geojson`` layers instead, see capacity/data/geo.py), or an ``.xlsx`` workbook with the same tables
        as sheets.

    Raises
    ------
    InputError
        When the source is missing or unreadable, listing every problem found.
    """
    from capacity.notes import note

    p = Path(path)
    if not p.exists():
        raise InputError([Problem(str(p), None, None, "no such file or folder", "a district folder or .xlsx workbook")])
    if p.is_dir():
        raw = _read_folder(p)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_workbook(p)
    else:
        raise InputError(
            [Problem(str(p), None, None, f"a file of type '{p.suffix}'", "a district folder of CSV files or an .xlsx workbook")]
        )
    for text in raw.notes:
        note(text)
    return raw


def read_table_file(path: str | Path, name: str) -> RawTable:
    """One table of the format from its own CSV file (e.g. a demand table named on the command line).

    Raises
    ------
    InputError
        An unreadable or malformed file, naming it (and the row).
    """
    from capacity.notes import note

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError([Problem(p.name, None, None, f"a file that cannot be read ({e.strerror})", "a readable CSV file")]) from None
    text, how = _decode(data, p.name)
    if text is None:
        raise InputError([Problem(p.name, None, None, "bytes that are not UTF-8, UTF-16, GBK or Latin-1 text", "a UTF-8 CSV file")])
    if how:
        note(how)
    raw, problems = _parse_csv(name, p.name, text)
    if problems:
        raise InputError(problems)
    return raw


def misnamed_table(name: str, given: set[str]) -> str | None:
    """The table a file or sheet name is a near miss of ('enrollment' for enrolment, 'school' for
    schools), when that table is not given; None otherwise. Such a file is refused rather than
    ignored: leaving out the history or the decided projects would change every answer."""
    import difflib

    close = difflib.get_close_matches(name.strip().lower(), [t.name for t in TABLES], n=1, cutoff=0.8)
    return close[0] if close and close[0] not in given else None


def _read_folder(folder: Path) -> RawDistrict:
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    hashes: dict[str, str] = {}
    notes: list[str] = []
    known = {f"{t.name}.csv" for t in TABLES}
    known_any_case = {k.lower() for k in known}
    shapes: dict[str, bytes] = {}
    for t in TABLES:
        f = folder / f"{t.name}.csv"
        gis = gis_files(folder, t.name) if t.name in GIS_TABLES else []
        if gis:
            if f.exists() or len(gis) > 1:
                names = ([f.name] if f.exists() else []) + [g.name for g in gis]
                problems.append(Problem(str(folder), None, None, f"the files {' and '.join(names)}", f"one file for the table '{t.name}'"))
                continue
            if not gis[0].resolve().is_relative_to(folder.resolve()):
                problems.append(
                    Problem(
                        f"{folder}/{gis[0].name}",
                        None,
                        None,
                        f"a link to {gis[0].resolve()}, outside the district folder",
                        "the table's own file inside the folder",
                    )
                )
                continue
            layer, probs = read_gis_table(gis[0], t.name)
            problems += probs
            if layer is not None:
                hashes[gis[0].name] = sha256_bytes(layer.data)
                tables[t.name] = RawTable(t.name, layer.label, layer.header, layer.rows, list(range(1, len(layer.rows) + 1)))
                shapes.update(layer.shapes)
            continue
        if not f.exists():
            near = [x.name for x in folder.iterdir() if x.name.lower() == f.name.lower() and x.name != f.name]
            if f.is_symlink():
                problems.append(
                    Problem(
                        f"{folder}/{f.name}", None, None, "a link that leads nowhere (missing target or a loop)", "the table's CSV file"
                    )
                )
            elif near:
                problems.append(
                    Problem(f"{folder}/{near[0]}", None, None, f"the file '{near[0]}', named in another case", f"the file name '{f.name}'")
                )
            elif t.required:
                problems.append(Problem(f"{folder}/{t.name}.csv", None, None, "no such file", f"the required table '{t.name}'"))
            continue
        if f.is_dir():
            problems.append(Problem(f"{folder}/{t.name}.csv", None, None, "a folder", f"the table '{t.name}' as a CSV file"))
            continue
        if not f.is_file():  # a pipe or device would block the read forever
            problems.append(Problem(f"{folder}/{t.name}.csv", None, None, "a special file (pipe or device)", "a regular CSV file"))
            continue
        if not f.resolve().is_relative_to(folder.resolve()):
            problems.append(
                Problem(
                    f"{folder}/{f.name}",
                    None,
                    None,
                    f"a link to {f.resolve()}, outside the district folder",
                    "the table's own file inside the folder",
                )
            )
            continue
        try:
            data = f.read_bytes()
        except OSError as e:
            problems.append(Problem(f"{folder}/{f.name}", None, None, f"a file that cannot be read ({e.strerror})", "a readable CSV file"))
            continue
        hashes[f.name] = sha256_bytes(data)
        text, note = _decode(data, f.name)
        if text is None:
            problems.append(
                Problem(
                    f.name, None, None, "bytes that are not UTF-8, UTF-16, GBK or Latin-1 text", "a UTF-8 CSV file (CSV UTF-8 in Excel)"
                )
            )
            continue
        if note:
            notes.append(note)
        raw, probs = _parse_csv(t.name, f.name, text)
        problems += probs
        if raw is not None:
            tables[t.name] = raw
    for extra in sorted(x.name for x in folder.glob("*.csv") if x.name.lower() not in known_any_case):
        near = misnamed_table(extra[: -len(".csv")], set(tables))
        if near is not None:
            problems.append(
                Problem(
                    f"{folder}/{extra}",
                    None,
                    None,
                    f"the file '{extra}', which looks like the table {near} (no {near}.csv is given)",
                    f"the file name '{near}.csv' (rename it), or a name unlike any table's if it is not that table",
                )
            )
            continue
        notes.append(f"{extra}: not a district table, ignored (tables are {', '.join(sorted(known))})")
    if problems:
        raise InputError(problems, str(folder))
    return RawDistrict(str(folder), tables, hashes, notes, shapes)


def _gbk_pairs_look_chinese(data: bytes) -> bool:
    """True when the non-ASCII bytes form GB2312-range pairs (both bytes 0xA1-0xFE), as Chinese
    text in GBK does; Latin-1 text (an accented letter followed by an ASCII one) does not."""
    i, pairs, good = 0, 0, 0
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        if 0x81 <= b <= 0xFE and i + 1 < n and 0x30 <= data[i + 1] <= 0x39:  # GB18030 four-byte sequence
            pairs, good, i = pairs + 1, good + 1, i + 4
            continue
        pairs += 1
        if i + 1 < n and 0xA1 <= b <= 0xFE and 0xA1 <= data[i + 1] <= 0xFE:
            good += 1
        i += 2
    return pairs > 0 and good >= 0.9 * pairs


def _decode(data: bytes, label: str) -> tuple[str | None, str | None]:
    """Text of a CSV file and a note naming the encoding when it is not UTF-8.

    UTF-8 (with or without BOM) first; UTF-16 when it starts with a BOM (Excel's "Unicode
    text"); GBK/GB18030 only when the bytes look like Chinese text; Latin-1/Windows-1252 when
    they look like accented Western text, so a Latin-1 file never turns into wrong Chinese.
    """
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), f"{label}: read as UTF-16 (it is not UTF-8); save it as CSV UTF-8 to be sure"
        except UnicodeDecodeError:
            return None, None
    if _gbk_pairs_look_chinese(data):
        try:
            return data.decode("gb18030"), f"{label}: read as GBK/GB18030 because it is not UTF-8; save it as UTF-8 to be sure"
        except UnicodeDecodeError:
            pass
    for enc, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        return (
            text,
            f"{label}: read as {name} (Western European) because it is not UTF-8 and does not look like GBK; save it as UTF-8 to be sure",
        )
    return None, None


def _parse_csv(name: str, label: str, text: str) -> tuple[RawTable | None, list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        records = list(reader)
    except csv.Error as e:
        return None, [Problem(label, reader.line_num, None, f"malformed CSV ({e})", "comma-separated values with balanced quotes")]
    if not records or not any(cell.strip() for cell in records[0]):
        return None, [Problem(label, 1, None, "no header row", "a header row naming the columns")]
    if len(records[0]) == 1:
        for sep, what in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if sep in records[0][0]:
                return None, [
                    Problem(
                        label,
                        1,
                        None,
                        f"columns separated by {what} ({records[0][0][:60]!r})",
                        "comma-separated values (in Excel: Save As 'CSV UTF-8 (comma delimited)')",
                    )
                ]
    header = [h.strip() for h in records[0]]
    rows, numbers = [], []
    for i, rec in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in rec):
            continue
        if len(rec) != len(header):
            problems.append(Problem(label, i, None, f"{len(rec)} cells", f"{len(header)} cells, one per header column"))
            continue
        rows.append(rec)
        numbers.append(i)
    return RawTable(name, label, header, rows, numbers), problems


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_workbook(path: Path) -> RawDistrict:
    import openpyxl  # at the edge: only needed for workbooks
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise InputError([Problem(path.name, None, None, "a special file (pipe or device)", "a regular .xlsx workbook")])
    data = path.read_bytes()
    try:
        # data_only=False keeps formulas as formulas: we reject them rather than evaluate them.
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise InputError(
            [Problem(path.name, None, None, f"a file Excel cannot open ({type(e).__name__}: {e})", "a valid .xlsx workbook")]
        ) from None
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    notes: list[str] = []
    known = {t.name for t in TABLES}
    for t in TABLES:
        if t.name not in wb.sheetnames:
            near = [x for x in wb.sheetnames if x.strip().lower() == t.name]
            if near:
                problems.append(
                    Problem(
                        f"{path.name}[{near[0]}]", None, None, f"the sheet '{near[0]}', named in another case", f"the sheet name '{t.name}'"
                    )
                )
            elif t.required:
                problems.append(Problem(f"{path.name}[{t.name}]", None, None, "no such sheet", f"the required table '{t.name}' as a sheet"))
            continue
        ws = wb[t.name]
        label = f"{path.name}[{t.name}]"
        if ws.sheet_state != "visible":  # hiding a sheet in Excel does not leave its table out: say that it is read
            notes.append(
                f"{label}: the sheet is {ws.sheet_state} in the workbook; it is read as the table '{t.name}' (delete it to leave it out)"
            )
        if ws.merged_cells.ranges:
            rng = ", ".join(sorted(str(r) for r in ws.merged_cells.ranges))
            problems.append(Problem(label, None, None, f"merged cells {rng}", "one value per cell; unmerge the cells"))
            continue
        grid = []
        for r in ws.iter_rows():
            line = []
            for c in r:
                if c.data_type == "f":
                    problems.append(
                        Problem(
                            label,
                            c.row,
                            None,
                            f"a formula in cell {c.coordinate} ({c.value})",
                            "a plain value; paste values instead of formulas",
                        )
                    )
                    line.append("")
                else:
                    line.append(_cell_text(c.value))
            grid.append(line)
        raw, probs = _grid_to_raw(t.name, label, grid)
        problems += probs
        if raw is not None:
            tables[t.name] = raw
    for extra in wb.sheetnames:
        if extra.strip().lower() not in known:
            near = misnamed_table(extra, set(tables))
            if near is not None:
                problems.append(
                    Problem(
                        f"{path.name}[{extra}]",
                        None,
                        None,
                        f"the sheet '{extra}', which looks like the table {near} (no sheet {near} is given)",
                        f"the sheet name '{near}' (rename it), or a name unlike any table's if it is not that table",
                    )
                )
                continue
            notes.append(f"{path.name}[{extra}]: not a district table, ignored")
    if problems:
        raise InputError(problems, str(path))
    return RawDistrict(str(path), tables, {path.name: sha256_bytes(data)}, notes)


def _grid_to_raw(name: str, label: str, grid: list[list[str]]) -> tuple[RawTable | None, list[Problem]]:
    if not grid or not any(v.strip() for v in grid[0]):
        return None, [Problem(label, 1, None, "no header row", "a header row naming the columns")]
    header = [h.strip() for h in grid[0]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    problems: list[Problem] = []
    rows, numbers = [], []
    for i, line in enumerate(grid[1:], start=2):
        if not any(v.strip() for v in line):
            continue
        if any(v.strip() for v in line[width:]):
            problems.append(Problem(label, i, None, "values beyond the last header column", f"{width} columns, one per header"))
            continue
        rows.append((line + [""] * width)[:width])
        numbers.append(i)
    return RawTable(name, label, header, rows, numbers), problems
