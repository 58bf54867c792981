"""The portfolio as typed, immutable data: what the CSV files say, checked once.

Dates here are absolute month numbers (see ``months``); durations and lags are
months; money is 亿元 (100 million CNY).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .links import LINK_TYPES  # noqa: F401 (read from here too)

CATEGORIES = ("aviation", "water", "rail", "metro", "road", "logistics", "health", "other")


@dataclass(frozen=True)
class Link:
    """A dependency on ``predecessor``: FS (default), SS, FF or SF with a whole-month lag."""

    predecessor: str
    kind: str = "FS"
    lag: int = 0
    known_since: int | None = None  # month the link became known (``ID@YYYY-MM``); None: with its rows

    def __str__(self) -> str:
        if self.kind == "FS" and self.lag == 0:
            text = self.predecessor
        else:
            text = f"{self.predecessor}:{self.kind}{self.lag:+d}" if self.lag else f"{self.predecessor}:{self.kind}"
        if self.known_since is None:
            return text
        from .months import format_month

        return f"{text}@{format_month(self.known_since)}"


@dataclass(frozen=True)
class Project:
    project_id: str
    name_zh: str
    name_en: str
    category: str
    lead_agency: str
    priority: float
    deadline: int | None  # absolute month; None = the scenario's deadline
    budget: float
    source: str


@dataclass(frozen=True)
class Activity:
    activity_id: str
    project_id: str
    name: str
    optimistic: float
    most_likely: float
    pessimistic: float
    predecessors: tuple[Link, ...]
    cost: float
    funding_source: str
    earliest_start: int | None = None
    actual_start: int | None = None
    actual_finish: int | None = None
    resources: tuple[tuple[str, float], ...] = ()  # (resource_id, units while running)
    source: str = ""
    remaining_months: float | None = None  # stated work left of a running activity, at the data's as-of date
    percent_complete: float | None = None  # or its stated percent complete then (docs/simulation.md, "Progress")
    known_since: int | None = None  # month the row (the activity and its links) became known; None: always
    earliest_start_known_since: int | None = None  # month earliest_start became known; None: with the row


@dataclass(frozen=True)
class FundingCap:
    year: int
    source: str
    cap: float


@dataclass(frozen=True)
class Risk:
    risk_id: str
    name: str
    probability: float
    optimistic: float
    most_likely: float
    pessimistic: float
    affects: tuple[str, ...]  # activity ids, resolved from ids and ``category:NAME``
    known_since: int | None = None  # month this version of the risk became known; None: always


@dataclass(frozen=True)
class Deadline:
    """One entry of a project's deadline history: the target ``deadline`` as known from ``known_since`` on."""

    project_id: str
    deadline: int
    known_since: int | None  # None: known before any status date
    source: str = ""


@dataclass(frozen=True)
class Resource:
    resource_id: str
    name: str
    capacity: float


@dataclass(frozen=True)
class Portfolio:
    projects: tuple[Project, ...]
    activities: tuple[Activity, ...]
    funding: tuple[FundingCap, ...] = ()
    risks: tuple[Risk, ...] = ()
    resources: tuple[Resource, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()  # (file name, sha256) of what was read
    deadlines: tuple[Deadline, ...] = ()  # deadline history (deadlines.csv); projects.csv holds the current one
    earlier_risks: tuple[Risk, ...] = ()  # earlier versions of risks (same risk_id, earlier known_since)
    _project_index: dict = field(default=None, init=False, repr=False, compare=False, hash=False)
    _activity_index: dict = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "_project_index", {p.project_id: p for p in self.projects})
        object.__setattr__(self, "_activity_index", {a.activity_id: i for i, a in enumerate(self.activities)})

    def project(self, project_id: str) -> Project:
        return self._project_index[project_id]

    def activity_index(self, activity_id: str) -> int:
        return self._activity_index[activity_id]

    def activity(self, activity_id: str) -> Activity:
        return self.activities[self._activity_index[activity_id]]

    def activities_of(self, project_id: str) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.project_id == project_id)

    def caps(self) -> dict[tuple[int, str], float]:
        """(year, source) -> cap; a pair that is absent has no limit."""
        return {(f.year, f.source): f.cap for f in self.funding}
