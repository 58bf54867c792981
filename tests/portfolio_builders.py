"""Small portfolios built straight from the model dataclasses, and a random one (``synthetic_portfolio``), for
the tests and the benchmarks (no tests here; the benchmarks import it as ``tests.portfolio_builders``).

Months are written ``YYYY-MM`` as in the data files; links as in activities.csv
(``"A;B:SS+2;C:FF"``).
"""
from __future__ import annotations

import re

import numpy as np

from portfolio.model import Activity, FundingCap, Link, Portfolio, Project, Risk
from portfolio.months import parse_month
from scenarios.settings import Settings, SimulateSettings, Stoppage

_LINK = re.compile(r"^(?P<id>[^:]+)(?::(?P<kind>FS|SS|FF|SF)(?P<lag>[+-]\d+)?)?$")


def links(text: str) -> tuple[Link, ...]:
    out = []
    for part in filter(None, (x.strip() for x in text.split(";"))):
        m = _LINK.match(part)
        if not m:
            raise ValueError(f"bad link {part!r}")
        out.append(Link(m.group("id"), m.group("kind") or "FS", int(m.group("lag") or 0)))
    return tuple(out)


def _month(text):
    return None if text is None else parse_month(text)


def project(pid: str, deadline: str | None = None, priority: float = 1.0, category: str = "other",
            name_zh: str | None = None) -> Project:
    return Project(pid, name_zh or f"项目{pid}", pid, category, "省发展改革委", priority, _month(deadline), 0.0, "estimate")


def activity(aid: str, pid: str, o: float, m: float | None = None, p: float | None = None, preds: str = "",
             cost: float = 0.0, source: str = "central", earliest: str | None = None,
             actual_start: str | None = None, actual_finish: str | None = None) -> Activity:
    m = o if m is None else m
    p = m if p is None else p
    return Activity(aid, pid, aid, float(o), float(m), float(p), links(preds), float(cost), source,
                    _month(earliest), _month(actual_start), _month(actual_finish))


def risk(rid: str, probability: float, o: float, m: float | None = None, p: float | None = None,
         affects: tuple[str, ...] = ()) -> Risk:
    m = o if m is None else m
    p = m if p is None else p
    return Risk(rid, f"风险{rid}", probability, float(o), float(m), float(p), tuple(affects))


def make_portfolio(projects, activities, funding=(), risks=()) -> Portfolio:
    """``funding``: (year, source, cap) triples."""
    return Portfolio(tuple(projects), tuple(activities), tuple(FundingCap(*f) for f in funding), tuple(risks))


def make_settings(status: str = "2021-01", deadline: str = "2025-12", stoppages=(), forced_starts=(),
                  **simulate) -> Settings:
    """``stoppages``: (start YYYY-MM, months, categories) triples; ``simulate``: SimulateSettings fields."""
    return Settings(
        name="test",
        status_date=parse_month(status),
        deadline=parse_month(deadline),
        simulate=SimulateSettings(**simulate),
        stoppages=tuple(Stoppage(parse_month(s), n, tuple(c)) for s, n, c in stoppages),
        forced_starts=tuple((aid, parse_month(month)) for aid, month in forced_starts),
    )


def synthetic_portfolio(n_projects: int = 10, per_project: int = 10, seed: int = 0,
                        funded: bool = True) -> tuple[Portfolio, Settings]:
    """A random portfolio of ``n_projects`` x ``per_project`` activities in layered networks, with funding
    caps near the spending need, a few risks and some mixed link types: a stand-in for the bundled data."""
    rng = np.random.default_rng(seed)
    cats = ("aviation", "water", "rail", "metro", "road")
    sources = ("central", "provincial", "local", "bond")
    projects, acts = [], []
    for k in range(n_projects):
        pid = f"P{k:02d}"
        projects.append(project(pid, deadline="2025-12", priority=float(1 + k % 5), category=cats[k % len(cats)]))
        for a in range(per_project):
            o = float(rng.integers(3, 15))
            m = o + float(rng.integers(0, 6))
            p = m + float(rng.integers(1, 10))
            preds = []
            if a > 0:
                for b in sorted(set(rng.integers(max(0, a - 3), a, size=int(rng.integers(1, 3))).tolist())):
                    kind = rng.choice(["", "", "", ":SS+2", ":FF+1"])
                    preds.append(f"{pid}.A{b:02d}{kind}")
            acts.append(activity(f"{pid}.A{a:02d}", pid, o, m, p, ";".join(preds),
                                 cost=float(rng.integers(1, 30)), source=sources[(k + a) % len(sources)]))
    funding = []
    if funded:
        for year in range(2021, 2036):
            for s in sources:
                funding.append((year, s, 60.0))
    risks = [risk(f"R{r}", 0.2 + 0.1 * r, 1, 3, 8, affects=tuple(a.activity_id for a in acts[r::7]))
             for r in range(5)]
    return make_portfolio(projects, acts, funding, risks), make_settings()
