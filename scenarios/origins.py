"""The status dates (origins) of a multi-origin backtest: ``[backtest] origins`` and ``--origins``.

One rule for both (``checked_origins``): distinct months within the data's years, at most ``MAX_ORIGINS`` of them,
so that a typo such as ``0001-01`` or ``1900-01:2199-12:1`` is refused before any plan is made.
"""
from __future__ import annotations

import re

from portfolio.limits import MAX_ORIGINS
from portfolio.load import FIRST_YEAR, LAST_YEAR
from portfolio.months import format_month, parse_month, year_of


def checked_origins(months) -> tuple[int, ...]:
    """The origins in increasing order; ValueError when one is repeated or outside the data's years, or when
    there are more than ``MAX_ORIGINS`` (``months`` may be a ``range``: its length is known without listing it)."""
    if len(months) > MAX_ORIGINS:
        raise ValueError(f"{len(months)} origins; at most {MAX_ORIGINS} (the limit of this tool)")
    months = list(months)
    for month in months:
        if not FIRST_YEAR <= year_of(month) <= LAST_YEAR:  # the data's months have the same bounds
            raise ValueError(f"expected origins from {FIRST_YEAR}-01 to {LAST_YEAR}-12, got {format_month(month)}")
    if len(set(months)) != len(months):
        raise ValueError("an origin is listed twice")
    return tuple(sorted(months))


def origins_every(first: int, last: int, every: int) -> tuple[int, ...]:
    """``first``, ``first + every``, ... up to ``last`` (absolute months)."""
    if every < 1:
        raise ValueError(f"every must be at least 1 month, got {every}")
    if last < first:
        raise ValueError(f"the last origin {format_month(last)} is before the first {format_month(first)}")
    return checked_origins(range(first, last + 1, every))


def scenario_origins(value) -> tuple[int, ...]:
    """``[backtest] origins`` of a scenario file: a list of months, or ``{ from, to, every }``."""
    if isinstance(value, dict):
        return origins_every(parse_month(value["from"]), parse_month(value["to"]), value["every"])
    return checked_origins([parse_month(v) for v in value])


def parse_origins(text: str) -> tuple[int, ...]:
    """``--origins``: ``YYYY-MM,YYYY-MM,...`` or ``FROM:TO:EVERY`` (every in months), e.g. ``2019-01:2023-01:12``."""
    text = text.strip()
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not re.fullmatch(r"\d+", parts[2]):
            raise ValueError(f"expected FROM:TO:EVERY such as 2019-01:2023-01:12, got {text!r}")
        return origins_every(parse_month(parts[0]), parse_month(parts[1]), int(parts[2]))
    months = [parse_month(p.strip()) for p in text.split(",") if p.strip()]
    if not months:
        raise ValueError("expected at least one status date, e.g. 2019-01,2020-01")
    return checked_origins(months)
