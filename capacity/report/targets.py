"""Targets of an action plan (scenario ``targets:``) and each run's progress toward them.

Seat targets: ``seats_added`` (new seats from decided projects and the plan's builds, usable by
the year) or ``seats_reached`` (all seats, after closures) for an area (county, zone kinds or
listed zones), a set of stages and a sector. Policy targets: ``starting_grades_at_standard``,
``no_class_of`` (size N), ``no_school_above_cap``, ``preschool_coverage`` (floors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capacity.errors import ScenarioError

SEAT_KINDS = ("seats_added", "seats_reached")
POLICIES = ("starting_grades_at_standard", "no_class_of", "no_school_above_cap", "preschool_coverage")
KEYS = {*SEAT_KINDS, "policy", "by", "area", "stages", "sector", "size", "floors", "label"}


@dataclass(frozen=True)
class Target:
    """One target. ``measure`` is a seat kind or a policy; ``value`` the seats, class size or floors."""

    name: str
    measure: str
    value: object
    by: int
    area_kind: str = "county"  # county / kind / zones
    area: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # empty: every stage of the district
    sector: str = "all"
    label: str = ""
    place: str = "scenario"
    floors: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.label or self.name

    def stages_in(self, district) -> tuple[str, ...]:
        """The target's stages (all of the district's when it names none)."""
        return self.stages or district.grades.stage_names


def parse_targets(raw: object, place: Callable[[tuple], str]) -> tuple[Target, ...]:
    """Check a ``targets:`` mapping (name -> spec) and build Targets; errors name file, key and line."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ScenarioError(f"{place(('targets',))}: targets: found {raw!r}; expected a mapping of named targets")
    out = []
    for name, spec in raw.items():
        kp = ("targets", name)

        def bad(key: str, found: object, expected: str, kp=kp, name=name) -> ScenarioError:
            where = place((*kp, key)) if key else place(kp)
            return ScenarioError(f"{where}: targets.{name}{'.' + key if key else ''}: found {found!r}; expected {expected}")

        if not isinstance(spec, dict):
            raise bad("", spec, "a mapping such as {seats_added: 1000, by: 2027}")
        for k in spec:
            if k not in KEYS:
                raise bad(k, k, "one of " + ", ".join(sorted(KEYS)))
        kinds = [k for k in (*SEAT_KINDS, "policy") if k in spec]
        if len(kinds) != 1:
            raise bad("", sorted(spec), "exactly one of seats_added, seats_reached or policy")
        by = spec.get("by")
        if isinstance(by, bool) or not isinstance(by, int):
            raise bad("by", by, "the year the target is due (a whole number)")
        stages = spec.get("stages", [])
        if isinstance(stages, str):
            stages = [stages]
        if not isinstance(stages, list) or ("stages" in spec and not stages) or not all(isinstance(s, str) for s in stages):
            raise bad("stages", stages, "a list of stages of the district's grade system")
        sector = spec.get("sector", "all")
        if sector not in ("public", "private", "all"):
            raise bad("sector", sector, "public, private or all")
        area = spec.get("area", "county")
        if area == "county":
            akind, alist = "county", ()
        elif isinstance(area, dict) and len(area) == 1 and next(iter(area)) in ("kind", "zones"):
            akind = next(iter(area))
            v = area[akind]
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                raise bad("area", area, f"{akind}: a name or a list of names")
            alist = tuple(v)
        else:
            raise bad("area", area, "county, {kind: urban} (or a list of kinds) or {zones: [ids]}")
        label = spec.get("label", "")
        if not isinstance(label, str):
            raise bad("label", label, "text")
        floors: dict = {}
        if kinds[0] in SEAT_KINDS:
            measure = kinds[0]
            value = spec[measure]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad(measure, value, "a whole number of seats >= 0")
        else:
            measure = spec["policy"]
            if measure not in POLICIES:
                raise bad("policy", measure, "one of " + ", ".join(POLICIES))
            value = spec.get("size")
            if measure == "no_class_of":
                if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                    raise bad("size", value, "the class size that must not occur, e.g. 56 or 66")
            elif value is not None:
                raise bad("size", value, "no size (only policy no_class_of takes one)")
            if measure == "preschool_coverage":
                floors = spec.get("floors", {"ger": 0.9, "public": 0.5, "inclusive": 0.85})
                if (
                    not isinstance(floors, dict)
                    or not floors
                    or any(
                        k not in ("ger", "public", "inclusive")
                        or isinstance(v, bool)
                        or not isinstance(v, (int, float))
                        or not 0 <= v <= 1.5
                        for k, v in floors.items()
                    )
                ):
                    raise bad("floors", floors, "{ger: 0.9, public: 0.5, inclusive: 0.85} (shares 0-1.5)")
                floors = {k: float(v) for k, v in floors.items()}
            elif "floors" in spec:
                raise bad("floors", spec["floors"], "no floors (only policy preschool_coverage takes them)")
        out.append(Target(str(name), measure, value, by, akind, alist, tuple(stages), sector, label, place(kp), floors))
    return tuple(out)


def check_targets(targets: tuple[Target, ...], district, years: tuple[int, ...]) -> None:
    """Refuse targets the district or horizon cannot answer: unknown zones, kinds or stages, years outside it."""
    zones = set(district.zones["zone_id"])
    kinds = set(district.zones["kind"])
    for t in targets:
        if unknown := [s for s in t.stages if s not in district.grades.stage_by_name]:
            raise ScenarioError(
                f"{t.place}: targets.{t.name}.stages: found {', '.join(unknown)}; expected stages of the district's "
                f"{district.grades.name} system (district.grade_system): {', '.join(district.grades.stage_names)}"
            )
        if t.area_kind == "zones" and (unknown := [z for z in t.area if z not in zones]):
            raise ScenarioError(
                f"{t.place}: targets.{t.name}.area: unknown zone {', '.join(unknown)}; the district's zones are {', '.join(sorted(zones))}"
            )
        if t.area_kind == "kind" and (unknown := [k for k in t.area if k not in kinds]):
            raise ScenarioError(
                f"{t.place}: targets.{t.name}.area: unknown zone kind {', '.join(unknown)}; the district has {', '.join(sorted(kinds))}"
            )
        if not years[0] <= t.by <= years[-1]:
            raise ScenarioError(
                f"{t.place}: targets.{t.name}.by: found {t.by}; expected a year the run projects and plans, {years[0]}-{years[-1]}"
            )


def _zones_of(t: Target, district) -> set[str]:
    z = district.zones
    if t.area_kind == "county":
        return set(z["zone_id"])
    if t.area_kind == "kind":
        return set(z.loc[z["kind"].isin(t.area), "zone_id"])
    return set(t.area)


def _schools_of(t: Target, district) -> set[str]:
    s = district.schools
    keep = s["zone_id"].isin(_zones_of(t, district))
    if t.sector != "all":
        keep &= s["sector"] == t.sector
    return set(s.loc[keep, "school_id"])


def _seats(t: Target, result, years: list[int]) -> np.ndarray:
    """Seats added (or reached) by year for the target's schools and stages."""
    d, gap, plan = result.district, result.gap, result.plan
    sch = _schools_of(t, d)
    stage_of = d.schools.set_index("school_id")["first_grade"].map(d.grades.stage_of_grade)
    stages = t.stages_in(d)
    builds = plan.tables["builds"] if plan is not None else pd.DataFrame(columns=["usable_from", "school_id", "seats"])
    b = builds[builds["school_id"].isin(sch) & builds["school_id"].map(stage_of).isin(stages)]
    built = np.array([b.loc[b["usable_from"] <= y, "seats"].sum() for y in years], dtype=float)
    s = gap.seats[gap.seats["school_id"].isin(sch) & gap.seats["stage"].isin(stages)]
    if t.measure == "seats_added":
        return built + _project_seats(t, result, sch, years)
    total = np.array([s.loc[s["year"] == y, "seats"].sum() for y in years], dtype=float) + built
    if plan is not None:
        st = plan.tables["schools"]
        closed = st[(st["status"] == "closed") & st["school_id"].isin(sch)]
        lost = s.merge(closed[["year", "school_id"]], on=["year", "school_id"])
        total -= np.array([lost.loc[lost["year"] == y, "seats"].sum() for y in years])
        # rooms built at a school that is closed that year do not count either
        bl = b.merge(closed[["school_id", "year"]], on="school_id", suffixes=("", "_closed"))
        total -= np.array([bl.loc[(bl["usable_from"] <= y) & (bl["year_closed"] == y), "seats"].sum() for y in years])
    return total


def _project_seats(t: Target, result, sch: set[str], years: list[int]) -> np.ndarray:
    """Seats the decided projects completed after the last recorded year add, by year."""
    from dataclasses import replace

    from capacity.gap.seats import seat_table

    d = result.district
    before = replace(d, projects=d.projects[d.projects["completion_year"] <= d.last_year])
    keep = lambda f: f[f["school_id"].isin(sch) & f["stage"].isin(t.stages_in(d))].groupby("year")["seats"].sum()  # noqa: E731
    now = keep(result.gap.seats)
    then = keep(seat_table(before, result.gap.settings.standards.class_size, tuple(years)))
    return (now.reindex(years, fill_value=0.0) - then.reindex(years, fill_value=0.0)).to_numpy(dtype=float)


def target_progress(targets: tuple[Target, ...], result) -> pd.DataFrame:
    """One row per target and year up to its due year: target value, planned value, met, missed by.

    Seat targets: planned = seats added (or reached) by that year; met when planned >= target.
    Policy targets: planned = count of failures (classes above standard in starting grades,
    classes of ``size`` or more, schools above the cap) or the lowest coverage ratio; met when
    the count is 0 (or every floor is reached). Basis: the plan when solved, else the status quo.
    """
    cols = ["target", "measure", "year", "due", "target_value", "planned", "met", "missed_by", "basis"]
    if not targets:
        return pd.DataFrame(columns=cols)
    years = [int(y) for y in result.projection.years]
    basis = "plan" if result.plan is not None else "status quo"
    rows = []
    for t in targets:
        ys = [y for y in years if y <= t.by]
        if t.measure in SEAT_KINDS:
            got = _seats(t, result, years)[: len(ys)]
            for y, v in zip(ys, got, strict=True):
                rows.append(
                    (t.title, t.measure, y, t.by, float(t.value), float(v), bool(v >= t.value - 1e-6), max(0.0, t.value - v), basis)
                )
        elif t.measure == "preschool_coverage":
            cov = _coverage(t, result)
            for y in ys:
                r = cov.get(y)
                if r is None:
                    continue
                miss = max(0.0, *[t.floors[k] - r[k] for k in t.floors])
                rows.append((t.title, t.measure, y, t.by, min(t.floors.values()), min(r[k] for k in t.floors), miss <= 1e-9, miss, basis))
        else:
            fails = _policy_failures(t, result)
            for y in ys:
                n = float(fails.get(y, 0))
                rows.append((t.title, t.measure, y, t.by, 0.0, n, n == 0, n, basis))
    return pd.DataFrame(rows, columns=cols)


def option_classes(result) -> pd.DataFrame:
    """Classes per school, grade and year with band counts: the plan's, else the status quo's."""
    from capacity.gap.classes import spread_bands

    if result.plan is None:
        return result.gap.classes
    cl = result.plan.tables["classes"].reset_index(drop=True)
    bands = spread_bands(cl["pupils"].to_numpy(), cl["classes"].to_numpy(), cl["standard"].to_numpy(), {})
    stage_of = result.district.grades.stage_of_grade
    return pd.concat([cl.drop(columns=["mean_class_size", "max_class_size"]), bands], axis=1).assign(stage=cl["grade"].map(stage_of))


def _policy_failures(t: Target, result) -> dict[int, float]:
    """Year -> number of failing classes (or schools) in the target's area and stages."""
    d = result.district
    sch = _schools_of(t, d)
    if t.measure == "no_school_above_cap":
        if result.plan is not None:
            s = result.plan.tables["schools"]
            cap = result.plan.data.schools["size_cap"]
            s = s[s["school_id"].isin(sch) & s["school_id"].isin(cap.index)]
            above = s[s["pupils"] > s["school_id"].map(cap) + 1e-6]
        else:
            z = result.gap.school_sizes
            above = z[(z["basis"] == "projected") & z["above_cap"] & z["school_id"].isin(sch)]
        return above.groupby("year").size().to_dict()
    cl = option_classes(result)
    cl = cl[cl["school_id"].isin(sch) & cl["grade"].map(d.grades.stage_of_grade).isin(t.stages_in(d))]
    if t.measure == "starting_grades_at_standard":
        first = set(d.grades.entry_grades)
        c = cl[cl["grade"].isin(first)]
        return c.groupby("year")["classes_above_standard"].sum().to_dict()
    # no_class_of: classes with size or more pupils, pupils spread evenly over classes
    n = np.round(cl["pupils"].to_numpy(dtype=float)).astype(int)
    c = np.round(cl["classes"].to_numpy(dtype=float)).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(c > 0, n // np.maximum(c, 1), 0)
        r = np.where(c > 0, n % np.maximum(c, 1), 0)
    big = np.where(q >= t.value, c, np.where(q + 1 >= t.value, r, 0))
    return pd.Series(big, index=cl["year"].to_numpy()).groupby(level=0).sum().to_dict()


def _coverage(t: Target, result) -> dict[int, dict[str, float]]:
    """Year -> {ger, public, inclusive} of kindergarten places (plan pupils when solved)."""
    cov = result.gap.coverage
    if result.plan is None:
        return {int(r.year): {"ger": r.ger, "public": r.public_share, "inclusive": r.inclusive_share} for r in cov.itertuples()}
    d = result.district
    a = result.plan.tables["assignment"]
    k = a[a["grade"].map(d.grades.stage_of_grade) == "kindergarten"]
    s = d.schools.set_index("school_id")
    pub = k["school_id"].map(s["sector"]).eq("public")
    inc = pub | k["school_id"].map(s["inclusive"]).fillna(False).astype(bool)
    out = {}
    kids = cov.set_index("year")["children_3_5"]
    for y, g in k.groupby("year"):
        tot = g["pupils"].sum()
        ch = float(kids.get(y, np.nan))
        out[int(y)] = {
            "ger": tot / ch if ch > 0 else np.nan,
            "public": g.loc[pub[g.index], "pupils"].sum() / tot if tot else np.nan,
            "inclusive": g.loc[inc[g.index], "pupils"].sum() / tot if tot else np.nan,
        }
    return out
