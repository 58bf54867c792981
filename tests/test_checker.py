"""The independent checker: valid plans pass, and each kind of corruption is caught."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize
from optimize.checker import check_rcpsp
from optimize_support import act, portfolio, proj, settings


def _portfolio():
    # status 2021-07: A done, B running, the rest not started; a TBM and provincial caps.
    return portfolio(
        [proj("P", 2, "2023-12"), proj("Q", 1, "2022-12")],
        [
            act("A", "P", 6, actual_start="2020-01", actual_finish="2020-06"),
            act("B", "P", 12, preds="A", cost=12, actual_start="2021-01"),
            act("C", "P", 4, preds="B", cost=8, resources=[("TBM", 1)]),
            act("D", "P", 3, preds="C:SS+1", earliest="2022-01"),
            act("E", "Q", 5, preds="C:FF+2", resources=[("TBM", 1)]),
            act("F", "Q", 2, preds="D:SF+3", cost=2),
        ],
        funding=[(2021, "provincial", 12), (2022, "provincial", 10)],
        resources=[("TBM", 1)],
    )


@pytest.fixture(scope="module")
def case():
    pf = _portfolio()
    st = settings(status="2021-07", forced=[("F", "2023-06")])
    plan = optimize.solve(pf, st)
    return pf, st, plan


def corrupt(plan, **shifts):
    """Move activities (by index) by whole months: start and end together, or just the end with end=..."""
    start, end = plan.start.copy(), plan.end.copy()
    for key, delta in shifts.items():
        i = "ABCDEF".index(key[0])
        if key.endswith("_end"):
            end[i] += delta
        else:
            start[i] += delta
            end[i] += delta
    return dataclasses.replace(plan, start=start, end=end)


def test_the_solved_plan_is_valid(case):
    pf, st, plan = case
    assert optimize.check_plan(pf, st, plan) == []


def _one(pf, st, plan, text):
    found = optimize.check_plan(pf, st, plan)
    assert any(text in v for v in found), found
    return found


def test_fs_link(case):
    pf, st, plan = case
    # C follows B (FS): one month earlier breaks it (and C's own successors don't matter here)
    _one(pf, st, corrupt(plan, C=-1), "C: FS link from B")


def test_ss_link_with_lag(case):
    pf, st, plan = case
    bad = corrupt(plan, D=int(plan.start[2] + 1 - plan.start[3]) - 1)  # D before C's start + 1
    _one(pf, st, bad, "D: SS link from C")


def test_ff_link_with_lag(case):
    pf, st, plan = case
    shift = int(plan.end[2] + 2 - plan.end[4]) - 1  # E ends a month before C's end + 2
    _one(pf, st, corrupt(plan, E=shift), "E: FF link from C")


def test_sf_link_with_lag(case):
    pf, st = case[0], settings(status="2021-07")  # without the forced start of F
    plan = case[2]
    shift = int(plan.start[3] + 3 - plan.end[5]) - 1
    _one(pf, st, corrupt(plan, F=shift), "F: SF link from D")


def test_funding_cap(case):
    pf, st, plan = case
    tight = dataclasses.replace(pf, funding=(optimize_cap(2021, 5.0),))
    _one(tight, st, plan, "funding 2021 provincial: the plan spends 6.0000 亿元, the cap is 2.5000 (prorated to 6 months)")


def optimize_cap(year, cap):
    from portfolio.model import FundingCap

    return FundingCap(year, "provincial", cap)


def test_funding_cap_after_moving_work_into_a_capped_year(case):
    pf, st, plan = case
    # C (8 亿 over 4 months) moved into 2021 on top of B's 6 亿 exceeds the prorated 6 (and breaks links)
    found = optimize.check_plan(pf, st, dataclasses.replace(plan, start=np.where(np.arange(6) == 2, 0, plan.start),
                                                            end=np.where(np.arange(6) == 2, 4, plan.end)))
    assert any(v.startswith("funding 2021 provincial") for v in found), found


def test_resource_cap(case):
    pf, st, plan = case
    # E on top of C: two TBMs at work
    shift = int(plan.start[2] - plan.start[4])
    found = optimize.check_plan(pf, st, corrupt(plan, E=shift))
    assert any(v.startswith("resource TBM: 2 units at work") for v in found), found


def test_actual_start_and_finish(case):
    pf, st, plan = case
    _one(pf, st, corrupt(plan, A=1), "A: started 2020-01 (actual)")
    _one(pf, st, corrupt(plan, A_end=1), "A: finished 2020-06 (actual)")
    _one(pf, st, corrupt(plan, B=-1), "B: started 2021-01 (actual)")
    _one(pf, st, corrupt(plan, B_end=1), "B: running since 2021-01 for 12 months should end at month 6")


def test_earliest_start(case):
    pf, st, plan = case
    shift = int((2022 * 12) - (st.status_date + plan.start[3])) - 1
    _one(pf, st, corrupt(plan, D=shift), "D: starts 2021-12, before its earliest start 2022-01")


def test_not_before_the_status_date():
    pf = portfolio([proj("P")], [act("A", "P", 2)])
    st = settings()
    plan = optimize.solve(pf, st)
    _one(pf, st, corrupt(plan, A=-1), "A: has not started by the status date 2021-01")


def test_duration(case):
    pf, st, plan = case
    _one(pf, st, corrupt(plan, C_end=1), "C: lasts 5 months in the plan, the estimate says 4")


def test_forced_start(case):
    pf, st, plan = case
    _one(pf, st, corrupt(plan, F=1), "F: the scenario forces its start to 2023-06")


def test_whole_months(case):
    pf, st, plan = case
    bad = dataclasses.replace(plan, start=plan.start + np.array([0, 0, 0.5, 0, 0, 0]), end=plan.end.astype(float))
    _one(pf, st, bad, "C: start")


def test_hard_deadline():
    pf = portfolio([proj("P", 1, "2021-12")], [act("A", "P", 6)])
    st = settings(hard_deadlines=True)
    plan = optimize.solve(pf, st)
    assert optimize.check_plan(pf, st, plan) == []
    _one(pf, st, corrupt(plan, A=7), "P: finishes 2022-01, after its hard deadline 2021-12")


def test_rcpsp_checker():
    # two jobs 0 -> 1, one resource of capacity 2
    duration, succ, cap, dem = (2, 3), ((1,), ()), (2,), ((2,), (1,))
    assert check_rcpsp(duration, succ, cap, dem, [0, 2]) == []
    assert check_rcpsp(duration, succ, cap, dem, [0, 1]) != []
    assert any("resource 1" in v for v in check_rcpsp((2, 3), ((), ()), (2,), ((2,), (1,)), [0, 0]))
