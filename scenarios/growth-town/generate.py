"""Writes the growth-town district (seeded; run from this folder: python generate.py).

A small town whose senior high school is full at the median projection: the entry rate from
junior to senior high has risen and varied from year to year (seeded noise), so the projection's
draws spread widely for the senior stage. One candidate senior site (6 classrooms, 15 M) sits in
the new estate zone E, 2 km away, where 1,500 dwellings complete in 2027. Whether to open it is a
decision that depends on the uncertainty: scenarios/robust-growth-town.yaml plans it robustly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent
GRADES = ["P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3", "S1", "S2", "S3"]


def main() -> None:
    rng = np.random.default_rng(7)
    birth_years = range(1998, 2026)
    births = {y: round(420 * 1.025 ** (y - 1998) * rng.lognormal(0, 0.03)) for y in birth_years}
    pupils: dict[int, dict[str, int]] = {}
    state = dict.fromkeys(GRADES, 0.0)
    for y in range(2004, 2026):
        new = {"P1": births[y - 6] * 0.97 * rng.lognormal(0, 0.02)}
        for a, b in zip(GRADES[:-1], GRADES[1:], strict=True):
            if b == "S1":  # entry to senior high: rising, and uncertain from year to year
                new[b] = state[a] * (0.55 + 0.012 * (y - 2004) + rng.normal(0, 0.07))
            else:
                new[b] = state[a] * (0.98 if b == "J1" else 0.99) * rng.lognormal(0, 0.01)
        state = {g: round(v) for g, v in new.items()}
        if y >= 2016:
            pupils[y] = dict(state)
    pd.DataFrame(
        [("T", "Town", "town", 0.0, 0.0), ("E", "Estate", "urban", 2.0, 0.0)], columns=["zone_id", "name", "kind", "x_km", "y_km"]
    ).to_csv(OUT / "zones.csv", index=False)
    base = {"sector": "public", "boarding_beds": 0, "can_close": "false", "inclusive": "false"}
    schools = [
        ("T-P1", "Town Primary", "T", "P1", "P6", 100, 115, 0.0, 0.0, "open", None),
        ("T-J1", "Town Junior", "T", "J1", "J3", 50, 60, 0.3, 0.0, "open", None),
        ("T-S1", "Town Senior High", "T", "S1", "S3", 26, 26, 0.5, 0.2, "open", None),
        ("E-S2", "Estate Senior High (site)", "E", "S1", "S3", 0, 6, 2.0, 0.5, "candidate", 15_000_000.0),
    ]
    cols = ["school_id", "name", "zone_id", "first_grade", "last_grade", "classrooms", "max_classrooms", "x_km", "y_km", "status"]
    pd.DataFrame([{**dict(zip(cols, s[:-1], strict=True)), **base, "opening_cost": s[-1]} for s in schools]).to_csv(
        OUT / "schools.csv", index=False
    )
    school_of = {"P": "T-P1", "J": "T-J1", "S": "T-S1"}
    pd.DataFrame(
        [(y, school_of[g[0]], g, n) for y, st in pupils.items() for g, n in st.items()], columns=["year", "school_id", "grade", "pupils"]
    ).to_csv(OUT / "enrolment.csv", index=False)
    pd.DataFrame(
        [(y, "T", b) for y, b in births.items()] + [(y, "E", 0) for y in birth_years], columns=["year", "zone_id", "births"]
    ).to_csv(OUT / "births.csv", index=False)
    pd.DataFrame([("E", 2027, 1500, "commodity")], columns=["zone_id", "year", "dwellings", "dwelling_type"]).to_csv(
        OUT / "housing.csv", index=False
    )


if __name__ == "__main__":
    main()
