"""Seat-cover cuts: a bound the linking rows alone do not give.

In every planned year the pupils seated cannot exceed the seats the decisions make available:

    sum_s Q[s,t] Reff[s,t] + sum_{k,g} u[k,g,t] >= sum_{k,g} D[k,g,t]                    (seat cover, year t)

with Q[s,t] = max_g cap[s,g,t] (the school's largest class that year) and Reff[s,t] the classrooms it can use:
R[s,t] (``model.rooms_available``) for a school that cannot close, Rup[s,t] (1 - c[s,t]) for a closable one. The
row follows from the demand, class-size, classroom and closure rows (pupils at s <= sum_g cap n <= Q sum_g n <= Q R),
so it holds for every plan of the model. Its LP relaxation adds nothing, but its integer rounding does: with
the decisions z (openings y, builds b, the open status 1 - c) integer and a divisor delta > 0, the mixed-integer
rounding (MIR) of the row, alpha_j = a_j / delta, beta' = beta / delta, phi = beta' - floor(beta') > 0,

    sum_j (ceil(alpha_j) - max(0, ceil(alpha_j) - alpha_j - (1 - phi)) / phi) z_j + sum u / (delta phi) >= ceil(beta')

holds for every plan too (Nemhauser and Wolsey 1990; ``a_j`` the seats decision j brings, ``beta`` the pupils less
the seats no decision changes). On facility-location-like districts it is what a relaxation lacks: with equal sites
of S seats and D pupils, the LP opens D / S sites; the cut asks for ceil(D / S) (OR-Library capa_8000: strong LP
bound 18.83e6, with the cut 19.23e6; the optimum is 19.24e6). ``seat_covers`` finds the rows, ``mir_cuts`` the
most violated rounding of each at an LP solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from capacity.plan.inputs import row_owner
from capacity.plan.model import PlanModel, rooms_upper

MIN_PHI = 1e-3  # a right-hand side this close to a whole number gives a cut with a huge unmet coefficient: not made
SAFETY = 1e-9  # coefficients of the cut raised by this share: a >= row with larger coefficients on >= 0 columns still holds


@dataclass
class SeatCover:
    """One year's seat-cover row: sum_j a_j z_j + sum u >= beta, z_j = var_j or (complement) 1 - var_j."""

    year: int
    decisions: list[pulp.LpVariable]
    seats: np.ndarray  # a_j: seats decision j brings (> 0)
    complement: np.ndarray  # True: z_j = 1 - var_j (a closable school's open status)
    unmet: list[pulp.LpVariable]
    beta: float  # pupils less the seats no decision changes


def seat_covers(model: PlanModel) -> list[SeatCover]:
    """Seat cover: in each year, the pupils seated fit the seats the decisions make available (implied by the
    demand, class-size, classroom and closure rows; not added itself, only its rounding ``mir_cut``). None for a year
    where a term is not an integer decision with a positive coefficient, or where an arc leads to a school and
    grade without a class-size row.

    Equation::

        sum_s Q[s,t] Reff[s,t] + sum_{k,g} u[k,g,t] >= sum_{k,g} D[k,g,t]              for all t
        Q[s,t] = max_g cap[s,g,t];  Reff[s,t] = Rup[s,t] (1 - c[s,t]) for s in S^clo, else R[s,t]
        written  sum_j a_j z_j + sum u >= beta: z_j the decisions (y, b, 1 - c), beta the pupils less Q R0 and Q P
    """
    d = model.data
    caps = d.caps
    q = caps.groupby(["school_id", "year"])["cap"].max()
    if (row_owner(caps, d.arcs, ["school_id", "grade", "year"]) < 0).any():  # an arc to a school and grade without a class row
        return []
    upper = rooms_upper({k: model.rooms[k] for k in model.c})
    pupils = d.demand.groupby("year")["pupils"].sum()
    unmet_of: dict[int, list] = {}
    for t, v in zip(d.demand["year"], model.u, strict=True):
        unmet_of.setdefault(t, []).append(v)
    out = []
    for t in d.years:
        beta = float(pupils.get(t, 0.0))
        decisions, seats, complement, valid = [], [], [], True
        for (sid, year), cap in q.items():
            if year != t:
                continue
            if (sid, t) in model.c:  # open status 1 - c: seats Q Rup (1 - c)
                if float(cap) * upper[sid, t] <= 0:
                    continue
                decisions.append(model.c[sid, t])
                seats.append(float(cap) * upper[sid, t])
                complement.append(True)
                continue
            rooms = model.rooms[sid, t]
            beta -= float(cap) * float(rooms.constant)
            for v, k in rooms.items():
                if v.cat != pulp.LpInteger or float(k) < 0 or (v.lowBound or 0) < 0:
                    valid = False
                elif float(k) * float(cap) > 0:
                    decisions.append(v)
                    seats.append(float(cap) * float(k))
                    complement.append(False)
        if valid and decisions and beta > 0:
            out.append(SeatCover(t, decisions, np.array(seats), np.array(complement), unmet_of.get(t, []), beta))
    return out


@dataclass
class Cut:
    """A cut sum_j coef_j var_j >= lower (the complements already written out), with its violation at the LP point."""

    variables: list[pulp.LpVariable]
    coef: np.ndarray
    lower: float
    violation: float


def mir_cut(row: SeatCover, col: np.ndarray, max_divisors: int = 20) -> Cut | None:
    """Mixed-integer rounding of a seat cover: valid for every plan (z whole, u >= 0), not for the LP. The most
    violated one at the LP solution ``col`` (values by HiGHS column, the variables' ``index``), over the divisors
    delta = the seats of decisions fractional there (and the largest); None where none is violated.

    Equation::

        sum_j (ceil(alpha_j) - max(0, ceil(alpha_j) - alpha_j - (1 - phi)) / phi) z_j + sum u / (delta phi) >= ceil(beta')
        alpha_j = a_j / delta,  beta' = beta / delta,  phi = beta' - floor(beta') >= 0.001
    """
    z_idx = np.array([v.index for v in row.decisions])
    z = np.where(row.complement, 1.0 - col[z_idx], col[z_idx])
    u_sum = float(np.sum(col[[v.index for v in row.unmet]])) if row.unmet else 0.0
    frac = (z > 1e-6) & (np.abs(z - np.round(z)) > 1e-6)
    divisors = np.unique(np.append(row.seats[frac], row.seats.max()))[-max_divisors:]
    best = None
    for delta in divisors:
        alpha = row.seats / delta
        b = row.beta / delta
        near = round(b)
        if abs(b - near) <= 1e-9 * max(1.0, abs(b)):
            continue
        phi = b - np.floor(b)
        if phi < MIN_PHI:
            continue
        up = np.ceil(alpha - 1e-12)
        g = up - np.maximum(0.0, up - alpha - (1.0 - phi)) / phi
        g *= 1 + SAFETY
        g_u = (1 + SAFETY) / (delta * phi)
        lower = float(np.ceil(b))
        violation = (lower - float(g @ z) - g_u * u_sum) / lower
        if violation > 1e-6 and (best is None or violation > best[0]):
            best = (violation, g, g_u, lower)
    if best is None:
        return None
    violation, g, g_u, lower = best
    # z_j = 1 - c_j: g_j (1 - c_j) = g_j - g_j c_j
    coef = np.where(row.complement, -g, g)
    lower -= float(g[row.complement].sum())
    return Cut(row.decisions + row.unmet, np.append(coef, np.full(len(row.unmet), g_u)), lower, violation)


EQUATIONS = (seat_covers, mir_cut)  # docs/plan-model.md's "Valid inequalities" (capacity.plan.equations)
