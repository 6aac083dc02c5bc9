"""The only module that talks to PuLP's solver classes and to the solver itself."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pulp

from capacity.errors import SolverError
from capacity.plan.settings import PlanSettings


@dataclass(frozen=True)
class SolveReport:
    """What the solver did.

    Attributes
    ----------
    status : str
        'optimal' (proven within the MIP gap), 'time_limit' (stopped by the clock with a
        feasible plan; see gap and bound; not reproducible), 'work_limit' (stopped by a node
        limit such as ``solver_options: {mip_max_nodes: N}``; reproducible), 'infeasible', or
        'no_solution'.
    solver : str
        Solver used, with version.
    objective : float
        Objective of the plan returned (currency).
    bound : float
        Best proven lower bound (NaN where the solver does not report one).
    gap : float
        Relative gap (objective - bound) / objective (NaN where unknown).
    solve_s : float
        Wall time of the solver call, seconds (includes PuLP handing the model over).
    model_status : str
        The solver's own status text.
    """

    status: str
    solver: str
    objective: float
    bound: float
    gap: float
    solve_s: float
    model_status: str


_SCHEDULER_THREADS: list = []  # threads of the last HiGHS run in this process


class _HiGHSWithOffset(pulp.HiGHS):
    """PuLP's HiGHS interface does not hand over the objective's constant term; without it
    HiGHS reports (and measures its MIP gap against) a shifted objective. Pass it as offset."""

    start: dict | None = None

    def createAndConfigureSolver(self, lp):  # noqa: N802 (PuLP's name)
        if self.msg:
            return super().createAndConfigureSolver(lp)
        with _no_banner():
            return super().createAndConfigureSolver(lp)

    def callSolver(self, lp):  # noqa: N802 (PuLP's name)
        # HiGHS keeps one thread scheduler per process and refuses to run with another thread count
        # (model status "Not Set"); reset it when a plan asks for a different number of threads
        import highspy

        if _SCHEDULER_THREADS and _SCHEDULER_THREADS[-1] != self.threads:
            highspy.Highs.resetGlobalScheduler(True)
        _SCHEDULER_THREADS[:] = [self.threads]
        lp.solverModel.run()

    def actualSolve(self, lp):  # noqa: N802 (PuLP's name)
        # PuLP's own walks every constraint again to list the variables after the solve; once is enough
        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        self.callSolver(lp)
        status, sol_status = self.findSolutionValues(lp)
        lp.assignStatus(status, sol_status)
        return status

    def findSolutionValues(self, lp):  # noqa: N802 (PuLP's name)
        """Values only (no duals or slacks: nothing reads them), from one array. The status pair is
        PuLP's; the plan reads the solver's own status (``_report_highs``)."""
        import highspy

        h = lp.solverModel
        read_values(lp)
        ms = h.getModelStatus()
        if ms == highspy.HighsModelStatus.kOptimal:
            return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
        if ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
        if h.getInfo().primal_solution_status == 2:
            return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
        return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound

    def buildSolverModel(self, lp):  # noqa: N802 (PuLP's name)
        """The model handed over as whole arrays (PuLP's own adds one column and one row per call); the
        rows are assembled once per set of rows (``row_arrays``), the columns read afresh each solve."""
        import highspy
        import numpy as np

        h = lp.solverModel
        inf = highspy.kHighsInf
        variables = lp.variables()
        starts, index, value, row_lo, row_up = row_arrays(lp)  # sets each variable's index
        n = len(variables)
        sense = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        cost = np.zeros(n)
        for v, k in lp.objective.items() if lp.objective is not None else ():
            cost[v.index] = sense * k
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=np.float64)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=np.float64)
        h.addCols(n, cost, lower, upper, 0, np.zeros(n, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        ints = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32) if self.mip else np.zeros(0, np.int32)
        if len(ints):
            h.changeColsIntegrality(len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger))
        if len(starts):
            nonzero = value != 0
            if not nonzero.all():
                starts = np.concatenate([[0], np.cumsum(nonzero)])[starts].astype(np.int32)
                index, value = index[nonzero], value[nonzero]
            h.addRows(len(starts), row_lo, row_up, len(index), starts, index, value)
        constant = float(lp.objective.constant) if lp.objective is not None else 0.0
        if constant:
            h.changeObjectiveOffset(sense * constant)
        if self.start:
            idx = np.array([v.index for v in variables if v in self.start], dtype=np.int32)
            val = np.array([float(self.start[v]) for v in variables if v in self.start], dtype=np.float64)
            h.setSolution(len(idx), idx, val)


def row_arrays(problem: pulp.LpProblem) -> tuple:
    """The rows of ``problem`` as arrays: CSR ``starts``, column ``index`` and ``value`` (every term, zeros too), and
    each row's lower and upper bound (-inf / inf where open). Columns are ``problem.variables()`` in order,
    whose ``index`` attribute is set here. Kept on the problem: rows added since are appended, and all are made
    again only when variables were added (rows are never changed in place; bounds of variables are not part of it)."""
    import itertools

    import numpy as np

    variables = problem.variables()
    rows = problem._constraints  # PuLP's own interface reads the same dict
    cached = getattr(problem, "_row_arrays", None)
    for i, v in enumerate(variables):
        v.index = i
    done = cached[0] if cached is not None and cached[1] == len(variables) else 0
    if cached is not None and done == len(rows):
        return cached[2]
    starts, index, value, row_lo, row_up = [], [], [], [], []
    offset = len(cached[2][1]) if done else 0
    for con in itertools.islice(rows.values(), done, None):
        starts.append(offset + len(index))
        for v, k in con.items():
            index.append(v.index)
            value.append(k)
        lb, ub = con.getLb(), con.getUb()
        row_lo.append(-np.inf if lb is None else lb)
        row_up.append(np.inf if ub is None else ub)
    arrays = (
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=np.float64),
        np.array(row_lo, dtype=np.float64),
        np.array(row_up, dtype=np.float64),
    )
    if done:
        arrays = tuple(np.concatenate([old, new]) for old, new in zip(cached[2], arrays, strict=True))
    problem._row_arrays = (len(rows), len(variables), arrays)
    return arrays


TIME_LIMIT_NOTE = (
    "plan: the solver stopped at its wall-clock time limit, so a re-run may give a different plan "
    "(raise plan.time_limit_s, or stop by work with plan.strategy: direct and plan.solver_options: {mip_max_nodes: N})"
)

# A fixed random seed (threads come from plan.threads, passed explicitly) unless the scenario sets its own:
# equal inputs give an equal plan whenever every solve stops by gap or by a work limit, not by the clock.
DETERMINISTIC_HIGHS = {"random_seed": 0}


def _highs(settings: PlanSettings):
    options = {**DETERMINISTIC_HIGHS, **settings.solver_options}
    s = _HiGHSWithOffset(
        msg=settings.verbose, timeLimit=settings.time_limit_s, gapRel=settings.mip_gap, threads=settings.threads, **options
    )
    return s if s.available() else None


@contextmanager
def _no_banner() -> Iterator[None]:
    """Silence C-level stdout while HiGHS is created (it prints a start-up banner there)."""
    import os
    import sys

    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. some notebook kernels): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _quiet_highs(highspy):
    """A HiGHS instance made without its start-up banner, output off."""
    with _no_banner():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def solver_option_problems(settings: PlanSettings) -> list[str]:
    """'plan.solver_options.NAME: found ...; expected ...' for every option the solver would reject or ignore."""
    if not settings.solver_options:
        return []
    if settings.solver != "highs":
        return [
            f"plan.solver_options: found {sorted(settings.solver_options)}; expected no options with solver {settings.solver} (they apply to HiGHS only)"
        ]
    try:
        import highspy
    except ImportError:
        return []
    h = _quiet_highs(highspy)
    out = []
    for name, value in sorted(settings.solver_options.items(), key=lambda kv: str(kv[0])):
        status, _ = h.getOptionValue(str(name))
        if status != highspy.HighsStatus.kOk:
            out.append(
                f"plan.solver_options.{name}: found an option HiGHS does not know; expected a HiGHS option such as mip_max_nodes, random_seed, mip_heuristic_effort"
            )
            continue
        if name in ("time_limit", "mip_rel_gap", "threads", "output_flag", "log_to_console"):
            out.append(
                f"plan.solver_options.{name}: found a solver option that a plan setting controls; expected plan.time_limit_s, plan.mip_gap, plan.threads or plan.verbose"
            )
            continue
        try:
            ok = h.setOptionValue(str(name), value) == highspy.HighsStatus.kOk
        except (TypeError, ValueError):
            ok = False
        if not ok or isinstance(value, (dict, list)):
            out.append(
                f"plan.solver_options.{name}: found {value!r}; expected a value HiGHS accepts for {name} (see the HiGHS options list)"
            )
    return out


def highs_available(settings: PlanSettings) -> bool:
    """True when the configured solver is HiGHS and highspy is installed (phase S re-solves LPs through it)."""
    return settings.solver == "highs" and _highs(settings) is not None


def _cbc(settings: PlanSettings):
    s = pulp.PULP_CBC_CMD(msg=settings.verbose, timeLimit=settings.time_limit_s, gapRel=settings.mip_gap, threads=settings.threads)
    return s if s.available() else None


def available_solvers() -> list[str]:
    """Names of the solvers installed here."""
    ps = PlanSettings()
    return [name for name, make in (("highs", _highs), ("cbc", _cbc)) if make(ps) is not None]


def solve(problem: pulp.LpProblem, settings: PlanSettings, fallback: str | None = "cbc", start: dict | None = None) -> SolveReport:
    """Solve ``problem`` with the configured solver (HiGHS by default), falling back to
    ``fallback`` when the first is not installed. ``start`` maps variables to a feasible
    starting plan (HiGHS only; CBC ignores it).

    PuLP labels a HiGHS run stopped by its time limit "Optimal"; the solver's own model
    status is read instead, so such a plan is reported as 'time_limit' with its bound and gap.
    """
    order = [settings.solver] + ([fallback] if fallback and fallback != settings.solver else [])
    makers = {"highs": _highs, "cbc": _cbc}
    for name in order:
        solver = makers[name](settings)
        if solver is not None:
            break
    else:
        raise SolverError(
            f"no solver available: tried {', '.join(order)}. Install HiGHS with 'pip install highspy>=1.15.1' "
            "(PuLP's bundled CBC is the fallback)"
        )
    if name != settings.solver:
        from capacity.notes import note

        note(f"plan.solver: {settings.solver} is not installed here; the plan was solved with {name} instead")
    if name == "highs":
        solver.start = start
    t0 = time.perf_counter()
    try:
        problem.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolverError(f"{name} failed: {e}") from None
    if name == "highs" and start and problem.isMIP():
        left = settings.time_limit_s - (time.perf_counter() - t0)
        # with less time left the report states the plan's own cost (_held_plan_objective)
        if left >= MIN_RESOLVE_S and _held_objective(problem.solverModel) is not None:
            _solve_again_without_presolve(problem, left)
    elapsed = time.perf_counter() - t0
    report = _report_highs(problem, elapsed) if name == "highs" else _report_cbc(problem, elapsed)
    if report.status == "no_solution" and "time limit" in report.model_status.lower():
        # say what to change; a phase of the decompose strategy may still recover, so this is not raised here
        report = replace(
            report,
            model_status=f"{report.model_status}: plan.time_limit_s {settings.time_limit_s:g} s was too short to find any plan; "
            "expected a longer time limit",
        )
    if report.status == "time_limit":
        from capacity.notes import note

        note(TIME_LIMIT_NOTE)
    return report


def resolve_with_costs(problem: pulp.LpProblem, costs: dict[pulp.LpVariable, float], time_limit_s: float) -> SolveReport:
    """Solve again a problem that HiGHS has just solved, with some objective coefficients changed (the
    problem itself is not changed); HiGHS starts from its last basis. Variable values are updated; the
    report's objective is under the changed costs."""
    import numpy as np

    h = problem.solverModel
    idx = np.array([v.index for v in costs], dtype=np.int32)
    h.changeColsCost(len(idx), idx, np.array(list(costs.values()), dtype=np.float64))
    elapsed = run_again(h, time_limit_s)
    read_values(problem)
    return _report_highs(problem, elapsed)


def run_again(h, time_s: float) -> float:
    """Run the highspy instance ``h`` once more for at most ``time_s`` seconds of its own; returns the wall time.

    HiGHS's ``time_limit`` is compared with the instance's run time summed over every ``run()`` since it was
    made (ERGO-Code/HiGHS#1331, #1477), so a limit of ``time_s`` would stop a re-run at once, or early, once
    the earlier runs had taken that long: the limit is the run time so far plus ``time_s``."""
    h.setOptionValue("time_limit", h.getRunTime() + max(0.01, float(time_s)))
    t0 = time.perf_counter()
    h.run()
    return time.perf_counter() - t0


def read_values(problem: pulp.LpProblem) -> None:
    """Every variable's value from HiGHS's last solution of ``problem``, read as one array (the columns
    are ``problem.variables()`` in order, as handed over)."""
    col = problem.solverModel.getSolution().col_value
    for v, value in zip(problem.variables(), col, strict=True):
        v.varValue = value


def _report_highs(problem: pulp.LpProblem, elapsed: float) -> SolveReport:
    import highspy

    h = problem.solverModel
    ms = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(ms)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    obj = float(info.objective_function_value) if has_solution else math.nan
    if problem.isMIP():
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if has_solution else math.nan
        if has_solution:
            obj, bound, gap, text = _held_plan_objective(h, obj, bound, gap, text)
    else:
        bound, gap = (obj, 0.0) if ms == highspy.HighsModelStatus.kOptimal else (math.nan, math.nan)
    if ms == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif ms in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        status = "infeasible"
    elif has_solution and ms == highspy.HighsModelStatus.kSolutionLimit:
        status = "work_limit"
    elif has_solution and ms in (
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kIterationLimit,
        highspy.HighsModelStatus.kInterrupt,
    ):
        status = "time_limit"
    else:
        status = "no_solution"
    return SolveReport(status, f"HiGHS {h.version()} (highspy)", obj, bound, gap, elapsed, text)


def _held_objective(h) -> float | None:
    """The objective of the solution HiGHS hands back where it differs from the objective HiGHS reports, else None.

    With a starting plan and presolve, HiGHS 1.16 can report an objective (and a bound) below the true optimum
    while handing back the starting plan itself (seen on an English district: 381.9 M reported, bound 381.2 M,
    the start's 384.9 M returned, the optimum about 384.5 M); an alternative-plan search then finds nothing new."""
    import numpy as np

    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None
    lp = h.getLp()
    held = float(np.dot(lp.col_cost_, h.getSolution().col_value)) + float(lp.offset_)
    obj = float(info.objective_function_value)
    return held if abs(held - obj) > 1e-7 * max(1.0, abs(held)) else None


MIN_RESOLVE_S = 1.0  # time left (s) below which a misreported started solve is not run again


def _solve_again_without_presolve(problem: pulp.LpProblem, time_s: float) -> None:
    """Solve a misreported started solve once more with presolve off (from the solution it holds), for at most
    ``time_s`` seconds: the time the plan's limit leaves after the first run (the two runs stay within the limit)."""
    from capacity.notes import note

    h = problem.solverModel
    note(
        "plan: HiGHS reported an objective the plan it returned does not reach (a fault of HiGHS with a starting plan and "
        "presolve); the model was solved again from that plan without presolve"
    )
    before = h.getOptionValue("presolve")
    h.setOptionValue("presolve", "off")
    run_again(h, time_s)
    h.setOptionValue("presolve", before[1] if isinstance(before, tuple) else before)  # later runs of this instance as set
    read_values(problem)


def _held_plan_objective(h, obj: float, bound: float, gap: float, text: str) -> tuple[float, float, float, str]:
    """The objective of the solution HiGHS hands back, where it differs from the one HiGHS reports (:func:`_held_objective`):
    the plan's own cost is reported, the bound kept at most that cost, and the gap measured between them (the plan is
    what every table shows)."""
    held = _held_objective(h)
    if held is None:
        return obj, bound, gap, text
    from capacity.notes import note

    note(
        f"plan: HiGHS reported the objective {obj:,.0f} but the plan it returned costs {held:,.0f}; "
        "the plan's own cost is reported and its gap measured against the bound"
    )
    bound = min(bound, held)
    gap = (held - bound) / max(abs(held), 1e-9)
    return held, bound, gap, f"{text}; objective {held:.9g} recomputed from the returned plan (HiGHS reported {obj:.9g})"


def _report_cbc(problem: pulp.LpProblem, elapsed: float) -> SolveReport:
    st, sol = problem.status, problem.sol_status
    obj = float(pulp.value(problem.objective)) if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) else math.nan
    if sol == pulp.LpSolutionOptimal:
        status, bound, gap = "optimal", obj, 0.0
    elif sol == pulp.LpSolutionIntegerFeasible:
        status, bound, gap = "time_limit", math.nan, math.nan
    elif st == pulp.LpStatusInfeasible:
        status, bound, gap = "infeasible", math.nan, math.nan
    else:
        status, bound, gap = "no_solution", math.nan, math.nan
    return SolveReport(status, "CBC (PuLP bundled)", obj, bound, gap, elapsed, pulp.LpStatus[st])
