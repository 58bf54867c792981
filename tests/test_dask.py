"""Dask executor on a real distributed.LocalCluster: the same bytes as a local run, sweeps, a worker killed mid-run.

One cluster of two single-threaded worker processes is shared by the whole module (it takes a few seconds to start).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

import cli
import simulate.executors as executors
from portfolio.runfolder import atomic_folder
from runs.sweep import run_sweep
from simulate import run, write_outputs
from simulate.executors import DaskExecutor, ExecutorError, by_block, open_executor
from simulate.model import build_model
from simulate.runner import chunks
from simulate.stats import Accumulator
from portfolio_builders import synthetic_portfolio

FILES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")
RUN_FILES = FILES + ("schedule.csv", "projects.csv", "funding.csv")


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def written(result, folder: Path) -> dict[str, bytes]:
    with atomic_folder(folder) as tmp:
        write_outputs(result, tmp)
    return {name: (folder / name).read_bytes() for name in FILES}


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def scenario_file(tmp_path: Path, data: Path, extra: str = "") -> Path:
    path = tmp_path / "mini.toml"
    path.write_text(f'name = "mini"\ndata = "{data.as_posix()}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n\n'
                    "[simulate]\niterations = 2500\nseed = 7\n" + extra, encoding="utf-8")
    return path


def slow_noop(model, seed, i0, i1, engine, cache):
    """A chunk that takes 0.05 s per 1024 iterations and computes nothing."""
    time.sleep(0.05 * (i1 - i0) / 1024)
    acc = Accumulator.empty(model)
    acc.n = i1 - i0
    return acc


def test_blocks_group_the_chunks_of_one_sampling_block():
    parts = [(0, 256), (256, 512), (512, 768), (768, 1024), (1024, 1280), (1280, 1300)]
    assert by_block(parts) == [parts[:4], parts[4:]]
    assert by_block(parts, 2048) == [parts]


def test_simulate_on_dask_gives_the_bytes_of_a_local_run(client, tmp_path):
    pf, settings = synthetic_portfolio(n_projects=3, per_project=5, seed=3)
    executor = DaskExecutor(client)
    on_dask = run(pf, settings, iterations=2600, seed=11, engine="simpy", executor=executor)  # 2 blocks and a part
    local = run(pf, settings, iterations=2600, seed=11, engine="simpy")
    assert on_dask.accumulator.equals(local.accumulator)
    assert written(on_dask, tmp_path / "dask") == written(local, tmp_path / "local")
    assert on_dask.info["iterations"] == 2600 and "executor" not in on_dask.info
    # larger tasks (two sampling blocks each) merge to the same sums
    assert run(pf, settings, iterations=2600, seed=11, engine="simpy",
               executor=DaskExecutor(client, block_iterations=2048)).accumulator.equals(local.accumulator)
    # the fast engine: blocks grouped into tasks of about TASK_SECONDS as their times come in
    fast = run(pf, settings, iterations=40_000, seed=11, engine="fast", executor=executor)
    assert fast.accumulator.equals(run(pf, settings, iterations=40_000, seed=11, engine="fast").accumulator)


def test_tasks_grow_to_about_a_second_each(client, monkeypatch):
    pf, settings = synthetic_portfolio(n_projects=2, per_project=3, seed=1)
    model = build_model(pf, settings)
    monkeypatch.setattr(executors, "TASK_SECONDS", 0.2)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    try:
        ranges = [r for r, _ in DaskExecutor(client, window=1).run(slow_noop, model, 1, "simpy", chunks(40 * 1024))]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    sizes = [(i1 - i0) // 1024 for i0, i1 in ranges]
    assert sizes[0] == 1 and max(sizes) >= 3 and sum(sizes) == 40  # 0.05 s per block: 4 blocks make 0.2 s
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # consecutive, in order


def test_simulate_and_run_commands_with_dask(client, mini_data, tmp_path):
    scenario = scenario_file(tmp_path, mini_data)
    address = client.scheduler.address
    r1 = invoke("simulate", scenario, "--out", tmp_path / "a", "--dask", address)
    r2 = invoke("simulate", scenario, "--out", tmp_path / "b")
    assert r1.exit_code == 0, r1.output
    assert r2.exit_code == 0, r2.output
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in FILES)
    r3 = invoke("run", scenario, "--out", tmp_path / "c", "--dask", address, "--iterations", 1500)
    r4 = invoke("run", scenario, "--out", tmp_path / "d", "--iterations", 1500)
    assert r3.exit_code == 0, r3.output
    assert r4.exit_code == 0, r4.output
    assert all((tmp_path / "c" / f).read_bytes() == (tmp_path / "d" / f).read_bytes() for f in RUN_FILES)
    assert (tmp_path / "c" / "report.html").is_file()


def test_sweep_of_four_variants_on_dask_matches_the_local_sweep(client, mini_data, tmp_path):
    scenario = scenario_file(tmp_path, mini_data, '\n[[sweep.funding]]\nsources = ["provincial"]\n'
                                                  "factors = [1.5, 1.2, 1.0, 0.9]\n")
    r1 = invoke("sweep", scenario, "--out", tmp_path / "dask", "--iterations", 1100, "--dask", client.scheduler.address)
    assert r1.exit_code == 0, r1.output
    run_sweep([scenario], tmp_path / "local", iterations=1100, report=False)  # the same, in this process
    variants = ["mini-provincial1.5", "mini-provincial1.2", "mini-provincial1", "mini-provincial0.9"]
    for v in variants:
        assert v in r1.output
        for f in RUN_FILES:
            assert (tmp_path / "dask" / v / f).read_bytes() == (tmp_path / "local" / v / f).read_bytes(), (v, f)
    assert (tmp_path / "dask" / "summary.csv").read_bytes() == (tmp_path / "local" / "summary.csv").read_bytes()
    assert (tmp_path / "dask" / "summary.md").read_bytes() == (tmp_path / "local" / "summary.md").read_bytes()
    assert (tmp_path / "dask" / variants[0] / "report.html").is_file()
    summary = (tmp_path / "dask" / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(summary) == 1 + 4 * 3  # header, then 2 projects and PORTFOLIO per variant


def test_a_worker_killed_mid_run_loses_nothing(client, tmp_path):
    pf, settings = synthetic_portfolio(n_projects=3, per_project=5, seed=5)
    iterations = 8 * 1024
    box: dict = {}

    def background():
        try:
            box["result"] = run(pf, settings, iterations=iterations, seed=21, engine="simpy",
                                executor=DaskExecutor(client))  # SimPy: a block takes long enough to kill its worker
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=background)
    thread.start()
    victim, lost = None, []
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        # once some blocks are done, kill a worker that is computing one
        done = client.run_on_scheduler(lambda dask_scheduler: sum(
            1 for k, ts in dask_scheduler.tasks.items()
            if str(k).startswith("portfolio-block") and ts.state in ("memory", "released", "forgotten")))
        busy = {w: [k for k in keys if str(k).startswith("portfolio-block")]
                for w, keys in client.processing().items()}
        busy = {w: keys for w, keys in busy.items() if keys}
        if done >= 1 and busy:
            victim, lost = next(iter(busy.items()))
            client.run(os._exit, 1, workers=[victim], on_error="return")  # the worker process dies at once
        else:
            time.sleep(0.02)
    assert victim is not None, "the run ended before a worker could be killed"
    assert lost, "the killed worker was computing a block"
    thread.join(timeout=120)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    assert victim not in client.scheduler_info()["workers"]  # that worker process is gone (its nanny started anew)
    local = run(pf, settings, iterations=iterations, seed=21, engine="simpy")
    assert box["result"].accumulator.equals(local.accumulator)
    assert written(box["result"], tmp_path / "dask") == written(local, tmp_path / "local")
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it, for the tests after this one


def test_cancel_stops_a_run_in_another_thread(client):
    # what a sweep does on Ctrl-C: the runs of the other variants stop at once instead of running to their end
    pf, settings = synthetic_portfolio(n_projects=3, per_project=5, seed=5)
    executor = DaskExecutor(client)
    box: dict = {}

    def background():
        try:
            run(pf, settings, iterations=200 * 1024, seed=3, engine="simpy", executor=executor)
        except ExecutorError as exc:
            box["error"] = exc

    thread = threading.Thread(target=background)
    thread.start()
    deadline = time.monotonic() + 30
    while not executor._active and time.monotonic() < deadline:
        time.sleep(0.01)
    executor.cancel()
    thread.join(timeout=20)
    assert not thread.is_alive() and "CancelledError" in str(box.get("error"))


def test_workers_running_other_code_are_refused(client, monkeypatch):
    monkeypatch.setattr(executors, "code_fingerprint", lambda: "other source code")  # here only, not on the workers
    with pytest.raises(ExecutorError, match="differs from this machine"):
        DaskExecutor(client)


def test_bad_dask_options_exit_2(client, mini_data, tmp_path, monkeypatch):
    scenario = scenario_file(tmp_path, mini_data)
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "local:two")
    assert result.exit_code == 2 and "expected local:N" in result.output and not (tmp_path / "x").exists()
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", client.scheduler.address, "--workers", 2)
    assert result.exit_code == 2 and "--workers counts local processes" in result.output
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 1.0)
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "local:1")
    assert result.exit_code == 2 and "pip install 'portfolio[dask]'" in result.output


def test_open_executor_starts_and_stops_a_local_cluster():
    with open_executor("local:1") as executor:
        assert executor.threads() == 1
        client = executor.client
        assert client.status == "running"
    assert client.status in ("closed", "closing")

