"""The reference engine: each iteration is a SimPy discrete-event simulation.

One process per activity waits for the events of its predecessors (ended for FS,
started for SS, its traced work left for FS with a negative lag), never starts
before its planned start, hands its work to the bank, waits until the bank has
paid for all of it month by month and the last piece is worked, waits for its
FF/SF predecessors and ends. The bank (treasury) is one process on whole months:
at each month boundary k it applies the 1 January refills and pays the enrolled
activities in the funding order.

Same-time order (docs/simulation.md, "Same-time order in the SimPy engine"):
every activity event has SimPy's NORMAL priority; the bank's payment step at k is
one event of the lower priority ``PAY`` = 2, so it comes after every start, end and
cascade of starts at time k, whatever their creation order. Waits until a given
time use a delay chosen so that now + delay equals that time exactly, so a start or
end at a whole month k is never seen a rounding error away from k.

A deliberate twin: ``fast_kernel`` repeats this engine's rule step for step (the 1 January refills, the
payments in the funding order) as compiled code on flat arrays, so some blocks of the two read
alike. They are kept in step on purpose rather than shared: this engine is the readable reference, the kernel
must be numba code without SimPy's events. A change to one is made to the other in the same commit;
tests/test_engine_fast.py guards that both give the same ``Outcomes`` bit for bit (and the same output files).
"""
from __future__ import annotations

import math
from bisect import insort

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from .model import DONE, FF, FS, RUNNING, SF, SS, SimModel
from .outcomes import NO_LINK, Outcomes, driving_paths
from .sampling import Draws

PAY = 2  # priority of the bank's payment step: after every NORMAL (1) event at the same time


class _PayStep(Event):
    """An event already triggered, processed ``delay`` from now after every NORMAL event of that time."""

    def __init__(self, env, delay=0):
        # Inlined like simpy.events.Timeout.__init__: an event that is triggered when created.
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, PAY, delay)


def _delay_to(now: float, t: float) -> float:
    """The delay d with now + d == t exactly in floating point (SimPy adds now + delay)."""
    d = t - now
    while now + d < t:
        d = math.nextafter(d, math.inf)
    while now + d > t:
        d = math.nextafter(d, -math.inf)
    return d


class _Static:
    """The model's arrays as Python lists (much faster to index one by one), built once per block."""

    def __init__(self, model: SimModel):
        self.model = model
        self.n = model.n
        self.state = model.state.tolist()
        self.traced = model.traced.tolist()
        self.fixed_start = model.fixed_start.tolist()
        self.fixed_end = model.fixed_end.tolist()
        self.plan_bound = model.plan_bound.tolist()
        self.funding_order = model.funding_order.tolist()
        self.funding_rank = model.funding_rank.tolist()
        self.source_of = model.source_of.tolist()
        self.incoming = model.incoming
        self.holds_end = tuple(tuple(x for x in links if x[2] in (FF, SF)) for links in model.incoming)
        self.stopped = model.stopped
        self.pool0 = model.pool0.tolist()
        self.refills = [(k, caps.tolist()) for k, caps in model.refills]
        self.carry_over = model.carry_over
        self.horizon = model.horizon


class _Iteration:
    """One iteration: the environment, the bank and one process per activity."""

    def __init__(self, model: _Static, work: np.ndarray, rate: np.ndarray):
        self.model = model
        env = self.env = simpy.Environment()
        n = model.n
        nan = math.nan
        self.work = work.tolist()
        self.rate = rate.tolist()
        self.start = [nan] * n
        self.end = [nan] * n
        self.start_driver = [NO_LINK] * n
        self.end_driver = [NO_LINK] * n
        self.started: dict[int, Event] = {}  # created when someone waits for it
        self.ended: dict[int, Event] = {}
        self.funded: dict[int, Event] = {}
        self.active: list[int] = []  # funding ranks of the activities the bank pays, sorted
        self.paid_k = -1  # the last month boundary whose payments are done
        self.wake: Event | None = None  # set while the bank sleeps (nobody to pay)
        self.trace: dict[int, list[tuple[int, float]]] = {}  # traced activity -> [(boundary k, work left from k)]
        self.unended = 0

        state = model.state
        for j in range(n):
            if state[j] == DONE:
                self.start[j], self.end[j] = model.fixed_start[j], model.fixed_end[j]
                if model.traced[j]:
                    self.trace[j] = [(int(model.fixed_end[j]), 0.0)]
            else:
                self.unended += 1
                if state[j] == RUNNING:
                    self.start[j] = model.fixed_start[j]
                if model.traced[j]:
                    self.trace[j] = []
                env.process(self._activity(j))
        env.process(self._bank())

    # -- events -------------------------------------------------------------------------------

    def _wait(self, events: dict, i: int) -> Event:
        ev = events.get(i)
        if ev is None:
            ev = events[i] = self.env.event()
        return ev

    def _at(self, t: float) -> Event:
        """An event at time t exactly (t > now)."""
        return self.env.timeout(_delay_to(self.env.now, t))

    # -- the bank ---------------------------------------------------------------------------

    def _enroll(self, j: int) -> Event:
        ev = self.funded[j] = self.env.event()
        insort(self.active, self.model.funding_rank[j])
        if self.wake is not None:
            wake, self.wake = self.wake, None
            wake.succeed()
        return ev

    def _bank(self):
        m = self.model
        env = self.env
        pools = list(m.pool0)
        refills = m.refills
        next_refill = 0
        carry = m.carry_over
        horizon = m.horizon
        yield _PayStep(env)
        while True:
            k = int(env.now)
            while next_refill < len(refills) and refills[next_refill][0] <= k:
                for s, cap in enumerate(refills[next_refill][1]):
                    if cap == math.inf:
                        pools[s] = math.inf
                    elif carry and pools[s] != math.inf:
                        pools[s] += cap
                    else:
                        pools[s] = cap
                next_refill += 1
            if self.active:
                self._pay(k, pools)
            self.paid_k = k
            if self.unended == 0 or k + 1 >= horizon:
                return
            if self.active:
                yield _PayStep(env, 1)
            else:  # sleep until an activity starts (always at a month boundary, before its payments)
                self.wake = env.event()
                yield self.wake
                yield _PayStep(env)

    def _pay(self, k: int, pools: list[float]) -> None:
        m = self.model
        order, source_of, traced, trace = m.funding_order, m.source_of, m.traced, self.trace
        stopped = m.stopped.get(k)
        work, rate, funded = self.work, self.rate, self.funded
        env = self.env
        finished = None
        for rank in self.active:
            j = order[rank]
            if stopped is not None and j in stopped:
                continue
            w = work[j]
            r = rate[j]
            s = source_of[j]
            ask = r * w if w <= 1.0 else r
            pool = pools[s]
            if ask <= pool:
                pools[s] = pool - ask
                last = w <= 1.0
                if not last:
                    work[j] = w - 1.0
            else:  # paid part: works pool / r months, then pauses for the rest of the month
                pools[s] = 0.0
                if pool <= 0.0:
                    continue
                left = w - pool / r
                last = left <= 0.0  # only by rounding: as if paid in full
                if not last:
                    work[j] = left
            if last:  # the last piece w is paid: the work is done at k + w
                work[j] = 0.0
                if finished is None:
                    finished = []
                finished.append(rank)
                ev = funded.pop(j)
                ev._ok, ev._value = True, None
                env.schedule(ev, NORMAL, w)
            if traced[j]:
                trace[j].append((k + 1, work[j]))
        if finished:
            for rank in finished:
                self.active.remove(rank)

    # -- activities ---------------------------------------------------------------------------

    def _open_boundary(self) -> int:
        """The first month boundary at which a start can still happen (its payments not yet done)."""
        k = math.ceil(self.env.now)
        return k + 1 if k <= self.paid_k else k

    def _activity(self, j: int):
        m = self.model
        env = self.env
        start, end = self.start, self.end

        if m.state[j] != RUNNING:
            bounds = []  # (link, bound) of the links that hold the start
            negative = None
            for li, i, kind, lag in m.incoming[j]:
                if kind == FS:
                    if lag < 0:
                        if negative is None:
                            negative = []
                        negative.append((li, i, -lag))
                        continue
                    if end[i] != end[i]:
                        yield self._wait(self.ended, i)
                    bounds.append((li, math.ceil(end[i] + lag)))
                elif kind == SS:
                    if start[i] != start[i]:
                        yield self._wait(self.started, i)
                    bounds.append((li, start[i] + (lag if lag > 0 else 0)))
            if negative:
                for _li, i, _x in negative:
                    if start[i] != start[i]:
                        yield self._wait(self.started, i)
            k = m.plan_bound[j]
            for _li, b in bounds:
                if b > k:
                    k = int(b)
            k = max(k, self._open_boundary())
            while True:
                if k > env.now:
                    yield self._at(k)
                if not negative:
                    break
                found = []
                for li, i, x in negative:
                    b = next((kb for kb, w in self.trace[i] if w <= x and kb <= k), None)
                    if b is None:
                        break
                    found.append((li, b))
                if len(found) == len(negative):
                    bounds.extend(found)
                    bounds.sort()
                    break
                k += 1
            start[j] = k
            drv, best = NO_LINK, m.plan_bound[j]
            for li, b in bounds:
                if b >= best and (drv == NO_LINK or b > best):
                    drv, best = li, b
            self.start_driver[j] = drv
            ev = self.started.get(j)
            if ev is not None:
                ev.succeed()

        w = self.work[j]
        if m.traced[j]:
            self.trace[j].append((max(int(start[j]), 0), w))
        if w > 0.0:
            yield self._enroll(j)  # the bank pays month by month; this fires when the work is done
        c = env.now

        e, drv = c, NO_LINK
        for li, i, kind, lag in m.holds_end[j]:
            if kind == FF:
                if end[i] != end[i]:
                    yield self._wait(self.ended, i)
                b = end[i] + (lag if lag > 0 else 0)
            elif kind == SF:
                if start[i] != start[i]:
                    yield self._wait(self.started, i)
                b = start[i] + (lag if lag > 0 else 0)
            if b >= c and (drv == NO_LINK or b > e):
                drv, e = li, b
        if e > env.now:
            yield self._at(e)
        end[j] = e
        self.end_driver[j] = drv
        self.unended -= 1
        ev = self.ended.get(j)
        if ev is not None:
            ev.succeed()


def run_iteration(model: SimModel, work: np.ndarray, rate: np.ndarray, static: _Static | None = None):
    """Simulate one iteration; (start, end, start_driver, end_driver) as lists, cut off at the horizon."""
    it = _Iteration(static or _Static(model), work, rate)
    it.env.run(until=model.horizon)
    h = float(model.horizon)
    start = [h if s != s else s for s in it.start]
    end = [h if e != e else e for e in it.end]
    return start, end, it.start_driver, it.end_driver


def run_block(model: SimModel, draws: Draws) -> Outcomes:
    """Execute every iteration of ``draws`` (any number of rows) with SimPy."""
    rows, n = draws.work.shape
    start = np.empty((rows, n))
    end = np.empty((rows, n))
    sd = np.empty((rows, n), dtype=np.int64)
    ed = np.empty((rows, n), dtype=np.int64)
    static = _Static(model)
    for q in range(rows):
        start[q], end[q], sd[q], ed[q] = run_iteration(model, draws.work[q], draws.rate[q], static)
    return Outcomes(draws.i0, start, end, driving_paths(model, end, sd, ed), sd, ed)
