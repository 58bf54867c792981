"""The model core's objectives (after PyJobShop's split of its CP-SAT model): makespan, weighted lateness,
weighted finish, weighted number on time, and the diagnosis slack; each built on demand from a ``CoreModel``
(optimize/core.py) and solved in stages by ``core.solve_stages``.
"""
from __future__ import annotations


def makespan_lower_bound(core) -> int:
    """Critical path (with energy heads) and, per resource, total energy / capacity."""
    p = core.problem
    bound = max((int(core.es[i]) + p.duration[i] for i in range(p.n)), default=0)
    free = [i for i in range(p.n) if p.fixed_start[i] is None]
    if free:
        lo = min(p.release[i] for i in free)
        for res in p.resources:
            energy = sum(p.duration[i] * res.demand[i] for i in free)
            if energy and res.capacity > 0:
                bound = max(bound, lo + -(-energy // res.capacity))
    return bound


def makespan(core):
    if not hasattr(core, "_makespan"):
        lo = max((int(core.es[i]) + core.problem.duration[i] for i in range(core.problem.n)), default=0)
        core._makespan = core.model.new_int_var(lo, max(lo, core.horizon), "makespan")
        for e in core.group_end:
            core.model.add(core._makespan >= e)
        if not core.group_end:
            for e in core.end:
                core.model.add(core._makespan >= e)
    return core._makespan


def weighted_lateness(core):
    terms = []
    for g, end, (_, hi) in zip(core.problem.groups, core.group_end, core.group_bounds):
        if hi <= g.due or not g.members:
            continue
        late = core.model.new_int_var(0, hi - g.due, f"L_{g.name}")
        core.model.add(late >= end - g.due)
        terms.append(g.weight * late)
    return sum(terms) if terms else 0


def weighted_finish(core):
    return sum(g.weight * end for g, end in zip(core.problem.groups, core.group_end) if g.members)


def weighted_on_time(core):
    terms = []
    for g, end, (lo, hi) in zip(core.problem.groups, core.group_end, core.group_bounds):
        if not g.members:
            continue
        if hi <= g.due:
            terms.append(g.weight)
        elif lo <= g.due:
            b = core.model.new_bool_var(f"ontime_{g.name}")
            core.model.add(end <= g.due).only_enforce_if(b)
            terms.append(g.weight * b)
    return sum(terms) if terms else 0


def total_slack(core):
    return sum(core.slack.values()) + sum(core.due_slack.values())
