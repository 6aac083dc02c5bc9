"""Small adapters that turn the public validation data into the project's input format.

ECASD (Eau Claire, K-5) and NYC (community districts, PK-12) are written as district folders in
the US grade system (``district.csv``: ``grade_system,us``) with their own grade names; nothing is
remapped and no number is made up. ECASD carries its real births (K is entered from births five
years earlier). NYC has no births for the years used, so it has no births table: its entry grades
(PK, K) are projected without births. Only NYC school years 2005-06 .. 2011-12 are read (later
years are reserved for evaluation).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

NYC_LAST_YEAR_USED = 2011


def _write_us_district(out: Path, zones: pd.DataFrame, schools: pd.DataFrame, enrolment: pd.DataFrame) -> Path:
    """Write zones, schools, enrolment and the grade-system declaration into a district folder."""
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"key": ["grade_system"], "value": ["us"]}).to_csv(out / "district.csv", index=False)
    zones.to_csv(out / "zones.csv", index=False)
    schools.to_csv(out / "schools.csv", index=False)
    enrolment.to_csv(out / "enrolment.csv", index=False)
    return out


def write_ecasd_district(src: Path, out: Path) -> Path:
    """Write ECASD as a district folder (one zone, one row per school, grades K..5, real births) and return it."""
    sgy = pd.read_csv(src / "ecasd_school_grade_year.csv", dtype={"grade": str})
    design = pd.read_csv(src / "ecasd_school_design_sections.csv").set_index("school")["design_classrooms_k5"]
    births = pd.read_csv(src / "ecasd_births.csv")
    zones = pd.DataFrame([{"zone_id": "ECASD", "name": "Eau Claire Area School District", "kind": "urban", "x_km": 0.0, "y_km": 0.0}])
    last = int(sgy["fall_year"].max())
    rows = []
    for i, (school, g) in enumerate(sgy.groupby("school", sort=True)):
        rooms = int(design.get(school, g.groupby("fall_year")["sections"].sum().max()))
        open_now = g.loc[g["fall_year"] == last, "students"].sum() > 0
        rows.append(
            {
                "school_id": f"E{i:02d}",
                "name": school,
                "zone_id": "ECASD",
                "first_grade": "K",
                "last_grade": "5",
                "classrooms": rooms,
                "max_classrooms": rooms,
                "x_km": 0.0,
                "y_km": 0.0,
                "sector": "public",
                "status": "open" if open_now else "closed",
            }
        )
    schools = pd.DataFrame(rows)
    ids = dict(zip(schools["name"], schools["school_id"], strict=True))
    enrol = pd.DataFrame({"year": sgy["fall_year"], "school_id": sgy["school"].map(ids), "grade": sgy["grade"], "pupils": sgy["students"]})
    _write_us_district(out, zones, schools, enrol)
    pd.DataFrame({"year": births["birth_year"], "zone_id": "ECASD", "births": births["births"]}).to_csv(out / "births.csv", index=False)
    return out


def write_nyc_district(src: Path, out: Path, last_year: int = NYC_LAST_YEAR_USED) -> Path:
    """Write NYC community districts 1-32, school years 2005 to ``last_year``, as a district folder and return it.

    The tests use the default (2005-2011); later years (2013-2017, after the missing 2012-13) are
    reserved for evaluation, and a later ``last_year`` writes the series with its missing year as the
    source holds it.

    Each community district is a zone; each school (DBN) is a row of schools teaching the span of
    grades PK..12 it had pupils in, with its headcounts by grade and year (they add up to the
    source's district totals exactly). Closed: no pupils in the last year. Classrooms are unknown (0; the
    back-test needs none). No births table. A control code in a school name is written as '-'.
    """
    s = pd.read_csv(src / "nyc_school_grade_year.csv", dtype={"district": str})
    s = s[(s["fall_year"] <= last_year) & s["district"].str.fullmatch(r"\d\d") & s["district"].astype(int).between(1, 32)]
    columns = {"pk": "PK", "k": "K", **{f"g{i}": str(i) for i in range(1, 13)}}
    enrol = s.melt(id_vars=["dbn", "fall_year"], value_vars=list(columns), var_name="col", value_name="pupils")
    enrol = enrol[enrol["pupils"] > 0]
    enrol = pd.DataFrame(
        {"year": enrol["fall_year"].astype(int), "school_id": enrol["dbn"], "grade": enrol["col"].map(columns), "pupils": enrol["pupils"]}
    )
    order = {g: i for i, g in enumerate(columns.values())}
    span = enrol.assign(i=enrol["grade"].map(order)).groupby("school_id")["i"].agg(["min", "max"])
    info = (
        s.sort_values("fall_year")
        .groupby("dbn")
        .agg(name=("school_name", "last"), district=("district", "first"), last=("fall_year", "max"))
    )
    info = info.loc[span.index]
    grades = list(columns.values())
    schools = pd.DataFrame(
        {
            "school_id": span.index,
            # one source name holds a control code (0x16) where a dash belongs; the format refuses control codes
            "name": info["name"].str.replace(r"[\x00-\x1f]", "-", regex=True).to_numpy(),
            "zone_id": ("D" + info["district"]).to_numpy(),
            "first_grade": [grades[i] for i in span["min"]],
            "last_grade": [grades[i] for i in span["max"]],
            "classrooms": 0,
            "max_classrooms": 0,
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": ["open" if y == s["fall_year"].max() else "closed" for y in info["last"]],
        }
    )
    boro = s.groupby("district")["borough"].agg(lambda b: b.mode().iloc[0])
    ids = sorted(boro.index)
    zones = pd.DataFrame(
        {"zone_id": [f"D{z}" for z in ids], "name": [f"Community School District {int(z)} ({boro[z]})" for z in ids], "kind": "urban"}
    )
    zones = zones.assign(x_km=0.0, y_km=0.0)
    return _write_us_district(
        out, zones, schools, enrol.sort_values(["year", "school_id", "grade"], key=lambda c: c.map(order) if c.name == "grade" else c)
    )


def read_orlib_cap(path: Path) -> tuple[list[tuple[float, float]], list[tuple[float, list[float]]]]:
    """OR-Library capacitated warehouse instance: [(capacity, fixed cost)], [(demand, [c_ij ...])]."""
    tok = path.read_text().split()
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    wh = []
    for _ in range(m):
        wh.append((float(tok[pos]), float(tok[pos + 1])))
        pos += 2
    cust = []
    for _ in range(n):
        d = float(tok[pos])
        costs = [float(v) for v in tok[pos + 1 : pos + 1 + m]]
        pos += 1 + m
        cust.append((d, costs))
    return wh, cust


def write_orlib_district(path: Path, out: Path) -> tuple[Path, pd.DataFrame]:
    """A one-year, one-grade district for a CFLP instance, and its demand table.

    Customers -> zones with demand (P1 pupils); warehouses -> candidate schools of
    capacity/100 classrooms with classes of 100 (seats = capacity), opening cost = fixed cost;
    per-pupil travel 'km' = c_ij / d_j with a cost of 1 per pupil-km. One closed school
    with zero pupils carries the (required) enrolment history.
    """
    wh, cust = read_orlib_cap(path)
    total = sum(d for d, _ in cust)
    for cap, _ in wh:
        # a capacity that is not a multiple of 100 is rounded up only where it can never bind
        assert cap % 100 == 0 or cap >= total, (path.name, cap)
    out.mkdir(parents=True, exist_ok=True)
    zones = pd.DataFrame({"zone_id": [f"C{j:03d}" for j in range(len(cust))], "name": "customer", "kind": "town", "x_km": 0.0, "y_km": 0.0})
    zones.to_csv(out / "zones.csv", index=False)
    rows = [
        {
            "school_id": f"W{i:03d}",
            "name": "warehouse",
            "zone_id": "C000",
            "first_grade": "P1",
            "last_grade": "P1",
            "classrooms": 0,
            "max_classrooms": int(-(-cap // 100)),
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": "candidate",
            "class_size": 100,
            "opening_cost": f,
        }
        for i, (cap, f) in enumerate(wh)
    ]
    rows.append(
        {
            "school_id": "HIST",
            "name": "history only",
            "zone_id": "C000",
            "first_grade": "P1",
            "last_grade": "P1",
            "classrooms": 0,
            "max_classrooms": 0,
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": "closed",
            "class_size": "",
            "opening_cost": "",
        }
    )
    pd.DataFrame(rows).to_csv(out / "schools.csv", index=False)
    pd.DataFrame({"year": [2024], "school_id": ["HIST"], "grade": ["P1"], "pupils": [0]}).to_csv(out / "enrolment.csv", index=False)
    pd.DataFrame({"year": 2018, "zone_id": zones["zone_id"], "births": 0}).to_csv(out / "births.csv", index=False)
    travel = [(f"C{j:03d}", f"W{i:03d}", c / d) for j, (d, cs) in enumerate(cust) for i, c in enumerate(cs)]
    pd.DataFrame(travel, columns=["zone_id", "school_id", "km"]).to_csv(out / "travel.csv", index=False)
    demand = pd.DataFrame({"year": 2025, "zone_id": zones["zone_id"], "grade": "P1", "pupils": [d for d, _ in cust]})
    return out, demand
