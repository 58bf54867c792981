"""The optimizer's warm start (list scheduling, optimize/heuristic.py) on a large network: fast, and bounded by a
deterministic work budget derived from --time-limit, so it never overruns the limit and never reads the clock."""
from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.synthetic_portfolio import synthetic
from optimize.heuristic import TaskBudgets, Work, portfolio_hint, serial_sgs
from optimize.problem import build, estimate_durations
from optimize.solve import hint_work
from portfolio.network import build_network


def problem_of(n_activities: int, seed: int = 1):
    portfolio, settings = synthetic(n_activities, seed=seed)
    network = build_network(portfolio, settings.status_date, settings.deadline)
    return build(portfolio, settings, network, estimate_durations(portfolio, settings)).problem


@pytest.fixture(scope="module")
def large():
    return problem_of(10_000)


def test_the_warm_start_of_10000_activities_takes_seconds(large):
    t0 = time.perf_counter()
    work = Work()
    hint = portfolio_hint(large, "weighted_lateness", work=work)
    seconds = time.perf_counter() - t0
    assert hint is not None and len(hint) == large.n
    assert seconds < 25, f"{seconds:.1f} s (about 2 s expected; 50 s before the budgets were indexed)"
    assert work.spent < 500_000  # four passes of under 100,000 placements tried each


def test_a_small_time_limit_cuts_the_warm_start_deterministically(large):
    work = hint_work(time_limit=0.05, deterministic_time=60)  # 500 placements: not one full pass
    t0 = time.perf_counter()
    assert portfolio_hint(large, "weighted_lateness", work=work) is None
    assert time.perf_counter() - t0 < 20
    assert (work.limit, work.spent) == (500, 501)


def test_the_work_budget_is_the_smaller_limits_share():
    assert hint_work(10, 60).limit == 100_000
    assert hint_work(3600, 60).limit == 600_000


def test_shared_budget_index_gives_the_same_schedules():
    problem = problem_of(600, seed=4)
    rng = np.random.default_rng(0)
    shared = TaskBudgets(problem)
    for _ in range(3):
        priority = rng.random(problem.n).tolist()
        a = serial_sgs(problem, priority)
        b = serial_sgs(problem, priority, budgets=shared, work=Work(10**9))
        assert a is not None and np.array_equal(a, b)
