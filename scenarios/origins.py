"""The status dates (origins) of a multi-origin backtest: ``[backtest] origins`` and ``--origins``."""
from __future__ import annotations

import re

from portfolio.months import format_month, parse_month


def origins_every(first: int, last: int, every: int) -> tuple[int, ...]:
    """``first``, ``first + every``, ... up to ``last`` (absolute months)."""
    if every < 1:
        raise ValueError(f"every must be at least 1 month, got {every}")
    if last < first:
        raise ValueError(f"the last origin {format_month(last)} is before the first {format_month(first)}")
    return tuple(range(first, last + 1, every))


def distinct_origins(months) -> tuple[int, ...]:
    """The origins in increasing order; a repeated one is an error."""
    months = list(months)
    if len(set(months)) != len(months):
        raise ValueError("an origin is listed twice")
    return tuple(sorted(months))


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
    return distinct_origins(months)
