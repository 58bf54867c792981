"""The compiled GA for PSPLIB instances: feasible schedules, the optimum of small random networks (brute force over
every activity list), justification that never lengthens a schedule, and repeatable runs."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimize import ga, psplib
from optimize.checker import check_rcpsp

DATA = Path(__file__).parent / "data" / "psplib"  # the vendored PSPLIB subset (see its README.md)


@st.composite
def networks(draw, max_jobs=9):
    n = draw(st.integers(2, max_jobs))
    n_res = draw(st.integers(1, 3))
    capacity = tuple(draw(st.integers(1, 5)) for _ in range(n_res))
    duration = tuple(draw(st.integers(0, 6)) for _ in range(n))
    demand = tuple(tuple(draw(st.integers(0, c)) for c in capacity) for _ in range(n))
    successors = tuple(tuple(j for j in range(i + 1, n) if draw(st.booleans()) and draw(st.booleans()))
                       for i in range(n))
    return duration, successors, capacity, demand


def serial_sgs(duration, successors, capacity, demand, order):
    """A plain serial SGS, independent of the compiled one."""
    n = len(duration)
    preds = [[i for i in range(n) if j in successors[i]] for j in range(n)]
    use = np.zeros((sum(duration) + 1, len(capacity)), dtype=int)
    start = [0] * n
    for j in order:
        t = max((start[p] + duration[p] for p in preds[j]), default=0)
        while any((use[t:t + duration[j]] + demand[j] > capacity).any(axis=1)):
            t += 1
        use[t:t + duration[j]] += demand[j]
        start[j] = t
    return start


def optimum_by_brute_force(duration, successors, capacity, demand):
    """Serial SGS over every precedence-feasible list: its schedules include an optimal one (active schedules)."""
    n = len(duration)
    best = None
    for order in itertools.permutations(range(n)):
        pos = {j: k for k, j in enumerate(order)}
        if any(pos[i] > pos[j] for i in range(n) for j in successors[i]):
            continue
        start = serial_sgs(duration, successors, capacity, np.array(demand), order)
        ms = max(s + d for s, d in zip(start, duration))
        best = ms if best is None else min(best, ms)
    return best


def random_list(k):
    """A random precedence-feasible activity list of the kernel's instance."""
    order = np.empty(k.n, dtype=np.int64)
    ga._random_list(np.zeros(k.n), 50.0, k.pptr, k.pidx, k.sptr, k.sidx, order)
    return order


def makespan(duration, start):
    return int(max(np.asarray(start) + np.asarray(duration)))


@settings(max_examples=60, deadline=None)
@given(networks(max_jobs=6))
def test_the_ga_finds_the_optimum_of_small_random_networks(net):
    duration, successors, capacity, demand = net
    start = ga.solve(duration, successors, capacity, demand, deadline=0.0, population=30, min_generations=20)
    assert check_rcpsp(duration, successors, capacity, demand, start) == []
    assert makespan(duration, start) == optimum_by_brute_force(duration, successors, capacity, demand)


@settings(max_examples=60, deadline=None)
@given(networks(max_jobs=25), st.integers(0, 1000))
def test_justification_never_lengthens_and_its_list_decodes_to_no_longer(net, seed):
    duration, successors, capacity, demand = net
    n = len(duration)
    k = ga.Kernel(duration, successors, capacity, demand)
    ga._seed(seed)
    order = random_list(k)
    start, back = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    plain = ga._sgs(order, k.d, k.dem, k.cap, k.pptr, k.pidx, start, k.use)
    assert start.tolist() == serial_sgs(duration, successors, capacity, np.array(demand), order.tolist())
    justified = ga._justify(order, k.d, k.dem, k.cap, k.pptr, k.pidx, k.sptr, k.sidx, k.topo, start, back, k.use)
    assert justified <= plain and makespan(duration, start) == justified
    assert check_rcpsp(duration, successors, capacity, demand, start) == []
    again = np.empty(n, dtype=np.int64)
    assert ga._sgs(order, k.d, k.dem, k.cap, k.pptr, k.pidx, again, k.use) <= justified


@settings(max_examples=60, deadline=None)
@given(networks(max_jobs=25), st.integers(0, 1000))
def test_the_peak_crossover_gives_a_precedence_feasible_list_with_the_fathers_densest_stretch_in_one_block(net, seed):
    duration, successors, capacity, demand = net
    n = len(duration)
    k = ga.Kernel(duration, successors, capacity, demand)
    ga._seed(seed)
    lists, starts = [], []
    for _ in range(2):  # parents as in the GA: justified, each list in the order of its starts
        order, start, back = random_list(k), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        ga._justify(order, k.d, k.dem, k.cap, k.pptr, k.pidx, k.sptr, k.sidx, k.topo, start, back, k.use)
        lists.append(order)
        starts.append(start)
    child, mark, stack = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    load = np.empty(k.use.shape[0])
    ga._peak_crossover(lists[0], starts[0], lists[1], starts[1], k.d, k.dem, k.cap, k.pptr, k.pidx, k.sptr, k.sidx,
                       child, mark, stack, load)
    assert sorted(child.tolist()) == list(range(n))
    place = {j: p for p, j in enumerate(child.tolist())}
    assert all(place[i] < place[j] for i in range(n) for j in successors[i])
    block = [j for j in range(n) if mark[j] & 1]
    if not block:  # nothing starts in the stretch: the mother's list
        assert child.tolist() == lists[0].tolist()
        return
    first = min(place[j] for j in block)
    assert sorted(place[j] for j in block) == list(range(first, first + len(block)))
    assert [j for j in child.tolist() if mark[j] & 1] == [j for j in lists[1].tolist() if mark[j] & 1]


@given(networks(max_jobs=25), st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_the_same_seed_and_generations_give_the_same_schedule(net, seed):
    runs = [ga.solve(*net, deadline=0.0, seed=seed, population=10, min_generations=10).tolist() for _ in range(2)]
    assert runs[0] == runs[1]


def test_on_a_scarce_j120_instance_the_ga_stays_within_a_few_percent_of_the_best_known():
    inst = psplib.read_sm(DATA / "j120" / "j12016_6.sm")
    ub, _ = psplib.known_bounds(DATA, "j120")[(16, 6)]
    start = ga.solve(inst.duration, inst.successors, inst.capacity, inst.demand, deadline=0.0, min_generations=100,
                     population=100)
    assert psplib.check_schedule(inst, list(start)) == []
    assert ub <= makespan(inst.duration, start) <= 1.08 * ub
