"""The model core's variables (after PyJobShop's split of its CP-SAT model): each task's start domain, its
start, end and interval variables, the auxiliary variables the budgets need, and the search order.

Each function takes the ``CoreModel`` being built (optimize/core.py) and adds to it; the order of the calls
there is the order of the CP-SAT model, which the plan depends on.
"""
from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from .tasks import early_starts, energy_heads, late_starts, order_of


def add_tasks(core) -> None:
    """Start domains (critical path, energy heads, hard due dates, the horizon); start, end and interval per task."""
    problem = core.problem
    opt = core.options
    m = core.model
    n = problem.n
    d = problem.duration
    core.order = order_of(problem)
    es = early_starts(problem, core.order)
    if opt.energy_heads:
        es = energy_heads(problem, core.order, es)
    core.es = es
    horizon = problem.horizon
    if opt.upper_bound is not None:
        horizon = min(horizon, opt.upper_bound)
    core.horizon = horizon
    latest_end = problem.latest_end() if (opt.tight_domains and not opt.due_slack) else None
    ls = late_starts(problem, horizon, core.order, latest_end)
    core.ls = np.maximum(ls, es)

    core.start: list[cp_model.IntVar] = []
    core.end: list[cp_model.IntVar] = []
    core.interval = []
    core.lo: list[int] = []  # start domain per task
    core.hi: list[int] = []
    for i in range(n):
        if problem.fixed_start[i] is not None:
            lo = hi = problem.fixed_start[i]
        else:
            lo, hi = int(es[i]), int(core.ls[i])
        core.lo.append(lo)
        core.hi.append(hi)
        s = m.new_int_var(lo, hi, f"s{i}")
        e = m.new_int_var(lo + d[i], hi + d[i], f"e{i}")
        core.start.append(s)
        core.end.append(e)
        core.interval.append(m.new_interval_var(s, d[i], e, f"x{i}"))
    core._worked: dict[tuple[int, int], object] = {}  # worked_before's variables, by (task, boundary)
    core._x: dict[int, tuple] = {}  # time_indexed's literals, by task


def add_search(core) -> None:
    """``search = "settimes"``: branch on the free task with the smallest earliest start, at that start."""
    problem = core.problem
    if core.options.search == "settimes":
        free = [core.start[i] for i in range(problem.n) if problem.fixed_start[i] is None]
        core.model.add_decision_strategy(free, cp_model.CHOOSE_LOWEST_MIN, cp_model.SELECT_MIN_VALUE)


def worked_before(core, i: int, boundary: int):
    """Time units task i has worked before ``boundary``: clamp(boundary - start, 0, d) (int or var)."""
    key = (i, boundary)
    if key in core._worked:
        return core._worked[key]
    d = core.problem.duration[i]
    lo, hi = core.lo[i], core.hi[i]
    low = min(max(boundary - hi, 0), d)
    high = min(max(boundary - lo, 0), d)
    if low == high:
        value = low
    else:
        m = core.model
        value = m.new_int_var(low, high, f"w{i}_{boundary}")
        if boundary - lo <= d:  # never more than d: w = max(0, boundary - s)
            m.add_max_equality(value, [0, boundary - core.start[i]])
        elif boundary - hi >= 0:  # never below 0: w = min(d, boundary - s)
            m.add_min_equality(value, [d, boundary - core.start[i]])
        else:
            u = m.new_int_var(0, boundary - lo, f"u{i}_{boundary}")
            m.add_max_equality(u, [0, boundary - core.start[i]])
            m.add_min_equality(value, [d, u])
    core._worked[key] = value
    return value


def time_indexed(core, i: int, last: int):
    """Literals x[t] = (start_i == t) for t in [lo, min(hi, last)], and one for start > last (or None)."""
    if i in core._x:
        return core._x[i]
    m = core.model
    lo, hi = core.lo[i], core.hi[i]
    top = min(hi, last)
    lits = {t: m.new_bool_var(f"x{i}_{t}") for t in range(lo, top + 1)}
    beyond = m.new_bool_var(f"x{i}_late") if hi > top else None
    s = core.start[i]
    for t, x in lits.items():
        m.add(s == t).only_enforce_if(x)
    if beyond is not None:
        m.add(s >= top + 1).only_enforce_if(beyond)
    m.add_exactly_one(list(lits.values()) + ([beyond] if beyond is not None else []))
    # the same link in linear form, for the LP relaxation
    base = sum(t * x for t, x in lits.items())
    if beyond is not None:
        m.add(s >= base + (top + 1) * beyond)
        m.add(s <= base + hi * beyond)
    else:
        m.add(s == base)
    core._x[i] = (lits, beyond)
    return core._x[i]
