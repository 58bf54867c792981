"""The CP-SAT model core shared by the portfolio scheduler and the PSPLIB solver.

A ``Problem`` is plain integer data: tasks on a whole-unit time grid (months for
portfolios, periods for PSPLIB) with durations, release dates, starts fixed in
advance, generalised precedence links with lags, renewable resources
(cumulative), budgets (money per time window) and groups (projects) with a due
date and a weight. ``CoreModel`` turns it into a CP-SAT model; ``solve_stages``
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
from portfolio.graph import topological_order
from portfolio.links import LinkKind

from .status import SolveStatus

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
    """A CP-SAT model of a ``Problem``: start/end variables, links, resources, budgets, groups."""

    def __init__(self, problem: Problem, options: ModelOptions | None = None):
        self.problem = problem
        self.options = options or ModelOptions()
        opt = self.options
        m = self.model = cp_model.CpModel()
        n = problem.n
        d = problem.duration
        self.order = order_of(problem)
        es = early_starts(problem, self.order)
        if opt.energy_heads:
            es = energy_heads(problem, self.order, es)
        self.es = es
        horizon = problem.horizon
        if opt.upper_bound is not None:
            horizon = min(horizon, opt.upper_bound)
        self.horizon = horizon
        latest_end = problem.latest_end() if (opt.tight_domains and not opt.due_slack) else None
        ls = late_starts(problem, horizon, self.order, latest_end)
        self.ls = np.maximum(ls, es)

        self.start: list[cp_model.IntVar] = []
        self.end: list[cp_model.IntVar] = []
        self.interval = []
        self.lo: list[int] = []  # start domain per task
        self.hi: list[int] = []
        for i in range(n):
            if problem.fixed_start[i] is not None:
                lo = hi = problem.fixed_start[i]
            else:
                lo, hi = int(es[i]), int(self.ls[i])
            self.lo.append(lo)
            self.hi.append(hi)
            s = m.new_int_var(lo, hi, f"s{i}")
            e = m.new_int_var(lo + d[i], hi + d[i], f"e{i}")
            self.start.append(s)
            self.end.append(e)
            self.interval.append(m.new_interval_var(s, d[i], e, f"x{i}"))

        for p, s, k, lag in problem.links:
            if k == FS:
                m.add(self.start[s] >= self.end[p] + lag)
            elif k == SS:
                m.add(self.start[s] >= self.start[p] + lag)
            elif k == FF:
                m.add(self.end[s] >= self.end[p] + lag)
            else:
                m.add(self.end[s] >= self.start[p] + lag)

        self._add_resources()
        if opt.pair_delays and problem.resources:
            self._add_pair_delays()
        if opt.search == "settimes":
            free = [self.start[i] for i in range(n) if problem.fixed_start[i] is None]
            m.add_decision_strategy(free, cp_model.CHOOSE_LOWEST_MIN, cp_model.SELECT_MIN_VALUE)
        self.slack: dict[str, cp_model.IntVar] = {}
        self._add_budgets()
        self._add_groups()

    # -- resources

    def _add_resources(self) -> None:
        m, p = self.model, self.problem
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
                    intervals.append(self.interval[i])
                demands.append(q)
            if intervals:
                m.add_cumulative(intervals, demands, res.capacity)

    def _add_pair_delays(self) -> None:
        """Redundant precedences with delays: for i before j (FS chains, lag >= 0), every task between them
        runs inside [end_i, start_j], so start_j - end_i >= max(longest path between them, energy / capacity)."""
        p, m = self.problem, self.model
        succ = fs_closure(p, self.order, forward=True)
        pred = fs_closure(p, self.order, forward=False)
        d = p.duration
        # longest FS path delays between pairs (durations of the tasks strictly between)
        self.pair_delay: dict[tuple[int, int], int] = {}
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
                chain = int(self.es_between(i, j))
                if best > chain:
                    m.add(self.start[j] >= self.end[i] + best)
                    self.pair_delay[(i, j)] = best

    def es_between(self, i: int, j: int) -> int:
        """Longest chain of durations strictly between i and j (FS links), i.e. start_j - end_i implied by links."""
        if not hasattr(self, "_dist_from"):
            self._dist_from = {}
        if i not in self._dist_from:
            p = self.problem
            out: dict[int, list[int]] = {}
            for a, b, k, lag in p.links:
                if k == FS and lag >= 0:
                    out.setdefault(a, []).append((b, lag))
            best = np.full(p.n, -1, dtype=np.int64)
            best[i] = p.duration[i]  # end of i relative to start of i
            for v in self.order:
                if best[v] < 0:
                    continue
                for w, lag in out.get(v, ()):
                    best[w] = max(best[w], best[v] + lag + (p.duration[w] if w != i else 0))
            self._dist_from[i] = best
        best = self._dist_from[i]
        # best[j] = longest (end_i .. end_j) measured from start_i; start_j - end_i >= best[j] - d_j - d_i
        return int(best[j] - self.problem.duration[j] - self.problem.duration[i])

    # -- budgets

    def worked_before(self, i: int, boundary: int):
        """Time units task i has worked before ``boundary``: clamp(boundary - start, 0, d) (int or var)."""
        key = (i, boundary)
        if key in self._worked:
            return self._worked[key]
        d = self.problem.duration[i]
        lo, hi = self.lo[i], self.hi[i]
        low = min(max(boundary - hi, 0), d)
        high = min(max(boundary - lo, 0), d)
        if low == high:
            value = low
        else:
            m = self.model
            value = m.new_int_var(low, high, f"w{i}_{boundary}")
            if boundary - lo <= d:  # never more than d: w = max(0, boundary - s)
                m.add_max_equality(value, [0, boundary - self.start[i]])
            elif boundary - hi >= 0:  # never below 0: w = min(d, boundary - s)
                m.add_min_equality(value, [d, boundary - self.start[i]])
            else:
                u = m.new_int_var(0, boundary - lo, f"u{i}_{boundary}")
                m.add_max_equality(u, [0, boundary - self.start[i]])
                m.add_min_equality(value, [d, u])
        self._worked[key] = value
        return value

    def _months_in(self, i: int, b: Budget, s: int) -> int:
        """Time units of task i (started at s) inside the window of budget b."""
        return max(0, min(s + self.problem.duration[i], b.end) - max(s, b.start))

    def _time_indexed(self, i: int, last: int):
        """Literals x[t] = (start_i == t) for t in [lo, min(hi, last)], and one for start > last (or None)."""
        if i in self._x:
            return self._x[i]
        m = self.model
        lo, hi = self.lo[i], self.hi[i]
        top = min(hi, last)
        lits = {t: m.new_bool_var(f"x{i}_{t}") for t in range(lo, top + 1)}
        beyond = m.new_bool_var(f"x{i}_late") if hi > top else None
        s = self.start[i]
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
        self._x[i] = (lits, beyond)
        return self._x[i]

    def _add_budgets(self) -> None:
        self._worked: dict[tuple[int, int], object] = {}
        self._x: dict[int, tuple] = {}
        m = self.model
        p = self.problem
        last = max((b.end for b in p.budgets), default=0)
        for b in p.budgets:
            terms, constant = [], 0
            for i, rate in b.rate:
                if rate <= 0:
                    continue
                lo, hi = self.lo[i], self.hi[i]
                if lo == hi:
                    constant += rate * self._months_in(i, b, lo)
                    continue
                if self.options.funding_encoding == "time":
                    # months in the window as a function of the start; zero for starts after every window
                    values = {t: self._months_in(i, b, t) for t in range(lo, min(hi, last) + 1)}
                    if len(set(values.values())) == 1 and (hi <= last or next(iter(values.values())) == 0):
                        constant += rate * next(iter(values.values()))
                        continue
                    lits, beyond = self._time_indexed(i, last)
                    terms.extend(rate * months * lits[t] for t, months in values.items() if months)
                    continue
                w_hi = self.worked_before(i, b.end)
                w_lo = self.worked_before(i, b.start)
                for value, sign in ((w_hi, 1), (w_lo, -1)):
                    if isinstance(value, int):
                        constant += sign * rate * value
                    else:
                        terms.append(sign * rate * value)
            expr = sum(terms) + constant
            if self.options.cap_slack:
                total = sum(rate * p.duration[i] for i, rate in b.rate)
                slack = m.new_int_var(0, max(0, total + abs(constant)), f"slack_{b.name}")
                self.slack[b.name] = slack
                m.add(expr <= b.cap + slack)
            elif terms:
                m.add(expr <= b.cap)
            elif constant > b.cap:
                m.add_bool_or([])  # committed spend alone breaks the cap

    # -- groups

    def _add_groups(self) -> None:
        m, p = self.model, self.problem
        self.group_end = []
        self.group_bounds: list[tuple[int, int]] = []
        self.due_slack: dict[str, cp_model.IntVar] = {}
        d = np.asarray(p.duration, dtype=np.int64)
        tails = None
        if self.options.energy_tails and p.resources:
            tails = fs_closure(p, self.order, forward=True)
        for g in p.groups:
            lo = max(int(self.es[i]) + p.duration[i] for i in g.members) if g.members else 0
            hi = max(int(self.ls[i]) + p.duration[i] for i in g.members) if g.members else 0
            end = m.new_int_var(lo, max(lo, hi), f"E_{g.name}")
            self.group_bounds.append((lo, max(lo, hi)))
            for i in g.members:
                m.add(end >= self.end[i])
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
                        m.add(end >= self.end[t] + best)
            if p.hard_due:
                if self.options.due_slack:
                    slack = m.new_int_var(0, max(0, self.horizon - g.due), f"late_{g.name}")
                    self.due_slack[g.name] = slack
                    m.add(end <= g.due + slack)
                else:
                    m.add(end <= g.due)
            self.group_end.append(end)

    # -- objectives

    def makespan_lower_bound(self) -> int:
        """Critical path (with energy heads) and, per resource, total energy / capacity."""
        p = self.problem
        bound = max((int(self.es[i]) + p.duration[i] for i in range(p.n)), default=0)
        free = [i for i in range(p.n) if p.fixed_start[i] is None]
        if free:
            lo = min(p.release[i] for i in free)
            for res in p.resources:
                energy = sum(p.duration[i] * res.demand[i] for i in free)
                if energy and res.capacity > 0:
                    bound = max(bound, lo + -(-energy // res.capacity))
        return bound

    def makespan(self):
        if not hasattr(self, "_makespan"):
            lo = max((int(self.es[i]) + self.problem.duration[i] for i in range(self.problem.n)), default=0)
            self._makespan = self.model.new_int_var(lo, max(lo, self.horizon), "makespan")
            for e in self.group_end:
                self.model.add(self._makespan >= e)
            if not self.group_end:
                for e in self.end:
                    self.model.add(self._makespan >= e)
        return self._makespan

    def weighted_lateness(self):
        terms = []
        for g, end, (_, hi) in zip(self.problem.groups, self.group_end, self.group_bounds):
            if hi <= g.due or not g.members:
                continue
            late = self.model.new_int_var(0, hi - g.due, f"L_{g.name}")
            self.model.add(late >= end - g.due)
            terms.append(g.weight * late)
        return sum(terms) if terms else 0

    def weighted_finish(self):
        return sum(g.weight * end for g, end in zip(self.problem.groups, self.group_end) if g.members)

    def weighted_on_time(self):
        terms = []
        for g, end, (lo, hi) in zip(self.problem.groups, self.group_end, self.group_bounds):
            if not g.members:
                continue
            if hi <= g.due:
                terms.append(g.weight)
            elif lo <= g.due:
                b = self.model.new_bool_var(f"ontime_{g.name}")
                self.model.add(end <= g.due).only_enforce_if(b)
                terms.append(g.weight * b)
        return sum(terms) if terms else 0

    def total_slack(self):
        return sum(self.slack.values()) + sum(self.due_slack.values())


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
            if k > 0 and (det_left <= 0.001 or left <= 0.05):
                result.wall_clock_stop |= left <= 0.05 < det_left
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
