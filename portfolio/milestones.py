"""Milestones: the start or finish of an activity that has its own deadline (docs/data.md, "milestones.csv").

A data folder may hold ``milestones.csv``; a folder without it has no milestones. Each row names an event of one
activity (``start`` or ``finish``), the month it is due by (``deadline``, known since ``known_since``) and, once
it happened, its sourced ``actual`` month. A ``milestone_id`` may repeat with another ``known_since``: the target
as known from that date (like deadlines.csv); a forecast uses the latest version known at its status date. The simulation forecasts each milestone as an event (simulate/milestones.py)
and the backtest can score it like a project.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import ids
from .csvio import Row, Table, read_table
from .errors import InputError
from .load import MONTH, Checker, quoted, version_key
from .model import Activity, Portfolio

FILE = "milestones.csv"
REQUIRED = ("milestone_id", "project_id", "activity_id", "event", "deadline")
OPTIONAL = ("name", "known_since", "actual", "source")
EVENTS = ("start", "finish")


@dataclass(frozen=True)
class Milestone:
    milestone_id: str
    project_id: str
    name: str
    activity_id: str
    event: str  # "start" or "finish"
    deadline: int  # absolute month: on time when the event happens in or before it
    known_since: int | None  # the deadline is known from this month on (None: always)
    actual: int | None  # the month it happened (sourced), None when not yet or not found
    source: str


def load_milestones(data_dir, portfolio: Portfolio) -> tuple[Milestone, ...]:
    """The milestones of ``data_dir`` checked against ``portfolio``; () without the file; InputError on a problem.

    Read and checked as the other data files are (portfolio.csvio, portfolio.load): the same encodings, ids
    normalised and checked (portfolio.ids), months from 1900-01 to 2199-12, every problem at once."""
    path = Path(data_dir) / FILE
    if not path.exists():
        return ()
    table, problems = read_table(str(path))
    c = Checker(problems)
    milestones = []
    if table is not None:
        for column in REQUIRED:
            if column not in table.columns:
                c.add(table.file, 1, 0, f"missing required column {quoted(column)}")
        if not c.problems:
            projects = {p.project_id for p in portfolio.projects}
            activities = {a.activity_id: a for a in portfolio.activities}
            seen: dict[str, int] = {}
            for row in table.rows:
                m = _milestone(c, table, row, projects, activities, seen)
                if m is not None:
                    milestones.append(m)
    if c.problems:
        raise InputError(sorted(c.problems, key=lambda p: (p.file, p.line, p.column)))
    return tuple(milestones)


def _milestone(c: Checker, t: Table, row: Row, projects: set[str], activities: dict[str, Activity],
               seen: dict[str, int]) -> Milestone | None:
    """One checked row, or None after adding its problems."""
    before = len(c.problems)
    mid = c.identifier(t, row, "milestone_id", "a milestone id such as M-HJW1-TUNNEL")
    c.unique(t, row, "milestone_id", version_key(mid, t.value(row, "known_since")), seen)
    pid = c.text(t, row, "project_id", "a project_id from projects.csv")
    if pid:
        pid = c.reference(t, row, "project_id", pid)
        if pid not in projects:
            c.at(t, row, "project_id", f"unknown project {quoted(pid)}{ids.suggestion(pid, projects)}")
    aid = c.text(t, row, "activity_id", "an activity_id from activities.csv")
    activity = None
    if aid:
        aid = c.reference(t, row, "activity_id", aid)
        activity = activities.get(aid)
        if activity is None:
            c.at(t, row, "activity_id", f"unknown activity {quoted(aid)}{ids.suggestion(aid, activities)}")
        elif pid and activity.project_id != pid:
            c.at(t, row, "activity_id", f"{quoted(aid)} belongs to project {quoted(activity.project_id)}, "
                                        f"not {quoted(pid)}")
    event = c.text(t, row, "event", "start or finish")
    if event:
        event = c.reference(t, row, "event", event)
        if event not in EVENTS:
            c.at(t, row, "event", f"expected start or finish, got {quoted(event)}")
    deadline = c.month(t, row, "deadline") if c.text(t, row, "deadline", MONTH) else None
    known_since = c.month(t, row, "known_since")
    actual = c.month(t, row, "actual")
    if activity is not None and event in EVENTS and actual is not None:
        recorded = activity.actual_start if event == "start" else activity.actual_finish
        if recorded is not None and recorded != actual:
            c.at(t, row, "actual", f"differs from the {event} of {quoted(aid)} in activities.csv")
    if len(c.problems) > before:
        return None
    return Milestone(mid, pid, t.value(row, "name"), aid, event, deadline, known_since, actual, t.value(row, "source"))


def milestones_at(milestones: tuple[Milestone, ...], status: int | None) -> tuple[Milestone, ...]:
    """What a forecast at the start of month ``status`` may see (None: everything, as the data stand): per milestone
    id (in file order) its latest version whose deadline is known by then, with an actual month in or after
    ``status`` blanked (docs/backtest.md, "What the model may see"). A milestone with no version known is absent."""
    latest: dict[str, Milestone] = {}
    for m in milestones:
        if status is not None and m.known_since is not None and m.known_since > status:
            continue
        held = latest.get(m.milestone_id)
        if held is None or _since(m) >= _since(held):
            latest[m.milestone_id] = m
    return tuple(m if status is None or m.actual is None or m.actual < status else _without_actual(m)
                 for m in latest.values())


def _since(m: Milestone) -> int:
    return -1 if m.known_since is None else m.known_since


def _without_actual(m: Milestone) -> Milestone:
    from dataclasses import replace
    return replace(m, actual=None)
