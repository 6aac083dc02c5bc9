"""docs/plan-model.md cannot drift from the model: its equations are generated from the
docstrings of the functions that build each constraint family."""

from __future__ import annotations

import inspect

from capacity.plan import model
from capacity.plan.equations import PAGE, render


def test_equations_page_is_current():
    page = PAGE.read_text(encoding="utf-8")
    assert render(page) == page, "docs/plan-model.md is stale: run python -m capacity.plan.equations"


def test_every_constraint_family_is_on_the_page():
    defined = {n for n, f in inspect.getmembers(model, inspect.isfunction) if n.startswith("define_") and f.__module__ == model.__name__}
    listed = {f.__name__ for f in model.CONSTRAINT_FAMILIES}
    # define_flows / define_decisions create variables; define_flow_constraints only calls the families
    assert defined - listed == {"define_flows", "define_decisions", "define_flow_constraints"}


def test_no_guessed_big_m_left():
    page = PAGE.read_text(encoding="utf-8")
    assert "M_s" not in page and "big-M" not in page.replace("no big-M", "")
