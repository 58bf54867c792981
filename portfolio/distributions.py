"""Three-point duration distributions and the whole-month rule of the optimizer.

Both distributions are given by their inverse CDF, so that one uniform draw per
activity (possibly correlated through a Gaussian copula) gives its duration.

- triangular(o, m, p): the triangle on [o, p] with mode m.
- PERT-beta(o, m, p): o + (p - o) * Beta(1 + 4 (m - o) / (p - o), 1 + 4 (p - m) / (p - o)),
  mean (o + 4 m + p) / 6.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import betainc, betaincinv

DISTRIBUTIONS = ("triangular", "pert")


def triangular_ppf(u, o, m, p):
    u, o, m, p = (np.asarray(x, dtype=float) for x in (u, o, m, p))
    width = p - o
    safe = np.where(width > 0, width, 1.0)
    c = np.where(width > 0, (m - o) / safe, 0.5)
    low = o + np.sqrt(u * c) * width
    high = p - np.sqrt((1.0 - u) * (1.0 - c)) * width
    return np.where(u < c, low, high)


def triangular_cdf(x, o, m, p):
    x, o, m, p = (np.asarray(v, dtype=float) for v in (x, o, m, p))
    width = np.where(p > o, p - o, 1.0)
    left = np.where(m > o, (x - o) ** 2 / (width * np.where(m > o, m - o, 1.0)), 1.0)
    right = np.where(p > m, 1.0 - (p - x) ** 2 / (width * np.where(p > m, p - m, 1.0)), 1.0)
    return np.where(x <= o, 0.0, np.where(x >= p, 1.0, np.where(x <= m, left, right)))


def _pert_shape(o, m, p):
    width = np.where(p > o, p - o, 1.0)
    return 1.0 + 4.0 * (m - o) / width, 1.0 + 4.0 * (p - m) / width, width


def pert_ppf(u, o, m, p):
    u, o, m, p = (np.asarray(x, dtype=float) for x in (u, o, m, p))
    a, b, width = _pert_shape(o, m, p)
    return np.where(p > o, o + width * betaincinv(a, b, u), o)


def pert_cdf(x, o, m, p):
    x, o, m, p = (np.asarray(v, dtype=float) for v in (x, o, m, p))
    a, b, width = _pert_shape(o, m, p)
    z = np.clip((x - o) / width, 0.0, 1.0)
    return np.where(p > o, betainc(a, b, z), (x >= o).astype(float))


def ppf(distribution: str, u, o, m, p):
    return pert_ppf(u, o, m, p) if distribution == "pert" else triangular_ppf(u, o, m, p)


def cdf(distribution: str, x, o, m, p):
    return pert_cdf(x, o, m, p) if distribution == "pert" else triangular_cdf(x, o, m, p)


def whole_months(o: float, m: float, p: float, percentile: float | None = None, distribution: str = "triangular") -> int:
    """The optimizer's duration: the most likely value (or the given percentile), rounded half up, at least 1."""
    value = m if percentile is None else float(ppf(distribution, percentile / 100.0, o, m, p))
    return max(1, math.floor(value + 0.5))
