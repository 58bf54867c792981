"""--out may replace only a run folder this tool wrote; everything else is refused with exit 2 and left untouched.

Also: the lock against a second writer, stale temporary folders of killed runs, the umask, --out FILE.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from runfolder_fixture import make_run

ROOT = Path(cli.__file__).parent


@pytest.fixture
def scenario(mini_data, tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(f'name = "mini"\ndata = "{mini_data}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n\n'
                    "[simulate]\niterations = 200\nseed = 7\n", encoding="utf-8")
    return path


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def simulate(scenario, out):
    return invoke("simulate", scenario, "--out", out, "--iterations", 100)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (folders as None), to compare before and after."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def refused(result, out: str) -> bool:
    """Exit 2 with one line that names the option and the place, and no traceback."""
    lines = result.output.strip().splitlines()
    return (result.exit_code == 2 and len(lines) == 1 and lines[0].startswith(f"--out {out}: ")
            and (result.exception is None or isinstance(result.exception, SystemExit)))


def user_folder(path: Path) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "thesis.txt").write_text("precious\n", encoding="utf-8")
    (path / "sub" / "notes.md").write_text("mine\n", encoding="utf-8")
    return path


# -- what --out may replace ------------------------------------------------------------------------------------

def test_a_folder_the_tool_did_not_make_is_refused_and_kept(scenario, tmp_path):
    out = user_folder(tmp_path / "v")
    before = snapshot(out)
    result = simulate(scenario, out)
    assert refused(result, str(out)), result.output
    assert "not a run folder written by portfolio" in result.output
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "mini.toml", "v"]  # no temporary folder, no lock


@pytest.mark.parametrize("where", [".", "home", "data"])
def test_the_current_home_and_data_folders_are_refused(scenario, tmp_path, monkeypatch, where):
    work = user_folder(tmp_path / "work")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(work))
    out = {".": ".", "home": str(work), "data": str(tmp_path / "data")}[where]
    before = {p: snapshot(p) for p in (work, tmp_path / "data")}
    result = simulate(scenario, out)
    assert refused(result, out), result.output
    assert {p: snapshot(p) for p in before} == before


def test_the_root_folder_and_a_parent_of_the_current_folder_are_refused(scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(user_folder(tmp_path / "work"))
    result = simulate(scenario, "/")
    assert refused(result, "/") and "is the root folder" in result.output
    result = simulate(scenario, "..")
    assert refused(result, "..") and "contains the current folder" in result.output


def test_an_empty_folder_and_an_earlier_run_folder_are_replaced(scenario, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert simulate(scenario, out).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["written_by"] == "portfolio" and (out / "simulation.csv").is_file()
    result = invoke("simulate", scenario, "--out", out, "--iterations", 150)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["simulation"]["iterations"] == 150


def test_run_folders_of_older_versions_are_recognised(scenario, tmp_path):
    from portfolio.runfolder import is_run_folder

    old = make_run(tmp_path / "old", iterations=200)  # a manifest with scenario, inputs, versions; no marker
    assert "written_by" not in json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    assert is_run_folder(old)
    assert simulate(scenario, old).exit_code == 0
    assert not (old / "schedule.csv").exists()  # the earlier folder was replaced whole


@pytest.mark.parametrize("manifest", ['{"name": "my-package", "version": "1.0.0"}', "[1, 2]", "{not json"])
def test_a_manifest_of_something_else_is_not_a_run_folder(scenario, tmp_path, manifest):
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "manifest.json").write_text(manifest, encoding="utf-8")
    (out / "index.js").write_text("x\n", encoding="utf-8")
    before = snapshot(out)
    assert refused(simulate(scenario, out), str(out))
    assert snapshot(out) == before


def test_a_symbolic_link_is_refused(scenario, tmp_path):
    real = make_run(tmp_path / "real", iterations=200)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    result = simulate(scenario, link)
    assert refused(result, str(link)) and "symbolic link" in result.output
    assert link.is_symlink() and snapshot(real) == before


def test_an_existing_file_is_refused_in_one_line(scenario, tmp_path):
    before = scenario.read_bytes()
    result = simulate(scenario, scenario)
    assert refused(result, str(scenario)) and "is a file, not a folder" in result.output
    assert scenario.read_bytes() == before
    a = make_run(tmp_path / "a")
    result = invoke("compare", a, a, "--out", a)
    assert result.exit_code == 2 and result.output.strip().splitlines()[-1] == f"--out {a}: is a folder; give a file name"
    assert (a / "manifest.json").is_file()


def test_a_place_that_cannot_be_written_exits_2(scenario, tmp_path):
    for out in ("/proc/portfolio-test/x", tmp_path / "mini.toml" / "x"):
        result = simulate(scenario, out)
        assert refused(result, str(out)), result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_folder_exits_2(scenario, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = simulate(scenario, ro / "x")
        assert refused(result, str(ro / "x")) and "cannot write in" in result.output
    finally:
        ro.chmod(0o755)


def test_new_run_folders_follow_the_umask(scenario, tmp_path):
    old = os.umask(0o022)
    try:
        assert simulate(scenario, tmp_path / "r").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "r" / "simulation.csv").stat().st_mode) == 0o644


def test_the_target_is_checked_again_before_it_is_replaced(tmp_path):
    from portfolio.runfolder import OutError, atomic_folder

    out = tmp_path / "x"
    with pytest.raises(OutError, match="not a run folder"):
        with atomic_folder(out) as folder:
            (folder / "a.csv").write_text("a\n", encoding="utf-8")
            user_folder(out)  # the user made a folder there while the run was going on
    assert (out / "thesis.txt").read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


# -- temporary folders and the lock ----------------------------------------------------------------------------

def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_folders_of_killed_runs_are_removed_by_the_next_run(scenario, tmp_path):
    stale = [tmp_path / f".x.tmp-{dead_pid()}-0a1b2c3d", tmp_path / f".x.old-{dead_pid()}-ffee0011",
             tmp_path / ".x.tmp-k3j_9zq1"]  # the last as versions before this one named them
    alive = tmp_path / f".x.tmp-{os.getppid()}-12345678"  # a live process: kept
    other = tmp_path / f".y.tmp-{dead_pid()}-12345678"  # another target's: not this run's business
    for folder in stale + [alive, other]:
        folder.mkdir()
        (folder / "simulation.csv").write_text("half\n", encoding="utf-8")
    (tmp_path / ".x.lock").write_text("999999\n", encoding="utf-8")  # left by a killed run: not held by anyone
    assert simulate(scenario, tmp_path / "x").exit_code == 0
    assert not any(p.exists() for p in stale) and alive.is_dir() and other.is_dir()
    assert not (tmp_path / ".x.lock").exists()


def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process holding ``folder``'s lock, as a run writing it would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom portfolio.runfolder import claimed\n"
                               "with claimed(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n",
         str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_to_the_same_target_exits_2(scenario, tmp_path):
    out = tmp_path / "x"
    first = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "simulate", str(scenario), "--out",
                              str(out), "--iterations", "100000000"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while not list(tmp_path.glob(".x.tmp-*")):  # the first run is writing
            assert first.poll() is None and time.monotonic() - t0 < 60
            time.sleep(0.02)
        result = simulate(scenario, out)
        assert refused(result, str(out)), result.output
        assert f"in use by another portfolio run (process {first.pid})" in result.output
        assert not out.exists()
    finally:
        first.kill()  # as kill -9: it leaves its temporary folder and lock file
        first.wait()
    assert simulate(scenario, out).exit_code == 0  # free again once the other run is gone; its leftovers removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "mini.toml", "x"]


def test_report_refuses_a_run_folder_being_written(tmp_path):
    run = make_run(tmp_path / "r")
    holder = hold_lock(run)
    try:
        result = invoke("report", run)
        assert result.exit_code == 2 and result.output.startswith(f"{run}: is in use by another portfolio run")
        assert not (run / "report.html").exists()
    finally:
        holder.kill()
        holder.wait()
    assert invoke("report", run).exit_code == 0 and (run / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_sweep_into_a_user_folder_is_refused_before_any_work(scenario, tmp_path):
    out = user_folder(tmp_path / "v")
    before = snapshot(out)
    t0 = time.perf_counter()
    result = invoke("sweep", scenario, "--out", out, "--iterations", 100)
    assert refused(result, str(out)) and "not a sweep folder" in result.output
    assert snapshot(out) == before and time.perf_counter() - t0 < 20


def test_a_sweep_into_a_run_folder_says_it_is_a_run_folder_and_leaves_it(scenario, tmp_path):
    out = tmp_path / "run"
    assert simulate(scenario, out).exit_code == 0
    before = snapshot(out)
    result = invoke("sweep", scenario, "--out", out, "--iterations", 100)
    assert refused(result, str(out)), result.output
    assert "is a run folder written by portfolio (its manifest.json lists no sweep variants), not a sweep folder" \
        in result.output and "no manifest.json" not in result.output
    assert snapshot(out) == before


def test_a_sweep_may_go_on_in_the_folder_of_an_interrupted_one(scenario, tmp_path):
    out = tmp_path / "sweep"
    make_run(out / "mini", iterations=200)  # what an interrupted sweep leaves: finished variants, no summary
    result = invoke("sweep", scenario, "--out", out, "--iterations", 100, "--time-limit", 2)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["written_by"] == "portfolio"
    (out / "other").mkdir()
    (out / "other" / "mine.txt").write_text("x\n", encoding="utf-8")
    assert invoke("sweep", scenario, "--out", out, "--iterations", 100, "--time-limit", 2).exit_code == 0
    assert (out / "other" / "mine.txt").read_text(encoding="utf-8") == "x\n"  # the sweep writes only its own


# -- --out FILE ------------------------------------------------------------------------------------------------

def test_compare_out_makes_its_folder_and_refuses_what_it_cannot_write(tmp_path):
    a, b = make_run(tmp_path / "a", seed=1), make_run(tmp_path / "b", seed=2)
    result = invoke("compare", a, b, "--out", tmp_path / "nodir" / "x.md")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nodir" / "x.md").read_text(encoding="utf-8") == result.output
    result = invoke("compare", a, b, "--out", "/proc/portfolio-test/x.md")
    assert result.exit_code == 2 and result.output.strip().splitlines()[-1].startswith("--out /proc/portfolio-test")
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
    assert sorted(p.name for p in (tmp_path / "nodir").iterdir()) == ["x.md"]
