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


def test_compare_names_the_projects_a_provincial_cut_moves():
    """The 20% provincial cut of 2022-2024 moves planned finishes, and `portfolio compare` names exactly those."""
    import pandas as pd
    from click.testing import CliRunner

    from cli import main

    base, cut = (ROOT / "tests" / "expected" / name for name in ("baseline", "funding-cut"))
    finish = [pd.read_csv(d / "projects.csv").set_index("project_id")["planned_finish"] for d in (base, cut)]
    moved = set(finish[0].index[finish[0] != finish[1]])
    assert moved, "the provincial cut moves no project: the caps of 2022-2024 leave it no effect"

    result = CliRunner().invoke(main, ["compare", str(base), str(cut)])
    assert result.exit_code == 0, result.output
    planned = result.output.split("## Planned finish", 1)[1].split("\n## ", 1)[0]
    named = {line.split("|")[1].strip() for line in planned.splitlines() if line.startswith("| ")} - {"Project"}
    named = {p for p in named if p in finish[0].index}
    assert named == moved
