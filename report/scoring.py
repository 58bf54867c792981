"""Scores of probability forecasts against what happened: Brier score, log score, calibration, naive baselines.

A forecast is a probability p that an event happens (here: a project finishes on time);
an outcome is 1 when it did and 0 when it did not.

- Brier score: the mean of (p - outcome)^2 over the forecasts, on the forecasts as given.
  0 is perfect; lower is better; always forecasting 0.5 scores 0.25.
- Log score: the mean of ln(p) where the event happened and ln(1 - p) where it did not, with
  each p first clipped to [0.001, 0.999] so that one confident miss costs ln(0.001) = -6.9
  instead of minus infinity. 0 is perfect; higher (closer to 0) is better.
- Calibration table: forecasts in ten bins [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0] (the last bin
  includes 1); per bin the count, the mean forecast and the observed frequency of the event.
- Naive baselines: "every project on time" (p = 1 for all) and "base rate" (every p = the
  share of events among the outcomes scored; this one uses the outcomes themselves).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLIP = 0.001
BINS = 10


def _arrays(forecasts, outcomes) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(forecasts, dtype=float)
    o = np.asarray(outcomes, dtype=float)
    if p.shape != o.shape or p.ndim != 1:
        raise ValueError("forecasts and outcomes must be two sequences of the same length")
    if len(p) and (np.any(~np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise ValueError("forecasts must be probabilities from 0 to 1")
    if len(o) and not np.all((o == 0) | (o == 1)):
        raise ValueError("outcomes must be 0 or 1 (or False/True)")
    return p, o


def clip(p, eps: float = CLIP):
    """Forecasts moved into [eps, 1 - eps]."""
    return np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)


def brier_score(forecasts, outcomes) -> float:
    """Mean squared difference between forecast and outcome (nan when there is nothing to score)."""
    p, o = _arrays(forecasts, outcomes)
    return float(np.mean((p - o) ** 2)) if len(p) else math.nan


def log_score(forecasts, outcomes, eps: float = CLIP) -> float:
    """Mean natural-log likelihood of the outcomes, forecasts clipped to [eps, 1 - eps] (nan when empty)."""
    p, o = _arrays(forecasts, outcomes)
    if not len(p):
        return math.nan
    q = clip(p, eps)
    return float(np.mean(np.where(o == 1, np.log(q), np.log(1.0 - q))))


def bin_index(p) -> np.ndarray:
    """The calibration bin of each forecast: k for [k/10, (k+1)/10), and 9 for [0.9, 1.0]."""
    edges = np.array([k / BINS for k in range(1, BINS)])
    return np.digitize(np.asarray(p, dtype=float), edges, right=False)


@dataclass(frozen=True)
class CalibrationRow:
    lower: float
    upper: float
    count: int
    mean_forecast: float  # nan when the bin is empty
    observed_frequency: float  # nan when the bin is empty

    @property
    def label(self) -> str:
        close = "]" if self.upper >= 1.0 else ")"
        return f"[{self.lower:.1f}, {self.upper:.1f}{close}"


def calibration_table(forecasts, outcomes) -> list[CalibrationRow]:
    """One row per bin (all ten, empty ones included)."""
    p, o = _arrays(forecasts, outcomes)
    index = bin_index(p)
    rows = []
    for k in range(BINS):
        mask = index == k
        n = int(mask.sum())
        rows.append(CalibrationRow(k / BINS, (k + 1) / BINS, n,
                                   float(p[mask].mean()) if n else math.nan,
                                   float(o[mask].mean()) if n else math.nan))
    return rows


def calibration_frame(forecasts, outcomes):
    """The calibration table as a DataFrame (columns bin, lower, upper, count, mean_forecast, observed_frequency)."""
    import pandas as pd

    rows = calibration_table(forecasts, outcomes)
    return pd.DataFrame([{"bin": r.label, "lower": r.lower, "upper": r.upper, "count": r.count,
                          "mean_forecast": r.mean_forecast, "observed_frequency": r.observed_frequency}
                         for r in rows])


def base_rate(outcomes) -> float:
    o = np.asarray(outcomes, dtype=float)
    return float(o.mean()) if len(o) else math.nan


def scores(forecasts, outcomes) -> dict:
    """Brier and log score of the forecasts and of both naive baselines, with the counts behind them."""
    p, o = _arrays(forecasts, outcomes)
    rate = base_rate(o)
    all_on_time = np.ones_like(p)
    constant = np.full_like(p, rate)
    return {
        "n": int(len(p)),
        "events": int(o.sum()),
        "base_rate": rate,
        "brier": brier_score(p, o),
        "log_score": log_score(p, o),
        "naive_all_on_time": {"forecast": 1.0, "brier": brier_score(all_on_time, o),
                              "log_score": log_score(all_on_time, o)},
        "naive_base_rate": {"forecast": rate, "brier": brier_score(constant, o) if len(p) else math.nan,
                            "log_score": log_score(constant, o) if len(p) else math.nan},
        "log_clip": [CLIP, 1.0 - CLIP],
    }
