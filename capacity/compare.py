"""Side-by-side comparison of runs: one table with a `scenario` key, charts, and the exact
differences between the resolved inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.errors import CapacityError
from capacity.gap.classes import spread_bands
from capacity.gap.settings import GapSettings
from capacity.gap.staffing import teachers_needed
from capacity.grades import system_from_manifest
from capacity.report.workbook import flatten
from capacity.scenario import run_label


@dataclass(frozen=True)
class RunTables:
    """A finished run read back from its folder."""

    name: str
    folder: Path
    manifest: dict
    scenario: dict
    tables: dict[str, pd.DataFrame]


def load_run(folder: str | Path) -> RunTables:
    """Read a run folder written by `capacity run` (manifest.json, scenario.json, gap/, plan/)."""
    f = Path(folder)
    if not (f / "manifest.json").exists():
        raise CapacityError(f"{f}: found no manifest.json; expected a folder written by 'capacity run' (or give a scenario .yaml)")
    man = json.loads((f / "manifest.json").read_text(encoding="utf-8"))
    sc = json.loads((f / "scenario.json").read_text(encoding="utf-8"))
    tables = {}
    for sub in ("gap", "plan"):
        for p in sorted((f / sub).glob("*.csv")) if (f / sub).exists() else []:
            tables[f"{sub}/{p.stem}"] = _read_table(p)
    for stem in ("alternatives", "differences"):  # near-optimal alternatives (their own tables stay in alt-N/)
        p = f / "plan" / "alternatives" / f"{stem}.csv"
        if p.exists():
            tables[f"plan/alternatives/{stem}"] = pd.read_csv(p, dtype={"school_id": str})
    if (f / "targets.csv").exists():
        tables["targets"] = pd.read_csv(f / "targets.csv")
    return RunTables(run_label(man["scenario"], man.get("overrides_applied", [])), f, man, sc, tables)


def _read_table(path: Path) -> pd.DataFrame:
    """A run's CSV; a table written with neither rows nor columns (e.g. no kindergarten) reads as empty."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def parse_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """'file.yaml' or 'file.yaml:group1,group2' -> (file, override groups of this variant)."""
    path, _, groups = spec.partition(".yaml:") if ".yaml:" in spec else spec.partition(".yml:")
    if not _:
        return spec, ()
    return path + _[:-1], tuple(g.strip() for g in groups.split(",") if g.strip())


def _drop_common(runs: list[RunTables]) -> list[RunTables]:
    """Labels without override groups every run shares (e.g. quick), when that keeps them distinct."""
    sets = [list(r.manifest.get("overrides_applied", [])) for r in runs]
    common = set.intersection(*[set(x) for x in sets]) if sets else set()
    labels = [run_label(r.manifest["scenario"], [g for g in o if g not in common]) for r, o in zip(runs, sets, strict=True)]
    if len(set(labels)) < len(labels):
        return runs
    return [RunTables(lb, r.folder, r.manifest, r.scenario, r.tables) for lb, r in zip(labels, runs, strict=True)]


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cw, q * cw[-1])])


def run_metrics(run: RunTables, bands: dict[str, list] | None = None) -> dict[str, object]:
    """Headline figures of one run (plan figures where a plan was solved)."""
    gap_settings = run.scenario.get("gap", {})
    bands = bands or gap_settings.get("bands") or GapSettings().bands
    over = bool(gap_settings.get("bands_over_standard", False))
    t = run.tables
    fr = t.get("gap/first_red", pd.DataFrame())
    m: dict[str, object] = {
        "scenario": run.name,
        "first_red_year": int(fr["first_red_year"].min()) if len(fr) else None,
    }
    if "school_id" in fr:  # school-level mode: the seat gap is each school's, so the count is of schools, not zones
        m["schools_short_status_quo"] = int(fr["school_id"].nunique())
    else:
        m["zones_short_status_quo"] = int(fr["zone_id"].nunique()) if len(fr) else 0
    if "plan/costs" not in t:
        return m
    costs, builds, schools = t["plan/costs"], t["plan/builds"], t["plan/schools"]
    a, cl, un = t["plan/assignment"], t["plan/classes"], t["plan/unmet"]
    years = sorted(costs["year"].unique())
    cap = costs[costs["category"].str.startswith("capital")].groupby("year")["cost"].sum()
    op = costs[costs["category"].str.startswith("operating")].groupby("year")["cost"].sum()
    last = years[-1]
    bc = spread_bands(cl["pupils"].to_numpy(), cl["classes"].to_numpy(), cl["standard"].to_numpy(), bands, over_standard=over)
    cl = pd.concat([cl.reset_index(drop=True), bc], axis=1)
    la = a[a["year"] == last]
    first_status = schools.sort_values("year").groupby("school_id")["status"].agg(list)
    cls_stage = cl.assign(stage=cl["grade"].astype(str).map(system_from_manifest(run.manifest).stage_of_grade))
    g = GapSettings()
    ratios = gap_settings.get("pupils_per_teacher") or g.pupils_per_teacher
    teach = teachers_needed(cls_stage[cls_stage["year"] == last], ratios, gap_settings.get("min_teachers", g.min_teachers))
    built_new = set(builds.loc[builds["kind"] == "new school", "school_id"]) if len(builds) else set()
    large = [b for b in bands if b.startswith("56")]
    huge = [b for b in bands if b.startswith("66")]
    m.update(
        {
            "plan_status": run.manifest.get("solver", {}).get("status"),
            "plan_gap": run.manifest.get("solver", {}).get("gap"),
            "capital_cost_total": float(cap.sum()),
            "capital_cost_per_year": float(cap.sum() / len(years)),
            "operating_cost_total": float(op.sum()),
            "operating_cost_per_year": float(op.sum() / len(years)),
            "seats_added": int(builds["seats"].sum()) if len(builds) else 0,
            "classrooms_built": int(builds.loc[builds["kind"] == "extend", "classrooms"].sum()) if len(builds) else 0,
            "schools_opened": int((builds["kind"] == "new school").sum()) if len(builds) else 0,
            # a decided new school (a decided project at a candidate site) opens in the plan's schools but is no build
            "schools_opened_decided": len(set(schools.loc[schools["status"] == "new", "school_id"]) - built_new),
            "schools_extended": int(builds.loc[builds["kind"] == "extend", "school_id"].nunique()) if len(builds) else 0,
            "schools_closed": int(sum("closed" in v for v in first_status)),
            "unmet_pupil_years": float(un["pupils"].sum()) if len(un) else 0.0,
            "classes_above_standard": int(cl["classes_above_standard"].sum()),
            # China's large (56+) and very large (66+) class bands; None where the run's bands have no such band (other systems)
            "classes_56_plus": int(cl[large + huge].sum().sum()) if large or huge else None,
            "classes_66_plus": int(cl[huge].sum().sum()) if huge else None,
            "pupils_moved_last_year": float(la["moved"].sum()),
            "travel_km_mean_last_year": float((la["km"] * la["pupils"]).sum() / la["pupils"].sum()) if la["pupils"].sum() else 0.0,
            "travel_km_p95_last_year": _weighted_quantile(la["km"].to_numpy(), la["pupils"].to_numpy(), 0.95),
            "boarders_last_year": float(la["boarders"].sum()),
            "teachers_needed_last_year": int(teach["teachers"].sum()),
        }
    )
    summary = run.folder / "plan" / "summary.json"
    decided = json.loads(summary.read_text(encoding="utf-8")).get("schools_closed_decided") if summary.exists() else None
    if decided:  # only where the district states a decided closure (schools closed_from)
        m["schools_closed_decided"] = int(decided)
    mg = t.get("plan/mergers")
    if mg is not None:
        m["schools_merged"] = int(mg.loc[mg["event"] == "close", "school_id"].nunique())
        m["schools_reopened"] = int(mg.loc[mg["event"] == "reopen", "school_id"].nunique())
        m["pupils_moved_by_mergers"] = float(mg["pupils_moved"].sum())
    tg = t.get("targets")
    if tg is not None and len(tg):
        due = tg[tg["year"] == tg["due"]]
        m["targets_met"] = f"{int(due['met'].sum())} of {len(due)}"
    return m


def per_year(runs: list[RunTables]) -> pd.DataFrame:
    """scenario, year, capital cost, operating cost, seats added."""
    rows = []
    for r in runs:
        if "plan/costs" not in r.tables:
            continue
        c = r.tables["plan/costs"]
        b = r.tables["plan/builds"]
        for y in sorted(c["year"].unique()):
            cy = c[c["year"] == y]
            rows.append(
                {
                    "scenario": r.name,
                    "year": int(y),
                    "capital_cost": float(cy[cy["category"].str.startswith("capital")]["cost"].sum()),
                    "operating_cost": float(cy[cy["category"].str.startswith("operating")]["cost"].sum()),
                    "seats_added": int(b.loc[b["usable_from"] == y, "seats"].sum()) if len(b) else 0,
                }
            )
    return pd.DataFrame(rows)


def input_diff(runs: list[RunTables]) -> pd.DataFrame:
    """Every resolved parameter whose value differs between the runs (one column per run)."""
    flat = {r.name: {k: json.dumps(v, sort_keys=True, ensure_ascii=False) for k, v in flatten(r.scenario).items()} for r in runs}
    keys = sorted(set().union(*[set(f) for f in flat.values()]))
    rows = []
    for k in keys:
        vals = [flat[r.name].get(k, "(not set)") for r in runs]
        if len(set(vals)) > 1 and k != "name":
            rows.append({"parameter": k, **{r.name: v for r, v in zip(runs, vals, strict=True)}})
    return pd.DataFrame(rows, columns=["parameter", *[r.name for r in runs]])


def stacked(runs: list[RunTables], table: str) -> pd.DataFrame:
    """One run table of every run with a leading `scenario` column (runs without it are left out)."""
    frames = [r.tables[table].assign(scenario=r.name) for r in _drop_common(runs) if table in r.tables and len(r.tables[table])]
    if not frames:
        return pd.DataFrame(columns=["scenario"])
    f = pd.concat(frames, ignore_index=True)
    return f[["scenario", *[c for c in f.columns if c != "scenario"]]]


def plan_choices(runs: list[RunTables]) -> dict[str, pd.DataFrame]:
    """Every run's near-optimal alternatives (cost and figures), the decisions where they differ,
    and the robust-plan evaluation, stacked with a `scenario` column (empty where no run has them)."""
    return {
        "alternatives": stacked(runs, "plan/alternatives/alternatives"),
        "alternative_differences": stacked(runs, "plan/alternatives/differences"),
        "robustness": stacked(runs, "plan/robustness"),
    }


def target_matrix(runs: list[RunTables]) -> pd.DataFrame:
    """target x scenario: planned value in the due year and whether it is met (or by how much missed)."""
    t = stacked(runs, "targets")
    if not len(t):
        return pd.DataFrame(columns=["target"])
    due = t[t["year"] == t["due"]].copy()
    due["result"] = [
        f"{p:,.2f}: met" if met else f"{p:,.2f}: missed by {miss:,.2f}"
        for p, met, miss in zip(due["planned"], due["met"], due["missed_by"], strict=True)
    ]
    out = due.pivot_table(
        index=["target", "measure", "due", "target_value"], columns="scenario", values="result", aggfunc="first"
    ).reset_index()
    out.columns.name = None
    return out


def assumption_matrix(runs: list[RunTables]) -> pd.DataFrame:
    """Every resolved parameter (rows) of every run (columns), as readable text."""
    from capacity.report.run_report import readable

    runs = _drop_common(runs)
    flat = {r.name: flatten(r.scenario) for r in runs}
    keys = sorted(set().union(*[set(f) for f in flat.values()]) - {"name"})
    return pd.DataFrame({"parameter": keys, **{r.name: [readable(flat[r.name].get(k, "(not set)")) for k in keys] for r in runs}})


def compare(runs: list[RunTables]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(side-by-side metrics with a `scenario` column, per-year figures, input diff)."""
    runs = _drop_common(runs)
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise CapacityError(
            f"two runs share a scenario name and overrides ({', '.join(n for n in names if names.count(n) > 1)}); "
            "give each scenario its own name or compare it with different override groups (file.yaml:group)"
        )
    units = {r.name: str(r.scenario.get("report", {}).get("currency_unit", "")) for r in runs}
    if len(set(units.values())) > 1:
        from capacity.notes import note

        note(
            "the runs state money in different units ("
            + ", ".join(f"{n}: {u}" for n, u in units.items())
            + "): their costs stand side by side as stated, not converted, and cannot be compared as they are"
        )
    metrics = pd.DataFrame([run_metrics(r) for r in runs])
    short = [c for c in ("zones_short_status_quo", "schools_short_status_quo") if c in metrics]  # both kept next to first_red_year
    metrics = metrics[[*metrics.columns[:2], *short, *[c for c in metrics.columns[2:] if c not in short]]]
    if "schools_closed_decided" in metrics:  # stated by runs whose district decides a closure: 0 for the other plans
        planned = metrics["schools_closed"].notna()
        metrics.loc[planned, "schools_closed_decided"] = metrics.loc[planned, "schools_closed_decided"].fillna(0)
    return metrics, per_year(runs), input_diff(runs)
