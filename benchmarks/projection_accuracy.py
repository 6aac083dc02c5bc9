"""Accuracy and interval coverage of the default projection (method auto) on real public data.

Reads ../shared/validation (ECASD K-5 with births, by district and by school; NYC community
districts 2005-2011 only) through tests/adapters.py. For every rolling origin, ``auto`` chooses
its method from that origin's own past (ex ante); its MAPE at each lead is divided by the best
standard method's picked in hindsight. Coverage is the leave-one-origin-out coverage of the
calibrated P10-P90 interval. ``--write`` puts the tables into docs/projection.md between the
``accuracy`` markers; tests/test_projection_accuracy.py checks they are current.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adapters import write_ecasd_district, write_nyc_district  # noqa: E402

from capacity.data import load_district  # noqa: E402
from capacity.notes import collecting  # noqa: E402
from capacity.projection import ProjectionSettings, backtest_errors, calibrate, error_metrics, history_from_district  # noqa: E402
from capacity.projection.backtest import choose_method, free_entry_grades  # noqa: E402
from capacity.projection.settings import ESTIMATORS, STANDARD_METHODS  # noqa: E402
from capacity.report.markdown import markdown_table  # noqa: E402

VALIDATION = ROOT.parent / "shared" / "validation" / "enrolment"
DOC = ROOT / "docs" / "projection.md"
BEGIN, END = "<!-- accuracy:begin (benchmarks/projection_accuracy.py --write) -->", "<!-- accuracy:end -->"
LEADS = range(1, 6)
ECASD_SETTINGS = ProjectionSettings(window=3, entry_offsets={"K": 5}, pooled_grades=())
NYC_SETTINGS = ProjectionSettings(window=2, entry_offsets={"PK": None, "K": None}, pooled_grades=())


def ecasd_histories(tmp: Path):
    """ECASD by district (one zone) and by school (each school a zone; births in a zone without a school)."""
    d = load_district(write_ecasd_district(VALIDATION / "ecasd", tmp / "ecasd"))
    return history_from_district(d), history_from_district(d, unit="school")


def cases(tmp: Path):
    """(name, history, settings, last target, levels judged for accuracy, levels judged for coverage)."""
    district, schools = ecasd_histories(tmp)
    nyc = history_from_district(load_district(write_nyc_district(VALIDATION / "nyc", tmp / "nyc")))
    return [
        ("ECASD district", district, ECASD_SETTINGS, 2019, ("total", "zone_grade"), ("total",)),
        ("ECASD by school", schools, ECASD_SETTINGS, 2019, ("total", "zone", "zone_grade"), ("zone", "total")),
        ("NYC 32 districts 2005-2011", nyc, NYC_SETTINGS, None, ("total", "zone", "zone_grade"), ("zone", "total")),
    ]


LEVEL_NAME = {"total": "district total", "zone": "unit (school / district)", "zone_grade": "grade cells", "zone_stage": "unit x stage"}


def hindsight_errors(history, settings, last_target) -> pd.DataFrame:
    """Back-test errors of ``auto`` and of every standard method: the six, and each estimator with the entry grades that
    ``auto`` may choose a rule for held or trended (issue 16 lists "entry from births or held or trended" among the
    standard methods), named e.g. 'mean, K held'."""
    frames = [backtest_errors(history, settings, ("auto", *STANDARD_METHODS), last_target)]
    free = free_entry_grades(history, settings)
    for rule in ("held", "trend") if free else ():
        variant = settings.with_(entry_rule={**settings.entry_rule, **dict.fromkeys(free, rule)})
        named = ", ".join(f"{g} {rule}" for g in free)
        errs = backtest_errors(history, variant, ESTIMATORS, last_target)
        frames.append(errs.assign(method=errs["method"] + ", " + named))
    return pd.concat(frames, ignore_index=True)


def accuracy(history, settings, last_target, levels) -> pd.DataFrame:
    """level, lead, auto MAPE, bias, best standard method in hindsight (:func:`hindsight_errors`), its MAPE, ratio."""
    errs = hindsight_errors(history, settings, last_target)
    rows = []
    for lv in levels:
        m = error_metrics(errs, lv, by_bucket=False)
        m["lead"] = m["lead"].astype(int)
        for lead in LEADS:
            at = m[m["lead"] == lead].set_index("method")
            if at.empty:
                continue
            std = at.drop(index="auto")["mape"]
            best = std.idxmin()
            rows.append(
                {
                    "level": LEVEL_NAME[lv],
                    "lead": lead,
                    "auto MAPE %": at.loc["auto", "mape"],
                    "auto bias %": at.loc["auto", "bias"],
                    "best in hindsight": best,
                    "best MAPE %": std[best],
                    "ratio": at.loc["auto", "mape"] / std[best] if std[best] > 0 else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def coverage(history, settings, last_target, levels) -> pd.DataFrame:
    """Leave-one-origin-out coverage and width of the calibrated P10-P90 interval of the method auto chooses now."""
    past = history.up_to(last_target) if last_target else history
    method, settings = choose_method(past, settings)
    cal = calibrate(past, settings.with_(horizon=5), method).table
    rows = []
    for lv in levels:
        t = cal[(cal["level"] == lv) & cal["lead"].isin(list(LEADS))].dropna(subset=["coverage_calibrated"])
        pooled = (t["coverage_calibrated"] * t["n"]).sum() / t["n"].sum() * 100
        row = {"level": LEVEL_NAME[lv], "method": method}
        row.update({f"lead {int(r.lead)}": f"{r.coverage_calibrated * 100:.0f} ({r.width:.1f})" for r in t.itertuples()})
        row["pooled 1-5"] = round(pooled, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def report() -> tuple[str, dict]:
    """Markdown for docs/projection.md, and the figures the validation tests assert."""
    out, figures = [], {}
    with tempfile.TemporaryDirectory() as tmp, collecting():
        for name, history, settings, last, acc_levels, cov_levels in cases(Path(tmp)):
            acc = accuracy(history, settings, last, acc_levels)
            cov = coverage(history, settings, last, cov_levels)
            figures[name] = (acc, cov)
            span = f"history {history.years[0]}-{last or history.years[-1]}"
            out.append(
                f"\n**{name}** ({span}): MAPE of `auto` (chosen at each origin from its own past) / best standard method in hindsight\n"
            )
            out.append(markdown_table(acc.round(2).set_index(["level", "lead"])))
            out.append(f"\n{name}: P10-P90 coverage %, leave-one-origin-out (mean width % of the projection)\n")
            out.append(markdown_table(cov.set_index("level")))
    return "\n".join(out) + "\n", figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the tables into docs/projection.md")
    text, _ = report()
    if not ap.parse_args().write:
        print(text)
        return
    doc = DOC.read_text(encoding="utf-8")
    a, b = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:a] + "\n" + text + doc[b:], encoding="utf-8")


if __name__ == "__main__":
    main()
