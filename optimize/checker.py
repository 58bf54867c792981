"""An independent check of a plan, written from the data and the written rules, not from the model.

It reads the Portfolio itself (links as the planner wrote them, actual dates,
earliest starts, funding caps, resources) and the scenario's settings, and
recomputes everything in floats: whole-month durations, the link rules, the
money each activity spends in each calendar year, resource use in each month.
It shares no code with the CP-SAT model, so a modelling mistake there shows up
here. It returns a list of violations in the planner's words; empty = valid.

Rules checked (months relative to the status month, t = 0 its first instant):

- starts and ends are whole months; end - start is the whole-month duration
  (``portfolio.distributions.whole_months``), except a running activity, which
  ends at max(start + duration, 1);
- activities done or running by the status date (their actual dates, and the
  progress those imply, as ``portfolio.network`` writes it down) keep their
  start (and a done one its end); the others start at t >= 0, not
  before their earliest start, and exactly at a forced start of the scenario;
- links into activities not started: FS start_j >= end_i + L, SS start_j >=
  start_i + L, FF end_j >= end_i + L, SF end_j >= start_i + L;
- funding caps: per (year, source) with a cap, the spend from t = 0 on
  (cost / (end - start) per month of work) within that calendar year is at most
  the cap (the status year's cap prorated to its months left; computed here on
  purpose, not by ``portfolio.funding`` which the optimizer and the simulator
  share, so that a mistake in that rule shows up here);
- resources: in every month from t = 0 on, the units of the activities at work
  are at most the capacity;
- hard deadlines (if the scenario asks for them): each project's finish month
  is not after its deadline month.
"""
from __future__ import annotations

import math
from collections import defaultdict

from portfolio.distributions import whole_months
from portfolio.months import format_month, year_of
from portfolio.model import Portfolio
from portfolio.network import DONE, FUTURE, build_network
from scenarios.settings import Settings

TOLERANCE = 1e-6  # relative, on money and resource units


def _month(status: int, t: float) -> str:
    return format_month(status + int(math.floor(t)))


def check_plan(portfolio: Portfolio, settings: Settings, plan) -> list[str]:
    """Violations of the plan's ``start``/``end`` (relative months, portfolio order); empty when valid."""
    return check_starts(portfolio, settings, plan.start, plan.end)


def check_starts(portfolio: Portfolio, settings: Settings, start, end) -> list[str]:
    status = settings.status_date
    opt = settings.optimize
    acts = portfolio.activities
    out: list[str] = []
    if len(start) != len(acts) or len(end) != len(acts):
        return [f"the plan has {len(start)} starts and {len(end)} ends for {len(acts)} activities"]
    s = [float(x) for x in start]
    e = [float(x) for x in end]
    index = {a.activity_id: i for i, a in enumerate(acts)}
    forced = {aid: month for aid, month in settings.forced_starts}

    # What the status date fixes (actual dates, and the progress they imply) is the network's written rule.
    network = build_network(portfolio, status, settings.deadline)
    started = [network.state[i] != FUTURE for i in range(len(acts))]
    for i, a in enumerate(acts):
        aid = a.activity_id
        if s[i] != round(s[i]) or e[i] != round(e[i]):
            out.append(f"{aid}: start {s[i]} or end {e[i]} is not a whole month")
            continue
        d = whole_months(a.optimistic, a.most_likely, a.pessimistic, opt.duration_percentile, settings.simulate.distribution)
        if started[i]:
            actual_start = status + int(network.fixed_start[i])
            if s[i] != network.fixed_start[i]:
                out.append(f"{aid}: started {format_month(actual_start)} (actual), but the plan starts it {_month(status, s[i])}")
            if network.state[i] == DONE:
                if e[i] != network.fixed_end[i]:
                    out.append(f"{aid}: finished {format_month(status + int(network.fixed_end[i]) - 1)} (actual), "
                               f"but the plan ends it in {_month(status, e[i] - 1)}")
            elif e[i] != max(s[i] + d, 1):
                out.append(f"{aid}: running since {format_month(actual_start)} for {d} months should end at month {max(s[i] + d, 1):.0f}, the plan says {e[i]:.0f}")
            continue
        if e[i] - s[i] != d:
            out.append(f"{aid}: lasts {e[i] - s[i]:.0f} months in the plan, the estimate says {d}")
        if s[i] < 0:
            out.append(f"{aid}: has not started by the status date {format_month(status)} but the plan starts it {_month(status, s[i])}")
        if a.earliest_start is not None and status + s[i] < a.earliest_start:
            out.append(f"{aid}: starts {_month(status, s[i])}, before its earliest start {format_month(a.earliest_start)}")
        if aid in forced and status + s[i] != forced[aid]:
            out.append(f"{aid}: the scenario forces its start to {format_month(forced[aid])}, the plan starts it {_month(status, s[i])}")
        for link in a.predecessors:
            p = index.get(link.predecessor)
            if p is None:
                out.append(f"{aid}: unknown predecessor {link.predecessor}")
                continue
            lag = link.lag
            if link.kind == "FS":
                ok, what = s[i] >= e[p] + lag, f"start {_month(status, s[i])} must be at least {lag:+d} months after {link.predecessor} ends (finish {_month(status, e[p] - 1)})"
            elif link.kind == "SS":
                ok, what = s[i] >= s[p] + lag, f"start {_month(status, s[i])} must be at least {lag:+d} months after {link.predecessor} starts ({_month(status, s[p])})"
            elif link.kind == "FF":
                ok, what = e[i] >= e[p] + lag, f"finish {_month(status, e[i] - 1)} must be at least {lag:+d} months after {link.predecessor} finishes ({_month(status, e[p] - 1)})"
            elif link.kind == "SF":
                ok, what = e[i] >= s[p] + lag, f"finish {_month(status, e[i] - 1)} must come at least {lag:+d} months after {link.predecessor} starts ({_month(status, s[p])}) (end >= start + lag)"
            else:
                ok, what = False, f"unknown link type {link.kind!r}"
            if not ok:
                out.append(f"{aid}: {link.kind} link from {link.predecessor}: {what}")

    # hard deadlines
    if opt.hard_deadlines:
        for k, proj in enumerate(portfolio.projects):
            members = [i for i, a in enumerate(acts) if a.project_id == proj.project_id]
            if not members:
                continue
            deadline = int(network.deadline[k])  # the data's deadline, else the scenario's: the network's rule
            finish = status + int(max(e[i] for i in members)) - 1
            if finish > deadline:
                out.append(f"{proj.project_id}: finishes {format_month(finish)}, after its hard deadline {format_month(deadline)}")

    # funding
    if opt.funding and portfolio.funding:
        spend: dict[tuple[int, str], float] = defaultdict(float)
        for i, a in enumerate(acts):
            months = e[i] - s[i]
            if a.cost <= 0 or months <= 0:
                continue
            rate = a.cost / months
            for t in range(max(0, int(s[i])), int(e[i])):
                spend[(year_of(status + t), a.funding_source)] += rate
        status_year, left = year_of(status), 12 - status % 12
        for f in portfolio.funding:
            if f.year < status_year:
                continue
            cap = f.cap * left / 12 if f.year == status_year else f.cap
            used = spend.get((f.year, f.source), 0.0)
            if used > cap + TOLERANCE * max(1.0, abs(cap)):
                note = f" (prorated to {left} months)" if f.year == status_year and left < 12 else ""
                out.append(f"funding {f.year} {f.source}: the plan spends {used:.4f} 亿元, the cap is {cap:.4f}{note}")

    # resources
    if portfolio.resources:
        capacity = {r.resource_id: r.capacity for r in portfolio.resources}
        usage: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for i, a in enumerate(acts):
            for rid, units in a.resources:
                if rid not in capacity:
                    out.append(f"{a.activity_id}: uses unknown resource {rid}")
                    continue
                for t in range(max(0, int(s[i])), int(e[i])):
                    usage[rid][t] += units
        for rid, per_month in usage.items():
            for t in sorted(per_month):
                if per_month[t] > capacity[rid] + TOLERANCE * max(1.0, capacity[rid]):
                    out.append(f"resource {rid}: {per_month[t]:g} units at work in {_month(status, t)}, capacity {capacity[rid]:g}")
    return out


def check_rcpsp(duration, successors, capacity, demand, start) -> list[str]:
    """Precedence (end_i <= start_j) and per-period resource use of a PSPLIB schedule; empty when valid."""
    out = []
    n = len(duration)
    if len(start) != n:
        return [f"{len(start)} starts for {n} jobs"]
    for i in range(n):
        if start[i] < 0:
            out.append(f"job {i + 1} starts at {start[i]} < 0")
        for j in successors[i]:
            if start[i] + duration[i] > start[j]:
                out.append(f"job {j + 1} starts at {start[j]}, before job {i + 1} ends at {start[i] + duration[i]}")
    horizon = max((start[i] + duration[i] for i in range(n)), default=0)
    for k, cap in enumerate(capacity):
        use = [0] * (horizon + 1)
        for i in range(n):
            for t in range(start[i], start[i] + duration[i]):
                use[t] += demand[i][k]
        for t, u in enumerate(use):
            if u > cap:
                out.append(f"resource {k + 1}: {u} units in period {t}, capacity {cap}")
    return out
