"""What was known at a status date: the portfolio a forecast made then may see (docs/backtest.md).

``known_at(portfolio, status)`` applies every date the data gives for when a figure became
known, so that a forecast at status T sees exactly what was known by T:

- actual dates in or after the status month are blanked (``progress.progress_at`` reads the
  rest), and so is the stated progress unless the data's as-of month is before the status;
- an activity row whose ``known_since`` is after T is dropped, with every link into and out
  of it and every risk's hold on it (the row dates the activity and its links);
- a link written ``ID@YYYY-MM`` in ``predecessors`` is dropped before that month (a link that
  became known later than both of its activities);
- an ``earliest_start`` whose ``earliest_start_known_since`` is after T is blanked;
- a risk takes its latest version (rows of the same ``risk_id``) known by T, and vanishes
  when none is;
- a project's deadline is the latest entry of its history (deadlines.csv) known by T; when
  the project has a history but no entry is known by T it has no target of its own (the
  scenario's deadline applies). A project without a history keeps its deadline;
- a project none of whose activities is known by T is dropped.

A figure known since month M is known at status M (the status is the start of month M).
"""
from __future__ import annotations

import dataclasses

from .model import Activity, Portfolio, Project, Risk
from .progress import data_as_of


def is_known(known_since: int | None, status: int) -> bool:
    """Whether a figure known since ``known_since`` (None: always) is known at the start of month ``status``."""
    return known_since is None or known_since <= status


def known_at(portfolio: Portfolio, status: int) -> Portfolio:
    """The portfolio as known at the start of month ``status`` (the rules of the module docstring)."""
    as_of = data_as_of(portfolio)
    stated_known = as_of is not None and as_of < status
    kept = {a.activity_id for a in portfolio.activities if is_known(a.known_since, status)}
    activities = tuple(_activity_at(a, status, kept, stated_known) for a in portfolio.activities
                       if a.activity_id in kept)
    projects = tuple(_project_at(p, portfolio, status) for p in portfolio.projects
                     if any(a.project_id == p.project_id for a in activities))
    risks, earlier = _risks_at(portfolio, status, kept)
    deadlines = tuple(d for d in portfolio.deadlines if is_known(d.known_since, status))
    known = dataclasses.replace(portfolio, projects=projects, activities=activities, risks=risks,
                                deadlines=deadlines, earlier_risks=earlier)
    return portfolio if known == portfolio else known


def deadline_at(portfolio: Portfolio, project_id: str, status: int | None) -> int | None:
    """A project's deadline as known at ``status`` (None: today's, the projects.csv one); None: the scenario's."""
    project = portfolio.project(project_id)
    history = [d for d in portfolio.deadlines if d.project_id == project_id]
    if status is None or not history:
        return project.deadline
    known = [d for d in history if is_known(d.known_since, status)]
    if not known:
        return None
    return max(known, key=lambda d: -1 if d.known_since is None else d.known_since).deadline


def _activity_at(a: Activity, status: int, kept: set[str], stated_known: bool) -> Activity:
    start = a.actual_start if a.actual_start is not None and a.actual_start < status else None
    finish = a.actual_finish if start is not None and a.actual_finish is not None and a.actual_finish < status else None
    changes = {}
    if (start, finish) != (a.actual_start, a.actual_finish):
        changes.update(actual_start=start, actual_finish=finish)
    if not stated_known and (a.remaining_months, a.percent_complete) != (None, None):
        changes.update(remaining_months=None, percent_complete=None)
    links = tuple(link for link in a.predecessors if link.predecessor in kept and is_known(link.known_since, status))
    if links != a.predecessors:
        changes["predecessors"] = links
    if a.earliest_start is not None and not is_known(a.earliest_start_known_since, status):
        changes["earliest_start"] = None
    return dataclasses.replace(a, **changes) if changes else a


def _project_at(p: Project, portfolio: Portfolio, status: int) -> Project:
    deadline = deadline_at(portfolio, p.project_id, status)
    return p if deadline == p.deadline else dataclasses.replace(p, deadline=deadline)


def _risks_at(portfolio: Portfolio, status: int, kept: set[str]) -> tuple[tuple[Risk, ...], tuple[Risk, ...]]:
    """(risks, their earlier versions) known at ``status``: per risk id (in the order of the current risks) its latest
    version known by then, restricted to the known activities."""
    risks, earlier = [], []
    for current in portfolio.risks:
        known = [r for r in portfolio.earlier_risks + (current,)
                 if r.risk_id == current.risk_id and is_known(r.known_since, status)]
        if not known:
            continue
        latest = max(known, key=lambda v: -1 if v.known_since is None else v.known_since)
        earlier.extend(r for r in known if r is not latest)
        affects = tuple(aid for aid in latest.affects if aid in kept)
        if affects:
            risks.append(latest if affects == latest.affects else dataclasses.replace(latest, affects=affects))
    return tuple(risks), tuple(earlier)
