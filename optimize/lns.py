"""Large-neighbourhood search (LNS) around the CP-SAT model core, for the makespan of PSPLIB instances.

With one worker CP-SAT runs a single tree search, which on 120 jobs with scarce
resources stalls far above the best known makespans. LNS instead re-solves many
small subproblems of the same model (cloned, 0.1 s each) in which most of the
current schedule is kept and a neighbourhood is free:

- time window: the jobs starting in a random window of consecutive starts are
  free; jobs starting before it stay where they are, jobs starting after it
  keep their places relative to each other but may move earlier together;
- random jobs: a random set of jobs is free; every other job keeps its
  sequence on each resource it uses (partial-order schedule), so they can
  still close gaps.

A shorter makespan, or the same with a smaller sum of starts, replaces the
current schedule. The neighbourhood grows while CP-SAT proves the subproblems
and shrinks when it runs out of time. A seeded generator makes runs repeatable
up to the wall-clock limits. Measured in BENCHMARKS.md (PSPLIB).
"""
from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from . import core


def window(rng, start: np.ndarray, n_free: int):
    """(free, before, after): the jobs starting in the window [a, b] spanned by ``n_free`` jobs consecutive in
    start order (more when starts tie), and the jobs starting before and after it."""
    order = np.argsort(start, kind="stable")
    k0 = int(rng.integers(0, max(1, len(order) - n_free + 1)))
    a, b = start[order[k0:k0 + n_free]].min(), start[order[k0:k0 + n_free]].max()
    return np.flatnonzero((start >= a) & (start <= b)), np.flatnonzero(start < a), np.flatnonzero(start > b)


def resource_arcs(demand: np.ndarray, start: np.ndarray, end: np.ndarray, keep: np.ndarray) -> set[tuple[int, int]]:
    """Arcs (a, b) = "b starts after a ends" that keep the sequence of the jobs ``keep``: per job and
    resource it uses, the kept job on that resource that ends last before the job starts."""
    arcs = set()
    for k in range(demand.shape[0]):
        users = keep[demand[k, keep] > 0]
        for j in users:
            earlier = users[end[users] <= start[j]]
            if len(earlier):
                arcs.add((int(earlier[np.argmax(end[earlier])]), int(j)))
    return arcs


def improve(problem: core.Problem, start: np.ndarray, deadline: float, seed: int = 0,
            sub_time: float = 0.1, params: dict | None = None, min_free: int = 15, max_free: int = 40,
            stall: int | None = None, lower: int = 0) -> tuple[np.ndarray, int]:
    """The best schedule LNS finds from ``start`` until ``deadline`` (a ``time.perf_counter`` value).

    Stops early at makespan ``lower`` or after ``stall`` subproblems without a
    shorter makespan. Returns (start, number of subproblems).
    """
    rng = np.random.default_rng(seed)
    n = problem.n
    demand = np.array([r.demand for r in problem.resources], dtype=np.int64).reshape(len(problem.resources), n)
    d = np.asarray(problem.duration, dtype=np.int64)
    best = np.asarray(start, dtype=np.int64).copy()
    best_ms = int((best + d).max())
    base = core.CoreModel(problem, core.ModelOptions(upper_bound=best_ms))
    makespan = base.makespan()
    size, iters, last = min_free, 0, 0
    while time.perf_counter() + 0.02 < deadline and best_ms > lower:
        if stall is not None and iters - last >= stall:
            break
        iters += 1
        n_free = int(min(n, size))
        sub = base.model.clone()
        s = [sub.get_int_var_from_proto_index(v.index) for v in base.start]
        mk = sub.get_int_var_from_proto_index(makespan.index)
        sub.add(mk <= best_ms)
        if rng.random() < 0.5:
            _, before, after = window(rng, best, n_free)
            for j in before:
                sub.add(s[j] == int(best[j]))
            if len(after):
                delta = sub.new_int_var(0, best_ms, "delta")
                for j in after:
                    sub.add(s[j] == int(best[j]) - delta)
        else:
            free = rng.choice(n, size=n_free, replace=False)
            for a, b in resource_arcs(demand, best, best + d, np.setdiff1d(np.arange(n), free)):
                sub.add(s[b] >= s[a] + int(d[a]))
        sub.minimize(mk)
        for var, value in zip(s, best):
            sub.add_hint(var, int(value))
        left = deadline - time.perf_counter()
        solver = core.make_solver(min(sub_time, max(left, 0.01)), 1, int(rng.integers(1 << 30)), params)
        status = solver.solve(sub)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        cand = np.array([solver.value(v) for v in s], dtype=np.int64)
        ms = int((cand + d).max())
        if ms < best_ms:
            last = iters
        if (ms, int(cand.sum())) < (best_ms, int(best.sum())):
            best, best_ms = cand, ms
        size = min(max_free, size + 1) if status == cp_model.OPTIMAL else max(min_free, size - 1)
    return best, iters
