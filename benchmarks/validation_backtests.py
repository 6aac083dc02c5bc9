"""Back-test the cohort model on the public validation data and print Markdown tables.

Reads ../shared/validation (ECASD K-5 with births; NYC districts 2005-2011 only, no births) through the
adapters in tests/adapters.py, which write district folders in the US grade system; the figures go into
docs/projection.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adapters import write_ecasd_district, write_nyc_district  # noqa: E402

from capacity.data import load_district  # noqa: E402
from capacity.projection import ProjectionSettings, backtest_errors, calibrate, error_metrics, history_from_district  # noqa: E402
from capacity.report.markdown import markdown_table  # noqa: E402

VALIDATION = ROOT.parent / "shared" / "validation" / "enrolment"


def table(errs, level: str) -> str:
    m = error_metrics(errs, level)
    mape = m.pivot(index="method", columns="lead", values="mape").round(2)
    bias = m.pivot(index="method", columns="lead", values="bias").round(2)
    both = mape.astype(str) + " / " + bias.astype(str)
    return markdown_table(both)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ecasd = history_from_district(load_district(write_ecasd_district(VALIDATION / "ecasd", Path(tmp) / "ecasd")))
        nyc = history_from_district(load_district(write_nyc_district(VALIDATION / "nyc", Path(tmp) / "nyc")))
    s = ProjectionSettings(window=3, entry_offsets={"K": 5}, pooled_grades=())
    for last in (2019, 2024):
        errs = backtest_errors(ecasd, s, last_target=last)
        print(f"\n### ECASD K-5, origins {errs.origin.min()}-{errs.origin.max()}, targets to {last}: MAPE / bias (%), district total\n")
        print(table(errs, "total"))
    cal = calibrate(ecasd, s, "mean", last_target=2019)
    print("\nECASD calibration (targets to 2019):\n")
    print(cal.table.round(3).to_string(index=False))
    sn = ProjectionSettings(window=2, entry_offsets={"PK": None, "K": None}, pooled_grades=())
    errs = backtest_errors(nyc, sn)
    for level in ("total", "zone", "zone_stage"):
        print(f"\n### NYC 32 districts, 2005-2011, origins {errs.origin.min()}-{errs.origin.max()}: MAPE / bias (%), level {level}\n")
        print(table(errs, level))
    cal = calibrate(nyc, sn, "mean")
    print("\nNYC calibration:\n")
    print(cal.table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
