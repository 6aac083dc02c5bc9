"""Teachers needed and kindergarten coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd


def teachers_needed(
    classes: pd.DataFrame,
    pupils_per_teacher: dict[str, float],
    min_teachers: int,
    mode: str = "ratio",
    small_school_pupils: int = 100,
    teachers_per_class: float = 1.5,
) -> pd.DataFrame:
    """Teachers per school and year.

    ratio: sum over stages of ceil(pupils / pupils_per_teacher[stage]), at least
    ``min_teachers``. classes_for_small: schools with fewer than ``small_school_pupils``
    pupils get ceil(classes x teachers_per_class) instead (at least ``min_teachers``).
    """
    by_stage = classes.groupby(["year", "school_id", "stage"], as_index=False)[["pupils", "classes"]].sum()
    by_stage["by_ratio"] = np.ceil(by_stage["pupils"] / by_stage["stage"].map(pupils_per_teacher)).astype(int)
    t = by_stage.groupby(["year", "school_id"], as_index=False).agg(
        pupils=("pupils", "sum"), classes=("classes", "sum"), by_ratio=("by_ratio", "sum")
    )
    t["teachers"] = t["by_ratio"]
    if mode == "classes_for_small":
        small = t["pupils"] < small_school_pupils
        t.loc[small, "teachers"] = np.ceil(t.loc[small, "classes"] * teachers_per_class).astype(int)
    t["teachers"] = np.maximum(t["teachers"], min_teachers).astype(int)
    return t.drop(columns="by_ratio")


def kindergarten_coverage(k_pupils: pd.DataFrame, district, births_by_year: pd.Series, floors: dict[str, float]) -> pd.DataFrame:
    """Gross enrolment ratio of ages 3-5 and the public and inclusive shares, per year.

    Parameters
    ----------
    k_pupils : DataFrame
        year, school_id, grade, pupils for kindergarten grades.
    births_by_year : Series
        County births by calendar year (recorded, then projected).

    GER = kindergarten pupils / children aged 3-5 (births 3, 4 and 5 years earlier);
    public share = pupils at public kindergartens / all; inclusive share = (public +
    private ones marked inclusive) / all. A China measure: a grade system without a
    ``kindergarten`` stage gets an empty table.
    """
    stage = district.grades.stage_by_name.get("kindergarten")
    k = k_pupils[k_pupils["grade"].isin(stage.grades if stage is not None else ())]
    sch = district.schools.set_index("school_id")
    k = k[k["school_id"] != ""].assign(
        public=lambda f: f["school_id"].map(sch["sector"]).eq("public"),
        inclusive=lambda f: (
            f["school_id"].map(sch["sector"]).eq("public") | f["school_id"].map(sch["inclusive"]).fillna(False).astype(bool)
        ),
    )
    rows = []
    for y, g in k.groupby("year"):
        total = g["pupils"].sum()
        ages = sum(float(births_by_year.get(y - a, np.nan)) for a in (3, 4, 5))
        rows.append(
            {
                "year": int(y),
                "pupils": float(total),
                "children_3_5": ages,
                "ger": total / ages if ages > 0 else np.nan,
                "public_share": g.loc[g["public"], "pupils"].sum() / total if total else np.nan,
                "inclusive_share": g.loc[g["inclusive"], "pupils"].sum() / total if total else np.nan,
            }
        )
    t = pd.DataFrame(rows, columns=["year", "pupils", "children_3_5", "ger", "public_share", "inclusive_share"])
    t["ger_ok"] = t["ger"] >= floors["ger"]
    t["public_ok"] = t["public_share"] >= floors["public"]
    t["inclusive_ok"] = t["inclusive_share"] >= floors["inclusive"]
    return t


def read_teachers_on_hand(path: str) -> pd.DataFrame:
    """Staff on hand (school_id, teachers) from a CSV; refuses a missing file, column or a bad count."""
    from pathlib import Path

    from capacity.errors import InputError, Problem

    p = Path(path)

    def refuse(row: int | None, column: str | None, found: str, expected: str) -> InputError:
        return InputError([Problem(str(p), row, column, found, expected)], str(p))

    if not p.is_file():
        raise refuse(None, None, "no such file", "a CSV with columns school_id, teachers (report.teachers_on_hand)")
    t = pd.read_csv(p, dtype={"school_id": str}, encoding="utf-8-sig")
    missing = {"school_id", "teachers"} - set(t.columns)
    if missing:
        raise refuse(None, ", ".join(sorted(missing)), f"columns {', '.join(map(str, t.columns))}", "columns school_id, teachers")
    n = pd.to_numeric(t["teachers"], errors="coerce")
    bad = t.index[n.isna() | (n < 0)]
    if len(bad):
        i = int(bad[0])
        raise refuse(i + 2, "teachers", repr(t.at[i, "teachers"]), "a whole number of teachers >= 0")
    dup = t.index[t["school_id"].duplicated()]
    if len(dup):
        raise refuse(int(dup[0]) + 2, "school_id", t.at[dup[0], "school_id"], "one row per school (this school is listed twice)")
    return t.assign(teachers=n)[["school_id", "teachers"]]


def teacher_gap(teachers: pd.DataFrame, on_hand: pd.DataFrame) -> pd.DataFrame:
    """``teachers`` with teachers_on_hand and teacher_gap (on hand - needed; negative = short).
    Schools without a row on hand get NaN, not zero: unknown is not none."""
    h = on_hand.set_index("school_id")["teachers"]
    out = teachers.assign(teachers_on_hand=teachers["school_id"].map(h))
    out["teacher_gap"] = out["teachers_on_hand"] - out["teachers"]
    return out
