"""portfolio compare DIR_A DIR_B: what changed between two runs, as Markdown."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from runfolder_fixture import make_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    return {
        "baseline": make_run(base / "baseline", seed=2021, iterations=2000),
        "again": make_run(base / "again", seed=2021, iterations=2000),
        # a scenario in which two phases take longer (as if funds were cut), simulated with another seed
        "cut": make_run(base / "cut", seed=7, iterations=3000, scenario="funding-cut",
                        delays={"XIY-P3.T3": 2, "XAM-L8.T4": 4}),
        "plan_only": make_run(base / "plan_only", parts=("schedule",)),
    }


def compare(a, b, *extra):
    return CliRunner().invoke(main, ["compare", str(a), str(b), *extra])


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_compare_lists_moved_projects_probabilities_spending_and_inputs(runs, tmp_path):
    out_file = tmp_path / "diff.md"
    result = compare(runs["baseline"], runs["cut"], "--out", str(out_file))
    assert result.exit_code == 0, result.output
    md = result.output
    assert out_file.read_text(encoding="utf-8") == md
    assert md.startswith("# Comparison: baseline (A) → funding-cut (B)")

    inputs = section(md, "Inputs")
    assert "| activities.csv" in inputs and "changed" in inputs
    assert "simulation seed" in inputs and "2021" in inputs and "| 7 " in inputs
    assert "simulation iterations" in inputs

    plan = section(md, "Planned finish")
    xiy = next(line for line in plan.splitlines() if line.startswith("| XIY-P3"))
    assert "2025-02" in xiy and "2025-04" in xiy and "+2" in xiy and "西安咸阳国际机场三期扩建工程" in xiy
    assert "| HJW-2" not in plan  # did not move
    assert "XIY-P3.T5" in plan  # activities that start later

    sim = section(md, "P(on time) and P80")
    xiy = next(line for line in sim.splitlines() if line.startswith("| XIY-P3"))
    assert "beyond noise" in xiy
    hjw = next(line for line in sim.splitlines() if line.startswith("| HJW-2"))
    assert "beyond noise" not in hjw
    assert "| PORTFOLIO" in sim

    spend = section(md, "Spending by year")
    assert "**enterprise**" in spend and "**bond**" in spend
    assert "140.00 → 135.00" in spend  # a cap that changed


def test_compare_same_inputs_and_seed_reports_no_change(runs):
    result = compare(runs["baseline"], runs["again"])
    assert result.exit_code == 0, result.output
    md = result.output
    assert "All 5 input files are unchanged" in md
    assert "No project's planned finish moved." in md
    assert "Spending per year and source is unchanged." in md
    assert "same random numbers" in md
    assert "changed |" not in section(md, "P(on time) and P80")


def test_compare_with_a_plan_only_run_says_what_it_leaves_out(runs):
    result = compare(runs["plan_only"], runs["baseline"])
    assert result.exit_code == 0, result.output
    assert "Not compared: run A has no simulation.csv" in result.output
    assert "No project's planned finish moved." in result.output


def test_compare_missing_folder_exits_2(runs, tmp_path):
    result = compare(runs["baseline"], tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such run folder" in result.output and "Traceback" not in result.output
