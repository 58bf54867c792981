"""The public Python API (runs/, docs/api.md): its tables are the files the command writes, its docs run."""
from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import runs
from cli import main

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"(<!-- test: compile only[^>]*-->\n)?```python\n(.*?)```", re.S)
PLAN_FILES = {"schedule": "schedule.csv", "projects": "projects.csv", "funding": "funding.csv"}
SIM_FILES = {"projects": "simulation.csv", "criticality": "criticality.csv", "risks": "risks.csv",
             "distribution": "distribution.csv"}


def python_blocks(doc: str, section: str | None = None) -> list[tuple[str, bool]]:
    """(code, run it?) of each ```python block of docs/<doc> (of one "## " section when given)."""
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [(code, not compile_only) for compile_only, code in FENCE.findall(text)]


def run_blocks(blocks: list[tuple[str, bool]], folder: Path, monkeypatch) -> tuple[dict, str]:
    """Run the blocks in turn in one namespace, in ``folder`` holding a copy of scenarios/ and data/."""
    for name in ("scenarios", "data"):
        shutil.copytree(ROOT / name, folder / name)
    monkeypatch.chdir(folder)
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for code, run in blocks:
            compiled = compile(code, "docs", "exec")
            if run:
                exec(compiled, namespace)
    return namespace, printed.getvalue()


def cli(*args) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def assert_tables_are_files(obj, files: dict[str, str], folder: Path) -> None:
    for attribute, file in files.items():
        pd.testing.assert_frame_equal(getattr(obj, attribute), pd.read_csv(folder / file), obj=file)


# -- the documentation's examples -----------------------------------------------------------------

def test_the_examples_of_docs_api_md_run(tmp_path, monkeypatch):
    blocks = python_blocks("api.md")
    assert len(blocks) >= 2 and all(run for _, run in blocks)
    namespace, printed = run_blocks(blocks, tmp_path, monkeypatch)
    least_likely = namespace["least_likely"]
    assert len(least_likely) == 5 and "PORTFOLIO" not in set(least_likely.project_id)
    others = namespace["projects"].drop(least_likely.index)
    assert least_likely.p_on_time.max() <= others.p_on_time.min()
    assert namespace["sim"].plan is namespace["plan"]  # the example simulates its plan
    for project in least_likely.project_id:
        assert project in printed
    assert (tmp_path / "out" / "baseline" / "report.html").is_file()
    assert (tmp_path / "out" / "funding-cut" / "simulation.csv").is_file()
    assert_tables_are_files(namespace["cut"].simulation, SIM_FILES, tmp_path / "out" / "funding-cut")


def simulate_calls(code: str) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("runs.simulate", "simulate.run")]


def test_the_cluster_example_simulates_the_plan(tmp_path, monkeypatch):
    blocks = python_blocks("cluster.md", "From Python")
    calls = [call for code, _ in blocks for call in simulate_calls(code)]
    assert calls, "docs/cluster.md shows no simulation from Python"
    for call in calls:
        assert ast.unparse(call.func) == "runs.simulate" and len(call.args) == 2, ast.unparse(call)
        assert ast.unparse(call.args[1]) == "plan", ast.unparse(call)
    namespace, printed = run_blocks(blocks, tmp_path, monkeypatch)  # the local-cluster block; the TLS one compiles
    sim = namespace["sim"]
    assert sim.plan is namespace["plan"] and sim.result.info["plan"] == "given"
    assert sim.result.info["iterations"] == 20_000 and "20000 iterations" in printed


# -- the tables are the command's files -------------------------------------------------------------

@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The mini data folder of conftest.py, and the run folder ``portfolio run`` writes for it."""
    from conftest import MINI_FILES

    base = tmp_path_factory.mktemp("api")
    data = base / "data"
    data.mkdir()
    for name, text in MINI_FILES.items():
        (data / name).write_text(text, encoding="utf-8")
    cli("run", data, "--out", base / "cli-run", "--iterations", 600, "--quiet")
    return data, base / "cli-run"


def test_plan_tables_are_the_files_of_the_schedule_command(mini, tmp_path):
    data, _ = mini
    cli("schedule", data, "--out", tmp_path / "schedule", "--quiet")
    plan = runs.plan(runs.load(data))
    assert plan.status == "optimal"
    assert_tables_are_files(plan, PLAN_FILES, tmp_path / "schedule")
    assert list(plan.schedule.columns[:4]) == ["activity_id", "project_id", "name", "start"]


def test_run_tables_are_the_files_of_the_run_command(mini, tmp_path):
    data, cli_run = mini
    written = runs.run(runs.load(data), tmp_path / "api-run", iterations=600)
    assert written.folder == tmp_path / "api-run"
    for file in [*PLAN_FILES.values(), *SIM_FILES.values(), "iterations.csv"]:
        assert (written.folder / file).read_bytes() == (cli_run / file).read_bytes(), file
    in_memory = runs.run(runs.load(data), iterations=600)
    assert in_memory.folder is None
    for result in (written, in_memory):
        assert_tables_are_files(result.plan, PLAN_FILES, cli_run)
        assert_tables_are_files(result.simulation, SIM_FILES, cli_run)
        assert result.simulation.plan is result.plan


def test_simulate_without_a_plan_plans_first(mini):
    data, cli_run = mini
    sim = runs.simulate(runs.load(data), iterations=600)
    assert sim.plan is not None and sim.result.info["plan"] == "given"
    assert_tables_are_files(sim, SIM_FILES, cli_run)
    assert_tables_are_files(sim.plan, PLAN_FILES, cli_run)


def test_simulate_asap_is_the_simulate_command_without_a_plan(mini, tmp_path):
    data, _ = mini
    cli("simulate", data, "--out", tmp_path / "asap", "--iterations", 400, "--seed", 5, "--engine", "simpy")
    sim = runs.simulate(runs.load(data), runs.ASAP, iterations=400, seed=5, engine="simpy")
    assert sim.plan is None and sim.result.info["plan"] == "asap"
    assert_tables_are_files(sim, SIM_FILES, tmp_path / "asap")


def test_simulate_refuses_what_is_not_a_plan(mini):
    scenario = runs.load(mini[0])
    for wrong in ("plan", scenario, pd.DataFrame()):
        with pytest.raises(TypeError, match="runs.Plan, runs.ASAP or None"):
            runs.simulate(scenario, wrong, iterations=10)


def test_report_and_compare_are_the_commands(mini, tmp_path):
    _, cli_run = mini
    folder = tmp_path / "run"
    shutil.copytree(cli_run, folder)
    (folder / "report.md").unlink()
    written = runs.report(folder, gantt_window="2020-01:2027-12")
    assert written["report.md"] == folder / "report.md" and (folder / "report.md").is_file()
    text = CliRunner().invoke(main, ["compare", str(cli_run), str(folder)]).output
    assert runs.compare(cli_run, folder) == text and text
    assert runs.compare(cli_run, folder, fmt="html").lstrip().lower().startswith("<!doctype html")


# -- the scenario ----------------------------------------------------------------------------------

def test_load_gives_the_scenario_and_its_tables(mini):
    scenario = runs.load(ROOT / "scenarios" / "baseline.toml")
    assert scenario.name == "baseline"
    assert len(scenario.projects) == len(scenario.portfolio.projects)
    data = pd.read_csv(ROOT / "data" / "activities.csv", dtype=str, keep_default_na=False)
    activities = scenario.activities
    assert list(activities.activity_id) == list(data.activity_id)
    assert list(activities.predecessors.fillna("")) == list(data.predecessors)
    assert set(activities.actual_start.dropna()) <= set(data.actual_start)


def test_load_reports_bad_input_with_its_place(write_data):
    from conftest import MINI_FILES

    broken = write_data({"projects.csv": MINI_FILES["projects.csv"].replace(",3,2025-12,", ",3,2025-13,")})
    with pytest.raises(runs.InputError) as caught:
        runs.load(broken)
    assert re.match(r".*projects\.csv:2:\d+: ", str(caught.value.problems[0]))


@pytest.mark.parametrize("call, message", [
    (lambda sc: runs.plan(sc, time_limit=0), "time_limit:0:0: must be a number from 0.1 to 86400, got 0"),
    (lambda sc: runs.plan(sc, time_limit=float("nan")), "time_limit:0:0: must be a number"),
    (lambda sc: runs.plan(sc, workers=0), "workers:0:0: must be a whole number from 1 to 256, got 0"),
    (lambda sc: runs.simulate(sc, runs.ASAP, workers=2.5), "workers:0:0: must be a whole number"),
    (lambda sc: runs.run(sc, time_limit=-1), "time_limit:0:0: must be a number"),
    (lambda sc: runs.simulate(sc, runs.ASAP, iterations=0), "iterations must be between 1 and"),
])
def test_bad_arguments_are_input_errors_naming_the_argument(mini, call, message):
    with pytest.raises(runs.InputError) as caught:
        call(runs.load(mini[0]))
    assert str(caught.value).startswith(message) or message in str(caught.value)
