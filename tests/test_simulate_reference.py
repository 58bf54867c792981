"""Every engine against a plain month-by-month loop written straight from docs/simulation.md.

The loop below knows nothing of SimPy, events or priorities: at each month boundary
it starts whatever may start (until nothing more can), pays in the funding order,
and works out ends. On random small portfolios with every link type, negative lags,
running and done activities, funding caps, risks, stoppages and plans, both must
give the same starts, ends and drivers, bit for bit. A new engine registered in
``simulate.runner.ENGINES`` is checked here too.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from simulate.model import DONE, FF, FS, RUNNING, SF, SS, build_model
from simulate.runner import ENGINES
from simulate.sampling import draws_for
from portfolio_builders import activity, make_portfolio, make_settings, project, risk

NAN = math.nan


def reference(model, work, rate):
    """One iteration by the written rule; (start, end, start_driver, end_driver)."""
    n, H = model.n, model.horizon
    start, end, c = [NAN] * n, [NAN] * n, [NAN] * n
    w = list(work)
    sd, ed = [-1] * n, [-1] * n
    left_at = [dict() for _ in range(n)]  # boundary k -> work left at k (before paying at k)
    for j in range(n):
        if model.state[j] == DONE:
            start[j], end[j] = model.fixed_start[j], model.fixed_end[j]
        elif model.state[j] == RUNNING:
            start[j] = model.fixed_start[j]
    pools = list(model.pool0)
    refills = dict((k, list(caps)) for k, caps in model.refills)
    enrolled = [model.state[j] == RUNNING and w[j] > 0 for j in range(n)]
    for j in range(n):
        if model.state[j] == RUNNING:
            left_at[j][0] = w[j]
            if w[j] <= 0:
                c[j] = 0.0

    def left(i, k):
        """Work left of i at boundary k (None if i has not started by k)."""
        if model.state[i] == DONE:
            return 0.0
        if start[i] != start[i] or start[i] > k:
            return None
        return left_at[i][k]

    def neg_bound(i, x, k):
        """First boundary <= k at which i had at most x work left (None if none yet)."""
        if model.state[i] == DONE:
            return int(model.fixed_end[i])
        if start[i] != start[i] or start[i] > k:
            return None
        first = max(int(start[i]), 0)
        for kk in range(first, k + 1):
            v = left(i, kk)
            if v is not None and v <= x:
                return kk
        return None

    def try_start(j, k):
        pb = int(model.plan_bound[j])
        if k < pb:
            return False
        bounds = []
        for li, i, kind, lag in model.incoming[j]:
            if kind == FS and lag >= 0:
                if end[i] != end[i] or end[i] > k:
                    return False
                b = math.ceil(end[i] + lag)
            elif kind == FS:
                b = neg_bound(i, -lag, k)
                if b is None:
                    return False
            elif kind == SS:
                if start[i] != start[i] or start[i] > k:
                    return False
                b = start[i] + max(lag, 0)
            else:
                continue
            if b > k:
                return False
            bounds.append((li, b))
        start[j] = k
        best = None
        for li, b in bounds:
            if b >= pb and (best is None or b > best[1]):
                best = (li, b)
        sd[j] = best[0] if best else -1
        left_at[j][k] = w[j]
        if w[j] > 0:
            enrolled[j] = True
        else:
            c[j] = float(k)
        return True

    def try_end(j):
        if c[j] != c[j] or end[j] == end[j]:
            return False
        e, drv = c[j], -1
        for li, i, kind, lag in model.incoming[j]:
            if kind == FF:
                if end[i] != end[i]:
                    return False
                b = end[i] + max(lag, 0)
            elif kind == SF:
                if start[i] != start[i]:
                    return False
                b = start[i] + max(lag, 0)
            else:
                continue
            if b >= c[j] and (drv == -1 or b > e):
                drv, e = li, b
        end[j], ed[j] = e, drv
        return True

    def settle():
        changed = True
        while changed:
            changed = any([try_end(j) for j in range(n)])

    settle()
    for k in range(H):
        if k in refills:
            for s, cap in enumerate(refills[k]):
                if cap == math.inf:
                    pools[s] = math.inf
                elif model.carry_over and pools[s] != math.inf:
                    pools[s] += cap
                else:
                    pools[s] = cap
        changed = True
        while changed:  # everything that may start at k, including cascades at k
            changed = False
            for j in range(n):
                if model.state[j] != DONE and start[j] != start[j] and try_start(j, k):
                    changed = True
                    settle()
        stopped = model.stopped.get(k, frozenset())
        for j in model.funding_order:
            if not enrolled[j] or j in stopped:
                continue
            r, s = rate[j], model.source_of[j]
            ask = r * w[j] if w[j] <= 1.0 else r
            if ask <= pools[s]:
                pools[s] -= ask
                if w[j] <= 1.0:
                    c[j] = k + w[j]
                    w[j] = 0.0
                    enrolled[j] = False
                else:
                    w[j] = w[j] - 1.0
            else:
                paid, pools[s] = pools[s], 0.0
                if paid > 0.0:
                    if w[j] - paid / r > 0.0:
                        w[j] = w[j] - paid / r
                    else:  # nothing left but by rounding: done as if paid in full
                        c[j] = k + w[j]
                        w[j] = 0.0
                        enrolled[j] = False
        for j in range(n):  # work left at the next boundary, for FS links with a negative lag
            if model.state[j] != DONE and start[j] == start[j]:
                left_at[j][k + 1] = w[j]
        settle()
        if all(e == e for e in end):
            break
    # Ends at or after the horizon are cut off there (SimPy stops at t = 600; an end at exactly 600 is not seen).
    ed = [-1 if (e != e or e >= H) else d for e, d in zip(end, ed)]
    start = [H if (s != s or s >= H) else s for s in start]
    end = [H if (e != e or e >= H) else e for e in end]
    return start, end, sd, ed


def random_portfolio(rng):
    cats = ["water", "rail", "metro"]
    n_proj = int(rng.integers(1, 4))
    projects = [project(f"P{p}", deadline="2023-06", priority=float(rng.integers(1, 4)), category=cats[p % 3])
                for p in range(n_proj)]
    acts, ids = [], []
    n = int(rng.integers(3, 10))
    for a in range(n):
        pid = f"P{int(rng.integers(0, n_proj))}"
        aid = f"A{a}"
        o = float(rng.integers(1, 6)) + (0.5 if rng.random() < 0.3 else 0.0)
        m = o + float(rng.integers(0, 4))
        p = m + float(rng.integers(0, 5))
        preds = []
        if a and rng.random() < 0.85:
            for b in sorted(set(rng.integers(0, a, size=int(rng.integers(1, 3))).tolist())):
                kind = str(rng.choice(["", "", ":SS", ":FF", ":SF", ":FS"]))
                lag = int(rng.integers(-2, 4)) if kind else 0
                preds.append(f"A{b}{kind}{lag:+d}" if kind and lag else f"A{b}{kind}")
        kw = {}
        u = rng.random()
        if a < 3 and u < 0.25:
            kw = dict(actual_start="2020-05", actual_finish="2020-11")
            preds = []
        elif a < 3 and u < 0.5:
            kw = dict(actual_start=str(rng.choice(["2020-03", "2020-09", "2017-01"])))
            preds = []
        elif rng.random() < 0.2:
            kw = dict(earliest=str(rng.choice(["2021-03", "2021-09"])))
        acts.append(activity(aid, pid, o, m, p, ";".join(preds), cost=float(rng.choice([0, 2, 5, 9])),
                             source=str(rng.choice(["s1", "s2"])), **kw))
        ids.append(aid)
    funding = [(y, "s1", float(rng.choice([3, 6, 12]))) for y in range(2021, 2026) if rng.random() < 0.8]
    funding += [(y, "s2", float(rng.choice([0, 4, 8]))) for y in range(2021, 2024) if rng.random() < 0.7]
    risks = [risk(f"R{r}", float(rng.random()), 0.5, 1.5, 4, affects=tuple(rng.choice(ids, size=2)))
             for r in range(int(rng.integers(0, 3)))]
    pf = make_portfolio(projects, acts, funding, risks)
    stoppages = [("2021-04", int(rng.integers(1, 4)), tuple(rng.choice(cats, size=1)))] if rng.random() < 0.4 else []
    settings = make_settings(status=str(rng.choice(["2021-01", "2021-05"])), stoppages=stoppages,
                             carry_over=bool(rng.random() < 0.7), distribution=str(rng.choice(["triangular", "pert"])))
    plan = None
    if rng.random() < 0.5:
        from portfolio.months import parse_month

        plan = {a.activity_id: parse_month("2021-01") + int(rng.integers(0, 8)) for a in acts if rng.random() < 0.6}
    return pf, settings, plan


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("case", range(60))
def test_engine_follows_the_written_rule(case, engine):
    rng = np.random.default_rng(1000 + case)
    pf, settings, plan = random_portfolio(rng)
    model = build_model(pf, settings, plan)
    draws = draws_for(model, case, 0, 25)
    out = ENGINES[engine](model, draws)
    for q in range(draws.size):
        start, end, sd, ed = reference(model, draws.work[q], draws.rate[q])
        assert out.start[q].tolist() == start, (case, q)
        assert out.end[q].tolist() == end, (case, q)
        assert out.start_driver[q].tolist() == sd, (case, q)
        assert out.end_driver[q].tolist() == ed, (case, q)
