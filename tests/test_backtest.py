"""Backtest: the model ignores actual dates from the status date on; outcomes and scores follow the written rules."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from portfolio.load import load_portfolio
from portfolio.months import parse_month
from portfolio.network import build_network
from portfolio.progress import ACTUAL, DEPENDANT, PROJECT, progress_at
from portfolio.known import known_at
from portfolio.progress import data_as_of
from report.backtest import LATE, ON_TIME, UNKNOWN, project_outcomes, score_forecasts
from runs.backtest import forecast, run_backtest
from scenarios.load import load_target

M = parse_month

# HJW.T1 of the mini data, given actual dates after a 2021-01 status: started 2021-08, finished 2023-05.
STARTED, FINISHED = "2021-08", "2023-05"


@pytest.fixture
def tracked(write_data, mini_files):
    text = mini_files["activities.csv"].replace(
        "HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,,,", f"HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,{STARTED},{FINISHED},")
    assert text != mini_files["activities.csv"]
    return write_data({"activities.csv": text})


def _without_actuals(portfolio, aid: str):
    acts = tuple(dataclasses.replace(a, actual_start=None, actual_finish=None) if a.activity_id == aid else a
                 for a in portfolio.activities)
    return dataclasses.replace(portfolio, activities=acts)


def _scenario(folder, status: str, iterations: int = 200) -> str:
    path = folder.parent / f"s-{status}.toml"
    path.write_text(f'data = "{folder.name}"\nstatus_date = "{status}"\ndeadline = "2025-12"\n'
                    f'[optimize]\ntime_limit_s = 5\n[simulate]\niterations = {iterations}\nseed = 7\n',
                    encoding="utf-8")
    return str(path)


def _networks_equal(a, b) -> bool:
    fields = ("state", "earliest", "fixed_start", "fixed_end", "pred", "succ", "kind", "lag")
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in fields)


def test_known_at_blanks_actual_dates_in_or_after_the_status_month(tracked):
    p = load_portfolio(tracked)
    t1 = lambda q: q.activity("HJW.T1")  # noqa: E731
    assert (t1(known_at(p, M("2021-08"))).actual_start, t1(known_at(p, M("2021-08"))).actual_finish) == (None, None)
    assert (t1(known_at(p, M("2021-09"))).actual_start, t1(known_at(p, M("2021-09"))).actual_finish) == (M(STARTED), None)
    assert (t1(known_at(p, M("2023-05"))).actual_start, t1(known_at(p, M("2023-05"))).actual_finish) == (M(STARTED), None)
    assert (t1(known_at(p, M("2023-06"))).actual_start, t1(known_at(p, M("2023-06"))).actual_finish) == (M(STARTED), M(FINISHED))
    assert known_at(p, M("2024-01")) == p  # nothing after: unchanged


@pytest.mark.parametrize("status, same", [
    ("2021-01", True), ("2021-06", True), (STARTED, True),  # at or before the actual start: not known yet
    ("2022-03", False),  # between start and finish: known to be running
    (FINISHED, False), ("2023-06", False), ("2024-01", False),  # the finish is known from the month after it
])
def test_network_ignores_actual_dates_until_the_status_passes_them(tracked, status, same):
    p = load_portfolio(tracked)
    blank = _without_actuals(p, "HJW.T1")
    a, b = build_network(p, M(status), M("2025-12")), build_network(blank, M(status), M("2025-12"))
    assert _networks_equal(a, b) is same


def test_forecast_changes_only_once_the_status_date_passes_the_actual_dates(tracked):
    """Moving the status date across HJW.T1's actual dates: the forecast with and without them is identical while the
    status date is at or before the actual start, and differs once it is past the actual finish."""
    results = {}
    for status in ("2021-01", STARTED, "2023-07"):
        _, settings = load_target(_scenario(tracked, status))
        portfolio = load_portfolio(tracked)
        with_actuals = forecast(portfolio, settings)[1].simulation
        without = forecast(_without_actuals(portfolio, "HJW.T1"), settings)[1].simulation
        results[status] = (with_actuals, without)
    for status in ("2021-01", STARTED):
        a, b = results[status]
        assert a.equals(b), status
    a, b = results["2023-07"]
    assert not a.equals(b)
    hjw = lambda df: df.set_index("project_id").loc["HJW"]  # noqa: E731
    assert hjw(a)["finish_p50"] != hjw(b)["finish_p50"]


# -- outcomes ---------------------------------------------------------------------------------------

def _outcome_portfolio(write_data):
    projects = (
        "project_id,name_zh,category,priority,deadline,budget\n"
        "A,甲,metro,1,2025-12,1\n"        # finished on time; B-phase implied finished by its dependant
        "B,乙,metro,1,2025-12,1\n"        # finished late
        "C,丙,rail,1,2025-12,1\n"         # open, followed after the status date, past its deadline at as_of: late
        "D,丁,rail,1,2028-12,1\n"         # open, deadline after as_of: unknown
        "E,戊,health,1,2025-12,1\n"       # open, nothing recorded after the status date: unknown
        "F,己,road,1,2025-12,1\n"         # finished before the status date: not scored
    )
    acts = (
        "activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
        "earliest_start,actual_start,actual_finish\n"
        "A.1,A,x,1,2,3,,1,s,,,\n"                      # no dates; A.2 depends on it (SS) and A.3 on A.2
        "A.2,A,x,1,2,3,A.1:SS,1,s,,2021-03,\n"
        "A.3,A,x,1,2,3,A.2,1,s,,2024-01,2025-11\n"
        "B.1,B,x,1,2,3,,1,s,,2021-02,2026-01\n"
        "C.1,C,x,1,2,3,,1,s,,2022-01,2023-01\n"
        "C.2,C,x,1,2,3,C.1,1,s,,,\n"
        "D.1,D,x,1,2,3,,1,s,,2022-01,\n"
        "E.1,E,x,1,2,3,,1,s,,2019-01,2020-01\n"
        "E.2,E,x,1,2,3,E.1,1,s,,,\n"
        "F.1,F,x,1,2,3,,1,s,,2018-01,2019-06\n"
    )
    return load_portfolio(write_data({"projects.csv": projects, "activities.csv": acts, "funding.csv": None,
                                      "risks.csv": None, "resources.csv": None}))


def test_project_outcomes_follow_the_written_rules(write_data):
    p = _outcome_portfolio(write_data)
    assert data_as_of(p) == M("2026-01")
    how = {a.activity_id: q.finish_by for a, q in zip(p.activities, progress_at(p, None)) if a.project_id == "A"}
    assert how == {"A.3": ACTUAL, "A.2": DEPENDANT, "A.1": PROJECT}  # A.1 by A's completion: A.2 is linked SS
    got = {o.project_id: o for o in project_outcomes(p, M("2021-01"), M("2025-12"), data_as_of(p))}
    assert (got["A"].finish, got["A"].label, got["A"].scored) == (M("2025-11"), ON_TIME, True)
    assert (got["B"].finish, got["B"].label, got["B"].scored) == (M("2026-01"), LATE, True)
    assert (got["C"].finish, got["C"].label, got["C"].scored) == (None, LATE, True)
    assert (got["D"].label, got["D"].scored) == (UNKNOWN, False)
    assert (got["E"].label, got["E"].scored) == (UNKNOWN, False)
    assert "no actual date" in got["E"].note
    assert (got["F"].label, got["F"].scored) == (ON_TIME, False)
    assert "before the status date" in got["F"].note
    # with the data's date at the deadline itself, C's outcome is not yet known
    at_deadline = {o.project_id: o for o in project_outcomes(p, M("2021-01"), M("2025-12"), M("2025-12"))}
    assert at_deadline["C"].label == UNKNOWN


def test_scores_use_only_projects_with_a_known_outcome(write_data):
    import pandas as pd

    p = _outcome_portfolio(write_data)

    class FakeSimulation:
        simulation = pd.DataFrame({
            "project_id": list("ABCDEF"), "p_on_time": [0.9, 0.2, 0.6, 0.5, 0.5, 1.0],
            "finish_p50": ["2025-06"] * 6, "finish_p80": ["2025-10"] * 6, "finish_p90": ["2026-01"] * 6})
        distribution = pd.DataFrame({"project_id": ["A", "A", "B"], "month": ["2025-06", "2025-12", "2026-01"],
                                     "p_finished": [0.5, 0.9, 0.3]})

    _, settings = load_target(_scenario_for(write_data, p))
    table, calibration, scores = score_forecasts(p, settings, FakeSimulation(), data_as_of(p))
    assert list(table[table["scored"]]["project_id"]) == ["A", "B", "C"]
    # A on time at 0.9: 0.01; B late at 0.2: 0.04; C late at 0.6: 0.36 -> Brier 0.41 / 3
    assert scores["brier"] == pytest.approx(0.41 / 3)
    assert scores["base_rate"] == pytest.approx(1 / 3)
    assert scores["naive_all_on_time"]["brier"] == pytest.approx(2 / 3)
    assert scores["naive_base_rate"]["brier"] == pytest.approx(2 / 9)
    assert scores["log_score"] == pytest.approx((math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3)
    assert calibration["count"].sum() == 3
    a = table.set_index("project_id").loc["A"]
    assert a["p_finished_by_actual"] == pytest.approx(0.5)  # P(finished by 2025-11) = the 2025-06 step
    assert table.set_index("project_id").loc["D", "on_time"] == UNKNOWN


def _scenario_for(write_data, portfolio):
    folder = write_data(name="scn")
    path = folder.parent / "scn.toml"
    path.write_text('data = "scn"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n', encoding="utf-8")
    return str(path)


# -- end to end ---------------------------------------------------------------------------------------

def test_cli_backtest_writes_the_folder(tracked, tmp_path):
    from cli import main

    scenario = _scenario(tracked, "2021-01", iterations=100)
    out = tmp_path / "bt"
    result = CliRunner().invoke(main, ["backtest", scenario, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Brier score      model" in result.output and "every project on time" in result.output
    assert "base rate" in result.output
    for name in ("backtest.csv", "calibration.csv", "scores.json", "backtest.md", "backtest.html",
                 "charts/forecast-vs-actual.svg", "charts/calibration.svg", "manifest.json"):
        assert (out / name).is_file(), name
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert scores["data_as_of"] == FINISHED and scores["status_date"] == "2021-01"
    assert set(scores) >= {"brier", "log_score", "naive_all_on_time", "naive_base_rate", "base_rate"}
    svg = (out / "charts" / "forecast-vs-actual.svg").read_text(encoding="utf-8")
    assert "<text" not in svg  # glyphs as paths


def test_cli_backtest_bad_input(tracked, tmp_path):
    from cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["backtest", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no such scenario file" in result.output
    scenario = _scenario(tracked, "2021-01", iterations=10)
    result = runner.invoke(main, ["backtest", scenario, "--out", str(tmp_path / "o"), "--as-of", "2026-13"])
    assert result.exit_code == 2 and "--as-of" in result.output
    assert not (tmp_path / "o").exists()


def test_run_backtest_asap_needs_no_plan(tracked):
    _, settings = load_target(_scenario(tracked, "2021-01", iterations=50))
    result = run_backtest(load_portfolio(tracked), settings, use_plan=False)
    assert result.scores["optimizer"]["status"].startswith("not used")
    assert result.scores["simulation"]["plan"] == "asap"
