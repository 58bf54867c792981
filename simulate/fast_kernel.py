"""The fast engine's compiled kernel: the execution rule of docs/simulation.md, one iteration after the other.

Each iteration is the SimPy engine's simulation without the event machinery: the same floating-point
operations on the same values in the same order (``ask``, ``pool - ask``, ``w - 1.0``, ``w - pool / r``,
``k + w``, ``ceil(end + lag)``, ``end + lag``), so the results are the SimPy engine's bit for bit. What SimPy
learns by waiting, the kernel learns as soon as it is known: a start, an end or the first boundary at which a
predecessor's work left is small enough (an FS link with a negative lag) resolves the links out of that
activity; when the last start link of an activity is resolved its start month is fixed (the largest of its
bounds and the first boundary whose payments are not done) and filed in a calendar; when its own work and its
last FF/SF link are resolved its end is fixed. Month by month the kernel starts what the calendar holds (with
the cascades at that month), pays in the funding order, and works out what follows. Times at or after the
horizon are never reached, as in SimPy.

A deliberate twin of ``engine_simpy``: blocks such as the 1 January refills read alike in both. They are kept in
step on purpose rather than shared (the reference stays readable SimPy code, this stays numba code on flat
arrays); a change to one is made to the other in the same commit, and tests/test_engine_fast.py guards that
both give the same ``Outcomes`` bit for bit (and the same output files).

Compiled with numba (``cache=True``; no fastmath, which would let the compiler reorder float operations).
Helpers take scalars only: passing an array to a compiled function costs atomic reference counts.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .model import DONE, FUTURE, RUNNING

NEVER = 1 << 40  # a link count that never reaches 0: links into a started activity do not bind
UNSET = -(1 << 62)  # bound of an FS link with a negative lag, not yet known
# Indices read from arrays are cast to unsigned: numba then leaves out the negative-index wraparound it adds to
# every signed index (about a tenth of the kernel's time).
_u = np.uint64
ONE = np.uint64(1)


@intrinsic
def _lowest_bit(typingctx, x):
    """The index of the lowest set bit of a nonzero int64 (one instruction: LLVM's cttz)."""
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [ir.IntType(64), ir.IntType(1)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])
    return types.int64(types.int64), codegen


@njit(cache=True)
def _bound(kind, start, end, neg, lag):
    """The bound a resolved start link puts on its successor's start: FS ceil(end + lag), SS start + lag, FS
    with a negative lag the first boundary at which the predecessor had at most -lag months left (``neg``)."""
    if kind == 0:
        return np.int64(np.ceil(end + lag))
    if kind == 1:
        return np.int64(start) + np.int64(lag)
    return neg


@njit(cache=True)
def run_rows(work, rate, start_out, end_out, sd_out, ed_out, path_out,
             horizon, state, plan_bound, fixed_start, fixed_end, source_of, rank, traced,
             sl_ptr, sl_link, sl_pred, sl_kind, sl_lag, el_ptr, el_link, el_pred, el_ff, el_lag,
             oe_ptr, oe_succ, oe_hold, os_ptr, os_succ, os_hold, ng_ptr, ng_link, ng_succ, ng_x,
             n_start, n_end, pool0, refill_k, refill_cap, carry, stop_ptr, stop_act,
             link_pred, project_of, mem_ptr, members):
    """Execute the rows of ``work``/``rate`` into the (rows, activities) output arrays.

    Start links per successor (``sl_*``, link order; kind 0 FS, 1 SS, 2 FS with a negative lag), FF/SF links
    per successor (``el_*``, link order), links out of each activity on its end (``oe_*``: FS, FF) and start
    (``os_*``: SS, SF; ``hold``: the link holds the successor's end), FS links with a negative lag per
    predecessor (``ng_*``, ``x`` = -lag). ``n_start``/``n_end``: per activity its start links / FF-SF links + 1
    (its own work), NEVER where they do not bind. ``rank``: the funding rank.
    """
    rows, n = work.shape
    H = horizon
    S = pool0.shape[0]
    n_refills = refill_k.shape[0]
    has_stops = stop_ptr.shape[0] > 0
    c = np.empty(n)  # when the activity's work is done
    scnt = np.empty(n, np.int64)
    ecnt = np.empty(n, np.int64)
    negb = np.empty(link_pred.shape[0], np.int64)
    head = np.full(H, -1, np.int64)  # calendar: month -> first activity filed to start then (linked by nxt)
    nxt = np.empty(n, np.int64)
    stack = np.empty(link_pred.shape[0] + 2 * n + 1, np.int64)  # resolutions: 2 * activity + (1: end, 0: start)
    stopped = np.empty(n, np.int64)  # the enrolled ranks a stoppage takes out for a month
    pools = np.empty(S)
    # The enrolled activities: bit rk of the words ``enrolled`` for funding rank rk (so that the bank visits them
    # in the funding order and enrolling costs nothing); what the bank reads of them, by rank (src: the source, or
    # -1 - source for an activity whose work left is traced).
    n_words = (n + 63) // 64
    enrolled = np.zeros(n_words, np.int64)
    by_j = np.empty(n, np.int64)
    by_w = np.empty(n)  # work left
    by_r = np.empty(n)  # rate
    by_src = np.empty(n, np.int64)
    # Per source (S <= 64), the enrolled ranks that its pool, once empty, leaves exactly as they are (the bank's
    # visit changes nothing): untraced, with a rate of at least 1, so that the ask (rate x work left, work left > 0)
    # is above 0 and nothing is paid. While the pool is empty (``empty``: bit s) the bank skips them; a pool grows
    # only at a refill, as rates are never negative (0, or a cost over a positive duration, or that times the crash
    # premium). A rank left out of ``idle`` is visited, as before.
    idle = np.zeros(S * n_words, np.int64)
    for q in range(rows):
        start = start_out[q]
        end = end_out[q]
        sd = sd_out[q]
        ed = ed_out[q]
        top = 0
        n_filed = 0  # activities in the calendar
        for j in range(n):
            scnt[j] = n_start[j]
            ecnt[j] = n_end[j]
            start[j] = np.nan
            end[j] = np.nan
            sd[j] = -1
            ed[j] = -1
        for t in range(ng_link.shape[0]):
            negb[ng_link[t]] = UNSET
        for s in range(S):
            pools[s] = pool0[s]
        enrolled[:] = 0
        idle[:] = 0
        empty = np.int64(0)  # the sources whose pool is empty (bit s); a pool grows only at a refill
        for s in range(min(S, 64)):
            if pools[s] == 0.0:
                empty |= np.int64(1) << np.int64(s)
        n_active = 0
        ri = 0
        # t = 0: done activities at their actual dates; running ones are "started" at 0 (enrolled with their work
        # left); activities without start links are resolved by their bounds alone.
        for j in range(n):
            if state[j] == DONE:
                start[j] = fixed_start[j]
                end[j] = fixed_end[j]
                for t in range(oe_ptr[j], oe_ptr[j + 1]):
                    stack[top] = 2 * oe_succ[t] + oe_hold[t]
                    top += 1
                for t in range(os_ptr[j], os_ptr[j + 1]):
                    stack[top] = 2 * os_succ[t] + os_hold[t]
                    top += 1
                for t in range(ng_ptr[j], ng_ptr[j + 1]):
                    negb[ng_link[t]] = np.int64(fixed_end[j])
                    stack[top] = 2 * ng_succ[t]
                    top += 1
            elif state[j] == RUNNING:
                start[j] = fixed_start[j]
                nxt[j] = head[0]
                head[0] = j
                n_filed += 1
            elif scnt[j] == 0:
                stack[top] = 2 * j
                scnt[j] = 1
                top += 1
        k = 0
        while True:
            # Month k before its payments (first open boundary k), then after them (k + 1): work out every
            # resolution, and before the payments start what is filed for k (cascades included).
            for phase in range(2):
                open_k = k + phase
                while True:
                    if top:
                        top -= 1
                        j = stack[top] >> 1
                        u = _u(j)
                        if stack[top] & 1:
                            ecnt[u] -= 1
                            if ecnt[u]:
                                continue
                            # Work done at c[j]: the end is the largest FF/SF bound at least c (first on ties).
                            cj = c[u]
                            e = cj
                            drv = -1
                            for t in range(_u(el_ptr[u]), _u(el_ptr[u + ONE])):
                                i = _u(el_pred[t])
                                b = (end[i] if el_ff[t] else start[i]) + el_lag[t]
                                if b >= cj and (drv == -1 or b > e):
                                    drv = el_link[t]
                                    e = b
                            if e >= H:
                                continue  # never reached
                            end[u] = e
                            ed[u] = drv
                            for t in range(_u(oe_ptr[u]), _u(oe_ptr[u + ONE])):
                                stack[top] = 2 * oe_succ[t] + oe_hold[t]
                                top += 1
                        else:
                            scnt[u] -= 1
                            if scnt[u]:
                                continue
                            # The start: the first open boundary from the largest bound; the driver: the link of
                            # the largest bound at least the plan's (first on ties).
                            drv = -1
                            best = plan_bound[u]
                            for t in range(_u(sl_ptr[u]), _u(sl_ptr[u + ONE])):
                                i = _u(sl_pred[t])
                                b = _bound(sl_kind[t], start[i], end[i], negb[_u(sl_link[t])], sl_lag[t])
                                if b >= best and (drv == -1 or b > best):
                                    drv = sl_link[t]
                                    best = b
                            kk = max(best, open_k)
                            if kk < H:
                                sd[u] = drv
                                nxt[u] = head[_u(kk)]
                                head[_u(kk)] = j
                                n_filed += 1
                    elif phase == 0 and head[_u(k)] >= 0:
                        # Start j at k, and what follows from the start without money.
                        j = head[_u(k)]
                        u = _u(j)
                        head[_u(k)] = nxt[u]
                        n_filed -= 1
                        if state[u] == FUTURE:
                            start[u] = k
                        for t in range(_u(os_ptr[u]), _u(os_ptr[u + ONE])):
                            stack[top] = 2 * os_succ[t] + os_hold[t]
                            top += 1
                        wj = work[q, u]
                        if traced[u]:
                            for t in range(_u(ng_ptr[u]), _u(ng_ptr[u + ONE])):
                                if wj <= ng_x[t]:
                                    negb[_u(ng_link[t])] = k
                                    stack[top] = 2 * ng_succ[t]
                                    top += 1
                        if wj > 0.0:  # enrol, in the funding order
                            rk = _u(rank[u])
                            enrolled[rk >> _u(6)] |= np.int64(1) << np.int64(rk & _u(63))
                            n_active += 1
                            by_j[rk] = j
                            by_w[rk] = wj
                            by_r[rk] = rate[q, u]
                            by_src[rk] = -1 - source_of[u] if traced[u] else source_of[u]
                            if not traced[u] and by_r[rk] >= 1.0 and S <= 64:
                                idle[_u(source_of[u] * n_words) + (rk >> _u(6))] |= np.int64(1) << np.int64(rk & _u(63))
                        else:
                            c[u] = float(k)
                            stack[top] = 2 * j + 1
                            top += 1
                    else:
                        break
                if phase == 1 or n_active == 0:
                    break
                # The payments of month k (the SimPy bank's loop): the enrolled in the funding order (lowest set
                # bit first), each source paying from its own pool.
                while ri < n_refills and refill_k[ri] <= k:
                    for s in range(S):
                        cap = refill_cap[ri, s]
                        if cap == np.inf:
                            pools[s] = np.inf
                        elif carry and pools[s] != np.inf:
                            pools[s] += cap
                        else:
                            pools[s] = cap
                    ri += 1
                    empty = np.int64(0)
                    for s in range(min(S, 64)):
                        if pools[s] == 0.0:
                            empty |= np.int64(1) << np.int64(s)
                # A stopped activity asks for nothing: out of the enrolled while the bank pays.
                n_stopped = 0
                if has_stops:
                    for t in range(stop_ptr[k], stop_ptr[k + 1]):
                        rk = _u(rank[_u(stop_act[t])])
                        bit = np.int64(1) << np.int64(rk & _u(63))
                        if enrolled[rk >> _u(6)] & bit:
                            enrolled[rk >> _u(6)] ^= bit
                            stopped[n_stopped] = rk
                            n_stopped += 1
                for wi in range(n_words):
                    m = enrolled[wi]
                    e = empty
                    while e:
                        b = e & -e
                        e ^= b
                        m &= ~idle[_u(_lowest_bit(b) * n_words + wi)]
                    while m:
                        bit = m & -m
                        m ^= bit
                        rk = _u((wi << 6) | _lowest_bit(bit))
                        s = by_src[rk]
                        wj = by_w[rk]
                        r = by_r[rk]
                        if s >= 0 and wj > 1.0:  # the common case: an untraced activity, not on its last piece
                            pool = pools[_u(s)]
                            if r <= pool:
                                pools[_u(s)] = pool - r
                                by_w[rk] = wj - 1.0
                                continue
                            if pool == 0.0:  # an empty pool pays nothing and the work waits, unchanged, as the
                                continue  # general case below leaves it (common where crashed rates empty pools)
                        if s < 0:
                            s = -1 - s
                        pool = pools[_u(s)]
                        ask = r * wj if wj <= 1.0 else r
                        left = 0.0  # work left at k + 1
                        if ask <= pool:
                            pools[_u(s)] = pool - ask
                            if wj > 1.0:
                                left = wj - 1.0
                        else:  # paid part: works pool / r months, then pauses for the rest of the month
                            pools[_u(s)] = 0.0
                            if S <= 64:  # skip the rest of the source's idle ranks, in this word and after
                                empty |= np.int64(1) << np.int64(s)
                                m &= ~idle[_u(s * n_words + wi)]
                            left = wj
                            if pool > 0.0:
                                left = wj - pool / r
                                if left <= 0.0:  # only by rounding: as if paid in full
                                    left = 0.0
                        j = by_j[rk]
                        u = _u(j)
                        if by_src[rk] < 0:
                            for t in range(_u(ng_ptr[u]), _u(ng_ptr[u + ONE])):
                                if negb[_u(ng_link[t])] == UNSET and left <= ng_x[t]:
                                    negb[_u(ng_link[t])] = k + 1
                                    stack[top] = 2 * ng_succ[t]
                                    top += 1
                        if left <= 0.0:  # the last piece wj is paid: the work is done at k + wj
                            c[u] = k + wj
                            stack[top] = 2 * j + 1
                            top += 1
                            enrolled[wi] ^= bit
                            n_active -= 1
                            continue
                        by_w[rk] = left
                for t in range(n_stopped):
                    rk = _u(stopped[t])
                    enrolled[rk >> _u(6)] |= np.int64(1) << np.int64(rk & _u(63))
            # The next month with anything to do: the next one while someone is paid, else the next start.
            if n_active:
                k += 1
                if k >= H:
                    break
            elif n_filed:
                k += 1
                while head[k] < 0:
                    k += 1
            else:
                break
        for j in range(n):
            if not start[j] < H:
                start[j] = H
            if not end[j] < H:
                end[j] = H
        _paths(end, sd, ed, path_out[q], link_pred, project_of, mem_ptr, members)


@njit(cache=True, inline="always")
def _paths(end, sd, ed, on_path, link_pred, project_of, mem_ptr, members):
    """``outcomes.driving_paths`` of one iteration: from each project's last-ending activity (first listed
    among ties) back along the end driver, else the start driver, marking the project's own activities."""
    for j in range(on_path.shape[0]):
        on_path[j] = False
    for p in range(mem_ptr.shape[0] - 1):
        lo, hi = mem_ptr[p], mem_ptr[p + 1]
        if lo == hi:
            continue
        cur = members[lo]
        for t in range(lo + 1, hi):
            if end[members[t]] > end[cur]:
                cur = members[t]
        while True:
            if project_of[cur] == p:
                on_path[cur] = True
            li = ed[cur] if ed[cur] != -1 else sd[cur]
            if li == -1:
                break
            cur = link_pred[li]
