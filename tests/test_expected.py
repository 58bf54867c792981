"""Every bundled scenario still gives its expected outputs (plan exactly, Monte Carlo within sampling error).

A deliberate change of the figures is recorded with ``python -m report.expected`` (docs/regression.md).
"""
from __future__ import annotations

import pytest

from report.check import check_runs
from report.expected import ROOT, bundled_scenarios, write_expected


@pytest.mark.parametrize("scenario", bundled_scenarios(), ids=lambda p: p.stem)
def test_scenario_matches_its_expected_outputs(scenario, tmp_path):
    expected = ROOT / "tests" / "expected" / scenario.stem
    assert expected.is_dir(), f"no expected outputs for {scenario.name}: run python -m report.expected {scenario.stem}"
    write_expected(scenario, tmp_path / "run")
    result = check_runs(tmp_path / "run", expected)
    assert result.ok, result.report()
