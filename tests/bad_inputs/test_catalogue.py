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
    else:
        assert code == 2, (out, err)
        assert "Traceback" not in err
        rest = [ln for ln in err.splitlines() if not ln.startswith("[capacity] ")]
        assert rest and rest[0].startswith("error: "), err
        assert case.expect in err, err
        assert not (tmp_path / "out").exists(), "nothing may be written on bad input"
        assert not list(tmp_path.glob(".*.tmp-*")), "no temporary output left behind"
    if case.check is not None:
        case.check(tmp_path)


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
        "Three kinds of message:",
        "",
        "- `error: ...` (exit status 2): the input is refused; nothing is written. An unexpected failure (a bug)",
        "  is reported as `error: unexpected internal error (...)` with exit status 1, also without a traceback.",
        "- `warning: ...`: the data is probably wrong but can be used (e.g. a grade of 40,000 pupils); the",
        "  command goes on. Warnings are printed by every command and recorded under `notes` in manifest.json",
        "  and in the Notes section of report.html.",
        "- `note: ...`: the input was accepted with a fallback, a clipped value or a guessed encoding; printed and",
        "  recorded like warnings, so nothing is ever dropped, clipped or guessed in silence.",
        "",
        "Output folders (`--out` of every command, and `runs/<name>` of `capacity run`): capacity replaces a folder",
        "only when its marker file `.capacity-output` proves it is an earlier capacity output holding nothing else;",
        "any other non-empty folder, the district folder (or a folder around or inside it) and the folder of the",
        "scenario are refused. A lock refuses two runs writing one folder; leftovers of a killed run are removed by",
        "the next; writability and free space are checked before computing; the new folder replaces the old one",
        "in a single atomic exchange.",
        "",
        "Reproducibility: equal inputs give byte-identical files (timings only in manifest.json, labelled). HiGHS",
        "runs with a fixed random seed; a plan stopped by the wall-clock time limit is marked `reproducible: false`",
        "in plan/summary.json with a note in the report; stop it by work instead with",
        "`plan.solver_options: {mip_max_nodes: N}` (status `work_limit`).",
        "",
        "## Errors",
        "",
        "| case | what is wrong | message contains | fix |",
        "|---|---|---|---|",
    ]
    for c in CASES:
        if not c.accept:
            lines.append(f"| {c.name} | {c.what} | `{c.expect.replace('|', '/')}` | {c.fix} |")
    lines += ["", "## Warnings", "", "| case | input | warning | |", "|---|---|---|---|"]
    for c in CASES:
        if c.accept and c.klass == "plausibility":
            lines.append(f"| {c.name} | {c.what} | `{c.expect}` | {c.fix} |")
    lines += ["", "## Accepted", "", "| case | input | note | |", "|---|---|---|---|"]
    for c in CASES:
        if c.accept and c.klass != "plausibility":
            lines.append(f"| {c.name} | {c.what} | `{c.expect}` | {c.fix} |")
    return "\n".join(lines) + "\n"


def test_errors_doc_is_generated_from_the_catalogue():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert doc == errors_markdown(), "docs/errors.md is stale: run python tests/bad_inputs/test_catalogue.py > docs/errors.md"


if __name__ == "__main__":
    print(errors_markdown(), end="")
