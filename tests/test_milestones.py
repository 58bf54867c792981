"""Milestones (milestones.csv): checked on load, forecast as events, hidden before their known_since; and the
sourced progress of the 2026-11 re-forecast hidden from a 2021 forecast."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulate
from portfolio.errors import InputError
from portfolio.known import known_at
from portfolio.load import load_portfolio
from portfolio.milestones import load_milestones, milestones_at
from portfolio.months import parse_month as M
from scenarios.load import load_target
from simulate.milestones import event_months, forecast

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "milestone_id,project_id,name,activity_id,event,deadline,known_since,actual,source\n"

# One project: A.T1 done 2020-03..2020-10; A.T2 exactly 6 months after it; A.T3 uncertain, after A.T2.
ACTIVITIES = (
    "activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
    "earliest_start,actual_start,actual_finish,resources,source\n"
    "XIY.T1,XIY,设计,6,8,12,,10,central,,2020-03,2020-10,,estimate\n"
    "XIY.T2,XIY,土建,6,6,6,XIY.T1,10,central,,,,,estimate\n"
    "XIY.T3,XIY,验收,2,5,12,XIY.T2,10,central,,,,,estimate\n"
)
PROJECTS = (
    "project_id,name_zh,name_en,category,lead_agency,priority,deadline,budget,source\n"
    "XIY,西安咸阳国际机场三期扩建工程,Xi'an Airport Phase III,aviation,省发展改革委,3,2021-12,476.45,estimate\n"
)


@pytest.fixture
def folder(write_data):
    return write_data({"projects.csv": PROJECTS, "activities.csv": ACTIVITIES, "funding.csv": "year,source,cap,note\n",
                       "risks.csv": "risk_id,name,probability,optimistic,most_likely,pessimistic,affects,source\n",
                       "resources.csv": "resource_id,name,capacity,source\n"})


def _settings(folder, tmp_path, status="2021-01"):
    """The scenario without the deadline-pressure draw (tests/test_execution_rules.py checks it): the cases below
    give an activity an exact duration, which a held project would crash."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'name = "m"\ndata = "{folder.as_posix()}"\nstatus_date = "{status}"\ndeadline = "2025-12"\n'
                        "[simulate]\niterations = 400\nseed = 7\ndeadline_pressure = false\n", encoding="utf-8")
    return load_target(scenario)


def test_the_bundled_milestones_load_with_their_versions():
    p = load_portfolio(DATA)
    ms = load_milestones(DATA, p)
    assert {m.milestone_id for m in ms} == {"M-HJW1-TUNNEL", "M-HJW1-WATER", "M-DZ-CONCRETE", "M-DZ-IMPOUND"}
    latest = {m.milestone_id: m for m in milestones_at(ms, None)}
    assert latest["M-HJW1-TUNNEL"].deadline == M("2022-12") and latest["M-HJW1-TUNNEL"].actual == M("2022-02")
    assert latest["M-HJW1-WATER"].deadline == M("2020-12") and latest["M-DZ-IMPOUND"].actual is None
    for m in ms:
        assert m.source.startswith("http")


def test_a_folder_without_milestones_has_none(folder):
    assert load_milestones(folder, load_portfolio(folder)) == ()


@pytest.mark.parametrize("row, message", [
    ("M1,XIY,x,XIY.T9,finish,2021-06,,,s", '3:4: activity_id: unknown activity "XIY.T9"; did you mean "XIY.T3"?'),
    ("M1,XIY,x,XIY.T2,end,2021-06,,,s", '3:5: event: expected start or finish, got "end"'),
    ("M1,XIY,x,XIY.T2,finish,2021-13,,,s", '3:6: deadline: expected a month as YYYY-MM, got "2021-13"'),
    ("M1,XIY,x,XIY.T2,finish,,,,s", "3:6: deadline: expected a month as YYYY-MM, got an empty field"),
    ("M1,XIY,x,XIY.T1,finish,2021-06,,2020-09,s", '3:8: actual: differs from the finish of "XIY.T1" in activities.csv'),
    ("M0,XIY,x,XIY.T2,finish,2021-06,,,s", '3:1: milestone_id: duplicate "M0" (first on line 2)'),
    # the rules of the other data files: months from 1900 to 2199, ids checked by portfolio.ids
    ("M1,XIY,x,XIY.T2,finish,0001-06,,,s", '3:6: deadline: expected a month from 1900-01 to 2199-12, got "0001-06"'),
    ("M1,XIY,x,XIY.T2,finish,2021-06,9999-01,,s",
     '3:7: known_since: expected a month from 1900-01 to 2199-12, got "9999-01"'),
    ("M1,XIY,x,XIY.T2,finish,2021-06,,1899-12,s", '3:8: actual: expected a month from 1900-01 to 2199-12, got "1899-12"'),
    ("M\u200b1,XIY,x,XIY.T2,finish,2021-06,,,s",
     '3:1: milestone_id: invisible character U+200B ZERO WIDTH SPACE in "M<U+200B>1" (delete it and retype the id)'),
    ("M\u04251,XIY,x,XIY.T2,finish,2021-06,,,s", '3:1: milestone_id: "M\u04251" mixes Latin and Cyrillic letters '
     "(U+0425 CYRILLIC CAPITAL LETTER HA), which can look alike (retype the id in one alphabet)"),
    ("M1,XIY,x,XIY.T\u200b2,finish,2021-06,,,s",
     '3:4: activity_id: invisible character U+200B ZERO WIDTH SPACE in "XIY.T<U+200B>2" (delete it and retype the id)'),
    ("M1 2,XIY,x,XIY.T2,finish,2021-06,,,s", '3:1: milestone_id: expected an id without spaces, ";", ":" or ",", '
     'got "M1 2"'),
    ("Ｍ０,XIY,x,XIY.T2,finish,2021-06,,,s", '3:1: milestone_id: duplicate "M0" (written "Ｍ０"; first on line 2)'),
])
def test_a_bad_row_is_named_by_file_line_and_column(folder, row, message):
    (folder / "milestones.csv").write_text(HEADER + "M0,XIY,x,XIY.T2,start,2021-06,,,s\n" + row + "\n",
                                           encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_milestones(folder, load_portfolio(folder))
    assert str(e.value) == f"{folder / 'milestones.csv'}:{message}"


def test_full_width_ids_are_the_ids_they_fold_to(folder):
    (folder / "milestones.csv").write_text(HEADER + "Ｍ１,ＸＩＹ,x,ＸＩＹ.Ｔ２,finish,２０２１-０６,,,s\n", encoding="utf-8")
    (m,) = load_milestones(folder, load_portfolio(folder))
    assert (m.milestone_id, m.project_id, m.activity_id, m.deadline) == ("M1", "XIY", "XIY.T2", M("2021-06"))


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00garbage", ":0:0: cannot read: not UTF-8 or GB18030 text"),
    (HEADER.encode() + b'"M1,XIY,x,XIY.T2,finish,2021-06,,,s\n', ":2:0: a quoted field that starts on this line is never "
                                                               'closed (a closing " is missing)'),
    (b"milestone_id,project_id\n", ':1:0: missing required column "activity_id"'),
])
def test_a_damaged_file_is_one_problem_not_a_traceback(folder, data, message):
    (folder / "milestones.csv").write_bytes(data)
    with pytest.raises(InputError) as e:
        load_milestones(folder, load_portfolio(folder))
    assert str(e.value).split("\n")[0] == f"{folder / 'milestones.csv'}{message}"


def test_a_milestone_is_forecast_as_its_activitys_event(folder, tmp_path):
    """A.T2 (exactly 6 months) starts at the status 2021-01 and finishes 2021-06 in every iteration; A.T3's finish
    is the project's finish, so its milestone has the project's P(on time) and percentiles."""
    (folder / "milestones.csv").write_text(
        HEADER + "M-START,XIY,x,XIY.T2,start,2020-12,,,s\n"
                 "M-T2,XIY,x,XIY.T2,finish,2021-06,,,s\n"
                 "M-LATE,XIY,x,XIY.T2,finish,2021-05,,,s\n"
                 "M-END,XIY,x,XIY.T3,finish,2021-12,,,s\n"
                 "M-DONE,XIY,x,XIY.T1,finish,2020-09,,2020-10,s\n", encoding="utf-8")
    portfolio, settings = _settings(folder, tmp_path)
    ms = load_milestones(folder, portfolio)
    table = forecast(portfolio, settings, ms).set_index("milestone_id")
    assert table.loc["M-START", ["p_on_time", "month_p50", "month_p90"]].tolist() == [0.0, "2021-01", "2021-01"]
    assert table.loc["M-T2", ["p_on_time", "month_p50", "month_p90"]].tolist() == [1.0, "2021-06", "2021-06"]
    assert table.loc["M-LATE", "p_on_time"] == 0.0
    assert table.loc["M-DONE", ["p_on_time", "month_p50", "actual"]].tolist() == [0.0, "2020-10", "2020-10"]
    sim = simulate.run(portfolio, settings).simulation.set_index("project_id").loc["XIY"]
    end = table.loc["M-END"]
    assert end["p_on_time"] == float(sim["p_on_time"]) and 0 < end["p_on_time"] < 1
    assert [end[f"month_p{q}"] for q in (50, 80, 90)] == [sim[f"finish_p{q}"] for q in (50, 80, 90)]


def test_event_months_do_not_depend_on_the_engine(folder, tmp_path):
    (folder / "milestones.csv").write_text(HEADER + "M-END,XIY,x,XIY.T3,finish,2021-12,,,s\n", encoding="utf-8")
    portfolio, settings = _settings(folder, tmp_path)
    ms = load_milestones(folder, portfolio)
    a = event_months(portfolio, settings, ms, None, 300, 5, "fast")
    b = event_months(portfolio, settings, ms, None, 300, 5, "simpy")
    assert np.array_equal(a, b)


def test_a_milestone_is_seen_exactly_from_its_known_since():
    p = load_portfolio(DATA)
    ms = load_milestones(DATA, p)
    at = lambda month: {m.milestone_id: m for m in milestones_at(ms, M(month))}  # noqa: E731
    assert "M-DZ-CONCRETE" not in at("2021-10") and "M-DZ-CONCRETE" in at("2021-11")
    assert at("2020-10")["M-HJW1-TUNNEL"].deadline == M("2019-12")
    assert at("2020-11")["M-HJW1-TUNNEL"].deadline == M("2022-12")
    assert at("2022-02")["M-HJW1-TUNNEL"].actual is None and at("2022-03")["M-HJW1-TUNNEL"].actual == M("2022-02")
    assert "M-HJW1-WATER" not in at("2014-10")


def test_the_2026_progress_is_invisible_to_a_2021_forecast():
    """The facts added for the 2026-11 re-forecast: track-laying dates, the 西康 works' finish, stated work left and
    the 黄池沟 hub's link (dated 2023-07) are all absent at 2021-01, and present as the data state them later."""
    p = load_portfolio(DATA)
    early, late = known_at(p, M("2021-01")), known_at(p, M("2026-11"))
    for aid in ("XAHSR-AK.T4", "XAHSR-AK.T6", "XAHSR-SY.T6"):
        assert early.activity(aid).actual_finish is None
    assert early.activity("XAHSR-AK.T6").actual_start is None and early.activity("XAHSR-SY.T6").actual_start is None
    assert early.activity("DONGZHUANG.T3").remaining_months is None
    assert early.activity("XAHSR-SY.T7").remaining_months is None
    links = lambda q: [link.predecessor for link in q.activity("HJW-1.T4").predecessors]  # noqa: E731
    assert "HJW-2.T3" not in links(early) and "HJW-2.T3" not in links(known_at(p, M("2023-06")))
    assert "HJW-2.T3" in links(known_at(p, M("2023-07")))
    assert late.activity("XAHSR-AK.T6").actual_finish == M("2026-03")
    assert late.activity("DONGZHUANG.T3").remaining_months == 4
    assert late.activity("XAHSR-SY.T7").remaining_months == 3


def test_the_multi_origin_backtest_scores_a_milestone_as_an_event(folder, tmp_path):
    """XIY.T2 (exactly 6 months) really ran 2021-01..2021-06 against a milestone deadline of 2021-05. At 2020-11 it
    could start at once: the forecast said 2021-04 in every iteration (p = 1, 2 months early: CRPS 2, PIT [1, 1]); at
    2021-03 it was running and had to end 2021-06 (p = 0, CRPS 0). At 2021-07 it had happened: not scored."""
    from runs.multiorigin import run_multi_origin

    (folder / "activities.csv").write_text(ACTIVITIES.replace("XIY.T2,XIY,土建,6,6,6,XIY.T1,10,central,,,,",
                                                              "XIY.T2,XIY,土建,6,6,6,XIY.T1,10,central,,2021-01,2021-06,"),
                                           encoding="utf-8")
    (folder / "milestones.csv").write_text(HEADER + "M-T2,XIY,x,XIY.T2,finish,2021-05,,2021-06,s\n", encoding="utf-8")
    portfolio, settings = _settings(folder, tmp_path)
    result = run_multi_origin(portfolio, settings, [M("2020-11"), M("2021-03"), M("2021-07")], iterations=64,
                              time_limit=5)
    rows = result.events[result.events["kind"] == "milestone"].set_index("origin")
    assert list(rows.index) == ["2020-11", "2021-03"]
    first, second = rows.loc["2020-11"], rows.loc["2021-03"]
    assert (first["event_id"], first["on_time"], first["actual_finish"]) == ("M-T2", False, "2021-06")
    assert first["p_model"] == 1.0 and first["model_crps"] == 2.0 and first["plan_finish"] == "2021-04"
    assert (first["model_pit_low"], first["model_pit_high"]) == (1.0, 1.0) and bool(first["planned_verdict"])
    assert second["p_model"] == 0.0 and second["model_crps"] == 0.0 and second["p_outside_view"] == 0.0


def test_validate_names_a_bad_milestone_row(folder):
    from click.testing import CliRunner

    import cli

    (folder / "milestones.csv").write_text(HEADER + "M1,XIY,x,XIY.T2,finsh,2021-06,,,s\n", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["validate", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / 'milestones.csv'}:2:5: event: expected start or finish, got \"finsh\"" in result.output
    (folder / "milestones.csv").write_text(HEADER + "M1,XIY,x,XIY.T2,finish,2021-06,,,s\n", encoding="utf-8")
    assert CliRunner().invoke(cli.main, ["validate", str(folder)]).exit_code == 0
