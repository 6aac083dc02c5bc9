"""Charts of the seat gap and class sizes (PNG)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from capacity.report.fonts import font_rc, label


def shortfall_norm(values: np.ndarray):
    """Diverging colour scale centred at zero with separate scales for each side: any shortfall
    (negative) lands in the red half at 35 % strength or more, however large the surpluses."""
    from matplotlib.colors import FuncNorm

    v = np.asarray(values, dtype=float)
    lo = float(min(np.nanmin(v), -1.0)) if v.size else -1.0
    hi = float(max(np.nanmax(v), 1.0)) if v.size else 1.0
    xs, cs = [lo, -1e-9, 0.0, hi], [0.0, 0.325, 0.5, 1.0]

    def forward(x):
        return np.interp(x, xs, cs)

    def inverse(c):
        return np.interp(c, cs, xs)

    return FuncNorm((forward, inverse), vmin=lo, vmax=hi)


def gap_heatmap(gap: pd.DataFrame, stage: str, title: str | None = None, level: str = "zone") -> plt.Figure:
    """Zone (or, ``level="school"``, school) x year heat map of seats minus demand for one stage: red = short,
    blue = spare, centred at zero; each cell shows its value."""
    z = gap[(gap["level"] == level) & (gap["stage"] == stage)]
    t = z.pivot(index="area", columns="year", values="gap")
    names = z.drop_duplicates("area").set_index("area")["name"]
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(t) + 1.5), dpi=110)
        vals = t.to_numpy(dtype=float)
        norm = shortfall_norm(vals)
        im = ax.imshow(vals, cmap="RdBu", norm=norm, aspect="auto")
        for (i, j), v in np.ndenumerate(vals):
            if v == v:
                dark = abs(float(norm(v)) - 0.5) > 0.33
                ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=6, color="white" if dark else "black")
        ax.set_yticks(range(len(t)), [label(f"{names.get(a, a)} ({a})", a) for a in t.index], fontsize=8)
        ax.set_xticks(range(len(t.columns)), [str(c) for c in t.columns], fontsize=8)
        ax.set_title(title or f"Seats minus demand, {stage}{', by school' if level == 'school' else ''} (red: short)")
        ticks = sorted({round(norm.vmin), round(norm.vmin / 2), 0, round(norm.vmax / 2), round(norm.vmax)})
        fig.colorbar(im, ax=ax, label="seats - pupils", ticks=ticks)
        fig.tight_layout()
    return fig


def demand_vs_seats(gap: pd.DataFrame, stage: str) -> plt.Figure:
    """Demand and seats per zone over the years for one stage (small multiples)."""
    z = gap[(gap["level"] == "zone") & (gap["stage"] == stage)]
    areas = list(dict.fromkeys(z["area"]))
    cols = 4
    rows = max(1, int(np.ceil(len(areas) / cols)))
    with plt.rc_context(font_rc()):
        fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), dpi=100, squeeze=False)
        for ax, a in zip(axes.ravel(), areas, strict=False):
            g = z[z["area"] == a]
            ax.plot(g["year"], g["demand"], color="tab:red", label="demand")
            ax.plot(g["year"], g["seats"], color="tab:blue", ls="--", label="seats")
            ax.set_title(label(f"{g['name'].iloc[0]} ({a})", a), fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in axes.ravel()[len(areas) :]:
            ax.axis("off")
        axes.ravel()[0].legend(fontsize=7)
        fig.suptitle(f"Demand vs seats, {stage}")
        fig.tight_layout()
    return fig


def band_share_chart(bands: pd.DataFrame, stage: str, band_names: list[str]) -> plt.Figure:
    """Share of classes in each size band by year (actual year first, then projected)."""
    b = bands[bands["stage"] == stage].sort_values("year")
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
        bottom = np.zeros(len(b))
        for name in band_names:
            v = b[f"share {name}"].fillna(0).to_numpy()
            ax.bar(b["year"].astype(str), v, bottom=bottom, label=name)
            bottom += v
        if not bottom.any():  # no class in any band: say so on a 0-1 axis, not an empty one around 0
            ax.set_ylim(0, 1)
            ax.text(0.5, 0.5, "no class in any band", transform=ax.transAxes, ha="center", va="center", color="grey")
        ax.set_ylabel("share of classes")
        ax.set_title(f"Class-size bands, {stage} (first bar: actual)")
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig
