"""Every random draw of a run, keyed by (seed, iteration): the sampling layer.

Iteration i takes its draws from block b = i // BLOCK, row i % BLOCK, where block
b is drawn by ``numpy.random.default_rng([seed, b])`` in the fixed order of
docs/simulation.md ("Draws"). So iteration i gets the same draws whatever the
chunking or the number of workers, and any engine that executes ``Draws`` gets
the same inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import ndtr

from portfolio.distributions import cdf, ppf

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


def raw_block(model: SimModel, seed: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four raw arrays of a block, drawn in the documented order: e, f, occurs, impact."""
    rng = np.random.default_rng([int(seed), int(block)])
    e = rng.standard_normal((BLOCK, model.n))
    f = rng.standard_normal((BLOCK, len(model.categories)))
    occurs = rng.random((BLOCK, model.n_risks))
    impact = rng.random((BLOCK, model.n_risks))
    return e, f, occurs, impact


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
def _risk_sums(delay, ptr, targets, extra):
    """Into ``extra``, the delay added to each activity: 0.0 + the delays of the risks affecting it (risk r
    affects ``targets[ptr[r]:ptr[r + 1]]``), in register order: the same sums in every engine."""
    extra[:] = 0.0
    for q in range(delay.shape[0]):
        for r in range(delay.shape[1]):
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


def derive(model: SimModel, i0: int, e, f, occurs, impact, out: tuple | None = None) -> Draws:
    """The per-iteration values both engines execute, from the raw draws (rows = iterations); into ``out`` (arrays
    as ``_empty`` makes them) if given."""
    u, duration, extra, work, rate, occurred, delay = out if out is not None else _empty(model, len(e))
    rho = model.correlation
    if rho == 0.0:  # 0 * f + 1 * e is e (or a zero of the other sign, and ndtr(-0) == ndtr(0)): the same u
        z = e
    else:  # (take, not f[:, index]: that would give the arrays below column-major order, slow to read by rows)
        z = np.sqrt(rho) * f.take(model.category_of, axis=1) + np.sqrt(1.0 - rho) * e
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
    _risk_sums(delay, np.searchsorted(risk, np.arange(model.n_risks + 1)), target, extra)

    _work_rate(duration, extra, model.elapsed, model.cost, done, work, rate)
    return Draws(i0, i0 + len(e), u, duration, extra, work, rate, occurred, delay)


def draw_block(model: SimModel, seed: int, block: int) -> Draws:
    """All draws of block ``block``: iterations block * BLOCK .. (block + 1) * BLOCK - 1."""
    return derive(model, block * BLOCK, *raw_block(model, seed, block))


def draws_for(model: SimModel, seed: int, i0: int, i1: int, cache: dict | None = None) -> Draws:
    """Draws of iterations i0 .. i1 - 1 from their blocks (``cache`` keeps the last block drawn). Blocks wholly
    inside the range are derived straight into the result's rows (no copy)."""
    if not 0 <= i0 < i1:
        raise ValueError(f"bad iteration range {i0}..{i1}")
    blocks = range(i0 // BLOCK, (i1 - 1) // BLOCK + 1)
    out = _empty(model, i1 - i0) if len(blocks) > 1 else None
    for block in blocks:
        b0 = block * BLOCK
        lo, hi = max(i0, b0), min(i1, b0 + BLOCK)
        if out is not None and (lo, hi) == (b0, b0 + BLOCK):
            derive(model, b0, *raw_block(model, seed, block), out=tuple(a[lo - i0:hi - i0] for a in out))
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
