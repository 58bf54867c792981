"""A project that does not finish within the simulation's horizon (600 months) is late, never on time, whatever its
deadline: its finish is unknown but later than the window (docs/simulation.md "Horizon")."""
from __future__ import annotations

import numpy as np
import pytest

from portfolio.milestones import Milestone
from portfolio.months import parse_month
from report.rundata import Run
from report.write import missing_notes
from simulate import engine_fast, engine_simpy
from simulate.milestones import forecast
from simulate.model import HORIZON, build_model
from simulate.runner import run, summary_text
from simulate.sampling import draws_for
from portfolio_builders import activity, make_portfolio, make_settings, project

STATUS = "2021-01"
LAST = "2070-12"  # the horizon's last month: status + 599


def endless(deadline: str):
    """Project LONG (a fixed 700 months of work) cannot finish within the horizon; SHORT finishes in 12 months."""
    portfolio = make_portfolio(
        [project("LONG", deadline=deadline), project("SHORT", deadline="2025-12")],
        [activity("L1", "LONG", 700), activity("S1", "SHORT", 10, 12, 14)])
    return portfolio, make_settings(status=STATUS, deadline="2025-12", deadline_pressure=False)


@pytest.mark.parametrize("deadline", ["2030-12", LAST, "2100-12"])  # inside the window, its last month, past it
def test_a_finish_past_the_horizon_is_late_whatever_the_deadline(deadline):
    portfolio, settings = endless(deadline)
    result = run(portfolio, settings, iterations=40, seed=3, engine="fast")
    rows = result.simulation.set_index("project_id")
    assert rows.loc["LONG", "p_on_time"] == 0.0
    assert rows.loc["LONG", "mean_delay_months"] >= 1  # late, so at least a month late
    assert rows.loc["SHORT", "p_on_time"] == 1.0
    assert rows.loc["PORTFOLIO", "p_on_time"] == 0.0
    assert (rows.loc["LONG", ["finish_p50", "finish_p80", "finish_p90"]] == LAST).all()
    assert result.info["iterations_past_horizon"] == 40
    text = summary_text(result)
    assert "beyond" in text and "40 of 40 iterations ran past the 600-month simulation horizon" in text


def test_both_engines_agree_at_the_horizon():
    portfolio, settings = endless("2100-12")
    model = build_model(portfolio, settings)
    draws = draws_for(model, 3, 0, 8)
    a, b = engine_simpy.run_block(model, draws), engine_fast.run_block(model, draws)
    for name in ("start", "end", "start_driver", "end_driver", "on_path"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.end[:, model.activity_ids.index("L1")] == HORIZON).all()
    simpy = run(portfolio, settings, iterations=8, seed=3, engine="simpy")
    fast = run(portfolio, settings, iterations=8, seed=3, engine="fast")
    assert simpy.accumulator.equals(fast.accumulator)


def test_a_run_within_the_horizon_records_nothing():
    portfolio, settings = endless("2100-12")
    short = make_portfolio([portfolio.projects[1]], [portfolio.activities[1]])
    result = run(short, settings, iterations=20, seed=3, engine="fast")
    assert "iterations_past_horizon" not in result.info
    assert "ran past" not in summary_text(result)


def test_the_report_warns():
    portfolio, settings = endless("2100-12")
    info = run(portfolio, settings, iterations=12, seed=3, engine="fast").info
    notes = missing_notes(Run(folder=None, manifest={"simulation": info}))
    assert any("12 of 12 iterations ran past the 600-month simulation horizon" in n for n in notes)


def test_a_milestone_past_the_horizon_is_late():
    portfolio, settings = endless("2100-12")
    milestone = Milestone("M1", "LONG", "LONG done", "L1", "finish", parse_month("2100-12"), None, None, "test")
    table = forecast(portfolio, settings, (milestone,), iterations=12, seed=3, engine="fast")
    assert table.loc[0, "p_on_time"] == 0.0
    assert table.loc[0, "month_p50"] == LAST
