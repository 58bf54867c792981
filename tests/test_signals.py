"""Ctrl-C (SIGINT to the process group, as a terminal sends it) and SIGTERM (to the command alone, as `kill` sends
it) at each stage: exit 130 / 143 with one line, no temporary folder or lock left, no plan from a search cut
short, no worker process left, and the run folder that was at the target before still byte for byte the same.

Real commands in subprocesses, timed by what they leave on disk (the temporary folder and the files in it) or,
for the plan, by the solver's library being loaded; the scenario's plan takes CP-SAT far longer than the margins.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cli
from runfolder_fixture import make_run

pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="POSIX signals and /proc")

ROOT = Path(cli.__file__).parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
GRID = ROOT / "scenarios" / "funding-grid.toml"
STATUS = {"INT": 130, "TERM": 143}


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not condition():
        assert proc.poll() is None, f"ended before the moment to stop it: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() - t0 < timeout, "the stage did not come"
        time.sleep(0.02)


def send(proc: subprocess.Popen, name: str) -> float:
    """SIGINT to the whole process group (Ctrl-C in a terminal), SIGTERM to the command alone (``kill``)."""
    if name == "INT":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    return time.monotonic()


def finish(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """The command's stderr once it has ended (and closed its pipes); on a timeout everything it started is killed."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the command and any worker process it left
        proc.wait()
        raise
    return err.decode()


def temporary(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.tmp-*"))


def loaded(proc: subprocess.Popen, library: str) -> bool:
    try:
        return library in Path(f"/proc/{proc.pid}/maps").read_text()
    except OSError:
        return False


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_stopped_cleanly(err: str, code: int, returncode: int, parent: Path, earlier: dict, out: str = "O"):
    assert returncode == code, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(("interrupted", "terminated")), err
    assert folder_bytes(parent / out) == earlier, err
    left = sorted(p.name for p in parent.iterdir())
    assert left == [out], f"temporary folder or lock left: {left}"


@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_stop_while_planning(tmp_path, sig):
    earlier = folder_bytes(make_run(tmp_path / "O", iterations=200))
    proc = start("schedule", BASELINE, "--out", tmp_path / "O", "--time-limit", 25)
    wait_for(lambda: loaded(proc, "ortools"), proc)
    time.sleep(3)  # the scenario loaded, CP-SAT searching (its plan takes it about 18 s)
    sent = send(proc, sig)
    err = finish(proc)
    assert time.monotonic() - sent < 10, "the search was not stopped"
    assert_stopped_cleanly(err, STATUS[sig], proc.returncode, tmp_path, earlier)
    assert "scenario: baseline" not in err  # no plan summary for a search cut short


def test_ctrl_c_in_the_simulation_after_a_solve(tmp_path):
    # CP-SAT's own handler used to leave SIGINT at its default after a solve: Ctrl-C killed the run outright.
    earlier = folder_bytes(make_run(tmp_path / "O", iterations=200))
    proc = start("run", BASELINE, "--out", tmp_path / "O", "--time-limit", 2, "--iterations", 3_000_000)
    wait_for(lambda: any((t / "schedule.csv").exists() for t in temporary(tmp_path, "O")), proc)
    time.sleep(1)  # in the Monte Carlo
    send(proc, "INT")
    assert_stopped_cleanly(finish(proc), 130, proc.returncode, tmp_path, earlier)


def test_sigterm_in_the_simulation_stops_the_worker_processes(tmp_path):
    earlier = folder_bytes(make_run(tmp_path / "O", iterations=200))
    proc = start("simulate", BASELINE, "--out", tmp_path / "O", "--iterations", 50_000_000, "--workers", 2)
    wait_for(lambda: temporary(tmp_path, "O") and len(children(proc.pid)) >= 2, proc)
    time.sleep(1)
    workers = children(proc.pid)
    send(proc, "TERM")
    assert_stopped_cleanly(finish(proc), 143, proc.returncode, tmp_path, earlier)
    t0 = time.monotonic()
    while any(alive(w) for w in workers) and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "a worker process outlived the command"


@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_stop_while_writing_the_run_folder(tmp_path, sig):
    earlier = folder_bytes(make_run(tmp_path / "O", iterations=200))
    proc = start("run", BASELINE, "--out", tmp_path / "O", "--time-limit", 2, "--iterations", 2000)
    # simulation.csv written: the report (charts, HTML) is being written now
    wait_for(lambda: any((t / "simulation.csv").exists() for t in temporary(tmp_path, "O")), proc)
    send(proc, sig)
    assert_stopped_cleanly(finish(proc), STATUS[sig], proc.returncode, tmp_path, earlier)


def test_ctrl_c_in_a_sweep_after_its_first_plan(tmp_path):
    # As in `run`: after the first variant's plan, Ctrl-C used to kill the sweep outright.
    out = tmp_path / "S"
    proc = start("sweep", GRID, "--out", out, "--time-limit", 2, "--iterations", 60_000, "--workers", 1)
    wait_for(lambda: loaded(proc, "ortools"), proc)
    time.sleep(4)  # past the first of four plans (2 s each), before the first Monte Carlo (several seconds) ends
    send(proc, "INT")
    err = finish(proc)
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("interrupted; the variants listed above are complete"), err
    assert not out.exists() or list(out.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] in ([], ["S"])


WORKERS_STARTING = """
import os, signal, sys, threading, time
from portfolio import interrupts
from simulate.executors import ProcessPool

ready = interrupts.in_worker
def slow_start(*args):  # a loaded machine: the worker gets Ctrl-C before its initializer has run
    time.sleep(1.5)
    ready(*args)
interrupts.in_worker = slow_start
interrupts.install()
threading.Timer(0.5, lambda: os.killpg(0, signal.SIGINT)).start()
try:
    list(ProcessPool(2).map(time.sleep, [(0.1,)] * 4))
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_while_the_workers_start(tmp_path):
    # The workers are forked with the parent's handler: until their initializer ran, Ctrl-C raised in them too.
    proc = subprocess.Popen([sys.executable, "-c", WORKERS_STARTING], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    err = finish(proc)
    assert proc.returncode == 130 and "Traceback" not in err, err


def test_an_error_the_signal_caused_is_reported_as_the_signal(monkeypatch):
    """A Ctrl-C that lands inside a compiled (numba) call comes out as a SystemError, not a KeyboardInterrupt:
    once the signal has been acted on, any error is its consequence and ends the command with the signal's status."""
    import click
    from click.testing import CliRunner

    from portfolio import interrupts

    @click.command()
    @click.argument("signalled", type=int)
    @cli.guarded
    def broken(signalled):
        monkeypatch.setitem(interrupts._STATE, "signal", signalled)
        raise SystemError("CPUDispatcher(<function f>) returned a result with an exception set")

    result = CliRunner().invoke(broken, [str(int(signal.SIGINT))])
    assert result.exit_code == 130 and result.output == "interrupted; nothing was written\n"
    result = CliRunner().invoke(broken, [str(int(signal.SIGTERM))])
    assert result.exit_code == 143 and result.output == "terminated; nothing was written\n"
    assert isinstance(CliRunner().invoke(broken, ["0"]).exception, SystemError)  # without a signal it is a bug
