"""The integer problem the model core solves, and the bounds that follow from it alone (no CP-SAT).

A ``Problem`` is plain integer data: tasks on a whole-unit time grid (months for
portfolios, periods for PSPLIB) with durations, release dates, starts fixed in
advance, generalised precedence links with lags, renewable resources
(cumulative), budgets (money per time window) and groups (projects) with a due
date and a weight. The bounds (earliest and latest starts, energy heads, FS
closures) narrow the variables' domains (optimize/variables.py) and feed the
heuristics.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portfolio.graph import topological_order
from portfolio.links import LinkKind

FS, SS, FF, SF = LinkKind.FS, LinkKind.SS, LinkKind.FF, LinkKind.SF  # codes of the one definition


@dataclass(frozen=True)
class Resource:
    name: str
    capacity: int
    demand: tuple[int, ...]  # per task; 0 = not used


@dataclass(frozen=True)
class Budget:
    """Money available to the listed tasks inside the time window [start, end) (start >= 0)."""

    name: str
    start: int
    end: int
    cap: int  # money units
    rate: tuple[tuple[int, int], ...]  # (task, money units per time unit while it runs)


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[int, ...]
    due: int  # the group is on time when all members end by t = due
    weight: int  # positive integer


@dataclass(frozen=True)
class Problem:
    duration: tuple[int, ...]
    release: tuple[int, ...]  # earliest start of tasks that are free
    fixed_start: tuple[int | None, ...]  # start fixed in advance (started, forced); None = free
    links: tuple[tuple[int, int, int, int], ...]  # (pred, succ, kind, lag)
    resources: tuple[Resource, ...] = ()
    budgets: tuple[Budget, ...] = ()
    groups: tuple[Group, ...] = ()
    horizon: int = 0  # every task ends by then
    hard_due: bool = False
    group_latest: tuple[int, ...] | None = None  # per group: a latest end known to keep every optimal plan

    def latest_end(self) -> list[int]:
        """Per task: the latest end allowed by the horizon, hard due dates and ``group_latest``."""
        latest = [self.horizon] * self.n
        for k, g in enumerate(self.groups):
            cap = self.horizon
            if self.hard_due:
                cap = min(cap, g.due)
            if self.group_latest is not None:
                cap = min(cap, self.group_latest[k])
            for i in g.members:
                latest[i] = min(latest[i], cap)
        return latest

    @property
    def n(self) -> int:
        return len(self.duration)


# ----------------------------------------------------------------------------- bounds


def link_bound(kind: int, s_i: int, e_i: int, lag: int, d_j: int) -> int:
    """Earliest start of the successor (duration d_j) allowed by one link."""
    if kind == FS:
        return e_i + lag
    if kind == SS:
        return s_i + lag
    if kind == FF:
        return e_i + lag - d_j
    return s_i + lag - d_j


def order_of(problem: Problem) -> list[int]:
    order = topological_order(problem.n, [(p, s) for p, s, _, _ in problem.links])
    if order is None:
        raise ValueError("the links form a cycle")
    return order


def early_starts(problem: Problem, order: list[int] | None = None) -> np.ndarray:
    """Longest-path early starts from release dates, fixed starts and links (no resources, no money)."""
    order = order if order is not None else order_of(problem)
    incoming: list[list[tuple[int, int, int]]] = [[] for _ in range(problem.n)]
    for p, s, k, lag in problem.links:
        incoming[s].append((p, k, lag))
    es = np.zeros(problem.n, dtype=np.int64)
    d = problem.duration
    for j in order:
        if problem.fixed_start[j] is not None:
            es[j] = problem.fixed_start[j]
            continue
        start = problem.release[j]
        for p, k, lag in incoming[j]:
            start = max(start, link_bound(k, int(es[p]), int(es[p]) + d[p], lag, d[j]))
        es[j] = start
    return es


def late_starts(problem: Problem, horizon: int, order: list[int] | None = None, latest_end=None) -> np.ndarray:
    """Latest starts such that every task ends by ``horizon`` (or its ``latest_end``) and all links hold.

    Fixed tasks stay put.
    """
    order = order if order is not None else order_of(problem)
    if latest_end is None:
        latest_end = [horizon] * problem.n
    outgoing: list[list[tuple[int, int, int]]] = [[] for _ in range(problem.n)]
    for p, s, k, lag in problem.links:
        outgoing[p].append((s, k, lag))
    d = problem.duration
    ls = np.zeros(problem.n, dtype=np.int64)
    for i in reversed(order):
        if problem.fixed_start[i] is not None:
            ls[i] = problem.fixed_start[i]
            continue
        latest = min(horizon, latest_end[i]) - d[i]
        for j, k, lag in outgoing[i]:
            if k == FS:
                latest = min(latest, ls[j] - lag - d[i])
            elif k == SS:
                latest = min(latest, ls[j] - lag)
            elif k == FF:
                latest = min(latest, ls[j] + d[j] - lag - d[i])
            else:
                latest = min(latest, ls[j] + d[j] - lag)
        ls[i] = latest
    return ls


def fs_closure(problem: Problem, order: list[int], forward: bool) -> list[int]:
    """Per task, a bitset of the tasks reachable through FS links with lag >= 0 (successors or predecessors)."""
    nxt: list[list[int]] = [[] for _ in range(problem.n)]
    for p, s, k, lag in problem.links:
        if k == FS and lag >= 0:
            if forward:
                nxt[p].append(s)
            else:
                nxt[s].append(p)
    reach = [0] * problem.n
    for i in (reversed(order) if forward else order):
        bits = 0
        for j in nxt[i]:
            bits |= reach[j] | (1 << j)
        reach[i] = bits
    return reach


def bit_members(bits: int) -> list[int]:
    out, k = [], 0
    while bits:
        if bits & 1:
            out.append(k)
        bits >>= 1
        k += 1
    return out


def energy_heads(problem: Problem, order: list[int], es: np.ndarray) -> np.ndarray:
    """Lower bounds on starts: all FS-ancestors of a task must be processed before it starts.

    s_t >= min(es of ancestors) + ceil(sum of their duration * demand / capacity), per resource.
    """
    heads = es.copy()
    if not problem.resources:
        return heads
    anc = fs_closure(problem, order, forward=False)
    d = np.asarray(problem.duration, dtype=np.int64)
    for t in range(problem.n):
        if problem.fixed_start[t] is not None or not anc[t]:
            continue
        members = bit_members(anc[t])
        if any(problem.fixed_start[j] is not None for j in members):
            continue  # fixed tasks may already be running: keep it simple
        lo = int(min(es[j] for j in members))
        for res in problem.resources:
            energy = sum(int(d[j]) * res.demand[j] for j in members)
            if energy and res.capacity > 0:
                heads[t] = max(heads[t], lo + -(-energy // res.capacity))
    return heads

