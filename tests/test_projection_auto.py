"""method: auto announces its choice and runner-up with their back-test errors, or its fallback (issue 16)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_grade_systems import write_district

from capacity.data import load_district
from capacity.errors import CapacityNote, ProjectionError
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, history_from_district, project_district
from capacity.projection.backtest import auto_choice, backtest_errors, choose_method, error_metrics
from capacity.projection.project import project_history
from capacity.projection.settings import AUTO_METHODS, STANDARD_METHODS
from capacity.standards import settings_for_system


def _notes(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(x.message) for x in w if issubclass(x.category, CapacityNote)]


def test_auto_announces_the_choice_and_runner_up_with_their_back_test_errors(example):
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    settings = ProjectionSettings(method="auto", draws=50, calibrate=False)
    projection, notes = _notes(lambda: project_history(history, settings))
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1
    chosen, runner = re.findall(r"(\w+) \(MAPE ([\d.]+) %", said[0].split("; entry grade")[0])
    assert chosen[0] == projection.method and runner[0] != chosen[0]
    # the announced errors are the zone x stage back-test MAPEs averaged over leads 1..planning_lead (recomputed
    # here through the long error table), lowest first among the combination and all standard methods
    m = error_metrics(backtest_errors(history, settings, methods=AUTO_METHODS), "zone_stage", by_bucket=False)
    at = m[m["lead"].astype(int) <= settings.planning_lead].groupby("method")["mape"].mean()
    assert set(at.index) == set(AUTO_METHODS) == {"combined", *STANDARD_METHODS}
    assert abs(at[chosen[0]] - float(chosen[1])) < 0.006 and abs(at[runner[0]] - float(runner[1])) < 0.006
    # a challenger replaces the default (combined) only if it beats it by more than auto_margin (5 %)
    best = at.idxmin()
    if best != "combined" and at[best] < (1 - settings.auto_margin) * at["combined"]:
        assert chosen[0] == best
    else:
        assert chosen[0] == "combined" and "projection.auto_margin" in said[0] and runner[0] == best
    # without a margin, the lowest MAPE wins
    loose = settings.with_(auto_margin=0.0)
    assert project_history(history, loose).method == best


def test_auto_ranks_only_when_every_planning_lead_has_three_origins_else_the_combination_with_a_note(example):
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    y0 = history.years[0]
    s = ProjectionSettings(draws=20, calibrate=False)
    # 10 years, window 3: origins y0+3 .. y0+8 (6 of them), but lead 5 is back-tested from 2 only (y0+3, y0+4)
    short = history.up_to(y0 + 9)
    projection, notes = _notes(lambda: project_history(short, s))
    assert projection.method == "combined" and projection.settings.entry_rule == {}
    assert any(
        f"history {y0}-{y0 + 9} gives fewer than 3 back-test origins at some lead 1-5" in n and "'combined' is used" in n for n in notes
    )
    assert not any(n.startswith("projection.method auto chose") for n in notes)
    # planning over leads 1-3 only: lead 3 has 4 origins, so the same history is ranked
    _, notes = _notes(lambda: project_history(short, s.with_(planning_lead=3)))
    assert any(n.startswith("projection.method auto chose") and "over leads 1-3" in n for n in notes)
    # 11 years: lead 5 from 3 origins, a ranking over leads 1-5 is announced
    _, notes = _notes(lambda: project_history(history.up_to(y0 + 10), s))
    assert any(n.startswith("projection.method auto chose") and "over leads 1-5" in n for n in notes)


def test_too_few_back_test_origins_widen_by_the_documented_rule_with_a_note(example):
    from capacity.projection.backtest import MIN_CAL_ORIGINS, UNCALIBRATED_WIDEN
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    s = ProjectionSettings(method="mean", draws=50, horizon=10)
    # 13 years, window 3: lead L is back-tested from 10 - L origins, so leads 8-10 have fewer than 3
    p, notes = _notes(lambda: project_history(history, s))
    cells = p.calibration.table[p.calibration.table["level"] == "zone_grade"].set_index("lead")
    last = int(cells.index[cells["origins"] >= MIN_CAL_ORIGINS].max())
    assert last == 7 and (cells.loc[last + 1 :, "rule"] == f"extrapolated from lead {last}").all()
    for lead in range(last + 1, 11):
        assert cells.loc[lead, "k"] == pytest.approx(max(cells.loc[last, "k"] * np.sqrt(lead / last), cells.loc[lead - 1, "k"]))
    assert any("fewer than 3 back-test origins at leads 8-10" in n for n in notes)
    # 5 years: one origin only, so no lead is calibrated: the model's own noise widened x1.5, said so
    short = history.up_to(history.years[0] + 4)
    p, notes = _notes(lambda: project_history(short, s))
    t = p.calibration.table
    assert (t["rule"] == "uncalibrated").all() and np.allclose(t["k"], UNCALIBRATED_WIDEN)
    assert any(f"widened x{UNCALIBRATED_WIDEN}" in n for n in notes)


# --- auto chooses the entry rule (births, held or trend) of entry grades the user left free --------------------------

ENTRY_SCHOOLS = [("E1", "A", "K", "5", 12, 16, 1), ("E2", "B", "K", "5", 14, 16, 1)]
ENTRY_YEARS = range(2006, 2025)


def swinging_births(year: int, zone: str) -> float:
    """Births that swing by up to +-18 a year around 60 (66 in zone B)."""
    return 60 + 18 * np.sin(2.1 * year) + (6 if zone == "B" else 0)


def entry_district(folder, entry_pupils) -> Path:
    """Two US K-5 zones, 2006-2024: each cohort enters K with ``entry_pupils(year, zone)`` pupils and stays whole through
    grade 5 (progression ratio 1); births recorded 1990-2024 follow :func:`swinging_births`."""
    write_district(folder, US, ENTRY_SCHOOLS, "us")
    grades = US.grades_between("K", "5")
    rows = [(y, sid, g, round(entry_pupils(y - i, z))) for y in ENTRY_YEARS for sid, z, *_ in ENTRY_SCHOOLS for i, g in enumerate(grades)]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    births = [(y, z, round(swinging_births(y, z))) for y in range(1990, 2025) for z in "AB"]
    pd.DataFrame(births, columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    return folder


def test_auto_holds_an_entry_grade_whose_births_swing_while_its_pupils_stay_flat(tmp_path):
    # K keeps 48-51 (53-56 in B) pupils whatever the births: births x the entry ratio carries the births' swing into
    # the projection, the held level does not. (By the K-5 stage total persistence wins here, since every grade is as
    # flat as K, so the comparison is read by cell: auto_level zone_grade.)
    d = load_district(entry_district(tmp_path / "d", lambda c, z: 48 + 3 * np.sin(1.3 * c) + (5 if z == "B" else 0)))
    s = settings_for_system(ProjectionSettings, US, {"auto_level": "zone_grade", "draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(d, s)
    assert p.method == "combined" and p.settings.entry_rule == {"K": "held"}
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1 and "entry grade K (rules compared under combined): held (MAPE" in said[0] and ", runner-up trend" in said[0]
    rules = dict(auto_choice(p.history, s).entry)["K"].set_index("method")["mape"]
    assert rules["held"] < (1 - s.auto_margin) * rules["births"]
    # the projection holds K in each zone at the combination of its window pupils a, b, c (2022-2024): the mean of
    # mean (a+b+c)/3, weighted (a+2b+3c)/6, exponential smoothing (a/4+b/4+c/2) and the median; not births x ratio
    k = p.table().query("grade == 'K'").groupby("zone_id")["pupils"].agg(["min", "max"])
    for zone, school in (("A", "E1"), ("B", "E2")):
        e = d.enrolment
        a, b, c = e[(e["grade"] == "K") & (e["year"] >= 2022) & (e["school_id"] == school)].sort_values("year")["pupils"]
        held = ((a + b + c) / 3 + (a + 2 * b + 3 * c) / 6 + (a / 4 + b / 4 + c / 2) + sorted([a, b, c])[1]) / 4
        assert k.loc[zone, "min"] == pytest.approx(held) and k.loc[zone, "max"] == pytest.approx(held)
    assert any("entry grade K is projected from its recent level, held" in n for n in notes)


def test_auto_keeps_births_where_they_lead_the_entry_grade(tmp_path):
    # K = 0.8 x births five years earlier: births x the entry ratio is exact, held and trend are not
    d = load_district(entry_district(tmp_path / "d", lambda c, z: 0.8 * swinging_births(c - 5, z)))
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(d, s)
    assert p.method == "combined" and p.settings.entry_rule == {"K": "births"}  # kept births, written as chosen
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1 and "entry grade K (rules compared under combined): births (MAPE" in said[0] and ", runner-up held" in said[0]
    rules = dict(auto_choice(p.history, s).entry)["K"].set_index("method")["mape"]
    assert rules["births"] < 0.2 * min(rules["held"], rules["trend"])
    k = p.table().query("grade == 'K' and year == 2025").set_index("zone_id")["pupils"]
    assert np.allclose(k[["A", "B"]], [0.8 * round(swinging_births(2020, z)) for z in "AB"], atol=0.6)
    # a rule the user set is never compared
    fixed = s.with_(entry_rule={"K": "births"})
    with collecting() as notes:
        assert project_district(d, fixed).settings.entry_rule == {"K": "births"}
    assert not any("entry grade K (rules compared" in n for n in notes)


def test_auto_in_the_back_test_chooses_entry_rules_from_each_origins_past(tmp_path):
    d = load_district(entry_district(tmp_path / "d", lambda c, z: 48 + 3 * np.sin(1.3 * c) + (5 if z == "B" else 0)))
    h = history_from_district(d)
    s = settings_for_system(ProjectionSettings, US, {"auto_level": "zone_grade"})
    errs = backtest_errors(h, s, ("auto",))
    origin = int(errs["origin"].max())
    past = h.up_to(origin)
    method, used = choose_method(past, s)
    assert used.entry_rule == {"K": "held"}
    expect = backtest_errors(h, used.with_(method=method), (method,), origins=[origin])
    got = errs[errs["origin"] == origin].reset_index(drop=True)
    assert np.allclose(got["projected"], expect["projected"])


def test_combined_is_the_mean_of_the_four_estimates_by_hand():
    from capacity.projection.ratios import estimate

    # ratios 1.0, 1.2, 0.8 (oldest first): mean 1.0; weighted (1 + 2.4 + 2.4) / 6; exponential smoothing (alpha 0.5)
    # 1.0 -> 1.1 -> 0.95; median 1.0. With the oldest missing: 1.0; 4.8 / 5; 1.2 -> 1.0; 1.0.
    r = np.array([[1.0, 1.2, 0.8], [np.nan, 1.2, 0.8], [np.nan] * 3])
    got = estimate(r, "combined", 0.5)
    assert got[0] == pytest.approx((1.0 + 5.8 / 6 + 0.95 + 1.0) / 4)
    assert got[1] == pytest.approx((1.0 + 4.8 / 5 + 1.0 + 1.0) / 4)
    assert np.isnan(got[2])


def test_median_estimator_equals_numpy_nanmedian_with_gaps():
    from capacity.projection.ratios import estimate

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 7):
        r = rng.lognormal(0, 0.2, (40, n))
        r[rng.random(r.shape) < 0.35] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
            expect = np.nanmedian(r, axis=-1)
        np.testing.assert_array_equal(estimate(r, "median", 0.5), expect)


# --- where each entry rule came from, and auto's note when persistence or trend wins ----------------------------------


def flat_entry(c: int, z: str) -> float:
    """K pupils of the cohort entering in ``c``: 48-51 (53-56 in zone B), whatever the births."""
    return 48 + 3 * np.sin(1.3 * c) + (5 if z == "B" else 0)


def test_entry_notes_say_whether_auto_chose_the_rule_or_the_user_set_it(tmp_path):
    d = load_district(entry_district(tmp_path / "d", flat_entry))
    s = settings_for_system(ProjectionSettings, US, {"auto_level": "zone_grade", "draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(d, s)
    assert p.settings.entry_rule == {"K": "held"}  # the written rule is auto's, not the user's
    (k,) = [n for n in notes if n.startswith("entry grade K is projected")]
    assert "held chosen by projection.method auto from the back-test" in k and "projection.entry_rule.K: held" not in k
    # kept births is a choice too (every compared grade's rule is written, births included)
    d2 = load_district(entry_district(tmp_path / "d2", lambda c, z: 0.8 * swinging_births(c - 5, z)))
    with collecting() as notes:
        assert project_district(d2, s).settings.entry_rule == {"K": "births"}
    assert any(n.startswith("entry grade K is projected from births") and "births chosen by projection.method auto" in n for n in notes)
    # set by the user: said so, never called auto's
    with collecting() as notes:
        project_district(d, s.with_(entry_rule={"K": "held"}))
    (k,) = [n for n in notes if n.startswith("entry grade K is projected")]
    assert "projection.entry_rule.K: held, as set" in k and "chosen by" not in k
    # a fixed method: the rule is the default, not a choice
    with collecting() as notes:
        project_district(d, s.with_(method="mean"))
    (k,) = [n for n in notes if n.startswith("entry grade K is projected")]
    assert "births, the default: projection.entry_rule.K is not set" in k and "chosen by" not in k


def test_auto_announces_the_entry_comparison_also_when_persistence_wins(tmp_path):
    # every grade as flat as K: persistence wins by the K-5 stage total; the entry comparison (made first, under
    # combined, for the estimator candidates) is announced as not used, and the rules stay as set
    d = load_district(entry_district(tmp_path / "d", flat_entry))
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(d, s)
    assert p.method == "persistence" and p.settings.entry_rule == {}
    (said,) = [n for n in notes if n.startswith("projection.method auto chose")]
    assert "entry grade K (rules compared under combined; not used: persistence projects every cell on its own): held (MAPE" in said
    rules = dict(auto_choice(p.history, s).entry)["K"]
    assert f"held (MAPE {rules['mape'].iloc[0]:.2f} %" in said and f"runner-up {rules['method'].iloc[1]} (MAPE" in said
    (k,) = [n for n in notes if n.startswith("entry grade K is projected")]
    assert "method persistence, chosen by projection.method auto, projects every cell on its own" in k


def births_free(folder: Path, entry_pupils) -> Path:
    """:func:`entry_district` with no births table."""
    entry_district(folder, entry_pupils)
    (folder / "births.csv").unlink()
    return folder


@pytest.mark.parametrize(
    ("entry_pupils", "rule"),
    [
        (lambda c, z: 80 - 1.5 * (c - 2006) + (5 if z == "B" else 0), "trend"),  # each cohort 1.5 pupils fewer than the last
        (lambda c, z: 48 + 3 * np.sin(1.3 * c) + (5 if z == "B" else 0), "held"),  # flat, with noise
    ],
    ids=["declining", "flat"],
)
def test_auto_without_births_compares_held_and_trend_for_the_entry_grade(tmp_path, entry_pupils, rule):
    d = load_district(births_free(tmp_path / "d", entry_pupils))
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(d, s)
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1 and re.search(
        rf"entry grade K \(no births recorded, so births was not a candidate; rules compared under combined[^)]*\): {rule} \(MAPE", said[0]
    )
    ranking = dict(auto_choice(p.history, s).entry)["K"]
    assert ranking["method"].iloc[0] == rule and set(ranking["method"]) == {"held", "trend"}  # births is not a candidate
    rules = ranking.set_index("method")["mape"]
    # where an estimator wins, the chosen rule projects K (persistence or trend projects every cell on its own)
    assert p.settings.entry_rule == ({} if p.method in ("persistence", "trend") else {"K": rule}), p.method
    if rule == "trend":  # a line is extended exactly; the held level lags it by a year or more of decline
        assert rules["trend"] < 0.3 * rules["held"]
        k = p.table().query("grade == 'K' and year == 2027").set_index("zone_id")["pupils"]
        assert np.allclose(k[["A", "B"]], [80 - 1.5 * 21, 85 - 1.5 * 21], atol=0.6)  # the 2027 cohort, on the line


def test_auto_without_births_and_too_short_a_history_holds_the_entry_grade_with_a_note(tmp_path):
    d = load_district(births_free(tmp_path / "d", lambda c, z: 50.0))
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3, "window": 12})  # 2 origins only
    with collecting() as notes:
        p = project_district(d, s)
    assert p.method == "combined" and p.settings.entry_rule == {"K": "held"}
    assert any("no births recorded for K, so births was not a candidate: held, the conservative default" in n for n in notes)


def test_births_partly_recorded_or_an_explicit_method_without_births_are_still_refused(tmp_path):
    """auto chooses for an entry grade only when no births at all are recorded for its history: births that start
    inside the window K's ratio needs (2017-2019 for 2022-2024), or an explicit method, keep the refusal."""
    folder = entry_district(tmp_path / "d", lambda c, z: 50.0)
    b = pd.read_csv(folder / "births.csv")
    b[b["year"] >= 2018].to_csv(folder / "births.csv", index=False)
    s = settings_for_system(ProjectionSettings, US, {"draws": 20, "horizon": 3})
    with collecting(), pytest.raises(ProjectionError, match="needs births for 2017-2019 to estimate its ratio; births recorded: 2018-2024"):
        project_district(load_district(folder), s)
    (folder / "births.csv").unlink()
    d = load_district(folder)
    with collecting(), pytest.raises(ProjectionError, match=r"K is projected from births 5 years earlier, .*births recorded: none"):
        project_district(d, s.with_(method="mean"))
    with collecting(), pytest.raises(ProjectionError, match="births recorded: none"):
        project_district(d, s.with_(entry_rule={"K": "births"}))  # births set by the user is never compared away
    with collecting():  # the same district under the defaults: auto compares held and trend for K
        assert project_district(d, s).settings.entry_rule["K"] in ("held", "trend")


def test_the_us_example_without_births_projects_under_the_defaults(tmp_path):
    import shutil

    from click.testing import CliRunner

    from capacity.cli import cli

    folder = tmp_path / "nb"
    shutil.copytree(Path(__file__).parents[1] / "capacity" / "data" / "example_us", folder)
    (folder / "births.csv").unlink()
    with collecting():
        res = CliRunner().invoke(cli, ["project", str(folder), "--draws", "20", "--horizon", "3", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, (res.output, res.exception)
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1
    # K (births 5 years earlier) is chosen between held and trend; PK has no pupils in the example, so stays at 0
    chosen = re.search(
        r"entry grade K \(no births recorded, so births was not a candidate; rules compared under combined\): (\w+)", said[0]
    )
    assert chosen and chosen[1] in ("held", "trend")
    assert any(
        n.startswith(f"entry grade K is projected from its recent {'level, held' if chosen[1] == 'held' else 'trend'}") for n in notes
    )
    assert any(n.startswith("entry grade PK has no pupils in the history: it stays at 0") for n in notes)
