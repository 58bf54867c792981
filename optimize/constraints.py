"""The model core's constraints (after PyJobShop's split of its CP-SAT model): links, resources (with the
optional pair delays), budgets and groups (projects: their ends, energy tails and hard due dates).

Each function takes the ``CoreModel`` being built (optimize/core.py) and adds to it; the order of the calls
there is the order of the CP-SAT model, which the plan depends on.
"""
from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from .tasks import FF, FS, SS, Budget, bit_members, fs_closure
from .variables import time_indexed, worked_before


def add_links(core) -> None:
    """FS start_j >= end_i + L, SS start_j >= start_i + L, FF end_j >= end_i + L, SF end_j >= start_i + L."""
    m = core.model
    for p, s, k, lag in core.problem.links:
        if k == FS:
            m.add(core.start[s] >= core.end[p] + lag)
        elif k == SS:
            m.add(core.start[s] >= core.start[p] + lag)
        elif k == FF:
            m.add(core.end[s] >= core.end[p] + lag)
        else:
            m.add(core.end[s] >= core.start[p] + lag)


def add_resources(core) -> None:
    m, p = core.model, core.problem
    for res in p.resources:
        intervals, demands = [], []
        for i, q in enumerate(res.demand):
            if q <= 0 or p.duration[i] <= 0:
                continue
            if p.fixed_start[i] is not None and p.fixed_start[i] < 0:
                end = p.fixed_start[i] + p.duration[i]
                if end <= 0:
                    continue
                intervals.append(m.new_fixed_size_interval_var(0, end, f"h{i}"))
            else:
                intervals.append(core.interval[i])
            demands.append(q)
        if intervals:
            m.add_cumulative(intervals, demands, res.capacity)


def add_pair_delays(core) -> None:
    """Redundant precedences with delays: for i before j (FS chains, lag >= 0), every task between them
    runs inside [end_i, start_j], so start_j - end_i >= max(longest path between them, energy / capacity)."""
    p, m = core.problem, core.model
    succ = fs_closure(p, core.order, forward=True)
    pred = fs_closure(p, core.order, forward=False)
    d = p.duration
    # longest FS path delays between pairs (durations of the tasks strictly between)
    core.pair_delay: dict[tuple[int, int], int] = {}
    for i in range(p.n):
        if p.fixed_start[i] is not None:
            continue
        for j in bit_members(succ[i]):
            if p.fixed_start[j] is not None:
                continue
            between = bit_members(succ[i] & pred[j])
            if not between:
                continue
            best = 0
            for res in p.resources:
                energy = sum(d[k] * res.demand[k] for k in between)
                if energy and res.capacity > 0:
                    best = max(best, -(-energy // res.capacity))
            # only worth adding when it says more than the chain of links does
            chain = int(es_between(core, i, j))
            if best > chain:
                m.add(core.start[j] >= core.end[i] + best)
                core.pair_delay[(i, j)] = best


def es_between(core, i: int, j: int) -> int:
    """Longest chain of durations strictly between i and j (FS links), i.e. start_j - end_i implied by links."""
    if not hasattr(core, "_dist_from"):
        core._dist_from = {}
    if i not in core._dist_from:
        p = core.problem
        out: dict[int, list[int]] = {}
        for a, b, k, lag in p.links:
            if k == FS and lag >= 0:
                out.setdefault(a, []).append((b, lag))
        best = np.full(p.n, -1, dtype=np.int64)
        best[i] = p.duration[i]  # end of i relative to start of i
        for v in core.order:
            if best[v] < 0:
                continue
            for w, lag in out.get(v, ()):
                best[w] = max(best[w], best[v] + lag + (p.duration[w] if w != i else 0))
        core._dist_from[i] = best
    best = core._dist_from[i]
    # best[j] = longest (end_i .. end_j) measured from start_i; start_j - end_i >= best[j] - d_j - d_i
    return int(best[j] - core.problem.duration[j] - core.problem.duration[i])


def months_in(core, i: int, b: Budget, s: int) -> int:
    """Time units of task i (started at s) inside the window of budget b."""
    return max(0, min(s + core.problem.duration[i], b.end) - max(s, b.start))


def add_budgets(core) -> None:
    m = core.model
    p = core.problem
    last = max((b.end for b in p.budgets), default=0)
    for b in p.budgets:
        terms, constant = [], 0
        for i, rate in b.rate:
            if rate <= 0:
                continue
            lo, hi = core.lo[i], core.hi[i]
            if lo == hi:
                constant += rate * months_in(core, i, b, lo)
                continue
            if core.options.funding_encoding == "time":
                # months in the window as a function of the start in [lo, top]; zero for starts after every window
                # and for starts that put no month in this one, so only the starts in (start - d, end) are visited
                # (not every start for every budget: that grew as tasks x budgets x horizon)
                top = min(hi, last)
                z_lo, z_hi = max(lo, b.start - p.duration[i] + 1), min(top, b.end - 1)
                values = {t: months_in(core, i, b, t) for t in range(z_lo, z_hi + 1)}
                if lo > top:
                    same = None  # no start before the last window: the literals say "after it"
                elif (z_lo, z_hi) == (lo, top):
                    same = values[lo] if len(set(values.values())) == 1 else None
                else:
                    same = None if any(values.values()) else 0  # zero somewhere, so all zero or not the same
                if same is not None and (hi <= last or same == 0):
                    constant += rate * same
                    continue
                lits, beyond = time_indexed(core, i, last)
                terms.extend(rate * months * lits[t] for t, months in values.items() if months)
                continue
            w_hi = worked_before(core, i, b.end)
            w_lo = worked_before(core, i, b.start)
            for value, sign in ((w_hi, 1), (w_lo, -1)):
                if isinstance(value, int):
                    constant += sign * rate * value
                else:
                    terms.append(sign * rate * value)
        expr = sum(terms) + constant
        if core.options.cap_slack:
            total = sum(rate * p.duration[i] for i, rate in b.rate)
            slack = m.new_int_var(0, max(0, total + abs(constant)), f"slack_{b.name}")
            core.slack[b.name] = slack
            m.add(expr <= b.cap + slack)
        elif terms:
            m.add(expr <= b.cap)
        elif constant > b.cap:
            m.add_bool_or([])  # committed spend alone breaks the cap


def add_groups(core) -> None:
    m, p = core.model, core.problem
    core.group_end = []
    core.group_bounds: list[tuple[int, int]] = []
    core.due_slack: dict[str, cp_model.IntVar] = {}
    d = np.asarray(p.duration, dtype=np.int64)
    tails = None
    if core.options.energy_tails and p.resources:
        tails = fs_closure(p, core.order, forward=True)
    for g in p.groups:
        lo = max(int(core.es[i]) + p.duration[i] for i in g.members) if g.members else 0
        hi = max(int(core.ls[i]) + p.duration[i] for i in g.members) if g.members else 0
        end = m.new_int_var(lo, max(lo, hi), f"E_{g.name}")
        core.group_bounds.append((lo, max(lo, hi)))
        for i in g.members:
            m.add(end >= core.end[i])
        if tails is not None:
            group_bits = 0
            for i in g.members:
                group_bits |= 1 << i
            for t in g.members:
                succ = bit_members(tails[t] & group_bits)
                if not succ:
                    continue
                best = 0
                for res in p.resources:
                    energy = sum(int(d[j]) * res.demand[j] for j in succ)
                    if energy and res.capacity > 0:
                        best = max(best, -(-energy // res.capacity))
                if best > 0:
                    m.add(end >= core.end[t] + best)
        if p.hard_due:
            if core.options.due_slack:
                slack = m.new_int_var(0, max(0, core.horizon - g.due), f"late_{g.name}")
                core.due_slack[g.name] = slack
                m.add(end <= g.due + slack)
            else:
                m.add(end <= g.due)
        core.group_end.append(end)
