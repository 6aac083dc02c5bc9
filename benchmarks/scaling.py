"""Scaling curves: projection time against zones, plan build and solve time against schools
and years. Writes docs/img/scaling.png and prints the figures as JSON lines."""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from capacity.data import load_district
    from capacity.plan import PlanSettings, plan_district
    from capacity.projection import ProjectionSettings, project_district, project_history
    from capacity.synthetic import replicate_district, synthetic_history

    proj = []
    for zones in (10, 30, 100, 300):
        h = synthetic_history(zones, 13, seed=zones)
        t0 = time.perf_counter()
        project_history(h, ProjectionSettings(horizon=20, draws=1000)).table()
        proj.append((zones, time.perf_counter() - t0))
        print(json.dumps({"projection_zones": zones, "seconds": round(proj[-1][1], 3)}), flush=True)
    ex = load_district()
    plan_rows = []
    for copies in (1, 2, 5):
        d = replicate_district(ex, copies, seed=copies)
        for years in (2, 5, 10):
            p = project_district(d, ProjectionSettings(horizon=years, draws=100))
            t = p.table(quantiles=(0.5,))
            dem = t[["year", "zone_id", "grade"]].assign(pupils=t["p50"].round(0))
            r = plan_district(d, dem, PlanSettings(integer_classes=False, time_limit_s=120))
            s = r.summary
            plan_rows.append((len(d.schools), years, s["build_s"], s["solve_s"], s["variables"]))
            print(
                json.dumps(
                    {
                        "schools": len(d.schools),
                        "years": years,
                        "build_s": s["build_s"],
                        "solve_s": s["solve_s"],
                        "variables": s["variables"],
                        "status": s["status"],
                    }
                ),
                flush=True,
            )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    axes[0].plot([z for z, _ in proj], [s for _, s in proj], marker="o")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("zones (x 15 grades x 20 years x 1,000 draws)")
    axes[0].set_ylabel("seconds")
    axes[0].set_title("Projection of one district")
    for years in (2, 5, 10):
        rows = [r for r in plan_rows if r[1] == years]
        axes[1].plot([r[0] for r in rows], [r[2] for r in rows], marker="o", ls="--", label=f"build, {years} years")
        axes[1].plot([r[0] for r in rows], [r[3] for r in rows], marker="s", label=f"solve, {years} years")
    axes[1].set_xlabel("schools")
    axes[1].set_ylabel("seconds")
    axes[1].set_title("Plan with fractional classes (HiGHS)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    out = ROOT / "docs" / "img" / "scaling.png"
    fig.savefig(out)
    print(json.dumps({"wrote": str(out)}))


if __name__ == "__main__":
    main()
