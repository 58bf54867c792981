"""The CP-SAT model core shared by the portfolio scheduler and the PSPLIB solver.

A ``Problem`` is plain integer data: tasks on a whole-unit time grid (months for
portfolios, periods for PSPLIB) with durations, release dates, starts fixed in
advance, generalised precedence links with lags, renewable resources
(cumulative), budgets (money per time window) and groups (projects) with a due
date and a weight (optimize/tasks.py). ``CoreModel`` turns it into a CP-SAT model
(its variables, constraints and objectives each in their own module); ``solve_stages``
solves a sequence of objectives lexicographically.

Time before 0 is history: resources and budgets only count from t = 0 on.

Link rules with integer durations (end = start + duration):
FS start_j >= end_i + L, SS start_j >= start_i + L, FF end_j >= end_i + L,
SF end_j >= start_i + L.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from portfolio import interrupts

from . import constraints, objectives, variables
from .status import SolveStatus
from .tasks import (  # noqa: F401 (the problem and its bounds, used as core.* elsewhere)
    FF,
    FS,
    SF,
    SS,
    Budget,
    Group,
    Problem,
    Resource,
    bit_members,
    early_starts,
    energy_heads,
    fs_closure,
    late_starts,
    link_bound,
    order_of,
)

# ----------------------------------------------------------------------------- model


@dataclass
class ModelOptions:
    energy_tails: bool = True  # group end >= end_t + energy of t's FS-successors in the group / capacity
    energy_heads: bool = True  # start domains from the energy of FS-ancestors
    pair_delays: bool = False  # start_j >= end_i + energy of the tasks between i and j / capacity
    search: str = "auto"  # "settimes": branch on the free task with the smallest earliest start, at that start
    cap_slack: bool = False  # budgets may be exceeded at a cost (diagnosis)
    due_slack: bool = False  # hard due dates may be exceeded at a cost (diagnosis)
    upper_bound: int | None = None  # known makespan upper bound (tightens domains)
    tight_domains: bool = True  # start domains from hard due dates and ``Problem.group_latest``
    funding_encoding: str = "time"  # "time": a literal per possible start month; "linmax": clamp via min/max


class CoreModel:
    """A CP-SAT model of a ``Problem``, composed like PyJobShop's: its variables (optimize/variables.py), its
    constraints (optimize/constraints.py) and, on demand, its objectives (optimize/objectives.py).

    The order of the calls below is the order of the CP-SAT model, on which the plan depends.
    """

    def __init__(self, problem: Problem, options: ModelOptions | None = None):
        self.problem = problem
        self.options = options or ModelOptions()
        self.model = cp_model.CpModel()
        variables.add_tasks(self)
        constraints.add_links(self)
        constraints.add_resources(self)
        if self.options.pair_delays and problem.resources:
            constraints.add_pair_delays(self)
        variables.add_search(self)
        self.slack: dict[str, cp_model.IntVar] = {}
        constraints.add_budgets(self)
        constraints.add_groups(self)

    def es_between(self, i: int, j: int) -> int:
        return constraints.es_between(self, i, j)

    def worked_before(self, i: int, boundary: int):
        return variables.worked_before(self, i, boundary)

    def makespan_lower_bound(self) -> int:
        return objectives.makespan_lower_bound(self)

    def makespan(self):
        return objectives.makespan(self)

    def weighted_lateness(self):
        return objectives.weighted_lateness(self)

    def weighted_finish(self):
        return objectives.weighted_finish(self)

    def weighted_on_time(self):
        return objectives.weighted_on_time(self)

    def total_slack(self):
        return objectives.total_slack(self)



# ----------------------------------------------------------------------------- solving


@dataclass(frozen=True)
class Stage:
    name: str
    value: float  # objective value reached
    bound: float  # best proven bound (for this stage, given the stages before)
    optimal: bool
    seconds: float
    sense: str = "min"
    deterministic_time: float = 0.0  # CP-SAT's own work measure: the same on every machine

    @property
    def gap(self) -> float:
        """|value - bound| / max(1, |value|) (CP-SAT's relative gap)."""
        return abs(self.value - self.bound) / max(1.0, abs(self.value))


@dataclass
class StagedResult:
    status: SolveStatus
    stages: list[Stage] = field(default_factory=list)
    start: np.ndarray | None = None
    seconds: float = 0.0
    deterministic_time: float = 0.0  # used by all stages
    wall_clock_stop: bool = False  # a deterministic solve was cut by the wall-clock safety net: not reproducible


@dataclass(frozen=True)
class SolverOptions:
    """How CP-SAT searches (not what it solves): its limits, workers, seed and any extra parameters."""

    time_limit: float  # wall-clock seconds; a safety net when ``deterministic_time`` is set
    workers: int = 1
    seed: int = 0
    params: dict = field(default_factory=dict)  # extra CP-SAT parameters, e.g. {"linearization_level": 0}
    deterministic_time: float | None = None  # CP-SAT's work measure: the same answer on any machine

# Who hears of a long solve's progress: None (silent), or a callable(stage, best, bound, seconds) that the CLI
# sets for a terminal (optimize/progress.py); stage None = the solve is over. CP-SAT calls it from its search
# threads on each new solution and bound; listening does not change the search: the same plan either way.
progress_report = None


def _progress_callbacks(solver: cp_model.CpSolver, stage: str, t0: float):
    """The solution callback for ``solver.solve`` (None when nobody listens); also hooks the bound updates."""
    report = progress_report
    if report is None:
        return None
    best = [None]

    class Listener(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            best[0] = self.objective_value
            report(stage, best[0], self.best_objective_bound, time.perf_counter() - t0)

    solver.best_bound_callback = lambda bound: report(stage, best[0], bound, time.perf_counter() - t0)
    report(stage, None, None, time.perf_counter() - t0)  # the stage has begun
    return Listener()


def make_solver(options: SolverOptions) -> cp_model.CpSolver:
    """A CP-SAT solver; with ``options.deterministic_time`` its answer depends on the model and parameters alone.

    CP-SAT's parallel portfolio lets its workers race, so with several workers the deterministic limit alone
    does not fix the answer; ``interleave_search`` runs them in fixed batches (the same answer on every run,
    whatever the load). The wall-clock ``time_limit`` then only guards against a run that never ends.
    """
    solver = cp_model.CpSolver()
    sp = solver.parameters
    sp.max_time_in_seconds = max(0.01, float(options.time_limit))
    sp.num_workers = max(1, int(options.workers))
    sp.random_seed = options.seed
    if options.deterministic_time is not None:
        sp.max_deterministic_time = max(0.001, float(options.deterministic_time))
        if sp.num_workers > 1:
            sp.interleave_search = True
    for key, value in options.params.items():
        current = getattr(sp, key)
        if isinstance(value, (list, tuple)):  # repeated field, e.g. subsolvers
            clear = getattr(sp, f"clear_{key}", None)
            if clear is not None:
                clear()
            getattr(sp, key).extend(value)
            continue
        if hasattr(type(current), "__members__") and not isinstance(value, type(current)):
            value = getattr(type(current), value) if isinstance(value, str) else type(current)(value)
        setattr(sp, key, value)
    sp.catch_sigint_signal = False  # its handler swallows Ctrl-C and resets SIGINT after: see portfolio.interrupts
    return solver


def solve_stages(
    core: CoreModel,
    stages: list[tuple[str, object, str]],
    options: SolverOptions,
    hint: np.ndarray | None = None,
    stage_shares: list[float] | None = None,
) -> StagedResult:
    """Solve each (name, expression, "min"/"max") in turn, holding earlier values; return the last solution.

    Without ``options.deterministic_time`` stage k may use ``stage_shares[k]`` of the wall-clock time still left
    (the last stage: all of it), so the answer may depend on the machine's speed. With it, the shares are of the
    deterministic budget still left, counted in CP-SAT's deterministic time, and ``options.time_limit`` is only a
    safety net: when it stops a stage, ``wall_clock_stop`` says the answer is not reproducible.
    """
    time_limit, deterministic_time = options.time_limit, options.deterministic_time
    m = core.model
    t0 = time.perf_counter()
    result = StagedResult(status=SolveStatus.UNKNOWN)
    if hint is not None:
        _set_hint(core, hint)
    shares = stage_shares or [0.7] * len(stages)
    for k, (name, expr, sense) in enumerate(stages):
        left = time_limit - (time.perf_counter() - t0)
        if deterministic_time is None:
            if k > 0 and left <= 0.05:
                break
            budget = left if k == len(stages) - 1 else max(left * shares[k], 0.05)
            det_budget = None
        else:
            det_left = deterministic_time - result.deterministic_time
            if k > 0 and det_left <= 0.001:
                break  # the budget is spent: a decision on deterministic time alone
            if k > 0 and left <= 0.05:
                result.wall_clock_stop = True  # the safety net decides: whatever budget is left, not reproducible
                break
            det_budget = det_left if k == len(stages) - 1 else max(det_left * shares[k], 0.001)
            budget = left
        m.clear_objective()
        if isinstance(expr, (int, float)):
            value = float(expr)
            result.stages.append(Stage(name, value, value, True, 0.0, sense))
            if k == 0:
                # nothing to optimise: still need a feasible solution
                m.minimize(0)
            else:
                continue
        elif sense == "min":
            m.minimize(expr)
        else:
            m.maximize(expr)
        solver = make_solver(dataclasses.replace(options, time_limit=budget, deterministic_time=det_budget))
        with interrupts.stoppable(solver):  # a signal stops the search and is raised here, never a partial plan
            status = solver.solve(m, _progress_callbacks(solver, name, t0))
        elapsed = solver.wall_time
        used = solver.deterministic_time
        result.deterministic_time += used
        if det_budget is not None and status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            result.wall_clock_stop |= stopped_by_wall_clock(used, det_budget)
        if status == cp_model.INFEASIBLE:
            result.status = SolveStatus.INFEASIBLE if k == 0 else result.status
            break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if k == 0:
                result.status = SolveStatus.UNKNOWN
            break
        start = np.array([solver.value(s) for s in core.start], dtype=np.int64)
        result.start = start
        if not (isinstance(expr, (int, float))):
            value = solver.objective_value
            bound = solver.best_objective_bound
            result.stages.append(Stage(name, value, bound, status == cp_model.OPTIMAL, elapsed, sense, used))
            # hold this stage's value for the stages that follow
            if sense == "min":
                m.add(expr <= round(value))
            else:
                m.add(expr >= round(value))
        _set_hint(core, start)
        result.status = SolveStatus.FEASIBLE
    if result.start is not None:
        done = len(result.stages) == len(stages)
        result.status = SolveStatus.OPTIMAL if done and all(s.optimal for s in result.stages) else SolveStatus.FEASIBLE
    result.seconds = time.perf_counter() - t0
    if progress_report is not None:
        progress_report(None, None, None, result.seconds)  # the solve is over
    return result


def stopped_by_wall_clock(used: float, budget: float) -> bool:
    """Whether an unfinished solve stopped before its deterministic budget was spent (so on the wall clock).

    CP-SAT checks its limits between steps, so a solve stopped by the deterministic limit has used at least
    (nearly) all of it; the 0.1% slack covers rounding.
    """
    return used < budget * 0.999


def _set_hint(core: CoreModel, start) -> None:
    m = core.model
    m.clear_hints()
    for var, value in zip(core.start, start):
        m.add_hint(var, int(value))
