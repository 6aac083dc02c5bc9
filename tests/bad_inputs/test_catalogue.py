"""Every catalogued bad input: exit 2, a message naming the place and what to fix, no
traceback, nothing written. Merely unusual input is accepted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from catalogue import CASES, Case  # noqa: E402

from capacity.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def run_case(case: Case, tmp_path: Path, capsys) -> tuple[int, str, str]:
    args = case.build(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_catalogue_is_large_and_distinct():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    assert sum(not c.accept for c in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, tmp_path: Path, capsys):
    code, out, err = run_case(case, tmp_path, capsys)
    if case.accept:
        assert code == 0, err
        assert case.expect in out, out
        return
    assert code == 2, (out, err)
    assert "Traceback" not in err
    rest = [ln for ln in err.splitlines() if not ln.startswith("[capacity] ")]
    assert rest and rest[0].startswith("error: "), err
    assert case.expect in err, err
    assert not (tmp_path / "out").exists(), "nothing may be written on bad input"


def errors_markdown() -> str:
    """docs/errors.md: every error a user can meet, with an example message and the fix."""
    lines = [
        "# Errors and their fixes",
        "",
        "<!-- Generated from tests/bad_inputs/catalogue.py by tests/bad_inputs/test_catalogue.py; do not edit by hand. -->",
        "",
        "Every problem in the input is reported at once, each naming the file, row and column (districts) or the",
        "file, key path and line (scenarios), what was found and what was expected. The command exits with status 2,",
        "prints no traceback and writes no output. Merely unusual input is accepted, with a note where useful.",
        "Solver problems: a plan stopped by its time limit is labelled `time_limit` with its bound and gap; a missing",
        "HiGHS falls back to CBC, and with no solver at all the message says how to install one.",
        "",
        "| case | what is wrong | message contains | fix |",
        "|---|---|---|---|",
    ]
    for c in CASES:
        if not c.accept:
            lines.append(f"| {c.name} | {c.what} | `{c.expect.replace('|', '/')}` | {c.fix} |")
    lines += ["", "## Accepted", "", "| case | input | note | |", "|---|---|---|---|"]
    for c in CASES:
        if c.accept:
            lines.append(f"| {c.name} | {c.what} | `{c.expect}` | {c.fix} |")
    return "\n".join(lines) + "\n"


def test_errors_doc_is_generated_from_the_catalogue():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert doc == errors_markdown(), "docs/errors.md is stale: run python tests/bad_inputs/test_catalogue.py > docs/errors.md"


if __name__ == "__main__":
    print(errors_markdown(), end="")
