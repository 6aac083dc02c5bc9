"""Benchmark the plan's solve quality: proven gap at the time limit, time to a proven 1 % / 0.5 %,
and the OR-Library large instances (capa/capb) through the public district format.

Prints one JSON line per run with the machine load (``os.getloadavg``) beside it, so figures from a
shared machine can be read against the load they ran under. Time with ``--threads 1``.

Cases: ``scenario:NAME`` (a shipped scenario of the example county), ``2x`` (the 2x county, new-school
settings, 120 s), ``capa_8000`` / ``capb_5000`` (../shared/validation, default settings), ``cap`` (cap41-cap134
at the default settings, reporting the worst excess over the published optimum).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAL = ROOT.parent / "shared" / "validation" / "orlib_cap"
CACHE = Path(tempfile.gettempdir()) / "capacity_bench_plan_quality"


STRATEGY: list = []  # plan.strategy forced from the command line, if any
HIGHS_S = [0.0]  # HiGHS's own run time in this process (every phase), for the overhead ratio


def _count_highs_time() -> None:
    import highspy

    run = highspy.Highs.run

    def timed(self, *a, **k):
        t = time.perf_counter()
        try:
            return run(self, *a, **k)
        finally:
            HIGHS_S[0] += time.perf_counter() - t

    highspy.Highs.run = timed


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _emit(row: dict) -> None:
    print(json.dumps({**row, "load": _load()}), flush=True)


def _summary(r, extra: dict) -> dict:
    s = r.summary
    keys = (
        "status",
        "objective",
        "bound",
        "gap",
        "build_s",
        "solve_s",
        "phase_0_s",
        "phase_a_s",
        "phase_b_s",
        "phase_r_s",
        "phase_d_s",
        "phase_s_s",
        "phase_k_s",
        "phase_c_s",
        "lazy_linking_rows",
        "run_s",
        "first_objective",
        "rounded_objective",
        "local_search_objective",
        "year_by_year_objective",
        "start",
        "plan_from",
        "unmet_pupil_years",
    )
    out = {**extra, **{k: s.get(k) for k in keys if k in s}}
    out["highs_s"] = round(HIGHS_S[0], 3)
    out["overhead_ratio"] = round((s["run_s"] - HIGHS_S[0]) / max(HIGHS_S[0], 1e-9), 2)
    out["overhead_share"] = round((s["run_s"] - HIGHS_S[0]) / s["run_s"], 3)
    HIGHS_S[0] = 0.0
    return out


def _scenario_inputs(name: str):
    """District, demand and plan settings of a shipped scenario (the projection cached on disk)."""
    from capacity.data import load_district
    from capacity.projection import project_district
    from capacity.scenario import fit_scenario, load_scenario

    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    district = load_district(sc.district_path)
    sc = fit_scenario(sc, district.grades)  # as a run does: the defaults of the district's grade system (us-district)
    CACHE.mkdir(exist_ok=True)
    f = CACHE / f"{name}_{sc.hash[:12]}.pkl"
    if f.exists():
        demand = pickle.loads(f.read_bytes())
    else:
        p = project_district(district, sc.projection)
        demand = p.demand(sc.plan.demand_quantile, sc.plan.demand_anchor)
        f.write_bytes(pickle.dumps(demand))
    return district, demand, sc.plan


def run_scenario(name: str, threads: int, gaps: tuple[float, ...], time_limit: float | None, copies: int = 1) -> None:
    from capacity.plan import plan_district

    district, demand, settings = _scenario_inputs(name)
    if copies > 1:
        from capacity.synthetic import replicate_district

        district = replicate_district(district, copies, seed=copies)
        demand = _replicated_demand(district, name, copies)
    for gap in gaps:
        s = settings.with_(threads=threads, mip_gap=gap, time_limit_s=time_limit or settings.time_limit_s * copies)
        s = s.with_(strategy=STRATEGY[0]) if STRATEGY else s
        HIGHS_S[0] = 0.0
        r = plan_district(district, demand, s)
        _emit(_summary(r, {"case": f"{copies}x {name}" if copies > 1 else name, "mip_gap": gap, "time_limit_s": s.time_limit_s}))


def _replicated_demand(district, name: str, copies: int):
    from capacity.projection import ProjectionSettings, project_district

    f = CACHE / f"{name}_x{copies}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    p = project_district(district, ProjectionSettings(horizon=10, draws=200))
    demand = p.demand(0.5, "county")
    f.write_bytes(pickle.dumps(demand))
    return demand


def run_cap(inst: str, threads: int, time_limit: float, gap: float) -> dict:
    """One OR-Library instance through the district files at plan settings like tests/test_plan_validation.py."""
    import pandas as pd

    sys.path.insert(0, str(ROOT / "tests"))
    from adapters import write_orlib_district
    from test_plan_solve import CFLP

    from capacity.data import load_district
    from capacity.plan import plan_district

    base, _, cap = inst.partition("_")
    opt = pd.read_csv(VAL / "optimal.csv").set_index("instance")["optimal_value"]
    with tempfile.TemporaryDirectory() as tmp:
        src = VAL / f"{base}.txt"
        if cap:
            src = Path(tmp) / f"{inst}.txt"
            src.write_text((VAL / f"{base}.txt").read_text().replace("capacity", cap))
        folder, demand = write_orlib_district(src, Path(tmp) / inst)
        district = load_district(folder)
    # the validation scenario's settings (tests/test_plan_validation.py) at the default gap and time limit
    s = CFLP.with_(unmet_penalty=1e9, mip_gap=gap, time_limit_s=time_limit, threads=threads)
    s = s.with_(strategy=STRATEGY[0]) if STRATEGY else s
    HIGHS_S[0] = 0.0
    t0 = time.perf_counter()
    r = plan_district(district, demand, s)
    total = time.perf_counter() - t0
    o = float(opt[inst])
    row = _summary(r, {"case": inst, "mip_gap": gap, "time_limit_s": time_limit, "optimum": o})
    row["excess"] = (r.summary["objective"] - o) / o
    row["total_s"] = round(total, 3)
    _emit(row)
    return row


CAPS = [f"cap{k}" for k in (41, 42, 43, 44, 51, 61, 62, 63, 64, 71, 72, 73, 74, 81, 82, 83, 84, 91, 92, 93, 94)] + [
    f"cap{k}" for k in (101, 102, 103, 104, 111, 112, 113, 114, 121, 122, 123, 124, 131, 132, 133, 134)
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="+", help="scenario:NAME, 2x:NAME, capa_8000, capb_5000, cap")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--strategy", default=None, help="plan.strategy for every case (default: the scenario's)")
    ap.add_argument("--gaps", default="0.005", help="comma-separated MIP gaps to run each scenario at")
    a = ap.parse_args()
    gaps = tuple(float(g) for g in a.gaps.split(","))
    _count_highs_time()
    if a.strategy:
        STRATEGY.append(a.strategy)
    for case in a.cases:
        if case.startswith("scenario:"):
            run_scenario(case.split(":", 1)[1], a.threads, gaps, a.time_limit)
        elif case.startswith("2x:"):
            run_scenario(case.split(":", 1)[1], a.threads, gaps, a.time_limit, copies=2)
        elif case == "cap":
            rows = [run_cap(i, a.threads, a.time_limit or 60.0, 0.005) for i in CAPS]
            _emit(
                {
                    "case": "cap41-cap134",
                    "worst_excess": max(r["excess"] for r in rows),
                    "median_total_s": sorted(r["total_s"] for r in rows)[len(rows) // 2],
                    "median_overhead_ratio": sorted(r["overhead_ratio"] for r in rows)[len(rows) // 2],
                }
            )
        else:
            for g in gaps:
                run_cap(case, a.threads, a.time_limit or 60.0, g)


if __name__ == "__main__":
    main()
