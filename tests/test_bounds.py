"""Bounds on what one run may ask for: finite numbers and upper limits on the command line, iterations that stream
(memory flat in the iteration count), no more processes than pieces of work, a bounded local Dask cluster."""
from __future__ import annotations

import itertools
import os
import sys
import tracemalloc

import pytest
from click.testing import CliRunner

import cli
import simulate.runner as runner
from portfolio.errors import InputError
from portfolio.limits import MAX_DASK_LOCAL_WORKERS, MAX_ITERATIONS, usable_processes
from simulate import executors
from simulate.executors import ExecutorError, InProcess, open_executor
from portfolio_builders import activity, make_portfolio, make_settings, project


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


@pytest.fixture
def scenario(mini_data, tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(f'name = "mini"\ndata = "{mini_data}"\n[optimize]\ntime_limit_s = 1\n[simulate]\niterations = 200\n',
                    encoding="utf-8")
    return path


def assert_usage_error(result, option: str, tmp_path) -> None:
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# -- floats: nan and inf ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["schedule", "run", "backtest", "sweep"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_time_limit_must_be_a_finite_number(scenario, tmp_path, command, value):
    assert_usage_error(invoke(command, scenario, "--out", tmp_path / "out", "--time-limit", value), "--time-limit",
                       tmp_path)


def test_psplib_time_limit_must_be_finite(tmp_path):
    result = invoke("psplib", tmp_path / "none.sm", "--time-limit", "nan")
    assert result.exit_code == 2 and "Invalid value for '--time-limit': 'nan' is not a finite number" in result.output


# -- whole numbers: upper bounds -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["simulate", "run", "backtest", "sweep"])
@pytest.mark.parametrize("option, value", [("--iterations", 10**12), ("--workers", 1000), ("--seed", 2**64)])
def test_iterations_workers_and_seed_have_upper_bounds(scenario, tmp_path, command, option, value):
    assert_usage_error(invoke(command, scenario, "--out", tmp_path / "out", option, value), option, tmp_path)


def test_schedule_workers_are_bounded(scenario, tmp_path):
    assert_usage_error(invoke("schedule", scenario, "--out", tmp_path / "out", "--workers", 1000), "--workers",
                       tmp_path)


def test_the_library_refuses_more_iterations_than_the_limit():
    pf = make_portfolio([project("P", deadline="2022-12")], [activity("P.A", "P", 4)])
    with pytest.raises(InputError, match=f"iterations must be between 1 and {MAX_ITERATIONS}"):
        runner.run(pf, make_settings(), iterations=MAX_ITERATIONS + 1)


# -- iterations stream ---------------------------------------------------------------------------------------

def test_the_chunks_of_a_run_are_made_as_they_are_used():
    tracemalloc.start()
    try:
        parts = runner.chunks(10**7, 16)  # 625,000 chunks: a list of them would take tens of MB
        first = list(itertools.islice(parts, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first == [(0, 16), (16, 32), (32, 48)]
    assert peak < 100_000
    assert len(parts) == 625_000 and parts[-1] == (10**7 - 16, 10**7) and list(runner.chunks(40, 16)) == [
        (0, 16), (16, 32), (32, 40)]


def test_a_huge_run_hands_its_executor_a_lazy_chunk_source_and_can_be_cancelled():
    pf = make_portfolio([project("P", deadline="2022-12")], [activity("P.A", "P", 4)])
    seen = {}

    class Cancelling(InProcess):
        def run(self, task, model, seed, engine, parts):
            seen["parts"] = parts
            for k, item in enumerate(super().run(task, model, seed, engine, parts)):
                if k == 2:
                    raise KeyboardInterrupt  # the user cancels after a few chunks
                yield item

    with pytest.raises(KeyboardInterrupt):
        runner.run(pf, make_settings(), iterations=10**8, engine="simpy", executor=Cancelling())
    parts = seen["parts"]
    assert len(parts) == -(-10**8 // runner.CHUNK) and sys.getsizeof(parts) < 1000


def test_never_more_processes_than_chunks(monkeypatch):
    pf = make_portfolio([project("P", deadline="2022-12")], [activity("P.A", "P", 4)])
    asked = []
    monkeypatch.setattr(runner, "local_executor", lambda workers: asked.append(workers) or InProcess())
    runner.run(pf, make_settings(), iterations=2 * runner.CHUNK, engine="simpy", workers=256)
    assert asked == [2]
    assert usable_processes(1000, 10**6) == min(1000, 4 * (os.cpu_count() or 1)) and usable_processes(3, 0) == 1


# -- Dask: local:N ---------------------------------------------------------------------------------------------

class NoCluster:
    """Stands in for the distributed package: starting a cluster is a test failure."""

    def __getattr__(self, name):
        raise AssertionError(f"distributed.{name} used: the spec should have been refused first")


@pytest.mark.parametrize("spec", ["local:0", f"local:{MAX_DASK_LOCAL_WORKERS + 1}", "local:99999999999999999999",
                                  "local:" + "9" * 5000])
def test_local_dask_cluster_size_is_bounded(monkeypatch, spec):
    monkeypatch.setattr(executors, "_distributed", lambda: NoCluster())
    with pytest.raises(ExecutorError, match=rf"local:N needs 1 <= N <= {MAX_DASK_LOCAL_WORKERS} workers"):
        with open_executor(spec):
            pass


def test_dask_local_cluster_too_big_exits_2(scenario, tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "_distributed", lambda: NoCluster())
    result = invoke("simulate", scenario, "--out", tmp_path / "out", "--dask", "local:99999999999999999999")
    assert result.exit_code == 2, result.output
    assert "dask: --dask local:N needs 1 <= N <= 64 workers, got local:999999999999..." in result.output
    assert not (tmp_path / "out").exists()
