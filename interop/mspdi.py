"""Read an MS Project XML (MSPDI) file into an ``ImportedSchedule``.

Parsed with the standard library's ``xml.etree`` (docs/interop.md says why no library):
a file that declares a DTD or an entity is refused before parsing, so no entity can be
expanded ("billion laughs") and no external file is fetched.

Summary tasks are not activities: each top-level summary task is a project (its WBS code,
else its name, is the project id) and nested summaries only group. A link to or from a
summary task is carried to each of its leaf tasks. Tasks outside every summary form one
project named after the file.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .schedule import (number, DEFAULT_WEEK_HOURS, FUNDING_FIELD, FULL_WEEK_HOURS, ImportedActivity, ImportedLink, ImportedProject,
                       ImportedResource, ImportedSchedule, ImportProblem, lag_months, month_of, months, safe_id,
                       unique_ids)

NS = "{http://schemas.microsoft.com/project}"
LINK_KINDS = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
ELAPSED_FORMATS = {"4", "6", "8", "10", "12", "20", "36", "38", "40", "42", "44", "52"}
PERCENT_FORMATS = {"19", "20", "51", "52"}
START_CONSTRAINTS = {"2", "4"}  # must start on, start no earlier than
_DURATION = re.compile(r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_FORBIDDEN = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes, file: str) -> ET.Element:
    """The root element; a DTD or entity declaration, or malformed XML, is an ImportProblem."""
    found = _FORBIDDEN.search(data)
    if found:
        line = data[:found.start()].count(b"\n") + 1
        raise ImportProblem(f"{file}:{line}:1: a DTD or entity declaration is not accepted (MSPDI needs none)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ImportProblem(f"{file}:{line}:{column + 1}: not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from exc
    if root.tag != f"{NS}Project":
        raise ImportProblem(f"{file}:1:1: not an MS Project XML file (expected a Project element in {NS[1:-1]})")
    return root


def _text(element: ET.Element | None, name: str, default: str = "") -> str:
    if element is None:
        return default
    child = element.find(NS + name)
    return child.text.strip() if child is not None and child.text else default


def hours(duration: str) -> float:
    """Hours of an MSPDI duration such as PT16H0M0S (a day, rarely written, is 24 h)."""
    m = _DURATION.match(duration.strip()) if duration else None
    if not m or not duration.strip():
        return 0.0
    sign = -1 if m.group(1) else 1
    d, h, mi, s = (float(x or 0) for x in m.groups()[1:])
    return sign * (d * 24 + h + mi / 60 + s / 3600)


def _day_hours(day: ET.Element) -> float:
    total = 0.0
    for wt in day.findall(f"{NS}WorkingTimes/{NS}WorkingTime"):
        start, finish = _text(wt, "FromTime"), _text(wt, "ToTime")
        if not start or not finish:
            continue
        a = int(start[:2]) * 60 + int(start[3:5])
        b = int(finish[:2]) * 60 + int(finish[3:5])
        total += ((b - a) % (24 * 60) or 24 * 60) / 60
    return total


def calendar_week_hours(root: ET.Element, minutes_per_week: float) -> dict[str, float]:
    """Calendar UID -> working hours per week, day types taken from the base calendar where a calendar is silent."""
    days: dict[str, dict[str, float]] = {}
    base: dict[str, str] = {}
    for cal in root.findall(f"{NS}Calendars/{NS}Calendar"):
        uid = _text(cal, "UID")
        base[uid] = _text(cal, "BaseCalendarUID")
        days[uid] = {}
        for day in cal.findall(f"{NS}WeekDays/{NS}WeekDay"):
            kind = _text(day, "DayType")
            if kind in "1234567" and kind:
                days[uid][kind] = _day_hours(day) if _text(day, "DayWorking") == "1" else 0.0
    out = {}
    for uid in days:
        week = {}
        node, seen = uid, set()
        while node in days and node not in seen:
            seen.add(node)
            for kind, h in days[node].items():
                week.setdefault(kind, h)
            node = base.get(node, "")
        total = sum(week.values())
        out[uid] = total if total > 0 else (minutes_per_week / 60 or DEFAULT_WEEK_HOURS)
    return out


def _tasks(root: ET.Element) -> list[ET.Element]:
    return [t for t in root.findall(f"{NS}Tasks/{NS}Task") if _text(t, "UID") != "0" and _text(t, "IsNull") != "1"]


def _structure(tasks: list[ET.Element]) -> tuple[set[str], dict[str, str], dict[str, list[str]]]:
    """Summary UIDs (by flag or by outline), top summary of each task, and the leaf UIDs below each summary."""
    summaries, top_of, leaves = set(), {}, defaultdict(list)
    stack: list[tuple[int, str]] = []
    levels = [int(_text(t, "OutlineLevel", "1") or 1) for t in tasks]
    for k, t in enumerate(tasks):
        uid, level = _text(t, "UID"), levels[k]
        while stack and stack[-1][0] >= level:
            stack.pop()
        is_summary = _text(t, "Summary") == "1" or (k + 1 < len(tasks) and levels[k + 1] > level)
        if stack:
            top_of[uid] = stack[0][1]
        if is_summary:
            summaries.add(uid)
        else:
            for _, ancestor in stack:
                leaves[ancestor].append(uid)
        if is_summary:
            stack.append((level, uid))
    return summaries, top_of, leaves


def _field_id(root: ET.Element, name: str) -> str:
    """FieldID of the task field with this alias or field name, "" when there is none."""
    for attr in root.findall(f"{NS}ExtendedAttributes/{NS}ExtendedAttribute"):
        if name in (_text(attr, "Alias"), _text(attr, "FieldName")):
            return _text(attr, "FieldID")
    return ""


def _extended_values(root: ET.Element, fields: tuple[str, str] | None) -> tuple[str, str] | None:
    """FieldIDs of the two named task fields (by alias or field name)."""
    if not fields:
        return None
    found = {}
    for attr in root.findall(f"{NS}ExtendedAttributes/{NS}ExtendedAttribute"):
        for name in (_text(attr, "Alias"), _text(attr, "FieldName")):
            if name:
                found.setdefault(name, _text(attr, "FieldID"))
    missing = [f for f in fields if f not in found]
    if missing:
        raise ImportProblem(f"no task field named {missing[0]!r} (fields: {', '.join(sorted(found)) or 'none'})")
    return found[fields[0]], found[fields[1]]


def _field_hours(value: str, day_hours: float) -> float | None:
    """A duration field's value: PT...H... as hours, a plain number as working days."""
    if value.startswith(("P", "-P")):
        return hours(value)
    try:
        x = number(value, None)
    except ValueError:
        return None
    return None if x is None else x * day_hours


def read_mspdi(path, three_point: tuple[str, str] | None = None, resource_limits: bool = False,
               data: bytes | None = None) -> ImportedSchedule:
    """The schedule in the MSPDI file at ``path`` (or in ``data``, MSPDI converted from the file at ``path``)."""
    file = Path(path).name
    root = parse_xml(Path(path).read_bytes() if data is None else data, file)
    minutes_per_week = number(_text(root, "MinutesPerWeek", "2400"), 2400)
    week = calendar_week_hours(root, minutes_per_week)
    project_calendar = _text(root, "CalendarUID", "1")
    tasks = _tasks(root)
    if not tasks:
        raise ImportProblem(f"{file}: no tasks (expected Tasks/Task elements)")
    summaries, top_of, leaves = _structure(tasks)
    by_uid = {_text(t, "UID"): t for t in tasks}
    work = [t for t in tasks if _text(t, "UID") not in summaries]
    projects, project_of = _projects(root, tasks, summaries, top_of, work, file)
    ids = dict(zip((_text(t, "UID") for t in work), unique_ids(_activity_ids(work))))
    week_of = {}
    for t in work:
        calendar = _text(t, "CalendarUID", "-1")
        week_of[_text(t, "UID")] = (FULL_WEEK_HOURS if _text(t, "DurationFormat") in ELAPSED_FORMATS
                                    else week.get(calendar if calendar != "-1" else project_calendar,
                                                  week.get(project_calendar, minutes_per_week / 60)))
    field_ids = _extended_values(root, three_point)
    funding_field = _field_id(root, FUNDING_FIELD)
    uses, resources = _resources(root, ids, resource_limits)
    start = month_of(_text(root, "StartDate"))
    status = month_of(_text(root, "StatusDate")) or _latest_actual(work) or start
    if not status:
        raise ImportProblem(f"{file}: no StatusDate and no StartDate (expected the project's dates)")
    links, kinds = _links(tasks, by_uid, summaries, leaves, ids, week_of)
    activities = []
    for t in work:
        uid = _text(t, "UID")
        try:
            activities.append(_activity(t, ids[uid], project_of[uid], week_of[uid], links.get(uid, []), field_ids,
                                        uses.get(uid, []), start, status, file))
        except ImportProblem as exc:
            raise ImportProblem(f"{file}: task UID {uid}: {exc}") from None
    if funding_field:
        for t, activity in zip(work, activities):
            values = {_text(e, "FieldID"): _text(e, "Value") for e in t.findall(f"{NS}ExtendedAttribute")}
            activity.funding_source = safe_id(values.get(funding_field, ""), activity.funding_source)
    finish = max([month_of(_text(root, "FinishDate"))] + [month_of(_text(t, "Finish")) for t in work]) or status
    return ImportedSchedule(file, "MSPDI", projects, activities, resources, status, max(finish, status),
                            len(summaries), kinds)


def _latest_actual(work: list[ET.Element]) -> str:
    """The month of the latest actual date, the data date of a file that states none (CurrentDate is the save date)."""
    dates = [month_of(_text(t, name)) for t in work for name in ("ActualStart", "ActualFinish")]
    return max((d for d in dates if d), default="")


def _activity_ids(work: list[ET.Element]) -> list[str]:
    """WBS codes when every task has a distinct one, else the task IDs."""
    wbs = [safe_id(_text(t, "WBS"), "") for t in work]
    if all(wbs) and len(set(wbs)) == len(wbs):
        return wbs
    return [safe_id(_text(t, "ID"), f"U{_text(t, 'UID')}") for t in work]


def _projects(root, tasks, summaries, top_of, work, file):
    """The projects, and task UID -> project id."""
    tops = [t for t in tasks if _text(t, "UID") in summaries and _text(t, "UID") not in top_of]
    used_tops = {top_of.get(_text(t, "UID")) for t in work}
    tops = [t for t in tops if _text(t, "UID") in used_tops]
    wbs = [safe_id(_text(t, "WBS"), "", ascii_only=True) for t in tops]
    if not (all(wbs) and len(set(wbs)) == len(wbs)):
        wbs = [safe_id(_text(t, "Name"), f"S{_text(t, 'UID')}", ascii_only=True) for t in tops]
    top_ids = unique_ids(wbs)
    projects = [ImportedProject(pid, _text(t, "Name") or pid, f"{file} (MSPDI summary task {_text(t, 'UID')})")
                for t, pid in zip(tops, top_ids)]
    pid_of_top = {_text(t, "UID"): pid for t, pid in zip(tops, top_ids)}
    project_of = {}
    loose = safe_id(_text(root, "Title") or _text(root, "Name") or Path(file).stem, "PROJECT", ascii_only=True)
    loose = unique_ids(top_ids + [loose])[-1]
    for t in work:
        top = top_of.get(_text(t, "UID"))
        project_of[_text(t, "UID")] = pid_of_top.get(top, loose)
    if loose in project_of.values():
        projects.append(ImportedProject(loose, _text(root, "Title") or loose, f"{file} (MSPDI tasks outside summaries)"))
    return projects, project_of


def _links(tasks, by_uid, summaries, leaves, ids, week_of):
    """Task UID -> links (summary ends carried to their leaves), and the file's links per type."""
    out: dict[str, list[ImportedLink]] = defaultdict(list)
    kinds: dict[str, int] = defaultdict(int)
    duration_hours = {uid: hours(_text(t, "Duration")) for uid, t in by_uid.items()}
    for t in tasks:
        succ = _text(t, "UID")
        for link in t.findall(f"{NS}PredecessorLink"):
            pred = _text(link, "PredecessorUID")
            kind = LINK_KINDS.get(_text(link, "Type", "1"))
            if kind is None or pred not in by_uid:
                raise ImportProblem(f"task {succ}: link from task {pred!r} of type {_text(link, 'Type')!r} "
                                    "(expected a task of the file and a type 0-3)")
            kinds[kind] += 1
            raw = number(_text(link, "LinkLag", "0"))
            fmt = _text(link, "LagFormat", "7")
            for p in (leaves[pred] if pred in summaries else [pred]):
                for s in (leaves[succ] if succ in summaries else [succ]):
                    if p == s or p not in ids or s not in ids:
                        continue
                    if fmt in PERCENT_FORMATS:
                        lag_hours = raw / 100 * duration_hours.get(p, 0.0)
                    else:
                        lag_hours = raw / 600  # tenths of a minute
                    basis = FULL_WEEK_HOURS if fmt in ELAPSED_FORMATS else week_of[s]
                    out[s].append(ImportedLink(ids[p], kind, lag_months(lag_hours, basis)))
    return out, dict(kinds)


def _resources(root, ids, resource_limits):
    """Task UID -> [(resource id, units)], and the resources used (capacity as for XER)."""
    rows = [r for r in root.findall(f"{NS}Resources/{NS}Resource") if _text(r, "UID") != "0"]
    rids = dict(zip((_text(r, "UID") for r in rows),
                    unique_ids([safe_id(_text(r, "Name"), f"R{_text(r, 'UID')}") for r in rows])))
    names = {_text(r, "UID"): _text(r, "Name") for r in rows}
    capacity = {_text(r, "UID"): number(_text(r, "MaxUnits", "1"), 1) for r in rows}
    uses: dict[str, dict[str, float]] = defaultdict(dict)
    for a in root.findall(f"{NS}Assignments/{NS}Assignment"):
        task, rsrc = _text(a, "TaskUID"), _text(a, "ResourceUID")
        units = number(_text(a, "Units", "1"))
        if task in ids and rsrc in rids and units > 0:
            uses[task][rsrc] = uses[task].get(rsrc, 0.0) + units
    total: dict[str, float] = defaultdict(float)
    for task_uses in uses.values():
        for rsrc, units in task_uses.items():
            capacity[rsrc] = max(capacity[rsrc], units)
            total[rsrc] += units
    if not resource_limits:
        capacity = total
    used = [uid for uid in rids if uid in total]
    resources = [ImportedResource(rids[uid], names[uid] or rids[uid], round(capacity[uid], 6)) for uid in used]
    return ({task: [(rids[r], round(u, 6)) for r, u in task_uses.items()] for task, task_uses in uses.items()},
            resources)


def _activity(t, aid, project, week_hours, links, field_ids, uses, start, status, file) -> ImportedActivity:
    planned = hours(_text(t, "Duration"))
    m = months(planned, week_hours)
    optimistic = pessimistic = None
    if field_ids:
        values = {_text(e, "FieldID"): _text(e, "Value") for e in t.findall(f"{NS}ExtendedAttribute")}
        o, p = (_field_hours(values.get(f, ""), week_hours / 5) for f in field_ids)
        if o is not None and p is not None:
            optimistic, pessimistic = min(m, months(o, week_hours)), max(m, months(p, week_hours))
    actual_start = month_of(_text(t, "ActualStart"))
    actual_finish = month_of(_text(t, "ActualFinish")) if actual_start else ""
    earliest = ""
    if not actual_start:
        constraint = month_of(_text(t, "ConstraintDate")) if _text(t, "ConstraintType") in START_CONSTRAINTS else ""
        opening = start if not links and start > status else ""
        earliest = max(constraint, opening)
    cost = number(_text(t, "Cost", "0")) / 100  # MSPDI currency is in hundredths
    return ImportedActivity(aid, project, _text(t, "Name") or aid, m, optimistic, pessimistic, links, cost, earliest,
                            actual_start, actual_finish, uses,
                            f"{file} (MSPDI task UID {_text(t, 'UID')}, {planned:g} h)")
