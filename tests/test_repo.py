"""Repository hygiene: lint clean, README commands, generated docs up to date."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed; it is part of the test extras")
    r = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_opens_with_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```")[1]
    lines = [ln for ln in block.splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 2, lines
    assert "capacity " in lines[0]
    assert "pytest" in lines[1]


def test_data_format_doc_is_generated_from_schema():
    from capacity.data.docs import data_format_markdown

    doc = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    assert doc == data_format_markdown(), "docs/data-format.md is stale: run python -m capacity.data.docs > docs/data-format.md"
