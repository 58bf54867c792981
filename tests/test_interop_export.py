"""Export of a funded plan to XER and MSPDI, and the round trip back to the same plan."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from interop.export import MONTH_HOURS, _duration
from interop.xer import decode, read_tables

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://schemas.microsoft.com/project}"


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)
    return done


def _scenario(path: Path, data: Path) -> Path:
    path.write_text(f'name = "rt"\ndata = "{data.as_posix()}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n\n'
                    "[optimize]\ntime_limit_s = 2\n", encoding="utf-8")
    return path


def _resource_uses(data: Path) -> dict[str, str]:
    import csv

    with open(data / "activities.csv", encoding="utf-8", newline="") as handle:
        return {row["activity_id"]: row["resources"] for row in csv.DictReader(handle) if row["resources"]}


def _link_count(data: Path) -> int:
    """The links in the data's predecessor lists, counted here independently of the loader."""
    import csv

    with open(data / "activities.csv", encoding="utf-8-sig", newline="") as handle:
        return sum(len([p for p in row["predecessors"].split(";") if p.strip()]) for row in csv.DictReader(handle))


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory):
    """The bundled data planned from 2021-01 (short time limit: any plan will do, it is the one exported)."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    scenario = _scenario(tmp / "base.toml", ROOT / "data")
    done = _cli("schedule", str(scenario), "--out", str(tmp / "run"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    return tmp, scenario


@pytest.mark.parametrize("fmt,suffix", [("xer", "xer"), ("mspdi", "xml")])
def test_round_trip_gives_the_same_plan(bundled_run, fmt, suffix):
    tmp, scenario = bundled_run
    exported = tmp / f"plan.{suffix}"
    done = _cli("export", str(tmp / "run"), "--data", str(scenario), "--format", fmt, "--out", str(exported))
    assert done.returncode == 0, done.stderr
    done = _cli("import", str(exported), "--out", str(tmp / f"data_{fmt}"), "--resource-limits")
    assert done.returncode == 0, done.stderr
    assert _resource_uses(tmp / f"data_{fmt}") == _resource_uses(ROOT / "data")
    assert "TBM," in (tmp / f"data_{fmt}" / "resources.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert (tmp / f"data_{fmt}" / "resources.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[2] == "4"
    again = _scenario(tmp / f"again_{fmt}.toml", tmp / f"data_{fmt}")
    done = _cli("schedule", str(again), "--out", str(tmp / f"run_{fmt}"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert (tmp / f"run_{fmt}" / "schedule.csv").read_bytes() == (tmp / "run" / "schedule.csv").read_bytes()


def test_xer_format_rules(bundled_run):
    tmp, scenario = bundled_run
    out = tmp / "rules.xer"
    assert _cli("export", str(tmp / "run"), "--data", str(scenario), "--format", "xer", "--out", str(out)).returncode == 0
    raw = out.read_bytes()
    assert raw.startswith(b"ERMHDR\t20.12\t") and raw.endswith(b"%E\r\n")
    tables = read_tables(decode(raw), out.name)
    assert {r["task_type"] for r in tables["TASK"].rows} == {"TT_Task"}
    assert {r["clndr_id"] for r in tables["TASK"].rows} == {"1"} and tables["CALENDAR"].rows[0]["week_hr_cnt"] == "40"
    assert len(tables["TASK"].rows) == 125 and len(tables["TASKPRED"].rows) == _link_count(ROOT / "data")
    lags = sorted({float(r["lag_hr_cnt"]) for r in tables["TASKPRED"].rows})
    assert all(abs(x / MONTH_HOURS - round(x / MONTH_HOURS)) < 1e-4 for x in lags) and lags[0] < 0
    assert {r["status_code"] for r in tables["TASK"].rows} == {"TK_Complete", "TK_Active", "TK_NotStart"}
    remaining = {r["status_code"]: [] for r in tables["TASK"].rows}
    for r in tables["TASK"].rows:
        remaining[r["status_code"]].append(float(r["remain_drtn_hr_cnt"]) / float(r["target_drtn_hr_cnt"]))
    assert set(remaining["TK_Complete"]) == {0.0} and set(remaining["TK_NotStart"]) == {1.0}
    assert all(0 < x < 1 for x in remaining["TK_Active"])  # running at 2021-01: part of the work is done


def test_mspdi_format_rules(bundled_run):
    tmp, scenario = bundled_run
    out = tmp / "rules.xml"
    assert _cli("export", str(tmp / "run"), "--data", str(scenario), "--format", "mspdi", "--out", str(out)).returncode == 0
    root = ET.fromstring(out.read_bytes())
    assert root.tag == f"{NS}Project"
    links = root.findall(f"{NS}Tasks/{NS}Task/{NS}PredecessorLink")
    assert len(links) == _link_count(ROOT / "data")
    assert {link.find(f"{NS}LagFormat").text for link in links} == {"7"}
    lags = {int(link.find(f"{NS}LinkLag").text) for link in links}
    assert all(lag % 104000 == 0 for lag in lags)  # a month of 173.33 h is 104000 tenths of a minute
    assert _duration(1) == "PT173H20M0S" and _duration(3) == "PT520H0M0S"
    tags = [child.tag[len(NS):] for child in root.findall(f"{NS}Tasks/{NS}Task")[5]]
    order = ["UID", "ID", "Name", "WBS", "OutlineNumber", "OutlineLevel", "Start", "Finish", "Duration",
             "DurationFormat", "Milestone", "Summary", "FixedCost", "FixedCostAccrual", "PercentComplete", "Cost",
             "ActualStart", "ActualFinish", "RemainingDuration", "ConstraintType", "CalendarUID", "ConstraintDate", "PredecessorLink",
             "ExtendedAttribute"]
    assert [order.index(t) for t in tags] == sorted(order.index(t) for t in tags)  # the schema's sequence


def test_export_refuses_other_data(bundled_run, tmp_path):
    tmp, _ = bundled_run
    other = tmp_path / "data"
    other.mkdir()
    for name in ("projects.csv", "activities.csv", "funding.csv", "risks.csv", "resources.csv"):
        (other / name).write_bytes((ROOT / "data" / name).read_bytes())
    (other / "funding.csv").write_bytes((ROOT / "data" / "funding.csv").read_bytes() + b"2040,local,1,extra\n")
    done = _cli("export", str(tmp / "run"), "--data", str(other), "--format", "xer", "--out", str(tmp_path / "x.xer"))
    assert done.returncode == 2 and "the run was made from other data: funding.csv" in done.stderr
    assert not (tmp_path / "x.xer").exists()


def test_exported_hours_come_back_as_the_same_months():
    """Durations and lags written with two decimals of hours (and MSPDI tenths of minutes) read back unchanged."""
    from interop.export import _hours
    from interop.mspdi import hours
    from interop.schedule import lag_months, months

    for m in range(1, 1201):
        assert months(float(_hours(m)), 40) == m
        assert months(hours(_duration(m)), 40) == m
    for lag in range(-240, 241):
        assert lag_months(float(_hours(lag)), 40) == lag
        assert lag_months(round(lag * MONTH_HOURS * 600) / 600, 40) == lag


def test_run_folder_holds_its_tables_as_one_workbook(bundled_run, tmp_path):
    """tables.xlsx: one sheet per CSV table with the same cells, and the same bytes when written again later."""
    import csv
    import shutil
    import time

    from openpyxl import load_workbook

    from portfolio.runfolder import write_tables_workbook

    tmp, _ = bundled_run
    run = tmp / "run"
    book = load_workbook(run / "tables.xlsx")
    tables = sorted(p.stem for p in run.glob("*.csv"))
    assert book.sheetnames == tables and "schedule" in tables
    with open(run / "schedule.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    sheet = [[("" if v is None else str(v)) for v in row] for row in book["schedule"].iter_rows(values_only=True)]
    assert sheet[0] == rows[0] and [r[:2] for r in sheet] == [r[:2] for r in rows]
    again = tmp_path / "again"
    shutil.copytree(run, again)
    (again / "tables.xlsx").unlink()
    time.sleep(1.1)  # a saved timestamp would differ now
    write_tables_workbook(again)
    assert (again / "tables.xlsx").read_bytes() == (run / "tables.xlsx").read_bytes()


def test_no_bom_switch_on_the_command_line(bundled_run, tmp_path):
    """Output CSVs start with the UTF-8 byte-order mark; --no-bom leaves it out and changes nothing else."""
    tmp, scenario = bundled_run
    done = _cli("schedule", str(scenario), "--out", str(tmp_path / "plain"), "--workers", "1", "--no-bom")
    assert done.returncode == 0, done.stderr
    marked = (tmp / "run" / "schedule.csv").read_bytes()
    assert marked.startswith(b"\xef\xbb\xbfactivity_id,")
    assert (tmp_path / "plain" / "schedule.csv").read_bytes() == marked[3:]
