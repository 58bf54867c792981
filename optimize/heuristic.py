"""List scheduling for solution hints: a serial schedule-generation scheme (SGS).

The serial SGS takes tasks one at a time, always a task whose link
predecessors are all placed (lowest priority value first), and puts it at the
earliest time allowed by its links, its release date, the renewable resources
and the budgets. Links only give lower bounds on a successor once its
predecessors are placed, so a place is always found (for any link type and lag)
unless a single task needs more than a resource's capacity.

``best_schedule`` runs it with the latest-start rule, then random-biased
priorities with forward-backward improvement (double justification), when the
problem has nothing but FS links, resources and no fixed tasks or budgets
(e.g. PSPLIB); otherwise one pass with the latest-start rule.
"""
from __future__ import annotations

import bisect
import heapq
import time

import numpy as np

from . import core


class Work:
    """A deterministic work budget for list scheduling: the placements tried (one ``fits`` each), so a warm start
    stops at the same point on any machine, whatever its load (never the wall clock)."""

    def __init__(self, limit: int | None = None):
        self.limit, self.spent = limit, 0

    def charge(self) -> bool:
        """Count one placement tried; False once the budget is spent."""
        self.spent += 1
        return self.limit is None or self.spent <= self.limit


class TaskBudgets:
    """Per task, its (budget, rate) pairs by budget start, with those starts and the running largest end: so a
    placement visits only the budgets whose windows it overlaps (a task may have one budget a year). Built once
    per problem and shared by the passes of the serial SGS."""

    def __init__(self, problem: core.Problem):
        self.rates: list[list[tuple[int, int]]] = [[] for _ in range(problem.n)]
        self.start: list[list[int]] = [[] for _ in range(problem.n)]
        self.reach: list[list[int]] = [[] for _ in range(problem.n)]
        for b in sorted(range(len(problem.budgets)), key=lambda b: problem.budgets[b].start):
            budget = problem.budgets[b]
            for i, rate in budget.rate:
                if rate > 0:
                    self.rates[i].append((b, rate))
                    self.start[i].append(budget.start)
                    reach = self.reach[i]
                    reach.append(max(reach[-1], budget.end) if reach else budget.end)


class _Profile:
    """Resource usage per time unit (t >= 0) and budget spend, growing as needed."""

    def __init__(self, problem: core.Problem, size: int, budgets: "TaskBudgets | None" = None):
        self.p = problem
        self.cap = np.array([r.capacity for r in problem.resources], dtype=np.int64)
        self.dem = np.array([r.demand for r in problem.resources], dtype=np.int64).reshape(len(problem.resources), problem.n)
        self.use = np.zeros((len(problem.resources), max(size, 1)), dtype=np.int64)
        self.own = budgets if budgets is not None else TaskBudgets(problem)
        self.spent = np.zeros(len(problem.budgets), dtype=np.int64)

    def _grow(self, upto: int) -> None:
        if upto > self.use.shape[1]:
            extra = max(upto, 2 * self.use.shape[1]) - self.use.shape[1]
            self.use = np.concatenate([self.use, np.zeros((self.use.shape[0], extra), dtype=np.int64)], axis=1)

    def spend(self, i: int, s: int):
        d = self.p.duration[i]
        own = self.own
        lo = bisect.bisect_right(own.reach[i], s)  # budgets before lo all end by s
        hi = bisect.bisect_left(own.start[i], s + d)  # budgets from hi on start at s + d or later
        for b, rate in own.rates[i][lo:hi]:
            bud = self.p.budgets[b]
            overlap = min(s + d, bud.end) - max(s, bud.start)
            if overlap > 0:
                yield b, rate * overlap

    def fits(self, i: int, s: int) -> int:
        """0 when task i fits at s, else the smallest shift worth trying next (>= 1)."""
        d = self.p.duration[i]
        a, e = max(s, 0), s + d
        if e > a and self.dem.shape[0]:
            need = self.dem[:, i]
            if need.any():
                self._grow(e)
                window = self.use[:, a:e] + need[:, None] > self.cap[:, None]
                bad = window.any(axis=0)
                if bad.any():
                    return int(np.flatnonzero(bad)[-1]) + 1 + (a - s)
        for b, amount in self.spend(i, s):
            if self.spent[b] + amount > self.p.budgets[b].cap:
                return 1
        return 0

    def place(self, i: int, s: int) -> None:
        d = self.p.duration[i]
        a, e = max(s, 0), s + d
        if e > a and self.dem.shape[0]:
            self._grow(e)
            self.use[:, a:e] += self.dem[:, i][:, None]
        for b, amount in self.spend(i, s):
            self.spent[b] += amount


def serial_sgs(problem: core.Problem, priority, limit: int | None = None,
               budgets: TaskBudgets | None = None, work: Work | None = None) -> np.ndarray | None:
    """Earliest-feasible placement in priority order (lower value first); None if a task never fits or ``work``
    runs out. ``budgets``: the problem's ``TaskBudgets`` when several passes share them."""
    n = problem.n
    d = problem.duration
    limit = limit if limit is not None else problem.horizon
    incoming: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
    outgoing: list[list[int]] = [[] for _ in range(n)]
    missing = [0] * n
    for p, s, k, lag in problem.links:
        incoming[s].append((p, k, lag))
        outgoing[p].append(s)
        missing[s] += 1
    longest = max(d, default=0)
    prof = _Profile(problem, limit + longest + 1, budgets)
    start = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    placed = [False] * n
    ready: list[tuple[float, int]] = []
    for i in range(n):
        if problem.fixed_start[i] is not None:
            start[i] = problem.fixed_start[i]
            prof.place(i, int(start[i]))
            placed[i] = True
    for i in range(n):
        if placed[i]:
            for j in outgoing[i]:
                missing[j] -= 1
    for i in range(n):
        if not placed[i] and missing[i] == 0:
            heapq.heappush(ready, (priority[i], i))
    while ready:
        _, j = heapq.heappop(ready)
        t = problem.release[j]
        for p, k, lag in incoming[j]:
            t = max(t, core.link_bound(k, int(start[p]), int(start[p]) + d[p], lag, d[j]))
        t = max(t, 0)
        while True:
            if t + d[j] > limit + longest * n + 1 or (work is not None and not work.charge()):
                return None
            shift = prof.fits(j, t)
            if shift == 0:
                break
            t += shift
        start[j] = t
        prof.place(j, t)
        placed[j] = True
        for s in outgoing[j]:
            missing[s] -= 1
            if missing[s] == 0 and not placed[s]:
                heapq.heappush(ready, (priority[s], s))
    if not all(placed):
        return None
    return start


def _pure_rcpsp(problem: core.Problem) -> bool:
    return (
        not problem.budgets
        and all(f is None for f in problem.fixed_start)
        and all(r == 0 for r in problem.release)
        and all(k == core.FS and lag >= 0 for _, _, k, lag in problem.links)
    )


def _reversed(problem: core.Problem) -> core.Problem:
    return core.Problem(
        duration=problem.duration,
        release=problem.release,
        fixed_start=problem.fixed_start,
        links=tuple((s, p, k, lag) for p, s, k, lag in problem.links),
        resources=problem.resources,
        groups=problem.groups,
        horizon=problem.horizon,
    )


def _justify(problem, reverse, start, rounds=2):
    """Forward-backward improvement: right-justify in the reversed problem, then left-justify again."""
    d = np.asarray(problem.duration, dtype=np.int64)
    best = start
    best_ms = int((start + d).max())
    for _ in range(rounds):
        end = best + d
        # backward: latest-ending first
        back = serial_sgs(reverse, (-end).tolist())
        if back is None:
            break
        ms_back = int((back + d).max())
        # reversed time: a task at [b, b + d) in reverse time sits at [ms - b - d, ms - b)
        forward_start = ms_back - back - d
        again = serial_sgs(problem, forward_start.tolist())
        if again is None:
            break
        ms = int((again + d).max())
        if ms < best_ms:
            best, best_ms = again, ms
        else:
            break
    return best


def best_schedule(problem: core.Problem, time_budget: float = 0.5, seed: int = 0, max_passes: int = 200) -> np.ndarray | None:
    """A good feasible schedule (fewest makespan found) within ``time_budget`` seconds, or None."""
    t0 = time.perf_counter()
    d = np.asarray(problem.duration, dtype=np.int64)
    horizon = problem.horizon
    ls = core.late_starts(problem, horizon)
    first = serial_sgs(problem, [(int(ls[i]), i) for i in range(problem.n)])
    if first is None or not _pure_rcpsp(problem):
        return first
    reverse = _reversed(problem)
    best = _justify(problem, reverse, first)
    best_ms = int((best + d).max())
    rng = np.random.default_rng(seed)
    lb = int((core.early_starts(problem) + d).max())
    passes = 0
    while passes < max_passes and time.perf_counter() - t0 < time_budget and best_ms > lb:
        passes += 1
        # regret-biased random sampling around the latest-start rule
        noise = rng.random(problem.n) * (1 + 0.5 * (ls.max() - ls.min()) / max(problem.n, 1))
        cand = serial_sgs(problem, (ls + noise).tolist())
        if cand is None:
            continue
        cand = _justify(problem, reverse, cand)
        ms = int((cand + d).max())
        if ms < best_ms:
            best, best_ms = cand, ms
    return best


def group_values(problem: core.Problem, start: np.ndarray) -> dict[str, int]:
    """The objectives of the model core (integer weights) for a schedule."""
    end = start + np.asarray(problem.duration, dtype=np.int64)
    late = finish = on_time = 0
    for g in problem.groups:
        if not g.members:
            continue
        e = int(max(end[i] for i in g.members))
        late += g.weight * max(0, e - g.due)
        finish += g.weight * e
        on_time += g.weight * (e <= g.due)
    return {
        "weighted_lateness": late,
        "weighted_finish": finish,
        "makespan": int(end.max()) if len(end) else 0,
        "weighted_on_time": on_time,
    }


def portfolio_hint(problem: core.Problem, first: str, sense: str = "min", work: Work | None = None) \
        -> np.ndarray | None:
    """The best of a few priority rules for the serial SGS, judged by objective ``first``, then weighted finish.
    ``work``: the budget of all passes together; a pass it cuts short is dropped, and the later ones are not run."""
    n = problem.n
    order = core.order_of(problem)
    ls = core.late_starts(problem, problem.horizon, order)
    due_end = [problem.horizon] * n
    weight = [0] * n
    for g in problem.groups:
        for i in g.members:
            due_end[i] = g.due
            weight[i] = g.weight
    ls_due = core.late_starts(problem, problem.horizon, order, due_end)
    es = core.early_starts(problem, order)
    rules = [
        [(int(ls_due[i]), -weight[i], i) for i in range(n)],
        [(-weight[i], int(ls_due[i]), i) for i in range(n)],
        [(int(ls[i]), i) for i in range(n)],
        [(int(es[i]), int(ls_due[i]), i) for i in range(n)],
    ]
    best, best_key = None, None
    budgets = TaskBudgets(problem)
    for rule in rules:
        cand = serial_sgs(problem, rule, budgets=budgets, work=work)
        if work is not None and work.limit is not None and work.spent > work.limit:
            break
        if cand is None:
            continue
        v = group_values(problem, cand)
        key = (v[first] if sense == "min" else -v[first], v["weighted_finish"])
        if best_key is None or key < best_key:
            best, best_key = cand, key
    return best
