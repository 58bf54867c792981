"""Every bundled scenario still gives its expected outputs (plan exactly, Monte Carlo within sampling error).

A deliberate change of the figures is recorded with ``python -m runs.expected`` (docs/regression.md).
"""
from __future__ import annotations

import pytest

from report.check import check_runs
from runs.expected import ROOT, bundled_scenarios, write_expected


@pytest.mark.parametrize("scenario", bundled_scenarios(), ids=lambda p: p.stem)
def test_scenario_matches_its_expected_outputs(scenario, tmp_path):
    expected = ROOT / "tests" / "expected" / scenario.stem
    assert expected.is_dir(), f"no expected outputs for {scenario.name}: run python -m runs.expected {scenario.stem}"
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


def _baseline_with(tmp_path, extra: str):
    """baseline.toml with ``extra`` appended, reading the bundled data (a scenario a planner might write)."""
    text = (ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8")
    text = text.replace('data = "../data"', f'data = "{(ROOT / "data").as_posix()}"')
    path = tmp_path / "baseline-changed.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_the_readme_check_catches_a_three_point_drop_of_p_on_time(tmp_path):
    """README: `portfolio run scenarios/baseline.toml` then `portfolio check ... --expected tests/expected/baseline`.

    A real change (CR-EXP's durations 5% longer) run as `portfolio run` would run it (the scenario's seed and
    iterations), on the expected plan, moves CR-EXP's P(on time), near 0.84, down by about 3 points (the projects
    that share its funding pools move by less than a point); the check must fail on it. With expected outputs of a few hundred iterations the check fell back to sampling error
    (±0.13 here) and passed.
    """
    import shutil

    import pandas as pd
    from click.testing import CliRunner

    from cli import main

    expected = ROOT / "tests" / "expected" / "baseline"
    runner = CliRunner()

    def simulate(scenario, out):
        result = runner.invoke(main, ["simulate", str(scenario), "--out", str(out), "--plan", str(expected)])
        assert result.exit_code == 0, result.output
        for name in ("schedule.csv", "projects.csv", "funding.csv"):
            shutil.copy(expected / name, out / name)
        return pd.read_csv(out / "simulation.csv").set_index("project_id")["p_on_time"]

    got = tmp_path / "got"
    p = [simulate(_baseline_with(tmp_path, ""), tmp_path / "unchanged"),
         simulate(_baseline_with(tmp_path, '\n[[durations]]\nproject = "CR-EXP"\nfactor = 1.05\n'), got)]
    drop = p[0]["CR-EXP"] - p[1]["CR-EXP"]
    assert 0.025 <= drop <= 0.035, drop  # the change planted is the 3-point drop the check must catch
    assert (p[0].drop("CR-EXP") - p[1].drop("CR-EXP")).abs().max() < 0.01

    result = runner.invoke(main, ["check", str(got), "--expected", str(expected)])
    assert result.exit_code == 1, result.output
    assert "simulation.csv CR-EXP p_on_time" in result.output
    assert "warning:" not in result.output  # the same draws: the strict comparison, nothing to warn about


def test_a_planted_three_point_drop_fails_even_when_the_draws_differ(tmp_path):
    """A copy of the expected baseline that claims another seed (so the check compares within sampling error) and
    one P(on time) 3 points lower: at the stored 10,000 iterations the tolerance (±0.028 near 0.45) is below 3
    points, so the check fails, and it warns that the draws differ."""
    import json
    import shutil

    import pandas as pd
    from click.testing import CliRunner

    from cli import main

    expected = ROOT / "tests" / "expected" / "baseline"
    got = tmp_path / "got"
    shutil.copytree(expected, got)
    manifest = json.loads((got / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulation"]["iterations"] >= 10000
    manifest["simulation"]["seed"] += 1
    (got / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(got), "--expected", str(expected)]).exit_code == 0

    sim = pd.read_csv(got / "simulation.csv", dtype=str)
    row = sim.index[sim["project_id"] == "CR-EXP"][0]
    sim.loc[row, "p_on_time"] = f"{float(sim.loc[row, 'p_on_time']) - 0.03:.4f}"
    sim.to_csv(got / "simulation.csv", index=False, lineterminator="\n")
    result = runner.invoke(main, ["check", str(got), "--expected", str(expected)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("1 drift(s)"), result.output
    assert "simulation.csv CR-EXP p_on_time" in result.output and "4 SE of a proportion" in result.output
    assert "warning: the runs differ in seed 2021 (expected) vs 2022" in result.output
