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


def test_calibration_csv_columns_and_their_empty_cells_are_documented(example):
    """Every column of calibration.csv is listed in docs/projection.md and docs/outputs.md, and its empty (NaN) cells
    occur exactly where the docs say: coverage_raw and width at a lead no back-test reaches (n = 0),
    coverage_calibrated there and at a lead with a single origin."""
    import numpy as np

    from capacity.notes import collecting
    from capacity.projection import project_district

    with collecting():  # 13 years, window 3: lead 9 from one origin, lead 10 from none
        t = project_district(example, ProjectionSettings(method="mean", draws=30, horizon=10)).calibration.table
    cols = ", ".join(t.columns)
    page, outputs = PAGE.read_text(encoding="utf-8"), (PAGE.parent / "outputs.md").read_text(encoding="utf-8")
    assert f"`calibration.csv`:\n{cols}".replace(" ", "") in page.replace(" ", "")
    row = next(r for r in outputs.splitlines() if r.startswith("| calibration.csv |"))
    listed = re.sub(r"\([^)]*\)", "", row.split("|")[2]).split(";")[0]
    assert [c.strip() for c in listed.split(",")] == list(t.columns), row
    assert "Empty cells in `calibration.csv`" in page and "empty at a lead no back-test reaches" in row
    none, single = t["n"] == 0, t["origins"] == 1
    assert none.any() and (single & ~none).any()
    assert (t["coverage_raw"].isna() == none).all()
    assert (t["coverage_calibrated"].isna() == (none | single)).all()
    assert (t["width"].isna() == none).all()  # no unit with a zero path in the example
    assert np.isfinite(t["k"]).all()
