"""Shared fixtures: the example district, editable copies of it, the validation data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from capacity.data import EXAMPLE_PATH, load_district

VALIDATION = Path(__file__).resolve().parents[1].parent / "shared" / "validation"


@pytest.fixture(scope="session")
def example():
    """The bundled example county, loaded once."""
    return load_district()


@pytest.fixture
def district_copy(tmp_path: Path) -> Path:
    """A writable copy of the example district folder."""
    dst = tmp_path / "district"
    shutil.copytree(EXAMPLE_PATH, dst)
    return dst


def edit_csv(folder: Path, table: str, fn) -> None:
    """Read ``table`` as text cells, apply ``fn(frame) -> frame``, write it back."""
    path = folder / f"{table}.csv"
    f = pd.read_csv(path, dtype=str, keep_default_na=False)
    f = fn(f)
    f.to_csv(path, index=False, lineterminator="\n")


def validation_dir(sub: str) -> Path:
    """Path into ../shared/validation; skips (or fails under CAPACITY_REQUIRE_VALIDATION=1) when absent."""
    p = VALIDATION / sub
    if not p.exists():
        if os.environ.get("CAPACITY_REQUIRE_VALIDATION") == "1":
            pytest.fail(f"validation data {p} is missing but CAPACITY_REQUIRE_VALIDATION=1")
        pytest.skip(f"validation data {p} not present (it lives beside the project in ../shared/validation)")
    return p
