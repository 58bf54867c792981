"""Execution rules that can recover time (docs/simulation.md, "Execution rules"): written constants with sources.

- Early start: a planned start is a target, not a wall. A future activity may start as soon as its links and its
  stated earliest start allow; its work then advances only in months its funding source pays it (the bank), so
  an unfunded early start gains nothing.
- Deadline pressure: per project and iteration a keyed draw (its own stream, kind "project") decides whether the
  project is held to its deadline. A held project's remaining work is compressed by the crash limit and its money
  per month rises so that the remaining work costs the schedule-compression premium more; the funding pools pay it.
- Short phases: where the optimistic duration equals the most likely one (0.85 x a short mode rounds back to the
  mode), the optimistic is taken as OPTIMISTIC x mode, in fractional months, so the spread stays real.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Share of projects held to their deadline: KPMG International, Global Construction Survey 2015 ("Climbing the
# Curve", 109 owners): only 25% of projects in the past three years came within 10% of their original deadlines.
HELD_SHARE = 0.25
# Crash limit: the remaining duration may shrink by at most 25%; cost premium 1.43 on the compressed work: COCOMO II
# (Boehm et al., Software Cost Estimation with COCOMO II, 2000), SCED rated Very Low = 75% of the nominal schedule,
# effort multiplier 1.43.
CRASH_LIMIT = 0.25
CRASH_PREMIUM = 1.43
# Short phases: the shared optimistic factor of the reference classes (portfolio.reference.OPTIMISTIC).
SHORT_OPTIMISTIC = 0.85
_KEEP = 1.0 - CRASH_LIMIT  # what is left of the remaining work when crashed
_RATE_FACTOR = CRASH_PREMIUM / _KEEP  # money per month of crashed work
PROJECT_STREAM = 0  # the stream of a project's "held" draw (kind "project": no other draw moves)


def short_phase_optimistic(o: np.ndarray, m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Optimistic durations with the rounding collapse undone: SHORT_OPTIMISTIC x m where o == m < p (a spread
    that collapsed on its early side only). A fixed duration (o == m == p) stays fixed."""
    o = np.asarray(o, dtype=float)
    m = np.asarray(m, dtype=float)
    p = np.asarray(p, dtype=float)
    return np.where((o == m) & (m > 0) & (p > m), SHORT_OPTIMISTIC * m, o)


def early_bound(planned: np.ndarray, earliest: np.ndarray) -> np.ndarray:
    """The start bound of each activity: its stated earliest start (the links add theirs in the engines); the
    planned start is not a bound."""
    del planned
    return np.asarray(earliest, dtype=np.int64).copy()


def crash(work: np.ndarray, rate: np.ndarray, held: np.ndarray) -> None:
    """In place, for the (rows, activities) entries where ``held``: work x (1 - CRASH_LIMIT) and rate x
    CRASH_PREMIUM / (1 - CRASH_LIMIT), so the remaining work costs CRASH_PREMIUM times as much."""
    np.multiply(work, _KEEP, out=work, where=held)
    np.multiply(rate, _RATE_FACTOR, out=rate, where=held)


@njit(cache=True)
def crash_held(work, rate, held, project_of, done):
    """``crash`` of the activities (not ``done``) of the projects ``held`` (rows, projects), in one pass without
    the (rows, activities) mask: the same two multiplications per crashed entry, so the same bytes."""
    for q in range(work.shape[0]):
        for a in range(work.shape[1]):
            if held[q, project_of[a]] and not done[a]:
                work[q, a] = work[q, a] * _KEEP
                rate[q, a] = rate[q, a] * _RATE_FACTOR
