"""Import of P6 XER and MS Project XML (MSPDI): hand-made files with known answers (docs/interop.md)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from interop import ImportProblem, detect_format, read_schedule
from interop.datafolder import write_data_folder
from interop.schedule import WEEKS_PER_MONTH, lag_months, months
from portfolio.load import load_portfolio

ROOT = Path(__file__).resolve().parent.parent

# 40 h a week (Mon-Fri 08:00-16:00): a month is 40 x 52 / 12 = 173.33 h.
WEEK_40 = ("(0||CalendarData()((0||DaysOfWeek()((0||1()())(0||2()((0||0(s|08:00|f|16:00)())))"
           "(0||3()((0||0(s|08:00|f|16:00)())))(0||4()((0||0(s|08:00|f|16:00)())))"
           "(0||5()((0||0(s|08:00|f|16:00)())))(0||6()((0||0(s|08:00|f|16:00)())))(0||7()())))"
           "(0||Exceptions()())))")


def _xer(*tables: tuple[str, list[str], list[list[str]]]) -> str:
    lines = ["ERMHDR\t20.12\t2024-01-01\tProject\tadmin\tAdmin\tdbxDatabaseNoName\tProject Management\tUSD"]
    for name, fields, rows in tables:
        lines.append(f"%T\t{name}")
        lines.append("%F\t" + "\t".join(fields))
        lines.extend("%R\t" + "\t".join(row) for row in rows)
    lines.append("%E")
    return "\r\n".join(lines) + "\r\n"


TASK_FIELDS = ["task_id", "proj_id", "wbs_id", "clndr_id", "task_type", "task_code", "task_name", "target_drtn_hr_cnt",
               "act_start_date", "act_end_date", "cstr_type", "cstr_date", "early_end_date"]
SAMPLE_XER = _xer(
    ("CALENDAR", ["clndr_id", "default_flag", "clndr_name", "day_hr_cnt", "clndr_data"],
     [["1", "Y", "Standard 5x8", "8", WEEK_40], ["2", "N", "24 hours", "24", "(0||CalendarData()())"]]),
    ("PROJECT", ["proj_id", "proj_short_name", "last_recalc_date", "plan_start_date", "plan_end_date"],
     [["10", "BRIDGE 1", "2024-03-01 08:00", "2024-01-08 08:00", ""], ["11", "ROAD", "2024-03-01 08:00", "2024-06-03 08:00", ""]]),
    ("TASK", TASK_FIELDS,
     [["100", "10", "", "1", "TT_Task", "A1", "Design", "520", "2024-01-08 08:00", "2024-04-26 16:00", "", "", ""],
      ["101", "10", "", "1", "TT_Task", "A2", "Piers", "173.33", "2024-04-29 08:00", "", "", "", ""],
      ["102", "10", "", "1", "TT_Task", "A3", "Deck", "174", "", "", "CS_MSOA", "2024-09-02 08:00", "2025-01-31 16:00"],
      ["103", "10", "", "2", "TT_FinMile", "A4", "Open", "0", "", "", "", "", ""],
      ["200", "11", "", "1", "TT_Task", "A1", "Earthworks", "8", "", "", "", "", ""]]),
    ("TASKPRED", ["task_pred_id", "task_id", "pred_task_id", "pred_type", "lag_hr_cnt"],
     [["1", "101", "100", "PR_FS", "0"], ["2", "102", "101", "PR_SS", "40"], ["3", "103", "102", "PR_FF", "-200"],
      ["4", "200", "101", "PR_SF", "0"]]),
    ("RSRC", ["rsrc_id", "rsrc_short_name", "rsrc_name"], [["7", "CRANE", "Crawler crane"]]),
    ("TASKRSRC", ["taskrsrc_id", "task_id", "rsrc_id", "target_qty_per_hr", "target_cost"],
     [["1", "101", "7", "2", "150000000"]]),
    ("PROJCOST", ["cost_item_id", "task_id", "target_cost"], [["1", "101", "50000000"]]),
    ("UDFTYPE", ["udf_type_id", "table_name", "udf_type_label"], [["5", "TASK", "Opt days"], ["6", "TASK", "Pess days"]]),
    ("UDFVALUE", ["udf_type_id", "fk_id", "udf_number"], [["5", "101", "10"], ["6", "101", "60"]]),
)


@pytest.fixture
def xer_file(tmp_path) -> Path:
    path = tmp_path / "sample.xer"
    path.write_bytes(SAMPLE_XER.encode("cp1252"))
    return path


def test_months_rule_examples():
    month = 40 * WEEKS_PER_MONTH
    assert months(0, 40) == 1  # a milestone still takes a month in the model
    assert months(month, 40) == 1
    assert months(month + 1, 40) == 2
    assert months(520, 40) == 3  # 13 weeks = 3.0 months
    assert lag_months(0, 40) == 0
    assert lag_months(1, 40) == 1
    assert lag_months(-1, 40) == -1  # a lead stays a lead


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.sampled_from([40.0, 50.0, 168.0]))
def test_lag_months_bounds_the_lag(hours, week):
    """The month lag covers the lag (rounded away from zero) by less than one month."""
    lag = lag_months(hours, week)
    in_months = hours / (week * WEEKS_PER_MONTH)
    assert abs(lag) >= abs(in_months) - 5e-4  # ratios are first rounded to a thousandth
    assert abs(lag) - abs(in_months) < 1 + 5e-4
    assert lag == 0 or (lag > 0) == (hours > 0)


def test_xer_activities_links_and_durations(xer_file):
    s = read_schedule(xer_file, three_point=("Opt days", "Pess days"))
    assert s.format == "XER" and s.status_date == "2024-03"
    assert [p.project_id for p in s.projects] == ["BRIDGE-1", "ROAD"]
    ids = [a.activity_id for a in s.activities]
    assert ids == ["BRIDGE-1.A1", "BRIDGE-1.A2", "BRIDGE-1.A3", "BRIDGE-1.A4", "ROAD.A1"]  # A1 twice: prefixed
    by_id = {a.activity_id: a for a in s.activities}
    assert [by_id[i].most_likely for i in ids] == [3, 1, 2, 1, 1]
    assert s.links_in_file == {"FS": 1, "SS": 1, "FF": 1, "SF": 1}
    links = {(a.activity_id, ln.predecessor): (ln.kind, ln.lag) for a in s.activities for ln in a.links}
    assert links == {("BRIDGE-1.A2", "BRIDGE-1.A1"): ("FS", 0), ("BRIDGE-1.A3", "BRIDGE-1.A2"): ("SS", 1),
                     ("BRIDGE-1.A4", "BRIDGE-1.A3"): ("FF", -2), ("ROAD.A1", "BRIDGE-1.A2"): ("SF", 0)}
    a1, a2, a3 = by_id["BRIDGE-1.A1"], by_id["BRIDGE-1.A2"], by_id["BRIDGE-1.A3"]
    assert (a1.actual_start, a1.actual_finish) == ("2024-01", "2024-04")
    assert (a2.actual_start, a2.actual_finish) == ("2024-04", "")
    assert a3.earliest_start == "2024-09"  # start on or after
    assert a2.cost == 200_000_000 and a2.resources == [("CRANE", 2.0)]
    assert (a2.optimistic, a2.pessimistic) == (1, 3)  # 10 and 60 working days of 8 h: 80 h and 480 h
    assert a1.optimistic is None  # no user field values: the reference class


def test_xer_lag_on_the_24_hour_option(tmp_path):
    text = SAMPLE_XER.replace("%T\tUDFTYPE", "%T\tSCHEDOPTIONS\r\n%F\tsched_calendar_on_relationship_lag\r\n"
                                           "%R\trcal_24Hour\r\n%T\tUDFTYPE")
    path = tmp_path / "lag24.xer"
    path.write_text(text, encoding="utf-8")
    s = read_schedule(path)
    lags = {ln.kind: ln.lag for a in s.activities for ln in a.links}
    assert lags["SS"] == 1 and lags["FF"] == -1  # -200 h on a 168 h week is -0.27 months


def test_xer_cp1251_is_recognised(tmp_path):
    path = tmp_path / "ru.xer"
    path.write_bytes(SAMPLE_XER.replace("Design", "Проектирование").encode("cp1251"))
    assert read_schedule(path).activities[0].name == "Проектирование"


def test_xer_folder_loads_and_keeps_the_plan(xer_file, tmp_path):
    s = read_schedule(xer_file)
    portfolio = write_data_folder(s, tmp_path / "data", "hsr/works")
    assert len(portfolio.activities) == 5
    assert {str(link) for a in portfolio.activities for link in a.predecessors} == \
        {"BRIDGE-1.A1", "BRIDGE-1.A2:SS+1", "BRIDGE-1.A3:FF-2", "BRIDGE-1.A2:SF"}
    a1 = portfolio.activity("BRIDGE-1.A1")
    assert (a1.optimistic, a1.most_likely, a1.pessimistic) == (3, 3, 4)  # hsr works: 0.85 m and 1.25 m
    assert portfolio.activity("BRIDGE-1.A2").cost == 2.0  # 亿
    assert {p.category for p in portfolio.projects} == {"rail"}
    assert (tmp_path / "data" / "scenario.toml").read_text(encoding="utf-8").count('status_date = "2024-03"') == 1


def test_xer_projects_from_wbs(tmp_path):
    text = SAMPLE_XER.replace("%T\tRSRC", "%T\tPROJWBS\r\n%F\twbs_id\tproj_id\tproj_node_flag\twbs_short_name\twbs_name\t"
                                        "parent_wbs_id\r\n%R\t1\t10\tY\tBR\tBridge\t\r\n%R\t2\t10\tN\tSUB\tSubstructure\t1\r\n"
                                        "%R\t3\t10\tN\tDECK\tDeck works\t2\r\n%T\tRSRC")
    text = text.replace("\t100\t10\t\t1\t", "\t100\t10\t3\t1\t")
    path = tmp_path / "wbs.xer"
    path.write_text(text, encoding="utf-8")
    s = read_schedule(path, projects_from="wbs")
    assert {a.activity_id: a.project_id for a in s.activities}["BRIDGE-1.A1"] == "SUB"
    assert sorted(p.project_id for p in s.projects) == ["SUB", "UNASSIGNED"]


def test_xer_link_to_a_missing_activity_is_a_problem(tmp_path):
    path = tmp_path / "broken.xer"
    path.write_text(SAMPLE_XER.replace("%R\t4\t200\t101", "%R\t4\t200\t999"), encoding="utf-8")
    with pytest.raises(ImportProblem, match="999"):
        read_schedule(path)


MSPDI = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <Title>Depot</Title><StartDate>2024-01-01T08:00:00</StartDate><StatusDate>2024-02-15T08:00:00</StatusDate>
  <CalendarUID>1</CalendarUID><MinutesPerWeek>2400</MinutesPerWeek>
  <Calendars><Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar><WeekDays>
    <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
    {weekdays}
    <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay></WeekDays></Calendar></Calendars>
  <Tasks>
    <Task><UID>0</UID><ID>0</ID><Name>Depot</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary></Task>
    <Task><UID>1</UID><ID>1</ID><Name>Civil</Name><WBS>CIV</WBS><OutlineLevel>1</OutlineLevel><Summary>1</Summary></Task>
    <Task><UID>2</UID><ID>2</ID><Name>Piling</Name><WBS>CIV.1</WBS><OutlineLevel>2</OutlineLevel><Duration>PT520H0M0S</Duration>
      <ActualStart>2024-01-02T08:00:00</ActualStart><Cost>12345600</Cost></Task>
    <Task><UID>3</UID><ID>3</ID><Name>Slab</Name><WBS>CIV.2</WBS><OutlineLevel>2</OutlineLevel><Duration>PT200H0M0S</Duration>
      <PredecessorLink><PredecessorUID>2</PredecessorUID><Type>3</Type><LinkLag>48000</LinkLag><LagFormat>7</LagFormat></PredecessorLink></Task>
    <Task><UID>4</UID><ID>4</ID><Name>Systems</Name><WBS>SYS</WBS><OutlineLevel>1</OutlineLevel><Duration>PT80H0M0S</Duration>
      <DurationFormat>7</DurationFormat>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type><LinkLag>-96000</LinkLag><LagFormat>7</LagFormat></PredecessorLink>
      <PredecessorLink><PredecessorUID>3</PredecessorUID><Type>0</Type><LinkLag>-50</LinkLag><LagFormat>19</LagFormat></PredecessorLink></Task>
    <Task><UID>5</UID><ID>5</ID><Name>Handover</Name><WBS>HO</WBS><OutlineLevel>1</OutlineLevel><Duration>PT0H0M0S</Duration>
      <PredecessorLink><PredecessorUID>4</PredecessorUID><Type>2</Type><LinkLag>0</LinkLag><LagFormat>7</LagFormat></PredecessorLink></Task>
  </Tasks>
</Project>
""".replace("{weekdays}", "".join(f"<WeekDay><DayType>{d}</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime>"
                                  "<FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime><WorkingTime>"
                                  "<FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes>"
                                  "</WeekDay>" for d in range(2, 7)))


@pytest.fixture
def mspdi_file(tmp_path) -> Path:
    path = tmp_path / "depot.xml"
    path.write_bytes(b"\xef\xbb\xbf" + MSPDI.encode("utf-8"))
    return path


def test_mspdi_tasks_summaries_and_links(mspdi_file):
    assert detect_format(mspdi_file) == "mspdi"
    s = read_schedule(mspdi_file)
    assert s.format == "MSPDI" and s.status_date == "2024-02" and s.summary_tasks == 1
    assert [(a.activity_id, a.project_id, a.most_likely) for a in s.activities] == \
        [("CIV.1", "CIV", 3), ("CIV.2", "CIV", 2), ("SYS", "Depot", 1), ("HO", "Depot", 1)]
    assert s.links_in_file == {"SS": 1, "FS": 1, "FF": 1, "SF": 1}
    links = {(a.activity_id, ln.predecessor, ln.kind): ln.lag for a in s.activities for ln in a.links}
    # SS +48000 tenths of a minute = 80 h -> 1 month; FS from the summary "Civil" = from both its tasks, -160 h -> -1;
    # FF -50 % of Slab's 200 h = -100 h -> -1
    assert links == {("CIV.2", "CIV.1", "SS"): 1, ("SYS", "CIV.1", "FS"): -1, ("SYS", "CIV.2", "FS"): -1,
                     ("SYS", "CIV.2", "FF"): -1, ("HO", "SYS", "SF"): 0}
    piling = s.activities[0]
    assert piling.actual_start == "2024-01" and piling.cost == pytest.approx(123456.0)


def test_mspdi_with_a_dtd_is_refused(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
                    '<Project xmlns="http://schemas.microsoft.com/project"><Title>&lol;</Title></Project>', encoding="utf-8")
    with pytest.raises(ImportProblem, match=r"evil.xml:2:1: a DTD or entity declaration is not accepted"):
        read_schedule(path, "mspdi")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_import_then_validate(mspdi_file, tmp_path):
    out = tmp_path / "depot"
    done = _cli("import", str(mspdi_file), "--out", str(out), "--reference-class", "metro")
    assert done.returncode == 0, done.stderr
    assert "4 activities, 5 links" in done.stdout
    assert load_portfolio(out).activity("CIV.1").pessimistic == 4  # metro works: max(m + 1, round(1.25 x 3))
    checked = _cli("validate", str(out / "scenario.toml"))
    assert checked.returncode == 0, checked.stderr


def test_cli_import_of_a_bad_file_writes_nothing(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n", encoding="utf-8")
    done = _cli("import", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip() == "notes.txt:1:1: not a P6 XER (ERMHDR...) or MS Project XML file"
    assert not (tmp_path / "out").exists()
    done = _cli("import", str(bad), "--out", str(tmp_path / "out"), "--reference-class", "tram")
    assert done.returncode == 2 and done.stderr.startswith("--reference-class: unknown reference class 'tram'")


def test_cli_import_names_problems_in_the_file(xer_file, tmp_path):
    cyclic = tmp_path / "cyclic.xer"
    cyclic.write_text(SAMPLE_XER.replace("%R\t4\t200\t101\tPR_SF\t0", "%R\t4\t200\t101\tPR_SF\t0\r\n"
                                                            "%R\t5\t100\t103\tPR_FS\t0"), encoding="utf-8")
    done = _cli("import", str(cyclic), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr.strip().endswith("dependency cycle: BRIDGE-1.A1 -> BRIDGE-1.A2 -> BRIDGE-1.A3 -> BRIDGE-1.A4 -> "
                                        "BRIDGE-1.A1 (in the data imported from cyclic.xer; nothing was written)")
    assert (tmp_path / "out" / "activities.csv").as_posix() in done.stderr
    bad_date = tmp_path / "date.xer"
    bad_date.write_text(SAMPLE_XER.replace("2024-04-29 08:00", "29/04/2024"), encoding="utf-8")
    done = _cli("import", str(bad_date), "--out", str(tmp_path / "out"))
    assert done.stderr.strip() == "date.xer: TASK A2: expected a date such as 2021-03-04 08:00, got '29/04/2024'"


def test_mpp_gets_a_way_out(tmp_path):
    mpp = tmp_path / "plan.mpp"
    mpp.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert detect_format(mpp) == "mpp"  # read with MPXJ when the extra is installed, else a way out is named
    import interop

    with pytest.raises(ImportProblem, match=r"plan.mpp:1:1: (a binary MS Project \(.mpp\) file needs|MPXJ )"):
        interop.read_schedule(mpp)


def test_mspdi_three_point_from_named_fields(tmp_path):
    text = MSPDI.replace("<Calendars>", "<ExtendedAttributes><ExtendedAttribute><FieldID>188743783</FieldID>"
                                       "<FieldName>Duration1</FieldName><Alias>Optimistic</Alias></ExtendedAttribute>"
                                       "<ExtendedAttribute><FieldID>188743784</FieldID><FieldName>Duration2</FieldName>"
                                       "</ExtendedAttribute></ExtendedAttributes><Calendars>")
    text = text.replace("<Cost>12345600</Cost>", "<Cost>12345600</Cost><ExtendedAttribute><FieldID>188743783</FieldID>"
                                                 "<Value>PT400H0M0S</Value></ExtendedAttribute><ExtendedAttribute>"
                                                 "<FieldID>188743784</FieldID><Value>120</Value></ExtendedAttribute>")
    path = tmp_path / "three.xml"
    path.write_text(text, encoding="utf-8")
    piling, slab = read_schedule(path, three_point=("Optimistic", "Duration2")).activities[:2]
    assert (piling.optimistic, piling.most_likely, piling.pessimistic) == (3, 3, 6)  # 400 h -> 3; 120 days of 8 h -> 6
    assert slab.optimistic is None  # no values: the reference class
    with pytest.raises(ImportProblem, match="no task field named 'Pessimistic'"):
        read_schedule(path, three_point=("Optimistic", "Pessimistic"))


def test_import_gives_the_same_bytes(xer_file, tmp_path):
    for out in ("one", "two"):
        assert _cli("import", str(xer_file), "--out", str(tmp_path / out)).returncode == 0
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == ["activities.csv", "funding.csv", "projects.csv", "resources.csv", "risks.csv", "scenario.toml"]
    assert all((tmp_path / "one" / n).read_bytes() == (tmp_path / "two" / n).read_bytes() for n in names)


MPP = ROOT / "tests" / "data" / "mpp" / "task-links-project2019.mpp"


def test_mpp_without_the_extra_says_how_to_install_it(monkeypatch, tmp_path):
    """Without MPXJ an .mpp file is refused with the way to get it (exit 2 at the command line)."""
    import importlib.util

    import interop

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mpxj" else real(name, *a))
    assert interop.detect_format(MPP) == "mpp"
    with pytest.raises(interop.ImportProblem, match=r"task-links-project2019.mpp:1:1: .*pip install 'portfolio\[mpp\]'"):
        interop.read_schedule(MPP)


@pytest.mark.skipif(not __import__("interop.mpp").mpp.mpxj_available(), reason="needs the extra [mpp] and Java")
def test_mpp_imports_like_its_xml_twin(tmp_path):
    """MPXJ reads the .mpp: 16 tasks, FS x5 and one SS, FF and SF, each with a lag of a month after rounding."""
    import interop

    schedule = interop.read_schedule(MPP)
    assert schedule.format == "MPP"  # named as the planner's file, not as the XML it passes through
    kinds = sorted(link.kind for a in schedule.activities for link in a.links)
    assert len(schedule.activities) == 16 and kinds == ["FF", "FS", "FS", "FS", "FS", "FS", "SF", "SS"]
