"""Progress at a status date: the one rule that says what is finished, running or not started, and when.

The network (what the optimizer and the simulator start from) and the backtest's truth (what
happened) both call ``progress_at``, so one fact never gets two readings. The rule is stated
once, in docs/simulation.md ("Progress at the status date"); in short: actual dates before the
status month are known; an FS/FF dependant that started/finished finishes its predecessor (an
SS/SF one only starts it); a project whose final activities (none of the project depends on
them) have all finished is finished in every activity; nothing is inferred from durations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .graph import topological_order
from .model import Activity, Portfolio

FUTURE, RUNNING, DONE = 0, 1, 2  # not started, running, finished
ACTUAL, DEPENDANT, PROJECT = "actual", "dependant", "project"  # how a finish is known


@dataclass(frozen=True)
class ActivityProgress:
    """One activity's progress at the status date; months are absolute, None when not known/applicable."""

    state: int  # FUTURE / RUNNING / DONE
    start: int | None  # actual or inferred start month (None when not started)
    finish: int | None  # actual or inferred finish month (None unless DONE)
    finish_by: str = ""  # ACTUAL / DEPENDANT / PROJECT when DONE

    @property
    def inferred(self) -> bool:
        """Finished by rule 2 or 3, not by an actual finish."""
        return self.state == DONE and self.finish_by != ACTUAL


def progress_at(portfolio: Portfolio, status: int | None) -> tuple[ActivityProgress, ...]:
    """Each activity's progress (portfolio order) at the start of month ``status``; None: every actual date known."""
    acts = portfolio.activities
    index = {a.activity_id: i for i, a in enumerate(acts)}
    dependants = _dependants(acts, index)
    order = topological_order(len(acts), [(i, j) for i, out in enumerate(dependants) for j, _, _ in out])
    if order is None:
        raise ValueError("the activity network has a cycle")
    known = tuple(_known(a, status) for a in acts)
    finals = _final_activities(acts, dependants)
    completed: dict[int, int] = {}  # activity -> finish month from its project's completion (rule 3)
    for _ in range(len(acts) + 1):
        progress = _apply_links(acts, known, dependants, order, completed, status)
        found = _project_completions(acts, finals, progress)
        if found == completed:
            return progress
        completed = found
    raise AssertionError("progress inference did not settle")  # cannot happen: every round only adds


def project_finish(portfolio: Portfolio, progress: tuple[ActivityProgress, ...], project_id: str) -> int | None:
    """The month a project finished (latest finish of its activities) when all of them are finished, else None."""
    mine = [p for a, p in zip(portfolio.activities, progress) if a.project_id == project_id]
    if not mine or any(p.state != DONE for p in mine):
        return None
    return max(p.finish for p in mine)


def _known(a: Activity, status: int | None) -> tuple[int | None, int | None]:
    """(start, finish) of the actual dates known at ``status`` (rule 1)."""
    before = (lambda m: m is not None) if status is None else (lambda m: m is not None and m < status)
    start = a.actual_start if before(a.actual_start) else None
    finish = a.actual_finish if start is not None and before(a.actual_finish) else None
    return start, finish


def _dependants(acts, index) -> list[list[tuple[int, str, int]]]:
    """Per activity: (dependant, link kind, lag) for each link out of it."""
    out: list[list[tuple[int, str, int]]] = [[] for _ in acts]
    for j, a in enumerate(acts):
        for link in a.predecessors:
            out[index[link.predecessor]].append((j, link.kind, link.lag))
    return out


def _final_activities(acts, dependants) -> dict[str, list[int]]:
    """Per project: its activities that no activity of the same project depends on."""
    finals: dict[str, list[int]] = {}
    for i, a in enumerate(acts):
        if not any(acts[j].project_id == a.project_id for j, _, _ in dependants[i]):
            finals.setdefault(a.project_id, []).append(i)
    return finals


def _apply_links(acts, known, dependants, order, completed, status) -> tuple[ActivityProgress, ...]:
    """Rules 1, 2 and 4 (with rule 3's finishes in ``completed``), successors first so that chains are followed."""
    progress: list[ActivityProgress | None] = [None] * len(acts)
    for i in reversed(order):
        finish_bounds, start_bounds = _bounds(dependants[i], progress, status)
        progress[i] = _decide(acts[i], known[i], finish_bounds, start_bounds, completed.get(i))
    return tuple(progress)


def _bounds(out, progress, status) -> tuple[list[int], list[int]]:
    """(finish bounds, start bounds) that the dependants' progress puts on an activity (rule 2), before ``status``."""
    finish, start = [], []
    for j, kind, lag in out:
        p = progress[j]
        if kind == "FS" and p.state != FUTURE:
            finish.append(p.start - lag - 1)
        elif kind == "FF" and p.state == DONE:
            finish.append(p.finish - lag)
        elif kind == "SS" and p.state != FUTURE:
            start.append(p.start - lag)
        elif kind == "SF" and p.state == DONE:
            start.append(p.finish + 1 - lag)
    if status is not None:
        finish = [m for m in finish if m < status]
        start = [m for m in start if m < status]
    return finish, start


def _decide(a: Activity, known, finish_bounds, start_bounds, completed: int | None) -> ActivityProgress:
    """One activity's progress from its known dates, the bounds on it and its project's completion (rules 1-4)."""
    start, finish = known
    if finish is not None:
        return ActivityProgress(DONE, start, finish, ACTUAL)
    if finish_bounds or completed is not None:
        end = min(finish_bounds + ([completed] if completed is not None else []))
        if start is None:
            start = end + 1 - max(1, math.floor(a.most_likely + 0.5))
            if start_bounds:
                start = min(start, min(start_bounds))
        return ActivityProgress(DONE, start, max(end, start), DEPENDANT if finish_bounds else PROJECT)
    if start is None and start_bounds:
        start = min(start_bounds)
    return ActivityProgress(RUNNING if start is not None else FUTURE, start, None)


def _project_completions(acts, finals, progress) -> dict[int, int]:
    """Rule 3: activity -> finish month, for the activities of projects whose final activities are all finished."""
    completed: dict[int, int] = {}
    for project_id, last in finals.items():
        if any(progress[i].state != DONE for i in last):
            continue
        month = max(progress[i].finish for i in last)
        for i, a in enumerate(acts):
            if a.project_id == project_id and progress[i].finish_by in ("", PROJECT):
                completed[i] = month
    return completed


def data_as_of(portfolio: Portfolio) -> int | None:
    """The data's as-of date: the latest actual date (start or finish) anywhere in it; None when there is none."""
    dates = [d for a in portfolio.activities for d in (a.actual_start, a.actual_finish) if d is not None]
    return max(dates) if dates else None


@dataclass(frozen=True)
class StatedWork:
    """A running activity's work left as the data states it: its three-point duration scaled by ``scale`` is the
    work it had left at the end of the data's as-of month, ``since`` months before the status date."""

    scale: float
    since: int


def stated_work(portfolio: Portfolio, status: int,
                progress: tuple[ActivityProgress, ...]) -> tuple[StatedWork | None, ...]:
    """Per activity (portfolio order): the stated work left of a running one, when known at ``status`` (the data's
    as-of month is before it), else None. ``remaining_months`` R is the most-likely work left (scale R / most
    likely); ``percent_complete`` c leaves 1 - c/100 of the whole duration."""
    as_of = data_as_of(portfolio)
    if as_of is None or as_of >= status:
        return (None,) * len(portfolio.activities)
    return tuple(_stated(a, status - as_of - 1) if p.state == RUNNING else None
                 for a, p in zip(portfolio.activities, progress))


def _stated(a: Activity, since: int) -> StatedWork | None:
    if a.remaining_months is not None:
        return StatedWork(a.remaining_months / a.most_likely, since)  # most_likely > 0 (the loader checks)
    if a.percent_complete is not None:
        return StatedWork(1.0 - a.percent_complete / 100.0, since)
    return None
