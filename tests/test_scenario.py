"""Scenario files: schema errors one by one, extends, overrides, sweeps, reference docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity.errors import ScenarioError
from capacity.scenario import expand_sweep, load_scenario, scenario_reference_markdown

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def err(path: Path, overrides=()) -> str:
    with pytest.raises(ScenarioError) as e:
        load_scenario(path, overrides)
    return str(e.value)


def test_every_shipped_scenario_resolves():
    names = {}
    for p in sorted(SCEN.glob("*.yaml")):
        if p.name == "base.yaml":
            continue
        for sc in expand_sweep(p):
            names[sc.name] = sc
    assert {
        "baseline",
        "expand-only",
        "new-school",
        "consolidate-rural-small-schools",
        "low-births",
        "high-births",
        "tight-budget",
        "starting-grades-first",
    } <= set(names)
    assert names["baseline"].plan.allow_builds is False
    assert names["tight-budget"].plan.budget_per_year == 20_000_000.0
    assert names["high-births"].projection.births_variant == "high" and names["high-births"].plan.allow_new_schools
    assert names["starting-grades-first"].plan.standard_all_from == 2030
    assert len([n for n in names if n.startswith("births-x-budget[")]) == 6


def test_unknown_key_with_suggestion_file_and_line(tmp_path):
    p = write(tmp_path, "s.yaml", "horizon: 5\nplan:\n  time_limt_s: 10\n")
    msg = err(p)
    assert f"{p}, line 3: unknown key 'plan.time_limt_s' (did you mean 'time_limit_s'?)" in msg


def test_unknown_top_key(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "horizn: 5\n"))
    assert "line 1: unknown key 'horizn' (did you mean 'horizon'?)" in msg


def test_wrong_type(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "plan:\n  allow_builds: maybe\n"))
    assert "line 2: plan.allow_builds: found 'maybe'; expected true or false" in msg


def test_number_written_as_text_gets_a_hint(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "plan:\n  budget_per_year: 2e7\n"))
    assert "line 2: plan.budget_per_year: found '2e7'; expected a number or null" in msg and "decimal point" in msg


def test_out_of_range_value(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "projection:\n  window: 0\n"))
    assert "line 2: projection.window: found 0" in msg
    msg = err(write(tmp_path, "h.yaml", "horizon: 30\n"))
    assert "line 1: horizon: found 30; expected 1 to 20 years" in msg


def test_impossible_policies(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "standards:\n  class_size: {primary: 0, K1: 25, K2: 30, K3: 35, junior: 50, senior: 50}\n"))
    assert "standards.class_size.primary: found 0; expected pupils per class from 1 to 200" in msg
    msg = err(write(tmp_path, "t.yaml", "plan:\n  travel_km: {kindergarten: 2, primary: 0, junior: 10, senior: 30}\n"))
    assert "plan.travel_km.primary: found 0" in msg


def test_yaml_that_is_not_a_mapping(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "- a\n- b\n"))
    assert "line 1: found a list; expected a mapping" in msg


def test_invalid_yaml(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "plan: {a: 1\n"))
    assert "not valid YAML" in msg and "line" in msg


def test_key_given_twice(tmp_path):
    msg = err(write(tmp_path, "s.yaml", "horizon: 5\nhorizon: 6\n"))
    assert "line 2: key 'horizon' is given twice" in msg


def test_extends_merges_and_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "horizon: 7\nplan:\n  mip_gap: 0.01\n  time_limit_s: 5\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\nplan:\n  mip_gap: 0.02\n")
    sc = load_scenario(b)
    assert sc.horizon == 7 and sc.plan.mip_gap == 0.02 and sc.plan.time_limit_s == 5.0
    assert [Path(f).name for f in sc.files] == ["a.yaml", "b.yaml"]
    c = write(tmp_path, "c.yaml", "extends: c.yaml\n")
    assert "'extends' makes a cycle (c.yaml -> c.yaml); a scenario cannot extend itself" in err(c)
    write(tmp_path, "d.yaml", "extends: e.yaml\n")
    e = write(tmp_path, "e.yaml", "extends: d.yaml\n")
    assert "cycle (e.yaml -> d.yaml -> e.yaml)" in err(e)


def test_override_groups_apply_and_conflict(tmp_path):
    p = write(
        tmp_path,
        "s.yaml",
        "overrides:\n  a: {plan: {mip_gap: 0.01}}\n  b: {plan: {time_limit_s: 9}}\n  c: {plan: {mip_gap: 0.03}}\n",
    )
    sc = load_scenario(p, ("a", "b"))
    assert sc.plan.mip_gap == 0.01 and sc.plan.time_limit_s == 9.0 and sc.overrides_applied == ("a", "b")
    assert "override groups 'a' and 'c' both set plan.mip_gap" in err(p, ("a", "c"))
    assert "override group 'x' is not defined" in err(p, ("x",))


def test_sweep_expands_the_product(tmp_path):
    p = write(tmp_path, "s.yaml", "name: sw\nsweep:\n  projection.births_variant: [low, high]\n  plan.mip_gap: [0.01, 0.02, 0.03]\n")
    scs = expand_sweep(p)
    assert len(scs) == 6
    assert scs[0].name == "sw[births_variant=low,mip_gap=0.01]"
    assert len({s.hash for s in scs}) == 6
    bad = write(tmp_path, "b.yaml", "sweep:\n  plan.nope: [1]\n")
    with pytest.raises(ScenarioError, match="unknown key 'sweep.plan.nope'"):
        expand_sweep(bad)


def test_resolved_hash_is_stable_and_sensitive(tmp_path):
    a = load_scenario(write(tmp_path, "a.yaml", "horizon: 5\n"))
    b = load_scenario(write(tmp_path, "b.yaml", "horizon: 5\n"))
    c = load_scenario(write(tmp_path, "c.yaml", "horizon: 6\n"))
    assert a.hash == b.hash != c.hash


def test_yaml_is_loaded_safely(tmp_path):
    p = write(tmp_path, "s.yaml", "name: !!python/object/apply:os.system ['echo pwned']\n")
    assert "not valid YAML" in err(p)


def test_scenario_reference_is_generated_from_the_schema():
    doc = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert doc == scenario_reference_markdown(), (
        "docs/scenario-reference.md is stale: run python -m capacity.scenario > docs/scenario-reference.md"
    )
