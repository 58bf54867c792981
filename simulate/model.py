"""What every simulation engine shares: the portfolio prepared once per run.

``SimModel`` is plain data (numpy arrays, tuples, dicts of ints), built once from
the portfolio, the scenario settings and the plan's starts, so that the SimPy
reference engine and the fast engine execute exactly the same model.
The rules it encodes are written in docs/simulation.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portfolio.funding import effective_caps
from portfolio.links import LinkKind
from portfolio.model import Portfolio
from portfolio.months import year_of
from portfolio.network import DONE, FUTURE, RUNNING, build_network
from portfolio.progress import progress_at, stated_work
from scenarios.settings import Settings

from .execution import HELD_SHARE, early_bound, short_phase_optimistic
from .keyed import keys

BLOCK = 1024  # iterations per sampling block (docs/simulation.md, "Draws")
HORIZON = 600  # months after the status date at which an iteration is cut off
FS, SS, FF, SF = LinkKind.FS, LinkKind.SS, LinkKind.FF, LinkKind.SF  # codes of the one definition


@dataclass(frozen=True, eq=False)
class SimModel:
    status: int  # absolute month of t = 0
    horizon: int
    distribution: str  # "triangular" or "pert"
    correlation: float  # rho of the common category factor
    carry_over: bool
    held_share: float  # chance that a project is held to its deadline (simulate.execution; 0 without the rule)
    # activities (portfolio order)
    activity_ids: tuple[str, ...]
    project_of: np.ndarray  # activity -> project index
    category_of: np.ndarray  # activity -> index into categories
    o: np.ndarray
    m: np.ndarray
    p: np.ndarray
    state: np.ndarray  # FUTURE / RUNNING / DONE
    fixed_start: np.ndarray  # start (t) of started activities
    fixed_end: np.ndarray  # end (t) of done activities
    elapsed: np.ndarray  # months a running activity had worked by t = 0 (float)
    # a running activity's work left: its total duration conditioned on exceeding ``run_elapsed`` months, from the
    # three-point ``run_o/m/p``: o, m, p and elapsed, or for stated progress, the scaled ones and the months since
    run_o: np.ndarray
    run_m: np.ndarray
    run_p: np.ndarray
    run_elapsed: np.ndarray
    stated: np.ndarray  # bool: a running activity with stated progress (portfolio.progress.stated_work)
    planned: np.ndarray  # planned start (t >= 0) of activities not started: the plan's, else forced, else 0
    plan_bound: np.ndarray  # max(planned, earliest start): no start before it
    cost: np.ndarray
    source_of: np.ndarray  # activity -> index into sources
    # projects (portfolio order)
    project_ids: tuple[str, ...]
    project_names: tuple[str, ...]
    deadline: np.ndarray  # per project: latest finish month on time, relative to status (month - status)
    members: tuple[np.ndarray, ...]  # per project: its activities, in the order of their ids
    categories: tuple[str, ...]  # sorted category names of the portfolio's projects
    # binding links, in activities.csv order (successor by successor, predecessors as listed)
    link_pred: np.ndarray
    link_succ: np.ndarray
    link_kind: np.ndarray
    link_lag: np.ndarray
    incoming: tuple[tuple[tuple[int, int, int, int], ...], ...]  # per activity: (link, pred, kind, lag)
    traced: np.ndarray  # bool: predecessor of an FS link with a negative lag (its work left is traced)
    # money
    sources: tuple[str, ...]
    funding_order: np.ndarray  # activity indices, first paid first
    funding_rank: np.ndarray  # activity -> position in funding_order
    pool0: np.ndarray  # per source: pool at t = 0 (inf = unlimited)
    refills: tuple[tuple[int, np.ndarray], ...]  # (month k of a 1 January, cap per source (inf = unlimited))
    stopped: dict  # month k -> frozenset of activities doing no work that month
    # risks (register order)
    risk_ids: tuple[str, ...]
    risk_names: tuple[str, ...]
    risk_prob: np.ndarray
    risk_o: np.ndarray
    risk_m: np.ndarray
    risk_p: np.ndarray
    affects: np.ndarray  # bool, risks x activities (done activities never affected)
    month_lo: int  # smallest relative finish month that can occur (histogram offset)
    # keys of the random draws (simulate.keyed.stable_hash of each id): activities, categories, risks
    activity_keys: np.ndarray
    category_keys: np.ndarray
    project_keys: np.ndarray  # one "held to the deadline" draw per project (simulate.execution)
    risk_keys: np.ndarray

    @property
    def n(self) -> int:
        return len(self.activity_ids)

    @property
    def n_projects(self) -> int:
        return len(self.project_ids)

    @property
    def n_risks(self) -> int:
        return len(self.risk_ids)

    @property
    def n_months(self) -> int:
        """Length of a finish-month histogram: relative months month_lo .. horizon - 1."""
        return self.horizon - self.month_lo


def build_model(portfolio: Portfolio, settings: Settings, plan_starts: dict[str, int] | None = None,
                horizon: int = HORIZON) -> SimModel:
    """Prepare ``portfolio`` under ``settings``; ``plan_starts`` maps activity ids to absolute start months."""
    sim = settings.simulate
    status = settings.status_date
    net = build_network(portfolio, status, settings.deadline)
    acts = portfolio.activities
    n = net.n

    project_cat = {p.project_id: p.category for p in portfolio.projects}
    categories = tuple(sorted({p.category for p in portfolio.projects}))
    category_index = {c: k for k, c in enumerate(categories)}

    # Planned starts: the plan's, else the scenario's forced start, else 0 (ASAP).
    forced = dict(settings.forced_starts)
    planned = np.zeros(n, dtype=np.int64)
    for j, a in enumerate(acts):
        if net.state[j] != FUTURE:
            continue
        if plan_starts is not None:
            month = plan_starts.get(a.activity_id)
        else:
            month = forced.get(a.activity_id)
        if month is not None:
            planned[j] = max(0, month - status)
    plan_bound = early_bound(planned, net.earliest)  # a planned start is a target (simulate.execution)

    # Funding order: higher priority, then earlier planned start (started: actual start), then the activity id
    # (not the file order: reordering rows of activities.csv changes nothing).
    priority = np.array([portfolio.project(a.project_id).priority for a in acts], dtype=float)
    start_key = np.where(net.state == FUTURE, planned, net.fixed_start)
    order = sorted(range(n), key=lambda j: (-priority[j], int(start_key[j]), acts[j].activity_id))
    funding_order = np.array(order, dtype=np.int64)
    funding_rank = np.empty(n, dtype=np.int64)
    funding_rank[funding_order] = np.arange(n)

    # Pools: the status year's cap prorated to the months left in it, then each 1 January that year's cap.
    caps = effective_caps(portfolio, status) if sim.funding else {}  # no cap: every pool unlimited
    sources = net.sources
    first_year = year_of(status)
    pool0 = np.array([caps.get((first_year, s), np.inf) for s in sources], dtype=float)
    refills = []
    year = first_year + 1
    while year * 12 - status < horizon:
        refills.append((year * 12 - status,
                        np.array([caps.get((year, s), np.inf) for s in sources], dtype=float)))
        year += 1

    # Stoppages: months (relative) in which the activities of the listed categories (or all) do no work.
    stopped: dict[int, set] = {}
    for stop in settings.stoppages:
        cats = set(stop.categories)
        who = {j for j, a in enumerate(acts) if not cats or project_cat[a.project_id] in cats}
        for month in range(stop.start, stop.start + stop.months):
            k = month - status
            if 0 <= k < horizon and who:
                stopped.setdefault(k, set()).update(who)

    incoming: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n)]
    traced = np.zeros(n, dtype=bool)
    for li in range(len(net.succ)):
        i, j, kind, lag = int(net.pred[li]), int(net.succ[li]), int(net.kind[li]), int(net.lag[li])
        incoming[j].append((li, i, kind, lag))
        if kind == FS and lag < 0:
            traced[i] = True

    risks = portfolio.risks
    affects = np.zeros((len(risks), n), dtype=bool)
    for r, risk in enumerate(risks):
        for aid in risk.affects:
            j = portfolio.activity_index(aid)
            if net.state[j] != DONE:
                affects[r, j] = True

    elapsed = net.elapsed().astype(float)
    run_o, run_m, run_p, run_elapsed, stated = _running_work(portfolio, status, elapsed)

    fixed_end = net.fixed_end.astype(float)
    done_ends = fixed_end[net.state == DONE]
    month_lo = int(min(-1, (done_ends.min() - 1) if len(done_ends) else -1))
    # Each project's activities by id: the first of them among ties ends the project (its driving path's start).
    members = tuple(np.array(sorted(np.flatnonzero(net.project_of == k), key=lambda j: acts[j].activity_id),
                             dtype=np.int64) for k in range(len(portfolio.projects)))

    def f(values):
        return np.array(values, dtype=float)

    return SimModel(
        status=status,
        horizon=horizon,
        distribution=sim.distribution,
        correlation=float(sim.correlation),
        carry_over=bool(sim.carry_over),
        held_share=HELD_SHARE if sim.deadline_pressure else 0.0,
        activity_ids=net.activity_ids,
        project_of=net.project_of,
        category_of=np.array([category_index[project_cat[a.project_id]] for a in acts], dtype=np.int64),
        o=short_phase_optimistic([a.optimistic for a in acts], [a.most_likely for a in acts],
                                 [a.pessimistic for a in acts]),
        m=f([a.most_likely for a in acts]),
        p=f([a.pessimistic for a in acts]),
        state=net.state,
        fixed_start=net.fixed_start.astype(float),
        fixed_end=fixed_end,
        elapsed=elapsed,
        run_o=run_o,
        run_m=run_m,
        run_p=run_p,
        run_elapsed=run_elapsed,
        stated=stated,
        planned=planned,
        plan_bound=plan_bound,
        cost=net.cost,
        source_of=net.source_of,
        project_ids=net.project_ids,
        project_names=tuple(p.name_zh for p in portfolio.projects),
        deadline=net.deadline - status,
        members=members,
        categories=categories,
        link_pred=net.pred,
        link_succ=net.succ,
        link_kind=net.kind,
        link_lag=net.lag,
        incoming=tuple(tuple(x) for x in incoming),
        traced=traced,
        sources=sources,
        funding_order=funding_order,
        funding_rank=funding_rank,
        pool0=pool0,
        refills=tuple(refills),
        stopped={k: frozenset(v) for k, v in sorted(stopped.items())},
        risk_ids=tuple(r.risk_id for r in risks),
        risk_names=tuple(r.name for r in risks),
        risk_prob=f([r.probability for r in risks]),
        risk_o=f([r.optimistic for r in risks]),
        risk_m=f([r.most_likely for r in risks]),
        risk_p=f([r.pessimistic for r in risks]),
        affects=affects,
        month_lo=month_lo,
        activity_keys=keys("activity", net.activity_ids),
        category_keys=keys("category", categories),
        project_keys=keys("project", net.project_ids),
        risk_keys=keys("risk", (r.risk_id for r in risks)),
    )


def _running_work(portfolio: Portfolio, status: int, elapsed: np.ndarray) -> tuple[np.ndarray, ...]:
    """(run_o, run_m, run_p, run_elapsed, stated): the activities' own three points and elapsed months, except where
    the data states a running activity's progress: then the three points scaled, and the months since the statement."""
    acts = portfolio.activities
    o, m, p = (np.array([getattr(a, k) for a in acts], dtype=float) for k in ("optimistic", "most_likely", "pessimistic"))
    run_elapsed = elapsed.copy()
    stated = np.zeros(len(acts), dtype=bool)
    for j, work in enumerate(stated_work(portfolio, status, progress_at(portfolio, status))):
        if work is not None:
            o[j], m[j], p[j] = o[j] * work.scale, m[j] * work.scale, p[j] * work.scale
            run_elapsed[j] = work.since
            stated[j] = True
    return o, m, p, run_elapsed, stated


__all__ = ["BLOCK", "HORIZON", "FS", "SS", "FF", "SF", "FUTURE", "RUNNING", "DONE", "SimModel", "build_model"]
