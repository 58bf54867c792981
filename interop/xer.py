"""Read a Primavera P6 XER file (tab-separated ``%T`` table, ``%F`` fields, ``%R`` rows) into an ``ImportedSchedule``.

Hand-written (docs/interop.md says why): the Python XER libraries are GPL or LGPL and this
project is MIT. Columns are taken by their ``%F`` names, never by position, because the
column sets differ between P6 versions. XER carries no encoding: the bytes are read as
UTF-8 when valid, else as cp1251 when they hold runs of Cyrillic letters, else as cp1252
(what P6 writes on Western Windows); ``encoding=`` overrides the guess.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .schedule import (number, DEFAULT_WEEK_HOURS, FUNDING_FIELD, FULL_WEEK_HOURS, ImportedActivity, ImportedLink, ImportedProject,
                       ImportedResource, ImportedSchedule, ImportProblem, lag_months, month_of, months, safe_id,
                       unique_ids)

LINK_KINDS = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
START_CONSTRAINTS = ("CS_MSO", "CS_MSOA", "CS_MANDSTART")
_CYRILLIC_RUN = re.compile(rb"[\xc0-\xff]{4,}")
_DAY = re.compile(r"\(0\|\|([1-7])\(\)")
_SPAN = re.compile(r"(?:s\|(\d\d):(\d\d)\|f\|(\d\d):(\d\d))|(?:f\|(\d\d):(\d\d)\|s\|(\d\d):(\d\d))")


@dataclass
class XerTable:
    name: str
    fields: list[str]
    rows: list[dict[str, str]]


def decode(data: bytes, encoding: str | None = None) -> str:
    """The text of an XER file (see the module's note on encodings)."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ImportProblem(f"cannot read as {encoding}: {exc}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode("cp1251" if _CYRILLIC_RUN.search(data) else "cp1252", errors="replace")


def read_tables(text: str, file: str) -> dict[str, XerTable]:
    """Table name -> table; ImportProblem (with a line) when the file is not XER."""
    lines = text.split("\n")
    if not lines or not lines[0].startswith("ERMHDR"):
        raise ImportProblem(f"{file}:1:1: not a P6 XER file (expected the ERMHDR header line)")
    tables: dict[str, XerTable] = {}
    current: XerTable | None = None
    for line_no, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            current = tables.setdefault(rest.strip(), XerTable(rest.strip(), [], []))
        elif tag == "%F":
            if current is None:
                raise ImportProblem(f"{file}:{line_no}:1: %F fields before any %T table")
            current.fields = rest.split("\t")
        elif tag == "%R":
            if current is None or not current.fields:
                raise ImportProblem(f"{file}:{line_no}:1: %R row before the table's %F fields")
            current.rows.append(dict(zip(current.fields, rest.split("\t"))))
    if "TASK" not in tables:
        raise ImportProblem(f"{file}:1:1: no TASK table (expected activities)")
    return tables


def _rows(tables: dict[str, XerTable], name: str) -> list[dict[str, str]]:
    return tables[name].rows if name in tables else []


def _number(text: str | None) -> float:
    return number(text)


def calendar_week_hours(row: dict[str, str]) -> float:
    """Working hours per week of a CALENDAR row: its week pattern, else week_hr_cnt, else 5 x day_hr_cnt."""
    data = row.get("clndr_data", "")
    week = data.split("DaysOfWeek()", 1)[1].split("Exceptions()", 1)[0] if "DaysOfWeek()" in data else ""
    total = 0.0
    parts = _DAY.split(week)
    for k in range(1, len(parts) - 1, 2):
        for span in _SPAN.findall(parts[k + 1]):
            h = [int(x) for x in span if x]
            start, finish = (h[0] * 60 + h[1], h[2] * 60 + h[3]) if span[0] else (h[2] * 60 + h[3], h[0] * 60 + h[1])
            total += ((finish - start) % (24 * 60) or 24 * 60) / 60
    if total > 0:
        return total
    if _number(row.get("week_hr_cnt")) > 0:
        return _number(row.get("week_hr_cnt"))
    if _number(row.get("day_hr_cnt")) > 0:
        return 5 * _number(row.get("day_hr_cnt"))
    return DEFAULT_WEEK_HOURS


def _week_hours(tables) -> tuple[dict[str, float], float]:
    """clndr_id -> hours per week, and the default calendar's."""
    hours = {row.get("clndr_id", ""): calendar_week_hours(row) for row in _rows(tables, "CALENDAR")}
    default = next((hours[row.get("clndr_id", "")] for row in _rows(tables, "CALENDAR") if row.get("default_flag") == "Y"),
                   DEFAULT_WEEK_HOURS)
    return hours, default


def _project_ids(tables, projects_from: str, file: str) -> tuple[list[ImportedProject], dict[str, str], dict[str, str]]:
    """Projects, proj_id -> project_id, wbs_id -> project_id (the latter for ``projects_from="wbs"``)."""
    rows = _rows(tables, "PROJECT")
    names = unique_ids([safe_id(r.get("proj_short_name", ""), f"P{r.get('proj_id', '')}", ascii_only=True) for r in rows])
    by_proj = {r.get("proj_id", ""): pid for r, pid in zip(rows, names)}
    projects = [ImportedProject(pid, r.get("proj_short_name") or pid, f"{file} (XER project {r.get('proj_short_name', '')})",
                                month_of(r.get("plan_end_date")) if r.get("plan_end_date") else "")
                for r, pid in zip(rows, names)]
    by_wbs: dict[str, str] = {}
    if projects_from == "wbs":
        wbs = _rows(tables, "PROJWBS")
        roots = {w.get("wbs_id") for w in wbs if w.get("proj_node_flag") == "Y"}
        tops = [w for w in wbs if w.get("parent_wbs_id") in roots]
        top_ids = unique_ids([safe_id(w.get("wbs_short_name", ""), f"W{w.get('wbs_id')}", ascii_only=True) for w in tops])
        projects = [ImportedProject(pid, w.get("wbs_name") or pid, f"{file} (XER WBS {w.get('wbs_short_name', '')})")
                    for w, pid in zip(tops, top_ids)]
        parent = {w.get("wbs_id"): w.get("parent_wbs_id") for w in wbs}
        top_of = {w.get("wbs_id"): pid for w, pid in zip(tops, top_ids)}
        for wbs_id in parent:
            node, seen = wbs_id, set()
            while node in parent and node not in top_of and node not in seen:
                seen.add(node)
                node = parent[node]
            if node in top_of:
                by_wbs[wbs_id] = top_of[node]
    return projects, by_proj, by_wbs


def _udf_three_point(tables, fields: tuple[str, str] | None) -> dict[str, tuple[float, float]]:
    """task_id -> (optimistic, pessimistic) in working days from two named activity user fields."""
    if not fields:
        return {}
    labels = {row.get("udf_type_label", "").strip(): row.get("udf_type_id") for row in _rows(tables, "UDFTYPE")
              if row.get("table_name") == "TASK"}
    missing = [f for f in fields if f not in labels]
    if missing:
        raise ImportProblem(f"no activity user field named {missing[0]!r} (fields: {', '.join(sorted(labels)) or 'none'})")
    values: dict[tuple[str, str], float] = {}
    for row in _rows(tables, "UDFVALUE"):
        if row.get("udf_number", "") != "":
            values[row.get("udf_type_id", ""), row.get("fk_id", "")] = _number(row.get("udf_number"))
    out = {}
    for row in _rows(tables, "TASK"):
        key = row.get("task_id", "")
        o, p = values.get((labels[fields[0]], key)), values.get((labels[fields[1]], key))
        if o is not None and p is not None:
            out[key] = (o, p)
    return out


def _udf_texts(tables, label: str) -> dict[str, str]:
    """task_id -> the text of the activity user field ``label`` (empty when the file has no such field)."""
    ids = {row.get("udf_type_id") for row in _rows(tables, "UDFTYPE")
           if row.get("table_name") == "TASK" and row.get("udf_type_label", "").strip() == label}
    return {row.get("fk_id", ""): row.get("udf_text", "").strip() for row in _rows(tables, "UDFVALUE")
            if row.get("udf_type_id") in ids and row.get("udf_text", "").strip()}


def read_xer(path, projects_from: str = "project", three_point: tuple[str, str] | None = None,
             encoding: str | None = None, resource_limits: bool = False) -> ImportedSchedule:
    """The schedule in the XER file at ``path``.

    ``resource_limits``: resources keep the file's maximum units as capacity (else the sum of all uses, never binding).
    """
    file = Path(path).name
    tables = read_tables(decode(Path(path).read_bytes(), encoding), file)
    try:
        return _schedule(tables, file, projects_from, three_point, resource_limits)
    except ImportProblem as exc:
        raise ImportProblem(f"{file}: {exc}") from None


def _schedule(tables, file: str, projects_from: str, three_point, resource_limits: bool) -> ImportedSchedule:
    """The schedule of the XER tables (ImportProblem with the table and row where a value cannot be read)."""
    week, default_week = _week_hours(tables)
    projects, by_proj, by_wbs = _project_ids(tables, projects_from, file)
    tasks = _rows(tables, "TASK")
    if not tasks:
        raise ImportProblem("the TASK table has no rows (expected activities)")
    ids = _activity_ids(tasks, by_proj)
    hours_of = {t.get("task_id", ""): week.get(t.get("clndr_id", ""), default_week) for t in tasks}
    three = _udf_three_point(tables, three_point)
    funding = _udf_texts(tables, FUNDING_FIELD)
    cost = _costs(tables)
    uses, resources = _resources(tables, ids, resource_limits)
    starts = {r.get("proj_id", ""): month_of(r.get("plan_start_date")) for r in _rows(tables, "PROJECT")}
    status = _status_date(tables)
    links = _links(tables, ids, hours_of)
    if projects_from == "wbs" and not projects:
        raise ImportProblem("no WBS below the project node (use --projects-from project)")
    activities = []
    for t in tasks:
        key = t.get("task_id", "")
        project = by_wbs.get(t.get("wbs_id", "")) if projects_from == "wbs" else by_proj.get(t.get("proj_id", ""))
        if project is None:
            project = _orphan_project(projects, file)
        try:
            activities.append(_activity(t, ids[key], project, hours_of[key], links.get(key, []), three.get(key),
                                        cost.get(key, 0.0), uses.get(key, []), starts.get(t.get("proj_id", ""), ""),
                                        status, file))
        except ImportProblem as exc:
            raise ImportProblem(f"TASK {t.get('task_code', key)}: {exc}") from None
    kinds = defaultdict(int)
    for row in _rows(tables, "TASKPRED"):
        kinds[LINK_KINDS.get(row.get("pred_type", ""), row.get("pred_type", ""))] += 1
    finish = max((month_of(t.get("early_end_date") or t.get("target_end_date")) for t in tasks), default="") or status
    for t, activity in zip(tasks, activities):
        activity.funding_source = safe_id(funding.get(t.get("task_id", ""), ""), activity.funding_source)
    return ImportedSchedule(file, "XER", [p for p in projects if any(a.project_id == p.project_id for a in activities)],
                            activities, resources, status, max(finish, status), 0, dict(kinds))


def _activity_ids(tasks: list[dict[str, str]], by_proj: dict[str, str]) -> dict[str, str]:
    """task_id -> activity id: the task code, prefixed with the project when codes repeat across projects."""
    codes = [safe_id(t.get("task_code", ""), f"T{t.get('task_id', '')}") for t in tasks]
    clash = len(set(codes)) < len(codes) and len(by_proj) > 1  # codes are unique per project only
    wanted = [f"{by_proj.get(t.get('proj_id', ''), 'P')}.{code}" if clash else code for t, code in zip(tasks, codes)]
    return dict(zip((t.get("task_id", "") for t in tasks), unique_ids(wanted)))


def _orphan_project(projects: list[ImportedProject], file: str) -> str:
    """The project of activities outside every project or top WBS node (made once)."""
    for p in projects:
        if p.project_id == "UNASSIGNED":
            return p.project_id
    projects.append(ImportedProject("UNASSIGNED", "activities outside the file's projects", file))
    return "UNASSIGNED"


def _status_date(tables) -> str:
    """The earliest data date of the file's projects, else the earliest planned start (of projects or activities)."""
    for fields, table in ((("last_recalc_date", "next_data_date"), "PROJECT"), (("plan_start_date",), "PROJECT"),
                          (("act_start_date", "target_start_date", "early_start_date"), "TASK")):
        dates = [month_of(next((r[f] for f in fields if r.get(f)), "")) for r in _rows(tables, table)]
        dates = [d for d in dates if d]
        if dates:
            return min(dates)
    raise ImportProblem("no data date and no planned dates in the file (expected PROJECT.last_recalc_date)")


def _lag_hours_per_week(tables, hours_of, pred: str, succ: str) -> float:
    option = next((r.get("sched_calendar_on_relationship_lag", "") for r in _rows(tables, "SCHEDOPTIONS")), "")
    if option == "rcal_24Hour":
        return FULL_WEEK_HOURS
    if option == "rcal_Successor":
        return hours_of.get(succ, DEFAULT_WEEK_HOURS)
    return hours_of.get(pred, DEFAULT_WEEK_HOURS)


def _links(tables, ids: dict[str, str], hours_of: dict[str, float]) -> dict[str, list[ImportedLink]]:
    """task_id -> its links; a link to an activity not in the file is an ImportProblem."""
    out: dict[str, list[ImportedLink]] = defaultdict(list)
    for row in _rows(tables, "TASKPRED"):
        succ, pred = row.get("task_id", ""), row.get("pred_task_id", "")
        if succ not in ids or pred not in ids:
            raise ImportProblem(f"TASKPRED {row.get('task_pred_id', '')}: links activity {pred} to {succ}, "
                                "not both in the TASK table")
        kind = LINK_KINDS.get(row.get("pred_type", ""))
        if kind is None:
            raise ImportProblem(f"TASKPRED {row.get('task_pred_id', '')}: unknown pred_type {row.get('pred_type')!r}")
        lag = lag_months(_number(row.get("lag_hr_cnt")), _lag_hours_per_week(tables, hours_of, pred, succ))
        out[succ].append(ImportedLink(ids[pred], kind, lag))
    return out


def _costs(tables) -> dict[str, float]:
    """task_id -> budgeted cost: resource assignments plus expenses."""
    cost: dict[str, float] = defaultdict(float)
    for row in _rows(tables, "TASKRSRC") + _rows(tables, "PROJCOST"):
        cost[row.get("task_id", "")] += _number(row.get("target_cost"))
    return cost


def _resources(tables, ids, resource_limits: bool) -> tuple[dict[str, list[tuple[str, float]]], list[ImportedResource]]:
    """task_id -> [(resource id, units)], and the resources with a capacity of at least their largest use."""
    rows = _rows(tables, "RSRC")
    rids = dict(zip((r.get("rsrc_id", "") for r in rows),
                    unique_ids([safe_id(r.get("rsrc_short_name", ""), f"R{r.get('rsrc_id', '')}") for r in rows])))
    capacity = defaultdict(float)
    for rate in _rows(tables, "RSRCRATE"):
        capacity[rate.get("rsrc_id", "")] = max(capacity[rate.get("rsrc_id", "")], _number(rate.get("max_qty_per_hr")))
    uses: dict[str, dict[str, float]] = defaultdict(dict)
    for row in _rows(tables, "TASKRSRC"):
        task, rsrc = row.get("task_id", ""), row.get("rsrc_id", "")
        units = _number(row.get("target_qty_per_hr")) or _number(row.get("remain_qty_per_hr"))
        if task in ids and rsrc in rids and units > 0:
            uses[task][rsrc] = uses[task].get(rsrc, 0.0) + units
    total = defaultdict(float)
    for task_uses in uses.values():
        for rsrc, units in task_uses.items():
            capacity[rsrc] = max(capacity[rsrc], units)
            total[rsrc] += units
    if not resource_limits:
        capacity = total  # never binding: the file's limits are in hours, the plan's in months
    used = {rsrc for task_uses in uses.values() for rsrc in task_uses}
    resources = [ImportedResource(rids[r.get("rsrc_id", "")], r.get("rsrc_name") or rids[r.get("rsrc_id", "")],
                                  round(capacity[r.get("rsrc_id", "")], 6))
                 for r in rows if r.get("rsrc_id", "") in used]
    return ({task: [(rids[r], round(u, 6)) for r, u in task_uses.items()] for task, task_uses in uses.items()},
            resources)


def _activity(t: dict[str, str], aid: str, project: str, week_hours: float, links, three, cost, uses,
              project_start: str, status: str, file: str) -> ImportedActivity:
    planned = _number(t.get("target_drtn_hr_cnt"))
    m = months(planned, week_hours)
    optimistic = pessimistic = None
    if three is not None:
        day = week_hours / 5
        optimistic = min(m, months(three[0] * day, week_hours))
        pessimistic = max(m, months(three[1] * day, week_hours))
    actual_start = month_of(t.get("act_start_date"))
    actual_finish = month_of(t.get("act_end_date")) if actual_start else ""
    earliest = ""
    if not actual_start:
        constraint = next((month_of(t.get(f"cstr_date{n}")) for n in ("", "2")
                           if t.get(f"cstr_type{n}") in START_CONSTRAINTS and t.get(f"cstr_date{n}")), "")
        opening = project_start if not links and project_start > status else ""
        earliest = max(constraint, opening)
    kind = t.get("task_type", "")
    return ImportedActivity(aid, project, t.get("task_name", "") or aid, m, optimistic, pessimistic, links, cost,
                            earliest, actual_start, actual_finish, uses,
                            f"{file} (XER task {t.get('task_code', '')}, {kind}, {planned:g} h)")
