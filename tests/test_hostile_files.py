"""Planners' files that are damaged or hostile: each gets exit 2 with the file named, no traceback and nothing
written (or, for a far stray cell, bounded memory); file outputs replace only a file of their own kind."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
BASELINE_RUN = ROOT / "tests" / "expected" / "baseline"
SCENARIO = ROOT / "scenarios" / "baseline.toml"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def portfolio(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def refused(done, *fragments):
    assert done.returncode == 2, (done.returncode, done.stderr[-800:])
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def data_workbook(path: Path, edit=None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for table in ("projects", "activities", "funding", "risks", "resources"):
        sheet = book.create_sheet(table)
        with open(ROOT / "data" / f"{table}.csv", encoding="utf-8-sig", newline="") as handle:
            for k, row in enumerate(csv.reader(handle)):
                sheet.append([float(v) if k and NUMBER.fullmatch(v) else v for v in row])
    if edit:
        edit(book)
    book.save(path)
    return path


def rezipped(good: Path, out: Path, change) -> Path:
    """``good`` with the activities sheet's XML changed by ``change`` (damage that openpyxl only meets lazily)."""
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info.filename, change(data) if info.filename == "xl/worksheets/sheet2.xml" else data)
    return out


XER = ("ERMHDR\t20.12\n%T\tPROJECT\n%F\tproj_id\tproj_short_name\tlast_recalc_date\n%R\t1\tP\t{date}\n"
       "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttarget_drtn_hr_cnt\n%R\t1\t1\tA\t{hours}\n%R\t2\t1\tB\t100\n"
       "%T\tTASKPRED\n%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt\n%R\t1\t2\t1\tPR_FS\t{lag}\n")
MSPDI = ('<Project xmlns="http://schemas.microsoft.com/project"><StartDate>2021-01-04T08:00:00</StartDate>'
         "<MinutesPerWeek>{mpw}</MinutesPerWeek><Tasks><Task><UID>1</UID><ID>1</ID><Name>A</Name><OutlineLevel>1"
         "</OutlineLevel><Duration>PT80H0M0S</Duration><Cost>0</Cost></Task><Task><UID>2</UID><ID>2</ID><Name>B</Name>"
         "<OutlineLevel>1</OutlineLevel><Duration>PT80H0M0S</Duration><PredecessorLink><PredecessorUID>1"
         "</PredecessorUID><Type>1</Type><LinkLag>{lag}</LinkLag></PredecessorLink></Task></Tasks></Project>")


def test_a_sound_xer_and_mspdi_of_these_shapes_import(tmp_path):
    (tmp_path / "ok.xer").write_text(XER.format(date="2021-01-01 00:00", hours=100, lag=0))
    (tmp_path / "ok.xml").write_text(MSPDI.format(mpw=2400, lag=0))
    for name in ("ok.xer", "ok.xml"):
        done = portfolio("import", tmp_path / name, "--out", tmp_path / f"d-{name}")
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name, text", [
    ("nan.xer", XER.format(date="2021-01-01 00:00", hours="nan", lag=0)),
    ("inf.xer", XER.format(date="2021-01-01 00:00", hours="inf", lag=0)),
    ("laginf.xer", XER.format(date="2021-01-01 00:00", hours=100, lag="inf")),
    ("y9999.xer", XER.format(date="9999-12-31 00:00", hours=100, lag=0)),
    ("lagnan.xml", MSPDI.format(mpw=2400, lag="nan")),
    ("lagabc.xml", MSPDI.format(mpw=2400, lag="abc")),
    ("mpw0.xml", MSPDI.format(mpw=0, lag=0)),
    ("hoursabc.xer", XER.format(date="2021-01-01 00:00", hours="abc", lag=0)),  # was read as 0 hours
    ("lagunderscore.xer", XER.format(date="2021-01-01 00:00", hours=100, lag="1_000")),  # was read as 1000
    ("lagunderscore.xml", MSPDI.format(mpw=2400, lag="1_000")),
])
def test_malformed_numbers_and_dates_in_schedules_are_named_not_tracebacks(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    for command in (("import", tmp_path / name, "--out", tmp_path / "d"), ("quality", tmp_path / name)):
        refused(portfolio(*command), name)
    assert not (tmp_path / "d").exists()


def test_damaged_workbook_cells_are_named_and_a_far_stray_cell_stays_small(tmp_path):
    good = data_workbook(tmp_path / "good.xlsx")
    damaged = {
        "baddate.xlsx": lambda d: re.sub(rb'<c r="E2"[^>]*><v>[^<]*</v>', b'<c r="E2" t="d"><v>notadate</v>', d, count=1),
        "badnum.xlsx": lambda d: re.sub(rb'(<c r="E2"[^>]*>)<v>[^<]*</v>', rb"\1<v>abc</v>", d, count=1),
        "cutxml.xlsx": lambda d: d[: len(d) // 2],
    }
    for name, change in damaged.items():
        rezipped(good, tmp_path / name, change)
        refused(portfolio("import", tmp_path / name, "--out", tmp_path / "d"), name, "activities")
        assert not (tmp_path / "d").exists()
    far = data_workbook(tmp_path / "far.xlsx", lambda book: book["activities"].cell(row=1048576, column=16384, value="x"))
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31)); "  # 2 GB, not 9
    done = subprocess.run([sys.executable, "-c", limit + "import sys, cli; sys.argv = ['portfolio', 'validate', "
                           f"{str(far)!r}]; cli.main()"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode in (0, 2) and "MemoryError" not in done.stderr and "Traceback" not in done.stderr


def test_file_outputs_replace_only_files_of_their_kind(tmp_path):
    scenario = tmp_path / "scenario.toml"
    shutil.copy(SCENARIO, scenario)
    before = scenario.read_bytes()
    refused(portfolio("export", BASELINE_RUN, "--data", SCENARIO, "--format", "xer", "--out", scenario),
            "is not a P6 XER file")
    refused(portfolio("export", BASELINE_RUN, "--format", "xlsx", "--out", scenario), "is not an .xlsx workbook")
    refused(portfolio("template", "--out", scenario), "is not an .xlsx workbook")
    assert scenario.read_bytes() == before
    for fmt, name in (("xer", "plan.xer"), ("mspdi", "plan.xml"), ("xlsx", "plan.xlsx")):  # its own kind: replaced
        for _ in range(2):
            done = portfolio("export", BASELINE_RUN, "--data", SCENARIO, "--format", fmt, "--out", tmp_path / name)
            assert done.returncode == 0, done.stderr
    (tmp_path / "file").write_text("x")
    refused(portfolio("template", "--out", tmp_path / "file" / "t.xlsx"), "is a file, not a folder")
    refused(portfolio("template", "--out", tmp_path / ("a" * 300 + ".xlsx")), "is not a usable file name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "plan.xer", "plan.xlsx", "plan.xml", "scenario.toml"]


def test_encodings_that_are_not_text_encodings_are_refused(tmp_path):
    for encoding in ("rot13", "hex", "idna", "klingon"):
        refused(portfolio("export", BASELINE_RUN, "--data", SCENARIO, "--format", "xer", "--out", tmp_path / "p.xer",
                          "--encoding", encoding), "--encoding")
    (tmp_path / "ok.xer").write_text(XER.format(date="2021-01-01 00:00", hours=100, lag=0))
    refused(portfolio("import", tmp_path / "ok.xer", "--out", tmp_path / "d", "--encoding", "undefined"), "--encoding")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.xer"]


def test_a_damaged_run_folder_is_named_by_export(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(BASELINE_RUN, run)
    (run / "manifest.json").write_text("{bad")
    refused(portfolio("export", run, "--data", SCENARIO, "--format", "xer", "--out", tmp_path / "p.xer"), "manifest.json")
    (run / "manifest.json").unlink()
    lines = (run / "schedule.csv").read_text(encoding="utf-8-sig").splitlines()
    (run / "schedule.csv").write_text("\n".join(lines[:2] + lines[50:]) + "\n")
    refused(portfolio("export", run, "--data", SCENARIO, "--format", "mspdi", "--out", tmp_path / "p.xml"),
            "schedule.csv", "no row for activity")
    (run / "schedule.csv").write_text("\n".join(lines[:2] + [lines[2].rsplit(",", 3)[0]] + lines[3:]) + "\n")
    refused(portfolio("export", run, "--data", SCENARIO, "--format", "xer", "--out", tmp_path / "p.xer"), "schedule.csv:3")
    (run / "schedule.csv").write_text("\n".join(lines) + "\n")
    (run / "odd.csv").write_text("a,b\n\x0b,1\n")
    (run / "zz.csv").mkdir()
    refused(portfolio("export", run, "--format", "xlsx", "--out", tmp_path / "p.xlsx"), "cannot put its tables")
    assert not list(tmp_path.glob("p.*"))


def test_thresholds_must_be_numbers_in_range():
    for bad in ("cpli=nan", "high_float=-1", "critical_path_test_months=inf", "lags=1e308"):
        refused(portfolio("quality", ROOT / "data", "--threshold", bad), "--threshold")


def test_an_imported_file_name_with_control_characters_gives_a_valid_scenario(tmp_path):
    odd = tmp_path / 'a\nb"\\c.xer'
    odd.write_text(XER.format(date="2021-01-01 00:00", hours=100, lag=0))
    done = portfolio("import", odd, "--out", tmp_path / "d")
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "d" / "scenario.toml", "rb") as handle:
        assert tomllib.load(handle)["name"] == "a-b'-c"
    assert portfolio("validate", tmp_path / "d" / "scenario.toml").returncode == 0


def test_scenario_months_outside_the_data_range_are_refused(tmp_path):
    text = SCENARIO.read_text(encoding="utf-8").replace('status_date = "2021-01"', 'status_date = "9999-12"')
    assert "9999-12" in text
    (tmp_path / "s.toml").write_text(text.replace('data = "../data"', f'data = "{(ROOT / "data").as_posix()}"'))
    refused(portfolio("validate", tmp_path / "s.toml"), "status_date", "1900-01 to 2199-12")


def _replaced(old: str, new: str):
    return lambda text: text.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize("name, edit, where", [
    ("activities.csv", _replaced("XIY-P3.T2:SS", "XIY-P3.T2:FS+" + "9" * 5000), "activities.csv:4:7: predecessors: "
                                                                                "expected a lag of at most 600 months"),
    ("activities.csv", _replaced(",45.00,", ",4_5.00,"), 'activities.csv:4:8: cost: expected a number >= 0, got "4_5.00"'),
    ("milestones.csv", _replaced("M-DZ-IMPOUND,", "M-DZ-IMP\u200bOUND,"), "milestones.csv:7:1: milestone_id: invisible"),
    ("milestones.csv", _replaced(",2025-11,", ",0001-11,"), "milestones.csv:7:6: deadline: expected a month from 1900-01"),
    ("milestones.csv", lambda text: b"\xff" + text.encode("utf-8"), "milestones.csv:0:0: cannot read: not UTF-8"),
])
def test_a_hostile_number_id_or_date_in_a_data_file_is_named_by_file_line_and_column(tmp_path, name, edit, where):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / name).write_bytes(edit((data / name).read_text(encoding="utf-8-sig")))
    refused(portfolio("validate", data), str(data / where))


# -- hand-edited run folders: every numeric cell by its column's rule (portfolio/runfiles.py) --------------------

@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    from runfolder_fixture import make_run
    return make_run(tmp_path_factory.mktemp("hand-edited") / "run", iterations=400)


def set_cell(folder: Path, file: str, column: str, value: str) -> int:
    """Set ``column`` of the first data row (line 2) of ``file``; its 1-based column number."""
    with open(folder / file, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    with open(folder / file, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return rows[0].index(column) + 1


@pytest.mark.parametrize("file, column, value, expected", [
    ("simulation.csv", "p_on_time", "nan", 'expected a number from 0 to 1, got "nan"'),
    ("simulation.csv", "p_on_time", "7", 'expected a number from 0 to 1, got "7"'),
    ("simulation.csv", "p_on_time", "inf", 'expected a number from 0 to 1, got "inf"'),
    ("simulation.csv", "p_on_time", "-1", 'expected a number from 0 to 1, got "-1"'),
    ("simulation.csv", "mean_delay_months", "-0.5", 'expected a number >= 0, got "-0.5"'),
    ("simulation.csv", "finish_p80", "0001-01", 'expected a month from 1900-01 to 2249-12, got "0001-01"'),
    ("distribution.csv", "p_finished", "1.5", 'expected a number from 0 to 1, got "1.5"'),
    ("criticality.csv", "criticality", "NaN", 'expected a number from 0 to 1, got "NaN"'),
    ("criticality.csv", "sensitivity", "2", 'expected a number from -1 to 1, got "2"'),
    ("risks.csv", "occurred", "-0.1", 'expected a number from 0 to 1, got "-0.1"'),
    ("risks.csv", "contribution_months", "1e400", 'expected a finite number, got "1e400"'),
    ("schedule.csv", "duration", "2.5", 'expected a whole number >= 0, got "2.5"'),
    ("schedule.csv", "cost", "-inf", 'expected a number >= 0, got "-inf"'),
    ("schedule.csv", "start", "9999-01", 'expected a month from 1900-01 to 2249-12, got "9999-01"'),
    ("projects.csv", "lateness_months", "-1", 'expected a whole number >= 0, got "-1"'),
    ("funding.csv", "year", "20210", 'expected a year from 1900 to 2199, got "20210"'),
    ("funding.csv", "spend", "nan", 'expected a number >= 0, got "nan"'),
    ("iterations.csv", "iterations", "4e2.5", 'expected a whole number >= 0, got "4e2.5"'),
])
def test_a_hand_edited_run_folder_is_refused_by_report_compare_and_check(sample_run, tmp_path, file, column, value,
                                                                         expected):
    from click.testing import CliRunner

    from cli import main

    run = tmp_path / "run"
    shutil.copytree(sample_run, run)
    where = f"{run / file}:2:{set_cell(run, file, column, value)}: {column}: {expected}"
    for args in (["report", run], ["compare", sample_run, run, "--out", tmp_path / "c.md"],
                 ["check", run, "--expected", sample_run]):
        done = CliRunner().invoke(main, [str(a) for a in args])
        assert done.exit_code == 2 and done.output.strip() == where, (args[0], done.output)
    assert not (run / "report.md").exists() and not (tmp_path / "c.md").exists()


def test_export_reads_a_hand_edited_schedule_by_the_same_rules(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(BASELINE_RUN, run)
    column = set_cell(run, "schedule.csv", "duration", "nan")
    refused(portfolio("export", run, "--data", SCENARIO, "--format", "xer", "--out", tmp_path / "p.xer"),
            f"schedule.csv:2:{column}: duration: expected a whole number >= 0, got \"nan\"")
    assert not (tmp_path / "p.xer").exists()
