"""Hindsight-free inputs: a figure with a ``known_since`` date enters the forecast exactly at that date.

Each dated figure is checked at T = known_since - 1 (absent, or its earlier value) and at
T = known_since (present, or its new value): an activity with its links, a link of its own,
an earliest start, a risk and its versions, a deadline and its history. The bundled data's
leaks named in issue 18 are checked to be invisible to the 2021-01 forecast.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from portfolio.errors import InputError
from portfolio.known import deadline_at, known_at
from portfolio.load import check_portfolio, load_portfolio
from portfolio.months import parse_month
from portfolio.progress import data_as_of
from report.backtest import LATE, UNKNOWN, project_outcomes
from report.multiorigin import project_events
from runs.backtest import forecast
from scenarios.load import load_target

M = parse_month
ROOT = Path(__file__).resolve().parents[1]

ACTIVITIES = (
    "activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
    "earliest_start,actual_start,actual_finish,resources,source,known_since,earliest_start_known_since\n"
    "XIY.T1,XIY,设计,6,8,12,,10,central,,2020-03,2020-10,,estimate,,\n"
    "XIY.T2,XIY,航站楼施工,30,36,48,XIY.T1,300,provincial,,2020-11,,CRANE:2,estimate,,\n"
    "XIY.T3,XIY,机电安装,10,12,18,XIY.T2:SS+12;XIY.T1;HJW.T1@2023-04,100,bond,,,,CRANE,estimate,,\n"
    "HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,,,TBM:1,estimate,,2021-05\n"
    "HJW.T2,HJW,输配水管线,12,14,20,HJW.T1:FF+2;HJW.T3,50,local,,,,,estimate,,\n"
    "HJW.T3,HJW,补充勘察,30,40,60,,5,local,,,,,estimate,2022-03,\n"
)
RISKS = (
    "risk_id,name,probability,optimistic,most_likely,pessimistic,affects,source,known_since\n"
    "R1,地质不良,0.3,1,3,6,HJW.T1,estimate,\n"
    "R1,地质不良（修订）,0.5,2,4,8,HJW.T1,estimate,2022-06\n"
    "R2,资金到位延迟,0.2,0,2,4,HJW.T2;category:aviation,estimate,\n"
    "R3,勘察发现,0.4,1,2,3,HJW.T3;XIY.T3,estimate,2023-01\n"
)
DEADLINES = (
    "project_id,deadline,known_since,source\n"
    "XIY,2024-06,,estimate\n"
    "XIY,2025-12,2022-09,estimate\n"
)


@pytest.fixture
def dated(write_data):
    return write_data({"activities.csv": ACTIVITIES, "risks.csv": RISKS, "deadlines.csv": DEADLINES})


def _links(portfolio, aid: str) -> list[str]:
    return [link.predecessor for link in portfolio.activity(aid).predecessors]


def _ids(portfolio) -> set[str]:
    return {a.activity_id for a in portfolio.activities}


def test_an_activity_and_its_links_enter_exactly_at_known_since(dated):
    p = load_portfolio(dated)
    before, at = known_at(p, M("2022-02")), known_at(p, M("2022-03"))
    assert "HJW.T3" not in _ids(before) and "HJW.T3" not in _links(before, "HJW.T2")
    assert "HJW.T3" in _ids(at) and _links(at, "HJW.T2") == ["HJW.T1", "HJW.T3"]


def test_a_dated_link_enters_exactly_at_its_month(dated):
    p = load_portfolio(dated)
    assert _links(known_at(p, M("2023-03")), "XIY.T3") == ["XIY.T2", "XIY.T1"]
    assert _links(known_at(p, M("2023-04")), "XIY.T3") == ["XIY.T2", "XIY.T1", "HJW.T1"]
    assert str(p.activity("XIY.T3").predecessors[2]) == "HJW.T1@2023-04"


def test_an_earliest_start_enters_exactly_at_its_month(dated):
    p = load_portfolio(dated)
    assert known_at(p, M("2021-04")).activity("HJW.T1").earliest_start is None
    assert known_at(p, M("2021-05")).activity("HJW.T1").earliest_start == M("2021-06")


def test_a_risk_and_its_versions_enter_exactly_at_known_since(dated):
    p = load_portfolio(dated)
    assert [(r.risk_id, r.probability) for r in p.risks] == [("R1", 0.5), ("R2", 0.2), ("R3", 0.4)]  # today's
    risks = lambda t: {r.risk_id: r for r in known_at(p, M(t)).risks}  # noqa: E731
    assert risks("2022-05")["R1"].probability == 0.3 and risks("2022-06")["R1"].probability == 0.5
    assert "R3" not in risks("2022-12")
    assert risks("2023-01")["R3"].affects == ("XIY.T3", "HJW.T3")


def test_a_risk_loses_the_activities_not_yet_known(dated):
    text = RISKS.replace("R3,勘察发现,0.4,1,2,3,HJW.T3;XIY.T3,estimate,2023-01", "R3,勘察发现,0.4,1,2,3,HJW.T3;XIY.T3,estimate,")
    p = load_portfolio(dated)
    q = dataclasses.replace(p, risks=tuple(dataclasses.replace(r, known_since=None) if r.risk_id == "R3" else r
                                           for r in p.risks))
    assert text != RISKS
    assert {r.risk_id: r.affects for r in known_at(q, M("2022-02")).risks}["R3"] == ("XIY.T3",)


def test_a_deadline_takes_the_latest_entry_known(dated):
    p = load_portfolio(dated)
    assert p.project("XIY").deadline == M("2025-12")  # projects.csv: the current one
    assert known_at(p, M("2022-08")).project("XIY").deadline == M("2024-06")
    assert known_at(p, M("2022-09")).project("XIY").deadline == M("2025-12")
    assert deadline_at(p, "XIY", None) == M("2025-12")
    assert known_at(p, M("2022-08")).project("HJW").deadline is None  # no history: unchanged


def test_the_forecast_sees_a_dated_activity_exactly_from_known_since(dated, write_data):
    """The forecast at known_since - 1 equals one made from data without the row; at known_since, one with it always."""
    p = load_portfolio(dated)
    without = dataclasses.replace(p, activities=tuple(
        dataclasses.replace(a, predecessors=tuple(x for x in a.predecessors if x.predecessor != "HJW.T3"))
        for a in p.activities if a.activity_id != "HJW.T3"), risks=tuple(
        dataclasses.replace(r, affects=tuple(x for x in r.affects if x != "HJW.T3")) for r in p.risks))
    always = dataclasses.replace(p, activities=tuple(dataclasses.replace(a, known_since=None) for a in p.activities))

    def sim(portfolio, status):
        path = dated.parent / f"s-{status}.toml"
        path.write_text(f'data = "{dated.name}"\nstatus_date = "{status}"\ndeadline = "2025-12"\n'
                        '[simulate]\niterations = 100\nseed = 3\n', encoding="utf-8")
        _, settings = load_target(path)
        return forecast(portfolio, settings, use_plan=False)[1].simulation

    assert sim(p, "2022-02").equals(sim(without, "2022-02"))
    assert sim(p, "2022-03").equals(sim(always, "2022-03"))
    assert not sim(p, "2022-03").equals(sim(without, "2022-03"))


def test_known_at_leaves_undated_data_unchanged(mini_data):
    p = load_portfolio(mini_data)
    for status in ("2019-01", "2021-01", "2030-01"):
        q = known_at(p, M(status))
        assert (q.projects, [a.activity_id for a in q.activities], q.risks) == (
            p.projects, [a.activity_id for a in p.activities], p.risks)


@pytest.mark.parametrize("name, changes, expected", [
    ("bad known_since", {"activities.csv": ACTIVITIES.replace("estimate,2022-03,", "estimate,2022-3x,")},
     ("activities.csv", 7, 15, 'known_since: expected a month as YYYY-MM, got "2022-3x"')),
    ("bad link month", {"activities.csv": ACTIVITIES.replace("HJW.T1@2023-04", "HJW.T1@2023-13")},
     ("activities.csv", 4, 7, 'predecessors: expected a month as YYYY-MM after @ (the month the link became known), '
                             'got "HJW.T1@2023-13"')),
    ("earliest_start_known_since alone", {"activities.csv": ACTIVITIES.replace(
        "HJW.T3,HJW,补充勘察,30,40,60,,5,local,,,,,estimate,2022-03,", "HJW.T3,HJW,补充勘察,30,40,60,,5,local,,,,,estimate,2022-03,2022-04")},
     ("activities.csv", 7, 16, "earliest_start_known_since: given without earliest_start (expected both, or neither)")),
    ("two versions of a risk from the same month", {"risks.csv": RISKS.replace("estimate,2022-06", "estimate,")},
     ("risks.csv", 3, 1, 'risk_id: duplicate "R1" (first on line 2)')),
    ("deadline of an unknown project", {"deadlines.csv": DEADLINES + "XYZ,2025-12,2022-01,estimate\n"},
     ("deadlines.csv", 4, 1, 'project_id: unknown project "XYZ" (expected a project_id from projects.csv)')),
    ("invisible character in a deadline's project", {"deadlines.csv": DEADLINES.replace("XIY,2024-06", "XIY\u200b,2024-06")},
     ("deadlines.csv", 2, 1, 'project_id: invisible character U+200B ZERO WIDTH SPACE in "XIY<U+200B>" (delete it and '
                             "retype the id)")),
    ("history disagreeing with projects.csv", {"deadlines.csv": DEADLINES.replace("2025-12,2022-09", "2026-06,2022-09")},
     ("deadlines.csv", 3, 2, 'deadline: the latest entry of "XIY" is "2026-06" but its deadline in projects.csv is a '
                             'different month (expected the same current deadline)')),
])
def test_bad_dates_give_one_clear_problem(write_data, name, changes, expected):
    files = {"activities.csv": ACTIVITIES, "risks.csv": RISKS, "deadlines.csv": DEADLINES, **changes}
    portfolio, problems = check_portfolio(write_data(files))
    assert portfolio is None
    assert [(Path(p.file).name, p.line, p.column, p.message) for p in problems] == [expected]


def test_a_deadline_names_its_project_in_full_width_letters_too(write_data):
    folder = write_data({"activities.csv": ACTIVITIES, "deadlines.csv": DEADLINES.replace("XIY,2024-06", "ＸＩＹ,2024-06")})
    assert [d.project_id for d in load_portfolio(folder).deadlines] == ["XIY", "XIY"]


def test_a_data_folder_without_the_new_columns_and_files_still_loads(mini_data):
    p = load_portfolio(mini_data)
    assert p.deadlines == () and p.earlier_risks == ()
    assert all(a.known_since is None and a.earliest_start_known_since is None for a in p.activities)
    for folder in (ROOT / "data",):
        load_portfolio(folder)
    with pytest.raises(InputError):
        load_portfolio(mini_data / "missing")


# -- the bundled data: the leaks of issue 18 are invisible at 2021-01 ----------------------------

@pytest.fixture(scope="module")
def bundled():
    return load_portfolio(ROOT / "data")


def test_the_2021_forecast_does_not_see_the_named_leaks(bundled):
    seen = known_at(bundled, M("2021-01"))
    # 西延 T3/T4 earliest_start 2021-05 (from a 2022 source)
    for aid in ("XAHSR-YA.T3", "XAHSR-YA.T4"):
        assert bundled.activity(aid).earliest_start == M("2021-05")
        assert seen.activity(aid).earliest_start is None
    # 西安东站 and its links into 西康's and 西十's acceptance (2022 and 2025 sources)
    assert "XAHSR-AK.T5" in _ids(bundled) and "XAHSR-AK.T5" not in _ids(seen)
    for aid in ("XAHSR-AK.T7", "XAHSR-SY.T7"):
        assert "XAHSR-AK.T5" in _links(bundled, aid) and "XAHSR-AK.T5" not in _links(seen, aid)
    assert "XAHSR-AK.T5" not in _links(known_at(bundled, M("2025-11")), "XAHSR-SY.T7")
    assert "XAHSR-AK.T5" in _links(known_at(bundled, M("2025-12")), "XAHSR-SY.T7")
    # risks anchored on post-2021 slips of scored projects
    risks = {r.risk_id: r for r in seen.risks}
    assert "R04" not in risks and "R13" not in risks and "R14" not in risks
    assert risks["R15"].probability == 0.3 and risks["R15"].affects == ("XAM-L8.T2", "XAM-L8.T3", "XAM-L8.T4")
    assert {r.risk_id: r for r in bundled.risks}["R15"].probability == 0.5
    assert bundled.risks[[r.risk_id for r in bundled.risks].index("R02")].known_since == M("2020-11")  # known before
    # deadlines from post-2021 documents: the target known in 2021 instead
    at_2021 = {p.project_id: p.deadline for p in seen.projects}
    today = {p.project_id: p.deadline for p in bundled.projects}
    changed = {pid for pid in today if at_2021.get(pid) != today[pid]}
    assert changed == {"GUXIAN", "DONGZHUANG", "XAHSR-CQ", "BAOJI-APT", "YL-APT-RAIL"}  # G70's estimate is the same
    assert at_2021["YL-APT-RAIL"] == M("2021-12") and today["YL-APT-RAIL"] == M("2029-12")
    assert all(d.known_since is None or d.known_since <= M("2021-01") for d in seen.deadlines)


def test_the_hub_programme_exists_from_its_launch_in_2020_07(bundled):
    """CR-EXP (the 中欧班列 hub demonstration project) was created by NDRC in 2020-07: no forecast before it sees
    the project, and no backtest scores it there (before, the 2019-01 and 2020-01 origins scored it as late)."""
    def hub(status):
        return {a.activity_id for a in known_at(bundled, M(status)).activities if a.project_id == "CR-EXP"}
    assert hub("2020-06") == set() and len(hub("2020-07")) == 6
    for origin in ("2019-01", "2020-01"):
        assert "CR-EXP" not in {e.event_id for e in project_events(bundled, M(origin), M("2025-12"),
                                                                    data_as_of(bundled))}
        outcome = {o.project_id: o for o in project_outcomes(bundled, M(origin), M("2025-12"), data_as_of(bundled))}
        assert not outcome["CR-EXP"].scored and outcome["CR-EXP"].note.startswith("not known at the status date")


def test_the_2021_backtest_scores_the_known_miss_and_not_the_unfound_runway(bundled):
    outcomes = {o.project_id: o for o in project_outcomes(bundled, M("2021-01"), M("2025-12"), data_as_of(bundled))}
    miss = outcomes["YL-APT-RAIL"]
    assert (miss.deadline, miss.label, miss.scored) == (M("2021-12"), LATE, True)
    airport = outcomes["XIY-P3"]
    assert (airport.label, airport.scored) == (UNKNOWN, False) and "XIY-P3.T9" in airport.note
    assert outcomes["HJW-2"].label == LATE  # other unfinished work, not only a row whose completion is not found
