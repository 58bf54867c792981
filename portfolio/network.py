"""The portfolio seen from a status date: months counted from it, actuals split off.

Time t = 0 is the first instant of the status month. An activity whose
``actual_start`` is before the status month has started (its start is fixed,
possibly negative); one whose ``actual_finish`` is before the status month too is
done (its end is fixed). Actual dates in or after the status month are not known
yet at the status date and are ignored here. Links into an activity that has
started are history and no longer bind.

An activity that starts at month s and lasts d months ends at t = s + d; its
finish month, as people read it, is ceil(s + d) - 1. An FS link with lag 0 lets
the successor start at the first month boundary after the predecessor's end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .graph import topological_order
from .model import Portfolio

FUTURE, RUNNING, DONE = 0, 1, 2
KIND_CODES = {"FS": 0, "SS": 1, "FF": 2, "SF": 3}


@dataclass(frozen=True)
class Network:
    status: int  # absolute month of t = 0
    activity_ids: tuple[str, ...]  # portfolio order
    project_ids: tuple[str, ...]  # portfolio order
    project_of: np.ndarray  # activity -> project index
    pred: np.ndarray  # per binding link: predecessor index
    succ: np.ndarray  # per binding link: successor index
    kind: np.ndarray  # per binding link: KIND_CODES value
    lag: np.ndarray  # per binding link: months
    order: tuple[int, ...]  # a topological order of all activities
    state: np.ndarray  # FUTURE / RUNNING / DONE
    earliest: np.ndarray  # earliest start month (>= 0) of activities not started
    fixed_start: np.ndarray  # start of started activities (else 0)
    fixed_end: np.ndarray  # end of done activities (else 0)
    deadline_end: np.ndarray  # per project: t by which it must end (deadline month + 1)
    priority: np.ndarray  # per project
    cost: np.ndarray  # per activity, 亿元
    source_of: np.ndarray  # per activity: index into sources
    sources: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.activity_ids)

    def month_of(self, t: float) -> int:
        """Absolute month in which continuous time t falls."""
        return self.status + math.floor(t)

    def finish_month(self, end: float) -> int:
        """Absolute finish month of an activity that ends at t = end."""
        return self.status + math.ceil(end) - 1

    def elapsed(self) -> np.ndarray:
        """Months each running activity had worked by the status date (0 for the others)."""
        return np.where(self.state == RUNNING, -self.fixed_start, 0)


def build_network(portfolio: Portfolio, status: int, default_deadline: int) -> Network:
    acts = portfolio.activities
    index = {a.activity_id: i for i, a in enumerate(acts)}
    project_index = {p.project_id: k for k, p in enumerate(portfolio.projects)}
    n = len(acts)

    state = np.zeros(n, dtype=np.int8)
    fixed_start = np.zeros(n, dtype=np.int64)
    fixed_end = np.zeros(n, dtype=np.int64)
    earliest = np.zeros(n, dtype=np.int64)
    for i, a in enumerate(acts):
        if a.actual_start is not None and a.actual_start < status:
            fixed_start[i] = a.actual_start - status
            if a.actual_finish is not None and a.actual_finish < status:
                state[i] = DONE
                fixed_end[i] = a.actual_finish - status + 1
            else:
                state[i] = RUNNING
        elif a.earliest_start is not None:
            earliest[i] = max(0, a.earliest_start - status)

    all_edges = [(index[link.predecessor], j) for j, a in enumerate(acts) for link in a.predecessors]
    order = topological_order(n, all_edges)
    if order is None:
        raise ValueError("the activity network has a cycle")
    _imply_progress(acts, index, order, state, fixed_start, fixed_end)

    binding = [
        (index[link.predecessor], j, KIND_CODES[link.kind], link.lag)
        for j, a in enumerate(acts)
        if state[j] == FUTURE
        for link in a.predecessors
    ]

    sources = tuple(sorted({a.funding_source for a in acts}))
    source_index = {s: k for k, s in enumerate(sources)}
    links = np.array(binding, dtype=np.int64).reshape(-1, 4)
    return Network(
        status=status,
        activity_ids=tuple(a.activity_id for a in acts),
        project_ids=tuple(p.project_id for p in portfolio.projects),
        project_of=np.array([project_index[a.project_id] for a in acts], dtype=np.int64),
        pred=links[:, 0].copy(),
        succ=links[:, 1].copy(),
        kind=links[:, 2].copy(),
        lag=links[:, 3].copy(),
        order=tuple(order),
        state=state,
        earliest=earliest,
        fixed_start=fixed_start,
        fixed_end=fixed_end,
        deadline_end=np.array(
            [(p.deadline if p.deadline is not None else default_deadline) - status + 1 for p in portfolio.projects],
            dtype=np.int64,
        ),
        priority=np.array([p.priority for p in portfolio.projects], dtype=float),
        cost=np.array([a.cost for a in acts], dtype=float),
        source_of=np.array([source_index[a.funding_source] for a in acts], dtype=np.int64),
        sources=sources,
    )


def _imply_progress(acts, index, order, state, fixed_start, fixed_end) -> None:
    """Progress that the actual dates of successors imply, for activities without dates of their own.

    Data often dates the works but not the approvals before them. When a
    successor started (or finished) before the status date, its links say what
    must have happened before: an FS predecessor ended by start_j - L, an FF one
    by end_j - L (j done), an SS one started by start_j - L, an SF one by
    end_j - L (j done). Only bounds before t = 0 imply anything. Such a
    predecessor is taken as done (or started) at that latest date; a done one
    without an actual start is given its most-likely duration before its end,
    and a started one is done if its most-likely duration has run out by t = 0.
    Actual dates in the data are never changed. Successors are visited first, so
    the implication runs back along whole chains.
    """
    for j in reversed(order):
        if state[j] == FUTURE:
            continue
        for link in acts[j].predecessors:
            i = index[link.predecessor]
            kind, lag = link.kind, link.lag
            if kind in ("FS", "FF"):
                if kind == "FF" and state[j] != DONE:
                    continue
                end = (fixed_start[j] if kind == "FS" else fixed_end[j]) - lag
                if end > 0 or state[i] == DONE:
                    continue
                if state[i] == FUTURE:
                    fixed_start[i] = end - max(1, math.floor(acts[i].most_likely + 0.5))
                state[i] = DONE
                fixed_end[i] = max(end, fixed_start[i] + 1)
            else:
                if kind == "SF" and state[j] != DONE:
                    continue
                start = (fixed_start[j] if kind == "SS" else fixed_end[j]) - lag
                if start >= 0 or state[i] != FUTURE:
                    continue
                fixed_start[i] = start
                end = start + max(1, math.floor(acts[i].most_likely + 0.5))
                state[i] = DONE if end <= 0 else RUNNING
                fixed_end[i] = end if end <= 0 else 0
