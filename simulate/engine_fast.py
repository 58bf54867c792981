"""The fast engine: the execution rule of docs/simulation.md for a block of iterations at once, in numpy.

It returns exactly the ``Outcomes`` of the SimPy reference engine (``engine_simpy``), bit for bit, from the same
``Draws``, because it does the same floating-point operations on the same values in the same order per iteration.
What makes that cheap (docs/simulation.md, "Fast engine"):

- Work paid in full goes down by exactly 1.0 a month (``w - 1.0`` is exact for 1 <= w < 2**53). So once an
  activity starts at boundary k0 with work W, the month ``k_last`` in which its last piece ``w_last = W -
  (ceil(W) - 1)`` is paid, and its work left ``w_last + (paying months to k_last)`` at any boundary, are known
  at once: only a pool that runs short (paying part or nothing) moves them. A stoppage is known in advance and
  is counted into ``k_last`` right away.
- The bank pays in the funding order. Per source, the asks of the enrolled activities, in funding order, are
  subtracted from the pool one after the other, for every iteration at once: the same left fold (the same
  roundings) as the SimPy bank's loop. ``pool - ask`` is negative exactly when ``ask > pool``, so a fold that
  ends >= 0 paid every ask in full; only the iterations where it ends below 0 are replayed ask by ask to find
  who was paid part and who nothing.
- Links are events on (iteration, activity) pairs. A link is resolved when its predecessor's end (FS, FF),
  start (SS, SF) or traced work left (FS with a negative lag) is known; when the last start link of an activity
  is resolved, its start is known: max(planned/earliest bound, link bounds, the first boundary whose payments
  are not done), with its driver. Everything that follows from a start without money (the SS/SF successors,
  the end of an activity without work, its ``k_last``) is worked out there and then; the engine then only has
  to enrol the activity's ask at its start month and ask for its last piece at ``k_last``.

The iterations advance month by month together; each month costs the fold (one vector operation per activity
asking in some iteration) plus work proportional to the pairs that start, take their last piece or run short.
"""
from __future__ import annotations

import weakref

import numpy as np

from .model import DONE, FF, FS, FUTURE, RUNNING, SF, SS, SimModel
from .outcomes import NO_LINK, Outcomes
from .sampling import Draws

KEY = 1 << 24  # start-driver key: bound * KEY + (KEY - 1 - link): the largest bound, ties to the first link
NOKEY = -(1 << 62)  # no start link resolved (yet)
NEVER = 1 << 28  # a count that never reaches 0: started activities do not start again
MIN_PASS_ROWS = 512  # but at least this many iterations per pass (the month loop's overhead is per pass)
PASS_PAIRS = 3 << 20  # (iteration, activity) pairs per pass: bounds the engine's memory (about 120 bytes a pair)

_PLANS: "weakref.WeakKeyDictionary[SimModel, _Plan]" = weakref.WeakKeyDictionary()


class _Plan:
    """The model in the engine's layout, prepared once per model.

    Rows of the "slab": the activities in activities.csv order, then one row per funding source (its pool). The
    state of pair (iteration q, activity at slab row a) is at flat index a * R + q of every (slab rows, R) array.
    The bank visits the rows in ``fund_rows`` order: per source its pool, then its activities in the funding order.
    """

    def __init__(self, model: SimModel):
        n = self.n = model.n
        S = self.S = len(model.sources)
        NS = self.NS = n + S
        source_of = model.source_of.astype(np.int64)
        rank = model.funding_rank.astype(np.int64)
        self.row = np.arange(n, dtype=np.int64)  # activity -> slab row
        self.pool_row = n + np.arange(S, dtype=np.int64)
        self.is_pool = np.arange(NS) >= n
        self.slab_source = np.concatenate([source_of, np.arange(S)])
        fund = []
        for s in range(S):
            fund.append(n + s)
            fund += sorted(np.flatnonzero(source_of == s).tolist(), key=lambda j: int(rank[j]))
        self.fund_rows = np.array(fund, dtype=np.int64)
        self.fund_source = self.slab_source[self.fund_rows]
        self.fund_is_pool = self.is_pool[self.fund_rows]
        self.fund_pos = np.empty(NS, dtype=np.int64)  # slab row -> position in fund_rows
        self.fund_pos[self.fund_rows] = np.arange(NS)

        def per_row(values, fill):
            out = np.full(NS, fill, dtype=np.asarray(values).dtype)
            out[self.row] = values
            return out

        state = per_row(model.state, DONE)
        self.state = state
        self.plan_bound = per_row(model.plan_bound.astype(np.int64), 0)
        self.fixed_start = per_row(model.fixed_start.astype(float), 0.0)
        self.fixed_end = per_row(model.fixed_end.astype(float), 0.0)
        self.horizon = H = int(model.horizon)

        # Links, with predecessor and successor as slab rows.
        pred = self.row[model.link_pred.astype(np.int64)]
        succ = self.row[model.link_succ.astype(np.int64)]
        kind = model.link_kind.astype(np.int64)
        lag = model.link_lag.astype(np.int64)
        self.succ = succ
        fs = (kind == FS) & (lag >= 0)
        neg = (kind == FS) & (lag < 0)
        ss, ff, sf = kind == SS, kind == FF, kind == SF
        # What a link adds to its predecessor's end or start: FS ceil(end + lag); SS, FF, SF max(lag, 0).
        self.lag = np.where(fs, lag, np.maximum(lag, 0)).astype(float)
        self.tie = (KEY - 1 - np.arange(len(kind))).astype(np.int64)  # the low part of a start-driver key

        def csr(mask):
            links = np.flatnonzero(mask)
            links = links[np.argsort(pred[links], kind="stable")]
            count = np.bincount(pred[links], minlength=NS)
            ptr = np.zeros(NS + 1, dtype=np.int64)
            np.cumsum(count, out=ptr[1:])
            return ptr, links, count

        self.on_end_fs, self.on_end_ff, self.on_start_ss, self.on_start_sf = (csr(m) for m in (fs, ff, ss, sf))
        self.has_on_end = (self.on_end_fs[2] + self.on_end_ff[2]) > 0
        self.has_on_start = (self.on_start_ss[2] + self.on_start_sf[2]) > 0
        future = state == FUTURE
        n_start = np.bincount(succ[fs | ss | neg], minlength=NS)
        self.scnt0 = np.where(future, n_start, NEVER).astype(np.int64)
        # 0: links into it do not bind (started already); 1: its only start link frees it; 2: several links.
        self.start_mode = np.where(future, np.minimum(n_start, 2), 0).astype(np.int64)
        self.many_rows = np.flatnonzero(self.start_mode == 2)
        ecnt = np.bincount(succ[ff | sf], minlength=NS) + 1  # + 1: the activity's own work done
        self.held_end = ecnt > 1
        self.held_rows = np.flatnonzero(self.held_end & (state != DONE))
        self.ecnt0 = np.where(state == DONE, NEVER, ecnt).astype(np.int64)
        end_links = np.flatnonzero(ff | sf)
        self.end_slot = np.full(len(kind), -1, dtype=np.int64)
        self.end_slot[end_links] = np.arange(len(end_links))
        self.n_end_links = len(end_links)
        # Per activity its FF/SF links in link order, padded with -1: (slab rows, most links) tables.
        per = np.bincount(succ[end_links], minlength=NS)
        width = max(1, int(per.max()) if len(end_links) else 1)
        self.hold_link = np.full((NS, width), -1, dtype=np.int64)
        fill = np.zeros(NS, dtype=np.int64)
        for l in end_links.tolist():  # in link order
            a = succ[l]
            self.hold_link[a, fill[a]] = l
            fill[a] += 1
        self.hold_slot = np.full_like(self.hold_link, -1)
        self.hold_slot[self.hold_link >= 0] = self.end_slot[self.hold_link[self.hold_link >= 0]]
        # FS links with a negative lag: (link, predecessor row, successor row, x = -lag); the successor may start
        # once the predecessor has at most x months of work left.
        self.neg = [(int(l), int(pred[l]), int(succ[l]), float(-lag[l])) for l in np.flatnonzero(neg)]
        self.neg_from: dict[int, list[int]] = {}
        for t, (_l, i, _j, _x) in enumerate(self.neg):
            self.neg_from.setdefault(i, []).append(t)
        self.traced = np.zeros(NS, dtype=bool)
        self.traced[list(self.neg_from)] = True

        # Money.
        self.pool0 = model.pool0.astype(float)
        self.refills = [(int(k), caps.astype(float)) for k, caps in model.refills]
        self.carry = bool(model.carry_over)
        # Stoppages: months each activity does no work (sorted), and the activity rows stopped in each month.
        stops: dict[int, list[int]] = {}
        for k, who in sorted(model.stopped.items()):
            for j in who:
                stops.setdefault(int(self.row[j]), []).append(int(k))
        self.stops = {a: np.array(v, dtype=np.int64) for a, v in stops.items()}
        self.has_stops = np.zeros(NS, dtype=bool)
        self.has_stops[list(self.stops)] = True
        self.stopped_rows = {int(k): self.row[np.array(sorted(v), dtype=np.int64)] for k, v in model.stopped.items()}
        self.any_stops = bool(self.stops)
        assert H < NEVER


_BUFFERS: dict = {}
_MALLOC_TUNED = False


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system at once.

    A run allocates the same large arrays chunk after chunk (draws, state, outcomes). By default glibc gives
    blocks above its mmap threshold back to the system when they are freed and trims the top of the heap, so
    every chunk touches fresh pages again: on the benchmark machine (a VM) that page-faulting cost about 5 µs
    per iteration, an eighth of the run. The peak memory is the same either way. Nothing happens where this is
    not glibc.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_trim_threshold, 1 << 30)
        libc.mallopt(m_mmap_threshold, 1 << 30)
    except (OSError, AttributeError):
        pass


def _buffers(NS: int, R: int, n_end_links: int) -> dict:
    """The state arrays of a pass, kept for the next pass of the same shape (fresh memory is slow to touch)."""
    key = (NS, R, n_end_links)
    buf = _BUFFERS.get(key)
    if buf is None:
        _BUFFERS.clear()
        N = NS * R
        f, i = np.float64, np.int64
        buf = _BUFFERS[key] = {
            "W": np.empty((NS, R)), "r": np.empty((NS, R)), "X": np.empty((NS, R)),
            "start": np.empty(N, f), "end": np.empty(N, f), "c": np.empty(N, f), "ed": np.empty(N, i),
            "scnt": np.empty(N, i), "ecnt": np.empty(N, i), "skey": np.empty(N, i),
            "ebnd": np.empty((n_end_links, R)), "k_last": np.empty(N, i), "w_last": np.empty(N, f),
            "held": np.empty(N, bool), "scratch": np.empty(N, i),
        }
    return buf


def _plan(model: SimModel) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _Plan(model)
    return plan


def _push(calendar: dict, pairs: np.ndarray, months: np.ndarray, horizon: int, R: int, NS: int) -> None:
    """File ``pairs`` under their months (those before the horizon), each month's pairs grouped by activity, so
    that the work on them touches one activity's row of the state after the other (cache)."""
    if pairs.size == 0:
        return
    lo, hi = int(months.min()), int(months.max())
    span = hi - lo + 1
    if span * NS < 1 << 16:  # one radix sort by (month, activity)
        order = np.argsort(((months - lo) * NS + pairs // R).astype(np.uint16), kind="stable")
    elif span < 1 << 16:
        order = np.argsort((months - lo).astype(np.uint16), kind="stable")
    else:
        order = np.argsort(months, kind="stable")
    pairs = pairs[order]
    if lo == hi:
        if lo < horizon:
            calendar.setdefault(lo, []).append(pairs)
        return
    months = months[order]
    cuts = np.flatnonzero(months[1:] != months[:-1]) + 1
    a = 0
    for b in (*cuts.tolist(), len(pairs)):
        k = int(months[a])
        if k >= horizon:
            break
        calendar.setdefault(k, []).append(pairs[a:b])
        a = b


def _pop(calendar: dict, k: int):
    parts = calendar.pop(k, None)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _expand(csr, a):
    """Out-links (of one kind) of the pairs' activities ``a``: (links, index into the pairs of each link)."""
    ptr, links, count = csr
    cnt = count[a]
    total = int(cnt.sum())
    if total == 0:
        return None, None
    if total == len(a) and (cnt == 1).all():
        return links[ptr[a]], np.arange(len(a))
    which = np.repeat(np.arange(len(a)), cnt)
    first = np.cumsum(cnt) - cnt
    return links[ptr[a][which] + (np.arange(total) - first[which])], which


class _Pass:
    """One pass of the engine over R iterations.

    Within a month everything that follows from the month's events is worked out in waves over all iterations
    at once (``_flow``): work done -> ends -> resolved links -> starts -> what follows from those starts.
    """

    def __init__(self, plan: _Plan, work: np.ndarray, rate: np.ndarray):
        self.plan = P = plan
        R = self.R = work.shape[0]
        NS = P.NS
        N = NS * R
        # Buffers kept from pass to pass; each field is set here only where it is read before it is written.
        buf = _buffers(NS, R, P.n_end_links)
        self.W, self.r, self.X = buf["W"], buf["r"], buf["X"]
        self.W[:P.n] = work.T  # (pool rows are never read)
        self.r[:P.n] = rate.T
        self.Wf, self.rf = self.W.reshape(N), self.r.reshape(N)
        self.X.fill(0.0)  # pool rows: the pool; activity rows: the ask this month (0: not enrolled)
        self.Xf = self.X.reshape(N)
        self.start, self.end, self.c = buf["start"], buf["end"], buf["c"]  # c: only for FF/SF-held pairs
        self.start.fill(np.nan)
        self.end.fill(np.nan)
        self.ed = buf["ed"]  # end drivers: only activities with FF/SF links have any
        self.ed.reshape(NS, R)[P.held_rows] = NO_LINK
        self.scnt, self.ecnt = buf["scnt"], buf["ecnt"]  # counts: of activities with several start links, with
        self.scnt.reshape(NS, R)[P.many_rows] = P.scnt0[P.many_rows, None]  # FF/SF links
        self.ecnt.reshape(NS, R)[P.held_rows] = P.ecnt0[P.held_rows, None]
        self.skey = buf["skey"]  # the start-driver key of each pair (the largest over its resolved start links)
        self.skey.reshape(NS, R)[P.many_rows] = NOKEY  # (written at the start of the others)
        self.ebnd = buf["ebnd"]
        self.k_last = buf["k_last"]  # the month the last piece is due; -1: not enrolled (any more)
        self.k_last.reshape(NS, R)[P.traced] = -1  # (read before enrolment only for traced activities)
        self.w_last = buf["w_last"]
        self.held = buf["held"]
        self.held.fill(False)
        self.scratch = buf["scratch"]
        self.active = np.zeros(NS, dtype=np.int64)  # enrolled iterations per slab row; pool rows count 1
        self.active[P.pool_row] = 1
        self.n_enrolled = 0
        self.dirty: set = set()  # months whose last-piece entries may be stale (pairs moved or done since)
        self.finite = np.isfinite(P.pool0)
        for s in range(P.S):
            self.X[P.pool_row[s]] = P.pool0[s]
        self.trig = [np.zeros(R, dtype=bool) for _ in P.neg]
        self.cal_enrol: dict = {}
        self.cal_last: dict = {}
        # Work queues of the current phase (lists of tuples of arrays).
        self.q_done, self.q_end, self.q_start, self.q_res, self.q_eres, self.q_ready = [], [], [], [], [], []
        self.to_enrol, self.to_last = [], []

    # -- helpers ------------------------------------------------------------------------------------

    def _unique(self, pairs):
        """``pairs`` without repeats (the last of each kept)."""
        if pairs.size < 2:
            return pairs
        at = np.arange(len(pairs))
        self.scratch[pairs] = at
        return pairs[self.scratch[pairs] == at]

    def _stops_before(self, a, lo, hi):
        """Per pair: stopped months of its activity in [lo, hi) (arrays or scalars)."""
        out = np.zeros(len(a), dtype=np.int64)
        for act in np.unique(a[self.plan.has_stops[a]]).tolist():
            sel = a == act
            months = self.plan.stops[act]
            l = lo[sel] if np.ndim(lo) else lo
            h = hi[sel] if np.ndim(hi) else hi
            out[sel] = np.searchsorted(months, h, "left") - np.searchsorted(months, l, "left")
        return out

    def _skip_stops(self, a, kl, k0):
        """k_last counting the stopped months from k0 on: each stopped month of [k0, k_last] adds one."""
        for act in np.unique(a[self.plan.has_stops[a]]).tolist():
            sel = np.flatnonzero(a == act)
            x, lo = kl[sel], (k0[sel] if np.ndim(k0) else k0)
            for month in self.plan.stops[act].tolist():
                x = x + ((month >= lo) & (month <= x))
            kl[sel] = x
        return kl

    @staticmethod
    def _take(queue):
        items = queue[:]
        queue.clear()
        if len(items) == 1:
            return items[0]
        return tuple(np.concatenate(col) for col in zip(*items))

    # -- the flow of one phase ----------------------------------------------------------------------------

    def _flow(self, open_k):
        """Work out everything that follows from the queued events; starts no earlier than ``open_k``."""
        P = self.plan
        R = self.R
        while self.q_done or self.q_eres or self.q_end or self.q_start or self.q_res or self.q_ready:
            if self.q_done:  # work done at c: the end, unless FF/SF links hold it
                pairs, a, c = self._take(self.q_done)
                held = P.held_end[a]
                if held.any():
                    free = ~held
                    self.q_end.append((pairs[free], a[free], c[free]))
                    waiting = pairs[held]
                    self.c[waiting] = c[held]
                    self.ecnt[waiting] -= 1
                    ready = waiting[self.ecnt[waiting] == 0]
                    if ready.size:
                        self._end(ready)
                else:
                    self.q_end.append((pairs, a, c))
            if self.q_eres:  # FF/SF links resolved: the bound each holds on its successor's end
                idx, links, bound = self._take(self.q_eres)
                self.ebnd[P.end_slot[links], idx % R] = bound
                np.subtract.at(self.ecnt, idx, 1)
                ready = self._unique(idx[self.ecnt[idx] == 0])
                if ready.size:
                    self._end(ready)
            if self.q_end:  # ends known: FS (lag >= 0) and FF links
                pairs, a, e = self._take(self.q_end)
                self.end[pairs] = e
                sel = P.has_on_end[a]
                if not sel.all():
                    pairs, a, e = pairs[sel], a[sel], e[sel]
                if pairs.size:
                    q = pairs - a * R
                    links, which = _expand(P.on_end_fs, a)
                    if links is not None:
                        self._resolve(P.succ[links] * R + q[which],
                                      np.ceil(e[which] + P.lag[links]).astype(np.int64) * KEY + P.tie[links])
                    links, which = _expand(P.on_end_ff, a)
                    if links is not None:
                        self.q_eres.append((P.succ[links] * R + q[which], links, e[which] + P.lag[links]))
            if self.q_start:  # starts known: SS and SF links
                pairs, a, s = self._take(self.q_start)
                q = pairs - a * R
                links, which = _expand(P.on_start_ss, a)
                if links is not None:
                    self._resolve(P.succ[links] * R + q[which],
                                  (s[which] + P.lag[links]).astype(np.int64) * KEY + P.tie[links])
                links, which = _expand(P.on_start_sf, a)
                if links is not None:
                    self.q_eres.append((P.succ[links] * R + q[which], links, s[which] + P.lag[links]))
            if self.q_res:  # start links resolved (successor pair, key)
                idx, key = self._take(self.q_res)
                mode = P.start_mode[idx // R]
                one = mode == 1  # the activity's only start link: free now
                if one.any():
                    self.q_ready.append((idx[one], key[one]))
                many = mode == 2
                if many.any():
                    idx, key = idx[many], key[many]
                    np.maximum.at(self.skey, idx, key)
                    np.subtract.at(self.scnt, idx, 1)
                    ready = self._unique(idx[self.scnt[idx] == 0])
                    if ready.size:
                        self.q_ready.append((ready, self.skey[ready]))
            if self.q_ready:
                pairs, key = self._take(self.q_ready)
                self._schedule(pairs, key, open_k)

    def _resolve(self, idx, key):
        self.q_res.append((idx, key))

    def _end(self, pairs):
        """End of pairs whose work is done and whose FF/SF predecessors are known: max(c, bounds), and the
        first link (in link order) whose bound is that max, if it is at least c."""
        P = self.plan
        R = self.R
        a = pairs // R
        slot = P.hold_slot[a]  # (pairs, most links)
        bound = np.where(slot >= 0, self.ebnd[np.maximum(slot, 0), (pairs - a * R)[:, None]], -np.inf)
        c = self.c[pairs]
        top = bound.max(axis=1)
        held = top >= c
        e = np.where(held, top, c)
        first = np.argmax(bound == top[:, None], axis=1)
        self.ed[pairs] = np.where(held, P.hold_link[a, first], NO_LINK)
        self.q_end.append((pairs, a, e))

    def _schedule(self, pairs, key, open_k):
        """Pairs whose start links are all resolved: their start, and what follows from it without money."""
        P = self.plan
        R = self.R
        a = pairs // R
        b = key // KEY  # NOKEY // KEY is far below any bound
        pb = P.plan_bound[a]
        ks = np.maximum(np.maximum(pb, b), open_k)
        keep = ks < P.horizon
        if not keep.all():  # starting at or after the horizon: not seen
            pairs, a, key, b, pb, ks = pairs[keep], a[keep], key[keep], b[keep], pb[keep], ks[keep]
            if not pairs.size:
                return
        self.start[pairs] = ks
        self.skey[pairs] = key  # the start driver is read from it at the end
        w = self.Wf[pairs]
        work = w > 0.0
        if work.all():
            self._enrol_at(pairs, a, ks, w, open_k)
        else:
            self._enrol_at(pairs[work], a[work], ks[work], w[work], open_k)
            zero = ~work
            self.q_done.append((pairs[zero], a[zero], ks[zero].astype(float)))
        sel = P.has_on_start[a]
        if sel.any():
            self.q_start.append((pairs[sel], a[sel], ks[sel].astype(float)))
        if P.neg_from:
            self._traced_start(pairs, a, ks)

    def _enrol_at(self, pairs, a, k0, w, open_k):
        """Pairs with work w > 0 start at k0: enrolled then (now if k0 is the next boundary to pay), with their
        last piece due at k_last."""
        P = self.plan
        cw = np.ceil(w)
        kl = k0 + cw.astype(np.int64) - 1
        if P.any_stops:
            kl = self._skip_stops(a, kl, k0)
        self.k_last[pairs] = kl
        self.w_last[pairs] = w - (cw - 1.0)
        now = k0 == open_k
        if now.all():
            self._enrol(pairs)
        else:
            self._enrol(pairs[now])
            later = ~now
            self.to_enrol.append((pairs[later], k0[later]))
        self.to_last.append((pairs, kl))

    def _trigger(self, t, rows, kb):
        """FS link t (negative lag) holds from boundary ``kb`` in iterations ``rows``."""
        l, _i, j, _x = self.plan.neg[t]
        self.trig[t][rows] = True
        self._resolve(j * self.R + rows, np.asarray(kb, dtype=np.int64) * KEY + self.plan.tie[l]
                      + np.zeros(len(rows), dtype=np.int64))

    def _traced_start(self, pairs, a, kb):
        """Trace entries at the start (work left W from ``kb``) of the traced activities among the pairs."""
        P = self.plan
        R = self.R
        sel = P.traced[a]
        if not sel.any():
            return
        pairs, a = pairs[sel], a[sel]
        kb = kb[sel] if np.ndim(kb) else kb
        w = self.Wf[pairs]
        for i in np.unique(a).tolist():
            m = a == i
            for t in P.neg_from[i]:
                ok = m & (w <= P.neg[t][3])
                if ok.any():
                    self._trigger(t, pairs[ok] - i * R, kb[ok] if np.ndim(kb) else kb)

    def _file(self):
        """File the enrolments and last pieces worked out in this phase (one push per calendar)."""
        H = self.plan.horizon
        for queue, calendar in ((self.to_enrol, self.cal_enrol), (self.to_last, self.cal_last)):
            if queue:
                pairs, months = self._take(queue)
                _push(calendar, pairs, months, H, self.R, self.plan.NS)

    # -- the bank -------------------------------------------------------------------------------------

    def _refill(self, caps):
        P = self.plan
        for s in range(P.S):
            cap = caps[s]
            row = self.X[P.pool_row[s]]
            if cap == np.inf:
                row[:] = np.inf
                self.finite[s] = False
            elif P.carry and self.finite[s]:
                row += cap
            else:
                row[:] = cap
                self.finite[s] = True

    def _enrol(self, pairs):
        if not pairs.size:
            return
        self.Xf[pairs] = self.rf[pairs]
        self.active += np.bincount(pairs // self.R, minlength=self.plan.NS)
        self.n_enrolled += len(pairs)

    def _short(self, rows, bq):
        """Iterations ``bq`` in which the pool of slab ``rows`` (the pool first, then the asks in funding order)
        ran short: the bank's loop ask by ask. (pairs paid nothing, pairs paid part, what each was paid)."""
        R = self.R
        sub = self.X[np.array(rows)[:, None], bq[None, :]]
        before = np.subtract.accumulate(sub, axis=0)[:-1]
        asks = sub[1:]
        first = np.argmax(asks > before, axis=0)  # the first ask larger than what is left
        pool_before = before[first, np.arange(len(bq))]
        acts = np.array(rows[1:], dtype=np.int64)
        jf = acts[first]
        some = pool_before > 0.0
        later = (np.arange(len(rows) - 1)[:, None] > first[None, :]) & (asks > 0.0)
        zi, zc = np.nonzero(later)
        zero = np.concatenate([jf[~some] * R + bq[~some], acts[zi] * R + bq[zc]])
        return zero, jf[some] * R + bq[some], pool_before[some]

    def _pay(self, k):
        P = self.plan
        R = self.R
        X, Xf = self.X, self.Xf
        last = _pop(self.cal_last, k)
        if last is not None:
            if k in self.dirty:
                self.dirty.discard(k)
                last = last[self.k_last[last] == k]  # not moved by a short pool since it was filed
            Xf[last] = self.rf[last] * self.w_last[last]  # the last piece is asked for in the month it is due
        stopped = P.stopped_rows.get(k) if P.any_stops else None

        traced = []  # traced activities enrolled now: (row, iterations enrolled)
        for i, ts in P.neg_from.items():
            if self.active[i] and (stopped is None or i not in stopped) and not all(self.trig[t].all() for t in ts):
                sl = slice(i * R, (i + 1) * R)
                traced.append((i, np.flatnonzero((self.start[sl] <= k) & (self.k_last[sl] >= k))))

        # The fold, per source with a cap this year: pool - ask - ask - ... in the funding order.
        mask = (self.active[P.fund_rows] > 0) & self.finite[P.fund_source]
        if stopped is not None:
            mask[P.fund_pos[stopped]] = False  # a stopped activity asks for nothing: skipping it is subtracting 0
        seg = np.flatnonzero(P.fund_is_pool[mask]).tolist()
        seg.append(int(mask.sum()))
        rows = P.fund_rows[mask].tolist()
        zero, partial, paid = [], [], []
        for t in range(len(seg) - 1):
            a, b = seg[t], seg[t + 1]
            if b - a < 2:
                continue
            res = X[rows[a]] - X[rows[a + 1]]
            for x in rows[a + 2:b]:
                np.subtract(res, X[x], out=res)
            short = res < 0.0
            if short.any():
                bq = np.flatnonzero(short)
                z, p, amount = self._short(rows[a:b], bq)
                zero.append(z)
                partial.append(p)
                paid.append(amount)
                res[bq] = 0.0
            X[rows[a]] = res

        held = self.held
        done_p, done_c = [], []
        zero = np.concatenate(zero) if zero else None
        if zero is not None and not zero.size:
            zero = None
        if zero is not None:
            held[zero] = True
            # Paid nothing: everything moves one paying month later.
            kl = self.k_last[zero]
            self.dirty.update(range(int(kl.min()), int(kl.max()) + 1))
            kl = kl + 1
            if P.any_stops:
                kl = self._skip_stops(zero // R, kl, kl)
            self.k_last[zero] = kl
            self.to_last.append((zero, kl))
        pp = np.concatenate(partial) if partial else None
        if pp is not None and not pp.size:
            pp = None
        if pp is not None:
            amount = np.concatenate(paid)
            held[pp] = True
            kl = self.k_last[pp]
            self.dirty.update(range(int(kl.min()), int(kl.max()) + 1))
            months = kl - k
            if P.any_stops:
                months = months - self._stops_before(pp // R, k, kl)
            w = self.w_last[pp] + months  # the work left at k
            left = w - amount / self.rf[pp]
            fin = left <= 0.0  # nothing left but by rounding: done as if paid in full
            if fin.any():
                done_p.append(pp[fin])
                done_c.append(k + w[fin])
            go = ~fin
            pg, lg = pp[go], left[go]
            cl = np.ceil(lg)
            kl_new = k + cl.astype(np.int64)
            if P.any_stops:
                kl_new = self._skip_stops(pg // R, kl_new, k + 1)
            change = kl_new != kl[go]
            self.k_last[pg] = kl_new
            self.w_last[pg] = lg - (cl - 1.0)
            self.to_last.append((pg[change], kl_new[change]))

        if last is not None and last.size:
            full = last[~held[last]] if (zero is not None or pp is not None) else last
            done_p.append(full)
            done_c.append(k + self.w_last[full])
        if zero is not None:
            held[zero] = False
        if pp is not None:
            held[pp] = False

        if done_p:
            dp = np.concatenate(done_p) if len(done_p) > 1 else done_p[0]
            dc = np.concatenate(done_c) if len(done_c) > 1 else done_c[0]
            if dp.size:
                self.k_last[dp] = -1
                Xf[dp] = 0.0
                a = dp // R
                self.active -= np.bincount(a, minlength=P.NS)
                self.n_enrolled -= len(dp)
                self.q_done.append((dp, a, dc))

        # Work left from k + 1 of the traced activities paid this month (trace entries after payment).
        if traced and zero is not None:
            held[zero] = True
        for i, en in traced:
            if zero is not None and en.size:
                en = en[~held[i * R + en]]
            p = i * R + en
            kl = self.k_last[p]
            months = kl - (k + 1)
            if P.any_stops:
                months = months - self._stops_before(np.full(len(p), i), k + 1, kl)
            left = np.where(kl >= 0, self.w_last[p] + months, 0.0)
            for t in P.neg_from[i]:
                ok = (left <= P.neg[t][3]) & ~self.trig[t][en]
                if ok.any():
                    self._trigger(t, en[ok], k + 1)
        if traced and zero is not None:
            held[zero] = False

        self._flow(k + 1)
        self._file()

    # -- the run --------------------------------------------------------------------------------------

    def run(self):
        P = self.plan
        R = self.R
        H = P.horizon
        q = np.arange(R, dtype=np.int64)
        done = np.flatnonzero((P.state == DONE) & ~P.is_pool)
        running = np.flatnonzero(P.state == RUNNING)
        # t = 0: the actual dates of done activities; running activities enrolled with their work left.
        if done.size:
            pairs = (done[:, None] * R + q[None, :]).reshape(-1)
            a = np.repeat(done, R)
            self.start[pairs] = P.fixed_start[a]
            for i in done.tolist():
                for t in P.neg_from.get(i, ()):
                    self._trigger(t, q, int(P.fixed_end[i]))
            self.q_start.append((pairs, a, P.fixed_start[a]))
            self.q_end.append((pairs, a, P.fixed_end[a]))
        if running.size:
            pairs = (running[:, None] * R + q[None, :]).reshape(-1)
            a = np.repeat(running, R)
            self.start[pairs] = P.fixed_start[a]
            w = self.Wf[pairs]
            work = w > 0.0
            self._enrol_at(pairs[work], a[work], np.zeros(int(work.sum()), dtype=np.int64), w[work], 0)
            if P.neg_from:
                self._traced_start(pairs, a, 0)
            self.q_start.append((pairs, a, P.fixed_start[a]))
            zero = ~work
            self.q_done.append((pairs[zero], a[zero], np.zeros(int(zero.sum()))))
        free = np.flatnonzero(P.scnt0 == 0)
        if free.size:
            pairs = (free[:, None] * R + q[None, :]).reshape(-1)
            self.q_ready.append((pairs, np.full(len(pairs), NOKEY, dtype=np.int64)))
        self._flow(0)
        self._file()

        refills, ri = P.refills, 0
        k = 0
        while k < H:
            while ri < len(refills) and refills[ri][0] <= k:
                self._refill(refills[ri][1])
                ri += 1
            pairs = _pop(self.cal_enrol, k)
            if pairs is not None:
                self._enrol(pairs)
            if self.n_enrolled:
                self._pay(k)
            if self.n_enrolled:
                k += 1
            elif self.cal_enrol:
                k = min(self.cal_enrol)
            else:
                break
        return self

    def outcomes(self, model, start, end, sd, ed, on_path):
        """Write this pass's results into the (iterations, activities) arrays given (views of the block's)."""
        P = self.plan
        R, n, H = self.R, P.n, float(P.horizon)
        s = self.start.reshape(-1, R)[:n]  # (activities, iterations) views of the state
        e = self.end.reshape(-1, R)[:n]
        np.fmin(s, H, out=s)  # not started: H
        np.fmin(e, H, out=e)  # not ended, or at/after the horizon (not seen): H
        d_end = self.ed.reshape(-1, R)  # meaningful only in the rows of activities with FF/SF links
        held = P.held_rows
        d_end[held] = np.where(e[held] == H, NO_LINK, d_end[held])
        key = self.skey.reshape(-1, R)[:n]
        b = key // KEY
        started = (s < H) & (P.state[:n] == FUTURE)[:, None] & (b >= P.plan_bound[:n][:, None])
        d_start = np.where(started, KEY - 1 - (key - b * KEY), NO_LINK)
        start[:] = s.T
        end[:] = e.T
        sd[:] = d_start.T
        ed[:] = NO_LINK
        if held.size:
            ed[:, held] = d_end[held].T
        on_path[:] = _paths(model, e, d_start, d_end, P.held_end).T


def _paths(model: SimModel, end: np.ndarray, start_driver: np.ndarray, end_driver: np.ndarray,
           held: np.ndarray) -> np.ndarray:
    """``driving_paths`` on (activities, iterations) arrays, all iterations and projects at once; ``end_driver``
    is read only for the activities ``held`` marks (those with FF/SF links), the others have none."""
    n, R = end.shape
    on_path = np.zeros((n, R), dtype=bool)
    pred = model.link_pred.astype(np.int64)
    project_of = model.project_of.astype(np.int64)
    qs, curs, ps = [], [], []
    for p, members in enumerate(model.members):
        if len(members):
            curs.append(members[np.argmax(end[members], axis=0)])  # the first listed among ties
            qs.append(np.arange(R))
            ps.append(np.full(R, p))
    if not curs:
        return on_path
    q, cur, proj = np.concatenate(qs), np.concatenate(curs).astype(np.int64), np.concatenate(ps)
    flat = on_path.reshape(-1)
    sd, ed = start_driver.reshape(-1), end_driver.reshape(-1)
    while q.size:
        at = cur * R + q
        own = project_of[cur] == proj
        flat[at[own]] = True
        li = np.where(held[cur], ed[at], NO_LINK)
        li = np.where(li != NO_LINK, li, sd[at])
        go = li != NO_LINK
        q, proj, cur = q[go], proj[go], pred[li[go]]
    return on_path


def run_block(model: SimModel, draws: Draws) -> Outcomes:
    """Execute every iteration of ``draws`` at once; the same ``Outcomes`` as ``engine_simpy.run_block``."""
    _keep_freed_memory()
    plan = _plan(model)
    rows, n = draws.size, model.n
    passes = max(1, min(-(-rows // MIN_PASS_ROWS), -(-rows * plan.NS // PASS_PAIRS)))
    step = -(-rows // passes)
    start, end = np.empty((rows, n)), np.empty((rows, n))
    sd, ed = np.empty((rows, n), dtype=np.int64), np.empty((rows, n), dtype=np.int64)
    on_path = np.empty((rows, n), dtype=bool)
    for a in range(0, rows, step):
        b = min(rows, a + step)
        _Pass(plan, draws.work[a:b], draws.rate[a:b]).run().outcomes(model, start[a:b], end[a:b], sd[a:b], ed[a:b],
                                                                      on_path[a:b])
    return Outcomes(draws.i0, start, end, on_path, sd, ed)
