"""Benchmark the plan: model build vs solve time on the example county, a 5x county, and
OR-Library cap instances; and how they grow with schools and years.

Prints one JSON line per run. Reads ../shared/validation for the cap instances when present.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_case(name, district, horizon, settings):
    from capacity.plan import plan_district
    from capacity.projection import ProjectionSettings, project_district

    p = project_district(district, ProjectionSettings(horizon=horizon, draws=100))
    t = p.table(quantiles=(0.5,))
    demand = t[["year", "zone_id", "grade"]].assign(pupils=t["p50"].round(0))
    r = plan_district(district, demand, settings)
    s = r.summary
    keys = (
        "status",
        "objective",
        "bound",
        "gap",
        "build_s",
        "solve_s",
        "phase_a_s",
        "phase_b_s",
        "phase_c_s",
        "run_s",
        "variables",
        "integer_variables",
        "constraints",
    )
    print(
        json.dumps(
            {
                "case": name,
                "schools": len(district.schools),
                "years": horizon,
                "integer_classes": settings.integer_classes,
                **{k: s.get(k) for k in keys},
            }
        ),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="only the example county, 10 years")
    a = ap.parse_args()
    from capacity.data import load_district
    from capacity.plan import PlanSettings
    from capacity.synthetic import replicate_district

    ex = load_district()
    s = PlanSettings(time_limit_s=a.time_limit)
    run_case("example", ex, 10, s)
    if a.quick:
        return
    run_case("example relaxed classes", ex, 10, s.with_(integer_classes=False))
    for years in (2, 5):
        run_case("example", ex, years, s)
    for copies in (2, 5):
        d = replicate_district(ex, copies, seed=copies)
        run_case(f"{copies}x county relaxed classes", d, 10, s.with_(integer_classes=False))
        run_case(f"{copies}x county", d, 10, s.with_(time_limit_s=a.time_limit * copies))
    val = ROOT.parent / "shared" / "validation" / "orlib_cap"
    if val.exists():
        sys.path.insert(0, str(ROOT / "tests"))
        from adapters import write_orlib_district
        from test_plan_validation import CFLP

        from capacity.plan import plan_district

        for inst in ("cap41", "cap74", "cap104", "cap134"):
            with tempfile.TemporaryDirectory() as tmp:
                folder, demand = write_orlib_district(val / f"{inst}.txt", Path(tmp) / inst)
                t0 = time.perf_counter()
                r = plan_district(load_district(folder), demand, CFLP)
                print(
                    json.dumps(
                        {
                            "case": inst,
                            "objective": r.summary["objective"],
                            "build_s": r.summary["build_s"],
                            "solve_s": r.summary["solve_s"],
                            "total_s": round(time.perf_counter() - t0, 3),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
