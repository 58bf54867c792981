"""Every random draw of a run, keyed by (seed, what it is drawn for, iteration): the sampling layer.

The uniforms of activity a in iteration i are a function of the seed, a's id and i only (``simulate.keyed``:
Philox4x64-10 keyed by a stable hash of the id and the seed, counter by the iteration), and so are those of each
category's common factor and each risk, by name and id; see docs/simulation.md ("Draws"). So iteration i gets the
same draws whatever the chunking or the number of workers, an activity gets the same draws whatever other rows the
portfolio has or in what order, and any engine that executes ``Draws`` gets the same inputs. Iterations are drawn
in blocks of BLOCK, the unit the runner hands out (``draws_for`` keeps the last one for the next chunk); the block
changes none of the numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import ndtr, ndtri

from portfolio.distributions import cdf, ppf

from .execution import PROJECT_STREAM, crash_held
from .keyed import uniforms
from .model import BLOCK, DONE, RUNNING, SimModel


@dataclass(frozen=True, eq=False)
class Draws:
    """Draws and derived values of iterations i0 .. i1 - 1 (rows), per activity or risk (columns)."""

    i0: int
    i1: int
    u: np.ndarray  # duration percentile per activity (for a running one: of the conditioned draw)
    duration: np.ndarray  # base duration D (total, including months worked before the status date)
    extra: np.ndarray  # risk delay added to each activity's work (months)
    work: np.ndarray  # W: months of work left at t = 0 (remaining base work + risk delays; 0 when done)
    rate: np.ndarray  # money per month of work: cost / (D + delays)
    occurred: np.ndarray  # bool per risk
    delay: np.ndarray  # months of delay per risk (0 when it does not occur)

    @property
    def size(self) -> int:
        return self.i1 - self.i0

    def rows(self, a: int, b: int) -> "Draws":
        """Rows a .. b - 1 of these draws (iterations i0 + a .. i0 + b - 1)."""
        return Draws(self.i0 + a, self.i0 + b, self.u[a:b], self.duration[a:b], self.extra[a:b],
                     self.work[a:b], self.rate[a:b], self.occurred[a:b], self.delay[a:b])


FIELDS = ("u", "duration", "extra", "work", "rate", "occurred", "delay")  # the (rows, ...) arrays of Draws


def raw_rows(model: SimModel, seed: int, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The keyed uniforms of iterations i0 .. i1 - 1 (rows): per activity v, per category g, per risk occurs and
    impact (docs/simulation.md, "Draws")."""
    rows = i1 - i0
    v, g = np.empty((rows, model.n)), np.empty((rows, len(model.categories)))
    occurs, impact = np.empty((rows, model.n_risks)), np.empty((rows, model.n_risks))
    for keys, stream, out in ((model.activity_keys, 0, v), (model.category_keys, 0, g),
                              (model.risk_keys, 0, occurs), (model.risk_keys, 1, impact)):
        uniforms(np.uint64(seed), keys, stream, int(i0), out)
    return v, g, occurs, impact


def held_rows(model: SimModel, seed: int, i0: int, i1: int) -> np.ndarray:
    """Whether each project is held to its deadline in iterations i0 .. i1 - 1 (rows): its own keyed stream (kind
    "project"), so no other draw moves (simulate.execution)."""
    out = np.empty((i1 - i0, len(model.project_keys)))
    uniforms(np.uint64(seed), model.project_keys, PROJECT_STREAM, int(i0), out)
    return out < model.held_share


def raw_block(model: SimModel, seed: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``raw_rows`` of the iterations of block ``block``."""
    return raw_rows(model, seed, block * BLOCK, (block + 1) * BLOCK)


@njit(cache=True)
def _triangular_ppf(u, o, m, p, out):
    """``triangular_ppf`` of a (rows, activities) array into ``out``: the same operations per element, but only
    the branch each element takes (numpy computes both, with two square roots, over the whole array)."""
    width = p - o
    c = np.empty_like(width)
    for a in range(len(c)):
        c[a] = (m[a] - o[a]) / width[a] if width[a] > 0 else 0.5
    for q in range(u.shape[0]):
        for a in range(u.shape[1]):
            x = u[q, a]
            if x < c[a]:
                out[q, a] = o[a] + np.sqrt(x * c[a]) * width[a]
            else:
                out[q, a] = p[a] - np.sqrt((1.0 - x) * (1.0 - c[a])) * width[a]
    return out


@njit(cache=True)
def _risk_sums(delay, order, ptr, targets, extra):
    """Into ``extra``, the delay added to each activity: 0.0 + the delays of the risks affecting it (risk r
    affects ``targets[ptr[r]:ptr[r + 1]]``), risk by risk in ``order`` (that of their ids, so that reordering
    the register leaves the sums' rounding as it is): the same sums in every engine."""
    extra[:] = 0.0
    for q in range(delay.shape[0]):
        for r in order:
            for t in range(ptr[r], ptr[r + 1]):
                extra[q, targets[t]] += delay[q, r]


@njit(cache=True)
def _work_rate(duration, extra, elapsed, cost, done, work, rate):
    """Into ``work`` and ``rate``: W = max(D - elapsed, 0) + delays and rate = cost / (D + delays) (0 without
    cost; both 0 when done), in one pass: the operations of the formulas, element by element."""
    for q in range(duration.shape[0]):
        for a in range(duration.shape[1]):
            if done[a]:
                work[q, a] = 0.0
                rate[q, a] = 0.0
                continue
            d = duration[q, a]
            x = extra[q, a]
            work[q, a] = max(d - elapsed[a], 0.0) + x
            total = d + x
            rate[q, a] = cost[a] / (total if total > 0 else 1.0) if cost[a] > 0 else 0.0


def _running_durations(model: SimModel, u, running) -> np.ndarray:
    """Total durations of the running activities: a draw conditioned on exceeding the months already worked (or, for
    stated progress, a draw of the scaled work left at the statement conditioned on exceeding the months since it);
    1 month left when the estimate is exhausted."""
    dist = model.distribution
    o, m, p, elapsed = (a[running] for a in (model.run_o, model.run_m, model.run_p, model.run_elapsed))
    fe = cdf(dist, elapsed, o, m, p)
    x = fe + u.take(np.flatnonzero(running), axis=1) * (1.0 - fe)
    cond = _triangular_ppf(x, o, m, p, np.empty_like(x)) if dist == "triangular" else ppf(dist, x, o, m, p)
    drawn = np.where(fe < 1.0, cond, elapsed + 1.0)
    stated = model.stated[running]
    if not stated.any():
        return drawn
    return np.where(stated, model.elapsed[running] + (drawn - elapsed), drawn)  # months worked + work left


def _empty(model: SimModel, rows: int) -> tuple:
    """Arrays for the fields of ``Draws`` (FIELDS order) of ``rows`` iterations."""
    n, r = model.n, model.n_risks
    return (*(np.empty((rows, n)) for _ in range(5)), np.empty((rows, r), dtype=bool), np.empty((rows, r)))


def derive(model: SimModel, i0: int, v, g, occurs, impact, out: tuple | None = None,
           held: np.ndarray | None = None) -> Draws:
    """The per-iteration values both engines execute, from the raw uniforms (rows = iterations); into ``out``
    (arrays as ``_empty`` makes them) if given; ``held`` (rows, projects): the projects held to their deadline,
    whose remaining work is crashed (simulate.execution)."""
    u, duration, extra, work, rate, occurred, delay = out if out is not None else _empty(model, len(v))
    rho = model.correlation
    if rho == 0.0:  # Phi(Phi^-1(v)) is v: the activity's own uniform, without the round trip's rounding
        np.copyto(u, v)
    else:  # (take, not g[:, index]: that would give the arrays below column-major order, slow to read by rows)
        z = np.sqrt(rho) * ndtri(g).take(model.category_of, axis=1) + np.sqrt(1.0 - rho) * ndtri(v)
        ndtr(z, out=u)
    dist, o, m, p = model.distribution, model.o, model.m, model.p

    if dist == "triangular":
        _triangular_ppf(u, o, m, p, duration)
    else:
        duration[:] = ppf(dist, u, o, m, p)
    running = model.state == RUNNING
    if running.any():
        duration[:, running] = _running_durations(model, u, running)
    done = model.state == DONE
    duration[:, done] = (model.fixed_end - model.fixed_start)[done]

    np.less(occurs, model.risk_prob, out=occurred)
    delay[:] = np.where(occurred, _triangular_ppf(impact, model.risk_o, model.risk_m, model.risk_p,
                                                  np.empty_like(impact)), 0.0)
    risk, target = np.nonzero(model.affects)
    by_id = np.array(sorted(range(model.n_risks), key=model.risk_ids.__getitem__), dtype=np.int64)
    _risk_sums(delay, by_id, np.searchsorted(risk, np.arange(model.n_risks + 1)), target, extra)

    _work_rate(duration, extra, model.elapsed, model.cost, done, work, rate)
    if held is not None and held.any():
        crash_held(work, rate, held, model.project_of, done)
    return Draws(i0, i0 + len(v), u, duration, extra, work, rate, occurred, delay)


def draw_block(model: SimModel, seed: int, block: int) -> Draws:
    """All draws of block ``block``: iterations block * BLOCK .. (block + 1) * BLOCK - 1."""
    return derive(model, block * BLOCK, *raw_block(model, seed, block),
                  held=held_rows(model, seed, block * BLOCK, (block + 1) * BLOCK))


def draws_for(model: SimModel, seed: int, i0: int, i1: int, cache: dict | None = None) -> Draws:
    """Draws of iterations i0 .. i1 - 1 from their blocks (``cache`` keeps the last block drawn, which the next
    chunks of the SimPy engine slice). Blocks wholly inside the range are derived straight into the result's rows
    (no copy)."""
    if not 0 <= i0 < i1:
        raise ValueError(f"bad iteration range {i0}..{i1}")
    blocks = range(i0 // BLOCK, (i1 - 1) // BLOCK + 1)
    out = _empty(model, i1 - i0) if len(blocks) > 1 else None
    for block in blocks:
        b0 = block * BLOCK
        lo, hi = max(i0, b0), min(i1, b0 + BLOCK)
        if out is not None and (lo, hi) == (b0, b0 + BLOCK):
            derive(model, b0, *raw_block(model, seed, block), out=tuple(a[lo - i0:hi - i0] for a in out),
                   held=held_rows(model, seed, b0, b0 + BLOCK))
            continue
        if cache is not None and cache.get("key") == (id(model), seed, block):
            d = cache["draws"]
        else:
            d = draw_block(model, seed, block)
            if cache is not None:
                cache.update(key=(id(model), seed, block), draws=d)
        if out is None:
            return d.rows(lo - b0, hi - b0)
        for a, name in zip(out, FIELDS):
            a[lo - i0:hi - i0] = getattr(d, name)[lo - b0:hi - b0]
    return Draws(i0, i1, *out)
