"""Read a scenario TOML file and apply its overrides to the portfolio it names.

See docs/scenarios.md for every key. Problems are reported like data problems:
``file:line:column: message``, all of them at once.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path

from portfolio.distributions import DISTRIBUTIONS
from portfolio.errors import InputError, Problem
from portfolio.load import load_portfolio
from portfolio.model import CATEGORIES, Portfolio, Risk
from portfolio.months import parse_month

from .settings import OptimizeSettings, Settings, SimulateSettings, Stoppage, SweepAxis

DEFAULT_STATUS = "2021-01"
DEFAULT_DEADLINE = "2025-12"
OBJECTIVES = ("lateness", "makespan", "on_time")
ENGINES = ("simpy", "fast")
TOP_KEYS = {
    "name", "description", "data", "status_date", "deadline", "optimize", "simulate", "funding",
    "durations", "priorities", "forced_starts", "risks", "risk_changes", "stoppages", "sweep",
}


def load_target(target: str | os.PathLike) -> tuple[Portfolio, Settings]:
    """A scenario file, or a data folder read with the default settings."""
    path = Path(target)
    if path.is_dir():
        settings = Settings(
            name=path.name or "data",
            status_date=parse_month(DEFAULT_STATUS),
            deadline=parse_month(DEFAULT_DEADLINE),
            data_dir=str(path),
        )
        return load_portfolio(str(path)), settings
    if not path.is_file():
        raise InputError(Problem(str(target), 0, 0, "no such scenario file or data folder"))
    return load_scenario(path)


class _Reader:
    """Finds where a key stands in the TOML text, so that problems name a line and column."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines, self.problems = str(path), text.splitlines(), []

    def where(self, key: str, after: int = 0) -> tuple[int, int]:
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if pattern.match(line):
                return number, len(line) - len(line.lstrip()) + 1
        return 0, 0

    def problem(self, key: str, message: str) -> None:
        line, column = self.where(key)
        self.problems.append(Problem(self.path, line, column, message))

    def month(self, table: dict, key: str, default: str | None = None) -> int | None:
        value = table.get(key, default)
        if value is None:
            return None
        try:
            return parse_month(str(value))
        except ValueError as exc:
            self.problem(key, f"{key}: {exc}")
            return None

    def number(self, table: dict, key: str, default, low=None, high=None, integer=False):
        value = table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            self.problem(key, f"{key} must be {'a whole number' if integer else 'a number'}, got {value!r}")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.problem(key, f"{key} must be {bounds}, got {value!r}")
            return default
        return value

    def choice(self, table: dict, key: str, default: str, allowed) -> str:
        value = table.get(key, default)
        if value not in allowed:
            self.problem(key, f"{key} must be one of {', '.join(allowed)}, got {value!r}")
            return default
        return value

    def flag(self, table: dict, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(key, f"{key} must be true or false, got {value!r}")
            return default
        return value


def load_scenario(path: str | os.PathLike) -> tuple[Portfolio, Settings]:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Problem(str(path), 0, 0, "cannot read: a scenario file must be UTF-8 text")) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(where.group(1)), int(where.group(2))) if where else (0, 0)
        message = str(exc).split(" (at ")[0]
        raise InputError(Problem(str(path), line, column, f"not valid TOML: {message}")) from None

    r = _Reader(path, text)
    for key in doc:
        if key not in TOP_KEYS:
            r.problem(key, f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    data_dir = path.parent / str(doc.get("data", "../data"))
    status = r.month(doc, "status_date", DEFAULT_STATUS)
    deadline = r.month(doc, "deadline", DEFAULT_DEADLINE)
    settings = Settings(
        name=str(doc.get("name", path.stem)),
        status_date=status if status is not None else parse_month(DEFAULT_STATUS),
        deadline=deadline if deadline is not None else parse_month(DEFAULT_DEADLINE),
        optimize=_optimize_settings(r, doc.get("optimize", {})),
        simulate=_simulate_settings(r, doc.get("simulate", {})),
        stoppages=tuple(_stoppages(r, doc.get("stoppages", []))),
        sweep=tuple(_sweep(r, doc.get("sweep", {}))),
        scenario_file=str(path),
        data_dir=str(data_dir),
    )
    if r.problems:
        raise InputError(r.problems)
    if not data_dir.is_dir():
        line, column = r.where("data")
        raise InputError(Problem(str(path), line, column, f"data folder {doc.get('data', '../data')!r} not found"))

    portfolio = load_portfolio(str(data_dir))
    portfolio, forced = apply_overrides(r, portfolio, doc)
    _check_sweep_sources(r, portfolio, settings.sweep)
    if r.problems:
        raise InputError(r.problems)
    return portfolio, dataclasses.replace(settings, forced_starts=forced)


def _optimize_settings(r: _Reader, table: dict) -> OptimizeSettings:
    d = OptimizeSettings()
    return OptimizeSettings(
        time_limit_s=r.number(table, "time_limit_s", d.time_limit_s, low=0.1),
        deterministic_time=r.number(table, "deterministic_time", d.deterministic_time, low=0.01),
        workers=r.number(table, "workers", d.workers, low=1, integer=True),
        objective=r.choice(table, "objective", d.objective, OBJECTIVES),
        hard_deadlines=r.flag(table, "hard_deadlines", d.hard_deadlines),
        duration_percentile=r.number(table, "duration_percentile", d.duration_percentile, low=1, high=99),
        funding=r.flag(table, "funding", d.funding),
    )


def _simulate_settings(r: _Reader, table: dict) -> SimulateSettings:
    d = SimulateSettings()
    return SimulateSettings(
        iterations=r.number(table, "iterations", d.iterations, low=1, integer=True),
        seed=r.number(table, "seed", d.seed, low=0, integer=True),
        distribution=r.choice(table, "distribution", d.distribution, DISTRIBUTIONS),
        correlation=r.number(table, "correlation", d.correlation, low=0, high=1),
        carry_over=r.flag(table, "carry_over", d.carry_over),
        engine=r.choice(table, "engine", d.engine, ENGINES),
        workers=r.number(table, "workers", d.workers, low=1, integer=True),
    )


def _stoppages(r: _Reader, items: list) -> list[Stoppage]:
    out = []
    for item in items:
        start = r.month(item, "start")
        months = r.number(item, "months", None, low=1, integer=True)
        categories = tuple(item.get("categories", ()))
        for c in categories:
            if c not in CATEGORIES:
                r.problem("categories", f"unknown category {c!r} in a stoppage (known: {', '.join(CATEGORIES)})")
        if start is None or months is None:
            r.problem("start", "a stoppage needs start = \"YYYY-MM\" and months = N")
            continue
        out.append(Stoppage(start=start, months=months, categories=categories))
    return out


def apply_overrides(r: _Reader, portfolio: Portfolio, doc: dict) -> tuple[Portfolio, tuple[tuple[str, int], ...]]:
    """Funding scales, duration multipliers, priorities, risks and forced starts, in that order."""
    projects = {p.project_id: p for p in portfolio.projects}
    activity_ids = {a.activity_id for a in portfolio.activities}

    funding = list(portfolio.funding)
    for rule in doc.get("funding", {}).get("scale", []):
        factor = r.number(rule, "factor", None, low=0)
        if factor is None:
            r.problem("scale", "each [[funding.scale]] needs factor = a number >= 0")
            continue
        sources = set(rule.get("sources", [rule["source"]] if "source" in rule else []))
        first, last = rule.get("from", -10**6), rule.get("to", 10**6)
        funding = [
            dataclasses.replace(f, cap=f.cap * factor)
            if (not sources or f.source in sources) and first <= f.year <= last
            else f
            for f in funding
        ]

    category_of = {p.project_id: p.category for p in portfolio.projects}
    factors = {}
    for rule in doc.get("durations", []):
        factor = r.number(rule, "factor", None, low=0.01)
        target = rule.get("category") or rule.get("project")
        if factor is None or target is None:
            r.problem("factor", "each [[durations]] needs category = \"NAME\" (or project = \"ID\") and factor = a number")
            continue
        if "category" in rule and target not in CATEGORIES:
            r.problem("category", f"unknown category {target!r} (known: {', '.join(CATEGORIES)})")
        if "project" in rule and target not in projects:
            r.problem("project", f"unknown project {target!r}")
        factors[target] = factors.get(target, 1.0) * factor
    activities = []
    for a in portfolio.activities:
        f = factors.get(category_of[a.project_id], 1.0) * factors.get(a.project_id, 1.0)
        if f != 1.0:
            a = dataclasses.replace(a, optimistic=a.optimistic * f, most_likely=a.most_likely * f, pessimistic=a.pessimistic * f)
        activities.append(a)

    priorities = doc.get("priorities", {})
    for pid, value in priorities.items():
        if pid not in projects:
            r.problem(pid, f"unknown project {pid!r} in [priorities]")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            r.problem(pid, f"priority of {pid} must be a positive number, got {value!r}")
        else:
            projects[pid] = dataclasses.replace(projects[pid], priority=float(value))

    risks = list(portfolio.risks)
    changes = doc.get("risk_changes", {})
    known_risks = {k.risk_id for k in risks}
    for rid, change in changes.items():
        if rid not in known_risks:
            r.problem(rid, f"unknown risk {rid!r} in [risk_changes]")
    for k, risk in enumerate(risks):
        change = changes.get(risk.risk_id)
        if change:
            p = r.number(change, "probability", risk.probability, low=0, high=1)
            s = r.number(change, "impact_factor", 1.0, low=0)
            risks[k] = dataclasses.replace(
                risk, probability=p, optimistic=risk.optimistic * s, most_likely=risk.most_likely * s,
                pessimistic=risk.pessimistic * s,
            )
    for item in doc.get("risks", []):
        risk = _extra_risk(r, item, portfolio, activity_ids)
        if risk is not None:
            risks.append(risk)

    forced = []
    for item in doc.get("forced_starts", []):
        aid = item.get("activity")
        month = r.month(item, "start")
        if aid not in activity_ids:
            r.problem("activity", f"unknown activity {aid!r} in [[forced_starts]]")
        elif month is not None:
            forced.append((aid, month))

    new = Portfolio(
        projects=tuple(projects[p.project_id] for p in portfolio.projects),
        activities=tuple(activities),
        funding=tuple(funding),
        risks=tuple(risks),
        resources=portfolio.resources,
        inputs=portfolio.inputs,
    )
    return new, tuple(forced)


def _extra_risk(r: _Reader, item: dict, portfolio: Portfolio, activity_ids: set) -> Risk | None:
    rid = str(item.get("risk_id", ""))
    if not rid:
        r.problem("risks", "each [[risks]] needs risk_id")
        return None
    p = r.number(item, "probability", None, low=0, high=1)
    o = r.number(item, "optimistic", None, low=0)
    m = r.number(item, "most_likely", None, low=0)
    s = r.number(item, "pessimistic", None, low=0)
    if None in (p, o, m, s):
        r.problem("risk_id", f"risk {rid} needs probability, optimistic, most_likely and pessimistic")
        return None
    if not o <= m <= s:
        r.problem("risk_id", f"risk {rid}: expected optimistic <= most_likely <= pessimistic")
        return None
    affects = []
    for target in item.get("affects", []):
        if target.startswith("category:"):
            cat = target.split(":", 1)[1]
            if cat not in CATEGORIES:
                r.problem("affects", f"risk {rid}: unknown category {cat!r}")
            ids = {p.project_id for p in portfolio.projects if p.category == cat}
            affects += [a.activity_id for a in portfolio.activities if a.project_id in ids]
        elif target in activity_ids:
            affects.append(target)
        else:
            r.problem("affects", f"risk {rid}: unknown activity {target!r}")
    return Risk(rid, str(item.get("name", rid)), p, o, m, s, tuple(dict.fromkeys(affects)))


# -- [sweep]: a grid of funding scales, one variant per combination ------------------------------------------

SWEEP_KEYS = {"funding"}
SWEEP_AXIS_KEYS = {"name", "sources", "from", "to", "factors"}
LABEL = re.compile(r"[A-Za-z0-9_.+-]+")


def _sweep(r: _Reader, table) -> list[SweepAxis]:
    """``[[sweep.funding]]`` axes (docs/scenarios.md, "Sweeps"); every problem is reported."""
    if not isinstance(table, dict):
        r.problem("sweep", "sweep must be a table: [[sweep.funding]] with factors = [...]")
        return []
    for key in table:
        if key not in SWEEP_KEYS:
            r.problem(key, f"unknown key {key!r} in [sweep] (known: {', '.join(sorted(SWEEP_KEYS))})")
    items = table.get("funding", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        r.problem("funding", "sweep.funding must be tables: [[sweep.funding]]")
        return []
    axes = []
    for item in items:
        for key in item:
            if key not in SWEEP_AXIS_KEYS:
                known = ", ".join(sorted(SWEEP_AXIS_KEYS))
                r.problem(key, f"unknown key {key!r} in [[sweep.funding]] (known: {known})")
        factors = item.get("factors")
        if (not isinstance(factors, list) or not factors
                or any(isinstance(f, bool) or not isinstance(f, (int, float)) or f < 0 for f in factors)):
            r.problem("factors", "each [[sweep.funding]] needs factors = a list of numbers >= 0, e.g. [1.0, 0.9, 0.8]")
            continue
        if len(set(factors)) != len(factors):
            r.problem("factors", f"factors of a [[sweep.funding]] must differ from each other, got {factors}")
            continue
        sources = item.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(x, str) and x for x in sources):
            r.problem("sources", 'sources must be a list of funding sources, e.g. ["provincial"]')
            continue
        first = r.number(item, "from", None, integer=True)
        last = r.number(item, "to", None, integer=True)
        if first is not None and last is not None and first > last:
            r.problem("from", f"[[sweep.funding]]: from = {first} is after to = {last}")
            continue
        label = item.get("name", "+".join(sources) if sources else "funding")
        if not isinstance(label, str) or not LABEL.fullmatch(label):
            r.problem("name", f"name of a [[sweep.funding]] must be letters, digits, _ . + or -, got {label!r}")
            continue
        if any(a.label == label for a in axes):
            r.problem("name", f"two [[sweep.funding]] axes are named {label!r}; give each a different name = \"...\"")
            continue
        axes.append(SweepAxis(label=label, factors=tuple(float(f) for f in factors), sources=tuple(sources),
                              first=first, last=last))
    return axes


def _check_sweep_sources(r: _Reader, portfolio: Portfolio, axes) -> None:
    known = sorted({f.source for f in portfolio.funding})
    for axis in axes:
        for source in axis.sources:
            if source not in known:
                r.problem("sources", f"[[sweep.funding]] {axis.label}: no funding caps for source {source!r} "
                                     f"(sources with caps: {', '.join(known) or 'none'})")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One variant of a sweep: the scenario with one factor of every axis applied to the funding caps."""

    name: str  # the scenario's name, then "-" + label + factor per axis, e.g. "funding-cut-provincial0.8"
    portfolio: Portfolio
    settings: Settings
    factors: tuple[tuple[str, float], ...]  # (axis label, factor) per axis
    axes: tuple[SweepAxis, ...] = ()  # the scenario's grid axes, in the order of ``factors``


def sweep_variants(portfolio: Portfolio, settings: Settings) -> list[Variant]:
    """Every combination of the ``[sweep]`` axes' factors, first axis slowest; the scenario itself without one."""
    if not settings.sweep:
        return [Variant(settings.name, portfolio, settings, ())]
    combos: list[tuple[float, ...]] = [()]
    for axis in settings.sweep:
        combos = [c + (f,) for c in combos for f in axis.factors]
    out = []
    for combo in combos:
        funding = list(portfolio.funding)
        for axis, factor in zip(settings.sweep, combo):
            first = -10**6 if axis.first is None else axis.first
            last = 10**6 if axis.last is None else axis.last
            funding = [dataclasses.replace(f, cap=f.cap * factor)
                       if (not axis.sources or f.source in axis.sources) and first <= f.year <= last else f
                       for f in funding]
        name = settings.name + "".join(f"-{axis.label}{factor:g}" for axis, factor in zip(settings.sweep, combo))
        out.append(Variant(name, dataclasses.replace(portfolio, funding=tuple(funding)),
                           dataclasses.replace(settings, name=name, sweep=()),
                           tuple((axis.label, factor) for axis, factor in zip(settings.sweep, combo)),
                           settings.sweep))
    return out
