"""Why no plan fits, in the planner's words.

Two steps. First, direct checks that need no solver, each with its evidence:
forced starts that contradict the status date, earliest starts or links; work
already committed (running activities, forced starts) that alone breaks a
funding cap or a resource; an activity that needs more of a resource than
exists; a hard deadline that the chain of links alone cannot meet (the chain is
named, with its dates). Second, when the checks find nothing, the model is
solved again with penalised slack: on every funding cap (the least extra money,
per year and source, that makes a plan possible), and, if that is not enough,
on the hard deadlines (the fewest months late that the resources allow).
"""
from __future__ import annotations

import numpy as np

from portfolio.errors import PortfolioError
from portfolio.links import LinkKind
from portfolio.model import Portfolio
from portfolio.months import format_month
from portfolio.network import Network
from scenarios.settings import Settings

from . import core
from .problem import Built


class Infeasible(PortfolioError):
    """No plan fits the scenario; the message says why in the planner's words (several lines)."""

    exit_code = 1  # a finding about the scenario, not a malformed input


class NoPlanFound(Infeasible):
    """The time limit ran out before a plan, or a proof that none exists, was found."""


def _fmt(x: float) -> str:
    return f"{x:,.2f}"


def _forward(problem: core.Problem):
    """Early starts with the reason for each: ('release',), ('fixed',), ('link', k) or ('zero',)."""
    order = core.order_of(problem)
    incoming: list[list[int]] = [[] for _ in range(problem.n)]
    for k, (p, s, kind, lag) in enumerate(problem.links):
        incoming[s].append(k)
    d = problem.duration
    es = np.zeros(problem.n, dtype=np.int64)
    why: list[tuple] = [("zero",)] * problem.n
    for j in order:
        if problem.fixed_start[j] is not None:
            es[j], why[j] = problem.fixed_start[j], ("fixed",)
            continue
        start, reason = 0, ("zero",)
        if problem.release[j] > 0:
            start, reason = problem.release[j], ("release",)
        for k in incoming[j]:
            p, _, kind, lag = problem.links[k]
            b = core.link_bound(kind, int(es[p]), int(es[p]) + d[p], lag, d[j])
            if b > start:
                start, reason = b, ("link", k)
        es[j], why[j] = start, reason
    return es, why


class Explainer:
    def __init__(self, portfolio: Portfolio, settings: Settings, network: Network, built: Built):
        self.portfolio = portfolio
        self.settings = settings
        self.network = network
        self.built = built
        self.problem = built.problem
        self.status = network.status
        self.ids = network.activity_ids

    def month(self, t: int) -> str:
        return format_month(self.status + int(t))

    # ------------------------------------------------------------------ chains

    def chain(self, j: int, es, why) -> list[int]:
        path = [j]
        while why[path[-1]][0] == "link":
            path.append(self.problem.links[why[path[-1]][1]][0])
        return path[::-1]

    def describe_chain(self, path: list[int], es, why) -> str:
        d = self.problem.duration
        parts = []
        for i in path:
            parts.append(f"{self.ids[i]} {self.month(es[i])}..{self.month(es[i] + d[i] - 1)} ({d[i]} mo)")
        first = path[0]
        a = self.portfolio.activities[first]
        if why[first][0] == "release":
            origin = f"{self.ids[first]} may not start before its earliest start {format_month(a.earliest_start)}"
        elif why[first][0] == "fixed":
            if self.network.state[first] != 0:
                origin = f"{self.ids[first]} started {format_month(a.actual_start)} (actual)"
            else:
                origin = f"the scenario forces {self.ids[first]} to start {self.month(es[first])}"
        else:
            origin = f"{self.ids[first]} starts at the status date {self.month(0)}"
        return f"{origin}; then " + " -> ".join(parts)

    # ------------------------------------------------------------------ direct checks

    def direct(self) -> list[str]:
        p = self.problem
        reasons: list[str] = []
        # forced starts
        for i, t in sorted(self.built.forced.items()):
            a = self.portfolio.activities[i]
            if t < 0:
                reasons.append(f"The scenario forces {a.activity_id} to start {self.month(t)}, before the status date {self.month(0)}.")
            if a.earliest_start is not None and self.status + t < a.earliest_start:
                reasons.append(f"The scenario forces {a.activity_id} to start {self.month(t)}, before its earliest start {format_month(a.earliest_start)}.")
        es, why = _forward(p)
        d = p.duration
        for k, (pi, sj, kind, lag) in enumerate(p.links):
            if p.fixed_start[sj] is None:
                continue
            b = core.link_bound(kind, int(es[pi]), int(es[pi]) + d[pi], lag, d[sj])
            if b > p.fixed_start[sj]:
                kind_name = LinkKind(kind).name
                reasons.append(
                    f"The scenario forces {self.ids[sj]} to start {self.month(p.fixed_start[sj])}, but its {kind_name}"
                    f"{lag:+d} link from {self.ids[pi]} allows {self.month(b)} at the earliest: "
                    + self.describe_chain(self.chain(pi, es, why), es, why) + "."
                )
        # resources
        for res in p.resources:
            cap = res.capacity
            for i, q in enumerate(res.demand):
                if q > cap:
                    reasons.append(f"{self.ids[i]} needs {self._units(res, q)} of {res.name}, but only {self._units(res, cap)} exist.")
            fixed = [i for i in range(p.n) if p.fixed_start[i] is not None and res.demand[i] > 0]
            if fixed:
                horizon = max(p.fixed_start[i] + d[i] for i in fixed)
                for t in range(0, max(0, horizon)):
                    at_work = [i for i in fixed if p.fixed_start[i] <= t < p.fixed_start[i] + d[i]]
                    use = sum(res.demand[i] for i in at_work)
                    if use > cap:
                        reasons.append(
                            f"In {self.month(t)} the work already committed ({', '.join(self.ids[i] for i in at_work)}) needs "
                            f"{self._units(res, use)} of {res.name}; capacity {self._units(res, cap)}."
                        )
                        break
        # committed money
        for b, info in zip(p.budgets, self.built.budgets):
            used, who = 0, []
            for i, rate in b.rate:
                if p.fixed_start[i] is None:
                    continue
                s, e = p.fixed_start[i], p.fixed_start[i] + d[i]
                overlap = min(e, b.end) - max(s, b.start)
                if overlap > 0:
                    used += rate * overlap
                    who.append(i)
            if used > b.cap:
                money = self._committed_money(b, who)
                reasons.append(
                    f"{info.year} {info.source}: the work already committed ({self._who(who)}) needs {_fmt(money)} 亿元, "
                    f"the cap is {_fmt(info.effective_cap)}{self._prorated(info)}: short by {_fmt(money - info.effective_cap)} 亿元."
                )
        # hard deadlines against chains
        if p.hard_due:
            for g in p.groups:
                if not g.members:
                    continue
                last = max(g.members, key=lambda i: (es[i] + d[i], -i))
                end = int(es[last] + d[last])
                if end > g.due:
                    reasons.append(
                        f"{g.name} cannot finish by its hard deadline {self.month(g.due - 1)} even with unlimited money"
                        f" and resources: {self.describe_chain(self.chain(last, es, why), es, why)}; it finishes"
                        f" {self.month(end - 1)}, {end - g.due} month(s) late."
                    )
        return reasons

    def _units(self, res, q) -> str:
        scale = next((r for r in self.portfolio.resources if r.resource_id == res.name), None)
        if scale is not None and res.capacity and scale.capacity:
            return f"{q * scale.capacity / res.capacity:g}"
        return str(q)

    def _who(self, idx) -> str:
        parts = []
        for i in idx:
            kind = "forced" if i in self.built.forced else "running"
            parts.append(f"{self.ids[i]} ({kind})")
        return ", ".join(parts)

    def _committed_money(self, b, idx) -> float:
        total = 0.0
        for i in idx:
            a = self.portfolio.activities[i]
            s, e = self.problem.fixed_start[i], self.problem.fixed_start[i] + self.problem.duration[i]
            overlap = min(e, b.end) - max(s, b.start)
            total += a.cost / (e - s) * max(0, overlap)
        return total

    def _prorated(self, info) -> str:
        return f" (prorated to the {info.months} months left)" if info.months < 12 else ""

    # ------------------------------------------------------------------ relaxations

    def relaxed(self, search: core.SolverOptions) -> list[str]:
        """The least extra funding (or months late) that makes a plan possible.

        ``search.deterministic_time`` bounds each relaxed search like the plan's own (the explanation must not
        depend on the machine's load either); ``search.time_limit`` is then a wall-clock safety net.
        """
        p = self.problem
        lines: list[str] = []
        if p.budgets:
            model = core.CoreModel(p, core.ModelOptions(cap_slack=True))
            res = core.solve_stages(model, [("slack", model.total_slack(), "min")], search)
            if res.start is not None:
                stage = res.stages[0]
                short = self._shortfalls(model, res.start)
                if short:
                    head = ("No plan keeps every funding cap" + (" and meets the hard deadlines" if p.hard_due else "")
                            + ". The least extra funding that makes one possible"
                            + ("" if stage.optimal else " (found within the time limit; possibly less would do)")
                            + f", {_fmt(sum(x for *_, x in short))} 亿元 in all:")
                    lines.append(head)
                    for info, need, cap, extra in short:
                        lines.append(f"  {info.year} {info.source}: short by {_fmt(extra)} 亿元 (cap {_fmt(cap)}{self._prorated(info)}, the plan needs {_fmt(need)})")
                    return lines
        if p.hard_due:
            model = core.CoreModel(p, core.ModelOptions(cap_slack=bool(p.budgets), due_slack=True))
            late = sum(model.due_slack.values())
            res = core.solve_stages(model, [("late", late, "min")], search)
            if res.start is not None:
                what = ", ".join(f"{r.name} (capacity {self._units(r, r.capacity)})" for r in p.resources) or "the links"
                lines.append(f"The hard deadlines cannot all be met even with unlimited funding: {what} leave at least these projects late:")
                end = res.start + np.asarray(p.duration)
                for g in p.groups:
                    e = int(max(end[i] for i in g.members)) if g.members else 0
                    if e > g.due:
                        lines.append(f"  {g.name}: finishes {self.month(e - 1)}, {e - g.due} month(s) after its deadline {self.month(g.due - 1)}")
                return lines
        return lines

    def _shortfalls(self, model, start):
        """(info, need, cap, extra) per budget the relaxed plan overspends, in 亿元."""
        p = self.problem
        out = []
        end = start + np.asarray(p.duration)
        for b, info in zip(p.budgets, self.built.budgets):
            need = 0.0
            for i, _ in b.rate:
                a = self.portfolio.activities[i]
                overlap = min(int(end[i]), b.end) - max(int(start[i]), b.start)
                if overlap > 0:
                    need += a.cost / (end[i] - start[i]) * overlap
            if need > info.effective_cap + 1e-9:
                out.append((info, need, info.effective_cap, need - info.effective_cap))
        return out

    def explain(self, search: core.SolverOptions) -> str:
        reasons = self.direct()
        if reasons:
            return "No plan fits the scenario:\n" + "\n".join(f"- {r}" for r in reasons)
        lines = self.relaxed(search)
        if lines:
            return "\n".join(lines)
        return ("No plan fits the scenario, and neither the direct checks nor relaxing the funding caps and hard "
                "deadlines found the reason within the time limit; try a longer --time-limit.")
