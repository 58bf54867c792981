"""``portfolio schedule`` and ``portfolio psplib`` through click's CliRunner, on tiny files written here."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import main

PROJECTS = """\
project_id,name_zh,name_en,category,lead_agency,priority,deadline,budget,source
P,项目甲,Project P,water,省水利厅,3,2021-12,20,estimate
Q,项目乙,Project Q,metro,省发展改革委,1,,10,estimate
"""

ACTIVITIES = """\
activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,earliest_start,actual_start,actual_finish,resources,source
P.1,P,design,2,3,4,,1,provincial,,2020-10,2020-12,,estimate
P.2,P,works,5,6,9,P.1,12,provincial,,,,TBM,estimate
Q.1,Q,works,3,4,6,,8,provincial,2021-02,,,TBM,estimate
"""

FUNDING = """\
year,source,cap
2021,provincial,14
2022,provincial,20
"""

RESOURCES = """\
resource_id,name,capacity
TBM,tunnel boring machine,1
"""


def write_case(tmp_path: Path, scenario_extra: str = "", funding: str = FUNDING) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "projects.csv").write_text(PROJECTS, encoding="utf-8")
    (data / "activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    (data / "funding.csv").write_text(funding, encoding="utf-8")
    (data / "resources.csv").write_text(RESOURCES, encoding="utf-8")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\ndata = "data"\nstatus_date = "2021-01"\ndeadline = "2022-12"\n\n'
        "[optimize]\ntime_limit_s = 10\n" + scenario_extra,
        encoding="utf-8",
    )
    return scenario


def test_schedule_writes_the_run_folder(tmp_path):
    scenario = write_case(tmp_path)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "status: optimal" in result.output
    assert "gap: 0.00%" in result.output
    for word in ("objective:", "best bound:", "solve time:"):
        assert word in result.output
    # P.2 (6 months at 2 亿) and Q.1 (4 months at 2 亿) share the one TBM; 2021 has 14 亿 = 7 months of work.
    # P.2 first (2021-01..06, 12 亿) leaves 2 亿 = 1 month for Q.1 in 2021: Q.1 2021-12..2022-03;
    # weighted finish 3 * 6 + 1 * 15 = 33. Q.1 first (8 亿) leaves 3 months of P.2 in 2021: P ends
    # 2022-03, late. So P.2 first.
    schedule = (out / "schedule.csv").read_text(encoding="utf-8-sig").splitlines()
    assert schedule == [
        "activity_id,project_id,name,start,finish,duration,cost,funding_source",
        "P.1,P,design,2020-10,2020-12,3,1.0,provincial",
        "P.2,P,works,2021-01,2021-06,6,12.0,provincial",
        "Q.1,Q,works,2021-12,2022-03,4,8.0,provincial",
    ]
    projects = (out / "projects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert projects[1].endswith(",2021-06,2021-12,true,0")
    assert projects[2].endswith(",2022-03,2022-12,true,0")
    funding = (out / "funding.csv").read_text(encoding="utf-8-sig").splitlines()
    assert funding == ["year,source,spend,cap", "2021,provincial,14.0,14.0", "2022,provincial,6.0,20.0"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    opt = manifest["optimizer"]
    assert opt["status"] == "optimal" and opt["gap"] == 0
    assert {"objective", "best_bound", "seconds", "stages"} <= set(opt)


def test_schedule_is_byte_identical_when_optimal(tmp_path):
    scenario = write_case(tmp_path)
    texts = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(out)]).exit_code == 0
        texts.append([(out / f).read_bytes() for f in ("schedule.csv", "projects.csv", "funding.csv")])
    assert texts[0] == texts[1]


def test_infeasible_schedule_exits_1_and_names_the_shortfall(tmp_path):
    scenario = write_case(tmp_path, "hard_deadlines = true\n", funding="year,source,cap\n2021,provincial,10\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(out)])
    assert result.exit_code == 1
    # P (hard deadline 2021-12) needs all of P.2's 12 亿 in 2021; the cap is 10: short by 2 (Q.1 can wait).
    assert "2021 provincial: short by 2.00 亿元 (cap 10.00, the plan needs 12.00)" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_time_limit_option_and_bad_input(tmp_path):
    scenario = write_case(tmp_path)
    result = CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(tmp_path / "r"), "--time-limit", "5"])
    assert result.exit_code == 0
    result = CliRunner().invoke(main, ["schedule", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "r2")])
    assert result.exit_code == 2



def test_deterministic_budget_from_the_scenario_and_the_option_goes_to_the_manifest(tmp_path):
    scenario = write_case(tmp_path, "deterministic_time = 7.5\nworkers = 2\n")
    for out, extra, budget in ((tmp_path / "a", [], 7.5), (tmp_path / "b", ["--deterministic-time", "3"], 3.0)):
        result = CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        assert "deterministic time: " in result.output and f" of {budget:g}" in result.output
        opt = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["optimizer"]
        assert opt["deterministic_budget"] == budget and opt["workers"] == 2 and opt["reproducible"] is True
        assert 0 <= opt["deterministic_time"] <= budget  # the tiny case is solved in presolve: about 0
        assert all("deterministic_time" in stage for stage in opt["stages"])


def test_bad_deterministic_budget_is_bad_input(tmp_path):
    scenario = write_case(tmp_path, "deterministic_time = 0\n")
    result = CliRunner().invoke(main, ["schedule", str(scenario), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "tiny.toml:8:1: deterministic_time must be at least 0.01, got 0" in result.output, result.output
    (tmp_path / "good").mkdir()
    good = write_case(tmp_path / "good")
    result = CliRunner().invoke(main, ["schedule", str(good), "--out", str(tmp_path / "r"), "--deterministic-time", "0"])
    assert result.exit_code == 2 and "--deterministic-time" in result.output
    assert not (tmp_path / "r").exists()


PSPLIB = Path(__file__).parent / "data" / "psplib" / "j30"  # the vendored PSPLIB subset (see its README.md)


def test_psplib_command(tmp_path):
    out = tmp_path / "res.csv"
    files = [str(PSPLIB / "j301_1.sm"), str(PSPLIB / "j301_2.sm")]
    result = CliRunner().invoke(main, ["psplib", *files, "--time-limit", "10", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = out.read_text().splitlines()
    assert rows[0] == "instance,makespan,lower_bound,optimal,seconds"
    assert rows[1].startswith("j301_1,43,43,true,") and rows[2].startswith("j301_2,47,47,true,")
    bad = tmp_path / "bad.sm"
    bad.write_text("not psplib\n")
    result = CliRunner().invoke(main, ["psplib", str(bad)])
    assert result.exit_code == 2 and "bad.sm" in result.output
