"""Small portfolios built straight from the model dataclasses, for the optimizer and checker tests.

(No tests here; tests/test_optimize.py and tests/test_checker.py import these helpers.)
"""
from __future__ import annotations

import re

from portfolio.model import Activity, FundingCap, Link, Portfolio, Project, Resource
from portfolio.months import parse_month
from scenarios.settings import OptimizeSettings, Settings

M = parse_month

_LINK = re.compile(r"^(?P<id>[^:]+)(?::(?P<kind>FS|SS|FF|SF)(?P<lag>[+-]\d+)?)?$")


def link(text: str) -> Link:
    m = _LINK.match(text)
    return Link(m.group("id"), m.group("kind") or "FS", int(m.group("lag") or 0))


def act(aid: str, project: str, d: float, preds: str = "", cost: float = 0.0, source: str = "provincial",
        earliest: str | None = None, actual_start: str | None = None, actual_finish: str | None = None,
        resources: tuple = (), three_point: tuple | None = None) -> Activity:
    o, m, p = three_point or (d, d, d)
    return Activity(
        activity_id=aid,
        project_id=project,
        name=f"phase {aid}",
        optimistic=o,
        most_likely=m,
        pessimistic=p,
        predecessors=tuple(link(x) for x in preds.split(";") if x),
        cost=cost,
        funding_source=source,
        earliest_start=M(earliest) if earliest else None,
        actual_start=M(actual_start) if actual_start else None,
        actual_finish=M(actual_finish) if actual_finish else None,
        resources=tuple(resources),
    )


def proj(pid: str, priority: float = 1.0, deadline: str | None = None, category: str = "water") -> Project:
    return Project(pid, f"项目{pid}", f"Project {pid}", category, "省发展改革委", priority,
                   M(deadline) if deadline else None, 0.0, "estimate")


def portfolio(projects, activities, funding=(), resources=()) -> Portfolio:
    return Portfolio(
        projects=tuple(projects),
        activities=tuple(activities),
        funding=tuple(FundingCap(y, s, c) for y, s, c in funding),
        resources=tuple(Resource(r, r, c) for r, c in resources),
    )


def settings(status: str = "2021-01", deadline: str = "2025-12", forced=(), **optimize) -> Settings:
    optimize.setdefault("time_limit_s", 10.0)
    return Settings(
        name="test",
        status_date=M(status),
        deadline=M(deadline),
        optimize=OptimizeSettings(**optimize),
        forced_starts=tuple((a, M(m)) for a, m in forced),
    )


def starts(pf: Portfolio, plan) -> dict[str, str]:
    """activity id -> start month as YYYY-MM."""
    from portfolio.months import format_month

    return {a.activity_id: format_month(plan.network.status + int(s)) for a, s in zip(pf.activities, plan.start)}


def finishes(pf: Portfolio, plan) -> dict[str, str]:
    from portfolio.months import format_month

    return {a.activity_id: format_month(plan.network.status + int(e) - 1) for a, e in zip(pf.activities, plan.end)}
