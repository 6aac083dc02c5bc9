"""One home per policy figure: class sizes, classroom cost and school size caps live in the
scenario's ``standards`` section, and the gap and the plan read the same object."""

from __future__ import annotations

import pytest

from capacity.errors import ScenarioError
from capacity.scenario import load_scenario


def write(tmp_path, text: str):
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_gap_and_plan_read_the_one_standards_section(tmp_path):
    sc = load_scenario(
        write(
            tmp_path,
            "standards:\n  class_size: {K1: 20, K2: 25, K3: 30, primary: 40, junior: 45, senior: 45}\n  cost_per_classroom: {kindergarten: 1.0, primary: 2.0, junior: 3.0, senior: 4.0}\n",
        )
    )
    assert sc.gap.standards is sc.plan.standards
    assert sc.gap.standards.class_size["primary"] == 40 and sc.plan.standards.cost_per_classroom["junior"] == 3.0
    assert sc.resolved["standards"]["class_size"]["primary"] == 40
    assert "class_size" not in sc.resolved["plan"] and "standards" not in sc.resolved["gap"]


@pytest.mark.parametrize("section", ["gap", "plan"])
@pytest.mark.parametrize("key", ["class_size", "cost_per_classroom", "max_school_size"])
def test_old_keys_are_refused_with_their_new_home(tmp_path, section, key):
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, f"{section}:\n  {key}: {{}}\n"))
    msg = str(e.value)
    assert f"line 2: {section}.{key}" in msg and f"did you mean standards.{key}?" in msg


def test_old_key_in_an_override_group_is_refused(tmp_path):
    text = "overrides:\n  big:\n    plan: {max_school_size: {single: 3000, multi: 3000}}\n"
    with pytest.raises(ScenarioError, match="did you mean standards.max_school_size"):
        load_scenario(write(tmp_path, text), ("big",))
