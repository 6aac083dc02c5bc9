"""Benchmark sweeps on Dask: throughput (scenarios per minute) with 1 and 2 workers on a
small province, and a large province end to end.

Writes a seeded synthetic province (variants of the example county) into a temporary
folder and runs the shipped baseline scenario with the `quick` override on every county.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(n: int, workers: int, tmp: Path, label: str) -> dict:
    from capacity.scenario import load_scenario
    from capacity.sweep import Member, gather, load_sweep, run_sweep
    from capacity.synthetic import write_province

    sweep_file = write_province(tmp / f"prov{n}", n, seed=n)
    _, _, members = load_sweep(sweep_file)
    quick = load_scenario(ROOT / "scenarios" / "baseline.yaml", ("quick",))
    members = [
        Member(
            m.name, replace(m.scenario, projection=quick.projection, plan=quick.plan), str(tmp / f"{label}-{workers}" / Path(m.out).name)
        )
        for m in members
    ]
    t0 = time.perf_counter()
    status = run_sweep(members, workers=workers, serial=workers == 0, progress=lambda s: None)
    wall = time.perf_counter() - t0
    metrics, _, _ = gather(status)
    return {
        "benchmark": label,
        "counties": n,
        "workers": workers,
        "wall_s": round(wall, 1),
        "scenarios_per_minute": round(60 * n / wall, 2),
        "done": int((status["status"] == "done").sum()),
        "failed": int((status["status"] == "failed").sum()),
        "capital_total": float(metrics["capital_cost_total"].sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=6, help="counties for the throughput runs")
    ap.add_argument("--large", type=int, default=50, help="counties for the end-to-end run (0 to skip)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for w in (1, 2):
            print(json.dumps(run(a.small, w, tmp, "throughput")), flush=True)
        if a.large:
            print(json.dumps(run(a.large, 2, tmp, "province")), flush=True)


if __name__ == "__main__":
    main()
