"""How far two Monte Carlo runs may differ by sampling alone (the rules of docs/regression.md).

Every bound is Z standard errors of the difference between two independent
runs with n_a and n_b iterations. Z = 4 for single figures (a false alarm about
once in 16,000 figures); Z_CURVE = 4.5 for the points of a finish-month
distribution, of which there are many per project.
"""
from __future__ import annotations

import math

Z = 4.0
Z_CURVE = 4.5
ROUNDING = 0.005  # half a unit in the last place of figures written with 2 decimals
# Fisher's SE 1/sqrt(n - 3) holds for normal data; durations mixed with risk events have heavier tails,
# which widen the spread of a correlation (measured up to 1.3 times on the sample portfolio).
SENSITIVITY_INFLATION = 1.5


def smoothed(p: float, n: int) -> float:
    """(x + 1) / (n + 2) for a share p = x / n: never exactly 0 or 1, so a bound never collapses to 0."""
    return (p * n + 1) / (n + 2)


def proportion_se(p_a: float, n_a: int, p_b: float, n_b: int) -> float:
    """Standard error of p_a - p_b under the hypothesis of one common p (pooled, smoothed)."""
    pooled = (p_a * n_a + p_b * n_b + 1) / (n_a + n_b + 2)
    return math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))


def proportion_tolerance(p_a: float, n_a: int, p_b: float, n_b: int, z: float = Z) -> float:
    return z * proportion_se(p_a, n_a, p_b, n_b)


def band_tolerance(q: float, n_a: int, n_b: int, z: float = Z) -> float:
    """Half-width of the band around a CDF level q (for quantile months)."""
    return z * math.sqrt(q * (1 - q) * (1 / n_a + 1 / n_b))


def mean_tolerance(sd: float, n_a: float, n_b: float, z: float = Z) -> float:
    """Bound for a difference of two means of a quantity with standard deviation sd."""
    n_a, n_b = max(n_a, 1.0), max(n_b, 1.0)
    return z * sd * math.sqrt(1 / n_a + 1 / n_b) + ROUNDING


def fisher_band(r_expected: float, n_a: int, n_b: int, z: float = Z) -> tuple[float, float]:
    """Correlations within z SE of r_expected in Fisher's z = atanh(r): SE 1/sqrt(n-3) per run, times the inflation."""
    r = max(-0.999999, min(0.999999, r_expected))
    half = z * SENSITIVITY_INFLATION * math.sqrt(1 / max(n_a - 3, 1) + 1 / max(n_b - 3, 1))
    centre = math.atanh(r)
    return math.tanh(centre - half), math.tanh(centre + half)


def quantile_consistent(month: int, q: float, cdf_other, tol: float) -> bool:
    """Could ``month`` be the q-quantile of the other run's CDF, within ±tol on the probability axis?

    The q-quantile is the first month m with F(m) >= q. A month is consistent when
    F_other(month) >= q - tol and F_other(month - 1) < q + tol.
    """
    return cdf_other(month) >= q - tol - 1e-12 and cdf_other(month - 1) < q + tol + 1e-12


def delay_sd(months: list[int], probs: list[float], deadline: int | None) -> float:
    """Standard deviation of max(0, finish - deadline) months from a step CDF, plus the 1/12 of a month's width.

    Without a deadline, of the finish month itself.
    """
    prev = 0.0
    mean = second = 0.0
    for m, p in zip(months, probs):
        mass = max(0.0, p - prev)
        prev = p
        x = float(m) if deadline is None else float(max(0, m - deadline))
        mean += mass * x
        second += mass * x * x
    var = max(0.0, second - mean * mean)
    return math.sqrt(var + 1 / 12)
