"""Synthetic portfolios of any size for the benchmarks: projects x phases, links inside and across projects,
funding caps that bind.

    from benchmarks.synthetic_portfolio import synthetic
    portfolio, settings = synthetic(2000, seed=1)

``synthetic(n_activities)`` builds ``ceil(n / phases)`` projects of ``phases`` activities each (the last one
shorter). Inside a project the phases form a layered network: each phase after the first has one or two
predecessors among the three phases before it (mostly FS, some SS with a lag, some FF with a lag). With
probability ``cross`` a phase also waits (FS) for an earlier phase (a lower phase number) of one of the five
projects before its own: one acyclic network with cross-project links, in which the phase number grows along
every path, so the longest path, and the length of the schedule, do not grow with the number of projects (the
time to simulate then grows with the activities, not with a longer schedule).
Durations are three-point estimates of 3 to 28 months; costs 1 to 30 (亿元) on one of four funding sources.

Funding caps bind: per source and year the cap is ``tightness`` times the source's average yearly need over the
as-soon-as-possible schedule of most-likely durations (which spends more in its first years than on average), so
an as-soon-as-possible plan runs out of money in its busy years and the simulator's funding order decides who waits.
About one risk per ten projects, each delaying a few phases.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments give the same portfolio.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portfolio.model import Portfolio  # noqa: E402
from scenarios.settings import Settings  # noqa: E402
from tests.portfolio_builders import activity, make_portfolio, make_settings, project, risk  # noqa: E402

CATEGORIES = ("aviation", "water", "rail", "metro", "road", "logistics", "health")
SOURCES = ("central", "provincial", "local", "bond")
FIRST_YEAR = 2021
YEARS = 60  # caps for 2021 .. 2080 (past any finish; the simulator's horizon is 50 years)
WINDOW = 5  # cross-project links reach back this many projects: the network does not get longer as it grows


def synthetic(n_activities: int, seed: int = 0, phases: int = 10, cross: float = 0.05, tightness: float = 1.1,
              status: str = "2021-01", deadline: str = "2027-12", **simulate) -> tuple[Portfolio, Settings]:
    """A portfolio of ``n_activities`` activities and the settings to run it (``simulate``: SimulateSettings)."""
    if n_activities < 1 or phases < 1:
        raise ValueError("need at least one activity and one phase per project")
    rng = np.random.default_rng(seed)
    n_projects = math.ceil(n_activities / phases)
    projects, acts = [], []
    ids: list[str] = []
    durations: list[float] = []
    preds_of: list[list[tuple[int, str, int]]] = []  # per activity: (predecessor index, kind, lag)
    for k in range(n_projects):
        pid = f"S{k:05d}"
        year = 2025 + int(rng.integers(0, 6))
        projects.append(project(pid, deadline=f"{year}-12", priority=float(rng.integers(1, 6)),
                                category=CATEGORIES[k % len(CATEGORIES)]))
        first = len(ids)
        count = min(phases, n_activities - first)
        for a in range(count):
            o = float(rng.integers(3, 15))
            m = o + float(rng.integers(0, 6))
            p = m + float(rng.integers(1, 10))
            links: list[tuple[int, str, int]] = []
            if a:
                for b in sorted(set(rng.integers(max(0, a - 3), a, size=int(rng.integers(1, 3))).tolist())):
                    u = rng.random()
                    if u < 0.75:
                        links.append((first + b, "FS", 0))
                    elif u < 0.9:
                        links.append((first + b, "SS", int(rng.integers(1, 7))))
                    else:
                        links.append((first + b, "FF", int(rng.integers(0, 4))))
            if k and a and rng.random() < cross:  # an earlier phase of one of the WINDOW projects before this one
                other = int(rng.integers(max(0, k - WINDOW), k))
                links.append((other * phases + int(rng.integers(0, a)), "FS", 0))
            ids.append(f"{pid}.A{a:02d}")
            durations.append(m)
            preds_of.append(links)
            text = ";".join(ids[i] if kind == "FS" and not lag else f"{ids[i]}:{kind}{lag:+d}" for i, kind, lag
                            in links)
            acts.append(dict(aid=ids[-1], pid=pid, o=o, m=m, p=p, preds=text, cost=float(rng.integers(1, 31)),
                             source=SOURCES[int(rng.integers(0, len(SOURCES)))]))

    # The as-soon-as-possible schedule of most-likely durations (whole months), for the caps.
    start = np.zeros(len(ids))
    end = np.zeros(len(ids))
    for i, links in enumerate(preds_of):
        s = 0.0
        for j, kind, lag in links:
            s = max(s, end[j] + lag if kind == "FS" else start[j] + lag if kind == "SS" else 0.0)
        start[i] = math.ceil(s)
        end[i] = start[i] + durations[i]
        for j, kind, lag in links:
            if kind == "FF":
                end[i] = max(end[i], end[j] + lag)
    years = max(1.0, float(end.max()) / 12.0)
    need = {s: sum(a["cost"] for a in acts if a["source"] == s) / years for s in SOURCES}
    funding = [(FIRST_YEAR + y, s, round(tightness * need[s], 2)) for y in range(YEARS) for s in SOURCES if need[s]]

    activities = [activity(a["aid"], a["pid"], a["o"], a["m"], a["p"], a["preds"], cost=a["cost"], source=a["source"])
                  for a in acts]
    risks = []
    for r in range(max(1, n_projects // 10)):
        hit = tuple(sorted({ids[int(i)] for i in rng.integers(0, len(ids), size=5)}))
        risks.append(risk(f"R{r:04d}", float(rng.uniform(0.05, 0.4)), 1, 3, 8, affects=hit))
    portfolio = make_portfolio(projects, activities, funding, risks)
    return portfolio, make_settings(status=status, deadline=deadline, **simulate)


def describe(portfolio: Portfolio) -> str:
    links = sum(len(a.predecessors) for a in portfolio.activities)
    return (f"{len(portfolio.activities)} activities, {len(portfolio.projects)} projects, {links} links, "
            f"{len(portfolio.risks)} risks, {len({f.source for f in portfolio.funding})} capped sources")


if __name__ == "__main__":
    for size in (int(x) for x in (sys.argv[1:] or ["100"])):
        print(size, describe(synthetic(size)[0]))
