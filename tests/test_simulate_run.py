"""Running the simulator: statistics as defined, identical bytes for any split or worker count, the command."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import simulate.runner as runner
from portfolio.runfolder import atomic_folder
from simulate import run, write_outputs
from simulate.model import build_model
from simulate.sampling import draws_for
from simulate.engine_simpy import run_block
from simulate.stats import Accumulator, accumulate
from portfolio_builders import activity, make_portfolio, make_settings, project, risk, synthetic_portfolio

FILES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")


def mixed():
    """Two projects, funding limits, a shared risk, every link type."""
    pf = make_portfolio(
        [project("P", deadline="2023-06", priority=2, category="metro"), project("Q", deadline="2022-12", category="rail")],
        [activity("P.A", "P", 4, 6, 10, cost=12, source="provincial"),
         activity("P.B", "P", 6, 8, 14, preds="P.A", cost=20, source="provincial"),
         activity("P.C", "P", 2, 3, 5, preds="P.B:SS+2", cost=5, source="local"),
         activity("Q.A", "Q", 3, 5, 9, cost=8, source="provincial"),
         activity("Q.B", "Q", 4, 6, 7, preds="Q.A:FF+1;P.A:FS-1", cost=4, source="local")],
        funding=[(y, "provincial", 18.0) for y in range(2021, 2030)],
        risks=[risk("R1", 0.3, 1, 3, 6, affects=("P.B", "Q.B")), risk("R2", 0.1, 2, affects=("Q.A",))])
    return pf, make_settings(correlation=0.3)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def test_statistics_follow_their_definitions():
    # P ends 2021-12 (on time) or, when R occurs, 2022-06 (6 months late); Q always ends 2022-02, 2 months late.
    pf = make_portfolio([project("P", deadline="2021-12"), project("Q", deadline="2021-12")],
                        [activity("P.A", "P", 12), activity("Q.A", "Q", 14)],
                        risks=[risk("R", 0.5, 6, affects=("P.A",))])
    res = run(pf, make_settings(), iterations=1000, seed=4)
    occ = int(res.accumulator.risk_occ[0])
    n = 1000
    sim = res.simulation.set_index("project_id")
    assert sim.p_on_time["P"] == (n - occ) / n and sim.p_on_time["Q"] == 0.0 and sim.p_on_time["PORTFOLIO"] == 0.0
    assert sim.mean_delay_months["P"] == 6 * occ / n and sim.mean_delay_months["Q"] == 2.0
    assert sim.mean_delay_months["PORTFOLIO"] == (6 * occ + 2 * (n - occ)) / n  # mean of the largest delay
    p50 = "2021-12" if (n - occ) * 100 >= 50 * n else "2022-06"
    assert sim.finish_p50["P"] == p50 and sim.finish_p90["P"] == "2022-06"
    assert sim.finish_p50["PORTFOLIO"] == ("2022-02" if (n - occ) * 100 >= 50 * n else "2022-06")
    assert sim.finish_p90["PORTFOLIO"] == "2022-06" and sim.finish_p50["Q"] == "2022-02"
    r = res.risks.iloc[0]
    assert r.mean_delay_if_occurs == 8.0 and r.mean_delay_if_not == 2.0 and r.contribution_months == 6.0
    dist = res.distribution
    assert dist[dist.project_id == "P"].p_finished.tolist() == [(n - occ) / n, 1.0]
    assert dist[dist.project_id == "PORTFOLIO"].month.tolist() == ["2022-02", "2022-06"]


def test_accumulators_merge_exactly_whatever_the_split(monkeypatch):
    pf, settings = mixed()
    model = build_model(pf, settings)

    def acc_of(ranges):
        total = Accumulator.empty(model)
        for i0, i1 in ranges:
            d = draws_for(model, 3, i0, i1)
            total.merge(accumulate(model, d, run_block(model, d)))
        return total

    one = acc_of([(0, 1300)])
    many = acc_of([(0, 100), (100, 1024), (1024, 1025), (1025, 1300)])
    assert one.equals(many)
    monkeypatch.setattr(runner, "CHUNK", 128)
    a = run(pf, settings, iterations=1300, seed=3)
    assert a.accumulator.equals(one)


def test_same_bytes_with_one_and_two_workers(tmp_path):
    pf, settings = synthetic_portfolio(n_projects=3, per_project=6, seed=2)
    folders = []
    for workers in (1, 2):
        res = run(pf, settings, iterations=700, seed=12, workers=workers)
        with atomic_folder(tmp_path / f"w{workers}") as folder:
            write_outputs(res, folder)
        folders.append(tmp_path / f"w{workers}")
    assert folder_bytes(folders[0]) == folder_bytes(folders[1])
    manifest = json.loads((folders[0] / "manifest.json").read_text(encoding="utf-8"))
    sim = manifest["simulation"]
    assert sim["seed"] == 12 and sim["iterations"] == 700 and sim["engine"] == "fast" and "workers" not in sim


def test_output_format(tmp_path):
    pf, settings = mixed()
    res = run(pf, settings, iterations=300, seed=1)
    with atomic_folder(tmp_path / "out") as folder:
        write_outputs(res, folder)
        text = {name: (folder / name).read_text(encoding="utf-8-sig") for name in FILES}
    lines = text["simulation.csv"].splitlines()
    assert lines[0] == "project_id,name_zh,deadline,p_on_time,finish_p50,finish_p80,finish_p90,mean_delay_months"
    assert lines[-1].startswith("PORTFOLIO,全部项目,2023-06,")
    p, q = lines[1].split(","), lines[2].split(",")
    assert p[0] == "P" and len(p[3]) == 6 and len(p[7].split(".")[1]) == 2
    assert text["criticality.csv"].splitlines()[0] == "activity_id,project_id,criticality,sensitivity"
    assert text["risks.csv"].splitlines()[0] == ("risk_id,name,probability,occurred,mean_delay_if_occurs,"
                                                 "mean_delay_if_not,contribution_months")
    assert text["distribution.csv"].splitlines()[0] == "project_id,month,p_finished"
    assert "\r" not in "".join(text.values())


def test_progress_bar_writes_only_when_enabled():
    out = io.StringIO()
    bar = runner.Progress(100, True, out)
    bar.update(100)
    bar.close()
    assert "100/100" in out.getvalue() and "left" in out.getvalue()
    quiet = io.StringIO()
    bar = runner.Progress(100, False, quiet)
    bar.update(50)
    bar.close()
    assert quiet.getvalue() == ""


# -- the command -------------------------------------------------------------------------------

@pytest.fixture
def scenario(mini_data, tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(f'name = "mini"\ndata = "{mini_data}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n\n'
                    "[simulate]\niterations = 400\nseed = 7\n", encoding="utf-8")
    return path


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def test_command_same_bytes_for_any_workers(scenario, tmp_path):
    r1 = invoke("simulate", scenario, "--out", tmp_path / "a", "--workers", 1)
    r2 = invoke("simulate", scenario, "--out", tmp_path / "b", "--workers", 2)
    assert r1.exit_code == 0, r1.output
    assert r2.exit_code == 0, r2.output
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")
    assert "PORTFOLIO" in r1.output and "wrote" in r1.output
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"] == "mini" and manifest["simulation"]["iterations"] == 400
    r3 = invoke("simulate", scenario, "--out", tmp_path / "c", "--iterations", 300, "--seed", 8)
    assert r3.exit_code == 0, r3.output
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["simulation"]["seed"] == 8


def test_command_with_a_plan(scenario, tmp_path):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "schedule.csv").write_text("activity_id,project_id,start,finish\nXIY.T3,XIY,2024-01,2024-12\n"
                                       "HJW.T1,HJW,2022-01,2024-06\n", encoding="utf-8")
    result = invoke("simulate", scenario, "--out", tmp_path / "p", "--plan", plan, "--iterations", 200)
    assert result.exit_code == 0, result.output
    asap = invoke("simulate", scenario, "--out", tmp_path / "q", "--iterations", 200)
    assert asap.exit_code == 0, asap.output

    def p50(folder):
        rows = (folder / "simulation.csv").read_text(encoding="utf-8-sig").splitlines()
        return next(line for line in rows if line.startswith("HJW,")).split(",")[4]

    # HJW.T1 may start 2021-06 (its earliest start); the plan holds it to 2022-01, 7 months later.
    assert p50(tmp_path / "p") > p50(tmp_path / "q")


def test_command_bad_plan_and_bad_engine_exit_2(scenario, tmp_path):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "schedule.csv").write_text("activity_id,start\nNOPE,2024-01\nXIY.T3,2024/01\n", encoding="utf-8")
    result = invoke("simulate", scenario, "--out", tmp_path / "p", "--plan", plan)
    assert result.exit_code == 2
    assert "schedule.csv:2:1: activity_id: unknown activity 'NOPE'" in result.output
    assert "schedule.csv:3:2: start:" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "p").exists()
    result = invoke("simulate", scenario, "--out", tmp_path / "p", "--engine", "warp")
    assert result.exit_code == 2 and "engine 'warp' is not available" in result.output


def test_interrupt_leaves_no_folder(scenario, tmp_path, monkeypatch):
    calls = []
    real = runner.run_chunk

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_chunk", interrupted)
    out = tmp_path / "runs" / "x"
    result = invoke("simulate", scenario, "--out", out, "--iterations", 5000)  # several chunks with any engine
    assert result.exit_code == 130
    assert not out.exists() and list((tmp_path / "runs").iterdir()) == []
    # An earlier run folder under the same name is left as it was.
    monkeypatch.setattr(runner, "run_chunk", real)
    assert invoke("simulate", scenario, "--out", out, "--iterations", 100).exit_code == 0
    before = folder_bytes(out)
    calls.clear()
    monkeypatch.setattr(runner, "run_chunk", interrupted)
    assert invoke("simulate", scenario, "--out", out, "--iterations", 5000).exit_code == 130
    assert folder_bytes(out) == before and sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["x"]


@pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT")
def test_ctrl_c_with_worker_processes_leaves_no_folder(scenario, tmp_path):
    # Ctrl-C in a terminal sends SIGINT to the whole process group: the parent and its workers.
    out = tmp_path / "runs" / "x"
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "simulate", str(scenario), "--out",
                             str(out), "--iterations", "100000000", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            cwd=Path(cli.__file__).parent)
    time.sleep(5)  # past the imports and the compiled kernels loading: Ctrl-C during the run itself
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()
    assert "interrupted; nothing was written" in err.decode() and "Traceback" not in err.decode()
    assert not out.exists() and list((tmp_path / "runs").iterdir()) == []


def test_benchmark_writes_only_its_section(tmp_path):
    sys.path.insert(0, str(Path(cli.__file__).parent / "benchmarks"))
    try:
        from benchmarks_md import write_section
    finally:
        sys.path.pop(0)
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## PSPLIB\n\nj30: 465 of 480\n", encoding="utf-8")
    write_section(path, "## Simulation", "## Simulation\n\nfirst\n")
    write_section(path, "## Simulation", "## Simulation\n\nsecond\n")
    text = path.read_text(encoding="utf-8")
    assert text == "# Benchmarks\n\n## PSPLIB\n\nj30: 465 of 480\n\n## Simulation\n\nsecond\n"
    path.write_text(text + "\n## Later\n\nkept\n", encoding="utf-8")
    write_section(path, "## Simulation", "## Simulation\n\nthird\n")
    assert path.read_text(encoding="utf-8").endswith("## Simulation\n\nthird\n\n## Later\n\nkept\n")
