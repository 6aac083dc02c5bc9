"""Defects found by the wave-4 robustness review on hand-built districts (England, custom grades,
high schools only, missing years, one zone, one school, ...), each with a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

from capacity.outputs import atomic_dir


def test_output_with_an_empty_folder_can_be_replaced(tmp_path: Path):
    """A run that wrote an empty folder (charts/ with nothing to draw) was refused on the next run
    into the same --out: the marker listed files only, so the empty folder looked foreign."""
    target = tmp_path / "out"
    for _ in range(2):
        with atomic_dir(target) as tmp:
            (tmp / "charts").mkdir()
            (tmp / "table.csv").write_text("a\n1\n")
    assert (target / "charts").is_dir() and (target / "table.csv").is_file()
