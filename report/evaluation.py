"""Scores of event forecasts over several status dates: the model beside its baselines, with bootstrap intervals.

An *event* is something with a deadline whose outcome the data records: today a project's
finish, later a milestone. Each scored event at one status date (an *origin*) has

- the outcome: on time (1) or late (0), and the actual finish month, or none when the event
  was still open at the data's as-of month (a *censored* finish: known only to be later);
- forecasts of P(on time) by the model and by each baseline, and the forecast distribution of
  the finish month (a step CDF over months) where the forecast has one.

The scores (docs/backtest.md, "The multi-origin evaluation"):

- **Brier score** and **log score** as in report/scoring.py (p clipped to [0.001, 0.999] for
  the log score only).
- **CRPS of the finish month**, in months: the sum over months m of (F(m) - 1{y <= m})^2,
  where F is the forecast CDF and y the actual finish month: every month where the forecast
  said "finished" and it was not, or the reverse, costs the square of the probability put on
  the wrong side. A point forecast that is k months off scores k. A *censored* finish (still
  open at the data's as-of month c) is known only to be after c, so it is charged only for the
  months up to c: the sum over m <= c of F(m)^2 (the survival CRPS of Avati et al. 2020,
  "Countdown regression"). The part after c is not charged because it is not known; this
  favours no forecast among those that put the same mass before c. Lower is better.
- **PIT**: where the actual finish fell in the forecast distribution. The finish month y is
  discrete, so the PIT is the interval [F(y - 1), F(y)] (a censored event: [F(as_of), 1]), and
  the histogram spreads each event's unit mass uniformly over its interval (the
  non-randomised PIT histogram of Czado, Gneiting & Held 2009). A calibrated forecast gives
  equal bars.

Baselines, each a P(on time) per event:

- **every event on time**: p = 1;
- **leave-one-out base rate**: the share on time among the scored events of the *other*
  projects (all origins pooled). Leaving out the whole project, not only the one event,
  keeps the event's own outcome, seen at another origin, out of its forecast;
- **deterministic plan**: the same leave-one-project-out share, among the events whose plan
  at their origin had the same verdict (the plan's finish by the deadline: on time; after it:
  late). Where no other project's event has that verdict, the leave-one-out base rate;
- **outside view**: defined by the caller (multiorigin.py: the simulation without the plan).

Differences (model - baseline) get a bootstrap interval that resamples whole projects, so
that the events of one project (several origins, later its milestones) always travel together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scoring import CLIP, clip

PIT_BINS = 10
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 18
INTERVAL = 0.95
LOW_PIT = 0.2  # the acceptance: at most 35% of finished events with F(actual) below this


# -- one event's forecast distribution --------------------------------------------------------------

@dataclass(frozen=True)
class Cdf:
    """A step CDF over whole months: F(m) = probs[k] for the last k with months[k] <= m, 0 before months[0]."""

    months: tuple[int, ...]
    probs: tuple[float, ...]

    def __post_init__(self):
        if len(self.months) != len(self.probs):
            raise ValueError("a CDF needs one probability per month")
        if any(b <= a for a, b in zip(self.months, self.months[1:])):
            raise ValueError("a CDF's months must increase")
        if any(b < a for a, b in zip(self.probs, self.probs[1:])) or any(not 0 <= p <= 1 for p in self.probs):
            raise ValueError("a CDF's probabilities must be in [0, 1] and not decrease")

    def at(self, month) -> np.ndarray | float:
        """F at ``month`` (a number or an array of months)."""
        probs = np.concatenate([[0.0], np.asarray(self.probs, dtype=float)])
        index = np.searchsorted(np.asarray(self.months), month, side="right")
        return probs[index] if np.ndim(month) else float(probs[index])

    @property
    def first(self) -> int:
        return self.months[0]


def point_mass(month: int) -> Cdf:
    """The forecast "certainly in ``month``" (for tests and hand checks)."""
    return Cdf((month,), (1.0,))


# -- the scores of one event ----------------------------------------------------------------------------

def crps_months(cdf: Cdf, actual: int | None, as_of: int) -> float:
    """CRPS of the finish month (module docstring); ``actual`` None: still open at ``as_of`` (censored)."""
    if actual is None:
        if as_of < cdf.first:
            return 0.0
        return float(np.sum(cdf.at(np.arange(cdf.first, as_of + 1)) ** 2))
    months = np.arange(min(cdf.first, actual), max(cdf.months[-1], actual) + 1)
    return float(np.sum((cdf.at(months) - (months >= actual)) ** 2))


def pit_interval(cdf: Cdf, actual: int | None, as_of: int) -> tuple[float, float]:
    """[F(y - 1), F(y)] for a finish in month y; [F(as_of), 1] for a finish known only to be after ``as_of``."""
    if actual is None:
        return cdf.at(as_of), 1.0
    return cdf.at(actual - 1), cdf.at(actual)


def pit_histogram(intervals, bins: int = PIT_BINS) -> np.ndarray:
    """Per bin [k/bins, (k+1)/bins): the events' mass in it, each event's unit mass spread evenly over its interval
    (all of it in the bin holding the point when the interval is a point; 1 counts in the last bin)."""
    out = np.zeros(bins)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for lo, hi in intervals:
        if hi < lo:
            raise ValueError("a PIT interval's upper end is below its lower end")
        if hi - lo <= 1e-12:
            out[min(int(lo * bins), bins - 1)] += 1.0
            continue
        overlap = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
        out += overlap / (hi - lo)
    return out


def brier_terms(p, outcome) -> np.ndarray:
    """Per event: (p - outcome)^2."""
    return (np.asarray(p, dtype=float) - np.asarray(outcome, dtype=float)) ** 2


def log_terms(p, outcome, eps: float = CLIP) -> np.ndarray:
    """Per event: ln of the (clipped) probability given to what happened."""
    q = clip(p, eps)
    return np.where(np.asarray(outcome, dtype=float) == 1, np.log(q), np.log(1.0 - q))


# -- baselines ---------------------------------------------------------------------------------------------

def leave_one_out_rate(outcomes, groups) -> np.ndarray:
    """Per event: the share of 1s among the events of the other groups (nan where there is no other group)."""
    o = np.asarray(outcomes, dtype=float)
    g = np.asarray(groups, dtype=object)
    out = np.full(len(o), math.nan)
    for k in range(len(o)):
        others = g != g[k]
        if others.any():
            out[k] = o[others].mean()
    return out


def plan_rate(outcomes, groups, verdicts) -> np.ndarray:
    """Per event: the share of 1s among the other groups' events with the same planned verdict; where there is
    none, the leave-one-out rate over all other groups."""
    o = np.asarray(outcomes, dtype=float)
    g = np.asarray(groups, dtype=object)
    v = np.asarray(verdicts, dtype=bool)
    fallback = leave_one_out_rate(o, g)
    out = fallback.copy()
    for k in range(len(o)):
        peers = (g != g[k]) & (v == v[k])
        if peers.any():
            out[k] = o[peers].mean()
    return out


# -- bootstrap over whole groups ------------------------------------------------------------------------

def bootstrap_weights(groups, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples x events) multiplicities: each resample draws as many groups as there are, with replacement,
    and an event counts as often as its group was drawn, so one group's events always travel together."""
    labels, index = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(labels), size=(resamples, len(labels)))
    counts = np.zeros((resamples, len(labels)), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(resamples), len(labels)), draws.ravel()), 1)
    return counts[:, index]


@dataclass(frozen=True)
class Difference:
    score: str
    baseline: str
    model: float
    other: float
    difference: float  # model - baseline
    low: float
    high: float
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        """Which side the whole interval favours, or 'undecided' when it covers 0."""
        if math.isnan(self.low) or self.low <= 0 <= self.high:
            return "undecided"
        model_better = (self.low > 0) == self.higher_is_better
        return "model better" if model_better else "baseline better"


def difference(score: str, baseline: str, model_terms, baseline_terms, weights: np.ndarray,
               higher_is_better: bool, interval: float = INTERVAL) -> Difference:
    """Mean(model) - mean(baseline) over the events, with the percentile interval of the weighted resamples."""
    a, b = np.asarray(model_terms, dtype=float), np.asarray(baseline_terms, dtype=float)
    if not len(a):
        return Difference(score, baseline, math.nan, math.nan, math.nan, math.nan, math.nan, higher_is_better)
    d = a - b
    totals = weights.sum(axis=1)
    keep = totals > 0
    resampled = (weights[keep] @ d) / totals[keep]
    tail = (1.0 - interval) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Difference(score, baseline, float(a.mean()), float(b.mean()), float(d.mean()), float(low), float(high),
                      higher_is_better)
