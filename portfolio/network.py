"""The portfolio seen from a status date: months counted from it, actuals split off.

Time t = 0 is the first instant of the status month. What has finished, is
running or has not started, and when, is decided by ``portfolio.progress`` (the
one progress rule, also used for the backtest's truth): a started activity's
start is fixed (possibly negative), a finished one's end too. Links into an
activity that has started are history and no longer bind.

An activity that starts at month s and lasts d months ends at t = s + d; its
finish month, as people read it, is ceil(s + d) - 1. An FS link with lag 0 lets
the successor start at the first month boundary after the predecessor's end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .graph import topological_order
from .links import LinkKind
from .model import Portfolio
from .progress import DONE, FUTURE, RUNNING, progress_at  # noqa: F401 (the states are used from here too)


@dataclass(frozen=True)
class Network:
    status: int  # absolute month of t = 0
    activity_ids: tuple[str, ...]  # portfolio order
    project_ids: tuple[str, ...]  # portfolio order
    project_of: np.ndarray  # activity -> project index
    pred: np.ndarray  # per binding link: predecessor index
    succ: np.ndarray  # per binding link: successor index
    kind: np.ndarray  # per binding link: its LinkKind code
    lag: np.ndarray  # per binding link: months
    order: tuple[int, ...]  # a topological order of all activities
    state: np.ndarray  # FUTURE / RUNNING / DONE
    earliest: np.ndarray  # earliest start month (>= 0) of activities not started
    fixed_start: np.ndarray  # start of started activities (else 0)
    fixed_end: np.ndarray  # end of done activities (else 0)
    deadline: np.ndarray  # per project: its deadline month (absolute), resolved here once (see ``resolve_deadline``)
    priority: np.ndarray  # per project
    cost: np.ndarray  # per activity, 亿元
    source_of: np.ndarray  # per activity: index into sources
    sources: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.activity_ids)

    @property
    def deadline_end(self) -> np.ndarray:
        """Per project: t by which it must end (deadline month + 1)."""
        return self.deadline - self.status + 1

    def month_of(self, t: float) -> int:
        """Absolute month in which continuous time t falls."""
        return self.status + math.floor(t)

    def finish_month(self, end: float) -> int:
        """Absolute finish month of an activity that ends at t = end."""
        return self.status + math.ceil(end) - 1

    def elapsed(self) -> np.ndarray:
        """Months each running activity had worked by the status date (0 for the others)."""
        return np.where(self.state == RUNNING, -self.fixed_start, 0)


def resolve_deadline(deadline: int | None, default_deadline: int) -> int:
    """A project's deadline: its own, else the scenario's (``None`` in projects.csv means the scenario's).

    The one place the fallback is applied; everything downstream reads ``Network.deadline``.
    """
    return default_deadline if deadline is None else deadline


def build_network(portfolio: Portfolio, status: int, default_deadline: int) -> Network:
    acts = portfolio.activities
    index = {a.activity_id: i for i, a in enumerate(acts)}
    project_index = {p.project_id: k for k, p in enumerate(portfolio.projects)}
    n = len(acts)

    progress = progress_at(portfolio, status)
    state = np.array([p.state for p in progress], dtype=np.int8)
    fixed_start = np.array([p.start - status if p.start is not None else 0 for p in progress], dtype=np.int64)
    fixed_end = np.array([p.finish - status + 1 if p.finish is not None else 0 for p in progress], dtype=np.int64)
    earliest = np.array([max(0, a.earliest_start - status) if s == FUTURE and a.earliest_start is not None else 0
                         for a, s in zip(acts, state)], dtype=np.int64)

    all_edges = [(index[link.predecessor], j) for j, a in enumerate(acts) for link in a.predecessors]
    order = topological_order(n, all_edges)
    if order is None:
        raise ValueError("the activity network has a cycle")

    binding = [
        (index[link.predecessor], j, int(LinkKind[link.kind]), link.lag)
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
        deadline=np.array([resolve_deadline(p.deadline, default_deadline) for p in portfolio.projects], dtype=np.int64),
        priority=np.array([p.priority for p in portfolio.projects], dtype=float),
        cost=np.array([a.cost for a in acts], dtype=float),
        source_of=np.array([source_index[a.funding_source] for a in acts], dtype=np.int64),
        sources=sources,
    )
