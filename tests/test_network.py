"""The network seen from a status date: actual dates, and the progress they imply."""
from __future__ import annotations

from portfolio.model import Activity, Link, Portfolio, Project
from portfolio.months import parse_month
from portfolio.network import DONE, FUTURE, RUNNING, build_network

STATUS = parse_month("2024-01")


def act(aid, ml, preds=(), start=None, finish=None):
    return Activity(aid, "P", aid, ml, ml, ml, tuple(preds), 1.0, "central",
                    actual_start=start and parse_month(start), actual_finish=finish and parse_month(finish))


def network(*acts):
    project = Project("P", "项目", "P", "rail", "省发展改革委", 1.0, None, float(len(acts)), "estimate")
    return build_network(Portfolio((project,), tuple(acts)), STATUS, parse_month("2025-12"))


def test_actuals_in_or_after_the_status_month_are_not_known_yet():
    n = network(act("A", 6, start="2023-06", finish="2024-01"), act("B", 6, start="2024-01"))
    assert list(n.state) == [RUNNING, FUTURE]
    assert n.fixed_start[0] == -7


def test_fs_successor_that_started_implies_its_predecessor_is_done():
    # B started 2023-07 after A (FS): A must have ended by then; C before A too.
    n = network(act("C", 4), act("A", 6, [Link("C")]), act("B", 12, [Link("A")], start="2023-07"))
    assert list(n.state) == [DONE, DONE, RUNNING]
    assert (n.fixed_start[1], n.fixed_end[1]) == (-6 - 6, -6)
    assert (n.fixed_start[0], n.fixed_end[0]) == (-12 - 4, -12)


def test_ss_successor_implies_a_start_but_never_a_finish():
    # A's SS+2 successor B started 2023-03: A started by 2023-01 and is running, though its 3 months have run out.
    n = network(act("A", 3), act("B", 12, [Link("A", "SS", 2)], start="2023-03"),
                act("X", 24), act("Y", 12, [Link("X", "SS")], start="2023-10"))
    assert n.state[0] == RUNNING and n.fixed_start[0] == -12
    assert n.state[2] == RUNNING and n.fixed_start[2] == -3
    assert list(n.elapsed()) == [12, 10, 3, 3]


def test_a_bound_after_the_status_date_implies_nothing():
    n = network(act("A", 6), act("B", 12, [Link("A", "FS", -3)], start="2023-11"))
    assert n.state[0] == FUTURE
