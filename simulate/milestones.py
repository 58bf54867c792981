"""Milestones forecast as events: the month of an activity's start or finish in each iteration.

The engines are not changed: every engine already returns, per iteration and activity, the start and end times
(``simulate.outcomes.Outcomes``). This module runs the same model with the same keyed draws (so iteration i is the
iteration i of the run's simulation.csv) and reads the milestone activities' months from them:

- start month = floor(start) (an activity starts at a month boundary);
- finish month = ceil(end) - 1 (as a project's finish, docs/statistics.md).

A milestone whose sourced actual month is before the status date is fixed at it. Figures: P(on time) = the share
of iterations with the event in or before its deadline; P50/P80/P90 = the smallest month by which at least that
share of iterations had the event (as for projects).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio.milestones import Milestone
from portfolio.model import Portfolio
from portfolio.months import format_month
from scenarios.settings import Settings

from .model import build_model
from .runner import ENGINES, chunk_size, chunks
from .sampling import draws_for

QUANTILES = (50, 80, 90)
COLUMNS = ["milestone_id", "project_id", "activity_id", "event", "deadline", "actual", "p_on_time",
           "month_p50", "month_p80", "month_p90"]


def event_months(portfolio: Portfolio, settings: Settings, milestones: tuple[Milestone, ...],
                 plan_starts: dict[str, int] | None, iterations: int, seed: int, engine: str) -> np.ndarray:
    """(iterations, milestones) absolute months of each milestone's event, iteration by iteration."""
    return _events(portfolio, settings, milestones, plan_starts, iterations, seed, engine)[0]


def _events(portfolio, settings, milestones, plan_starts, iterations, seed, engine):
    """The event months and where the event was not reached within the horizon (its month is then the horizon's
    last, as a project's finish: "then or later")."""
    model = build_model(portfolio, settings, plan_starts)
    index = [model.activity_ids.index(m.activity_id) for m in milestones]
    is_start = np.array([m.event == "start" for m in milestones], dtype=bool)
    out = np.empty((iterations, len(milestones)), dtype=np.int64)
    past = np.zeros((iterations, len(milestones)), dtype=bool)
    for i0, i1 in chunks(iterations, chunk_size(engine, iterations, model.n)):
        draws = draws_for(model, seed, i0, i1)
        outcomes = ENGINES[engine](model, draws)
        start = np.floor(outcomes.start[:, index]).astype(np.int64)
        finish = np.ceil(outcomes.end[:, index]).astype(np.int64) - 1
        out[i0:i1] = np.minimum(np.where(is_start, start, finish), model.horizon - 1) + model.status
        past[i0:i1] = np.where(is_start, outcomes.start[:, index], outcomes.end[:, index]) >= model.horizon
    for k, m in enumerate(milestones):
        if m.actual is not None and m.actual < model.status:
            out[:, k] = m.actual
            past[:, k] = False
    return out, past


def milestone_table(milestones: tuple[Milestone, ...], months: np.ndarray, past: np.ndarray | None = None) \
        -> pd.DataFrame:
    """One row per milestone: P(on time) and the P50/P80/P90 month of its event. ``past``: where the event was not
    reached within the horizon, which is late whatever the deadline (as a project's finish)."""
    n = months.shape[0]
    rows = []
    for k, m in enumerate(milestones):
        on_time = months[:, k] <= m.deadline
        if past is not None:
            on_time &= ~past[:, k]
        column = np.sort(months[:, k])
        rows.append({
            "milestone_id": m.milestone_id, "project_id": m.project_id, "activity_id": m.activity_id,
            "event": m.event, "deadline": format_month(m.deadline),
            "actual": format_month(m.actual) if m.actual is not None else "",
            "p_on_time": float(np.count_nonzero(on_time)) / n,
            **{f"month_p{q}": format_month(int(column[_rank(n, q)])) for q in QUANTILES},
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _rank(n: int, q: int) -> int:
    """0-based index of the smallest sorted value with at least q% of the n values at or below it."""
    return max(0, -(-q * n // 100) - 1)


def forecast(portfolio: Portfolio, settings: Settings, milestones: tuple[Milestone, ...],
             plan_starts: dict[str, int] | None = None, iterations: int | None = None, seed: int | None = None, engine: str | None = None) -> pd.DataFrame:
    """milestones.csv of a run (the scenario's iterations, seed and engine unless given)."""
    sim = settings.simulate
    iterations = sim.iterations if iterations is None else int(iterations)
    seed = sim.seed if seed is None else int(seed)
    months, past = _events(portfolio, settings, milestones, plan_starts, iterations, seed, engine or sim.engine)
    return milestone_table(milestones, months, past)
