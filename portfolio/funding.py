"""Funding caps seen from a status date: the one rule for what a year's cap allows from then on.

A year before the status year is history (no cap applies to it any more); the status year's cap is
prorated to the months left in it (``cap * months_left / 12``); a later year keeps its whole cap.
The optimizer (optimize/problem.py, optimize/plan.py) and the simulator (simulate/model.py) read these;
the independent plan checker (optimize/checker.py) keeps its own copy on purpose.
"""
from __future__ import annotations

from .model import Portfolio
from .months import year_of


def months_left(status: int) -> int:
    """Months of the status year from the status month on (12 in January)."""
    return 12 - status % 12


def effective_cap(cap: float, year: int, status: int) -> float | None:
    """What ``cap`` of ``year`` allows from ``status`` on; None for a year before the status year."""
    status_year = year_of(status)
    if year < status_year:
        return None
    return cap * months_left(status) / 12 if year == status_year else cap


def effective_caps(portfolio: Portfolio, status: int) -> dict[tuple[int, str], float]:
    """(year, source) -> the cap from ``status`` on, for the status year and later; an absent pair has no limit."""
    out = {}
    for f in portfolio.funding:
        cap = effective_cap(f.cap, f.year, status)
        if cap is not None:
            out[(f.year, f.source)] = cap
    return out
