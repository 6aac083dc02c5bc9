"""Map of zones, schools, pupil flows and mergers on the district's km grid (matplotlib only:
zones as points at their population centres, since the district format holds no polygons)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from capacity.report.fonts import font_rc, label

STATUS_COLOURS = {"open": "tab:blue", "new": "tab:green", "closed": "tab:red", "not opened": "lightgrey", "candidate": "lightgrey"}


def district_map(
    district, plan_tables: dict[str, pd.DataFrame] | None = None, mergers: pd.DataFrame | None = None, year: int | None = None
) -> plt.Figure:
    """Zones (large labelled points), schools coloured by their status in ``year`` (default: the
    last planned year), arrows for pupils who travel from their zone to a school in another zone
    that year (width by pupils) and dashed red arrows from each closed school to its receiving schools."""
    z = district.zones
    s = district.schools.set_index("school_id")
    status = pd.Series("open", index=s.index)
    status[s["status"].eq("candidate")] = "not opened"
    flows = pd.DataFrame()
    if plan_tables is not None:
        st = plan_tables["schools"]
        year = int(st["year"].max()) if year is None else year
        status.update(st[st["year"] == year].set_index("school_id")["status"])
        a = plan_tables["assignment"]
        a = a[(a["year"] == year)]
        a = a.assign(school_zone=a["school_id"].map(s["zone_id"]))
        flows = a[a["zone_id"] != a["school_zone"]].groupby(["zone_id", "school_id"], as_index=False)["pupils"].sum()
        flows = flows[flows["pupils"] >= 1]
    with plt.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
        zx = z.set_index("zone_id")
        if len(flows):
            w = flows["pupils"].to_numpy()
            for r, lw in zip(flows.itertuples(index=False), 0.5 + 4 * w / w.max(), strict=True):
                x0, y0 = zx.at[r.zone_id, "x_km"], zx.at[r.zone_id, "y_km"]
                x1, y1 = s.at[r.school_id, "x_km"], s.at[r.school_id, "y_km"]
                ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "tab:orange", "lw": lw, "alpha": 0.6})
        if mergers is not None and len(mergers):
            m = mergers[(mergers["event"] == "close") & (mergers["receiving_school_id"] != "")]
            for r in m.drop_duplicates(["school_id", "receiving_school_id"]).itertuples(index=False):
                ax.annotate(
                    "",
                    (s.at[r.receiving_school_id, "x_km"], s.at[r.receiving_school_id, "y_km"]),
                    (s.at[r.school_id, "x_km"], s.at[r.school_id, "y_km"]),
                    arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 1.0, "ls": "--"},
                )
        ax.scatter(z["x_km"], z["y_km"], s=600, c="none", edgecolors="grey", linewidths=1.5, zorder=2)
        for r in z.itertuples(index=False):
            ax.annotate(
                label(f"{r.name} ({r.zone_id})", r.zone_id),
                (r.x_km, r.y_km),
                (0, 13),
                textcoords="offset points",
                fontsize=7,
                ha="center",
                color="dimgrey",
            )
        for st_name, colour in STATUS_COLOURS.items():
            ids = status.index[status == st_name]
            if len(ids):
                ax.scatter(
                    s.loc[ids, "x_km"],
                    s.loc[ids, "y_km"],
                    s=18,
                    c=colour,
                    label=f"school {st_name}",
                    zorder=3,
                    edgecolors="black",
                    linewidths=0.3,
                )
        ax.plot([], [], color="tab:orange", label="pupils to a school in another zone")
        if mergers is not None and len(mergers):
            ax.plot([], [], color="tab:red", ls="--", label="closed school -> receiving school")
        ax.set_xlabel("km east")
        ax.set_ylabel("km north")
        ax.set_aspect("equal")
        ax.set_title(f"Zones, schools and flows{f' in {year}' if year else ''}")
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.2)
        pad = 0.05 * max(np.ptp(s["x_km"]), np.ptp(s["y_km"]), 1.0)
        ax.set_xlim(min(s["x_km"].min(), z["x_km"].min()) - pad, max(s["x_km"].max(), z["x_km"].max()) + pad)
        ax.set_ylim(min(s["y_km"].min(), z["y_km"].min()) - pad, max(s["y_km"].max(), z["y_km"].max()) + pad)
        fig.tight_layout()
    return fig
