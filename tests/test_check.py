"""portfolio check DIR --expected DIR: regression check with the tolerances of docs/regression.md."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from report import tolerance as tol
from report.check import check_runs
from runfolder_fixture import make_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of the same scenario with different seeds (the sampling differs), and a same-seed twin."""
    base = tmp_path_factory.mktemp("check")
    return {
        "a": make_run(base / "a", seed=1, iterations=2000),
        "a_twin": make_run(base / "a_twin", seed=1, iterations=2000),
        "b": make_run(base / "b", seed=2, iterations=2000),
    }


def check(got, expected):
    return CliRunner().invoke(main, ["check", str(got), "--expected", str(expected)])


def edit(folder, file, row_key, column, value):
    """Set one cell of a run folder's CSV file (rows keyed by their first column), keeping the rest of the bytes."""
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index(column)
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[0] == row_key:
            old = cells[col]
            cells[col] = value
            lines[i] = ",".join(cells)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return old
    raise KeyError(row_key)


def copy(folder, tmp_path, name="got"):
    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def test_same_folder_passes_byte_for_byte(runs):
    result = check(runs["a"], runs["a"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "byte for byte" in result.output


def test_same_seed_rerun_passes_and_must_be_identical(runs, tmp_path):
    assert check(runs["a_twin"], runs["a"]).exit_code == 0
    got = copy(runs["a_twin"], tmp_path)
    edit(got, "simulation.csv", "HJW-2", "p_on_time", "0.6001")  # tiny, but the same draws must give the same bytes
    result = check(got, runs["a"])
    assert result.exit_code == 1
    assert "simulation.csv HJW-2 p_on_time" in result.output
    assert "identical (same seed 1, 2000 iterations)" in result.output


def test_different_seeds_pass_within_sampling_error(runs):
    result = check(runs["b"], runs["a"])
    assert result.exit_code == 0, result.output
    assert "within sampling error" in result.output


def test_small_monte_carlo_differences_pass(runs, tmp_path):
    got = copy(runs["b"], tmp_path)
    old = float(edit(got, "simulation.csv", "XIY-P3", "p_on_time", "0"))
    edit(got, "simulation.csv", "XIY-P3", "p_on_time", f"{old + 0.01:.4f}")
    old = float(edit(got, "criticality.csv", "HJW-2.T1", "criticality", "0"))
    edit(got, "criticality.csv", "HJW-2.T1", "criticality", f"{old - 0.01:.4f}")
    result = check(got, runs["a"])
    assert result.exit_code == 0, result.output


def test_p_on_time_edited_far_beyond_tolerance_fails_with_one_line(runs, tmp_path):
    expected = copy(runs["a"], tmp_path, "expected")
    old = edit(expected, "simulation.csv", "XAM-L8", "p_on_time", "0.9000")
    result = check(runs["b"], expected)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("simulation.csv")]
    assert len(lines) == 1, result.output
    line = lines[0]
    assert line.startswith("simulation.csv XAM-L8 p_on_time: expected 0.9000, got ")
    got_value = float(line.split("got ")[1].split(" ")[0])
    assert abs(got_value - float(old)) < 0.05
    assert "tolerance: ±0.0" in line and "4 SE" in line
    assert "drift(s)" in result.output.splitlines()[0]


def test_schedule_start_month_change_fails(runs, tmp_path):
    got = copy(runs["a"], tmp_path)
    edit(got, "schedule.csv", "XIY-P3.T5", "start", "2024-04")
    result = check(got, runs["a"])
    assert result.exit_code == 1
    assert ("schedule.csv XIY-P3.T5 start: expected 2024-03, got 2024-04 (tolerance: exact (deterministic plan file))"
            in result.output)


def test_every_drift_is_listed(runs, tmp_path):
    got = copy(runs["b"], tmp_path)
    edit(got, "projects.csv", "HJW-2", "planned_finish", "2025-06")
    edit(got, "funding.csv", "2022", "spend", "1.00")  # the first row of 2022 (bond)
    edit(got, "simulation.csv", "DONGZHUANG", "finish_p80", "2028-08")
    edit(got, "criticality.csv", "XIY-P3.T2", "sensitivity", "-0.5000")
    edit(got, "risks.csv", "R02", "occurred", "0.9000")
    result = check_runs(got, runs["a"])
    keys = {(d.file, d.key, d.column) for d in result.drifts}
    assert keys == {
        ("projects.csv", "HJW-2", "planned_finish"),
        ("funding.csv", "2022/bond", "spend"),
        ("simulation.csv", "DONGZHUANG", "finish_p80"),
        ("criticality.csv", "XIY-P3.T2", "sensitivity"),
        ("risks.csv", "R02", "occurred"),
    }, result.report()


def test_a_real_change_is_caught_even_with_different_seeds(runs, tmp_path):
    got = make_run(tmp_path / "slower", seed=3, iterations=2000, delays={"XAM-L10.T4": 3})
    result = check_runs(got, runs["a"])
    assert not result.ok
    files = {d.file for d in result.drifts}
    assert {"schedule.csv", "simulation.csv", "distribution.csv"} <= files
    assert any(d.key == "XAM-L10" and d.column == "p_on_time" for d in result.drifts)
    assert any("activities.csv (changed)" in n for n in result.notes)


def test_missing_file_is_a_drift(runs, tmp_path):
    got = copy(runs["a"], tmp_path)
    (got / "risks.csv").unlink()
    result = check(got, runs["a"])
    assert result.exit_code == 1
    assert "risks.csv (file) (file): expected present, got missing" in result.output


def test_missing_or_malformed_folder_exits_2(runs, tmp_path):
    result = check(tmp_path / "nope", runs["a"])
    assert result.exit_code == 2 and "no such run folder" in result.output
    got = copy(runs["a"], tmp_path)
    (got / "manifest.json").write_text("{not json", encoding="utf-8")
    result = check(got, runs["a"])
    assert result.exit_code == 2
    assert "manifest.json:1:2: not valid JSON" in result.output and result.output.count("\n") == 1


def test_tolerance_rules():
    # a proportion: 4 SE of the pooled, smoothed share
    t = tol.proportion_tolerance(0.5, 10000, 0.5, 10000)
    assert t == pytest.approx(4 * (0.25 * 2 / 10000) ** 0.5, rel=1e-3)
    assert tol.proportion_tolerance(0.0, 10000, 0.0, 10000) > 0  # the floor: never a zero tolerance
    # a quantile month is consistent when the other CDF crosses q within the band
    cdf = {10: 0.70, 11: 0.79, 12: 0.86}.get
    assert tol.quantile_consistent(12, 0.8, lambda m: cdf(m, 0.0 if m < 10 else 1.0), 0.02)
    assert tol.quantile_consistent(11, 0.8, lambda m: cdf(m, 0.0 if m < 10 else 1.0), 0.02)
    assert not tol.quantile_consistent(10, 0.8, lambda m: cdf(m, 0.0 if m < 10 else 1.0), 0.02)
    # a correlation: symmetric in Fisher z, inside (-1, 1)
    lo, hi = tol.fisher_band(0.9, 2000, 2000)
    assert -1 < lo < 0.9 < hi < 1


def test_other_engine_same_seed_is_held_to_the_same_bytes(runs, tmp_path):
    """The engines give the same bytes, so a SimPy run with the expected run's seed must match it exactly."""
    simpy_run = make_run(tmp_path / "simpy", seed=1, iterations=2000, engine="simpy")
    result = check(simpy_run, runs["a"])
    assert result.exit_code == 0, result.output
    edit(simpy_run, "simulation.csv", "HJW-2", "p_on_time", "0.6001")
    result = check(simpy_run, runs["a"])
    assert result.exit_code == 1
    assert "identical (same seed 1, 2000 iterations)" in result.output


def set_simulation(folder, **values):
    """Change fields of the manifest's simulation section (what a run with other settings would record)."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["simulation"].update(values)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_same_draws_give_no_warning(runs):
    result = check(runs["a_twin"], runs["a"])
    assert result.exit_code == 0 and "warning:" not in result.output, result.output


def test_different_seed_warns_and_says_what_can_go_unnoticed(runs):
    result = check(runs["b"], runs["a"])
    assert result.exit_code == 0, result.output
    assert "warning: the runs differ in seed 1 (expected) vs 2" in result.output
    # 4 SE of a difference of two proportions near 0.5 at n = 2000 each
    assert f"±{4 * (0.25 * 2 / 2000) ** 0.5:.3f} unnoticed" in result.output
    assert "--seed 1 --iterations 2000" in result.output


def test_different_iterations_warn(runs, tmp_path):
    got = make_run(tmp_path / "more", seed=1, iterations=3000)
    result = check(got, runs["a"])
    assert "warning: the runs differ in iterations 2000 (expected) vs 3000" in result.output


def test_different_simulation_mode_warns_even_with_the_same_draws(runs, tmp_path):
    got = copy(runs["a_twin"], tmp_path)
    set_simulation(got, plan="asap")
    result = check(got, runs["a"])
    assert "warning: the runs differ in plan None (expected) vs asap" in result.output


def test_a_plan_marked_not_reproducible_is_named(runs, tmp_path):
    got = copy(runs["a_twin"], tmp_path)
    path = got / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["optimizer"] = {"status": "feasible", "reproducible": False}
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = check(got, runs["a"])
    assert result.exit_code == 0
    assert "warning: the checked run's plan is marked not reproducible" in result.output


def test_a_bom_only_difference_is_none(runs, tmp_path):
    """A run written with the UTF-8 byte-order mark (the default, for Excel on Chinese Windows) checks equal to an
    expected folder written without it, and the other way round: byte for byte after the mark."""
    marked = copy(runs["a"], tmp_path, "marked")
    for path in marked.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    for got, expected in ((marked, runs["a"]), (runs["a"], marked)):
        result = check(got, expected)
        assert result.exit_code == 0, result.output
        assert "byte for byte" in result.output
    edit(marked, "simulation.csv", "HJW-2", "p_on_time", "0.6001")  # a real change is still one
    result = check(marked, runs["a"])
    assert result.exit_code == 1 and "simulation.csv HJW-2 p_on_time" in result.output


def test_bom_switch(monkeypatch, tmp_path):
    import pandas as pd

    from portfolio.runfolder import write_csv

    frame = pd.DataFrame({"activity_id": ["西康.T1"], "note": ["=1+1"]})
    write_csv(frame, tmp_path / "with.csv")
    assert (tmp_path / "with.csv").read_bytes() == "\ufeffactivity_id,note\n西康.T1,'=1+1\n".encode("utf-8")
    monkeypatch.setenv("PORTFOLIO_CSV_BOM", "0")
    write_csv(frame, tmp_path / "without.csv")
    assert (tmp_path / "without.csv").read_bytes() == "activity_id,note\n西康.T1,'=1+1\n".encode("utf-8")
