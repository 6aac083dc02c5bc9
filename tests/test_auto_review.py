"""Review of method auto on districts other than the example county (issue 16): births that start too late for the
earliest back-test origins, and what auto's notes say.

With constant births and a 1-year window, an entry grade projected from births x its entry ratio is exactly its held
level: births and held are the same forecast, so auto must score them alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_backtest_degenerate import make_district

from capacity.data import load_district
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, history_from_district, project_district
from capacity.projection.backtest import auto_choice, backtest_paths, origins_for
from capacity.standards import settings_for_system

RNG = np.random.default_rng(3)
NOISE = {(y, g): RNG.normal(0, 2.5) for y in range(2000, 2030) for g in US.grades}


def noisy(y: int, g: str) -> float:
    """40-50 pupils per grade and zone, declining slowly, with noise (seeded)."""
    return max(0.0, round(45 - 0.6 * (y - 2012) + 0.3 * US.grades.index(g) + NOISE[(y, g)]))


@pytest.fixture(scope="module")
def late_births(tmp_path_factory):
    """US district with history 2008-2024 whose (constant) births are recorded from 2008 only: with a 1-year ratio
    window, K (births five years earlier) has the births of its window from origin 2013 on, none at origins
    2009-2012. (With a longer window, origins 2013-2014 would have births for part of it.)"""
    folder = make_district(tmp_path_factory.mktemp("late") / "d", years=list(range(2008, 2025)), pupils=noisy)
    b = pd.read_csv(folder / "births.csv")
    b[b["year"] >= 2008].to_csv(folder / "births.csv", index=False)
    return load_district(folder)


def test_origins_whose_births_are_not_recorded_are_left_out_of_the_back_test_with_a_note(late_births):
    h = history_from_district(late_births)
    s = settings_for_system(ProjectionSettings, US, {"window": 1})
    with collecting() as notes:
        origins = origins_for(h, s)
        assert origins == list(range(2013, 2024))
        k = h.grades.grade_index["K"]
        for _m, o, proj, _a in backtest_paths(h, s, ("combined",), max_lead=5):
            assert (proj[:, k] > 30).all(), o  # never the silent 0 pupils of a births grade without births
    assert any(
        "births are recorded from 2008, too late for any year of the ratio window of K" in n and "origins 2009-2012" in n for n in notes
    )
    # held K needs no births: every origin with a window
    assert origins_for(h, s.with_(entry_rule={"K": "held"}))[0] == 2009


def test_auto_scores_every_entry_rule_from_the_same_origins(late_births):
    s = settings_for_system(ProjectionSettings, US, {"window": 1, "draws": 20, "horizon": 3})
    with collecting():
        choice = auto_choice(history_from_district(late_births), s)
    rules = dict(choice.entry)["K"].set_index("method")
    # constant births, one window year: births x ratio is the held level, the same forecast, so the same score from the same origins
    assert rules.loc["births", "mape"] == pytest.approx(rules.loc["held", "mape"], abs=1e-9)
    assert rules.loc["births", "bias"] == pytest.approx(rules.loc["held", "bias"], abs=1e-9)
    with collecting() as notes:
        p = project_district(late_births, s)
    assert p.method == choice.method
    assert any(n.startswith("projection.method auto chose") for n in notes)


def test_a_district_without_births_holds_its_entry_grades_and_says_so(tmp_path):
    # no births table; entry grades without an age are level grades (held). PK was never taught: it stays at 0, and its
    # note says that, not that it is "projected from its origin-year pupils"
    folder = make_district(tmp_path / "d", years=list(range(2010, 2025)), pupils=noisy)
    (folder / "births.csv").unlink()
    s = settings_for_system(ProjectionSettings, US, {"entry_offsets": {"PK": None, "K": None}, "draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(load_district(folder), s)
    assert p.settings.entry_rule == {}  # no free entry grade: nothing for auto to choose
    (pk,) = [n for n in notes if n.startswith("entry grade PK")]
    assert pk.startswith("entry grade PK has no pupils in the history: it stays at 0 (held, the default")
    (k,) = [n for n in notes if n.startswith("entry grade K ")]
    assert "held, the default: projection.entry_rule.K is not set" in k
    assert (p.table().query("grade == 'PK'")[["pupils", "p10", "p90"]] == 0).all().all()
    (said,) = [n for n in notes if n.startswith("projection.method auto chose")]
    assert f"auto chose {p.method} (MAPE" in said and "runner-up" in said and "entry grade" not in said


def test_backtest_without_births_for_an_entry_grade_refuses_naming_the_births(tmp_path, capsys):
    # K from births (the US default) with no births table: every origin would project K as 0 pupils; the back-test
    # refuses as the projection does, naming the grade and the births, not "too short"
    from capacity.cli import main

    folder = make_district(tmp_path / "d", years=list(range(2010, 2025)), pupils=noisy)
    (folder / "births.csv").unlink()
    with pytest.raises(SystemExit) as e:
        main(["backtest", str(folder)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "too short" not in err
    assert "has no back-test origin whose ratio window has births recorded for K (projected from births; births recorded: none)" in err
    assert "projection.entry_rule.K to held, trend or children" in err


@pytest.mark.parametrize("method", ["persistence", "trend"])
def test_persistence_and_trend_need_no_births(tmp_path, method):
    # they project every cell on its own (K included, whatever its entry rule): a district without births is no
    # reason to refuse them, nor to drop back-test origins from their calibration
    folder = make_district(tmp_path / "d", years=list(range(2010, 2025)), pupils=noisy)
    (folder / "births.csv").unlink()
    s = settings_for_system(ProjectionSettings, US, {"method": method, "draws": 20, "horizon": 3})
    with collecting() as notes:
        p = project_district(load_district(folder), s)
    cal = p.calibration.table
    assert p.method == method and (cal.loc[cal["lead"] == 1, "origins"] == 11).all()  # origins 2013-2023
    assert not any("births are recorded" in n for n in notes)
    k = p.table().query("grade == 'K'")
    assert (k["pupils"] > 0).all()
    (said,) = [n for n in notes if n.startswith("entry grade K ")]
    assert "so its entry rule is not used; births, the default" in said


def test_backtest_manifest_keeps_the_users_settings_and_records_autos_choice_in_its_notes(tmp_path):
    # as capacity project does: auto's entry rules are in the notes, not written into the recorded settings as if set
    import json

    from click.testing import CliRunner

    from capacity.cli import cli

    # cohorts that keep their size from grade to grade: the cohort model wins, and K's rule is chosen
    folder = make_district(
        tmp_path / "d", years=list(range(2010, 2025)), pupils=lambda y, g: round(40 + 5 * np.sin(1.3 * (y - US.grades.index(g))))
    )
    out = tmp_path / "b"
    with collecting():
        res = CliRunner().invoke(cli, ["backtest", str(folder), "--level", "total", "--out", str(out)])
    assert res.exit_code == 0, res.output
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["settings"]["projection"]["method"] == "auto" and man["settings"]["projection"]["entry_rule"] == {}
    (said,) = [n for n in man["notes"] if n.startswith("projection.method auto chose")]
    used = man["settings"]["projection.method_used"]
    assert used not in ("persistence", "trend")  # a cohort-model method, with K's rule chosen and written for it
    assert f"auto chose {used} (MAPE" in said and "entry grade K (rules compared under combined):" in said
