"""Load and check a data folder: the CSV files of docs/design.md ("Data files") -> a ``Portfolio``, or every problem at once.

``load_portfolio(data_dir)`` reads projects.csv and activities.csv (required) and
funding.csv, risks.csv and resources.csv (optional), checks every row, and either
returns the ``Portfolio`` or raises ``InputError`` with all problems found, sorted
by file, line and column. Field problems read ``<column>: expected <what>, got
"<value>"`` (or ``got an empty field``) wherever that fits.

An activity may leave optimistic and pessimistic empty when its source names a
reference class (``reference class: hsr`` or ``reference class: hsr/preparation``);
they are then filled by the rule of ``portfolio.reference`` (docs/reference_classes.md).

Ids and references are normalised and checked by ``portfolio.ids``; every number is finite and within
the limits below, so that no later stage (CP-SAT's 64-bit integers, month arithmetic, the simulation's
histograms) can overflow. Both rules are written in docs/data.md.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from . import ids, reference
from .csvio import Row, Table, read_table
from .errors import InputError, InputProblem
from .graph import find_cycles
from .model import CATEGORIES, LINK_TYPES, Activity, Deadline, FundingCap, Link, Portfolio, Project, Resource, Risk
from .months import parse_month, year_of

PROJECTS, ACTIVITIES, FUNDING, RISKS, RESOURCES, DEADLINES = (
    "projects.csv",
    "activities.csv",
    "funding.csv",
    "risks.csv",
    "resources.csv",
    "deadlines.csv",
)
FILES = (PROJECTS, ACTIVITIES, FUNDING, RISKS, RESOURCES, DEADLINES)  # also the order of Portfolio.inputs
REQUIRED_FILES = (PROJECTS, ACTIVITIES)

# Columns that must be in the header; other known columns are optional.
REQUIRED_COLUMNS = {
    PROJECTS: ("project_id", "name_zh", "category", "priority", "budget"),
    ACTIVITIES: ("activity_id", "project_id", "name", "optimistic", "most_likely", "pessimistic", "cost", "funding_source"),
    FUNDING: ("year", "source", "cap"),
    RISKS: ("risk_id", "name", "probability", "optimistic", "most_likely", "pessimistic", "affects"),
    RESOURCES: ("resource_id", "name", "capacity"),
    DEADLINES: ("project_id", "deadline"),
}

CATEGORY_LIST = ", ".join(CATEGORIES)
PREDECESSOR_FORMS = "ID, ID:SS, ID:FF+2 or ID:FS-1 (type FS, SS, FF or SF; lag in whole months)"
RESOURCE_FORMS = "RESOURCE_ID or RESOURCE_ID:units (units a number > 0)"
MONTH = "a month as YYYY-MM"

_LINK = re.compile(r"^(?P<id>[^:\s]+?)\s*(?::\s*(?P<kind>[A-Za-z]{2})\s*(?P<lag>[+-]\s*\d+)?)?"
                   r"(?:\s*@\s*(?P<since>\d{4}-\d{1,2}))?$")
_USE = re.compile(r"^(?P<id>[^:\s]+)\s*(?::\s*(?P<units>\S+))?$")
_ID_FORBIDDEN = re.compile(r"[\s;:,]")
_YEAR = re.compile(r"^\d{4}$")

# -- limits (docs/data.md, "Limits") --------------------------------------------------------------
# Money (亿元): the optimizer counts money in integer units of optimize.problem.MONEY_UNIT (1e-6 亿元),
# so one cost, budget or cap of at most 1e6 亿元 is at most 1e12 units, and the costs of activities.csv
# together (at most 1e7 亿元, 1e13 units) bound every budget constraint's sum of rate x months: below
# 2^53 (9.0e15), where CP-SAT's floating-point relaxation is still exact, and far below its int64 limit.
MAX_MONEY = 1e6
MAX_TOTAL_COST = 1e7
# Months: a duration, risk delay or lag longer than the simulation's 600-month horizon
# (simulate.model.HORIZON) cannot play out; dates outside 1900-2199 would stretch the month histograms
# (status date to horizon, per activity) to thousands of months.
MAX_MONTHS = 600
FIRST_YEAR, LAST_YEAR = 1900, 2199
# Priorities become integer weights of up to 10^4 x priority (optimize.problem.weight_scale).
MAX_PRIORITY = 1000
MAX_CAPACITY = 1e6  # resource units; times the demand scale of at most 10^3 (optimize.problem)
MONEY_LIMIT = (MAX_MONEY, "亿元")
MONTHS_LIMIT = (MAX_MONTHS, "months")


def quoted(text: str) -> str:
    """``text`` in double quotes, its invisible and control characters shown by code point (<U+200B>)."""
    return f'"{ids.shown(text)}"'


def _num(x: float) -> str:
    return f"{x:g}"


def parse_number(text: str) -> float | None:
    """The number a data field holds, or None: what float() reads, but finite and without "_" (Python's digit
    grouping, which a planner does not mean: ``1_000`` is refused, not read as 1000); ``-0`` is 0."""
    if "_" in text:
        return None
    try:
        x = float(text)  # no digit limit, unlike int(): 5000 nines are inf, refused here
    except ValueError:
        return None
    return x + 0.0 if math.isfinite(x) else None


def _got(text: str) -> str:
    """``got "<text>"`` of a field that is not a number, with a hint when digits were grouped with "_"."""
    return f"got {quoted(text)}" + (' (write the digits without "_")' if "_" in text else "")


def data_month(text: str) -> int:
    """A month of a data file: YYYY-MM (full-width digits too) from FIRST_YEAR to LAST_YEAR, so that month
    arithmetic and histograms stay bounded; ValueError says what was expected."""
    try:
        month = parse_month(ids.normalize(text))
    except ValueError:
        raise ValueError(f"expected {MONTH}") from None
    if not FIRST_YEAR <= year_of(month) <= LAST_YEAR:
        raise ValueError(f"expected a month from {FIRST_YEAR}-01 to {LAST_YEAR}-12")
    return month


@dataclass
class Checker:
    """The problems found so far, and the rules of one field each (docs/data.md); portfolio.milestones uses them too."""

    problems: list[InputProblem] = field(default_factory=list)

    def add(self, file: str, line: int, column: int, message: str) -> None:
        self.problems.append(InputProblem(file, line, column, message))

    def at(self, t: Table, row: Row, name: str, message: str) -> None:
        self.add(t.file, row.line, t.column(name), f"{name}: {message}")

    # -- fields ------------------------------------------------------------------------------
    def text(self, t: Table, row: Row, name: str, expect: str | None = None) -> str | None:
        """The field's text; with ``expect``, an empty field is a problem (and None)."""
        raw = t.value(row, name)
        if not raw and expect is not None and name in t.columns:
            self.at(t, row, name, f"expected {expect}, got an empty field")
            return None
        return raw

    def number(self, t: Table, row: Row, name: str, low: float | None = 0.0, strict: bool = False,
               high: float | None = None, required: bool = True,
               limit: tuple[float, str] | None = None) -> float | None:
        """The field as a finite number in range; ``limit`` = (largest value, unit) of docs/data.md."""
        if low is not None and high is not None:
            expect = f"a number from {_num(low)} to {_num(high)}"
        elif low is not None:
            expect = f"a number {'>' if strict else '>='} {_num(low)}"
        else:
            expect = "a number"
        raw = t.value(row, name)
        if name not in t.columns or (not raw and not required):
            return None
        if not raw:
            self.at(t, row, name, f"expected {expect}, got an empty field")
            return None
        x = parse_number(raw)
        ok = x is not None
        if ok and low is not None:
            ok = x > low if strict else x >= low
        if ok and high is not None:
            ok = x <= high
        if not ok:
            self.at(t, row, name, f"expected {expect}, {_got(raw)}")
            return None
        if limit is not None and x > limit[0]:
            largest = f"{limit[0]:,.0f} {limit[1]}".strip()
            self.at(t, row, name, f"expected at most {largest} (the limit in docs/data.md), got {quoted(raw)}")
            return None
        return x

    def month(self, t: Table, row: Row, name: str) -> int | None:
        raw = t.value(row, name)
        if not raw:
            return None
        try:
            return data_month(raw)
        except ValueError as exc:
            self.at(t, row, name, f"{exc}, got {quoted(raw)}")
            return None

    def identifier(self, t: Table, row: Row, name: str, expect: str, ascii_only: bool = False,
                   separators: bool = True) -> str | None:
        """The normalised id (``portfolio.ids``); a problem when it has invisible, mixed-alphabet or
        forbidden characters (``separators=False`` allows spaces and list separators, e.g. risk ids)."""
        raw = self.text(t, row, name, expect)
        if not raw:
            return None
        value = ids.normalize(raw)
        problem = ids.id_problem(raw)
        if problem:
            self.at(t, row, name, problem)
        elif ascii_only and (not value.isascii() or re.search(r"\s", value)):
            self.at(t, row, name, f"expected ASCII without spaces, got {quoted(raw)}")
        elif not ascii_only and separators and _ID_FORBIDDEN.search(value):
            self.at(t, row, name, f'expected an id without spaces, ";", ":" or ",", got {quoted(raw)}')
        return value

    def reference(self, t: Table, row: Row, name: str, raw: str) -> str:
        """A normalised reference to an id; invisible or mixed-alphabet characters are a problem, but the
        normalised text is still matched so that one bad id is not also reported as unknown everywhere."""
        problem = ids.id_problem(raw)
        if problem:
            self.at(t, row, name, problem)
        return ids.normalize(raw)

    def unique(self, t: Table, row: Row, name: str, value: str | None, seen: dict[str, int]) -> bool:
        """Record the first line of each id; a later one is a problem. True for a first occurrence."""
        if value is None:
            return False
        if value in seen:
            raw = t.value(row, name)
            written = f"written {quoted(raw)}; " if raw != value else ""
            self.at(t, row, name, f"duplicate {quoted(value)} ({written}first on line {seen[value]})")
            return False
        seen[value] = row.line
        return True

    def three_point(self, t: Table, row: Row, low: float, strict: bool) -> tuple[float, float, float] | None:
        o = self.number(t, row, "optimistic", low, strict, limit=MONTHS_LIMIT)
        m = self.number(t, row, "most_likely", low, strict, limit=MONTHS_LIMIT)
        p = self.number(t, row, "pessimistic", low, strict, limit=MONTHS_LIMIT)
        if o is None or m is None or p is None:
            return None
        if o > m:
            self.at(t, row, "most_likely", f"expected at least optimistic ({_num(o)}), got {quoted(t.value(row, 'most_likely'))}")
            return None
        if m > p:
            self.at(t, row, "pessimistic", f"expected at least most_likely ({_num(m)}), got {quoted(t.value(row, 'pessimistic'))}")
            return None
        return o, m, p


def _read(checker: Checker, data_dir, name: str) -> Table | None:
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        if name in REQUIRED_FILES:
            checker.add(path, 0, 0, "required file is missing")
        return None
    table, problems = read_table(path)
    checker.problems.extend(problems)
    if table is None:
        return None
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in table.columns]
    for column in missing:
        checker.add(path, 1, 0, f"missing required column {quoted(column)}")
    return table


def check_portfolio(data_dir) -> tuple[Portfolio | None, list[InputProblem]]:
    """The portfolio in ``data_dir`` and the problems found (sorted); the portfolio is None on any problem."""
    if not os.path.isdir(data_dir):
        return None, [InputProblem(os.fspath(data_dir), 0, 0, "no such folder (expected a folder with projects.csv and activities.csv)")]
    c = Checker()
    tables = {name: _read(c, data_dir, name) for name in FILES}
    pt, at, ft, rt, st, dt = (tables[n] for n in FILES)

    # -- resources.csv -------------------------------------------------------------------------
    resources: list[Resource] = []
    capacity: dict[str, float] = {}
    if st is not None:
        seen: dict[str, int] = {}
        for row in st.rows:
            rid = c.identifier(st, row, "resource_id", "a resource id such as TBM")
            first = c.unique(st, row, "resource_id", rid, seen)
            cap = c.number(st, row, "capacity", 0.0, strict=True, limit=(MAX_CAPACITY, "units"))
            if first:
                capacity[rid] = cap if cap is not None else math.inf
            if rid is not None and cap is not None:
                resources.append(Resource(rid, st.value(row, "name"), cap))

    # -- projects.csv --------------------------------------------------------------------------
    projects: list[Project] = []
    project_lines: dict[str, int] = {}
    category_of: dict[str, str] = {}
    if pt is not None:
        if not pt.rows:
            c.add(pt.file, 1, 0, "no projects below the header (expected one row per project)")
        for row in pt.rows:
            pid = c.identifier(pt, row, "project_id", "a project id such as XIY-P3", ascii_only=True)
            first = c.unique(pt, row, "project_id", pid, project_lines)
            name_zh = c.text(pt, row, "name_zh", "the project's Chinese name")
            category = c.text(pt, row, "category", f"one of {CATEGORY_LIST}")
            if category:
                category = c.reference(pt, row, "category", category)
            if category and category not in CATEGORIES:
                c.at(pt, row, "category", f"expected one of {CATEGORY_LIST}, got {quoted(category)}"
                                          f"{ids.suggestion(category, CATEGORIES)}")
                category = None
            if first and category:
                category_of[pid] = category
            priority = c.number(pt, row, "priority", 0.0, strict=True, limit=(MAX_PRIORITY, ""))
            budget = c.number(pt, row, "budget", 0.0, limit=MONEY_LIMIT)
            deadline = c.month(pt, row, "deadline")
            if None not in (pid, name_zh, category, priority, budget):
                projects.append(Project(pid, name_zh, pt.value(row, "name_en"), category, pt.value(row, "lead_agency"),
                                        priority, deadline, budget, pt.value(row, "source")))

    # -- activities.csv ------------------------------------------------------------------------
    activities: list[Activity] = []
    activity_lines: dict[str, int] = {}
    activity_rows: list[tuple[str, Row, list[tuple[Link, str]]]] = []  # first occurrences, file order
    project_of: dict[str, str] = {}
    has_activities: set[str] = set()
    total_cost = 0.0
    if at is not None:
        for row in at.rows:
            aid = c.identifier(at, row, "activity_id", "an activity id such as XIY-P3.T5")
            first = c.unique(at, row, "activity_id", aid, activity_lines)
            pid = c.text(at, row, "project_id", "a project_id from projects.csv")
            if pid:
                pid = c.reference(at, row, "project_id", pid)
            if pid:
                has_activities.add(pid)
                if pt is not None and pid not in project_lines:
                    c.at(at, row, "project_id", f"unknown project {quoted(pid)}{ids.suggestion(pid, project_lines)} "
                                                "(expected a project_id from projects.csv)")
                    pid = None
                elif first:
                    project_of[aid] = pid
            durations = _activity_durations(c, at, row, category_of.get(pid) if pid else None)
            cost = c.number(at, row, "cost", 0.0, limit=MONEY_LIMIT)
            if cost is not None:
                total_cost += cost
                if total_cost > MAX_TOTAL_COST >= total_cost - cost:
                    c.at(at, row, "cost", f"the costs up to this row add up to more than {MAX_TOTAL_COST:,.0f} 亿元 "
                                          "(the limit in docs/data.md)")
            funding_source = c.identifier(at, row, "funding_source", "a funding source such as provincial",
                                          separators=False)
            earliest = c.month(at, row, "earliest_start")
            actual_start = c.month(at, row, "actual_start")
            actual_finish = c.month(at, row, "actual_finish")
            if actual_finish is not None and not at.value(row, "actual_start"):
                c.at(at, row, "actual_finish", "given without actual_start (expected both, or only actual_start)")
            elif actual_finish is not None and actual_start is not None and actual_finish < actual_start:
                c.at(at, row, "actual_finish", f"{quoted(at.value(row, 'actual_finish'))} is before actual_start "
                                               f"{quoted(at.value(row, 'actual_start'))}")
            links, links_ok = _parse_links(c, at, row, aid)
            uses = _parse_uses(c, at, row, capacity)
            stated = _stated_progress(c, at, row)
            known = _known_since_of_activity(c, at, row)
            if first:
                activity_rows.append((aid, row, links))
            if links_ok and None not in (aid, pid, durations, cost, funding_source, uses, stated):
                activities.append(Activity(aid, pid, at.value(row, "name"), *durations, tuple(link for link, _ in links),
                                           cost, funding_source, earliest, actual_start, actual_finish, uses,
                                           at.value(row, "source"), *stated, *known))
        if pt is not None and "project_id" in at.columns:
            for pid, line in project_lines.items():
                if pid not in has_activities:
                    c.add(pt.file, line, pt.column("project_id"), f"project_id: project {quoted(pid)} has no activities in {ACTIVITIES}")
        if "activity_id" in at.columns:
            _check_links(c, at, activity_rows, activity_lines)

    # -- funding.csv ---------------------------------------------------------------------------
    funding: list[FundingCap] = []
    if ft is not None:
        pairs: dict[tuple[int, str], int] = {}
        for row in ft.rows:
            raw_year = c.text(ft, row, "year", "a year such as 2024")
            year = _year(c, ft, row, raw_year) if raw_year else None
            source = c.identifier(ft, row, "source", "a funding source such as provincial", separators=False)
            cap = c.number(ft, row, "cap", 0.0, limit=MONEY_LIMIT)
            if year is not None and source:
                if (year, source) in pairs:
                    c.at(ft, row, "source", f"duplicate cap for {year} {quoted(source)} (first on line {pairs[year, source]})")
                    continue
                pairs[year, source] = row.line
            if None not in (year, source, cap):
                funding.append(FundingCap(year, source, cap))

    # -- risks.csv -----------------------------------------------------------------------------
    risks: list[Risk] = []
    if rt is not None:
        seen = {}
        order = {aid: k for k, (aid, _, _) in enumerate(activity_rows)}
        for row in rt.rows:
            risk_id = c.identifier(rt, row, "risk_id", "a risk id such as R1", separators=False)
            known_since = c.month(rt, row, "known_since")
            c.unique(rt, row, "risk_id", version_key(risk_id, rt.value(row, "known_since")), seen)
            probability = c.number(rt, row, "probability", 0.0, high=1.0)
            delays = c.three_point(rt, row, 0.0, strict=False)
            check = at is not None and "activity_id" in at.columns
            affects = _parse_affects(c, rt, row, check, order, project_of, category_of)
            if None not in (risk_id, probability, delays, affects):
                risks.append(Risk(risk_id, rt.value(row, "name"), probability, *delays, affects, known_since))

    deadlines = _deadline_history(c, dt, project_lines, projects) if dt is not None else []

    problems = sorted(c.problems, key=lambda p: (p.file, p.line, p.column))
    if problems:
        return None, problems
    inputs = tuple((name, tables[name].sha256) for name in FILES if tables[name] is not None)
    current, earlier = _risk_versions(risks)
    portfolio = Portfolio(tuple(projects), tuple(activities), tuple(funding), current, tuple(resources), inputs,
                          tuple(deadlines), earlier)
    return portfolio, []


def load_portfolio(data_dir) -> Portfolio:
    """The portfolio in ``data_dir``; raises ``InputError`` with every problem found."""
    portfolio, problems = check_portfolio(data_dir)
    if problems:
        raise InputError(problems)
    return portfolio


def _known_since_of_activity(c: Checker, t: Table, row: Row) -> tuple[int | None, int | None]:
    """(known_since, earliest_start_known_since) of an activity row, both optional (docs/backtest.md)."""
    known_since = c.month(t, row, "known_since")
    earliest_known = c.month(t, row, "earliest_start_known_since")
    if earliest_known is not None and not t.value(row, "earliest_start"):
        c.at(t, row, "earliest_start_known_since", "given without earliest_start (expected both, or neither)")
    return known_since, earliest_known


def version_key(id_: str | None, known_since: str) -> str | None:
    """The key that must be unique in risks.csv and milestones.csv: an id may repeat only as versions with other
    known_since."""
    if id_ is None or not known_since:
        return id_
    return f"{id_} known since {known_since}"


def _risk_versions(risks: list[Risk]) -> tuple[tuple[Risk, ...], tuple[Risk, ...]]:
    """(current, earlier): the latest known version of each risk id (file order), and the older versions."""
    def when(r: Risk) -> int:
        return -1 if r.known_since is None else r.known_since

    latest: dict[str, Risk] = {}
    for r in risks:
        if r.risk_id not in latest or when(r) > when(latest[r.risk_id]):
            latest[r.risk_id] = r
    current = tuple(r for r in risks if latest[r.risk_id] is r)
    return current, tuple(r for r in risks if latest[r.risk_id] is not r)


def _deadline_history(c: Checker, t: Table, project_lines: dict[str, int],
                      projects: list[Project]) -> list[Deadline]:
    """deadlines.csv: each project's target as known at each date; the latest entry must be projects.csv's."""
    history: list[Deadline] = []
    seen: dict[str, int] = {}
    latest_row: dict[str, tuple[Deadline, Row]] = {}
    for row in t.rows:
        pid = c.text(t, row, "project_id", "a project_id from projects.csv")
        if pid:
            pid = c.reference(t, row, "project_id", pid)
        if pid and pid not in project_lines:
            c.at(t, row, "project_id", f"unknown project {quoted(pid)} (expected a project_id from {PROJECTS})")
            pid = None
        deadline = c.month(t, row, "deadline")
        if deadline is None and not t.value(row, "deadline"):
            c.at(t, row, "deadline", f"expected {MONTH}, got an empty field")
        known_since = c.month(t, row, "known_since")
        since_text = t.value(row, "known_since") or "(always)"
        c.unique(t, row, "known_since", f"{pid} known since {since_text}" if pid else None, seen)
        if pid is None or deadline is None or (t.value(row, "known_since") and known_since is None):
            continue
        entry = Deadline(pid, deadline, known_since, t.value(row, "source"))
        history.append(entry)
        before = latest_row.get(pid)
        if before is None or (-1 if known_since is None else known_since) > (
                -1 if before[0].known_since is None else before[0].known_since):
            latest_row[pid] = (entry, row)
    current = {p.project_id: p.deadline for p in projects}
    for pid, (entry, row) in latest_row.items():
        if pid in current and current[pid] != entry.deadline:
            now = "empty (the scenario's deadline)" if current[pid] is None else "a different month"
            c.at(t, row, "deadline", f"the latest entry of {quoted(pid)} is {quoted(t.value(row, 'deadline'))} but its "
                                     f"deadline in {PROJECTS} is {now} (expected the same current deadline)")
    return history


def _stated_progress(c: Checker, t: Table, row: Row) -> tuple[float | None, float | None] | None:
    """(remaining_months, percent_complete) of a running activity, both optional; None on a problem."""
    remaining = c.number(t, row, "remaining_months", 0.0, strict=True, required=False, limit=MONTHS_LIMIT)
    percent = c.number(t, row, "percent_complete", 0.0, required=False)
    if (t.value(row, "remaining_months") and remaining is None) or (t.value(row, "percent_complete") and percent is None):
        return None  # reported by c.number
    if percent is not None and percent >= 100:
        c.at(t, row, "percent_complete", f"expected a number from 0 to below 100 (a finished activity has an "
                                         f"actual_finish), got {quoted(t.value(row, 'percent_complete'))}")
        return None
    if remaining is not None and percent is not None:
        c.at(t, row, "percent_complete", "given with remaining_months (expected one of them, not both)")
        return None
    name = "remaining_months" if remaining is not None else "percent_complete"
    if (remaining, percent) != (None, None) and (not t.value(row, "actual_start") or t.value(row, "actual_finish")):
        c.at(t, row, name, "given for an activity that is not running (expected an actual_start and no actual_finish)")
        return None
    return remaining, percent


def _year(c: Checker, t: Table, row: Row, raw: str) -> int | None:
    """The year of a funding row: four digits (full-width ones too) from FIRST_YEAR to LAST_YEAR."""
    text = ids.normalize(raw)
    if not _YEAR.match(text):
        c.at(t, row, "year", f"expected a year such as 2024, got {quoted(raw)}")
        return None
    if not FIRST_YEAR <= int(text) <= LAST_YEAR:
        c.at(t, row, "year", f"expected a year from {FIRST_YEAR} to {LAST_YEAR}, got {quoted(raw)}")
        return None
    return int(text)


def _activity_durations(c: Checker, t: Table, row: Row, category: str | None = None) -> tuple[float, float, float] | None:
    """o, m, p of an activity; empty optimistic and pessimistic are filled from the reference class in source.

    The rule and the figures are in portfolio/reference.py and docs/reference_classes.md.
    """
    if t.value(row, "optimistic") or t.value(row, "pessimistic") or "optimistic" not in t.columns \
            or "pessimistic" not in t.columns:
        return c.three_point(t, row, 0.0, strict=True)
    m = c.number(t, row, "most_likely", 0.0, strict=True, limit=MONTHS_LIMIT)
    try:
        found = reference.parse_tag(t.value(row, "source"))
    except reference.ReferenceClassError as exc:
        c.at(t, row, "source", str(exc))
        return None
    if found is None:
        example = reference.CATEGORY_DEFAULTS.get(category or "", "water-tunnel" if category == "water" else "metro")
        c.at(t, row, "optimistic", "expected a number > 0, got an empty field (to take optimistic and pessimistic "
                                   f"from a reference class, name it in source, e.g. \"reference class: {example}\"; "
                                   f"classes: {', '.join(reference.CLASSES)})")
        return None
    if m is None:
        return None
    return reference.three_point(*found, m)


def _parse_links(c: Checker, t: Table, row: Row, aid: str | None) -> tuple[list[tuple[Link, str]], bool]:
    """Syntax of the predecessors field: (link, item text) per well-formed item, and whether all were."""
    links, ok = [], True
    for item in ids.split_list(t.value(row, "predecessors")):
        m = _LINK.match(item)
        kind = (m.group("kind") or "FS").upper() if m else ""
        if not m or kind not in LINK_TYPES:
            c.at(t, row, "predecessors", f"expected {PREDECESSOR_FORMS}, got {quoted(item)}")
            ok = False
            continue
        lag = parse_number(re.sub(r"\s", "", m.group("lag") or "0"))
        predecessor = c.reference(t, row, "predecessors", m.group("id"))
        if lag is None or abs(lag) > MAX_MONTHS:
            c.at(t, row, "predecessors", f"expected a lag of at most {MAX_MONTHS} months either way "
                                         f"(the limit in docs/data.md), got {quoted(item)}")
            ok = False
            continue
        try:
            since = data_month(m.group("since")) if m.group("since") else None
        except ValueError as exc:
            c.at(t, row, "predecessors", f"{exc} after @ (the month the link became known), got {quoted(item)}")
            ok = False
            continue
        if predecessor == aid:
            c.at(t, row, "predecessors", f"activity {quoted(aid)} lists itself")
            ok = False
            continue
        links.append((Link(predecessor, kind, int(lag), since), item))
    return links, ok


def _check_links(c: Checker, t: Table, activity_rows, activity_lines: dict[str, int]) -> None:
    """Unknown predecessors, then one problem per dependency cycle."""
    index = {aid: k for k, (aid, _, _) in enumerate(activity_rows)}
    edges = []
    for j, (aid, row, links) in enumerate(activity_rows):
        for link, item in links:
            if link.predecessor not in activity_lines:
                c.at(t, row, "predecessors", f"unknown activity {quoted(link.predecessor)} in {quoted(item)}"
                                             f"{ids.suggestion(link.predecessor, activity_lines)}")
            else:
                edges.append((index[link.predecessor], j))
    for cycle in find_cycles(len(activity_rows), edges):
        k = cycle.index(min(cycle))
        cycle = cycle[k:] + cycle[:k]
        names = [activity_rows[i][0] for i in cycle + cycle[:1]]
        row = activity_rows[cycle[0]][1]
        c.add(t.file, row.line, t.column("predecessors"), "dependency cycle: " + " -> ".join(names))


def _parse_uses(c: Checker, t: Table, row: Row, capacity: dict[str, float]) -> tuple[tuple[str, float], ...] | None:
    uses, ok = [], True
    for item in ids.split_list(t.value(row, "resources")):
        m = _USE.match(item)
        units = parse_number(m.group("units") or "1") if m else None
        if units is None or units <= 0:
            c.at(t, row, "resources", f"expected {RESOURCE_FORMS}, {_got(item)}")
            ok = False
            continue
        rid = c.reference(t, row, "resources", m.group("id"))
        if rid in (u for u, _ in uses):
            c.at(t, row, "resources", f"resource {quoted(rid)} is listed twice")
            ok = False
        elif rid not in capacity:
            c.at(t, row, "resources", f"unknown resource {quoted(rid)}{ids.suggestion(rid, capacity)} "
                                      f"(expected a resource_id from {RESOURCES})")
            ok = False
        elif units > capacity[rid]:
            c.at(t, row, "resources", f"needs {_num(units)} units of {quoted(rid)} but its capacity is {_num(capacity[rid])}")
            ok = False
        uses.append((rid, units))
    return tuple(uses) if ok else None


def _parse_affects(c: Checker, t: Table, row: Row, check: bool, order: dict[str, int],
                   project_of: dict[str, str], category_of: dict[str, str]) -> tuple[str, ...] | None:
    """Activity ids (file order, no duplicates) named directly or through ``category:NAME``."""
    raw = c.text(t, row, "affects", "activity ids or category:NAME, separated by ;")
    if raw is None:
        return None
    found, ok = set(), True
    for item in ids.split_list(raw):
        if item.startswith("category:"):
            name = c.reference(t, row, "affects", item[len("category:"):].strip())
            if name not in CATEGORIES:
                c.at(t, row, "affects", f"unknown category {quoted(name)}{ids.suggestion(name, CATEGORIES)} "
                                        f"(expected one of {CATEGORY_LIST})")
                ok = False
                continue
            found.update(aid for aid, pid in project_of.items() if category_of.get(pid) == name)
            continue
        aid = c.reference(t, row, "affects", item)
        if check and aid not in order:
            c.at(t, row, "affects", f"unknown activity {quoted(aid)}{ids.suggestion(aid, order)}")
            ok = False
        else:
            found.add(aid)
    if not ok:
        return None
    return tuple(sorted(found, key=lambda aid: order.get(aid, math.inf)))
