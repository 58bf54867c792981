"""The branch-and-bound for small RCPSP instances: its optimum and its proofs against brute force and CP-SAT on
random networks, valid schedules, the time limit, and the j30 instances that CP-SAT alone does not close in 10 s."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimize import bnb, feasible_sets, psplib
from optimize.checker import check_rcpsp
from test_ga import networks, optimum_by_brute_force

DATA = Path(__file__).parent / "data" / "psplib"  # the vendored PSPLIB subset (see its README.md)


def makespan(duration, start):
    return max(s + d for s, d in zip(start, duration))


def weights_of(net):
    found = feasible_sets.set_weights(psplib.to_problem(psplib.Instance("t", *net)))
    return found.weight if found is not None else None


@settings(max_examples=60, deadline=None)
@given(networks(max_jobs=7), st.booleans())
def test_from_a_loose_upper_bound_it_reaches_and_proves_the_brute_force_optimum(net, with_weights):
    duration, successors, capacity, demand = net
    optimum = optimum_by_brute_force(*net)
    upper = sum(duration) + 1  # one more than any schedule without idle time needs
    out = bnb.solve(duration, successors, capacity, demand, upper, 0, time.perf_counter() + 60,
                    weights_of(net) if with_weights else None)
    assert out.makespan == optimum and out.lower_bound == optimum
    assert check_rcpsp(duration, successors, capacity, demand, out.start) == []
    assert makespan(duration, out.start) == optimum


@settings(max_examples=40, deadline=None)
@given(networks(max_jobs=16))
def test_it_finds_a_schedule_at_the_optimum_and_proves_none_shorter_as_cp_sat_does(net):
    duration, successors, capacity, demand = net
    reference = psplib.solve_instance(psplib.Instance("t", *net), time_limit=20, options=psplib.Options(bnb_after=1))
    assert reference.optimal  # CP-SAT alone, an independent model
    prover = bnb.Prover(duration, successors, capacity, demand, weights_of(net))
    found, start = prover.decide(reference.makespan, time.perf_counter() + 60)
    assert found == bnb.FOUND and makespan(duration, start) <= reference.makespan
    assert check_rcpsp(duration, successors, capacity, demand, start) == []
    if reference.makespan > 0:
        assert prover.decide(reference.makespan - 1, time.perf_counter() + 60) == (bnb.FAILED, None)


def test_a_hand_worked_instance():
    # One resource of 3 units. Jobs 1 (3 periods, 2 units) and 2 (2 periods, 2 units) cannot overlap; job 3
    # (2 periods, 1 unit) follows job 1 and fits beside job 2. Job 1 first, then 2 and 3 together: 3 + 2 = 5,
    # the critical path 1 -> 3; job 2 first gives 2 + 3 + 2 = 7.
    duration, successors = (0, 3, 2, 2, 0), ((1, 2), (3,), (4,), (4,), ())
    capacity, demand = (3,), ((0,), (2,), (2,), (1,), (0,))
    out = bnb.solve(duration, successors, capacity, demand, 9, 0, time.perf_counter() + 10)
    assert out.makespan == 5 and out.lower_bound == 5 and out.start == (0, 0, 3, 3, 5)


def test_the_time_limit_stops_it_without_a_claim():
    inst = psplib.read_sm(DATA / "j30" / "j3013_1.sm")
    out = bnb.solve(inst.duration, inst.successors, inst.capacity, inst.demand, 70, 40, time.perf_counter())
    assert out.lower_bound == 40 and (out.start is None or out.makespan < 70)


def test_too_many_jobs_for_the_bit_masks():
    assert bnb.fits((1,) * bnb.MAX_JOBS + (0, 0))
    assert not bnb.fits((1,) * (bnb.MAX_JOBS + 1))
    with pytest.raises(ValueError, match="at most"):
        bnb.Prover((1,) * (bnb.MAX_JOBS + 1), ((),) * (bnb.MAX_JOBS + 1), (1,), ((1,),) * (bnb.MAX_JOBS + 1))


@pytest.mark.parametrize("name", ["j3029_3", "j3029_6", "j3013_2"])
def test_j30_instances_that_cp_sat_alone_leaves_open_are_proven_within_10_s(name, compiled_kernels):
    optimum = psplib.read_bounds(DATA / "j30opt.sm")[psplib.parse_name(name)[1:]][0]
    inst = psplib.read_sm(DATA / "j30" / f"{name}.sm")
    r = psplib.solve_instance(inst, time_limit=10, workers=1)
    assert r.optimal and r.makespan == optimum and r.lower_bound == optimum
    assert psplib.check_schedule(inst, list(r.start)) == []
