"""An exact branch-and-bound for small pure RCPSP instances (PSPLIB j30), compiled with numba.

CP-SAT with one worker proves most j30 instances in under a second, but on a
few with scarce resources (j3029_3, j3029_6, j3013_2, ...) its search needs 10-30 s
to show that one month less is impossible. The enumeration of Demeulemeester and
Herroelen (1992), with its cut-set memory, is strong exactly there: it remembers
which sets of started jobs already failed, and the scarce resources leave few
choices per step. This is its idea in a simpler, plainly complete form.

Decide "is there a schedule with makespan <= D?" by a depth-first search over
decision points: time 0, then each moment a job finishes. At each one, start any
subset of the eligible jobs (every predecessor finished) that fits beside the jobs
in progress, possibly none while something runs. Every job of a semi-active
schedule (no job can start a period earlier) starts at 0, or when some job
finishes (a predecessor, or one that freed the resource it lacked), so the search
meets every semi-active schedule, and some semi-active schedule is optimal.

Pruning, each sound on its own:

- Bounds at a decision point t: the critical path of what is left from the
  finish times so far; per resource, t + the work left / capacity; the
  feasible-set weights (``feasible_sets.py``), t + the weighted work left.
- Memory (cut sets): a state is its set S of started jobs, t, and the finish
  times f of the jobs in progress. When a state (S, t, f) fails, every state
  (S, t', f') with t <= t' and f_j <= max(f'_j, t') for the jobs in progress
  fails too: any completion of the second (starts >= t') is a completion of the
  first, its jobs in progress end no later and use no more of any resource after
  t'. Failures hold for every smaller D, so the memory is kept as D falls.

The search is deterministic. Zero-duration jobs (PSPLIB's source and sink) are
contracted away and put back at their earliest start.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, types
from numba.typed import Dict

from portfolio.graph import topological_order

from .feasible_sets import SCALE

MAX_JOBS = 62  # started sets are bit masks in one int64
MAX_CHOICES = 4096  # subsets of eligible jobs at one decision point; beyond, the search gives up
MEMO_STATES = 1 << 21  # failed states remembered at most (then the memory stops growing; j3013_1 needs 0.74 M)
MEMO_JOBS = 1 << 23  # their jobs in progress, all together
CHECK_EVERY = 1 << 12  # nodes between clock readings

FOUND, FAILED, STOPPED = 1, 0, -1


@dataclass(frozen=True)
class Outcome:
    start: tuple[int, ...] | None  # the best schedule found below the upper bound given, all jobs
    makespan: int  # its makespan, or the upper bound given when none was found
    lower_bound: int  # proven: no schedule is shorter


@njit(cache=True)
def _now():
    with numba.objmode(now="float64"):
        now = time.perf_counter()
    return now


@njit(cache=True)
def _search(depth, t, started, finish, D, last_start, deadline, d, dem, cap, pred, topo, weight,
            memo, memo_t, memo_next, memo_off, memo_len, memo_job, memo_finish, counts, subsets, subset_use, best):
    """FOUND (schedule in ``best``), FAILED (none with makespan <= D from this state) or STOPPED."""
    counts[0] += 1
    if counts[0] % CHECK_EVERY == 0 and _now() > deadline:
        return STOPPED
    m, n_res = d.shape[0], cap.shape[0]
    f = finish[depth]
    done = 0
    running = 0
    latest = 0
    for j in range(m):
        if started >> j & 1:
            if f[j] <= t:
                done |= 1 << j
            else:
                running |= 1 << j
            latest = max(latest, f[j])
    if started == (1 << m) - 1:
        if latest > D:
            return FAILED
        for j in range(m):
            best[j] = f[j] - d[j]
        return FOUND
    # Bounds: critical path from the finish times so far, then work left per resource and by weight.
    es = np.empty(m, np.int64)
    for q in range(m):
        j = topo[q]
        if started >> j & 1:
            continue
        e = t
        for p in range(m):
            if pred[j] >> p & 1:
                e = max(e, f[p] if started >> p & 1 else es[p] + d[p])
        if e > last_start[j]:
            return FAILED
        es[j] = e
    work = 0
    for j in range(m):
        left = f[j] - t if running >> j & 1 else (0 if started >> j & 1 else d[j])
        work += weight[j] * left
    if t + (work + SCALE - 1) // SCALE > D:
        return FAILED
    for k in range(n_res):
        work = 0
        for j in range(m):
            left = f[j] - t if running >> j & 1 else (0 if started >> j & 1 else d[j])
            work += dem[j, k] * left
        if t + (work + cap[k] - 1) // cap[k] > D:
            return FAILED
    # Memory: a state that failed before and dominates this one.
    if started in memo:
        h = memo[started]
        while h >= 0:
            if memo_t[h] <= t:
                dominated = True
                for q in range(memo_off[h], memo_off[h] + memo_len[h]):
                    j = memo_job[q]
                    if memo_finish[q] > max(f[j], t):
                        dominated = False
                        break
                if dominated:
                    return FAILED
            h = memo_next[h]
    # Every subset of the eligible jobs that fits beside the jobs in progress.
    count = 1
    subsets[depth, 0] = 0
    for k in range(n_res):
        use = 0
        for j in range(m):
            if running >> j & 1:
                use += dem[j, k]
        subset_use[depth, 0, k] = use
    for j in range(m):
        if started >> j & 1 or pred[j] & ~done:
            continue
        for a in range(count):
            fits = True
            for k in range(n_res):
                if subset_use[depth, a, k] + dem[j, k] > cap[k]:
                    fits = False
                    break
            if fits:
                if count == subsets.shape[1]:
                    return STOPPED
                subsets[depth, count] = subsets[depth, a] | 1 << j
                for k in range(n_res):
                    subset_use[depth, count, k] = subset_use[depth, a, k] + dem[j, k]
                count += 1
    child = finish[depth + 1]
    for a in range(count - 1, -1, -1):  # the largest subsets were built last
        chosen = subsets[depth, a]
        if chosen == 0 and running == 0:
            continue
        nxt = 1 << 60
        for j in range(m):
            if started >> j & 1:
                child[j] = f[j]
            elif chosen >> j & 1:
                child[j] = t + d[j]
            else:
                continue
            if child[j] > t:
                nxt = min(nxt, child[j])
        r = _search(depth + 1, nxt, started | chosen, finish, D, last_start, deadline, d, dem, cap, pred, topo,
                    weight, memo, memo_t, memo_next, memo_off, memo_len, memo_job, memo_finish, counts,
                    subsets, subset_use, best)
        if r != FAILED:
            return r
    size = 0
    for j in range(m):
        size += running >> j & 1
    if counts[1] < memo_t.shape[0] and counts[2] + size <= memo_job.shape[0]:
        h = counts[1]
        counts[1] += 1
        memo_t[h], memo_off[h], memo_len[h] = t, counts[2], size
        for j in range(m):
            if running >> j & 1:
                memo_job[counts[2]], memo_finish[counts[2]] = j, f[j]
                counts[2] += 1
        memo_next[h] = memo[started] if started in memo else -1
        memo[started] = h
    return FAILED


class Prover:
    """One instance: the contracted network, and the memory of failed states shared by every D asked.

    ``weight``: the feasible-set weights per job (out of ``feasible_sets.SCALE``), or None."""

    def __init__(self, duration, successors, capacity, demand, weight=None):
        n = len(duration)
        preds: list[list[int]] = [[] for _ in range(n)]
        for i, succ in enumerate(successors):
            for j in succ:
                preds[j].append(i)
        self.order = topological_order(n, [(i, j) for i, succ in enumerate(successors) for j in succ])
        if self.order is None:
            raise ValueError("the precedences have a cycle")
        self.jobs = [j for j in range(n) if duration[j] > 0]
        if len(self.jobs) > MAX_JOBS:
            raise ValueError(f"{len(self.jobs)} jobs with a duration: at most {MAX_JOBS}")
        index = {j: q for q, j in enumerate(self.jobs)}
        through = [0] * n  # timed predecessors, through chains of zero-duration jobs
        for j in self.order:
            for p in preds[j]:
                through[j] |= 1 << index[p] if p in index else through[p]
        self.duration, self.preds = tuple(duration), preds
        m, k = len(self.jobs), len(capacity)
        self.d = np.array([duration[j] for j in self.jobs], np.int64)
        self.dem = np.array([demand[j] for j in self.jobs], np.int64).reshape(m, k)
        self.cap = np.array(capacity, np.int64)
        self.pred = np.array([through[j] for j in self.jobs], np.int64)
        self.topo = np.array([index[j] for j in self.order if j in index], np.int64)
        self.weight = np.array([weight[j] for j in self.jobs] if weight else [0] * m, np.int64)
        self.tail = np.zeros(m, np.int64)  # longest chain of successors' durations
        for q in self.topo[::-1]:
            for s in range(m):
                if self.pred[s] >> q & 1:
                    self.tail[q] = max(self.tail[q], self.d[s] + self.tail[s])
        self.memo = Dict.empty(types.int64, types.int64)
        self.memo_t, self.memo_next = np.zeros(MEMO_STATES, np.int64), np.zeros(MEMO_STATES, np.int64)
        self.memo_off, self.memo_len = np.zeros(MEMO_STATES, np.int64), np.zeros(MEMO_STATES, np.int64)
        self.memo_job, self.memo_finish = np.zeros(MEMO_JOBS, np.int32), np.zeros(MEMO_JOBS, np.int32)
        self.counts = np.zeros(3, np.int64)  # nodes, memory states, memory jobs
        self.subsets = np.zeros((2 * m + 2, MAX_CHOICES), np.int64)
        self.subset_use = np.zeros((2 * m + 2, MAX_CHOICES, k), np.int64)
        self.finish = np.zeros((2 * m + 3, m), np.int64)

    def decide(self, D: int, deadline: float) -> tuple[int, tuple[int, ...] | None]:
        """(FOUND, starts of all jobs) / (FAILED, None): no schedule within D / (STOPPED, None)."""
        m = len(self.jobs)
        if m == 0:
            return FOUND, tuple(0 for _ in self.duration)
        best = np.zeros(m, np.int64)
        r = _search(0, 0, 0, self.finish, D, D - self.tail - self.d, deadline, self.d, self.dem, self.cap,
                    self.pred, self.topo, self.weight, self.memo, self.memo_t, self.memo_next, self.memo_off,
                    self.memo_len, self.memo_job, self.memo_finish, self.counts, self.subsets, self.subset_use, best)
        if r != FOUND:
            return r, None
        start = [0] * len(self.duration)
        for q, j in enumerate(self.jobs):
            start[j] = int(best[q])
        for j in self.order:
            if self.duration[j] == 0:
                start[j] = max((start[p] + self.duration[p] for p in self.preds[j]), default=0)
        return FOUND, tuple(start)


def fits(duration) -> bool:
    return sum(1 for x in duration if x > 0) <= MAX_JOBS


def solve(duration, successors, capacity, demand, upper: int, lower: int, deadline: float,
          weight=None) -> Outcome:
    """Shorten ``upper`` (the makespan of a known schedule) one step at a time until the search proves that
    nothing shorter exists, reaches ``lower``, or the clock reaches ``deadline`` (a ``time.perf_counter``
    value)."""
    prover = Prover(duration, successors, capacity, demand, weight)
    best, makespan = None, upper
    while makespan > lower:
        result, start = prover.decide(makespan - 1, deadline)
        if result == STOPPED:
            return Outcome(best, makespan, lower)
        if result == FAILED:
            return Outcome(best, makespan, makespan)
        best = start
        makespan = max(s + d for s, d in zip(start, duration))
    return Outcome(best, makespan, makespan)


def compile_now() -> None:
    """Compile (or load from numba's cache) outside any instance's time limit."""
    solve((0, 2, 1, 0), ((1, 2), (3,), (3,), ()), (1,), ((0,), (1,), (1,), (0,)), upper=4, lower=0,
          deadline=time.perf_counter() + 60)
