"""The one progress rule (portfolio.progress): hand-worked networks per link type, and agreement with the truth."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.known import known_at
from portfolio.load import load_portfolio
from portfolio.model import Activity, Link, Portfolio, Project
from portfolio.months import parse_month
from portfolio.network import DONE, build_network
from portfolio.progress import (ACTUAL, DEPENDANT, FUTURE, PROJECT, RUNNING, ActivityProgress, data_as_of,
                                progress_at, project_finish)
from report.backtest import project_outcomes

M = parse_month
STATUS = M("2024-01")
DATA = Path(__file__).resolve().parent.parent / "data"


def act(aid, ml, preds=(), start=None, finish=None, project="P"):
    return Activity(aid, project, aid, ml, ml, ml, tuple(preds), 1.0, "central",
                    actual_start=start and M(start), actual_finish=finish and M(finish))


def portfolio(*acts):
    projects = tuple(Project(pid, pid, pid, "metro", "x", 1.0, None, 1.0, "estimate")
                     for pid in dict.fromkeys(a.project_id for a in acts))
    return Portfolio(projects, tuple(acts))


def progress(*acts, status=STATUS) -> dict[str, ActivityProgress]:
    p = portfolio(*acts)
    return {a.activity_id: q for a, q in zip(p.activities, progress_at(p, status))}


def state(q: ActivityProgress) -> tuple:
    return q.state, q.start, q.finish, q.finish_by


# -- rule 1: known dates ----------------------------------------------------------------------------

def test_actual_dates_in_or_after_the_status_month_are_not_known():
    got = progress(act("A", 6, start="2023-06", finish="2024-01"), act("B", 6, start="2024-01"),
                   act("C", 6, start="2023-01", finish="2023-12"))
    assert state(got["A"]) == (RUNNING, M("2023-06"), None, "")
    assert state(got["B"]) == (FUTURE, None, None, "")
    assert state(got["C"]) == (DONE, M("2023-01"), M("2023-12"), ACTUAL)


# -- rule 2: dependants, per link type --------------------------------------------------------------

def test_fs_dependant_that_started_finishes_its_predecessor_the_month_before():
    # B started 2023-07 after A (FS+1): A finished by 2023-05; A's own FS predecessor C by the month before A's start.
    got = progress(act("C", 4), act("A", 6, [Link("C")], start="2022-10"), act("B", 12, [Link("A", "FS", 1)],
                                                                                 start="2023-07"))
    assert state(got["A"]) == (DONE, M("2022-10"), M("2023-05"), DEPENDANT)
    assert state(got["C"]) == (DONE, M("2022-06"), M("2022-09"), DEPENDANT)  # no start: 4 months before its end


def test_ff_dependant_finishes_its_predecessor_only_once_it_has_finished():
    running = progress(act("A", 6, start="2022-01"), act("B", 6, [Link("A", "FF", 2)], start="2023-01"),
                       act("C", 1, [Link("B")]))
    assert state(running["A"]) == (RUNNING, M("2022-01"), None, "")
    done = progress(act("A", 6, start="2022-01"), act("B", 6, [Link("A", "FF", 2)], start="2023-01",
                                                      finish="2023-08"))
    assert state(done["A"]) == (DONE, M("2022-01"), M("2023-06"), DEPENDANT)


def test_ss_dependant_starts_its_predecessor_but_never_finishes_it():
    got = progress(act("A", 3), act("B", 12, [Link("A", "SS", 2)], start="2023-03"),
                   act("X", 2, start="2020-01"), act("Y", 12, [Link("X", "SS")], start="2020-02"))
    assert state(got["A"]) == (RUNNING, M("2023-01"), None, "")  # its 3 months have run out: still running
    assert state(got["X"]) == (RUNNING, M("2020-01"), None, "")  # four years after its start


def test_sf_dependant_starts_its_predecessor_once_it_has_finished():
    opening = act("C", 1, [Link("B")])  # not started: the project is not finished
    started = progress(act("A", 6), act("B", 4, [Link("A", "SF", 1)], start="2023-02"), opening)
    assert state(started["A"]) == (FUTURE, None, None, "")
    finished = progress(act("A", 6), act("B", 4, [Link("A", "SF", 1)], start="2023-02", finish="2023-05"), opening)
    assert state(finished["A"]) == (RUNNING, M("2023-05"), None, "")  # start_A + 1 <= end of 2023-05


def test_a_bound_in_or_after_the_status_month_implies_nothing():
    got = progress(act("A", 6), act("B", 12, [Link("A", "FS", -3)], start="2023-11"))
    assert state(got["A"]) == (FUTURE, None, None, "")  # A ended by 2024-01: not before the status month


def test_the_earliest_of_several_bounds_counts_and_inferences_chain():
    got = progress(act("A", 2), act("B", 3, [Link("A")], start="2023-09"), act("C", 3, [Link("A")], start="2023-04"),
                   act("D", 5, [Link("B", "FF")], start="2023-09", finish="2023-11"))
    assert state(got["A"]) == (DONE, M("2023-02"), M("2023-03"), DEPENDANT)  # C's start, not B's
    assert state(got["B"]) == (DONE, M("2023-09"), M("2023-11"), DEPENDANT)  # from D's finish (FF)


def test_a_dependant_in_another_project_counts():
    got = progress(act("A", 6, start="2022-01", project="P"), act("Z", 1, [Link("A")], project="P"),
                   act("B", 6, [Link("A")], start="2023-03", project="Q"))
    assert state(got["A"]) == (DONE, M("2022-01"), M("2023-02"), DEPENDANT)
    assert got["Z"].state == FUTURE  # P's final activity has not started: P is not finished


# -- rule 3: project completion ---------------------------------------------------------------------

def metro_line(opening_finish: str | None):
    """The shape of Xi'an metro line 8: archaeology -SS-> stations and tunnels -FS-> systems -FS-> opening."""
    return (act("T1", 16, start="2019-10"), act("T2", 36, [Link("T1", "SS")], start="2019-10"),
            act("T3", 38, [Link("T1", "SS")], start="2019-10"), act("T4", 12, [Link("T2"), Link("T3")]),
            act("T5", 5, [Link("T4")], start="2024-08", finish=opening_finish))


def test_the_final_activity_finishing_finishes_every_phase_of_the_project():
    got = progress(*metro_line("2024-12"), status=M("2026-11"))
    assert state(got["T5"]) == (DONE, M("2024-08"), M("2024-12"), ACTUAL)
    assert state(got["T4"]) == (DONE, M("2023-08"), M("2024-07"), DEPENDANT)
    assert state(got["T2"]) == (DONE, M("2019-10"), M("2023-07"), DEPENDANT)
    assert state(got["T1"]) == (DONE, M("2019-10"), M("2024-12"), PROJECT)  # SS only: by the opening


def test_before_the_opening_an_ss_predecessor_is_still_running():
    got = progress(*metro_line(None), status=M("2024-10"))
    assert state(got["T1"]) == (RUNNING, M("2019-10"), None, "")
    assert got["T2"].state == DONE and got["T5"].state == RUNNING


def test_a_project_with_an_unfinished_final_activity_is_not_finished():
    got = progress(act("A", 6, start="2020-01"), act("B", 6, [Link("A", "SS")], start="2020-01", finish="2021-01"),
                   act("C", 6, [Link("A", "SS")], start="2020-02"))
    assert got["A"].state == RUNNING and got["C"].state == RUNNING


def test_a_project_completion_can_imply_more_through_another_project():
    # P's opening B finished: A (SS into B) is finished in 2023-06; A's FS predecessor X in project Q then too.
    got = progress(act("X", 3, project="Q"), act("Y", 1, [Link("X")], project="Q"),
                   act("A", 4, [Link("X")], project="P"), act("B", 6, [Link("A", "SS")], start="2022-01",
                                                              finish="2023-06", project="P"))
    assert state(got["A"]) == (DONE, M("2022-01"), M("2023-06"), PROJECT)
    assert state(got["X"]) == (DONE, M("2021-10"), M("2021-12"), DEPENDANT)


# -- the network and the truth read the same rule -----------------------------------------------------

def test_the_network_takes_its_states_and_dates_from_the_rule():
    p = portfolio(*metro_line("2024-12"))
    n = build_network(p, M("2026-11"), M("2025-12"))
    assert list(n.state) == [DONE] * 5
    assert max(n.finish_month(e) for e in n.fixed_end) == M("2024-12")


@pytest.fixture(scope="module")
def bundled():
    return load_portfolio(DATA)


@pytest.mark.parametrize("status", ["2019-01", "2021-01", "2023-07", "2024-12", "2025-01", "2025-12", "2026-01",
                                    "2026-04", "2026-11"])
def test_network_and_backtest_truth_agree_on_the_bundled_data(bundled, status):
    """For every project: the truth's "finished before T" (full data) is the network's verdict at T."""
    as_of = data_as_of(bundled)
    truth = {o.project_id: o.finish for o in project_outcomes(bundled, M(status), M("2025-12"), as_of)}
    for seen in (bundled, known_at(bundled, M(status))):
        n = build_network(seen, M(status), M("2025-12"))
        for k, pid in enumerate(n.project_ids):
            finished = bool((n.state[n.project_of == k] == DONE).all())
            assert finished == (truth[pid] is not None and truth[pid] < M(status)), (pid, status)
            if finished:
                ends = n.fixed_end[n.project_of == k]
                assert max(n.finish_month(e) for e in ends) == truth[pid], (pid, status)


@st.composite
def recorded_projects(draw):
    """A single project executed as its links say (lags >= 0, the final activities last), then partly recorded."""
    n = draw(st.integers(2, 7))
    acts, starts, finishes = [], [], []
    for j in range(n):
        preds = sorted(draw(st.sets(st.integers(0, j - 1), max_size=3))) if j else []
        links = [Link(f"A{i}", draw(st.sampled_from(["FS", "SS", "FF", "SF"])), draw(st.integers(0, 3)))
                 for i in preds]
        start = draw(st.integers(0, 4))
        for link in links:
            i = int(link.predecessor[1:])
            start = max(start, finishes[i] + 1 + link.lag if link.kind == "FS" else
                        starts[i] + link.lag if link.kind == "SS" else 0)
        finish = start + draw(st.integers(0, 6))
        for link in links:
            i = int(link.predecessor[1:])
            finish = max(finish, finishes[i] + link.lag if link.kind == "FF" else
                         starts[i] + link.lag - 1 if link.kind == "SF" else 0)
        starts.append(start)
        finishes.append(finish)
        acts.append((f"A{j}", links))
    final = [j for j in range(n) if not any(link.predecessor == f"A{j}" for _, ls in acts for link in ls)]
    last = max(finishes)
    for j in final:
        finishes[j] = max(finishes[j], last)
    base = M("2020-01")
    out = []
    for j, (aid, links) in enumerate(acts):
        recorded = draw(st.sampled_from(["both", "start", "none"]))
        start = base + starts[j] if recorded != "none" else None
        finish = base + finishes[j] if recorded == "both" else None
        out.append(Activity(aid, "P", aid, 2.0, 3.0, 5.0, tuple(links), 1.0, "central",
                            actual_start=start, actual_finish=finish))
    return portfolio(*out)


@settings(max_examples=200, deadline=None)
@given(recorded_projects(), st.integers(0, 30))
def test_finished_at_a_status_date_is_finished_before_it_in_the_full_data(p, months):
    """Whatever was recorded of a consistent execution: finished at T by the dates known then <=> the full data's
    finish month is before T."""
    status = M("2020-01") + months
    full = project_finish(p, progress_at(p, None), "P")
    now = project_finish(p, progress_at(p, status), "P")
    assert (now is not None) == (full is not None and full < status)


def test_reforecast_2026_11_keeps_every_project_finished_before_the_data_date_finished():
    """Metro L8 opened 2024-12: the 2026-11 re-forecast must say so (it said 2026-11, 11 months late, before the
    one rule), and so for every project the data records as finished."""
    import simulate
    from portfolio.months import format_month
    from scenarios.load import load_target

    portfolio, settings = load_target(DATA.parent / "scenarios" / "reforecast-2026-11.toml")
    sim = simulate.run(portfolio, settings, iterations=64).simulation.set_index("project_id")
    as_of = data_as_of(portfolio)
    finished = {o.project_id: o for o in project_outcomes(portfolio, settings.status_date, settings.deadline, as_of)
                if o.finish is not None}
    assert finished["XAM-L8"].finish == M("2024-12") and finished["XAM-L8"].on_time
    for pid, outcome in finished.items():
        row = sim.loc[pid]
        assert row["finish_p50"] == row["finish_p90"] == format_month(outcome.finish), pid
        assert float(row["p_on_time"]) == float(outcome.on_time), pid
