"""Charts of projections and back-tests (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from capacity.report.fonts import font_rc, label


def fan_chart(projection, zone_id: str, stage: str, zone_name: str | None = None, zone_stage: pd.DataFrame | None = None) -> plt.Figure:
    """History, median projection and P10-P90 band of one zone and stage (pupils by year).

    ``zone_stage`` is ``projection.aggregate("zone_stage", (0.1, 0.9))`` when the caller
    draws many charts and has it already.
    """
    h = projection.history
    zi = h.zones.index(zone_id)
    gs = h.grades
    mask = np.array([gs.stage_of_grade[g] == stage for g in gs.grades])
    hist = h.pupils[zi, mask, :].sum(0)
    agg = zone_stage if zone_stage is not None else projection.aggregate("zone_stage", quantiles=(0.1, 0.9))
    a = agg[(agg.zone_id == zone_id) & (agg.stage == stage)]
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        ax.plot(h.years, hist, color="black", lw=1.8, label="history")
        ax.fill_between(a.year, a.p10, a.p90, color="tab:blue", alpha=0.25, label="P10-P90")
        ax.plot(np.r_[h.years[-1], a.year], np.r_[hist[-1], a.pupils], color="tab:blue", lw=2, label="median projection")
        title = label(f"{zone_name} ({zone_id})" if zone_name else zone_id, zone_id)
        ax.set_title(f"{title}: {gs.stage_by_name[stage].label}")
        ax.set_xlabel("school year")
        ax.set_ylabel("pupils")
        ax.axvline(h.years[-1], color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
    return fig


def backtest_chart(metrics: pd.DataFrame, title: str = "Back-test error by lead") -> plt.Figure:
    """MAPE (%) against lead for each method (from ``error_metrics``)."""
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        order = sorted(metrics["lead"].unique(), key=lambda s: (len(s), s))
        for m, g in metrics.groupby("method", sort=True):
            g = g.set_index("lead").reindex(order)
            style = "--" if m in ("persistence", "linear_trend") else "-"
            ax.plot(order, g["mape"], style, marker="o", label=m)
        ax.set_xlabel("lead (years)")
        ax.set_ylabel("MAPE (%)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def save(fig: plt.Figure, path: str | Path) -> None:
    """Write a figure as PNG and free it (fonts resolve at draw time, so inside the CJK rc)."""
    with plt.rc_context(font_rc()):
        fig.savefig(path, format="png")
    plt.close(fig)
