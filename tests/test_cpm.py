"""CPM against hand-computed networks, and a property test on random acyclic networks.

Status date 2021-01 = t 0. An activity starting at s with duration d ends at t = s + d; its finish
month is ceil(s + d) - 1 months after the status month.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.cpm import cpm, portfolio_critical_path, project_critical_path
from portfolio.model import Activity, Link, Portfolio, Project
from portfolio.months import format_month, parse_month
from portfolio.network import DONE, FUTURE, RUNNING, build_network

STATUS = parse_month("2021-01")
DEADLINE = parse_month("2025-12")


def link(text: str) -> Link:
    """"A", "A:SS", "A:FF+2", "A:FS-1" -> Link."""
    pred, _, spec = text.partition(":")
    if not spec:
        return Link(pred)
    return Link(pred, spec[:2], int(spec[2:] or 0))


def act(aid, duration=1.0, preds="", project="P", earliest=None, actual_start=None, actual_finish=None):
    month = lambda s: parse_month(s) if s else None  # noqa: E731
    return Activity(
        activity_id=aid, project_id=project, name=aid, optimistic=duration, most_likely=duration,
        pessimistic=duration, predecessors=tuple(link(x) for x in preds.split(";") if x), cost=1.0,
        funding_source="central", earliest_start=month(earliest), actual_start=month(actual_start),
        actual_finish=month(actual_finish),
    )


def proj(pid="P"):
    return Project(pid, pid, pid, "other", "", 1.0, None, 1.0, "estimate")


def run(activities, projects=("P",)):
    portfolio = Portfolio(tuple(proj(p) for p in projects), tuple(activities))
    network = build_network(portfolio, STATUS, DEADLINE)
    result = cpm(network, [a.most_likely for a in activities])
    starts = dict(zip(network.activity_ids, result.early_start.tolist()))
    ends = dict(zip(network.activity_ids, result.early_finish.tolist()))
    return network, result, starts, ends


def test_twelve_months_from_the_status_date_finish_in_december_and_fs_follows_in_january():
    network, result, starts, ends = run([act("A", 12), act("B", 6, "A")])
    assert (starts["A"], ends["A"]) == (0, 12)
    assert format_month(network.finish_month(ends["A"])) == "2021-12"
    assert (starts["B"], ends["B"]) == (12, 18)
    assert format_month(network.month_of(starts["B"])) == "2022-01"
    assert format_month(network.finish_month(ends["B"])) == "2022-06"


@pytest.mark.parametrize(
    "duration_b, preds, start_b",
    [
        (6, "A", 12),          # FS: start >= end_A = 12
        (6, "A:FS+2", 14),     # FS+2
        (6, "A:FS-3", 9),      # FS-3: overlap by 3 months
        (3, "A:SS", 0),        # SS: start >= start_A
        (3, "A:SS+2", 2),      # SS+2
        (4, "A:FF", 8),        # FF: end >= 12 -> start 8
        (4, "A:FF+1", 9),      # FF+1: end >= 13
        (4, "A:FF-2", 6),      # FF-2: end >= 10
        (2, "A:SF+3", 1),      # SF+3: end >= start_A + 3 = 3 -> start 1
        (2, "A:SF", 0),        # SF: end >= 0, start clipped at 0
        (20, "A:FF", 0),       # FF that the successor meets anyway: start 0
        (3, "A:SS-2", 0),      # negative SS lag cannot start before t = 0
    ],
)
def test_link_types_and_lags(duration_b, preds, start_b):
    _, _, starts, ends = run([act("A", 12), act("B", duration_b, preds)])
    assert starts["B"] == start_b and ends["B"] == start_b + duration_b


def test_fractional_durations_start_at_the_next_month_boundary():
    _, _, starts, ends = run([act("A", 2.5), act("B", 1, "A"), act("C", 1.5, "A:FF"), act("D", 1, "A:SF+1")])
    assert starts["B"] == 3  # ceil(2.5)
    assert starts["C"] == 1 and ends["C"] == 2.5  # FF: end >= 2.5 -> start >= 1.0
    assert starts["D"] == 0  # SF+1: end >= 1 -> start >= 0


def test_several_links_take_the_latest_bound_and_the_driver_is_that_link():
    network, result, starts, _ = run([act("A", 4), act("B", 10), act("C", 2, "A;B:SS+3;A:FF+1")])
    # FS from A: 4; SS+3 from B: 3; FF+1 from A: end >= 5 -> 3
    assert starts["C"] == 4
    c = network.activity_ids.index("C")
    assert network.pred[result.driver[c]] == network.activity_ids.index("A")


def test_earliest_start():
    _, _, starts, _ = run([act("A", 3), act("B", 2, "A", earliest="2021-07"), act("C", 2, "A", earliest="2020-06")])
    assert starts["B"] == 6  # earliest 2021-07 is later than A's end at 3
    assert starts["C"] == 3  # an earliest start before the status date does not hold it


def test_done_activity_keeps_its_actual_dates():
    network, _, starts, ends = run([
        act("A", 12, actual_start="2020-03", actual_finish="2020-08"),
        act("B", 4, "A"),
        act("C", 4, "A:FS+6"),
    ])
    assert network.state[0] == DONE
    assert (starts["A"], ends["A"]) == (-10, -4)  # ran 2020-03 .. 2020-08, ended at the end of 2020-08
    assert starts["B"] == 0  # FS from a done activity: no wait
    assert starts["C"] == 2  # FS+6 from the end of 2020-08: 2021-03


def test_running_activity_keeps_its_actual_start():
    network, _, starts, ends = run([
        act("A", 10, actual_start="2020-07"),
        act("B", 3, actual_start="2020-01"),
        act("C", 2, "A"),
        act("D", 1, "B:SS+2"),
    ])
    assert list(network.state[:2]) == [RUNNING, RUNNING]
    assert (starts["A"], ends["A"]) == (-6, 4)
    assert (starts["B"], ends["B"]) == (-12, 1)  # its estimate is used up: one month of work is left
    assert starts["C"] == 4
    assert starts["D"] == 0


def test_actuals_from_the_status_month_on_are_not_known_yet():
    network, _, starts, _ = run([act("A", 5), act("B", 2, "A", actual_start="2021-03")])
    assert network.state[1] == FUTURE
    assert starts["B"] == 5


def test_links_into_started_activities_do_not_bind():
    network, _, starts, _ = run([act("A", 5), act("B", 2, "A", actual_start="2020-12")])
    assert len(network.succ) == 0
    assert starts["B"] == -1


def test_late_dates_float_and_critical_path():
    # A(3) -> B(4) -> D(2);  A -> C(1) -> D.  Early: A 0-3, B 3-7, C 3-4, D 7-9.
    network, result, starts, ends = run([act("A", 3), act("B", 4, "A"), act("C", 1, "A"), act("D", 2, "B;C")])
    ids = network.activity_ids
    assert result.early_start.tolist() == [0, 3, 3, 7]
    assert result.late_start.tolist() == [0, 3, 6, 7]
    assert result.late_finish.tolist() == [3, 7, 7, 9]
    assert result.total_float.tolist() == [0, 0, 3, 0]
    assert [ids[i] for i in np.flatnonzero(result.critical())] == ["A", "B", "D"]
    assert [ids[i] for i in project_critical_path(network, result, 0)] == ["A", "B", "D"]
    assert [ids[i] for i in portfolio_critical_path(network, result)] == ["A", "B", "D"]
    assert result.project_end.tolist() == [9]


def test_late_dates_with_lags_and_per_project_ends():
    # P: A(6) SS+2 -> B(3), A FF+1 -> C(2).  Q: X(2) -> Y(2).  Late dates against each project's own end.
    network, result, _, _ = run(
        [act("A", 6), act("B", 3, "A:SS+2"), act("C", 2, "A:FF+1"), act("X", 2, project="Q"), act("Y", 2, "X", project="Q")],
        projects=("P", "Q"),
    )
    assert result.early_start.tolist() == [0, 2, 5, 0, 2]
    assert result.project_end.tolist() == [7, 4]
    # B can end as late as 7 (start 4); A is held by C (FF+1: end_A <= 7 - 1) -> A's float 0
    assert result.late_start.tolist() == [0, 4, 5, 0, 2]
    assert result.total_float.tolist() == [0, 2, 0, 0, 0]


# -- property test ---------------------------------------------------------------------------------


@st.composite
def networks(draw):
    n = draw(st.integers(1, 12))
    durations = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    earliest = draw(st.lists(st.one_of(st.none(), st.integers(-3, 15)), min_size=n, max_size=n))
    # edges i -> j with i < j in a hidden order; the file order is a permutation of it
    perm = draw(st.permutations(range(n)))
    preds = [[] for _ in range(n)]
    for j in range(n):
        for i in range(j):
            if draw(st.booleans()) and draw(st.booleans()):
                kind = draw(st.sampled_from(["FS", "SS", "FF", "SF"]))
                lag = draw(st.integers(-3, 3))
                preds[perm[j]].append(f"T{perm[i]}:{kind}{lag:+d}")
    activities = [
        act(f"T{k}", durations[k], ";".join(preds[k]),
            earliest=None if earliest[k] is None else format_month(STATUS + earliest[k]))
        for k in range(n)
    ]
    return activities


@settings(max_examples=300, deadline=None)
@given(networks())
def test_random_networks_schedule_is_feasible_and_tight(activities):
    network, result, _, _ = run(activities)
    es, ef, d = result.early_start, result.early_finish, np.array([a.most_likely for a in activities])
    assert np.all(ef == es + d)
    bounds = [[0.0, float(network.earliest[j])] for j in range(network.n)]
    for i, j, kind, lag in zip(network.pred, network.succ, network.kind, network.lag):
        holds, bound = {
            0: (es[j] >= ef[i] + lag, ef[i] + lag),  # FS
            1: (es[j] >= es[i] + lag, es[i] + lag),  # SS
            2: (ef[j] >= ef[i] + lag, ef[i] + lag - d[j]),  # FF
            3: (ef[j] >= es[i] + lag, es[i] + lag - d[j]),  # SF
        }[int(kind)]
        assert holds
        bounds[j].append(math.ceil(bound))
    for j in range(network.n):
        a = activities[j]
        if a.earliest_start is not None:
            assert es[j] >= a.earliest_start - STATUS
        assert es[j] == max(bounds[j]), (j, bounds[j])  # no activity starts later than it must
    # late dates: never before the early ones, the late schedule keeps every link, someone is critical
    ls, lf = result.late_start, result.late_finish
    assert np.all(result.total_float >= 0)
    assert np.all(lf <= result.project_end[0])
    for i, j, kind, lag in zip(network.pred, network.succ, network.kind, network.lag):
        assert {0: ls[j] >= lf[i] + lag, 1: ls[j] >= ls[i] + lag, 2: lf[j] >= lf[i] + lag, 3: lf[j] >= ls[i] + lag}[int(kind)]
    assert result.critical().any()
