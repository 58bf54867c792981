"""Stated progress (remaining_months, percent_complete in activities.csv): checked on load, used for a running
activity's work left, hidden from a forecast made before the data's as-of date."""
from __future__ import annotations

import dataclasses

import pytest

import simulate
from portfolio.known import known_at
from portfolio.load import check_portfolio, load_portfolio
from portfolio.months import parse_month
from scenarios.load import load_target

M = parse_month
HEADER = ("activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
          "earliest_start,actual_start,actual_finish,remaining_months,percent_complete\n")
PROJECTS = ("project_id,name_zh,category,priority,deadline,budget\n"
            "P,甲,metro,1,2025-12,1\n"
            "Q,乙,rail,1,2025-12,1\n")
# P.A has worked 48 months of a 10-month estimate at 2024-01; Q.B's start makes the data's as-of date 2023-12.
ROWS = ("P.A,P,x,10,10,10,,1,s,,2020-01,,{remaining},{percent}\n"
        "P.B,P,x,2,2,2,P.A,1,s,,,,,\n"
        "Q.B,Q,x,30,30,30,,1,s,,2023-12,,,\n")


def data(write_data, remaining="", percent="", rows=ROWS):
    files = {"projects.csv": PROJECTS, "activities.csv": HEADER + rows.format(remaining=remaining, percent=percent),
             "funding.csv": None, "risks.csv": None, "resources.csv": None}
    return write_data(files, name=f"data-{remaining}-{percent}-{abs(hash(rows))}")


def problems(folder) -> list[str]:
    return [str(p).split("activities.csv:", 1)[1] for p in check_portfolio(folder)[1]]


@pytest.mark.parametrize("remaining, percent, expected", [
    ("0", "", '2:13: remaining_months: expected a number > 0, got "0"'),
    ("-2", "", '2:13: remaining_months: expected a number > 0, got "-2"'),
    ("nan", "", '2:13: remaining_months: expected a number > 0, got "nan"'),
    ("inf", "", '2:13: remaining_months: expected a number > 0, got "inf"'),
    ("", "-5", '2:14: percent_complete: expected a number >= 0, got "-5"'),
    ("", "100", '2:14: percent_complete: expected a number from 0 to below 100 (a finished activity has an '
                'actual_finish), got "100"'),
    ("3", "40", "2:14: percent_complete: given with remaining_months (expected one of them, not both)"),
])
def test_stated_progress_must_be_finite_and_in_range(write_data, remaining, percent, expected):
    assert problems(data(write_data, remaining, percent)) == [expected]


@pytest.mark.parametrize("row, where", [
    ("P.A,P,x,10,10,10,,1,s,,,,4,\n", "2:13: remaining_months"),  # not started
    ("P.A,P,x,10,10,10,,1,s,,2020-01,2020-10,,50\n", "2:14: percent_complete"),  # finished
])
def test_stated_progress_only_for_a_running_activity(write_data, row, where):
    folder = data(write_data, rows=row + ROWS.split("\n", 1)[1])
    assert problems(folder) == [
        f"{where}: given for an activity that is not running (expected an actual_start and no actual_finish)"]


def test_the_columns_are_optional_and_empty_fields_change_nothing(write_data):
    with_columns = load_portfolio(data(write_data))
    assert all((a.remaining_months, a.percent_complete) == (None, None) for a in with_columns.activities)
    assert load_portfolio(data(write_data, "4", "")).activity("P.A").remaining_months == 4.0


def p50(folder, status: str, name: str = "P") -> str:
    path = folder.parent / f"s-{status}.toml"
    path.write_text(f'data = "{folder.name}"\nstatus_date = "{status}"\ndeadline = "2025-12"\n'
                    f'[simulate]\niterations = 16\nseed = 1\n', encoding="utf-8")
    portfolio, settings = load_target(path)
    return simulate.run(known_at(portfolio, settings.status_date), settings).simulation.set_index(
        "project_id").loc[name, "finish_p50"]


def test_stated_work_left_replaces_the_conditioned_draw(write_data):
    # Without a statement: 48 months into a 10-month estimate, 1 month is left: A ends 2024-01, B (2 months) 2024-03.
    assert p50(data(write_data), "2024-01") == "2024-03"
    # 4 months left at the end of 2023-12: A ends 2024-04 and B 2024-06, whichever later status date reads it.
    stated = data(write_data, "4", "")
    assert [p50(stated, s) for s in ("2024-01", "2024-03")] == ["2024-06", "2024-06"]
    # past the stated work (5 months since the statement): the estimate is exhausted, 1 month left as above
    assert p50(stated, "2024-06") == "2024-08"


def test_percent_complete_leaves_its_share_of_the_duration(write_data):
    assert p50(data(write_data, "", "70"), "2024-01") == "2024-05"  # 30% of 10 months: 3 left, then B's 2


def test_a_forecast_at_or_before_the_data_date_does_not_see_the_statement(write_data):
    folder = data(write_data, "4", "")
    portfolio = load_portfolio(folder)
    assert known_at(portfolio, M("2023-12")).activity("P.A").remaining_months is None
    assert known_at(portfolio, M("2024-01")).activity("P.A").remaining_months == 4.0
    blank = dataclasses.replace(portfolio, activities=tuple(dataclasses.replace(a, remaining_months=None)
                                                            for a in portfolio.activities))
    for status, same in (("2023-12", True), ("2024-01", False)):  # the simulator itself, on the full data
        path = folder.parent / f"t-{status}.toml"
        path.write_text(f'data = "{folder.name}"\nstatus_date = "{status}"\ndeadline = "2025-12"\n'
                        f'[simulate]\niterations = 16\nseed = 1\n', encoding="utf-8")
        settings = load_target(path)[1]
        a, b = (simulate.run(p, settings).simulation for p in (portfolio, blank))
        assert a.equals(b) is same, status


def test_stated_work_left_keeps_the_activity_s_relative_spread(write_data):
    from simulate.model import build_model
    from simulate.sampling import draw_block

    folder = data(write_data, "4", "", rows=ROWS.replace("P.A,P,x,10,10,10", "P.A,P,x,8,10,15"))
    path = folder.parent / "spread.toml"
    path.write_text(f'data = "{folder.name}"\nstatus_date = "2024-01"\ndeadline = "2025-12"\n', encoding="utf-8")
    portfolio, settings = load_target(path)
    model = build_model(portfolio, settings)
    work = draw_block(model, 1, 0).work[:, portfolio.activity_index("P.A")]
    assert 4 * 0.8 <= work.min() < 4.0 < work.max() <= 4 * 1.5  # 4 most likely, from 4 x 8/10 to 4 x 15/10
    assert abs(float(work.mean()) - 4 * (8 + 10 + 15) / 30) < 0.05  # the triangular's mean, scaled
