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
from scipy.special import ndtr

from portfolio.distributions import cdf, ppf, triangular_ppf

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


def raw_block(model: SimModel, seed: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four raw arrays of a block, drawn in the documented order: e, f, occurs, impact."""
    rng = np.random.default_rng([int(seed), int(block)])
    e = rng.standard_normal((BLOCK, model.n))
    f = rng.standard_normal((BLOCK, len(model.categories)))
    occurs = rng.random((BLOCK, model.n_risks))
    impact = rng.random((BLOCK, model.n_risks))
    return e, f, occurs, impact


def derive(model: SimModel, i0: int, e, f, occurs, impact) -> Draws:
    """The per-iteration values both engines execute, from the raw draws (rows = iterations)."""
    rho = model.correlation
    if rho == 0.0:  # 0 * f + 1 * e is e (or a zero of the other sign, and ndtr(-0) == ndtr(0)): the same u
        z = e
    else:  # (take, not f[:, index]: that would give the arrays below column-major order, slow to read by rows)
        z = np.sqrt(rho) * f.take(model.category_of, axis=1) + np.sqrt(1.0 - rho) * e
    u = ndtr(z)
    dist, o, m, p = model.distribution, model.o, model.m, model.p

    duration = ppf(dist, u, o, m, p)
    running = model.state == RUNNING
    if running.any():
        elapsed = model.elapsed[running]
        fe = cdf(dist, elapsed, o[running], m[running], p[running])
        cond = ppf(dist, fe + u[:, running] * (1.0 - fe), o[running], m[running], p[running])
        duration[:, running] = np.where(fe < 1.0, cond, elapsed + 1.0)
    done = model.state == DONE
    duration[:, done] = (model.fixed_end - model.fixed_start)[done]

    occurred = occurs < model.risk_prob
    delay = np.where(occurred, triangular_ppf(impact, model.risk_o, model.risk_m, model.risk_p), 0.0)
    extra = np.zeros_like(duration)
    for r in range(model.n_risks):  # fixed order, so that the sums are the same in every engine
        extra[:, model.affects[r]] += delay[:, r:r + 1]

    work = np.maximum(duration - model.elapsed, 0.0) + extra
    work[:, done] = 0.0
    total = duration + extra
    rate = np.where(model.cost > 0, model.cost / np.where(total > 0, total, 1.0), 0.0)
    rate[:, done] = 0.0
    return Draws(i0, i0 + len(u), u, duration, extra, work, rate, occurred, delay)


def draw_block(model: SimModel, seed: int, block: int) -> Draws:
    """All draws of block ``block``: iterations block * BLOCK .. (block + 1) * BLOCK - 1."""
    return derive(model, block * BLOCK, *raw_block(model, seed, block))


def draws_for(model: SimModel, seed: int, i0: int, i1: int, cache: dict | None = None) -> Draws:
    """Draws of iterations i0 .. i1 - 1, sliced from their blocks (``cache`` keeps the last block drawn)."""
    if not 0 <= i0 < i1:
        raise ValueError(f"bad iteration range {i0}..{i1}")
    parts = []
    for block in range(i0 // BLOCK, (i1 - 1) // BLOCK + 1):
        if cache is not None and cache.get("key") == (id(model), seed, block):
            d = cache["draws"]
        else:
            d = draw_block(model, seed, block)
            if cache is not None:
                cache.update(key=(id(model), seed, block), draws=d)
        lo, hi = max(i0, d.i0) - d.i0, min(i1, d.i1) - d.i0
        parts.append(d.rows(lo, hi))
    if len(parts) == 1:
        return parts[0]
    return Draws(i0, i1, *(np.concatenate([getattr(x, name) for x in parts])
                           for name in ("u", "duration", "extra", "work", "rate", "occurred", "delay")))
