"""Benchmark: project a synthetic province (districts x zones x 15 grades x years x draws).

Each district is fitted, calibrated on its own back-test, simulated and reduced to its tidy
quantile table in a worker process; only the tables come back, so memory stays bounded by
one district per worker. Districts go to the workers one at a time (chunksize 1), so neither
worker idles at the end while the other finishes a chunk. The wall time includes starting the
workers and importing the library in each; the CPU time per district (``time.process_time``)
and the machine's load average are reported beside it, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def one_district(args: tuple[int, int, int, int, bool]) -> tuple[int, float, float, float]:
    seed, zones, horizon, draws, calibrate = args
    from capacity.projection import ProjectionSettings, project_history
    from capacity.synthetic import synthetic_history

    h = synthetic_history(zones, 13, seed=seed)
    s = ProjectionSettings(horizon=horizon, draws=draws, calibrate=calibrate, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    p = project_history(h, s)
    table = p.table()
    return seed, float(table["pupils"].sum()), time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=int, default=100)
    ap.add_argument("--zones", type=int, default=30)
    ap.add_argument("--horizon", type=int, default=20)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-calibrate", action="store_true", help="skip the per-district back-test calibration")
    a = ap.parse_args()
    jobs = [(i, a.zones, a.horizon, a.draws, not a.no_calibrate) for i in range(a.districts)]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    if a.workers > 1:
        with ProcessPoolExecutor(a.workers) as ex:
            res = list(ex.map(one_district, jobs, chunksize=1))
    else:
        res = [one_district(j) for j in jobs]
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    per = np.array([r[2] for r in res])
    cpu = np.array([r[3] for r in res])
    print(
        json.dumps(
            {
                "benchmark": "projection",
                "districts": a.districts,
                "zones": a.zones,
                "grades": 15,
                "years": a.horizon,
                "draws": a.draws,
                "workers": a.workers,
                "calibrate": not a.no_calibrate,
                "wall_s": round(wall, 2),
                "per_district_s_mean": round(float(per.mean()), 3),
                "per_district_cpu_s_median": round(float(np.median(cpu)), 3),
                "load_1min_before_after": [round(load_before, 2), round(load_after, 2)],
                "peak_rss_gib_max_process": round(max(peak_self, peak_child), 3),
                "peak_rss_gib_all_workers_bound": round(peak_self + a.workers * peak_child, 3),
                "cell_draws": a.districts * a.zones * 15 * a.horizon * a.draws,
            }
        )
    )


if __name__ == "__main__":
    main()
