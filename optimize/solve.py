"""``solve(portfolio, settings) -> Plan``: the funded schedule, checked before it is returned.

Steps: the network view at the status date; whole-month durations; the integer
problem (``problem.build``); direct infeasibility checks; a list-scheduling hint;
the CP-SAT model core; the objectives of the scenario solved lexicographically
(each stage holds the values of the stages before); a left shift that moves
activities earlier where nothing gets worse (tidy dates; no objective can get
worse by it); the independent checker. An impossible scenario raises
``Infeasible`` with the reasons in the planner's words.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from portfolio.errors import PortfolioError
from portfolio.model import Portfolio
from portfolio.network import build_network
from scenarios.settings import OBJECTIVES, Settings

from . import core
from .checker import check_plan
from .explain import Explainer, Infeasible, NoPlanFound
from .heuristic import Work, group_values, portfolio_hint
from .plan import Plan, StageReport, objective_values, spend_table
from .problem import build, estimate_durations
from .status import SolveStatus

SEED = 20210101
STAGE_SHARE = 0.8  # of the time left that a stage may use when more stages follow
# CP-SAT without its LP relaxation: with 1 worker the baseline's lexicographic optimum is proven in a median
# 10 s against 18.5 s with the LP (BENCHMARKS.md, "Scheduler on the bundled portfolio").
DEFAULT_PARAMS: dict = {"linearization_level": 0}
# The warm start's work budget: placements tried per second of the smaller of --time-limit and the deterministic
# budget, times a share. About 180,000 placements take a second on a 10,000-activity network (BENCHMARKS.md, "Warm
# start on large networks"), so it stays near a tenth of the limit; a count, not the clock: the plan does not
# depend on the machine's load.
HINT_PLACEMENTS_PER_SECOND = 100_000
HINT_SHARE = 0.1


class PlanCheckError(PortfolioError):
    """The optimizer returned a plan that the independent checker rejects (a bug, not an input problem)."""

    exit_code = None  # a bug: the CLI lets the traceback through


def stages_for(mode: str) -> list[tuple[str, str]]:
    if mode == "lateness":
        return [("weighted_lateness", "min"), ("weighted_finish", "min")]
    if mode == "makespan":
        return [("makespan", "min"), ("weighted_finish", "min")]
    if mode == "on_time":
        return [("weighted_on_time", "max"), ("weighted_finish", "min")]
    raise ValueError(f"unknown objective {mode!r}; expected one of {', '.join(OBJECTIVES)}")


def _expression(model: core.CoreModel, name: str):
    return {
        "weighted_lateness": model.weighted_lateness,
        "weighted_finish": model.weighted_finish,
        "makespan": model.makespan,
        "weighted_on_time": model.weighted_on_time,
    }[name]()


def _trivial_bound(model: core.CoreModel, name: str) -> int:
    """A bound for a stage that was not solved (integer weights, as in the model)."""
    pairs = [(g, b) for g, b in zip(model.problem.groups, model.group_bounds) if g.members]
    if name == "weighted_lateness":
        return sum(g.weight * max(0, lo - g.due) for g, (lo, _) in pairs)
    if name == "weighted_finish":
        return sum(g.weight * lo for g, (lo, _) in pairs)
    if name == "makespan":
        return model.makespan_lower_bound()
    return sum(g.weight for g, (lo, _) in pairs if lo <= g.due)


def solve(portfolio: Portfolio, settings: Settings, *, time_limit: float | None = None, workers: int | None = None,
          seed: int = SEED, params: dict | None = None, tidy: bool = True, tighten: bool = True,
          model_options: dict | None = None, deterministic_time: float | None = None) -> Plan:
    """Plan the portfolio under the scenario's settings; raise ``Infeasible`` when no plan fits.

    The search is bounded by ``deterministic_time`` (CP-SAT's work measure), so the plan is a function of the
    data, the scenario and these settings alone; ``time_limit`` (wall-clock seconds) is a safety net that marks
    the plan not reproducible when it stops the search first. ``time_limit``, ``deterministic_time`` and
    ``workers`` override the scenario's; ``params`` are extra CP-SAT parameters and ``model_options`` fields of
    ``core.ModelOptions`` (for measuring model ideas, see BENCHMARKS.md).
    """
    opt = settings.optimize
    time_limit = float(opt.time_limit_s if time_limit is None else time_limit)
    deterministic_time = float(opt.deterministic_time if deterministic_time is None else deterministic_time)
    workers = int(opt.workers if workers is None else workers)
    params = {**DEFAULT_PARAMS, **(params or {})}
    t0 = time.perf_counter()
    stage_names = stages_for(opt.objective)

    network = build_network(portfolio, settings.status_date, settings.deadline)
    durations = estimate_durations(portfolio, settings)
    built = build(portfolio, settings, network, durations)
    problem = built.problem
    explainer = Explainer(portfolio, settings, network, built)
    reasons = explainer.direct()
    if reasons:
        raise Infeasible("No plan fits the scenario:\n" + "\n".join(f"- {r}" for r in reasons))

    first, first_sense = stage_names[0]
    work = hint_work(time_limit, deterministic_time)
    hint = portfolio_hint(problem, first, first_sense, work)
    if hint is not None and tighten:
        problem = dataclasses.replace(problem, group_latest=latest_ends(problem, hint, opt.objective))
    model = core.CoreModel(problem, core.ModelOptions(**(model_options or {})))
    exprs = [(name, _expression(model, name), sense) for name, sense in stage_names]
    left = time_limit - (time.perf_counter() - t0)
    search = core.SolverOptions(max(left, 0.1), workers, seed, params, deterministic_time)
    result = core.solve_stages(model, exprs, search, hint=hint, stage_shares=[STAGE_SHARE] * len(exprs))
    if result.start is None and result.status != SolveStatus.INFEASIBLE and hint is not None and _keeps_due(problem, hint):
        result = dataclasses.replace(result, status=SolveStatus.FEASIBLE, stages=[], start=hint)  # the list schedule stands
    if result.start is None:
        if result.status == SolveStatus.INFEASIBLE:
            spent = time.perf_counter() - t0
            raise Infeasible(explainer.explain(dataclasses.replace(search, time_limit=max(2.0, time_limit - spent,
                                                                                          time_limit / 2))))
        if result.wall_clock_stop:
            raise NoPlanFound(
                f"No plan found within the wall-clock safety net of {time_limit:g} s (and no proof that none "
                "exists); try a longer --time-limit."
            )
        raise NoPlanFound(
            f"No plan found within the deterministic budget of {deterministic_time:g} (and no proof that none "
            "exists); try a larger --deterministic-time."
        )

    start = result.start.copy()
    d = np.asarray(problem.duration, dtype=np.int64)
    if tidy:
        start = left_shift(problem, start)
    end = start + d

    # stage reports in the planner's units (float priorities); values from the final plan
    values = objective_values(network, end)
    scale = built.weight_scale
    reports = []
    for k, (name, sense) in enumerate(stage_names):
        div = 1 if name == "makespan" else scale
        if k < len(result.stages):
            st = result.stages[k]
            reports.append(StageReport(name, sense, values[name], st.bound / div, st.optimal, st.seconds,
                                       st.deterministic_time))
        else:
            # no solver finished this stage: the model's own bound, which proves the stage only when met
            bound = _trivial_bound(model, name) / div
            reports.append(StageReport(name, sense, values[name], bound, abs(values[name] - bound) < 1e-9, 0.0))
    deciding = next((r for r in reports if not r.optimal), reports[-1])
    status = SolveStatus.OPTIMAL if all(r.optimal for r in reports) else SolveStatus.FEASIBLE
    notes = []
    if len(result.stages) < len(stage_names):
        notes.append(f"{len(stage_names) - len(result.stages)} of {len(stage_names)} objective stages not solved "
                     "within the time limit: their bounds come from the model (critical path and resource "
                     "energy), not from a search")
    if result.wall_clock_stop:
        notes.append(f"not reproducible: the wall-clock safety net ({time_limit:g} s) stopped the search before "
                     f"its deterministic budget ({deterministic_time:g}) was spent, so another run may give "
                     "another plan; raise --time-limit")
    if work.spent > work.limit:
        notes.append(f"the warm start (list scheduling) stopped at its work budget of {work.limit:,} placements, "
                     f"{HINT_SHARE:.0%} of the smaller of --time-limit and the deterministic budget"
                     + ("" if hint is not None else "; CP-SAT started without it"))
    if settings.stoppages:
        notes.append("stoppages of the scenario are not modelled by the optimizer (the simulator applies them)")
    plan = Plan(
        network=network,
        durations=durations,
        start=start,
        end=end,
        status=status,
        objective_name=deciding.name,
        objective=deciding.value,
        best_bound=deciding.bound,
        gap=deciding.gap,
        seconds=time.perf_counter() - t0,
        spend=spend_table(portfolio, network.status, start, end),
        stages=tuple(reports),
        objective_mode=opt.objective,
        hard_deadlines=bool(opt.hard_deadlines),
        notes=tuple(notes),
        deterministic_budget=deterministic_time,
        deterministic_time=result.deterministic_time,
        workers=workers,
        reproducible=not result.wall_clock_stop,
    )
    violations = check_plan(portfolio, settings, plan)
    if violations:
        raise PlanCheckError("the optimizer's plan fails the independent check:\n" + "\n".join(violations))
    return plan


def hint_work(time_limit: float, deterministic_time: float) -> Work:
    """The warm start's share of the smaller budget, as a count of placements (deterministic)."""
    return Work(int(HINT_PLACEMENTS_PER_SECOND * HINT_SHARE * min(time_limit, deterministic_time)))


def _keeps_due(problem: core.Problem, start: np.ndarray) -> bool:
    if not problem.hard_due:
        return True
    return all(max(int(start[i]) + problem.duration[i] for i in g.members) <= g.due for g in problem.groups if g.members)


def latest_ends(problem: core.Problem, hint: np.ndarray, mode: str) -> tuple[int, ...] | None:
    """Per project, a latest end that every optimal plan keeps, from a feasible plan (the hint).

    lateness: each project's weighted lateness is at most the hint's total, so
    E_p <= due_p + floor(total / w_p). makespan: every end is at most the hint's
    makespan. on_time: no bound (a late project may end anywhere).
    """
    if not _keeps_due(problem, hint):
        return None  # the hint breaks a hard deadline: not a plan
    v = group_values(problem, hint)
    if mode == "lateness":
        total = v["weighted_lateness"]
        return tuple(g.due + total // g.weight for g in problem.groups)
    if mode == "makespan":
        return tuple(v["makespan"] for _ in problem.groups)
    return None


def left_shift(problem: core.Problem, start: np.ndarray, max_rounds: int = 20) -> np.ndarray:
    """Move each free task to the earliest start that keeps every link, resource and budget; repeat to a fixpoint.

    Moving a task earlier never delays an end, so no objective gets worse, and
    links only bound a successor from below, so only the task's own incoming
    links need checking.
    """
    n = problem.n
    d = np.asarray(problem.duration, dtype=np.int64)
    start = start.astype(np.int64).copy()
    incoming: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
    for p, s, k, lag in problem.links:
        incoming[s].append((p, k, lag))
    horizon = int(max(start + d, default=0)) + 1
    caps = np.array([r.capacity for r in problem.resources], dtype=np.int64)
    use = np.zeros((len(problem.resources), max(horizon, 1)), dtype=np.int64)
    dem = np.array([r.demand for r in problem.resources], dtype=np.int64).reshape(len(problem.resources), n)
    for i in range(n):
        a, e = max(int(start[i]), 0), int(start[i] + d[i])
        if e > a:
            use[:, a:e] += dem[:, i][:, None]
    budget_of: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for b, bud in enumerate(problem.budgets):
        for i, rate in bud.rate:
            budget_of[i].append((b, rate))
    spent = np.zeros(len(problem.budgets), dtype=np.int64)

    def spend(i, s):
        for b, rate in budget_of[i]:
            bud = problem.budgets[b]
            overlap = min(s + d[i], bud.end) - max(s, bud.start)
            if overlap > 0:
                yield b, rate * overlap

    for i in range(n):
        for b, amount in spend(i, int(start[i])):
            spent[b] += amount
    order = core.order_of(problem)
    for _ in range(max_rounds):
        moved = False
        for i in order:
            if problem.fixed_start[i] is not None:
                continue
            lb = max(0, problem.release[i])
            for p, k, lag in incoming[i]:
                lb = max(lb, core.link_bound(k, int(start[p]), int(start[p] + d[p]), lag, int(d[i])))
            s0 = int(start[i])
            if lb >= s0:
                continue
            # take the task out, then find the earliest place in [lb, s0)
            if dem.shape[0]:
                use[:, s0:s0 + d[i]] -= dem[:, i][:, None]
            for b, amount in spend(i, s0):
                spent[b] -= amount
            best = s0
            for s in range(lb, s0):
                if dem.shape[0] and dem[:, i].any():
                    if (use[:, s:s + d[i]] + dem[:, i][:, None] > caps[:, None]).any():
                        continue
                if any(spent[b] + amount > problem.budgets[b].cap for b, amount in spend(i, s)):
                    continue
                best = s
                break
            if dem.shape[0]:
                use[:, best:best + d[i]] += dem[:, i][:, None]
            for b, amount in spend(i, best):
                spent[b] += amount
            if best != s0:
                start[i] = best
                moved = True
        if not moved:
            break
    return start
