"""Scenario TOML files: settings, overrides, and problems named by file, line and column."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from portfolio.months import parse_month
from scenario_support import problems_of, write_scenario
from scenarios.load import load_scenario, load_target


def test_data_folder_gets_default_settings(mini_data):
    portfolio, settings = load_target(mini_data)
    assert settings.status_date == parse_month("2021-01")
    assert settings.deadline == parse_month("2025-12")
    assert len(portfolio.projects) == 2


def test_settings_are_read(mini_data):
    path = write_scenario(
        mini_data.parent,
        'name = "x"\ndata = "data"\nstatus_date = "2022-03"\ndeadline = "2026-06"\n'
        '[optimize]\ntime_limit_s = 5\nobjective = "makespan"\nhard_deadlines = true\n'
        '[simulate]\niterations = 300\nseed = 7\ndistribution = "pert"\ncorrelation = 0.25\ncarry_over = false\n'
        '[[stoppages]]\nstart = "2022-04"\nmonths = 3\n',
    )
    _, s = load_scenario(path)
    assert (s.name, s.status_date, s.deadline) == ("x", parse_month("2022-03"), parse_month("2026-06"))
    assert (s.optimize.time_limit_s, s.optimize.objective, s.optimize.hard_deadlines) == (5, "makespan", True)
    assert (s.simulate.iterations, s.simulate.seed, s.simulate.distribution) == (300, 7, "pert")
    assert (s.simulate.correlation, s.simulate.carry_over) == (0.25, False)
    assert s.stoppages[0].start == parse_month("2022-04") and s.stoppages[0].months == 3


def test_overrides_change_the_portfolio(mini_data):
    path = write_scenario(
        mini_data.parent,
        'data = "data"\n'
        "[[funding.scale]]\nsources = [\"provincial\"]\nfrom = 2022\nto = 2022\nfactor = 0.5\n"
        '[[durations]]\ncategory = "water"\nfactor = 2\n'
        '[priorities]\n"HJW" = 9\n'
        '[risk_changes.R1]\nprobability = 0.9\nimpact_factor = 2\n'
        '[[risks]]\nrisk_id = "X1"\nprobability = 1\noptimistic = 1\nmost_likely = 1\npessimistic = 1\n'
        'affects = ["category:aviation"]\n'
        '[[forced_starts]]\nactivity = "XIY.T3"\nstart = "2023-01"\n',
    )
    p, s = load_scenario(path)
    assert p.caps() == {(2021, "provincial"): 120, (2022, "provincial"): 60}
    assert (p.activity("HJW.T1").optimistic, p.activity("HJW.T1").pessimistic) == (48, 80)
    assert p.activity("XIY.T2").most_likely == 36
    assert p.project("HJW").priority == 9
    r1 = p.risks[0]
    assert (r1.probability, r1.most_likely) == (0.9, 6)
    assert p.risks[-1].affects == ("XIY.T1", "XIY.T2", "XIY.T3")
    assert s.forced_starts == (("XIY.T3", parse_month("2023-01")),)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('data = "data"\nstatus_date = "2021-13"\n', "s.toml:2:1: status_date: month must be 01 to 12, got '2021-13'"),
        ('data = "data"\nbogus = 1\n', "s.toml:2:1: unknown key 'bogus'"),
        ('data = "data"\n[optimize]\nobjective = "fastest"\n', "s.toml:3:1: objective must be one of lateness, makespan, on_time, got 'fastest'"),
        ('data = "data"\n[simulate]\niterations = 0\n', "s.toml:3:1: iterations must be at least 1, got 0"),
        ('data = "data"\n[simulate]\ncorrelation = 2\n', "s.toml:3:1: correlation must be between 0 and 1, got 2"),
        ('data = "data"\n[simulate]\nseed = 18446744073709551616\n',
         "s.toml:3:1: seed must be at most 9.22337e+18 (the limit of this tool), got 18446744073709551616"),
        ('data = "data"\n[priorities]\n"NOPE" = 3\n', "s.toml:3:1: unknown project 'NOPE' in [priorities]"),
        ('data = "nowhere"\n', "s.toml:1:1: data folder 'nowhere' not found"),
        ('data = "data"\nname = \n', "s.toml:2:8: not valid TOML"),
    ],
)
def test_problems_name_line_and_column(mini_data, text, expected):
    found = problems_of(write_scenario(mini_data.parent, text))
    assert any(f.endswith(expected) or expected in f for f in found), found


def test_cli_reports_scenario_problems_without_traceback(mini_data):
    path = write_scenario(mini_data.parent, 'data = "data"\n[simulate]\nseed = "x"\n')
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "s.toml:3:1: seed must be a whole number, got 'x'" in result.output
    assert "Traceback" not in result.output
