"""Write a run folder's funded plan as a P6 XER or MS Project XML (MSPDI) file.

The plan is schedule.csv (each activity's planned start and finish month, duration, cost
and funding source) with the data's links; the data is named by the caller because a run
folder records the hashes of its inputs, not where they are, and the hashes must match.
Both files use one calendar, Monday to Friday, 8 hours a day (40 h a week), so a month is
40 x 52 / 12 = 173.33 h: durations and lags are months times that, which the import's rule
turns back into the same months. Each activity not started at the status date gets a
"start on or after" constraint at its planned start (the funded plan's date, which links
alone would not give); finished and running activities get actual dates. The funding source
travels in a task text field named ``funding_source``, the cost as a P6 expense / an MSPDI
fixed cost. Months become dates at 08:00 on the first of the start month and at 16:00 (P6)
or 17:00 (MS Project) on the last day of the finish month; both programs reschedule on open.
"""
from __future__ import annotations

import calendar
import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from portfolio.errors import InputError, InputProblem
from portfolio.model import Portfolio
from portfolio.months import format_month, year_of
from portfolio.progress import DONE, RUNNING, progress_at
from portfolio.runfiles import SPECS, read_value
from portfolio.runfolder import read_manifest

from .schedule import FUNDING_FIELD, MONEY_UNIT, WEEKS_PER_MONTH

WEEK_HOURS = 40.0
MONTH_HOURS = WEEK_HOURS * WEEKS_PER_MONTH  # 173.33
MSPDI_NS = "http://schemas.microsoft.com/project"
XER_TYPES = {"FS": "PR_FS", "SS": "PR_SS", "FF": "PR_FF", "SF": "PR_SF"}
MSPDI_TYPES = {"FF": "0", "FS": "1", "SF": "2", "SS": "3"}
SCHEDULE_COLUMNS = ("activity_id", "project_id", "name", "start", "finish", "duration", "cost", "funding_source")
TEXT1 = "188743731"  # MSPDI FieldID of Text1
CALENDAR_NAME = "Standard 5x8 (portfolio export)"
WEEK_40_XER = ("(0||CalendarData()((0||DaysOfWeek()((0||1()())(0||2()((0||0(s|08:00|f|16:00)())))"
               "(0||3()((0||0(s|08:00|f|16:00)())))(0||4()((0||0(s|08:00|f|16:00)())))"
               "(0||5()((0||0(s|08:00|f|16:00)())))(0||6()((0||0(s|08:00|f|16:00)())))(0||7()())))"
               "(0||Exceptions()())))")


@dataclass(frozen=True)
class PlannedActivity:
    activity_id: str
    project_id: str
    name: str
    start: int  # absolute month
    finish: int
    duration: float  # months
    cost: float  # 亿
    funding_source: str
    state: int  # FUTURE / RUNNING / DONE at the status date


@dataclass(frozen=True)
class Plan:
    portfolio: Portfolio
    status: int
    activities: tuple[PlannedActivity, ...]


def load_plan(run_dir, portfolio: Portfolio, status: int) -> Plan:
    """The run's schedule.csv joined with the data's progress; InputError when they do not belong together."""
    run = Path(run_dir)
    path = run / "schedule.csv"
    if not path.is_file():
        raise InputError(InputProblem(str(path), 0, 0, "no schedule.csv (expected a run folder of portfolio schedule or run)"))
    manifest = read_manifest(run)
    if manifest is None and (run / "manifest.json").exists():
        raise InputError(InputProblem(str(run / "manifest.json"), 0, 0, "not a run's manifest (not a JSON object in UTF-8)"))
    recorded = (manifest or {}).get("inputs", {})
    if not isinstance(recorded, dict):
        raise InputError(InputProblem(str(run / "manifest.json"), 0, 0, "\"inputs\" is not a table of file hashes"))
    changed = [name for name, sha in portfolio.inputs if name in recorded and recorded[name] != sha]
    if changed:
        raise InputError(InputProblem(str(run / "manifest.json"), 0, 0, f"the run was made from other data: {', '.join(changed)} "
                                 "differ (expected --data to name the run's scenario or data folder)"))
    progress = {a.activity_id: p.state for a, p in zip(portfolio.activities, progress_at(portfolio, status))}
    try:
        rows = _schedule_rows(path, progress)
    except UnicodeDecodeError:
        raise InputError(InputProblem(str(path), 0, 0, "not UTF-8 text (expected a plan's schedule.csv)")) from None
    planned = {r.activity_id for r in rows}
    lacking = [a.activity_id for a in portfolio.activities if a.activity_id not in planned]
    if lacking:
        raise InputError(InputProblem(str(path), 0, 0, f"no row for activity {lacking[0]!r} of the data"
                                      + (f" (and {len(lacking) - 1} more)" if len(lacking) > 1 else "")))
    return Plan(portfolio, status, tuple(rows))


def _schedule_rows(path: Path, progress: dict[str, int]) -> list[PlannedActivity]:
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in SCHEDULE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(InputProblem(str(path), 1, 0, f"missing column {missing[0]!r} (expected a plan's schedule.csv)"))
        for line, row in enumerate(reader, start=2):
            if None in row or None in row.values():
                raise InputError(InputProblem(str(path), line, 0, f"expected {len(reader.fieldnames)} fields"))
            if row["activity_id"] not in progress:
                raise InputError(InputProblem(str(path), line, 1, f"activity_id: {row['activity_id']!r} is not in the data"))
            value = {}
            for column, kind in SPECS["schedule.csv"]["kinds"].items():  # the reader's rules (portfolio/runfiles.py)
                try:
                    value[column] = read_value(kind, row[column])
                except ValueError as exc:
                    where = reader.fieldnames.index(column) + 1
                    raise InputError(InputProblem(str(path), line, where, f"{column}: {exc}")) from None
            rows.append(PlannedActivity(row["activity_id"], row["project_id"], row["name"], value["start"],
                                        value["finish"], value["duration"], value["cost"], row["funding_source"],
                                        progress[row["activity_id"]]))
    return rows


def _first_day(month: int, time: str = "08:00") -> str:
    return f"{format_month(month)}-01 {time}"


def _last_day(month: int, time: str) -> str:
    year, m = year_of(month), month % 12 + 1
    return f"{format_month(month)}-{calendar.monthrange(year, m)[1]:02d} {time}"


def _hours(months: float) -> str:
    return f"{months * MONTH_HOURS:.2f}"


def _currency(cost: float) -> float:
    return round(cost * MONEY_UNIT, 2)


# -- XER ------------------------------------------------------------------------------------------------------
def _table(name: str, fields: list[str], rows: list[list[str]]) -> list[str]:
    clean = [[str(v).replace("\t", " ").replace("\r", " ").replace("\n", " ") for v in row] for row in rows]
    return [f"%T\t{name}", "%F\t" + "\t".join(fields)] + ["%R\t" + "\t".join(row) for row in clean]


def xer_text(plan: Plan) -> str:
    """The plan as XER text: one P6 project per portfolio project, one calendar, expenses for costs."""
    proj_num = {p.project_id: 1000 + k for k, p in enumerate(plan.portfolio.projects)}
    task_num = {a.activity_id: 100000 + k for k, a in enumerate(plan.activities)}
    lines = [f"ERMHDR\t20.12\t{format_month(plan.status)}-01\tProject\tportfolio\tportfolio\tdbxDatabaseNoName\t"
             "Project Management\tCNY"]
    lines += _table("CALENDAR", ["clndr_id", "default_flag", "clndr_name", "proj_id", "base_clndr_id", "clndr_type",
                                 "day_hr_cnt", "week_hr_cnt", "month_hr_cnt", "year_hr_cnt", "rsrc_private", "clndr_data"],
                    [["1", "Y", CALENDAR_NAME, "", "", "CA_Base", "8", "40", "173", "2080", "N", WEEK_40_XER]])
    lines += _xer_projects(plan, proj_num)
    lines += _table("TASK", ["task_id", "proj_id", "wbs_id", "clndr_id", "phys_complete_pct", "complete_pct_type",
                             "task_type", "duration_type", "status_code", "task_code", "task_name", "remain_drtn_hr_cnt",
                             "target_drtn_hr_cnt", "cstr_date", "act_start_date", "act_end_date", "early_start_date",
                             "early_end_date", "target_start_date", "target_end_date", "cstr_type"],
                    [_xer_task(a, task_num, proj_num, plan.status) for a in plan.activities])
    lines += _xer_links(plan, task_num, proj_num)
    lines += _xer_resources(plan, task_num, proj_num)
    lines += _table("PROJCOST", ["cost_item_id", "proj_id", "task_id", "cost_name", "target_cost", "remain_cost"],
                    [[str(k + 1), str(proj_num[a.project_id]), str(task_num[a.activity_id]), "planned cost",
                      f"{_currency(a.cost):.2f}", f"{0 if a.state == DONE else _currency(a.cost):.2f}"]
                     for k, a in enumerate(x for x in plan.activities if x.cost)])
    lines += _table("UDFTYPE", ["udf_type_id", "table_name", "udf_type_name", "udf_type_label", "logical_data_type"],
                    [["1", "TASK", "user_field_1", FUNDING_FIELD, "FT_TEXT"]])
    lines += _table("UDFVALUE", ["udf_type_id", "fk_id", "proj_id", "udf_text"],
                    [["1", str(task_num[a.activity_id]), str(proj_num[a.project_id]), a.funding_source]
                     for a in plan.activities])
    lines.append("%E")
    return "\r\n".join(lines) + "\r\n"


def _xer_projects(plan: Plan, proj_num: dict[str, int]) -> list[str]:
    """PROJECT (data date, planned start and finish, deadline), SCHEDOPTIONS and the project WBS nodes."""
    projects = plan.portfolio.projects
    status = _first_day(plan.status, "00:00")
    rows = []
    for p in projects:
        acts = [a for a in plan.activities if a.project_id == p.project_id]
        start = min((a.start for a in acts), default=plan.status)
        finish = max((a.finish for a in acts), default=plan.status)
        rows.append([str(proj_num[p.project_id]), p.project_id, "Y", "1", status, _first_day(start),
                     _last_day(p.deadline, "16:00") if p.deadline is not None else "", _last_day(finish, "16:00"),
                     "DT_FixedDUR2", "TT_Task", "CP_Drtn"])
    lines = _table("PROJECT", ["proj_id", "proj_short_name", "project_flag", "clndr_id", "last_recalc_date",
                               "plan_start_date", "plan_end_date", "scd_end_date", "def_duration_type", "def_task_type",
                               "def_complete_pct_type"], rows)
    lines += _table("SCHEDOPTIONS", ["schedoptions_id", "proj_id", "sched_calendar_on_relationship_lag"],
                    [[str(k + 1), str(proj_num[p.project_id]), "rcal_Predecessor"] for k, p in enumerate(projects)])
    lines += _table("PROJWBS", ["wbs_id", "proj_id", "proj_node_flag", "seq_num", "wbs_short_name", "wbs_name",
                                "parent_wbs_id", "status_code"],
                    [[str(proj_num[p.project_id]), str(proj_num[p.project_id]), "Y", str(k), p.project_id, p.name_zh, "",
                      "WS_Open"] for k, p in enumerate(projects)])
    return lines


def _xer_links(plan: Plan, task_num: dict[str, int], proj_num: dict[str, int]) -> list[str]:
    """TASKPRED: the data's links, lags in hours of the export calendar."""
    portfolio = plan.portfolio
    rows = []
    for a in plan.activities:
        for link in portfolio.activity(a.activity_id).predecessors:
            pred = portfolio.activity(link.predecessor)
            rows.append([str(len(rows) + 1), str(task_num[a.activity_id]), str(task_num[link.predecessor]),
                         str(proj_num[a.project_id]), str(proj_num[pred.project_id]), XER_TYPES[link.kind],
                         _hours(link.lag)])
    return _table("TASKPRED", ["task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type",
                               "lag_hr_cnt"], rows)


def _uses(plan: Plan) -> list[tuple[str, str, float]]:
    """(activity id, resource id, units) of every resource use in the plan, in plan order."""
    return [(a.activity_id, rid, units) for a in plan.activities
            for rid, units in plan.portfolio.activity(a.activity_id).resources]


def _xer_resources(plan: Plan, task_num: dict[str, int], proj_num: dict[str, int]) -> list[str]:
    """RSRC, RSRCRATE (capacity as max units per hour) and TASKRSRC (units per hour while the activity runs)."""
    resources = plan.portfolio.resources
    rsrc_num = {r.resource_id: 500 + k for k, r in enumerate(resources)}
    project_of = {a.activity_id: a.project_id for a in plan.activities}
    lines = _table("RSRC", ["rsrc_id", "rsrc_short_name", "rsrc_name", "rsrc_type", "clndr_id"],
                   [[str(rsrc_num[r.resource_id]), r.resource_id, r.name, "RT_Equip", "1"] for r in resources])
    lines += _table("RSRCRATE", ["rsrc_rate_id", "rsrc_id", "max_qty_per_hr", "start_date"],
                    [[str(k + 1), str(rsrc_num[r.resource_id]), f"{r.capacity:g}", "2000-01-01 00:00"]
                     for k, r in enumerate(resources)])
    lines += _table("TASKRSRC", ["taskrsrc_id", "task_id", "proj_id", "rsrc_id", "target_qty_per_hr",
                                 "remain_qty_per_hr"],
                    [[str(k + 1), str(task_num[aid]), str(proj_num[project_of[aid]]), str(rsrc_num[rid]), f"{units:g}",
                      f"{units:g}"] for k, (aid, rid, units) in enumerate(_uses(plan))])
    return lines


def _mspdi_resources(root: ET.Element, q, plan: Plan, uid: dict[str, int]) -> None:
    """Resources (MaxUnits = capacity) and assignments (Units while the task runs)."""
    resources = _sub(root, q("Resources"))
    rsrc_uid = {r.resource_id: k + 1 for k, r in enumerate(plan.portfolio.resources)}
    for r in plan.portfolio.resources:
        element = _sub(resources, q("Resource"))
        for tag, text in (("UID", str(rsrc_uid[r.resource_id])), ("ID", str(rsrc_uid[r.resource_id])),
                          ("Name", r.resource_id), ("Type", "1"), ("MaxUnits", f"{r.capacity:g}")):
            _sub(element, q(tag), text)
    assignments = _sub(root, q("Assignments"))
    for k, (aid, rid, units) in enumerate(_uses(plan), start=1):
        element = _sub(assignments, q("Assignment"))
        for tag, text in (("UID", str(k)), ("TaskUID", str(uid[aid])), ("ResourceUID", str(rsrc_uid[rid])),
                          ("Units", f"{units:g}")):
            _sub(element, q(tag), text)


def remaining_months(a: PlannedActivity, status: int) -> float:
    """Work left at the status date: none when finished, the planned months to its finish when running, else all."""
    if a.state == DONE:
        return 0.0
    if a.state == RUNNING:
        return float(max(a.finish + 1 - status, 0))
    return a.duration


def _xer_task(a: PlannedActivity, task_num, proj_num, status: int) -> list[str]:
    done, running = a.state == DONE, a.state == RUNNING
    start, finish = _first_day(a.start), _last_day(a.finish, "16:00")
    constraint = not done and not running
    return [str(task_num[a.activity_id]), str(proj_num[a.project_id]), str(proj_num[a.project_id]), "1",
            "100" if done else "0", "CP_Drtn", "TT_Task", "DT_FixedDUR2",
            "TK_Complete" if done else ("TK_Active" if running else "TK_NotStart"), a.activity_id, a.name,
            _hours(remaining_months(a, status)), _hours(a.duration), start if constraint else "",
            start if done or running else "", finish if done else "", start, finish, start, finish,
            "CS_MSOA" if constraint else ""]


# -- MSPDI ----------------------------------------------------------------------------------------------------
def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _iso(day_time: str) -> str:
    return day_time.replace(" ", "T") + ":00"


def _duration(months: float) -> str:
    minutes = round(months * MONTH_HOURS * 60)
    return f"PT{minutes // 60}H{minutes % 60}M0S"


def mspdi_bytes(plan: Plan) -> bytes:
    """The plan as MSPDI XML (elements in the order of Microsoft's schema)."""
    ET.register_namespace("", MSPDI_NS)
    portfolio = plan.portfolio
    root = ET.Element(f"{{{MSPDI_NS}}}Project")
    q = lambda tag: f"{{{MSPDI_NS}}}{tag}"  # noqa: E731
    first = min((a.start for a in plan.activities), default=plan.status)
    last = max((a.finish for a in plan.activities), default=plan.status)
    for tag, text in (("SaveVersion", "14"), ("Name", "portfolio.xml"), ("Title", "portfolio plan"),
                      ("ScheduleFromStart", "1"), ("StartDate", _iso(_first_day(first))),
                      ("FinishDate", _iso(_last_day(last, "17:00"))), ("CurrencyCode", "CNY"), ("CalendarUID", "1"),
                      ("DefaultStartTime", "08:00:00"), ("DefaultFinishTime", "17:00:00"), ("MinutesPerDay", "480"),
                      ("MinutesPerWeek", "2400"), ("DaysPerMonth", "20"), ("DurationFormat", "7"),
                      ("HonorConstraints", "0"), ("StatusDate", _iso(_first_day(plan.status, "08:00")))):
        _sub(root, q(tag), text)
    attrs = _sub(root, q("ExtendedAttributes"))
    attr = _sub(attrs, q("ExtendedAttribute"))
    for tag, text in (("FieldID", TEXT1), ("FieldName", "Text1"), ("Alias", FUNDING_FIELD)):
        _sub(attr, q(tag), text)
    _mspdi_calendar(_sub(root, q("Calendars")), q)
    tasks = _sub(root, q("Tasks"))
    uid = {a.activity_id: k + 1 + len(portfolio.projects) for k, a in enumerate(plan.activities)}
    _mspdi_task(tasks, q, [("UID", "0"), ("ID", "0"), ("Name", "portfolio plan"), ("OutlineNumber", "0"),
                           ("OutlineLevel", "0"), ("Summary", "1")])
    row = 0
    for k, p in enumerate(portfolio.projects):
        acts = [a for a in plan.activities if a.project_id == p.project_id]
        row += 1
        summary = _mspdi_task(tasks, q, [("UID", str(k + 1)), ("ID", str(row)), ("Name", p.name_zh), ("WBS", p.project_id),
                                         ("OutlineNumber", str(k + 1)), ("OutlineLevel", "1"), ("Summary", "1")])
        if p.deadline is not None:
            _sub(summary, q("Deadline"), _iso(_last_day(p.deadline, "17:00")))
        for n, a in enumerate(acts, start=1):
            row += 1
            _mspdi_activity(tasks, q, a, uid, row, f"{k + 1}.{n}", portfolio.activity(a.activity_id).predecessors,
                            plan.status)
    _mspdi_resources(root, q, plan, uid)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _mspdi_calendar(calendars: ET.Element, q) -> None:
    cal = _sub(calendars, q("Calendar"))
    for tag, text in (("UID", "1"), ("Name", CALENDAR_NAME), ("IsBaseCalendar", "1"), ("BaseCalendarUID", "-1")):
        _sub(cal, q(tag), text)
    days = _sub(cal, q("WeekDays"))
    for day in range(1, 8):
        weekday = _sub(days, q("WeekDay"))
        _sub(weekday, q("DayType"), str(day))
        working = day not in (1, 7)
        _sub(weekday, q("DayWorking"), "1" if working else "0")
        if working:
            times = _sub(weekday, q("WorkingTimes"))
            for start, finish in (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00")):
                span = _sub(times, q("WorkingTime"))
                _sub(span, q("FromTime"), start)
                _sub(span, q("ToTime"), finish)


def _mspdi_task(tasks: ET.Element, q, fields: list[tuple[str, str]]) -> ET.Element:
    task = _sub(tasks, q("Task"))
    for tag, text in fields:
        _sub(task, q(tag), text)
    return task


def _mspdi_activity(tasks, q, a: PlannedActivity, uid, row: int, outline: str, links, status: int) -> None:
    done, running = a.state == DONE, a.state == RUNNING
    start, finish = _iso(_first_day(a.start)), _iso(_last_day(a.finish, "17:00"))
    hundredths = f"{round(_currency(a.cost) * 100):d}"
    fields = [("UID", str(uid[a.activity_id])), ("ID", str(row)), ("Name", a.name), ("WBS", a.activity_id),
              ("OutlineNumber", outline), ("OutlineLevel", "2"), ("Start", start), ("Finish", finish),
              ("Duration", _duration(a.duration)), ("DurationFormat", "7"), ("Milestone", "0"), ("Summary", "0"),
              ("FixedCost", hundredths), ("FixedCostAccrual", "3"), ("PercentComplete", "100" if done else "0"),
              ("Cost", hundredths)]
    if done or running:
        fields.append(("ActualStart", start))
    if done:
        fields.append(("ActualFinish", finish))
    fields.append(("RemainingDuration", _duration(remaining_months(a, status))))
    if not done and not running:
        fields += [("ConstraintType", "4"), ("CalendarUID", "-1"), ("ConstraintDate", start)]
    task = _mspdi_task(tasks, q, fields)
    for link in links:
        element = _sub(task, q("PredecessorLink"))
        _sub(element, q("PredecessorUID"), str(uid[link.predecessor]))
        _sub(element, q("Type"), MSPDI_TYPES[link.kind])
        _sub(element, q("CrossProject"), "0")
        _sub(element, q("LinkLag"), str(round(link.lag * MONTH_HOURS * 600)))  # tenths of a minute
        _sub(element, q("LagFormat"), "7")
    extended = _sub(task, q("ExtendedAttribute"))
    _sub(extended, q("FieldID"), TEXT1)
    _sub(extended, q("Value"), a.funding_source)


def export_bytes(plan: Plan, fmt: str, encoding: str = "utf-8") -> bytes:
    """The plan as the bytes of a P6 XER (in ``encoding``) or MSPDI file."""
    return xer_text(plan).encode(encoding) if fmt == "xer" else mspdi_bytes(plan)


def is_export_file(fmt: str, head: bytes) -> bool:
    """Whether an existing file's first bytes are of the format that an export to it writes (so it may replace it)."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"ERMHDR") if fmt == "xer" else head.startswith(b"<") and b"schemas.microsoft.com/project" in head
