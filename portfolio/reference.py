"""Reference classes: outside-view three-point durations and default risk events per kind of project.

The figures and their sources are in docs/reference_classes.md; this module holds the
same numbers and applies them by one written rule:

- An activity in activities.csv may leave ``optimistic`` and ``pessimistic`` empty (it
  always gives ``most_likely``). Its ``source`` must then name its reference class,
  ``reference class: CLASS`` or ``reference class: CLASS/KIND`` (KIND is ``preparation``,
  ``works`` or ``opening``; ``works`` when left out). The loader fills

      optimistic  = min(m, max(1, round(a * m)))
      pessimistic = max(m + 1, round(b * m))

  with ``a`` and ``b`` of that class and kind (rounding half up, as the optimizer's
  whole-month rule). Nothing is tuned project by project.
- Each class has one default risk event. ``default_risk_rows`` writes it, once per project
  of the class that the risk register does not cover, as a row ``RC-<project>`` of
  risks.csv (see ``uncovered_projects`` for what "covered" means).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from portfolio.errors import PortfolioError

KINDS = ("preparation", "works", "opening")
DEFAULT_KIND = "works"
RISK_PREFIX = "RC-"
EXTERNAL_MARK = "external event"  # in a risk's source: an event outside the projects' own delivery
DOC = "docs/reference_classes.md"

_TAG = re.compile(r"reference\s+class\s*:\s*(?P<name>[A-Za-z][\w-]*)(?:\s*/\s*(?P<kind>[A-Za-z]+))?", re.IGNORECASE)


@dataclass(frozen=True)
class Tail:
    """o = a * m and p = b * m for one kind of phase."""

    a: float
    b: float


@dataclass(frozen=True)
class DefaultRisk:
    """The class's typical discrete slip: probability per run and a three-point delay in months."""

    name: str
    probability: float
    optimistic: float
    most_likely: float
    pessimistic: float


@dataclass(frozen=True)
class ReferenceClass:
    name: str
    label: str
    categories: tuple[str, ...]  # project categories it usually serves (documentation and defaults)
    works: Tail
    risk: DefaultRisk
    preparation: Tail | None = None  # None: the shared PREPARATION tail
    opening: Tail | None = None  # None: the shared OPENING tail

    def tail(self, kind: str) -> Tail:
        if kind == "works":
            return self.works
        if kind == "preparation":
            return self.preparation or PREPARATION
        if kind == "opening":
            return self.opening or OPENING
        raise ValueError(f"unknown phase kind {kind!r} (expected one of {', '.join(KINDS)})")


# Shared tails of approvals/land/archaeology and of acceptance/commissioning phases (docs/reference_classes.md).
OPTIMISTIC = 0.85
PREPARATION = Tail(OPTIMISTIC, 1.6)
OPENING = Tail(OPTIMISTIC, 1.5)


def _class(name: str, label: str, category: str, works_b: float, risk: tuple, opening_b: float | None = None):
    """One row of the table below: every class serves one category and shares the optimistic factor."""
    opening = Tail(OPTIMISTIC, opening_b) if opening_b is not None else None
    return ReferenceClass(name, label, (category,), Tail(OPTIMISTIC, works_b), DefaultRisk(*risk), opening=opening)


# One class a line: name, label, category, b of the works tail, and the default risk event
# (name, probability per run, optimistic, most likely and pessimistic months of delay).
CLASSES: dict[str, ReferenceClass] = {
    c.name: c
    for c in (
        _class("aviation", "airport expansion and new airports", "aviation", 1.39, ("机场审批、空域及移交延误 / airport approval, airspace and handover slip", 0.4, 3, 8, 20)),
        _class("water-tunnel", "long water tunnels and conveyance works", "water", 1.25, ("深埋长隧洞地质延误 / deep long-tunnel geology slip", 0.45, 3, 8, 20)),
        _class("dam", "large dams and water-control hubs", "water", 1.44, ("坝址地质与关键节点延误 / dam-site geology and milestone slip", 0.45, 2, 5, 12)),
        _class("hsr", "high-speed and intercity railways", "rail", 1.25, ("铁路控制性工程延误 / railway controlling-works slip", 0.4, 2, 6, 14)),
        _class("metro", "metro lines", "metro", 1.25, ("地铁线路工期延误 / metro line slip", 0.3, 2, 6, 12)),
        _class("expressway", "expressway construction and widening", "road", 1.2, ("高速公路改扩建延误 / expressway widening slip", 0.3, 2, 4, 9)),
        _class("hospital", "hospitals and medical centres", "health", 1.39, ("医院建设及开业延误 / hospital build and opening slip", 0.45, 3, 9, 24), opening_b=4.0),
        _class("logistics", "logistics hubs and their programmes of sub-projects", "logistics", 1.2, ("物流枢纽子项目延误 / logistics sub-project slip", 0.3, 3, 6, 12)),
    )
}

# The class a project's category points to when a planner names none (water is ambiguous: no default).
CATEGORY_DEFAULTS = {"aviation": "aviation", "rail": "hsr", "metro": "metro", "road": "expressway",
                     "health": "hospital", "logistics": "logistics"}


class ReferenceClassError(PortfolioError, ValueError):
    """A reference-class tag that names no known class or kind."""


def parse_tag(text: str) -> tuple[str, str] | None:
    """(class, kind) named by ``reference class: CLASS[/KIND]`` in ``text``; None when there is no tag.

    Raises ``ReferenceClassError`` when the tag names an unknown class or kind.
    """
    m = _TAG.search(text or "")
    if not m:
        return None
    name = m.group("name").lower()
    kind = (m.group("kind") or DEFAULT_KIND).lower()
    if name not in CLASSES:
        raise ReferenceClassError(f"unknown reference class {name!r} (expected one of {', '.join(CLASSES)})")
    if kind not in KINDS:
        raise ReferenceClassError(f"unknown phase kind {kind!r} in the reference class (expected one of {', '.join(KINDS)})")
    return name, kind


def tag(name: str, kind: str = DEFAULT_KIND) -> str:
    """The text that names a reference class in a source column."""
    return f"reference class: {name}/{kind} ({DOC})"


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def three_point(name: str, kind: str, most_likely: float) -> tuple[float, float, float]:
    """(optimistic, most_likely, pessimistic) of an activity of class ``name`` and ``kind``."""
    t = CLASSES[name].tail(kind)
    m = float(most_likely)
    o = float(min(m, max(1, _round(t.a * m))))
    p = float(max(m + 1, _round(t.b * m)))
    return o, m, p


# -- default risk events ------------------------------------------------------------------------

def _is_external(risk_source: str) -> bool:
    return EXTERNAL_MARK in (risk_source or "").lower()


def uncovered_projects(portfolio, risk_sources: dict[str, str] | None = None) -> list[str]:
    """Projects that no risk of the register names, apart from external events and reference-class rows.

    ``risk_sources``: risk_id -> source text (the Portfolio does not keep it); a risk whose source says
    "external event" (an epidemic, the weather) is about the world, not about the project's own delivery.
    """
    sources = risk_sources or {}
    named: set[str] = set()
    for r in portfolio.risks:
        if r.risk_id.startswith(RISK_PREFIX) or _is_external(sources.get(r.risk_id, "")):
            continue
        named.update(portfolio.activity(aid).project_id for aid in r.affects)
    return [p.project_id for p in portfolio.projects if p.project_id not in named]


def project_class(portfolio, project_id: str) -> tuple[str, list[str]] | None:
    """(class, its works activities) of a project: the class of most of its reference-class works activities."""
    counts: dict[str, list[str]] = {}
    for a in portfolio.activities_of(project_id):
        found = parse_tag(a.source)
        if found and found[1] == "works":
            counts.setdefault(found[0], []).append(a.activity_id)
    if not counts:
        return None
    name = max(counts, key=lambda k: (len(counts[k]), -list(CLASSES).index(k)))
    return name, counts[name]


def default_risk_rows(portfolio, risk_sources: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The risks.csv rows of the default risk events: one per uncovered project with reference-class works."""
    rows = []
    for pid in uncovered_projects(portfolio, risk_sources):
        found = project_class(portfolio, pid)
        if found is None:
            continue
        name, works = found
        r = CLASSES[name].risk
        rows.append({
            "risk_id": f"{RISK_PREFIX}{pid}",
            "name": f"{r.name} ({pid})",
            "probability": f"{r.probability:g}",
            "optimistic": f"{r.optimistic:g}",
            "most_likely": f"{r.most_likely:g}",
            "pessimistic": f"{r.pessimistic:g}",
            "affects": ";".join(works),
            "source": f"{tag(name, 'works').replace('/works', '')}: the class's default risk event; "
                      f"no risk of the register is about {pid}'s own delivery",
        })
    return rows
