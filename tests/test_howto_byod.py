"""docs/howto/bring-your-own-district.md runs as written: every command in its console blocks is run
in a fresh folder (files shown after a ``<!-- file: NAME -->`` marker are written first) and the output
shown must be the output the commands give today.

``python tests/test_howto_byod.py`` runs the commands and rewrites the outputs in the page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "howto" / "bring-your-own-district.md"
BLOCK = re.compile(r"(<!-- file: (?P<file>[^ ]+) -->\n)?```(?P<lang>[a-z]*)\n(?P<body>.*?)```\n", re.S)
TIMEOUT_S = 600
CLOCK = re.compile(r"build \d+(\.\d+)? s, solve \d+(\.\d+)? s")
"""Wall-clock times in the output: shown as they were, compared as 'build T s, solve T s'."""


def _run(command: str, cwd: Path) -> str:
    """Output (stdout then stderr interleaved as written) of one shell command run in ``cwd``."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "COLUMNS": "120", "PYTHONHASHSEED": "0"}
    r = subprocess.run(
        ["bash", "-c", command], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=TIMEOUT_S
    )
    out = r.stdout.replace(f"{cwd}{os.sep}", "")  # paths as the reader's folder shows them
    if r.returncode != 0:
        out += f"[exit status {r.returncode}]\n"
    return out


def render(page: str, cwd: Path) -> str:
    """The page with every console block's output replaced by what its commands print now."""
    out, pos = [], 0
    for m in BLOCK.finditer(page):
        out.append(page[pos : m.start()])
        pos = m.end()
        if m["file"]:
            (cwd / m["file"]).write_text(m["body"], encoding="utf-8")
            out.append(m.group(0))
        elif m["lang"] == "console":
            text = []
            for command in (ln[2:] for ln in m["body"].splitlines() if ln.startswith("$ ")):
                text.append(f"$ {command}\n{_run(command, cwd)}")
            out.append("```console\n" + "".join(text) + "```\n")
        else:
            out.append(m.group(0))
    out.append(page[pos:])
    return "".join(out)


def test_howto_commands_give_the_output_shown(tmp_path):
    page = PAGE.read_text(encoding="utf-8")
    commands = [ln for m in BLOCK.finditer(page) if m["lang"] == "console" for ln in m["body"].splitlines() if ln.startswith("$ ")]
    assert len(commands) >= 5, "the howto shows its commands in ```console blocks, each line starting '$ '"
    now = render(page, tmp_path)
    assert "[exit status" not in now, "a command of the howto fails: run python tests/test_howto_byod.py and read the page"
    assert CLOCK.sub("build T s, solve T s", now) == CLOCK.sub("build T s, solve T s", page), (
        "docs/howto/bring-your-own-district.md is stale: run python tests/test_howto_byod.py"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        PAGE.write_text(render(PAGE.read_text(encoding="utf-8"), Path(tmp)), encoding="utf-8")
    print(f"rewrote {PAGE.relative_to(ROOT)}")
