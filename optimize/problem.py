"""From a Portfolio and a scenario's Settings to the integer data of the model core.

Conventions (docs/optimizer.md):

- time: months from the status month (``portfolio.network``); whole-month
  durations from ``portfolio.distributions.whole_months`` (most likely, or the
  scenario's percentile);
- done activities keep their actual dates, running ones their actual start and
  end at max(start + d, 1); forced starts of the scenario fix the start of an
  activity that has not started;
- money in integer units of ``MONEY_UNIT`` 亿元: each activity spends
  cost / (end - start) per month of work, rounded UP to a unit; caps are rounded
  DOWN; so a plan the model accepts keeps every cap in exact arithmetic;
- a (year, source) pair without a row in funding.csv has no limit; the status
  year's cap is prorated to the months left in it; months before t = 0 are
  history and do not count;
- priorities become integer weights: multiplied by the smallest power of ten
  (up to 10^4) that makes them all whole (else rounded at 10^4).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from portfolio.distributions import whole_months
from portfolio.errors import InputError, InputProblem
from portfolio.funding import effective_cap
from portfolio.model import Portfolio
from portfolio.network import DONE, FUTURE, RUNNING, Network
from scenarios.settings import Settings

from . import core

MONEY_UNIT = 1e-6  # 亿元 per model unit (100 CNY)


@dataclass(frozen=True)
class BudgetInfo:
    year: int
    source: str
    cap: float  # the cap of funding.csv, 亿元
    effective_cap: float  # prorated for the status year
    months: int  # months of the year from t = 0 on


@dataclass(frozen=True)
class Built:
    problem: core.Problem
    durations: np.ndarray  # whole-month estimate per activity (what the optimizer assumes)
    start_fixed: np.ndarray  # bool per activity: start fixed (started or forced)
    forced: dict  # activity index -> relative forced start (activities not started)
    budgets: tuple[BudgetInfo, ...]  # parallel to problem.budgets
    weight_scale: int


def estimate_durations(portfolio: Portfolio, settings: Settings) -> np.ndarray:
    opt = settings.optimize
    return np.array(
        [whole_months(a.optimistic, a.most_likely, a.pessimistic, opt.duration_percentile, settings.simulate.distribution)
         for a in portfolio.activities],
        dtype=np.int64,
    )


def weight_scale(priorities) -> int:
    for scale in (1, 10, 100, 1000, 10000):
        if all(abs(p * scale - round(p * scale)) < 1e-9 * max(1.0, p * scale) for p in priorities):
            return scale
    return 10000


def span(network: Network, durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of activities that have started; the duration estimate from 0 for the others."""
    start = np.where(network.state == FUTURE, 0, network.fixed_start)
    end = np.where(
        network.state == DONE,
        network.fixed_end,
        np.where(network.state == RUNNING, np.maximum(network.fixed_start + durations, 1), durations),
    )
    return start.astype(np.int64), end.astype(np.int64)


def build(portfolio: Portfolio, settings: Settings, network: Network, durations: np.ndarray) -> Built:
    status = network.status
    n = network.n
    opt = settings.optimize
    fixed_s, fixed_e = span(network, durations)
    started = network.state != FUTURE

    forced: dict[int, int] = {}
    for aid, month in settings.forced_starts:
        try:
            i = portfolio.activity_index(aid)
        except KeyError:
            where = settings.scenario_file or "scenario"
            raise InputError(InputProblem(where, 0, 0, f"forced start for unknown activity {aid!r}")) from None
        if not started[i]:
            forced[i] = month - status

    core_duration = np.where(started, fixed_e - fixed_s, durations).astype(np.int64)
    fixed_start = tuple(
        int(fixed_s[i]) if started[i] else (forced[i] if i in forced else None) for i in range(n)
    )
    links = tuple(
        (int(p), int(s), int(k), int(lag))
        for p, s, k, lag in zip(network.pred, network.succ, network.kind, network.lag)
    )

    # resources
    resources = []
    if portfolio.resources:
        rid = {r.resource_id: k for k, r in enumerate(portfolio.resources)}
        units = np.zeros((len(portfolio.resources), n))
        for i, a in enumerate(portfolio.activities):
            for r, q in a.resources:
                if r not in rid:
                    raise InputError(InputProblem("activities", 0, 0, f"{a.activity_id}: unknown resource {r!r}"))
                units[rid[r], i] += q
        # integer units: the smallest power of ten that makes capacity and demands whole (else 10^3, conservative)
        for k, r in enumerate(portfolio.resources):
            values = [r.capacity, *units[k]]
            scale = weight_scale([abs(v) for v in values if v]) if any(values) else 1
            scale = min(scale, 1000)
            cap = math.floor(r.capacity * scale + 1e-9)
            demand = tuple(int(math.ceil(q * scale - 1e-9)) if q > 0 else 0 for q in units[k])
            resources.append(core.Resource(r.resource_id, cap, demand))

    # budgets
    budgets, infos = [], []
    if opt.funding and portfolio.funding:
        src_members: dict[str, list[int]] = {}
        for i, a in enumerate(portfolio.activities):
            src_members.setdefault(a.funding_source, []).append(i)
        for f in sorted(portfolio.funding, key=lambda f: (f.year, f.source)):
            effective = effective_cap(f.cap, f.year, status)
            if effective is None:
                continue
            a, b = max(0, 12 * f.year - status), 12 * (f.year + 1) - status
            rates = []
            for i in src_members.get(f.source, []):
                cost = portfolio.activities[i].cost
                months = int(core_duration[i])
                if cost <= 0 or months <= 0 or network.state[i] == DONE:
                    continue
                rates.append((i, int(math.ceil(cost / months / MONEY_UNIT - 1e-9))))
            budgets.append(core.Budget(f"{f.year}-{f.source}", a, b, int(math.floor(effective / MONEY_UNIT + 1e-9)), tuple(rates)))
            infos.append(BudgetInfo(f.year, f.source, f.cap, effective, b - a))

    scale = weight_scale(network.priority.tolist())
    groups = tuple(
        core.Group(
            network.project_ids[k],
            tuple(int(i) for i in np.flatnonzero(network.project_of == k)),
            int(network.deadline_end[k]),
            max(1, int(round(network.priority[k] * scale))),
        )
        for k in range(len(network.project_ids))
    )

    # a horizon that any feasible plan fits in: after the last capped year, one activity after another
    t0 = max([0, *(bud.end for bud in budgets), *(network.earliest.tolist()), *(v for v in forced.values()),
              *(int(fixed_e[i]) for i in range(n) if started[i])])
    pos_lag = np.zeros(n, dtype=np.int64)
    for p, s, k, lag in links:
        pos_lag[s] = max(pos_lag[s], lag)
    free = [i for i in range(n) if fixed_start[i] is None or i in forced]
    horizon = int(t0 + sum(int(core_duration[i]) + int(pos_lag[i]) for i in free) + 1)
    horizon = max(horizon, max((int(v) + int(core_duration[i]) for i, v in forced.items()), default=0) + 1)

    problem = core.Problem(
        duration=tuple(int(x) for x in core_duration),
        release=tuple(int(x) for x in network.earliest),
        fixed_start=fixed_start,
        links=links,
        resources=tuple(resources),
        budgets=tuple(budgets),
        groups=groups,
        horizon=horizon,
        hard_due=bool(opt.hard_deadlines),
    )
    return Built(problem, durations, np.array([f is not None for f in fixed_start]), forced, tuple(infos), scale)
