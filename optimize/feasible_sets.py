"""Sets of jobs that can run at once, and the lower bound and redundant resource they give (RCPSP).

At any moment the jobs in progress form a *feasible set*: no two of them linked
by a chain of precedences, and together within every resource capacity. If
weights w >= 0 give every feasible set a total weight of at most 1, then the
jobs in progress never weigh more than 1, so

* sum of w_j * d_j is a lower bound on the makespan;
* a cumulative constraint with demands w and capacity 1 is redundant but valid
  (``psplib.Options.set_resource``; off by default: it speeds some proofs and
  slows others, BENCHMARKS.md).

The best weights solve the linear program max sum w_j d_j subject to w(S) <= 1
for every feasible set S: the dual of Mingozzi et al.'s bound (cover every job's
duration by feasible sets running one after the other). Where resources are
scarce, few jobs fit together and the sets are few; where they are plentiful the
sets are many, and the bound is weak anyway, so enumeration stops at a limit.
"""
from __future__ import annotations

from dataclasses import dataclass

from ortools.linear_solver import pywraplp

from . import core

SCALE = 1000  # weights are integers out of this capacity


@dataclass(frozen=True)
class SetWeights:
    weight: tuple[int, ...]  # per job, out of SCALE; 0 for jobs without duration
    lower_bound: int  # ceil(sum weight * duration / SCALE)


def feasible_sets(problem: core.Problem, limit: int = 5000) -> list[int] | None:
    """Every non-empty feasible set of the tasks with a duration (bit masks), or None beyond ``limit`` sets.

    Precedences are the FS links of ``problem`` (as in PSPLIB), resources its cumulative resources."""
    order = core.order_of(problem)
    after, before = core.fs_closure(problem, order, True), core.fs_closure(problem, order, False)
    related = [a | b for a, b in zip(after, before)]
    capacity = [r.capacity for r in problem.resources]
    demand = [[r.demand[j] for r in problem.resources] for j in range(problem.n)]
    k = len(capacity)
    out: list[int] = []

    def grow(candidates: list[int], members: int, used: list[int]) -> bool:
        for a, j in enumerate(candidates):
            load = [used[r] + demand[j][r] for r in range(k)]
            if any(load[r] > capacity[r] for r in range(k)):
                continue
            mask = members | (1 << j)
            out.append(mask)
            if len(out) > limit:
                return False
            rest = [c for c in candidates[a + 1:] if not related[j] >> c & 1]
            if rest and not grow(rest, mask, load):
                return False
        return True

    if not grow([j for j in range(problem.n) if problem.duration[j] > 0], 0, [0] * k):
        return None
    return out


def set_weights(problem: core.Problem, limit: int = 5000) -> SetWeights | None:
    """The LP-optimal weights (rounded down to integers out of SCALE), or None when the sets are too many."""
    sets = feasible_sets(problem, limit)
    if sets is None:
        return None
    duration = problem.duration
    jobs = [j for j in range(problem.n) if duration[j] > 0]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    w = {j: solver.NumVar(0.0, 1.0, f"w{j}") for j in jobs}
    members = [core.bit_members(s) for s in sets]
    for m in members:
        row = solver.Constraint(-solver.infinity(), 1.0)
        for j in m:
            row.SetCoefficient(w[j], 1.0)
    objective = solver.Objective()
    for j in jobs:
        objective.SetCoefficient(w[j], float(duration[j]))
    objective.SetMaximization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    weight = [0] * problem.n
    for j in jobs:
        weight[j] = max(0, int(w[j].solution_value() * SCALE + 1e-6))
    # The LP holds its rows to a tolerance; make them hold exactly in integers.
    for m in members:
        excess = sum(weight[j] for j in m) - SCALE
        for j in sorted(m, key=lambda j: -weight[j]):
            if excess <= 0:
                break
            cut = min(excess, weight[j])
            weight[j] -= cut
            excess -= cut
    energy = sum(weight[j] * duration[j] for j in jobs)
    return SetWeights(tuple(weight), -(-energy // SCALE))

