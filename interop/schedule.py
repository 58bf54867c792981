"""What an imported schedule says, in the data schema's terms, and the rule that turns hours into months.

Both readers (``xer``, ``mspdi``) fill an ``ImportedSchedule``; ``datafolder`` writes it as
the CSV folder that ``portfolio.load`` reads. The duration rule (docs/interop.md):

    months = working hours / (the calendar's working hours per week x 52 / 12)

rounded up to whole months, at least 1 for an activity (the model plans in whole months
and needs a duration > 0); a lag is converted by the same rule with its sign kept
(a lead stays negative) and 0 stays 0. Before rounding up, the ratio is rounded to a
thousandth of a month (about 10 minutes of a 40-hour week), so that hours written with
two decimals (173.33 h for a month) come back as the whole months they stand for.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from portfolio import reference
from portfolio.errors import PortfolioError
from portfolio.load import parse_number
from portfolio.months import format_month

WEEKS_PER_MONTH = 52 / 12
FULL_WEEK_HOURS = 24 * 7  # an elapsed (24 x 7) calendar
DEFAULT_WEEK_HOURS = 40.0
DEFAULT_REFERENCE_CLASS = "logistics"
FUNDING_SOURCE = "imported"
FUNDING_FIELD = "funding_source"  # a text field of that name gives the funding source (written by export)
MONEY_UNIT = 1e8  # the schema's money is 亿 (10^8 of the currency)
_UNSAFE_ID = re.compile(r"[\s;:,]+")


class ImportProblem(PortfolioError):
    """The file cannot be read as a schedule; the message names where."""


@dataclass
class ImportedLink:
    predecessor: str  # activity id in the schema
    kind: str  # FS, SS, FF or SF
    lag: int  # whole months, may be negative


@dataclass
class ImportedActivity:
    activity_id: str
    project_id: str
    name: str
    most_likely: int
    optimistic: float | None = None  # None: from the reference class
    pessimistic: float | None = None
    links: list[ImportedLink] = field(default_factory=list)
    cost: float = 0.0  # in the file's currency
    earliest_start: str = ""  # YYYY-MM
    actual_start: str = ""
    actual_finish: str = ""
    resources: list[tuple[str, float]] = field(default_factory=list)
    source: str = ""
    funding_source: str = FUNDING_SOURCE


@dataclass
class ImportedProject:
    project_id: str
    name: str
    source: str = ""
    deadline: str = ""


@dataclass
class ImportedResource:
    resource_id: str
    name: str
    capacity: float


@dataclass
class ImportedSchedule:
    file: str  # shown in sources and messages (the name, not a machine path)
    format: str  # "XER", "MSPDI" or "MPP" (read through MSPDI)
    projects: list[ImportedProject] = field(default_factory=list)
    activities: list[ImportedActivity] = field(default_factory=list)
    resources: list[ImportedResource] = field(default_factory=list)
    status_date: str = ""  # YYYY-MM: the file's data date
    finish: str = ""  # YYYY-MM: the file's planned finish
    summary_tasks: int = 0  # file tasks that became projects (MSPDI summaries), not activities
    links_in_file: dict[str, int] = field(default_factory=dict)  # per type, as the file states them


def number(text: str | None, default: float | None = 0.0) -> float | None:
    """A number field of an imported schedule (empty: ``default``), by the data files' rule (portfolio.load.parse_number):
    finite, no "_"; anything else is a ValueError, which the reader reports as a problem of the file."""
    text = (text or "").strip()
    if not text:
        return default
    x = parse_number(text)
    if x is None:
        raise ValueError(f"expected a number, got {text[:40]!r}")
    return x


def months(hours: float, week_hours: float) -> int:
    """Whole months of work, at least 1 (see the module's rule)."""
    return max(1, math.ceil(round(hours / (week_hours * WEEKS_PER_MONTH), 3)))


def lag_months(hours: float, week_hours: float) -> int:
    """A lag in whole months by the same rule, sign kept; 0 stays 0."""
    if hours == 0:
        return 0
    magnitude = math.ceil(round(abs(hours) / (week_hours * WEEKS_PER_MONTH), 3))
    return magnitude if hours > 0 else -magnitude


def month_of(value: str | None) -> str:
    """YYYY-MM of a file's date-time text (XER ``2021-03-04 08:00``, MSPDI ``2021-03-04T08:00:00``); "" if empty."""
    if not value or not value.strip():
        return ""
    text = value.strip().replace("T", " ").split(".")[0]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return format_month(moment.year * 12 + moment.month - 1)
    raise ImportProblem(f"expected a date such as 2021-03-04 08:00, got {value!r}")


def safe_id(text: str, fallback: str, ascii_only: bool = False) -> str:
    """An id the loader accepts: no spaces, ';', ':' or ','; ASCII when asked."""
    out = _UNSAFE_ID.sub("-", text.strip()).strip("-")
    if ascii_only:
        out = re.sub(r"[^\x21-\x7e]+", "-", out).strip("-")
    return out or fallback


def unique_ids(wanted: list[str]) -> list[str]:
    """The ids, with ``~2``, ``~3``... added to repeats so that each is unique."""
    seen: dict[str, int] = {}
    out = []
    taken = set(wanted)
    for name in wanted:
        count = seen.get(name, 0) + 1
        seen[name] = count
        candidate = name
        while count > 1 and (candidate == name or candidate in taken):
            candidate = f"{name}~{count}"
            count += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def check_reference_class(text: str) -> str:
    """``CLASS`` or ``CLASS/KIND`` as the loader reads it; ImportProblem if unknown."""
    try:
        found = reference.parse_tag(f"reference class: {text}")
    except reference.ReferenceClassError as exc:
        raise ImportProblem(str(exc)) from exc
    if found is None:
        raise ImportProblem(f"expected a reference class such as logistics or hsr/works, got {text!r}")
    return text


def category_of_class(text: str) -> str:
    """The project category the class usually serves, else ``other``."""
    name = text.split("/")[0].strip()
    cls = reference.CLASSES.get(name)
    return cls.categories[0] if cls and cls.categories else "other"
