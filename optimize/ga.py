"""A genetic algorithm for pure RCPSP instances (PSPLIB), compiled with numba.

With one worker and a few seconds, CP-SAT's tree search on 120 jobs with scarce
resources stops far above the best known makespans, and every CP-SAT call from
Python costs milliseconds. The activity-list GA of the RCPSP literature
(Hartmann 1998) with forward-backward improvement (double justification,
Valls et al. 2005) evaluates a schedule in tens of microseconds when compiled,
so it searches hundreds of thousands of schedules in the time CP-SAT solves a
few dozen subproblems. Its best schedule is then the hint and upper bound of
the CP-SAT model (``optimize.psplib``).

- Individual: a precedence-feasible activity list, decoded by the serial
  schedule-generation scheme (each job at its earliest precedence- and
  resource-feasible start).
- Every decoded schedule is justified right then left; the list is rewritten in
  the order of the improved starts (the schedule it decodes to is no longer).
- Children of random pairs: half by two-point crossover, half by a peak
  crossover (after Valls et al. 2008) that keeps the jobs of the father's most
  densely packed stretch of time together; adjacent swaps as mutation; the best
  distinct schedules of parents and children survive (shorter makespan first,
  then the smaller mean start).
- When the best makespan has not improved for a while the population has
  converged: it starts again from copies of the best list, each moved by a few
  random shifts (a job to another place between its predecessors and
  successors).

The random generator is numba's, seeded per run: the same seed and the same
number of generations give the same schedule.
"""
from __future__ import annotations

import time

import numpy as np
from numba import njit


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True)
def _sgs(order, d, dem, cap, pptr, pidx, start, use):
    """Serial SGS of an activity list; ``use`` (horizon x resources) is all zero on entry and on return."""
    n_res = dem.shape[1]
    ms = 0
    for pos in range(order.shape[0]):
        j = order[pos]
        t = 0
        for q in range(pptr[j], pptr[j + 1]):
            e = start[pidx[q]] + d[pidx[q]]
            if e > t:
                t = e
        dj = d[j]
        if dj > 0:
            tau = t
            while tau < t + dj:
                fits = True
                for k in range(n_res):
                    if use[tau, k] + dem[j, k] > cap[k]:
                        fits = False
                        break
                if fits:
                    tau += 1
                else:
                    t = tau + 1
                    tau = t
            for tau in range(t, t + dj):
                for k in range(n_res):
                    use[tau, k] += dem[j, k]
        start[j] = t
        if t + dj > ms:
            ms = t + dj
    use[:ms] = 0
    return ms


@njit(cache=True)
def _order_by(key, topo, order):
    """Jobs by ascending ``key``, ties in topological order: precedence-feasible when key_i <= key_j for i -> j."""
    n = key.shape[0]
    combined = key.astype(np.int64) * (n + 1) + topo
    order[:] = np.argsort(combined)


@njit(cache=True)
def _justify(order, d, dem, cap, pptr, pidx, sptr, sidx, topo, start, back, use):
    """Forward-backward improvement of the schedule of ``order`` (one round: more rounds rarely pay for their time
    here); rewrites ``order`` to the improved start order and leaves the schedule in ``start``. Returns its makespan,
    never more than the plain SGS gives."""
    n = d.shape[0]
    ms = _sgs(order, d, dem, cap, pptr, pidx, start, use)
    key = np.empty(n, dtype=np.int64)
    # right-justify: the reversed problem, latest end first
    for j in range(n):
        key[j] = ms - start[j] - d[j]
    _order_by(key, n - 1 - topo, order)
    ms_back = _sgs(order, d, dem, cap, sptr, sidx, back, use)
    # left-justify again, in the order of the right-justified starts
    for j in range(n):
        key[j] = ms_back - back[j] - d[j]
    _order_by(key, topo, order)
    ms = _sgs(order, d, dem, cap, pptr, pidx, start, use)
    _order_by(start, topo, order)
    return ms


@njit(cache=True)
def _random_list(ls, spread, pptr, pidx, sptr, sidx, order):
    """A random-biased topological order: lowest latest start plus noise first among the ready jobs."""
    n = ls.shape[0]
    missing = np.empty(n, dtype=np.int64)
    for j in range(n):
        missing[j] = pptr[j + 1] - pptr[j]
    prio = ls + np.random.random(n) * spread
    done = np.zeros(n, dtype=np.bool_)
    for pos in range(n):
        best, best_p = -1, np.inf
        for j in range(n):
            if not done[j] and missing[j] == 0 and prio[j] < best_p:
                best, best_p = j, prio[j]
        order[pos] = best
        done[best] = True
        for q in range(sptr[best], sptr[best + 1]):
            missing[sidx[q]] -= 1


@njit(cache=True)
def _take(source, pos, upto, child, taken):
    """Fill child[pos:upto] with the jobs of ``source`` not taken yet, in their order there; return the new pos."""
    for k in range(source.shape[0]):
        if pos >= upto:
            break
        j = source[k]
        if not taken[j]:
            child[pos] = j
            taken[j] = True
            pos += 1
    return pos


@njit(cache=True)
def _crossover(mother, father, q1, q2, child, taken):
    """Two-point crossover: the mother's first q1 jobs, then the father's order up to q2, then the mother's."""
    taken[:] = False
    for pos in range(q1):
        child[pos] = mother[pos]
        taken[mother[pos]] = True
    pos = _take(father, q1, q2, child, taken)
    _take(mother, pos, mother.shape[0], child, taken)


@njit(cache=True)
def _peak_crossover(mother, m_start, father, f_start, d, dem, cap, pptr, pidx, sptr, sidx, child, mark, stack, load):
    """The jobs that start in the father's densest stretch of time (the most resource use, over a random
    length) kept as one block: the mother's order up to where those jobs start in her schedule (and their
    predecessors), then the block in the father's order, then the rest in the mother's order (after Valls et
    al.'s peak crossover). Every part keeps precedences: nothing before the block follows a job of it, and
    jobs between two of its jobs join it."""
    n, n_res = d.shape[0], cap.shape[0]
    horizon = 0
    for j in range(n):
        horizon = max(horizon, f_start[j] + d[j])
    mark[:] = 0
    if horizon == 0:
        child[:] = mother
        return
    load[:horizon] = 0.0
    for j in range(n):
        share = 0.0
        for k in range(n_res):
            share += dem[j, k] / cap[k]
        for t in range(f_start[j], f_start[j] + d[j]):
            load[t] += share
    length = np.random.randint(max(1, horizon // 10), max(1, horizon // 4) + 1)
    length = min(length, horizon)
    best_a, total = 0, 0.0
    for t in range(length):
        total += load[t]
    best = total
    for a in range(1, horizon - length + 1):
        total += load[a + length - 1] - load[a - 1]
        if total > best:
            best, best_a = total, a
    # mark: 1 in the block, 2 predecessor of it, 4 successor of it (transitively)
    for j in range(n):
        if best_a <= f_start[j] < best_a + length:  # starting in the stretch
            mark[j] = 1
    for direction in range(2):
        bit = 2 if direction == 0 else 4
        ptr = pptr if direction == 0 else sptr
        idx = pidx if direction == 0 else sidx
        top = 0
        for j in range(n):
            if mark[j] & 1:
                stack[top] = j
                top += 1
        while top:
            top -= 1
            j = stack[top]
            for q in range(ptr[j], ptr[j + 1]):
                i = idx[q]
                if not mark[i] & bit:
                    mark[i] |= bit
                    stack[top] = i
                    top += 1
    first = 1 << 60  # where the block starts in the mother's schedule
    for j in range(n):
        if mark[j] & 6 == 6:  # between two jobs of the block: part of it
            mark[j] |= 1
        if mark[j] & 1:
            first = min(first, m_start[j])
    pos = 0
    for k in range(n):  # before the block: its predecessors, and what the mother starts earlier
        j = mother[k]
        if not mark[j] & 1 and (mark[j] & 2 or (not mark[j] & 4 and m_start[j] < first)):
            child[pos] = j
            pos += 1
            mark[j] |= 8
    for k in range(n):
        j = father[k]
        if mark[j] & 1:
            child[pos] = j
            pos += 1
    for k in range(n):
        j = mother[k]
        if not mark[j] & 9:
            child[pos] = j
            pos += 1


@njit(cache=True)
def _mutate(order, direct, rate):
    for pos in range(order.shape[0] - 1):
        if np.random.random() < rate and not direct[order[pos], order[pos + 1]]:
            a = order[pos]
            order[pos] = order[pos + 1]
            order[pos + 1] = a


@njit(cache=True)
def _initial(pop, ms, starts, ls, spread, d, dem, cap, pptr, pidx, sptr, sidx, topo, use):
    back = np.empty(d.shape[0], dtype=np.int64)
    for i in range(pop.shape[0]):
        _random_list(ls, spread if i else 0.0, pptr, pidx, sptr, sidx, pop[i])
        ms[i] = _justify(pop[i], d, dem, cap, pptr, pidx, sptr, sidx, topo, starts[i], back, use)


@njit(cache=True)
def _shift(order, pos, pptr, pidx, sptr, sidx):
    """Move a random job to a random place between its last predecessor and its first successor in the list."""
    n = order.shape[0]
    for k in range(n):
        pos[order[k]] = k
    j = np.random.randint(0, n)
    lo, hi = 0, n - 1
    for q in range(pptr[j], pptr[j + 1]):
        lo = max(lo, pos[pidx[q]] + 1)
    for q in range(sptr[j], sptr[j + 1]):
        hi = min(hi, pos[sidx[q]] - 1)
    target = np.random.randint(lo, hi + 1)
    here = pos[j]
    if target < here:
        for k in range(here, target, -1):
            order[k] = order[k - 1]
    else:
        for k in range(here, target):
            order[k] = order[k + 1]
    order[target] = j


@njit(cache=True)
def _around(pop, ms, starts, best, max_moves, d, dem, cap, pptr, pidx, sptr, sidx, topo, use):
    """A new population around ``best``: the best list itself, then copies of it each moved by random shifts."""
    back = np.empty(d.shape[0], dtype=np.int64)
    pos = np.empty(d.shape[0], dtype=np.int64)
    for i in range(pop.shape[0]):
        pop[i] = best
        if i:
            for _ in range(np.random.randint(1, max_moves + 1)):
                _shift(pop[i], pos, pptr, pidx, sptr, sidx)
        ms[i] = _justify(pop[i], d, dem, cap, pptr, pidx, sptr, sidx, topo, starts[i], back, use)


@njit(cache=True)
def _generations(pop, ms, starts, count, rate, d, dem, cap, pptr, pidx, sptr, sidx, topo, direct, use, lower, peak):
    """``count`` generations: children of random pairs, then the best of parents and children survive."""
    size, n = pop.shape
    both = np.empty((2 * size, n), dtype=pop.dtype)
    both_ms = np.empty(2 * size, dtype=np.int64)
    both_st = np.empty((2 * size, n), dtype=np.int64)
    taken = np.empty(n, dtype=np.bool_)
    back = np.empty(n, dtype=np.int64)
    mark = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    load = np.empty(use.shape[0], dtype=np.float64)
    for _ in range(count):
        perm = np.random.permutation(size)
        for c in range(size):
            mi = perm[c]
            fi = perm[c ^ 1] if (c ^ 1) < size else perm[0]
            mother, father = pop[mi], pop[fi]
            q1 = np.random.randint(0, n + 1)
            q2 = np.random.randint(0, n + 1)
            if q1 > q2:
                q1, q2 = q2, q1
            child = both[size + c]
            if np.random.random() < peak:
                _peak_crossover(mother, starts[mi], father, starts[fi], d, dem, cap, pptr, pidx, sptr, sidx, child,
                                mark, stack, load)
            else:
                _crossover(mother, father, q1, q2, child, taken)
            _mutate(child, direct, rate)
            both_ms[size + c] = _justify(child, d, dem, cap, pptr, pidx, sptr, sidx, topo, both_st[size + c], back, use)
        both[:size] = pop
        both_ms[:size] = ms
        both_st[:size] = starts
        # rank by makespan, then by the mean start (work packed to the left); a schedule kept once only
        keys = np.empty(2 * size)
        for i in range(2 * size):
            keys[i] = both_ms[i] + 0.9 * both_st[i].sum() / (n * max(both_ms[i], 1))
        rank = np.argsort(keys)
        seen = np.empty(2 * size, dtype=np.int64)
        kept = 0
        dup = np.empty(2 * size, dtype=np.int64)
        n_dup = 0
        for r in range(2 * size):
            if kept == size:
                break
            i = rank[r]
            h = np.int64(0)
            for j in range(n):
                h = h * np.int64(1000003) + both_st[i, j]
            if h in seen[:kept]:
                dup[n_dup] = i
                n_dup += 1
                continue
            seen[kept] = h
            pop[kept] = both[i]
            ms[kept] = both_ms[i]
            starts[kept] = both_st[i]
            kept += 1
        for r in range(size - kept):  # too few distinct schedules: fill up with the best duplicates
            pop[kept + r] = both[dup[r]]
            ms[kept + r] = both_ms[dup[r]]
            starts[kept + r] = both_st[dup[r]]
        if ms.min() <= lower:
            break


def _csr(lists, n):
    ptr = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        ptr[j + 1] = ptr[j] + len(lists[j])
    idx = np.array([x for j in range(n) for x in lists[j]], dtype=np.int64)
    return ptr, idx


class Kernel:
    """An instance laid out as arrays for the compiled functions: durations, demands (job x resource),
    capacities, predecessors and successors (CSR), a topological rank, direct precedences, a resource profile."""

    def __init__(self, duration, successors, capacity, demand):
        n = len(duration)
        self.n = n
        self.d = np.asarray(duration, dtype=np.int64)
        self.dem = np.asarray(demand, dtype=np.int64).reshape(n, -1)
        self.cap = np.asarray(capacity, dtype=np.int64)
        preds = [[] for _ in range(n)]
        self.direct = np.zeros((n, n), dtype=np.bool_)
        for i, succ in enumerate(successors):
            for j in succ:
                preds[j].append(i)
                self.direct[i, j] = True
        self.pptr, self.pidx = _csr(preds, n)
        self.sptr, self.sidx = _csr([list(s) for s in successors], n)
        order = np.empty(n, dtype=np.int64)
        _random_list(np.zeros(n), 0.0, self.pptr, self.pidx, self.sptr, self.sidx, order)
        self.topo = np.empty(n, dtype=np.int64)
        self.topo[order] = np.arange(n)
        # a serial SGS never starts a job after every job placed before it has ended: makespan <= sum of durations
        self.use = np.zeros((int(self.d.sum()) + 1, len(self.cap)), dtype=np.int64)


class Search:
    """One GA run: the first population at construction, then ``run(deadline)`` evolves it.

    ``demand`` is per job, per resource; ``successors`` per job (0-based).
    ``late_start`` (per job) biases the first population towards the
    latest-start rule. After ``stall`` generations without a shorter makespan
    the population starts again from copies of the best list moved by up to
    ``moves`` random shifts. ``peak`` is the share of children made by the
    peak crossover. ``best`` is None when a job needs more than a
    resource's capacity (no schedule exists).
    """

    def __init__(self, duration, successors, capacity, demand, seed: int = 0, population: int = 640,
                 mutation: float = 0.05, late_start=None, stall: int = 20, moves: int = 10, peak: float = 0.5):
        self.kernel = k = Kernel(duration, successors, capacity, demand)
        self.mutation, self.stall, self.moves, self.peak = mutation, stall, moves, peak
        self.best, self.best_ms, self._since = None, None, 0
        if (k.dem > k.cap).any():
            return
        ls = np.zeros(k.n) if late_start is None else np.asarray(late_start, dtype=np.float64)
        self._arrays = (k.d, k.dem, k.cap, k.pptr, k.pidx, k.sptr, k.sidx, k.topo)
        _seed(seed)
        self.pop = np.empty((population, k.n), dtype=np.int64)
        self.ms = np.empty(population, dtype=np.int64)
        self.starts = np.empty((population, k.n), dtype=np.int64)
        _initial(self.pop, self.ms, self.starts, ls, float(1 + 0.5 * (ls.max() - ls.min())), *self._arrays, k.use)
        self._keep_best()

    def _keep_best(self) -> bool:
        i = int(np.argmin(self.ms))
        if self.best_ms is not None and self.ms[i] >= self.best_ms:
            return False
        self.best, self.best_ms = self.starts[i].copy(), int(self.ms[i])
        return True

    def run(self, deadline: float, lower: int = 0, min_generations: int = 0) -> np.ndarray | None:
        """Evolve until ``deadline`` (a ``time.perf_counter`` value) or makespan ``lower``, at least
        ``min_generations`` generations; return the best schedule so far (start per job)."""
        if self.best is None:
            return None
        k, done = self.kernel, 0
        while done < min_generations or (time.perf_counter() < deadline and self.best_ms > lower):
            _generations(self.pop, self.ms, self.starts, 5, self.mutation, *self._arrays, k.direct, k.use, lower,
                         self.peak)
            done += 5
            self._since = 0 if self._keep_best() else self._since + 5
            if self._since >= self.stall:  # converged: start again around the best list
                self._since = 0
                _around(self.pop, self.ms, self.starts, self.pop[int(np.argmin(self.ms))].copy(), self.moves,
                        *self._arrays, k.use)
        return self.best


def solve(duration, successors, capacity, demand, deadline: float, seed: int = 0, lower: int = 0,
          min_generations: int = 0, **options) -> np.ndarray | None:
    """The best schedule a new ``Search`` finds until ``deadline`` (see ``Search`` for the options)."""
    return Search(duration, successors, capacity, demand, seed, **options).run(deadline, lower, min_generations)


def compile_now() -> None:
    """Compile (or load from numba's cache) the kernels on a three-job instance, outside any time limit."""
    solve((0, 2, 0), ((1,), (2,), ()), (1,), ((0,), (1,), (0,)), deadline=0.0, population=2, min_generations=5, stall=5)
