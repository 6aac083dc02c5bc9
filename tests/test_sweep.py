"""Sweeps on Dask: same results as serial, failures isolated, re-runs skipped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from capacity.sweep import gather, load_sweep, run_sweep
from capacity.synthetic import write_province

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    write_province(tmp, 2, seed=7)
    (tmp / "fast.yaml").write_text(
        f"extends: {ROOT / 'scenarios' / 'base.yaml'}\nname: fast\nhorizon: 3\nprojection:\n  draws: 100\nplan:\n  integer_classes: false\n",
        encoding="utf-8",
    )
    (tmp / "sweep.yaml").write_text(
        "name: t\nscenarios: [fast.yaml]\ndistricts: [county_000, county_001, no_such_county]\nout: members\n", encoding="utf-8"
    )
    return tmp / "sweep.yaml"


def _members(sweep_file, sub):
    from dataclasses import replace

    name, out, members = load_sweep(sweep_file)
    return [replace(m, out=str(sweep_file.parent / sub / Path(m.out).name)) for m in members]


def test_sweep_members_expand_the_product(sweep_file):
    name, out, members = load_sweep(sweep_file)
    assert name == "t" and [m.name for m in members] == ["fast@county_000", "fast@county_001", "fast@no_such_county"]
    assert members[0].scenario.district.endswith("county_000")


def test_local_cluster_matches_serial_and_isolates_failure(sweep_file):
    serial = run_sweep(_members(sweep_file, "serial"), serial=True, progress=lambda s: None)
    lines = []
    parallel = run_sweep(_members(sweep_file, "dask"), workers=2, progress=lines.append)
    for st in (serial, parallel):
        assert st["status"].tolist() == ["done", "done", "failed"]
        assert "no_such_county: found no such file or folder" in st.loc[2, "error"]
    assert any("2 done, 1 failed, 0 running of 3" in ln for ln in lines)
    ms, _, _ = gather(serial)
    mp, _, _ = gather(parallel)
    pd.testing.assert_frame_equal(ms, mp)
    assert serial["inputs_hash"].tolist() == parallel["inputs_hash"].tolist()
    a = Path(serial.loc[0, "out"]) / "plan" / "classes.csv"
    b = Path(parallel.loc[0, "out"]) / "plan" / "classes.csv"
    assert a.read_bytes() == b.read_bytes()


def test_rerun_skips_finished_members(sweep_file):
    members = _members(sweep_file, "rerun")[:2]
    first = run_sweep(members, serial=True, progress=lambda s: None)
    assert first["status"].tolist() == ["done", "done"]
    again = run_sweep(members, serial=True, progress=lambda s: None)
    assert again["status"].tolist() == ["skipped", "skipped"]
    assert again["inputs_hash"].tolist() == first["inputs_hash"].tolist()
    assert (again["seconds"] < first["seconds"]).all()


def test_sweep_cli_exit_status_and_comparison(sweep_file, tmp_path):
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "capacity", "sweep", str(sweep_file), "--serial", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 1  # one member failed: reported, the others finished
    assert "failed: fast@no_such_county" in r.stderr and "Traceback" not in r.stderr
    comp = pd.read_csv(tmp_path / "o" / "comparison" / "compare.csv")
    assert comp["scenario"].tolist() == ["fast@county_000", "fast@county_001"]
