"""docs/projection.md is checked against the code: equations, estimators, rules and every setting."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest

from capacity.projection import Projection, ProjectionSettings, model, naive
from capacity.projection.additions import housing_stock
from capacity.projection.model import scale_around
from capacity.projection.project import calibrated_draws
from capacity.projection.ratios import fit, flows
from capacity.projection.settings import ESTIMATORS, LEVEL_RULES

PAGE = Path(__file__).resolve().parents[1] / "docs" / "projection.md"
EQUATION_SOURCES = [model, fit, flows, housing_stock, Projection.demand, calibrated_draws, naive, scale_around]


def literal_blocks(obj) -> list[str]:
    """The indented blocks that follow a line ending in '::' in an object's docstring."""
    lines = inspect.cleandoc(inspect.getdoc(obj) or "").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].rstrip().endswith("::"):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block = []
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                block.append(lines[j][4:])
                j += 1
            blocks.append("\n".join(block).strip("\n"))
            i = j
        else:
            i += 1
    return blocks


@pytest.mark.parametrize("obj", EQUATION_SOURCES, ids=lambda o: getattr(o, "__qualname__", getattr(o, "__name__", "")))
def test_page_shows_the_equations_the_code_states(obj):
    page = PAGE.read_text(encoding="utf-8")
    blocks = literal_blocks(obj)
    assert blocks, f"{obj} states no equation block"
    for b in blocks:
        assert b in page, f"docs/projection.md lacks this block from {obj.__module__}.{getattr(obj, '__qualname__', '')}:\n{b}"


def test_page_documents_every_setting_estimator_and_rule():
    page = PAGE.read_text(encoding="utf-8")
    for f in fields(ProjectionSettings):
        assert f"`{f.name}`" in page, f"docs/projection.md does not document projection setting `{f.name}`"
    listed = re.search(r"\*\*Estimators\*\*.*?\n\n", page, re.S).group(0)
    assert re.findall(r"`(mean|weighted|exp_smoothing|median|[a-z_]+)` \(", listed)[: len(ESTIMATORS)] == list(ESTIMATORS)
    for rule in LEVEL_RULES:
        assert f"`{rule}`" in page


def test_literal_blocks_reads_what_it_should():
    def f():
        """Intro::

            a = b + c
            d = e

        After.
        """

    assert literal_blocks(f) == ["a = b + c\nd = e"]
