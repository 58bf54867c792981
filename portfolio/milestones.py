"""Milestones: the start or finish of an activity that has its own deadline (docs/data.md, "milestones.csv").

A data folder may hold ``milestones.csv``; a folder without it has no milestones. Each row names an event of one
activity (``start`` or ``finish``), the month it is due by (``deadline``, known since ``known_since``) and, once
it happened, its sourced ``actual`` month. A ``milestone_id`` may repeat with another ``known_since``: the target
as known from that date (like deadlines.csv); a forecast uses the latest version known at its status date. The simulation forecasts each milestone as an event (simulate/milestones.py)
and the backtest can score it like a project.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, InputProblem
from .model import Portfolio
from .months import parse_month

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
    """The milestones of ``data_dir`` checked against ``portfolio``; () without the file; InputError on a problem."""
    path = Path(data_dir) / FILE
    if not path.is_file():
        return ()
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise InputError(InputProblem(str(path), 0, 0, "empty file (expected a header line)"))
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(InputProblem(str(path), 1, 0, f"missing column {missing[0]!r}"))
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    problems: list[InputProblem] = []
    milestones = []
    seen: set[tuple[str, str]] = set()
    for line, row in rows:
        m = _milestone(str(path), header, line, row, portfolio, seen, problems)
        if m is not None:
            milestones.append(m)
    if problems:
        raise InputError(problems)
    return tuple(milestones)


def _milestone(file: str, header: list[str], line: int, row: list[str], portfolio: Portfolio,
               seen: set[str], problems: list[InputProblem]) -> Milestone | None:
    """One checked row, or None after adding its problems."""
    col = {name: k for k, name in enumerate(header)}
    before = len(problems)

    def value(name: str) -> str:
        k = col.get(name)
        return row[k].strip() if k is not None and k < len(row) else ""

    def bad(name: str, message: str) -> None:
        problems.append(InputProblem(file, line, col[name] + 1, f"{name}: {message}"))

    def month(name: str, required: bool) -> int | None:
        text = value(name)
        if not text:
            if required:
                bad(name, "expected a month as YYYY-MM, got an empty value")
            return None
        try:
            return parse_month(text)
        except ValueError as e:
            bad(name, str(e))
            return None

    mid, pid, aid, event = value("milestone_id"), value("project_id"), value("activity_id"), value("event")
    version = (mid, value("known_since"))
    if not mid:
        bad("milestone_id", "empty (expected an id)")
    elif version in seen:
        bad("milestone_id", f"{mid!r} is given twice with the same known_since")
    seen.add(version)
    if pid not in {p.project_id for p in portfolio.projects}:
        bad("project_id", f"unknown project {pid!r}")
    activity = next((a for a in portfolio.activities if a.activity_id == aid), None)
    if activity is None:
        bad("activity_id", f"unknown activity {aid!r}")
    elif pid and activity.project_id != pid:
        bad("activity_id", f"{aid!r} belongs to project {activity.project_id!r}, not {pid!r}")
    if event not in EVENTS:
        bad("event", f"expected start or finish, got {event!r}")
    deadline = month("deadline", True)
    known_since = month("known_since", False) if "known_since" in col else None
    actual = month("actual", False) if "actual" in col else None
    if activity is not None and event in EVENTS and actual is not None:
        recorded = activity.actual_start if event == "start" else activity.actual_finish
        if recorded is not None and recorded != actual:
            bad("actual", f"differs from the {event} of {aid!r} in activities.csv")
    if len(problems) > before:
        return None
    return Milestone(mid, pid, value("name"), aid, event, deadline, known_since, actual, value("source"))


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
