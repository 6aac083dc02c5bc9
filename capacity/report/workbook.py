"""Formatted Excel workbooks: one sheet per table, frozen headers, number formats,
an assumptions sheet and a summary sheet."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import pandas as pd

# Fixed document and zip-entry timestamps: equal inputs give byte-identical workbooks.
FIXED_TIME = "2000-01-01T00:00:00Z"
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
FORMULA_START = ("=", "+", "-", "@")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def set_cell(ws, row: int, column: int, value: object):
    """Write one value safely: text that starts like a formula (= + - @) stays text, control
    characters Excel cannot store are shown as \\xNN (with a note), NaN is blank, inf is text."""
    if isinstance(value, float) and value != value:
        value = None
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    if isinstance(value, str) and _ILLEGAL.search(value):
        from capacity.notes import note

        value = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
        note(f"workbook {ws.title}: control characters shown as \\xNN in cell {ws.cell(row=row, column=column).coordinate} ({value[:40]})")
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"  # never a live formula
        cell.quotePrefix = True
    return cell


def save_deterministic(wb, path: str | Path) -> None:
    """Save a workbook with fixed created/modified times and zip entry times."""
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + FIXED_TIME.encode() + rb"\g<3>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    Path(path).write_bytes(out.getvalue())


PERCENT_WORDS = ("share", "utilisation", "p_short", "ger", "gap_rel")
MONEY_WORDS = ("cost", "budget", "capital", "objective")


def number_format(column: str, series: pd.Series) -> str | None:
    """Excel number format for a column, from its name and values."""
    c = column.lower()
    if series.dtype.kind not in "fi":
        return None
    if any(w in c for w in PERCENT_WORDS):
        return "0.0%"
    if any(w in c for w in MONEY_WORDS):
        return "#,##0"
    if c in ("year", "first_red_year", "usable_from"):
        return "0"
    if series.dtype.kind == "f":
        return "#,##0.0" if "size" in c or c == "km" else "#,##0"
    return "#,##0"


def write_workbook(
    path: str | Path,
    sheets: dict[str, pd.DataFrame],
    summary: list[tuple[str, object]],
    assumptions: dict[str, object] | None,
    title: str,
    formats: dict[str, str] | None = None,
    sheet_names: tuple[str, str] = ("summary", "assumptions"),
    headers: tuple[str, str] = ("parameter", "value"),
) -> None:
    """Write ``sheets`` after a summary sheet and before an assumptions sheet.

    Parameters
    ----------
    summary : list of (label, value)
        Headline figures for the first sheet.
    assumptions : dict or None
        Every parameter used, flattened to 'section.key' rows (None: no assumptions sheet added).
    formats : dict, optional
        Column name -> Excel number format, before the format guessed from the name.
    sheet_names, headers : tuple of str
        Names of the summary and assumptions sheets, and the assumptions sheet's headers.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E79")
    ws = wb.active
    ws.title = sheet_names[0]
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    for i, (label, value) in enumerate(summary, start=3):
        set_cell(ws, i, 1, label).font = Font(bold=True)
        c = set_cell(ws, i, 2, value)
        if label in (formats or {}):
            c.number_format = formats[label]
        elif isinstance(value, float):
            c.number_format = "0.0%" if any(w in label.lower() for w in ("share", "%")) else "#,##0"
        elif isinstance(value, int):
            c.number_format = "#,##0"
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 22
    for name, frame in sheets.items():
        sh = wb.create_sheet(name[:31])
        cols = list(frame.columns)
        for j, col in enumerate(cols, start=1):
            cell = set_cell(sh, 1, j, str(col))
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        fmts = [(formats or {}).get(str(c)) or number_format(str(c), frame[c]) for c in cols]
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            for j, v in enumerate(row, start=1):
                cell = set_cell(sh, i, j, v)
                if fmts[j - 1]:
                    cell.number_format = fmts[j - 1]
        sh.freeze_panes = "A2"
        for j, col in enumerate(cols, start=1):
            sh.column_dimensions[get_column_letter(j)].width = max(10, min(40, len(str(col)) + 4))
        if len(frame):
            sh.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(frame) + 1}"
    if assumptions is None:  # the caller gave its own assumptions table among ``sheets``
        save_deterministic(wb, path)
        return
    sa = wb.create_sheet(sheet_names[1])
    for j, h in enumerate(headers, start=1):
        c = sa.cell(row=1, column=j, value=h)
        c.font, c.fill = head_font, head_fill
    for i, (k, v) in enumerate(sorted(flatten(assumptions).items()), start=2):
        set_cell(sa, i, 1, k)
        set_cell(sa, i, 2, v if isinstance(v, (int, float, str)) or v is None else json.dumps(v, ensure_ascii=False))
    sa.freeze_panes = "A2"
    sa.column_dimensions["A"].width = 48
    sa.column_dimensions["B"].width = 60
    save_deterministic(wb, path)


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists and tuples are kept whole."""
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and all(isinstance(x, str) for x in v):
            out.update(flatten(v, key + "."))
        else:
            out[key] = list(v) if isinstance(v, tuple) else v
    return out
