"""Feasible sets of jobs, their LP weights and bound: checked against brute-force enumeration, brute-force optima,
closed forms, and a PSPLIB instance whose optimum the bound reaches."""
from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings

from optimize import feasible_sets, psplib
from test_ga import networks, optimum_by_brute_force

DATA = Path(__file__).parent / "data" / "psplib"  # the vendored PSPLIB subset (see its README.md)


def problem(duration, successors, capacity, demand):
    return psplib.to_problem(psplib.Instance("t", tuple(duration), tuple(successors), tuple(capacity), tuple(demand)))


def linked(successors):
    """Pairs joined by a chain of precedences, by Floyd-Warshall (independent of the module's closure)."""
    n = len(successors)
    reach = [[j in successors[i] for j in range(n)] for i in range(n)]
    for k in range(n):
        for i in range(n):
            for j in range(n):
                reach[i][j] = reach[i][j] or (reach[i][k] and reach[k][j])
    return {(i, j) for i in range(n) for j in range(n) if reach[i][j] or reach[j][i]}


def brute_force_sets(duration, successors, capacity, demand):
    jobs = [j for j in range(len(duration)) if duration[j] > 0]
    pairs = linked(successors)
    out = set()
    for size in range(1, len(jobs) + 1):
        for group in itertools.combinations(jobs, size):
            if any((a, b) in pairs for a, b in itertools.combinations(group, 2)):
                continue
            if all(sum(demand[j][r] for j in group) <= capacity[r] for r in range(len(capacity))):
                out.add(sum(1 << j for j in group))
    return out


@settings(max_examples=80, deadline=None)
@given(networks(max_jobs=8))
def test_the_sets_are_exactly_the_feasible_ones_and_the_weights_fit_each(net):
    duration, successors, capacity, demand = net
    expected = brute_force_sets(duration, successors, capacity, demand)
    sets = feasible_sets.feasible_sets(problem(*net))
    assert len(sets) == len(expected) and set(sets) == expected
    result = feasible_sets.set_weights(problem(*net))
    for mask in expected:
        assert sum(result.weight[j] for j in range(len(duration)) if mask >> j & 1) <= feasible_sets.SCALE


@settings(max_examples=50, deadline=None)
@given(networks(max_jobs=6))
def test_the_bound_never_exceeds_the_brute_force_optimum(net):
    duration, successors, capacity, demand = net
    result = feasible_sets.set_weights(problem(*net))
    assert result.lower_bound <= optimum_by_brute_force(duration, successors, capacity, demand)


def test_jobs_that_cannot_share_the_resource_add_up_like_one_machine():
    # any two of these jobs need more than the capacity: the bound is the sum of durations
    duration = (3, 4, 5, 2)
    result = feasible_sets.set_weights(problem(duration, ((), (), (), ()), (5,), ((3,), (3,), (4,), (5,))))
    assert result.weight == (1000, 1000, 1000, 1000)
    assert result.lower_bound == 14


def test_three_jobs_that_fit_two_at_a_time_need_half_their_total():
    # every pair fits, the triple does not: weights 1/2 each, bound ceil((4 + 4 + 5) / 2) = 7 (a schedule needs 8)
    duration = (4, 4, 5)
    result = feasible_sets.set_weights(problem(duration, ((), (), ()), (2,), ((1,), (1,), (1,))))
    assert result.weight == (500, 500, 500)
    assert result.lower_bound == 7


def test_too_many_sets_give_no_weights():
    n = 14  # every one of the 2^14 - 1 sets is feasible
    free = problem((1,) * n, ((),) * n, (n,), ((1,),) * n)
    assert feasible_sets.feasible_sets(free, limit=1000) is None
    assert feasible_sets.set_weights(free, limit=1000) is None
    assert len(feasible_sets.feasible_sets(free, limit=2 ** n)) == 2 ** n - 1


def test_the_bound_proves_j3045_6_at_once(compiled_kernels):
    # CP-SAT alone needs about 10 s for this proof; the feasible-set bound equals the optimum, 129
    inst = psplib.read_sm(DATA / "j30" / "j3045_6.sm")
    weights = feasible_sets.set_weights(psplib.to_problem(inst))
    assert weights.lower_bound == 129
    result = psplib.solve_instance(inst, time_limit=10.0, workers=1)
    assert result.optimal and result.makespan == result.lower_bound == 129
