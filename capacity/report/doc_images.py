"""Regenerate the pictures under docs/img from the shipped example and scenarios.

``python -m capacity.report.doc_images docs/img`` writes fan_U03_primary.png,
gap_heatmap_junior.png and map.png (example county, status quo, seeded: the same bytes on every
run) and, unless ``--no-compare``, compare.png (a headless-Chromium screenshot of the comparison
of the README's four options run with ``--override quick``) with compare.csv, the figures it shows.
tests/test_repo.py and tests/test_run_compare.py run these functions so docs/img cannot go stale.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

README_OPTIONS = ("baseline", "expand-only", "new-school", "consolidate-rural-small-schools")
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def static_images(out: Path) -> list[Path]:
    """fan_U03_primary.png, gap_heatmap_junior.png and map.png of the example county (status quo)."""
    import matplotlib

    matplotlib.use("Agg")
    from capacity.data import load_district
    from capacity.gap import gap_report
    from capacity.projection import project_district
    from capacity.report.gap_plots import gap_heatmap
    from capacity.report.map_plot import district_map
    from capacity.report.projection_plots import fan_chart, save
    from capacity.scenario import load_scenario

    out.mkdir(parents=True, exist_ok=True)
    sc = load_scenario(SCENARIOS / "baseline.yaml", ("quick",))
    d = load_district()
    p = project_district(d, sc.projection)
    g = gap_report(d, p, sc.gap)
    names = d.zones.set_index("zone_id")["name"]
    files = [out / "fan_U03_primary.png", out / "gap_heatmap_junior.png", out / "map.png"]
    save(fan_chart(p, "U03", "primary", names.get("U03"), p.aggregate("zone_stage")), files[0])
    save(gap_heatmap(g.gap, "junior"), files[1])
    save(district_map(d), files[2])
    return files


def compare_image(run_folders: list[Path], out: Path, chromium: str | None = None) -> Path:
    """compare.png (screenshot of compare.html of ``run_folders``) and compare.csv beside it."""
    from capacity.compare import compare, load_run, stacked, target_matrix
    from capacity.report.html import compare_report_html

    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError("chromium is needed for compare.png (apt-get install chromium)")
    runs = [load_run(f) for f in run_folders]
    metrics, years, diff = compare(runs)
    out = out.resolve()
    page = out / "_compare.html"
    page.write_text(
        compare_report_html(metrics, years, diff, {"targets": target_matrix(runs), "mergers": stacked(runs, "plan/mergers")}),
        encoding="utf-8",
    )
    png = out / "compare.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={out / '_profile'}"]
    subprocess.run(
        [exe, *flags, "--window-size=1000,1250", f"--screenshot={png}", page.as_uri()], check=True, capture_output=True, timeout=180
    )
    page.unlink()
    shutil.rmtree(out / "_profile", ignore_errors=True)
    metrics.to_csv(out / "compare.csv", index=False)
    return png


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv and not argv[0].startswith("--") else Path("docs/img")
    for f in static_images(out):
        print(f)
    if "--no-compare" not in argv:
        from capacity.run import run_scenario
        from capacity.scenario import load_scenario

        runs = out / "_runs"
        folders = []
        for name in README_OPTIONS:
            folders.append(runs / name)
            run_scenario(load_scenario(SCENARIOS / f"{name}.yaml", ("quick",)), runs / name)
        print(compare_image(folders, out))
        shutil.rmtree(runs)


if __name__ == "__main__":
    main(sys.argv[1:])
