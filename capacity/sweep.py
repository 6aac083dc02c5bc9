"""Sweeps: many scenarios, districts or demand draws, run in parallel on Dask.

A sweep file (YAML) lists scenario files, optionally districts and projection seeds; their
product is the list of members. Each member is a full `capacity run` into its own folder,
executed in its own single-threaded worker process (HiGHS in several threads of one
process is not safe). A failing member is reported with its error and does not stop the
others; a member whose folder already holds a finished run with the same inputs hash is
skipped. Results are gathered into one comparison table.
"""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from capacity.errors import CapacityError, ScenarioError
from capacity.scenario import Scenario, expand_sweep, read_yaml

SWEEP_KEYS = {
    "name": "name of the sweep",
    "scenarios": "scenario files (relative to the sweep file); each may have its own sweep: block",
    "districts": "district folders or workbooks each scenario is applied to (default: each scenario's own)",
    "seeds": "projection seeds: each gives another set of demand draws (default: the scenario's seed)",
    "overrides": "override groups applied to every scenario",
    "out": "folder for the member runs and the comparison (default: sweeps/<name>)",
}


@dataclass(frozen=True)
class Member:
    """One run of a sweep."""

    name: str
    scenario: Scenario
    out: str


def load_sweep(path: str | Path) -> tuple[str, Path, list[Member]]:
    """Read a sweep file: (name, output folder, members)."""
    p = Path(path)
    data, lines = read_yaml(p)
    for k in data:
        if k not in SWEEP_KEYS:
            import difflib

            close = difflib.get_close_matches(str(k), list(SWEEP_KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(f"{p}, line {lines.get((k,), 1)}: unknown key '{k}'{hint}; allowed: {', '.join(SWEEP_KEYS)}")
    name = str(data.get("name", p.stem))
    scen = data.get("scenarios")
    if not isinstance(scen, list) or not scen:
        raise ScenarioError(f"{p}, line {lines.get(('scenarios',), 1)}: scenarios: expected a non-empty list of scenario files")
    overrides = tuple(data.get("overrides") or ())
    districts = data.get("districts") or [None]
    seeds = data.get("seeds") or [None]
    for key, values, ok in (
        ("seeds", seeds, lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)),
        ("districts", districts, lambda v: v is None or isinstance(v, str)),
        ("overrides", data.get("overrides") or [], lambda v: isinstance(v, str)),
    ):
        bad = [v for v in (values if isinstance(values, list | tuple) else [values]) if not ok(v)]
        if bad or not isinstance(values, list | tuple):
            raise ScenarioError(
                f"{p}, line {lines.get((key,), 1)}: {key}: found {bad[0] if bad else values!r}; expected a list of "
                + {"seeds": "whole numbers >= 0", "districts": "district paths", "overrides": "override group names"}[key]
            )
    out = Path(data.get("out") or Path("sweeps") / name)
    if not out.is_absolute():
        out = (p.parent / out) if data.get("out") else out
    members: list[Member] = []
    for s in scen:
        for sc in expand_sweep((p.parent / s).resolve(), overrides):
            for d in districts:
                for seed in seeds:
                    m = sc
                    label = sc.name
                    if d is not None:
                        dpath = str((p.parent / d).resolve()) if d != "example" else "example"
                        m = _with(m, district=dpath)
                        label += f"@{Path(str(d)).name}"
                    if seed is not None:
                        m = _with(m, projection=m.projection.with_(seed=int(seed)))
                        label += f"#seed{seed}"
                    members.append(Member(label, replace(m, name=label), str(out / _safe(label))))
    names = [m.name for m in members]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError(f"{p}: members share a name ({', '.join(dup)}); give the scenarios distinct names")
    return name, out, members


def _with(sc: Scenario, **changes) -> Scenario:
    resolved = dict(sc.resolved)
    if "district" in changes:
        resolved["district"] = changes["district"]
    if "projection" in changes:
        resolved["projection"] = changes["projection"].as_dict()
    import json

    from capacity.scenario import canonical_json

    return replace(sc, **changes, resolved=json.loads(canonical_json(resolved)))


def _safe(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_.@#=" else "_" for ch in label)


def run_member(member: Member) -> dict:
    """Run one member (in a worker process); never raises: returns its status and error."""
    import json

    from capacity.data.district import EXAMPLE_PATH
    from capacity.data.read import read_district_files
    from capacity.run import inputs_hash, run_scenario

    t0 = time.perf_counter()
    out = Path(member.out)

    def row(status: str, error: str = "", h: str = "") -> dict:
        return {
            "member": member.name,
            "status": status,
            "error": error,
            "inputs_hash": h,
            "seconds": round(time.perf_counter() - t0, 3),
            "out": str(out),
        }

    try:
        src = EXAMPLE_PATH if member.scenario.district_path is None else member.scenario.district_path
        h = inputs_hash(read_district_files(src).file_hashes, member.scenario)
        man = out / "manifest.json"
        if man.exists() and json.loads(man.read_text(encoding="utf-8")).get("inputs_hash") == h:
            return row("skipped", h=h)
        run_scenario(member.scenario, out)
        return row("done", h=h)
    except CapacityError as e:
        msg = str(e)
    except Exception as e:  # a member's unexpected failure is reported, never lost
        msg = f"{type(e).__name__}: {e}\n" + traceback.format_exc(limit=3)
    return row("failed", msg)


def _bar(done: int, failed: int, running: int, total: int) -> str:
    width = 30
    filled = int(width * (done + failed) / max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done} done, {failed} failed, {running} running of {total}"


def run_sweep(members: list[Member], scheduler: str | None = None, workers: int = 2, serial: bool = False, progress=None) -> pd.DataFrame:
    """Run every member; returns one status row per member (member, status, error, inputs_hash, seconds, out).

    serial: in this process, one after the other. Otherwise on Dask: an existing scheduler
    (``tcp://host:port``) or a LocalCluster of ``workers`` single-threaded processes.
    """
    progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    rows = []
    total = len(members)
    if serial:
        for m in members:
            progress(_bar(sum(r["status"] != "failed" for r in rows), sum(r["status"] == "failed" for r in rows), 1, total) + f"  {m.name}")
            rows.append(run_member(m))
    else:
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
            client = Client(cluster)
        try:
            futures = [client.submit(run_member, m, key=f"member-{i}-{_safe(m.name)}", pure=False) for i, m in enumerate(members)]
            for fut in as_completed(futures):
                rows.append(fut.result())
                done = sum(r["status"] != "failed" for r in rows)
                failed = sum(r["status"] == "failed" for r in rows)
                progress(_bar(done, failed, min(workers, total - len(rows)), total) + f"  {rows[-1]['member']}: {rows[-1]['status']}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    order = {m.name: i for i, m in enumerate(members)}
    return pd.DataFrame(rows).sort_values("member", key=lambda s: s.map(order)).reset_index(drop=True)


def gather(status: pd.DataFrame):
    """Comparison of every member that finished (done or skipped): (metrics, per-year, input diff)."""
    from capacity.compare import compare, load_run

    ok = status[status["status"].isin(["done", "skipped"])]
    if ok.empty:
        raise CapacityError("no member of the sweep finished; see the errors above")
    return compare([load_run(p) for p in ok["out"]])
