"""Writing a district back to files (CSV folder or .xlsx workbook)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capacity.data.coords import TABLES_WITH_COORDINATES, written_columns
from capacity.data.district import District
from capacity.data.schema import SYSTEM_TABLES, TABLES, Table
from capacity.grades import PRESETS


def _system_frame(district: District, table: Table) -> pd.DataFrame:
    """The ``district`` and ``grades`` tables that declare the district's grade system (none for China)."""
    g = district.grades
    if g.name == "china":
        return pd.DataFrame(columns=table.column_names)
    if table.name == "district":
        return pd.DataFrame({"key": ["grade_system"], "value": [g.name if g.name in PRESETS else "custom"]})
    if g.name in PRESETS:
        return pd.DataFrame(columns=table.column_names)
    rows = [(gr, s.name, s.entry_age + i, s.label) for s in g.stages for i, gr in enumerate(s.grades)]
    return pd.DataFrame(rows, columns=list(table.column_names))


def _table_frame(district: District, table: Table) -> pd.DataFrame | None:
    f: pd.DataFrame = _system_frame(district, table) if table in SYSTEM_TABLES else getattr(district, table.name)
    if len(f) == 0 and not table.required:
        return None
    if table.name in TABLES_WITH_COORDINATES:
        f = f[written_columns(f)]
    f = f.copy()
    for c in table.columns:
        if c.name not in f:
            continue
        if c.kind == "int" and f[c.name].dtype.kind == "f":
            f[c.name] = f[c.name].astype("Int64")
        if c.kind == "bool":
            f[c.name] = f[c.name].map({True: "true", False: "false"})
    return f


def write_csv_folder(district: District, folder: str | Path) -> None:
    """Write every non-empty table as ``<table>.csv`` (UTF-8) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        f = _table_frame(district, t)
        if f is not None:
            f.to_csv(folder / f"{t.name}.csv", index=False, lineterminator="\n")


def write_workbook(district: District, path: str | Path) -> None:
    """Write every non-empty table as a sheet of one .xlsx workbook."""
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for t in TABLES:
            f = _table_frame(district, t)
            if f is not None:
                f.to_excel(xw, sheet_name=t.name, index=False)
