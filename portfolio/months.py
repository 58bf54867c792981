"""Calendar months as integers, so that date arithmetic is plain integer arithmetic.

A month is stored as ``year * 12 + (month - 1)``; people read and write ``YYYY-MM``.
"""
import re

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """``"2025-12"`` -> absolute month number; raises ValueError with a reason."""
    m = _MONTH.match(text.strip())
    if not m:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 01 to 12, got {text!r}")
    return year * 12 + month - 1


def format_month(month: int) -> str:
    return f"{year_of(month):04d}-{month % 12 + 1:02d}"


def year_of(month: int) -> int:
    """The calendar year of an absolute month."""
    return month // 12
